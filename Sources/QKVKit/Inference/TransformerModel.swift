/// A model ready to run: weights loaded, scratch sized on demand.
public protocol TransformerModel: Sendable {
    var config: ModelConfig { get }
    /// Runs the forward pass over `tokens` and returns the post-softmax attention of every layer.
    /// - Parameter layers: the layers whose attention is kept; all layers are still computed
    ///   up to the last one asked for.
    func attention(tokens: [Int], layers: [Int]) throws -> [LayerAttention]
}

/// Post-softmax attention of one layer: `scores[h][p * T + j]` is query p's attention to key j in head h.
public struct LayerAttention: Sendable, Equatable {
    public var layer: Int
    public var tokenCount: Int
    public var heads: [[Float]]

    public init(layer: Int, tokenCount: Int, heads: [[Float]]) {
        self.layer = layer
        self.tokenCount = tokenCount
        self.heads = heads
    }

    public func score(head: Int, query: Int, key: Int) -> Float {
        heads[head][query * tokenCount + key]
    }
}

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

/// What each architecture provides: the tensors it expects and how to build it.
public protocol ArchitectureDefinition {
    static var architecture: Architecture { get }
    /// Every tensor the architecture reads, with its shape; checked at open time, before any payload is read.
    static func expectedTensors(_ config: ModelConfig) -> [TensorSpec]
    /// Extra consistency rules that shapes alone cannot express.
    static func validate(_ config: ModelConfig, tensors: [String: TensorInfo]) throws(QKVError)
    /// The longest token sequence the model takes, if it has a limit.
    static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int?
    static func load(_ checkpoint: any Checkpoint, verify: Bool) throws -> any TransformerModel
}

extension ArchitectureDefinition {
    public static func validate(_ config: ModelConfig, tensors: [String: TensorInfo]) throws(QKVError) {}

    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { config.maxSequenceLength }
}

/// The table from architecture to its definition, instead of a chain of ifs.
public enum ArchitectureRegistry {
    public static var definitions: [Architecture: any ArchitectureDefinition.Type] {
        [
            .attention: AttentionOnlyModel.self,
            .bert: BERTModel.self,
            .gpt2: GPT2Model.self,
            .llama: LlamaModel.self,
        ]
    }

    public static func definition(_ architecture: Architecture) throws(QKVError) -> any ArchitectureDefinition.Type {
        guard let definition = definitions[architecture] else { throw .unsupportedArchitecture(architecture.rawValue) }
        return definition
    }

    /// Checks every expected tensor's presence and shape, and that the layer count is backed by tensors.
    public static func validate(_ config: ModelConfig, tensors: [TensorInfo]) throws(QKVError) {
        let definition = try definition(config.architecture)
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
            guard info.dtype.isWeightType else { throw .unsupportedTensorDType(tensor: spec.name, dtype: info.dtype.safetensorsName) }
        }
        try definition.validate(config, tensors: byName)
    }

    public static func load(_ checkpoint: any Checkpoint, verify: Bool) throws -> any TransformerModel {
        try definition(checkpoint.config.architecture).load(checkpoint, verify: verify)
    }
}
