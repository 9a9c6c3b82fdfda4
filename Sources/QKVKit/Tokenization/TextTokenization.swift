/// What `qkv tokenize` shows: the ids the file's own tokenizer gives a text, each with its
/// vocabulary string — the same ids `qkv run --text` feeds the model.
///
/// Only the file's tokenizer is read, never its model settings or weights, so a vocab-only GGUF
/// file (tokenizer keys, no tensors) works as well as a full model.
public enum TextTokenization {
    public struct Token: Sendable, Equatable {
        public var id: Int
        /// The vocabulary string (`Ġworld`, `▁the`, `<0x0A>`, `##ing`).
        public var text: String

        public init(id: Int, text: String) {
            self.id = id
            self.text = text
        }
    }

    /// The tokens of `text` by the tokenizer of the checkpoint at `path` (any format qkv reads;
    /// a llama2.c checkpoint with the `tokenizer.bin` given as `tokenizer`).
    /// With `addSpecialTokens` false there is no BOS/EOS/CLS/SEP around them; special-token
    /// texts such as `<|im_start|>` are recognized either way. A file with only a token list
    /// (`tokenizer.tokens`) looks whitespace-separated words up in it, as `run --text` does. No
    /// tokenizer at all is `QKVError.noTokenizer`, located at `path`.
    public static func tokens(_ text: String, path: String, tokenizer tokenizerFile: TokenizerFile? = nil,
                              addSpecialTokens: Bool = true) throws -> [Token] {
        let container = try FormatDetection.open(path: path, tokenizer: tokenizerFile)
        let source: TokenizerSource?
        do {
            source = try container.tokenizerSource()
        } catch let error as QKVError {
            throw LocatedError(path: path, error: error)
        }
        guard let source else {
            throw LocatedError(path: path, error: .noTokenizer(lookedFor: container.tokenizerLocations))
        }
        if case let .tokenList(vocabulary) = source {
            return try located(path) { () throws(QKVError) in
                try words(text, vocabulary: vocabulary)
            }
        }
        let tokenizer: any TextTokenizer
        do {
            // A token list was handled above, so there is a tokenizer.
            guard let loaded = try TokenizerLoader.tokenizer(source: source) else { return [] }
            tokenizer = loaded
        } catch let error as QKVError {
            throw LocatedError(path: path, error: error)
        }
        return try tokenizer.encode(text, addSpecialTokens: addSpecialTokens).map { Token(id: $0, text: tokenizer.tokenText($0)) }
    }

    /// `run --text` on a bare token list: each whitespace-separated word must be a token.
    private static func words(_ text: String, vocabulary: [String]) throws(QKVError) -> [Token] {
        var ids: [String: Int] = [:]
        for (id, token) in vocabulary.enumerated() where ids[token] == nil { ids[token] = id }
        var tokens: [Token] = []
        for word in text.split(whereSeparator: \.isWhitespace).map(String.init) {
            guard let id = ids[word] else { throw .unknownTokenText(word) }
            tokens.append(Token(id: id, text: word))
        }
        return tokens
    }

    /// `{"tokens":[{"id":…,"text":…},…]}`
    public static func json(_ tokens: [Token]) -> JSONValue {
        .object([("tokens", .array(tokens.map { .object([("id", .int($0.id)), ("text", .string($0.text))]) }))])
    }
}
