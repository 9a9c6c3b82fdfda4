/// GPT-2 (`GPT2Model`, or the `transformer.` part of `GPT2LMHeadModel`): learned positions, pre-LN
/// blocks, fused QKV in Conv1D layout [in, out], causal attention (transformers' models/gpt2).
public enum GPT2Architecture: ArchitectureDefinition {
    public static let name = "gpt2"
    public static let wiring = Wiring.gpt2

    // transformers' GPT2Config defaults.
    static let defaultNormEpsilon = 1e-5
    static let defaultActivation = Activation.geluNew
    /// n_inner: null means 4 · n_embd.
    static let hiddenDimPerDim = 4

    public static let huggingFaceNames = TensorNaming(
        prefixes: ["transformer."], layerPrefixes: ["h."],
        layerNames: Dictionary(uniqueKeysWithValues:
            TensorNaming.norm("ln_1", "attn_norm") + TensorNaming.linear("attn.c_attn", "wqkv", "bqkv")
            + TensorNaming.linear("attn.c_proj", "wo", "bo") + TensorNaming.norm("ln_2", "ffn_norm")
            + TensorNaming.linear("mlp.c_fc", "w_up", "b_up") + TensorNaming.linear("mlp.c_proj", "w_down", "b_down")),
        globalNames: Dictionary(uniqueKeysWithValues:
            [("wte.weight", "embed"), ("wpe.weight", "pos"), ("lm_head.weight", "lm_head")] + TensorNaming.norm("ln_f", "final_norm")),
        bufferSuffixes: [".attn.bias", ".attn.masked_bias"],
        embeddingComponents: ["wte", "wpe"])

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        let dim = try settings.count(ConfigKey.dim.huggingFace("n_embd"))
        var config = ModelConfig(
            architecture: name, wiring: wiring, vocabSize: try settings.count(.vocabSize), dim: dim,
            layerCount: try settings.count(ConfigKey.layerCount.huggingFace("n_layer")),
            headCount: try settings.count(ConfigKey.headCount.huggingFace("n_head")),
            maxSequenceLength: try settings.count(ConfigKey.maxSequenceLength.huggingFace("n_positions")), isCausal: true,
            hiddenDim: try settings.count(ConfigKey.hiddenDim.huggingFace("n_inner"), default: hiddenDimPerDim * dim),
            normEpsilon: try settings.number(ConfigKey.normEpsilon.huggingFace("layer_norm_epsilon"), default: defaultNormEpsilon),
            tiedEmbeddings: try settings.flag(.tiedEmbeddings, default: true))
        config.activation = try settings.choice(ConfigKey.activation.huggingFace("activation_function"), default: defaultActivation)
        config.scaleAttention = try settings.flag(.scaleAttention, default: true)
        config.scaleAttentionByInverseLayer = try settings.flag(.scaleAttentionByInverseLayer, default: false)
        guard config.dim % config.headCount == 0 else {
            throw settings.invalid(
                ConfigKey.dim.huggingFace("n_embd"), expected: "a multiple of the head count (\(config.headCount))", found: String(dim))
        }
        return config
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] {
        let d = c.dim
        let ff = c.hiddenDim ?? 0
        var specs = [
            TensorSpec("embed", [c.vocabSize, d]), TensorSpec("pos", [c.maxSequenceLength ?? 0, d]),
            TensorSpec("final_norm.weight", [d], required: false), TensorSpec("final_norm.bias", [d], required: false),
            TensorSpec("lm_head", [c.vocabSize, d], required: false),
        ]
        for i in 0..<c.layerCount {
            let p = "layers.\(i)."
            specs += [
                TensorSpec(p + "attn_norm.weight", [d]), TensorSpec(p + "attn_norm.bias", [d]),
                TensorSpec(p + "wqkv", [d, 3 * d]), TensorSpec(p + "bqkv", [3 * d]),
                TensorSpec(p + "wo", [d, d]), TensorSpec(p + "bo", [d]),
                TensorSpec(p + "ffn_norm.weight", [d]), TensorSpec(p + "ffn_norm.bias", [d]),
                TensorSpec(p + "w_up", [d, ff]), TensorSpec(p + "b_up", [ff]),
                TensorSpec(p + "w_down", [ff, d]), TensorSpec(p + "b_down", [d]),
            ]
        }
        return specs
    }
}
