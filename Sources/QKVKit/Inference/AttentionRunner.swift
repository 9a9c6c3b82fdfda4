/// Everything `qkv run` does between parsing arguments and printing: pick tokens, load, run, select.
public struct AttentionRequest: Sendable {
    public enum Input: Sendable {
        /// Ids or vocabulary strings separated by commas and/or whitespace (see `TokenInput`).
        case tokens(String)
        /// Text for the model's own tokenizer.
        case text(String)
    }

    public var input: Input
    /// The layers and heads to report; nil for all.
    public var layers: [Int]?
    public var heads: [Int]?
    /// Check each tensor's checksum while loading (where the format has one).
    public var verify: Bool
    public var threads: Int

    public init(input: Input, layers: [Int]? = nil, heads: [Int]? = nil, verify: Bool = true, threads: Int = ThreadCount.automatic) {
        self.input = input
        self.layers = layers
        self.heads = heads
        self.verify = verify
        self.threads = threads
    }
}

public enum AttentionRunner {
    /// Token ids and their display text for the request's input.
    public static func tokens(for input: AttentionRequest.Input, checkpoint: Checkpoint) throws -> [AttentionReport.Token] {
        let (config, definition) = try checkpoint.runnable()
        let vocabulary = checkpoint.vocabulary
        let maxLength = definition.maximumTokens(config, tensors: checkpoint.tensors)
        // Ids need no tokenizer (a broken one only costs their display text); text does.
        let tokenizer = if case .tokens = input { try? checkpoint.textTokenizer() } else { try checkpoint.textTokenizer() }
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
            ids = try TokenInput.words(
                text, vocabulary: vocabulary, maxLength: maxLength, lookedFor: checkpoint.container.tokenizerLocations)
        }
        return ids.map { id in
            AttentionReport.Token(id: id, text: tokenizer?.tokenText(id) ?? vocabulary?[id] ?? String(id))
        }
    }

    public static func run(_ request: AttentionRequest, checkpoint: Checkpoint) throws -> AttentionReport {
        let (config, _) = try checkpoint.runnable()
        let layers = try selection(request.layers, count: config.layerCount, what: "layer")
        let heads = try selection(request.heads, count: config.headCount, what: "head")
        let tokens = try tokens(for: request.input, checkpoint: checkpoint)
        let model = try ModelLoader.load(checkpoint, verify: request.verify, threads: request.threads)
        let attention = try model.attention(tokens: tokens.map(\.id), layers: layers)
        return AttentionReport(tokens: tokens, layers: attention, heads: heads)
    }

    /// The indices asked for (every index when nil), sorted without repeats, each checked.
    static func selection(_ indices: [Int]?, count: Int, what: String) throws(QKVError) -> [Int] {
        guard let indices else { return Array(0..<count) }
        guard !indices.isEmpty else { throw .invalidSelection(what: what, value: "an empty list") }
        for index in indices where !(0..<count).contains(index) {
            throw .selectionOutOfRange(what: what, value: index, count: count)
        }
        return Array(Set(indices)).sorted()
    }
}
