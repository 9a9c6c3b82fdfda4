/// A tensor an architecture expects, with its shape under a given config.
public struct TensorSpec: Sendable {
    public var name: String
    public var shape: [Int]
    public var isRequired: Bool

    public init(_ name: String, _ shape: [Int], required: Bool = true) {
        self.name = name
        self.shape = shape
        self.isRequired = required
    }
}

/// What a file offers an architecture besides its settings, for defaults that depend on it.
public struct ConfigContext {
    /// Shapes of the tensors, by canonical name.
    public var shapes: [String: [Int]]
    /// Entries of the token list the file carries (GGUF `tokenizer.ggml.tokens`), if any.
    public var tokenCount: Int?
    /// The values of a small tensor that is part of the config rather than the weights (GGUF
    /// `rope_freqs.weight`), decoded on request; the caller checks its shape first.
    public var tensorValues: (String) throws(QKVError) -> [Float]

    public init(shapes: [String: [Int]], tokenCount: Int?,
                tensorValues: @escaping (String) throws(QKVError) -> [Float] = { name throws(QKVError) in throw .missingTensor(name) }) {
        self.shapes = shapes
        self.tokenCount = tokenCount
        self.tensorValues = tensorValues
    }
}

/// Everything qkv knows about one architecture, in one file per architecture: the names it goes
/// by, how it reads its settings (with its defaults, each written once), how its Hugging Face
/// checkpoints name tensors, and the tensors it expects. The forward pass is chosen by `wiring`.
/// See docs/ADDING_AN_ARCHITECTURE.md.
public protocol ArchitectureDefinition {
    /// The registry name, written as `qkv.architecture` by `convert`.
    static var name: String { get }
    /// Other names files use for it (`model_type`, `general.architecture`).
    static var aliases: [String] { get }
    static var wiring: Wiring { get }
    /// How Hugging Face checkpoints of this architecture name their tensors.
    static var huggingFaceNames: TensorNaming { get }
    /// Resolves every setting, applying this architecture's defaults; rejects values it cannot hold.
    static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig
    /// Every tensor the architecture reads, with its shape; checked at open time, before any payload is read.
    static func expectedTensors(_ config: ModelConfig) -> [TensorSpec]
    /// Extra consistency rules that shapes alone cannot express.
    static func validate(_ config: ModelConfig, tensors: [String: TensorInfo]) throws(QKVError)
    /// The longest token sequence the model takes, if it has a limit.
    static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int?
}

extension ArchitectureDefinition {
    public static var aliases: [String] { [] }
    public static var huggingFaceNames: TensorNaming { .huggingFaceGeneric }
    public static func validate(_ config: ModelConfig, tensors: [String: TensorInfo]) throws(QKVError) {}
    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { config.maxSequenceLength }
}

/// The architectures qkv knows, one line each.
public enum ArchitectureRegistry {
    public static var definitions: [any ArchitectureDefinition.Type] {
        [
        AttentionOnlyArchitecture.self,
        BERTArchitecture.self,
        GPT2Architecture.self,
        LlamaArchitecture.self,
        MistralArchitecture.self,
        Qwen2Architecture.self,
        Qwen3Architecture.self,
        ]
    }

    /// The definition serving `name` (its registry name or an alias).
    public static func definition(named name: String) -> (any ArchitectureDefinition.Type)? {
        definitions.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// Every registry name, for messages.
    public static var names: [String] { definitions.map { $0.name } }

    /// Checks every expected tensor's presence, shape and type, and that the layer count is backed by tensors.
    public static func validate(
        _ definition: any ArchitectureDefinition.Type, _ config: ModelConfig, tensors: [TensorInfo]
    ) throws(QKVError) {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Every layer needs at least one tensor, so a layer count beyond the directory size is
        // certainly short of tensors: checking one layer past the directory finds the first missing
        // one without building specs for billions of layers.
        var bounded = config
        bounded.layerCount = min(config.layerCount, tensors.count + 1)
        for spec in definition.expectedTensors(bounded) {
            guard let info = byName[spec.name] else {
                if spec.isRequired { throw .missingTensor(spec.name) }
                continue
            }
            guard info.shape == spec.shape else { throw .shapeMismatch(tensor: spec.name, expected: spec.shape, found: info.shape) }
            guard info.dtype.isFloatingPoint && info.dtype != .f64 else {
                throw .unsupportedTensorDType(tensor: spec.name, dtype: info.dtype.safetensorsName)
            }
        }
        try definition.validate(config, tensors: byName)
    }
}
