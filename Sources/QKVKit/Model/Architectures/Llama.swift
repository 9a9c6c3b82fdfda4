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
    if config.unsupported == nil {
        config.ropeScaling = try rotaryScaling(settings, context: context, headDim: headDim, maxSequenceLength: config.maxSequenceLength)
    }
    if let valueDim = try settings.optionalCount(.valueHeadDim), valueDim != headDim {
        config.unsupported = settings.invalid(.valueHeadDim, expected: "the key length (\(headDim))", found: String(valueDim))
    }
    return config
}

/// Rotary variants qkv does not implement (yarn, linear, dynamic, longrope scaling; partial rotary
/// dimensions) leave the model inspectable but not runnable.
private func unsupportedRotaryScaling(_ settings: ConfigSettings, headDim: Int) throws(QKVError) -> QKVError? {
    for (key, value) in [("rope_parameters", settings.huggingFaceValue("rope_parameters")),
                         ("rope_scaling", settings.huggingFaceValue("rope_scaling"))] {
        guard let kind = value?["rope_type"] ?? value?["type"] else { continue }
        guard kind == .string("default") || kind == .string("llama3") else {
            return .invalidConfig(key: "\(key).rope_type", expected: "default or llama3", found: kind.string ?? kind.rendered())
        }
    }
    if let rotated = try settings.optionalCount(.ropeDimensions), rotated != headDim {
        return settings.invalid(.ropeDimensions, expected: "the head size (\(headDim)): partial rotary is not implemented", found: String(rotated))
    }
    return nil
}

/// Llama 3.1's rotary scaling: config.json's `rope_scaling` (or transformers 5's `rope_parameters`)
/// with `rope_type: "llama3"`; a GGUF file's `rope_freqs.weight` (llama.cpp's converter turns those
/// parameters into one divisor per frequency); a QKV file's `qkv.rope_scaling` keys or
/// `qkv.rope_frequency_factors`.
private func rotaryScaling(
    _ settings: ConfigSettings, context: ConfigContext, headDim: Int, maxSequenceLength: Int?
) throws(QKVError) -> RopeScaling? {
    let pairs = headDim / 2
    if let shape = context.shapes["rope_freqs.weight"] {
        guard shape == [pairs] else {
            throw .shapeMismatch(tensor: "rope_freqs.weight", expected: [pairs], found: shape)
        }
        return .frequencyFactors(try checkedFactors(try context.tensorValues("rope_freqs.weight"), field: "rope_freqs.weight"))
    }
    if case let .qkv(metadata) = settings.source {
        if let factors = try metadata.floats("qkv.rope_frequency_factors") {
            guard factors.count == pairs else {
                throw .invalidMetadataValue(key: "qkv.rope_frequency_factors", expected: "\(pairs) values (head_dim / 2)",
                                            found: "\(factors.count)")
            }
            return .frequencyFactors(try checkedFactors(factors, field: "metadata \"qkv.rope_frequency_factors\""))
        }
        guard let kind = try metadata.string("qkv.rope_scaling") else { return nil }
        guard kind == "llama3" else {
            throw .invalidMetadataValue(key: "qkv.rope_scaling", expected: "llama3", found: jsonQuoted(kind))
        }
        func number(_ key: String) throws(QKVError) -> Double {
            guard let value = try metadata.double(key) else { throw .missingMetadata(key: key) }
            return value
        }
        func originalLength() throws(QKVError) -> Double {
            let key = "qkv.rope_original_max_seq_len"
            guard let value = try metadata.int(key) else { throw .missingMetadata(key: key) }
            return Double(value)
        }
        return try llama3Scaling(
            factor: number("qkv.rope_scaling_factor"), low: number("qkv.rope_low_freq_factor"),
            high: number("qkv.rope_high_freq_factor"), original: originalLength(),
            name: { "metadata \"qkv.rope_\($0)\"" })
    }
    let parameters = [settings.huggingFaceValue("rope_parameters"), settings.huggingFaceValue("rope_scaling")]
        .compactMap { $0 }.first { ($0["rope_type"] ?? $0["type"]) == .string("llama3") }
    guard let parameters else { return nil }
    let key = settings.huggingFaceValue("rope_parameters") == parameters ? "rope_parameters" : "rope_scaling"
    func number(_ field: String, default fallback: Double? = nil) throws(QKVError) -> Double {
        guard let value = parameters[field] else {
            guard let fallback else { throw .invalidConfig(key: "\(key).\(field)", expected: "a number (rope_type llama3)", found: "absent") }
            return fallback
        }
        guard let number = value.double, number.isFinite else {
            throw .invalidConfig(key: "\(key).\(field)", expected: "a number", found: value.rendered())
        }
        return number
    }
    return try llama3Scaling(
        factor: number("factor"), low: number("low_freq_factor"), high: number("high_freq_factor"),
        original: number("original_max_position_embeddings", default: maxSequenceLength.map(Double.init)),
        name: { "\(key).\($0)" })
}

/// The llama3 parameters, checked so that the interpolation is defined: factor > 0,
/// 0 < low < high, a positive whole original context.
private func llama3Scaling(
    factor: Double, low: Double, high: Double, original: Double, name: (String) -> String
) throws(QKVError) -> RopeScaling {
    func check(_ ok: Bool, _ field: String, _ expected: String, _ found: Double) throws(QKVError) {
        if !ok { throw .invalidConfig(key: name(field), expected: expected, found: String(found)) }
    }
    try check(factor > 0 && factor.isFinite, "factor", "a positive number", factor)
    try check(low > 0 && low.isFinite, "low_freq_factor", "a positive number", low)
    try check(high > low && high.isFinite, "high_freq_factor", "a number above low_freq_factor (\(low))", high)
    try check(original >= 1 && original <= 1e12 && original.rounded() == original, "original_max_position_embeddings",
              "a positive whole number", original)
    return .llama3(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high, originalContextLength: Int(original))
}

/// Divisors must be finite and positive, or an angle becomes infinite or flips.
private func checkedFactors(_ factors: [Float], field: String) throws(QKVError) -> [Float] {
    if let bad = factors.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
        throw .invalidConfig(key: "\(field)[\(bad)]", expected: "a positive finite frequency factor", found: String(factors[bad]))
    }
    return factors
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
