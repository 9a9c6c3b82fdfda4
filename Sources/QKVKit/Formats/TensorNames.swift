/// Maps a family's stored tensor names to qkv's canonical names (see docs/FORMAT.md), so the
/// architectures read one vocabulary whether weights come from Hugging Face files or QKV files.
///
/// The mapping is data, not code: task prefixes to strip (`bert.`, `transformer.`, `model.`),
/// the per-layer prefix (`encoder.layer.`, `h.`, `layers.`), and two tables of suffixes.
public struct TensorNameMap: Sendable {
    var prefixes: [String]
    var layerPrefix: String
    var layerNames: [String: String]
    var globalNames: [String: String]
    /// Stored tensors the model family treats as buffers even if they are float (GPT-2's old mask buffers).
    var bufferSuffixes: [String] = []

    /// The canonical name for a stored name, or nil when the tensor is not part of the base model.
    public func canonicalName(_ stored: String) -> String? {
        var name = Substring(stored)
        for prefix in prefixes where name.hasPrefix(prefix) {
            name = name.dropFirst(prefix.count)
            break
        }
        if name.hasPrefix(layerPrefix) {
            let rest = name.dropFirst(layerPrefix.count)
            guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), String(layer) == rest[..<dot] else { return nil }
            return layerNames[String(rest[rest.index(after: dot)...])].map { "layers.\(layer).\($0)" }
        }
        return globalNames[String(name)]
    }

    public func isBuffer(_ stored: String) -> Bool { bufferSuffixes.contains { stored.hasSuffix($0) } }

    public static func forArchitecture(_ architecture: Architecture) -> TensorNameMap {
        switch architecture {
        case .attention: identity
        case .bert: bert
        case .gpt2: gpt2
        case .llama: llama
        }
    }

    static let identity = TensorNameMap(prefixes: [], layerPrefix: "\u{0}", layerNames: [:], globalNames: [:])

    /// Old BERT checkpoints (TF ports) name LayerNorm parameters gamma/beta.
    private static func norm(_ stored: String, _ canonical: String) -> [(String, String)] {
        [("\(stored).weight", "\(canonical).weight"), ("\(stored).bias", "\(canonical).bias"),
         ("\(stored).gamma", "\(canonical).weight"), ("\(stored).beta", "\(canonical).bias")]
    }

    private static func linear(_ stored: String, _ weight: String, _ bias: String) -> [(String, String)] {
        [("\(stored).weight", weight), ("\(stored).bias", bias)]
    }

    static let bert = TensorNameMap(
        prefixes: ["bert."], layerPrefix: "encoder.layer.",
        layerNames: Dictionary(uniqueKeysWithValues:
            linear("attention.self.query", "wq", "bq") + linear("attention.self.key", "wk", "bk")
            + linear("attention.self.value", "wv", "bv") + linear("attention.output.dense", "wo", "bo")
            + norm("attention.output.LayerNorm", "attn_norm") + linear("intermediate.dense", "w_up", "b_up")
            + linear("output.dense", "w_down", "b_down") + norm("output.LayerNorm", "ffn_norm")),
        globalNames: Dictionary(uniqueKeysWithValues:
            [("embeddings.word_embeddings.weight", "embed"), ("embeddings.position_embeddings.weight", "pos"),
             ("embeddings.token_type_embeddings.weight", "token_type")]
            + norm("embeddings.LayerNorm", "embed_norm") + linear("pooler.dense", "pooler.weight", "pooler.bias")))

    static let gpt2 = TensorNameMap(
        prefixes: ["transformer."], layerPrefix: "h.",
        layerNames: Dictionary(uniqueKeysWithValues:
            norm("ln_1", "attn_norm") + linear("attn.c_attn", "wqkv", "bqkv") + linear("attn.c_proj", "wo", "bo")
            + norm("ln_2", "ffn_norm") + linear("mlp.c_fc", "w_up", "b_up") + linear("mlp.c_proj", "w_down", "b_down")),
        globalNames: Dictionary(uniqueKeysWithValues:
            [("wte.weight", "embed"), ("wpe.weight", "pos"), ("lm_head.weight", "lm_head")] + norm("ln_f", "final_norm")),
        bufferSuffixes: [".attn.bias", ".attn.masked_bias"])

    static let llama = TensorNameMap(
        prefixes: ["model."], layerPrefix: "layers.",
        layerNames: Dictionary(uniqueKeysWithValues:
            [("input_layernorm.weight", "attn_norm.weight"), ("post_attention_layernorm.weight", "ffn_norm.weight")]
            + linear("self_attn.q_proj", "wq", "bq") + linear("self_attn.k_proj", "wk", "bk")
            + linear("self_attn.v_proj", "wv", "bv") + linear("self_attn.o_proj", "wo", "bo")
            + linear("mlp.gate_proj", "w_gate", "b_gate") + linear("mlp.up_proj", "w_up", "b_up")
            + linear("mlp.down_proj", "w_down", "b_down")),
        globalNames: [
            "embed_tokens.weight": "embed", "norm.weight": "final_norm.weight", "lm_head.weight": "lm_head",
        ],
        bufferSuffixes: ["rotary_emb.inv_freq"])
}
