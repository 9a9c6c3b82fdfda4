/// What `qkv run` prints: the tokens and the chosen layers' and heads' attention matrices.
public struct AttentionReport {
    public struct Token: Sendable, Equatable {
        public var id: Int
        public var text: String
    }

    public var tokens: [Token]
    public var layers: [LayerAttention]
    public var heads: [Int]

    public init(tokens: [Token], layers: [LayerAttention], heads: [Int]) {
        self.tokens = tokens
        self.layers = layers
        self.heads = heads
    }
}
