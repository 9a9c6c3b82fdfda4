import Foundation

/// Finds and reads the tokenizer of a model folder.
///
/// Supported: `tokenizer.json` (Hugging Face `tokenizers`) with a `WordPiece` or `BPE` model,
/// `BertNormalizer` / `NFD` / `Lowercase` / `StripAccents` normalizers, `BertPreTokenizer` or
/// `ByteLevel` pre-tokenizer, `TemplateProcessing` / `BertProcessing` / `RobertaProcessing` /
/// `ByteLevel` post-processors; or a BERT `vocab.txt` with an optional `tokenizer_config.json`.
/// The `truncation` and `padding` sections are ignored, as `transformers` does when called
/// without truncation or padding arguments.
public enum TokenizerLoader {
    /// Larger than any real tokenizer file (the biggest are tens of MiB), small enough to read.
    public static let maximumFileSize = 1 << 30

    /// The tokenizer in `folder`: `tokenizer.json` if present, else `vocab.txt` (with
    /// `tokenizer_config.json` when present), else nil.
    public static func load(folder: URL) throws -> (any TextTokenizer)? {
        let json = folder.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json.path) {
            return try load(tokenizerJSON: json)
        }
        let vocabulary = folder.appendingPathComponent("vocab.txt")
        if FileManager.default.fileExists(atPath: vocabulary.path) {
            let config = folder.appendingPathComponent("tokenizer_config.json")
            let hasConfig = FileManager.default.fileExists(atPath: config.path)
            return try load(wordPieceVocabulary: vocabulary, config: hasConfig ? config : nil)
        }
        return nil
    }

    /// Reads a Hugging Face `tokenizer.json`.
    public static func load(tokenizerJSON url: URL) throws -> any TextTokenizer {
        try tokenizer(tokenizerJSON: try readFile(url), file: url.lastPathComponent)
    }

    /// The tokenizer described by the bytes of a `tokenizer.json`; `file` names it in errors.
    static func tokenizer(tokenizerJSON bytes: [UInt8], file: String) throws -> any TextTokenizer {
        try TokenizerJSONReader.read(bytes, file: file)
    }

    /// The tokenizer at `source`; nil for a bare token list, which has no tokenizer (`--text`
    /// then looks whitespace-separated words up in it).
    public static func tokenizer(source: TokenizerSource) throws -> (any TextTokenizer)? {
        switch source {
        case .tokenList: return nil
        case let .huggingFaceJSONFile(url): return try load(tokenizerJSON: url)
        case let .huggingFaceJSON(bytes, file): return try tokenizer(tokenizerJSON: bytes, file: file)
        case let .wordPieceVocabulary(url, config): return try load(wordPieceVocabulary: url, config: config)
        case let .gguf(header): return try tokenizer(gguf: header)
        case let .llama2c(vocabulary): return Llama2cTokenizer(vocabulary)
        }
    }

    /// The tokenizer described by a GGUF header's `tokenizer.ggml.*` keys, as llama.cpp runs it.
    static func tokenizer(gguf header: GGUFHeader) throws -> any TextTokenizer {
        try GGUFTokenizerLoader.tokenizer(from: header)
    }

    /// Reads a BERT `vocab.txt` (one token per line, id = line number) and the BERT options of
    /// `tokenizer_config.json`, building what `transformers`' `BertTokenizer` builds from them.
    public static func load(wordPieceVocabulary url: URL, config: URL?) throws -> any TextTokenizer {
        let configJSON = try config.map { configURL in
            let file = configURL.lastPathComponent
            return try JSONField(parsing: try readFile(configURL), file: file)
        }
        return try WordPieceVocabularyReader.read(try readFile(url), file: url.lastPathComponent, config: configJSON)
    }

    static func readFile(_ url: URL) throws -> [UInt8] {
        let name = url.lastPathComponent
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        } catch {
            throw TokenizerError.unreadableFile(file: name, reason: "\(error.localizedDescription)")
        }
        if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
            throw TokenizerError.unreadableFile(file: name, reason: "not a regular file")
        }
        if let size = attributes[.size] as? NSNumber, size.int64Value > Int64(maximumFileSize) {
            throw TokenizerError.unreadableFile(
                file: name, reason: "\(size.int64Value) bytes, more than the \(maximumFileSize)-byte limit")
        }
        // Foundation's Data(contentsOf:) leaks a 4 KiB buffer on an empty file (swift-foundation 6.3).
        if (attributes[.size] as? NSNumber)?.int64Value == 0 { return [] }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw TokenizerError.unreadableFile(file: name, reason: "\(error.localizedDescription)")
        }
    }
}

/// Ids must fit the `Int32` symbols of the BPE merge table; real vocabularies stay far below.
private let idLimit = Int(Int32.max)

private func checkedID(_ field: JSONField) throws -> Int {
    let id = try field.integer()
    guard id >= 0 && id < idLimit else {
        throw TokenizerError.invalidValue(file: field.file, field: field.path,
                                          expected: "an id in 0..<\(idLimit)", found: "\(id)")
    }
    return id
}

private func scalars(_ text: String) -> [Unicode.Scalar] {
    Array(text.unicodeScalars)
}

/// Accumulates the id → text table and the added tokens the way `tokenizers` assigns them.
private struct VocabularyBuilder {
    var vocabulary: [TokenBytes: Int] = [:]
    var tokenTexts: [Int: String] = [:]
    var largestID = -1
    private var addedIDsByContent: [TokenBytes: Int] = [:]
    private(set) var addedTokens: [Int: AddedToken] = [:]
    private var nextAddedID: Int?

    mutating func insert(_ token: String, id: Int) {
        vocabulary[Array(token.utf8)] = id
        tokenTexts[id] = token
        largestID = Swift.max(largestID, id)
    }

    /// Adds `token` as `tokenizers` does on load: its id is the model's id for the content if it
    /// has one, else the next id after the model vocabulary (the file's id is only advisory).
    mutating func add(_ token: AddedToken) {
        guard !token.content.isEmpty else { return }
        let key = Array(token.content.utf8)
        let id: Int
        if let existing = addedIDsByContent[key] ?? vocabulary[key] {
            id = existing
        } else {
            id = nextAddedID ?? vocabulary.count
            nextAddedID = id + 1
        }
        var added = token
        added.id = id
        addedIDsByContent[key] = id
        addedTokens[id] = added
        tokenTexts[id] = token.content
        largestID = Swift.max(largestID, id)
    }

    /// Splitters for tokens matched in raw and in normalized text. A normalized token is matched,
    /// and shown by `tokenText`, in its normalized form, as `tokenizers` does.
    mutating func splitters(normalizer: TextNormalizer) -> (raw: AddedTokenSplitter, normalized: AddedTokenSplitter) {
        let tokens = addedTokens.values.sorted { $0.id < $1.id }
        let raw = tokens.filter { !$0.normalized }.map { (scalars($0.content), $0) }
        let normalized = tokens.filter(\.normalized).map { (normalizer.normalize(scalars($0.content)), $0) }
        for (form, token) in normalized {
            tokenTexts[token.id] = String(String.UnicodeScalarView(form))
        }
        return (AddedTokenSplitter(raw), AddedTokenSplitter(normalized))
    }
}

/// Reads `tokenizer.json`.
private enum TokenizerJSONReader {
    static func read(_ bytes: [UInt8], file: String) throws -> PipelineTokenizer {
        let root = try JSONField(parsing: bytes, file: file)
        guard case .object = root.value else { throw root.wrongType(expected: "an object") }

        let modelField = try root.requiredMember("model")
        let modelType = try modelField.requiredMember("type").string()
        var builder = VocabularyBuilder()
        for (key, idField) in try modelField.requiredMember("vocab").members() {
            builder.insert(key, id: try checkedID(idField))
        }
        let model: TokenizerModel
        switch modelType {
        case "WordPiece":
            model = .wordPiece(try readWordPiece(modelField, vocabulary: builder.vocabulary))
        case "BPE":
            model = .bpe(try readBPE(modelField, vocabulary: builder.vocabulary))
        default:
            throw TokenizerError.unsupported(file: file, field: "model.type", found: "\"\(modelType)\"",
                                             supported: "WordPiece, BPE")
        }

        let normalizer = TextNormalizer(steps: try readNormalizer(root.optionalMember("normalizer")))
        let preTokenizer = try readPreTokenizer(root.optionalMember("pre_tokenizer"))
        let (prefix, suffix) = try readPostProcessor(root.optionalMember("post_processor"))

        if let addedTokens = try root.optionalMember("added_tokens") {
            for entry in try addedTokens.array() {
                _ = try checkedID(entry.requiredMember("id"))
                let special = try entry.flag("special", default: false)
                builder.add(AddedToken(
                    id: -1,
                    content: try entry.requiredMember("content").string(),
                    singleWord: try entry.flag("single_word", default: false),
                    leftStrip: try entry.flag("lstrip", default: false),
                    rightStrip: try entry.flag("rstrip", default: false),
                    normalized: try entry.flag("normalized", default: !special)))
            }
        }
        for id in prefix + suffix where id > builder.largestID {
            builder.largestID = id
        }
        let splitters = builder.splitters(normalizer: normalizer)
        return PipelineTokenizer(
            rawAddedTokens: splitters.raw, normalizedAddedTokens: splitters.normalized,
            normalizer: normalizer, preTokenizer: preTokenizer, model: model,
            prefixIDs: prefix, suffixIDs: suffix, tokenTexts: builder.tokenTexts,
            vocabularySize: builder.largestID + 1)
    }

    static func readWordPiece(_ field: JSONField, vocabulary: [TokenBytes: Int]) throws -> WordPieceModel {
        let unknown = try field.optionalMember("unk_token")?.string() ?? "[UNK]"
        guard let unknownID = vocabulary[Array(unknown.utf8)] else {
            throw TokenizerError.tokenNotInVocabulary(file: field.file, field: "model.unk_token", token: unknown)
        }
        let prefix = try field.optionalMember("continuing_subword_prefix")?.string() ?? "##"
        var maximumLength = 100
        if let lengthField = try field.optionalMember("max_input_chars_per_word") {
            maximumLength = try lengthField.integer()
            guard maximumLength >= 0 else {
                throw TokenizerError.invalidValue(file: field.file, field: lengthField.path,
                                                  expected: "a non-negative integer", found: "\(maximumLength)")
            }
        }
        return WordPieceModel(vocabulary: vocabulary, unknownID: unknownID, continuingPrefix: Array(prefix.utf8),
                              maximumWordLength: maximumLength)
    }

    static func readBPE(_ field: JSONField, vocabulary: [TokenBytes: Int]) throws -> BPEModel {
        let file = field.file
        if let dropout = try field.optionalMember("dropout") {
            let value = try dropout.double()
            guard value == 0 else {
                throw TokenizerError.unsupported(file: file, field: "model.dropout", found: "\(value)",
                                                 supported: "null or 0, deterministic merges")
            }
        }
        var unknownID: Int?
        if let unknown = try field.optionalMember("unk_token")?.string() {
            guard let id = vocabulary[Array(unknown.utf8)] else {
                throw TokenizerError.tokenNotInVocabulary(file: file, field: "model.unk_token", token: unknown)
            }
            unknownID = id
        }
        let prefix = try field.optionalMember("continuing_subword_prefix")?.string()
        let suffix = try field.optionalMember("end_of_word_suffix")?.string()
        let prefixBytes = prefix.map { Array($0.utf8) }

        var merges: [UInt64: BPEModel.Merge] = [:]
        var rank: Int32 = 0
        for entry in try field.requiredMember("merges").array() {
            let left: String
            let right: String
            switch entry.value {
            case let .string(line):
                // The legacy text format; `tokenizers` skips a "#version" header line.
                if line.hasPrefix("#version") { continue }
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.invalidValue(file: file, field: entry.path,
                                                      expected: "two tokens separated by one space",
                                                      found: "\"\(line)\"")
                }
                (left, right) = (String(parts[0]), String(parts[1]))
            case .array:
                let pair = try entry.array()
                guard pair.count == 2 else {
                    throw TokenizerError.invalidValue(file: file, field: entry.path,
                                                      expected: "a pair of tokens", found: "\(pair.count) elements")
                }
                (left, right) = (try pair[0].string(), try pair[1].string())
            default:
                throw entry.wrongType(expected: "a string \"a b\" or a pair [\"a\", \"b\"]")
            }
            guard let leftID = vocabulary[Array(left.utf8)] else {
                throw TokenizerError.tokenNotInVocabulary(file: file, field: entry.path, token: left)
            }
            guard let rightID = vocabulary[Array(right.utf8)] else {
                throw TokenizerError.tokenNotInVocabulary(file: file, field: entry.path, token: right)
            }
            // The merged token drops the right part's continuation prefix.
            var rightBytes = Array(right.utf8)
            if let prefixBytes {
                guard rightBytes.starts(with: prefixBytes) else {
                    throw TokenizerError.invalidValue(file: file, field: entry.path,
                                                      expected: "a right part starting with \"\(prefix!)\"",
                                                      found: "\"\(right)\"")
                }
                rightBytes.removeFirst(prefixBytes.count)
            }
            let mergedBytes = Array(left.utf8) + rightBytes
            guard let newID = vocabulary[mergedBytes] else {
                throw TokenizerError.tokenNotInVocabulary(file: file, field: entry.path,
                                                          token: String(decoding: mergedBytes, as: UTF8.self))
            }
            // A repeated pair keeps its last rank, as the map `tokenizers` builds does.
            merges[BPEModel.pairKey(Int32(leftID), Int32(rightID))] = .init(rank: rank, newID: Int32(newID))
            guard rank < Int32.max else {
                throw TokenizerError.invalidValue(file: file, field: "model.merges", expected: "fewer merges",
                                                  found: "more than \(Int32.max)")
            }
            rank += 1
        }
        return BPEModel(
            vocabulary: vocabulary, merges: merges, unknownID: unknownID,
            continuingPrefix: prefixBytes, endOfWordSuffix: suffix.map { Array($0.utf8) },
            fuseUnknown: try field.flag("fuse_unk", default: false),
            byteFallback: try field.flag("byte_fallback", default: false),
            ignoreMerges: try field.flag("ignore_merges", default: false))
    }

    static let supportedNormalizers = "BertNormalizer, NFD, NFC, Lowercase, StripAccents, Sequence of these"

    static func readNormalizer(_ field: JSONField?) throws -> [NormalizerStep] {
        guard let field else { return [] }
        let typeField = try field.requiredMember("type")
        let type = try typeField.string()
        switch type {
        case "BertNormalizer":
            return TextNormalizer.bert(
                cleanText: try field.flag("clean_text", default: true),
                handleChineseCharacters: try field.flag("handle_chinese_chars", default: true),
                stripAccents: try field.optionalMember("strip_accents")?.bool(),
                lowercase: try field.flag("lowercase", default: true)).steps
        case "NFD":
            return [.decompose]
        case "NFC":
            return [.compose]
        case "Lowercase":
            return [.lowercase]
        case "StripAccents":
            return [.stripMarks]
        case "Sequence":
            return try field.requiredMember("normalizers").array().flatMap { try readNormalizer($0) }
        default:
            throw TokenizerError.unsupported(file: field.file, field: typeField.path, found: "\"\(type)\"",
                                             supported: supportedNormalizers)
        }
    }

    static func readPreTokenizer(_ field: JSONField?) throws -> PreTokenizer {
        guard let field else { return .none }
        let typeField = try field.requiredMember("type")
        let type = try typeField.string()
        switch type {
        case "BertPreTokenizer":
            return .bert
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try field.flag("add_prefix_space", default: true),
                              useRegex: try field.flag("use_regex", default: true))
        case "Split":
            return try readSplit(field)
        case "Sequence":
            return .sequence(try field.requiredMember("pretokenizers").array().map { try readPreTokenizer($0) })
        default:
            throw TokenizerError.unsupported(file: field.file, field: typeField.path, found: "\"\(type)\"",
                                             supported: "BertPreTokenizer, ByteLevel, Split, Sequence of these")
        }
    }

    /// `Split` with one of the regexes qkv implements, isolating each match.
    static func readSplit(_ field: JSONField) throws -> PreTokenizer {
        let patternField = try field.requiredMember("pattern")
        guard let regexField = try patternField.member("Regex") else {
            throw TokenizerError.unsupported(file: field.file, field: patternField.path, found: "a string pattern",
                                             supported: "a Regex pattern")
        }
        let regex = try regexField.string()
        guard let pattern = SplitPattern(regex: regex) else {
            throw TokenizerError.unsupported(file: field.file, field: regexField.path, found: jsonQuoted(regex),
                                             supported: "the GPT-2, Llama 3 and Qwen2 patterns")
        }
        let behaviorField = try field.requiredMember("behavior")
        let behavior = try behaviorField.string()
        guard behavior == "Isolated" else {
            throw TokenizerError.unsupported(file: field.file, field: behaviorField.path, found: "\"\(behavior)\"",
                                             supported: "Isolated")
        }
        if try field.flag("invert", default: false) {
            throw TokenizerError.unsupported(file: field.file, field: "\(field.path).invert", found: "true", supported: "false")
        }
        return .split(pattern)
    }

    /// The ids a post-processor puts before and after a single sequence.
    static func readPostProcessor(_ field: JSONField?) throws -> (prefix: [Int], suffix: [Int]) {
        guard let field else { return ([], []) }
        let typeField = try field.requiredMember("type")
        let type = try typeField.string()
        switch type {
        case "ByteLevel":
            return ([], [])
        case "BertProcessing", "RobertaProcessing":
            let cls = try readTokenPair(field.requiredMember("cls"))
            let sep = try readTokenPair(field.requiredMember("sep"))
            return ([cls], [sep])
        case "TemplateProcessing":
            return try readTemplate(field)
        case "Sequence":
            // Each processor wraps the result of the previous one.
            var prefix: [Int] = []
            var suffix: [Int] = []
            for processor in try field.requiredMember("processors").array() {
                let (innerPrefix, innerSuffix) = try readPostProcessor(processor.isNull ? nil : processor)
                prefix = innerPrefix + prefix
                suffix += innerSuffix
            }
            return (prefix, suffix)
        default:
            throw TokenizerError.unsupported(
                file: field.file, field: typeField.path, found: "\"\(type)\"",
                supported: "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence of these")
        }
    }

    /// `["[CLS]", 101]` → 101.
    static func readTokenPair(_ field: JSONField) throws -> Int {
        let pair = try field.array()
        guard pair.count == 2 else {
            throw TokenizerError.invalidValue(file: field.file, field: field.path,
                                              expected: "a [token, id] pair", found: "\(pair.count) elements")
        }
        _ = try pair[0].string()
        return try checkedID(pair[1])
    }

    static func readTemplate(_ field: JSONField) throws -> (prefix: [Int], suffix: [Int]) {
        let specialTokens = try field.optionalMember("special_tokens")
        var prefix: [Int] = []
        var suffix: [Int] = []
        var sawSequence = false
        for item in try field.requiredMember("single").array() {
            if let sequence = try item.member("Sequence") {
                let idField = try sequence.requiredMember("id")
                let id = try idField.string()
                guard id == "A", !sawSequence else {
                    throw TokenizerError.invalidValue(file: field.file, field: idField.path,
                                                      expected: "one sequence \"A\" in the single template",
                                                      found: "\"\(id)\"")
                }
                sawSequence = true
            } else if let special = try item.member("SpecialToken") {
                let nameField = try special.requiredMember("id")
                let name = try nameField.string()
                guard let entry = try specialTokens?.member(name) else {
                    throw TokenizerError.invalidValue(file: field.file, field: nameField.path,
                                                      expected: "a token listed in special_tokens",
                                                      found: "\"\(name)\"")
                }
                let ids = try entry.requiredMember("ids").array().map(checkedID)
                if sawSequence { suffix += ids } else { prefix += ids }
            } else {
                throw item.wrongType(expected: "an object with \"Sequence\" or \"SpecialToken\"")
            }
        }
        guard sawSequence else {
            throw TokenizerError.invalidValue(file: field.file, field: "\(field.path).single",
                                              expected: "a template containing the sequence \"A\"",
                                              found: "none")
        }
        return (prefix, suffix)
    }
}

/// Reads a BERT `vocab.txt` plus the options of `tokenizer_config.json`.
private enum WordPieceVocabularyReader {
    static func read(_ bytes: [UInt8], file: String, config: JSONField?) throws -> PipelineTokenizer {
        if let offset = bytes.withUnsafeBytes(firstInvalidUTF8) {
            throw TokenizerError.invalidUTF8(file: file, offset: offset)
        }
        var builder = VocabularyBuilder()
        // Python's universal newlines: "\n", "\r\n" and "\r" all end a line; a later duplicate
        // line takes over the token's id, as `load_vocab` does.
        var line: [UInt8] = []
        var index = 0
        var utf8 = bytes.makeIterator()
        var pendingCarriageReturn = false
        func finishLine() {
            builder.insert(String(decoding: line, as: UTF8.self), id: index)
            index += 1
            line.removeAll(keepingCapacity: true)
        }
        while let byte = utf8.next() {
            if pendingCarriageReturn {
                pendingCarriageReturn = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A: finishLine()
            case 0x0D: finishLine(); pendingCarriageReturn = true
            default: line.append(byte)
            }
        }
        if !line.isEmpty { finishLine() }

        let configFile = config?.file ?? "tokenizer_config.json"
        let lowercase = try config?.flag("do_lower_case", default: true) ?? true
        let stripAccents = try config?.optionalMember("strip_accents")?.bool()
        let chinese = try config?.flag("tokenize_chinese_chars", default: true) ?? true
        let normalizer = TextNormalizer.bert(cleanText: true, handleChineseCharacters: chinese,
                                             stripAccents: stripAccents, lowercase: lowercase)

        if let decoder = try config?.optionalMember("added_tokens_decoder") {
            for (key, entry) in try decoder.members() {
                guard Int(key) != nil else {
                    throw TokenizerError.invalidValue(file: configFile, field: entry.path,
                                                      expected: "an integer id as key", found: "\"\(key)\"")
                }
                let special = try entry.flag("special", default: false)
                builder.add(AddedToken(
                    id: -1, content: try entry.requiredMember("content").string(),
                    singleWord: try entry.flag("single_word", default: false),
                    leftStrip: try entry.flag("lstrip", default: false),
                    rightStrip: try entry.flag("rstrip", default: false),
                    normalized: try entry.flag("normalized", default: !special)))
            }
        }
        var specialIDs: [String: Int] = [:]
        for (role, fallback) in [("unk_token", "[UNK]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"),
                                 ("cls_token", "[CLS]"), ("mask_token", "[MASK]")]
        {
            let content = try specialTokenContent(config, role) ?? fallback
            guard let id = builder.vocabulary[Array(content.utf8)] else {
                if role == "pad_token" || role == "mask_token" { continue }
                throw TokenizerError.tokenNotInVocabulary(file: file, field: role, token: content)
            }
            specialIDs[role] = id
            builder.add(AddedToken(id: id, content: content, normalized: false))
        }
        let model = WordPieceModel(vocabulary: builder.vocabulary, unknownID: specialIDs["unk_token"]!,
                                   continuingPrefix: Array("##".utf8), maximumWordLength: 100)
        let splitters = builder.splitters(normalizer: normalizer)
        return PipelineTokenizer(
            rawAddedTokens: splitters.raw, normalizedAddedTokens: splitters.normalized,
            normalizer: normalizer, preTokenizer: .bert, model: .wordPiece(model),
            prefixIDs: [specialIDs["cls_token"]!], suffixIDs: [specialIDs["sep_token"]!],
            tokenTexts: builder.tokenTexts, vocabularySize: builder.largestID + 1)
    }

    /// A special token given as a string or as a serialized `AddedToken` object.
    static func specialTokenContent(_ config: JSONField?, _ role: String) throws -> String? {
        guard let field = try config?.optionalMember(role) else { return nil }
        if case .object = field.value {
            return try field.requiredMember("content").string()
        }
        return try field.string()
    }
}
