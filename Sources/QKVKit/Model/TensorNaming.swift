/// Maps one naming scheme's stored tensor names to qkv's canonical names (docs/FORMAT.md), their
/// layer index, and whether they are buffers rather than parameters.
///
/// The mapping is data, not code: task prefixes to strip (`bert.`, `transformer.`, `model.`), the
/// per-layer prefix (`encoder.layer.`, `h.`, `layers.`, `blk.`), and two tables of suffixes.
/// A stored name the tables do not know keeps its name as its canonical one; its layer still comes
/// from the layer prefix, so an architecture qkv does not run is still counted layer by layer.
public struct TensorNaming: Sendable {
    var prefixes: [String]
    /// Prefixes after which a layer index and a dot follow (the first that matches wins).
    var layerPrefixes: [String]
    var layerNames: [String: String]
    var globalNames: [String: String]
    /// Stored names ending so are float buffers, not parameters (GPT-2's old mask buffers, LLaMA's
    /// inv_freq, llama.cpp's rope_freqs).
    var bufferSuffixes: [String] = []
    /// Path components that mark an unmapped tensor as part of the embeddings (grouping only).
    var embeddingComponents: Set<String> = []

    public init(
        prefixes: [String] = [], layerPrefixes: [String], layerNames: [String: String] = [:],
        globalNames: [String: String] = [:], bufferSuffixes: [String] = [], embeddingComponents: Set<String> = []
    ) {
        self.prefixes = prefixes
        self.layerPrefixes = layerPrefixes
        self.layerNames = layerNames
        self.globalNames = globalNames
        self.bufferSuffixes = bufferSuffixes
        self.embeddingComponents = embeddingComponents
    }

    /// What the scheme says about one stored name.
    public struct Resolved: Sendable, Equatable {
        public var canonical: String
        public var layer: Int?
        public var isBuffer: Bool
        /// Whether the tables map the name (else `canonical` is the stored name).
        public var isMapped: Bool
        /// For grouping an unmapped name: whether it looks like part of the embeddings.
        public var looksLikeEmbedding: Bool
    }

    public func resolve(_ stored: String) -> Resolved {
        var name = Substring(stored)
        for prefix in prefixes where name.hasPrefix(prefix) {
            name = name.dropFirst(prefix.count)
            break
        }
        let isBuffer = bufferSuffixes.contains { stored.hasSuffix($0) }
        for layerPrefix in layerPrefixes where name.hasPrefix(layerPrefix) {
            let rest = name.dropFirst(layerPrefix.count)
            // Only canonical decimal indices: `layers.01.x` is not layer 1.
            guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0,
                  String(layer) == rest[..<dot] else { continue }
            if let suffix = layerNames[String(rest[rest.index(after: dot)...])] {
                let canonical = "layers.\(layer).\(suffix)"
                return Resolved(canonical: canonical, layer: layer, isBuffer: isBuffer, isMapped: true, looksLikeEmbedding: false)
            }
            return Resolved(canonical: stored, layer: layer, isBuffer: isBuffer, isMapped: false, looksLikeEmbedding: false)
        }
        if let canonical = globalNames[String(name)] {
            return Resolved(canonical: canonical, layer: nil, isBuffer: isBuffer, isMapped: true, looksLikeEmbedding: false)
        }
        let components = stored.split(separator: ".").map(String.init)
        return Resolved(
            canonical: stored, layer: nil, isBuffer: isBuffer, isMapped: false,
            looksLikeEmbedding: components.contains { embeddingComponents.contains($0) })
    }

    /// qkv's own names, kept as they are: layers are `layers.N.`. A converted checkpoint of an
    /// architecture qkv does not know keeps its stored names, whose layers are found as the
    /// Hugging Face and GGUF schemes find them.
    public static let canonical = TensorNaming(
        prefixes: huggingFaceGeneric.prefixes, layerPrefixes: ["layers."] + huggingFaceGeneric.layerPrefixes + gguf.layerPrefixes,
        embeddingComponents: huggingFaceGeneric.embeddingComponents.union(gguf.embeddingComponents))

    /// Hugging Face names of an architecture qkv does not know: layers under the usual module
    /// paths, embeddings by the usual component names.
    public static let huggingFaceGeneric = TensorNaming(
        prefixes: ["model.", "transformer.", "bert.", "roberta.", "gpt_neox.", "language_model.model."],
        layerPrefixes: ["layers.", "layer.", "h.", "blocks.", "encoder.layer.", "encoder.layers.", "decoder.layers."],
        bufferSuffixes: ["rotary_emb.inv_freq"],
        embeddingComponents: ["embed", "embeddings", "embed_tokens", "wte", "wpe", "word_embeddings", "embed_in"])

    /// llama.cpp's GGUF names (llama.cpp `LLM_TENSOR_NAMES`), shared by every architecture it writes.
    public static let gguf = TensorNaming(
        layerPrefixes: ["blk."],
        layerNames: Dictionary(uniqueKeysWithValues: [
            ("attn_norm.weight", "attn_norm.weight"), ("ffn_norm.weight", "ffn_norm.weight"),
            ("attn_q_norm.weight", "q_norm.weight"), ("attn_k_norm.weight", "k_norm.weight"),
        ] + linear("attn_q", "wq", "bq") + linear("attn_k", "wk", "bk") + linear("attn_v", "wv", "bv")
            + linear("attn_output", "wo", "bo") + linear("ffn_gate", "w_gate", "b_gate")
            + linear("ffn_up", "w_up", "b_up") + linear("ffn_down", "w_down", "b_down")),
        globalNames: [
            "token_embd.weight": "embed", "output_norm.weight": "final_norm.weight", "output.weight": "lm_head",
        ],
        bufferSuffixes: ["rope_freqs.weight"],
        embeddingComponents: ["token_embd", "position_embd", "token_types", "token_embd_norm"])

    /// `(stored.weight, weight), (stored.bias, bias)` for an nn.Linear-style module.
    static func linear(_ stored: String, _ weight: String, _ bias: String) -> [(String, String)] {
        [("\(stored).weight", weight), ("\(stored).bias", bias)]
    }

    /// LayerNorm parameters; old BERT checkpoints (TF ports) name them gamma/beta.
    static func norm(_ stored: String, _ canonical: String) -> [(String, String)] {
        [("\(stored).weight", "\(canonical).weight"), ("\(stored).bias", "\(canonical).bias"),
         ("\(stored).gamma", "\(canonical).weight"), ("\(stored).beta", "\(canonical).bias")]
    }
}
