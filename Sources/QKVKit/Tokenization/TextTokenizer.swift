/// Turns text into the token ids a checkpoint was trained on, the way Hugging Face
/// `tokenizers` does for the same `tokenizer.json` (or BERT `vocab.txt`).
public protocol TextTokenizer: Sendable {
    /// Ids for `text` with the model's defaults: the special tokens the tokenizer adds around a
    /// sequence (BERT: `[CLS] … [SEP]`; GPT-2: none; a SentencePiece GGUF: BOS) are included.
    func encode(_ text: String) throws -> [Int]

    /// Ids for `text`; with `addSpecialTokens` false, none of the ids the tokenizer puts around a
    /// sequence (BOS, EOS, CLS, SEP). Special tokens written in the text are still recognized.
    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int]

    /// The vocabulary string of `id` as `convert_ids_to_tokens` shows it (`"##ing"`, `"Ġworld"`),
    /// or `"<id N>"` for an id the vocabulary does not define.
    func tokenText(_ id: Int) -> String

    /// One more than the largest id the tokenizer defines: every id `encode` returns is below it.
    var vocabularySize: Int { get }
}

extension TextTokenizer {
    public func encode(_ text: String) throws -> [Int] {
        try encode(text, addSpecialTokens: true)
    }
}

/// How errors about text that cannot be tokenized end: the caller knows how ids are given.
public let tokenIDHint = "give the token ids instead"

/// Every way loading or running a tokenizer can fail. Each case names the file and field and
/// says what was expected and what was found.
public enum TokenizerError: Error, Equatable, Sendable {
    /// The file exists but could not be read.
    case unreadableFile(file: String, reason: String)
    /// The file is not well-formed JSON; `offset` is the byte where parsing stopped.
    case malformedJSON(file: String, offset: Int, reason: String)
    /// The file is not valid UTF-8; `offset` is the first bad byte.
    case invalidUTF8(file: String, offset: Int)
    case missingField(file: String, field: String)
    case wrongType(file: String, field: String, expected: String, found: String)
    case invalidValue(file: String, field: String, expected: String, found: String)
    /// A tokenizer component qkv does not implement; the user should give token ids instead.
    case unsupported(file: String, field: String, found: String, supported: String)
    /// A token the configuration relies on (unk, a merge part, a special token) is not in the vocabulary.
    case tokenNotInVocabulary(file: String, field: String, token: String)
    /// A piece of input has no vocabulary entry and the tokenizer defines no unknown token.
    case unencodable(piece: String)
    /// A piece of input is not a token, and the vocabulary lacks the byte token (`<0xNN>`) that
    /// byte fallback would spell it with (SentencePiece GGUF vocabularies; llama.cpp aborts here).
    case noByteToken(piece: String, byteToken: String)
}

extension TokenizerError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .unreadableFile(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .malformedJSON(file, offset, reason):
            return "\(file): malformed JSON at byte \(offset): \(reason)"
        case let .invalidUTF8(file, offset):
            return "\(file): invalid UTF-8 at byte \(offset)"
        case let .missingField(file, field):
            return "\(file): missing field \(field)"
        case let .wrongType(file, field, expected, found):
            return "\(file): \(field): expected \(expected), found \(found)"
        case let .invalidValue(file, field, expected, found):
            return "\(file): \(field): expected \(expected), found \(found)"
        case let .unsupported(file, field, found, supported):
            return "\(file): \(field) \(found) is not supported (supported: \(supported)); "
                + tokenIDHint
        case let .tokenNotInVocabulary(file, field, token):
            return "\(file): \(field): token \(jsonQuoted(token)) is not in the vocabulary"
        case let .noByteToken(piece, byteToken):
            return "text piece \(jsonQuoted(piece)) is not a token, and the vocabulary has no byte token \(byteToken) to spell it; "
                + tokenIDHint
        case let .unencodable(piece):
            return "text piece \(jsonQuoted(piece)) has no vocabulary entry and the tokenizer has no unknown token; "
                + tokenIDHint
        }
    }
}
