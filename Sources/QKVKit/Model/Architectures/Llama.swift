/// LLaMA (`LlamaModel`, or the `model.` part of `LlamaForCausalLM`; GGUF `llama`, which llama.cpp
/// also writes for Mistral and SmolLM): RMSNorm, rotary positions, grouped-query causal attention,
/// SwiGLU MLP (transformers' models/llama).
public enum LlamaArchitecture: ArchitectureDefinition {
    public static let name = "llama"
    public static let wiring = Wiring.llama

    /// transformers' LlamaConfig defaults.
    static let defaults = LlamaFamilyDefaults(
        normEpsilon: 1e-6, ropeTheta: 10000, maxSequenceLength: 2048, tiedEmbeddings: false, headDim: nil)

    public static var huggingFaceNames: TensorNaming { llamaFamilyNames }

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        var config = try llamaFamilyConfiguration(settings, context: context, architecture: name, defaults: defaults)
        config.attentionBias = try settings.flag(.attentionBias, default: false)
        // LLaMA's attention_bias covers the output projection too; QKV files may say otherwise.
        config.outputBias = try settings.flag(.outputBias, default: config.attentionBias)
        config.mlpBias = try settings.flag(.mlpBias, default: false)
        // llama.cpp's converter permutes LLaMA's q and k rows so that its "NORM" RoPE rotates
        // adjacent pairs; rotating those pairs gives transformers' scores on the unpermuted weights.
        if settings.isGGUF { config.ropeLayout = .adjacentPairs }
        return config
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] { llamaFamilyTensors(c) }

    /// Rotary positions have no table, so no limit (transformers does not enforce max_position_embeddings).
    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { nil }
}

/// The defaults one member of the LLaMA family gives its config class.
struct LlamaFamilyDefaults {
    var normEpsilon: Double
    var ropeTheta: Double
    var maxSequenceLength: Int
    var tiedEmbeddings: Bool
    /// nil: hidden_size / num_attention_heads.
    var headDim: Int?
}

/// Hugging Face names of the LLaMA family (LLaMA, Mistral, Qwen2, Qwen3).
let llamaFamilyNames = TensorNaming(
    prefixes: ["model."], layerPrefixes: ["layers."],
    layerNames: Dictionary(uniqueKeysWithValues:
        [("input_layernorm.weight", "attn_norm.weight"), ("post_attention_layernorm.weight", "ffn_norm.weight"),
         ("self_attn.q_norm.weight", "q_norm.weight"), ("self_attn.k_norm.weight", "k_norm.weight")]
        + TensorNaming.linear("self_attn.q_proj", "wq", "bq") + TensorNaming.linear("self_attn.k_proj", "wk", "bk")
        + TensorNaming.linear("self_attn.v_proj", "wv", "bv") + TensorNaming.linear("self_attn.o_proj", "wo", "bo")
        + TensorNaming.linear("mlp.gate_proj", "w_gate", "b_gate") + TensorNaming.linear("mlp.up_proj", "w_up", "b_up")
        + TensorNaming.linear("mlp.down_proj", "w_down", "b_down")),
    globalNames: ["embed_tokens.weight": "embed", "norm.weight": "final_norm.weight", "lm_head.weight": "lm_head"],
    bufferSuffixes: ["rotary_emb.inv_freq"],
    embeddingComponents: ["embed_tokens"])

/// The settings every LLaMA-family member reads the same way; each member adds its own options.
func llamaFamilyConfiguration(
    _ settings: ConfigSettings, context: ConfigContext, architecture: String, defaults: LlamaFamilyDefaults
) throws(QKVError) -> ModelConfig {
    // GGUF files often leave the vocabulary size to the token list (llama.cpp's n_vocab).
    let vocabSize = try settings.count(.vocabSize, default: settings.isGGUF ? context.tokenCount ?? context.shapes["embed"]?.first : nil)
    let dim = try settings.count(.dim)
    let heads = try settings.count(.headCount)
    let kvHeads = try settings.count(.kvHeadCount, default: heads)
    // A GGUF file without the key follows llama.cpp (n_embd / n_head), not the config class's default.
    let defaultHeadDim = settings.isGGUF ? nil : defaults.headDim
    guard let headDim = try settings.optionalCount(.headDim) ?? defaultHeadDim ?? (dim % heads == 0 ? dim / heads : nil) else {
        throw settings.invalid(.headDim, expected: "a positive integer, since \(settings.name(.dim)) is not a multiple of "
            + "\(settings.name(.headCount))", found: "absent")
    }
    var config = ModelConfig(
        architecture: architecture, wiring: .llama, vocabSize: vocabSize, dim: dim,
        layerCount: try settings.count(.layerCount), headCount: heads, kvHeadCount: kvHeads, headDim: headDim,
        maxSequenceLength: try settings.count(.maxSequenceLength, default: defaults.maxSequenceLength), isCausal: true,
        hiddenDim: try settings.count(.hiddenDim), normEpsilon: try settings.number(.normEpsilon, default: defaults.normEpsilon),
        ropeTheta: try settings.number(.ropeTheta, default: defaults.ropeTheta),
        // A GGUF file ties the output to the embedding by leaving `output.weight` out.
        tiedEmbeddings: settings.isGGUF ? context.shapes["lm_head"] == nil : try settings.flag(.tiedEmbeddings, default: defaults.tiedEmbeddings))
    config.activation = try settings.choice(.activation, default: Activation.silu)
    guard heads % kvHeads == 0 else {
        throw settings.invalid(.kvHeadCount, expected: "a divisor of \(settings.name(.headCount)) (\(heads))", found: String(kvHeads))
    }
    guard headDim % 2 == 0 else { throw settings.invalid(.headDim, expected: "an even number (RoPE)", found: String(headDim)) }
    config.ropeLayout = try settings.choice(.ropeLayout, default: RopeLayout.halves)
    config.unsupported = try unsupportedRotaryScaling(settings, headDim: headDim)
    // Llama 3's rotary scaling reaches GGUF files as per-dimension frequency factors.
    if context.shapes["rope_freqs.weight"] != nil {
        config.unsupported = .unsupportedFeature(what: "rope_freqs.weight (Llama 3 rotary frequency factors)")
    }
    if let valueDim = try settings.optionalCount(.valueHeadDim), valueDim != headDim {
        config.unsupported = settings.invalid(.valueHeadDim, expected: "the key length (\(headDim))", found: String(valueDim))
    }
    return config
}

/// Rotary variants qkv does not implement (llama3, yarn, linear, dynamic scaling; partial rotary
/// dimensions) leave the model inspectable but not runnable.
private func unsupportedRotaryScaling(_ settings: ConfigSettings, headDim: Int) throws(QKVError) -> QKVError? {
    if let kind = settings.huggingFaceValue("rope_parameters.rope_type"), kind != .string("default") {
        return .invalidConfig(key: "rope_parameters.rope_type", expected: "default", found: kind.string ?? kind.rendered())
    }
    if let scaling = settings.huggingFaceValue("rope_scaling"), let kind = scaling["rope_type"] ?? scaling["type"],
       kind != .string("default") {
        return .invalidConfig(key: "rope_scaling", expected: "null or default", found: kind.string ?? kind.rendered())
    }
    if let rotated = try settings.optionalCount(.ropeDimensions), rotated != headDim {
        return settings.invalid(.ropeDimensions, expected: "the head size (\(headDim)): partial rotary is not implemented", found: String(rotated))
    }
    return nil
}

/// Every tensor of a LLaMA-family model under `c`'s options.
func llamaFamilyTensors(_ c: ModelConfig) -> [TensorSpec] {
    let d = c.dim
    let ff = c.hiddenDim ?? 0
    let qWidth = c.headCount * c.headDim
    let kvWidth = c.kvHeadCount * c.headDim
    var specs = [
        TensorSpec("embed", [c.vocabSize, d]), TensorSpec("final_norm.weight", [d], required: false),
        TensorSpec("lm_head", [c.vocabSize, d], required: false),
    ]
    for i in 0..<c.layerCount {
        let p = "layers.\(i)."
        specs += [
            TensorSpec(p + "attn_norm.weight", [d]), TensorSpec(p + "wq", [qWidth, d]),
            TensorSpec(p + "wk", [kvWidth, d]), TensorSpec(p + "wv", [kvWidth, d]), TensorSpec(p + "wo", [d, qWidth]),
            TensorSpec(p + "bq", [qWidth], required: c.attentionBias), TensorSpec(p + "bk", [kvWidth], required: c.attentionBias),
            TensorSpec(p + "bv", [kvWidth], required: c.attentionBias), TensorSpec(p + "bo", [d], required: c.outputBias),
            TensorSpec(p + "q_norm.weight", [c.headDim], required: c.queryKeyNorm),
            TensorSpec(p + "k_norm.weight", [c.headDim], required: c.queryKeyNorm),
            TensorSpec(p + "ffn_norm.weight", [d]), TensorSpec(p + "w_gate", [ff, d]), TensorSpec(p + "w_up", [ff, d]),
            TensorSpec(p + "w_down", [d, ff]), TensorSpec(p + "b_gate", [ff], required: c.mlpBias),
            TensorSpec(p + "b_up", [ff], required: c.mlpBias), TensorSpec(p + "b_down", [d], required: c.mlpBias),
        ]
    }
    return specs
}
