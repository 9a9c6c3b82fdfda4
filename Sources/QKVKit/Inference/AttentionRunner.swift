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
    /// Keep the first tokens of an input longer than the model takes, as its tokenizer truncates
    /// (the special tokens it adds stay: `[CLS] … [SEP]`), instead of refusing it.
    public var truncate: Bool

    public init(
        input: Input, layers: [Int]? = nil, heads: [Int]? = nil, verify: Bool = true, threads: Int = ThreadCount.automatic,
        truncate: Bool = false
    ) {
        self.input = input
        self.layers = layers
        self.heads = heads
        self.verify = verify
        self.threads = threads
        self.truncate = truncate
    }
}

public enum AttentionRunner {
    /// Token ids and their display text for the request's input.
    public static func tokens(
        for input: AttentionRequest.Input, checkpoint: Checkpoint, truncate: Bool = false
    ) throws -> [AttentionReport.Token] {
        let (config, definition) = try checkpoint.runnable()
        let vocabulary = checkpoint.vocabulary
        let maximum = definition.maximumTokens(config, tensors: checkpoint.tensors)
        // With truncation the length is checked after cutting, not before.
        let maxLength = truncate ? nil : maximum
        // Ids need no tokenizer (a broken one only costs their display text); text does.
        let tokenizer = if case .tokens = input { try? checkpoint.textTokenizer() } else { try checkpoint.textTokenizer() }
        let ids: [Int]
        switch input {
        case let .tokens(list):
            ids = Array(try TokenInput.parse(list, vocabulary: vocabulary, vocabSize: config.vocabSize, maxLength: maxLength)
                .prefix(maximum ?? .max))
        case let .text(text) where tokenizer != nil:
            ids = try truncatedEncoding(text, tokenizer: tokenizer!, maximum: truncate ? maximum : nil)
            if let bad = ids.first(where: { $0 >= config.vocabSize }) {
                throw QKVError.tokenOutOfRange(token: String(bad), vocabSize: config.vocabSize)
            }
            try TokenInput.check(ids, maxLength: maximum)
        case let .text(text):
            ids = Array(try TokenInput.words(
                text, vocabulary: vocabulary, maxLength: maxLength, lookedFor: checkpoint.container.tokenizerLocations
            ).prefix(maximum ?? .max))
        }
        return ids.map { id in
            AttentionReport.Token(id: id, text: tokenizer?.tokenText(id) ?? vocabulary?[id] ?? String(id))
        }
    }

    /// The ids of `text`; with a `maximum`, cut as Hugging Face tokenizers truncate: the text's
    /// own tokens are cut to leave room for the special tokens the tokenizer adds around them.
    static func truncatedEncoding(_ text: String, tokenizer: any TextTokenizer, maximum: Int?) throws -> [Int] {
        let full = try tokenizer.encode(text)
        guard let maximum, full.count > maximum else { return full }
        let plain = try tokenizer.encode(text, addSpecialTokens: false)
        let added = full.count - plain.count
        // Where the text's tokens sit among the added ones ([CLS] before, [SEP] after).
        guard added >= 0, maximum > added,
              let start = (0...added).first(where: { full[$0..<($0 + plain.count)].elementsEqual(plain) })
        else { return Array(full.prefix(maximum)) }
        return Array(full[..<start]) + plain.prefix(maximum - added) + full[(start + plain.count)...]
    }

    public static func run(_ request: AttentionRequest, checkpoint: Checkpoint) throws -> AttentionReport {
        let (config, _) = try checkpoint.runnable()
        let layers = try selection(request.layers, count: config.layerCount, what: "layer")
        let heads = try selection(request.heads, count: config.headCount, what: "head")
        let tokens = try tokens(for: request.input, checkpoint: checkpoint, truncate: request.truncate)
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
