/// Everything `qkv run` does between parsing arguments and printing: pick tokens, load, run, select.
public struct AttentionRequest: Sendable {
    public enum Input: Sendable {
        case tokens(String)
        case text(String)
    }

    public var input: Input
    /// nil: all layers / heads.
    public var layers: String?
    public var heads: String?
    public var verify: Bool

    public init(input: Input, layers: String? = nil, heads: String? = nil, verify: Bool = true) {
        self.input = input
        self.layers = layers
        self.heads = heads
        self.verify = verify
    }
}

public enum AttentionRunner {
    /// Token ids and their display text for the request's input.
    public static func tokens(for input: AttentionRequest.Input, checkpoint: any Checkpoint) throws -> [AttentionReport.Token] {
        let config = checkpoint.config
        let vocabulary = checkpoint.vocabulary
        let maxLength = try ArchitectureRegistry.definition(config.architecture).maximumTokens(config, tensors: checkpoint.tensors)
        let tokenizer = try checkpoint.textTokenizer()
        let ids: [Int]
        switch input {
        case let .tokens(list):
            ids = try TokenInput.parse(list, vocabulary: vocabulary, vocabSize: config.vocabSize, maxLength: maxLength)
        case let .text(text) where tokenizer != nil:
            ids = try tokenizer!.encode(text)
            if let bad = ids.first(where: { $0 >= config.vocabSize }) {
                throw QKVError.tokenOutOfRange(token: String(bad), vocabSize: config.vocabSize)
            }
            try TokenInput.check(ids, maxLength: maxLength)
        case let .text(text):
            ids = try TokenInput.words(text, vocabulary: vocabulary, maxLength: maxLength)
        }
        return ids.map { id in
            AttentionReport.Token(id: id, text: tokenizer?.tokenText(id) ?? vocabulary?[id] ?? String(id))
        }
    }

    public static func run(_ request: AttentionRequest, checkpoint: any Checkpoint) throws -> AttentionReport {
        let config = checkpoint.config
        let layers = try selection(request.layers, count: config.layerCount, what: "--layers")
        let heads = try selection(request.heads, count: config.headCount, what: "--heads")
        let tokens = try tokens(for: request.input, checkpoint: checkpoint)
        let model = try ArchitectureRegistry.load(checkpoint, verify: request.verify)
        let attention = try model.attention(tokens: tokens.map(\.id), layers: layers)
        return AttentionReport(tokens: tokens, layers: attention, heads: heads)
    }

    /// "all" (or nil) → every index; otherwise comma/space separated indices, each checked.
    public static func selection(_ text: String?, count: Int, what: String) throws(QKVError) -> [Int] {
        guard let text, text.lowercased() != "all" else { return Array(0..<count) }
        let pieces = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        guard !pieces.isEmpty else { throw .invalidSelection(what: what, value: text) }
        var indices: [Int] = []
        for piece in pieces {
            guard let index = Int(piece) else { throw .invalidSelection(what: what, value: text) }
            guard (0..<count).contains(index) else { throw .selectionOutOfRange(what: what, value: index, count: count) }
            if !indices.contains(index) { indices.append(index) }
        }
        return indices.sorted()
    }
}
