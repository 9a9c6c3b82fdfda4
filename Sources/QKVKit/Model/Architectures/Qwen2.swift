/// Qwen2 (transformers' models/qwen2; GGUF `qwen2`): LLaMA wiring with a bias on q, k and v (none
/// on the output projection), usually tied embeddings and rope theta 1e6 in the released configs.
public enum Qwen2Architecture: ArchitectureDefinition {
    public static let name = "qwen2"
    public static let wiring = Wiring.llama

    /// transformers' Qwen2Config defaults.
    static let defaults = LlamaFamilyDefaults(
        normEpsilon: 1e-6, ropeTheta: 10000, maxSequenceLength: 32768, tiedEmbeddings: false, headDim: nil)

    public static var huggingFaceNames: TensorNaming { llamaFamilyNames }

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        var config = try llamaFamilyConfiguration(settings, context: context, architecture: name, defaults: defaults)
        config.attentionBias = true
        config.unsupported = try qwenSlidingWindow(settings) ?? config.unsupported
        return config
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] { llamaFamilyTensors(c) }

    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { nil }
}

/// Qwen2 and Qwen3 use a sliding window only on layers from `max_window_layers` on, and only with
/// `use_sliding_window`; that per-layer mix is not implemented.
func qwenSlidingWindow(_ settings: ConfigSettings) throws(QKVError) -> QKVError? {
    guard let use = settings.huggingFaceValue("use_sliding_window"), use == .bool(true) else { return nil }
    return .invalidConfig(key: "use_sliding_window", expected: "false (per-layer sliding windows are not implemented)", found: "true")
}
