/// Mistral (transformers' models/mistral): LLaMA wiring without biases, optionally with a sliding
/// window — a query sees only the `sliding_window` most recent keys, itself included.
public enum MistralArchitecture: ArchitectureDefinition {
    public static let name = "mistral"
    public static let wiring = Wiring.llama

    /// transformers' MistralConfig defaults.
    static let defaults = LlamaFamilyDefaults(
        normEpsilon: 1e-6, ropeTheta: 10000, maxSequenceLength: 4096 * 32, tiedEmbeddings: false, headDim: nil)

    public static var huggingFaceNames: TensorNaming { llamaFamilyNames }

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        var config = try llamaFamilyConfiguration(settings, context: context, architecture: name, defaults: defaults)
        // A window of at least the sequence length is plain causal attention; null means none.
        config.slidingWindow = try settings.optionalCount(.slidingWindow)
        return config
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] { llamaFamilyTensors(c) }

    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { nil }
}
