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

/// Builds the forward pass of a checkpoint's wiring.
public enum ModelLoader {
    /// Loads the weights of a checkpoint whose architecture qkv runs (see `Checkpoint.runnable()`).
    /// `threads` bounds the threads every later forward pass uses; `verify` checks checksums.
    public static func load(_ checkpoint: Checkpoint, verify: Bool, threads: Int = ThreadCount.automatic) throws -> any TransformerModel {
        let (config, _) = try checkpoint.runnable()
        let weights = WeightLoader(checkpoint: checkpoint, verify: verify, threads: threads)
        switch config.wiring {
        case .attentionOnly: return try AttentionOnlyModel(config: config, loading: weights)
        case .bert: return try BERTModel(config: config, loading: weights)
        case .gpt2: return try GPT2Model(config: config, loading: weights)
        case .llama: return try LlamaModel(config: config, loading: weights)
        }
    }
}
