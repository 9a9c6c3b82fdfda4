/// Qwen3 (transformers' models/qwen3; GGUF `qwen3`): LLaMA wiring without biases, with an RMSNorm
/// over each head of q and k (`q_norm`, `k_norm`, weight [head_dim]) before rotary positions;
/// `head_dim` comes from the config and may differ from hidden_size / num_attention_heads.
public enum Qwen3Architecture: ArchitectureDefinition {
    public static let name = "qwen3"
    public static let wiring = Wiring.llama

    /// transformers' Qwen3Config defaults (head_dim 128 whatever the hidden size).
    static let defaults = LlamaFamilyDefaults(
        normEpsilon: 1e-6, ropeTheta: 10000, maxSequenceLength: 32768, tiedEmbeddings: false, headDim: 128)

    public static var huggingFaceNames: TensorNaming { llamaFamilyNames }

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        var config = try llamaFamilyConfiguration(settings, context: context, architecture: name, defaults: defaults)
        config.attentionBias = try settings.flag(.attentionBias, default: false)
        config.outputBias = config.attentionBias
        config.queryKeyNorm = true
        config.unsupported = try qwenSlidingWindow(settings) ?? config.unsupported
        return config
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] { llamaFamilyTensors(c) }

    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { nil }
}
