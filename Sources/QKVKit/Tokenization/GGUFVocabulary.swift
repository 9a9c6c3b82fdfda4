/// What llama.cpp knows about one token besides its text (`llama_token_attr`).
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let normal = TokenAttributes(rawValue: 1 << 0)
    static let unknown = TokenAttributes(rawValue: 1 << 1)
    static let control = TokenAttributes(rawValue: 1 << 2)
    static let userDefined = TokenAttributes(rawValue: 1 << 3)
    static let unused = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    /// Whitespace before / after a match of this special token is swallowed.
    static let leftStrip = TokenAttributes(rawValue: 1 << 6)
    static let rightStrip = TokenAttributes(rawValue: 1 << 7)

    /// Tokens matched in the raw text before the model's algorithm sees it.
    static let special: TokenAttributes = [.control, .userDefined, .unknown]

    /// `tokenizer.ggml.token_type` (gguf-py's `TokenType`): 1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte; 0 is llama.cpp's "undefined" (no attribute).
    init?(tokenType: Int64) {
        switch tokenType {
        case 0: self = []
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: return nil
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

/// The tokenizer metadata of a GGUF file, checked and completed the way llama.cpp's
/// `llama_vocab::impl::load` completes it (default ids and flags per model, special-token
/// attributes it infers from token texts).
///
/// Where llama.cpp shrugs at broken metadata (warns and disables an out-of-range special id, turns
/// an unknown token type into "undefined", keeps a merge of unknown tokens that can never apply)
/// this reader refuses the file with an error that names the key and the index: a tokenizer that
/// silently differs from its file is worse than none.
struct GGUFVocabulary: Sendable {
    enum Model: Sendable {
        /// `llama`: SentencePiece pieces merged by score, with byte fallback.
        case sentencePiece
        /// `gpt2`: byte-level BPE with ranked merges after a pre-tokenizer.
        case bytePair(LlamaCppPreTokenizer)
        /// `bert`: WordPiece over a vocabulary whose word-initial pieces start with ▁.
        case wordPiece
    }

    static let supportedModels = "llama, gpt2, bert"

    var model: Model
    var table: TokenTable
    var attributes: [TokenAttributes]
    /// SentencePiece scores (0 for every token when the model does not use them).
    var scores: [Float]
    /// BPE merges: `pairKey(left, right)` → rank in the high half, merged id in the low half.
    var merges: [UInt64: UInt64] = [:]
    var bos: Int?
    var eos: Int?
    var unknown: Int?
    var separator: Int?
    var addBOS: Bool
    var addEOS: Bool
    var addSpacePrefix: Bool
    /// WordPiece normalization.
    var lowercase = true
    var stripAccents = true
    /// Special tokens (control, user-defined, unknown), longest text first: the order llama.cpp
    /// matches them in the raw text.
    var specialTokens: [Int] = []

    var count: Int { table.count }

    static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    init(header: GGUFHeader) throws(QKVError) {
        let metadata = TokenizerMetadata(header: header)
        guard let modelName = try metadata.string("tokenizer.ggml.model") else {
            throw .missingMetadata(key: "tokenizer.ggml.model")
        }
        switch modelName {
        case "llama":
            model = .sentencePiece
            // llama.cpp's defaults for SentencePiece vocabularies: <unk> <s> </s> are 0, 1, 2.
            (bos, eos, unknown, separator) = (1, 2, 0, nil)
            (addBOS, addEOS, addSpacePrefix) = (true, false, true)
        case "gpt2":
            // No (or an empty) pre key: llama.cpp warns and uses its "default" regexes. An unknown
            // one it refuses, and so does qkv, listing what it supports.
            let pre = try metadata.string("tokenizer.ggml.pre") ?? ""
            guard let family = LlamaCppPreTokenizer.familiesByName[pre.isEmpty ? "default" : pre] else {
                throw .invalidMetadataValue(key: "tokenizer.ggml.pre",
                                            expected: "a supported pre-tokenizer (\(LlamaCppPreTokenizer.supportedNames))",
                                            found: jsonQuoted(pre))
            }
            model = .bytePair(LlamaCppPreTokenizer(family: family))
            (bos, eos, unknown, separator) = (11, 11, nil, nil)
            (addBOS, addEOS, addSpacePrefix) = (false, false, false)
        case "bert":
            model = .wordPiece
            // BERT's [UNK] [CLS] [SEP]; llama.cpp's BOS plays [CLS].
            (bos, eos, unknown, separator) = (101, nil, 100, 102)
            (addBOS, addEOS, addSpacePrefix) = (true, false, false)
        default:
            throw .invalidMetadataValue(key: "tokenizer.ggml.model", expected: "one of \(Self.supportedModels)",
                                        found: jsonQuoted(modelName))
        }

        (table, attributes, scores) = try Self.readTokens(metadata, usesScores: modelName == "llama")
        let count = table.count
        // A default id the vocabulary is too small for is disabled, as in llama.cpp.
        for id in [\GGUFVocabulary.bos, \.eos, \.unknown, \.separator] where (self[keyPath: id] ?? 0) >= count {
            self[keyPath: id] = nil
        }
        if let id = try metadata.tokenID("tokenizer.ggml.bos_token_id", count: count) { bos = id }
        if let id = try metadata.tokenID("tokenizer.ggml.eos_token_id", count: count) { eos = id }
        if let id = try metadata.tokenID("tokenizer.ggml.unknown_token_id", count: count) { unknown = id }
        // "seperator" is the key's spelling in llama.cpp and gguf-py.
        if let id = try metadata.tokenID("tokenizer.ggml.seperator_token_id", count: count) { separator = id }
        _ = try metadata.tokenID("tokenizer.ggml.padding_token_id", count: count)
        _ = try metadata.tokenID("tokenizer.ggml.mask_token_id", count: count)
        if let flag = try metadata.bool("tokenizer.ggml.add_bos_token") { addBOS = flag }
        if let flag = try metadata.bool("tokenizer.ggml.add_eos_token") { addEOS = flag }
        if let flag = try metadata.bool("tokenizer.ggml.add_space_prefix") { addSpacePrefix = flag }
        if let flag = try metadata.bool("tokenizer.ggml.normalizer.lowercase") { lowercase = flag }
        stripAccents = lowercase
        if let flag = try metadata.bool("tokenizer.ggml.normalizer.strip_accents") { stripAccents = flag }

        // llama.cpp asserts on these ids when it adds them; here the file is refused up front.
        switch model {
        case .wordPiece:
            if bos == nil { throw .missingMetadata(key: "tokenizer.ggml.bos_token_id") }
            if separator == nil { throw .missingMetadata(key: "tokenizer.ggml.seperator_token_id") }
        case .sentencePiece, .bytePair:
            if addBOS && bos == nil { throw .missingMetadata(key: "tokenizer.ggml.bos_token_id") }
            if addEOS && eos == nil { throw .missingMetadata(key: "tokenizer.ggml.eos_token_id") }
        }

        if case .bytePair = model {
            merges = try Self.readMerges(metadata, table: table)
        }
        try inferSpecialAttributes(metadata)
        specialTokens = (0..<count).filter { !attributes[$0].isDisjoint(with: .special) }
            .sorted { table.byteCount($0) != table.byteCount($1) ? table.byteCount($0) > table.byteCount($1) : $0 < $1 }
    }

    private static func readTokens(_ metadata: TokenizerMetadata, usesScores: Bool) throws(QKVError)
        -> (TokenTable, [TokenAttributes], [Float])
    {
        let tokensKey = "tokenizer.ggml.tokens"
        guard let value = metadata.value(tokensKey) else { throw .missingMetadata(key: tokensKey) }
        guard case let .array(.string(tokens)) = value else {
            throw .wrongMetadataType(key: tokensKey, expected: "array of string", found: value.typeName)
        }
        guard !tokens.isEmpty else {
            throw .invalidMetadataValue(key: tokensKey, expected: "at least one token", found: "an empty array")
        }
        // Ids are Int32 in llama.cpp and in the merge keys here.
        guard tokens.count < Int(Int32.max) else {
            throw .invalidMetadataValue(key: tokensKey, expected: "fewer than \(Int32.max) tokens", found: "\(tokens.count)")
        }
        var table = TokenTable(expectedCount: tokens.count, expectedBytes: tokens.reduce(0) { $0 + $1.utf8.count })
        for (index, token) in tokens.enumerated() {
            // llama.cpp names an empty token "[EMPTY_i]" rather than refusing the file.
            let text = token.isEmpty ? "[EMPTY_\(index)]" : token
            // Two ids with one text cannot both be produced; llama.cpp aborts on this file.
            if let first = table.append(text.utf8) {
                throw .invalidMetadataValue(key: "\(tokensKey)[\(index)]", expected: "a token not listed before",
                                            found: "\(jsonQuoted(text)), already token \(first)")
            }
        }

        var attributes = [TokenAttributes](repeating: .normal, count: tokens.count)
        let typesKey = "tokenizer.ggml.token_type"
        if let value = metadata.value(typesKey) {
            guard case let .array(array) = value, let types = array.integers else {
                throw .wrongMetadataType(key: typesKey, expected: "array of i32", found: value.typeName)
            }
            guard types.count == tokens.count else {
                throw .invalidMetadataValue(key: typesKey, expected: "\(tokens.count) entries (one per token)",
                                            found: "\(types.count)")
            }
            for (index, type) in types.enumerated() {
                guard let attribute = TokenAttributes(tokenType: type) else {
                    throw .invalidMetadataValue(key: "\(typesKey)[\(index)]", expected: "a token type 0...6", found: "\(type)")
                }
                attributes[index] = attribute
            }
        }

        var scores = [Float](repeating: 0, count: tokens.count)
        let scoresKey = "tokenizer.ggml.scores"
        if let value = metadata.value(scoresKey) {
            switch value {
            case let .array(.float32(values)): scores = values
            case let .array(.int32(values)): scores = values.map(Float.init)
            default: throw .wrongMetadataType(key: scoresKey, expected: "array of f32", found: value.typeName)
            }
            guard scores.count == tokens.count else {
                throw .invalidMetadataValue(key: scoresKey, expected: "\(tokens.count) entries (one per token)",
                                            found: "\(scores.count)")
            }
            // NaN has no order, and SentencePiece merging sorts by score.
            if let bad = scores.firstIndex(where: \.isNaN) {
                throw .invalidMetadataValue(key: "\(scoresKey)[\(bad)]", expected: "a number", found: "NaN")
            }
        } else if usesScores {
            // Without scores every merge ties and SentencePiece degenerates to left-to-right pairing.
            throw .missingMetadata(key: scoresKey)
        }
        return (table, attributes, scores)
    }

    /// Merges are "left right" with the split at the first space after the first byte, as in
    /// llama.cpp; a repeated pair keeps its first rank (`emplace`). Both parts and their
    /// concatenation must be tokens: that is what lets BPE work on ids instead of strings.
    private static func readMerges(_ metadata: TokenizerMetadata, table: TokenTable) throws(QKVError) -> [UInt64: UInt64] {
        let key = "tokenizer.ggml.merges"
        guard let value = metadata.value(key) else { throw .missingMetadata(key: key) }
        guard case let .array(.string(lines)) = value else {
            throw .wrongMetadataType(key: key, expected: "array of string", found: value.typeName)
        }
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(lines.count)
        for (rank, line) in lines.enumerated() {
            var utf8 = Array(line.utf8)
            guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else {
                throw .invalidMetadataValue(key: "\(key)[\(rank)]", expected: "two tokens separated by a space",
                                            found: jsonQuoted(line))
            }
            let left = utf8[..<space]
            let right = utf8[(space + 1)...]
            guard let leftID = table.id(of: left) else {
                throw .invalidMetadataValue(key: "\(key)[\(rank)]", expected: "a merge of two tokens of the vocabulary",
                                            found: "\(jsonQuoted(line)): \(jsonQuoted(String(decoding: left, as: UTF8.self))) is not a token")
            }
            guard let rightID = table.id(of: right) else {
                throw .invalidMetadataValue(key: "\(key)[\(rank)]", expected: "a merge of two tokens of the vocabulary",
                                            found: "\(jsonQuoted(line)): \(jsonQuoted(String(decoding: right, as: UTF8.self))) is not a token")
            }
            guard let mergedID = table.id(of: left, then: right) else {
                utf8.remove(at: space)
                throw .invalidMetadataValue(key: "\(key)[\(rank)]", expected: "a merge whose result is a token",
                                            found: "\(jsonQuoted(line)): \(jsonQuoted(String(decoding: utf8, as: UTF8.self))) is not a token")
            }
            let pair = pairKey(leftID, rightID)
            if merges[pair] == nil {
                merges[pair] = UInt64(rank) << 32 | UInt64(mergedID)
            }
        }
        return merges
    }

    /// llama.cpp's load-time inference of special tokens from their texts (the end-of-turn,
    /// fill-in-the-middle and end-of-generation lists, and its workarounds for gpt-oss, o200k
    /// and Gemma/PLaMo vocabularies). It decides which tokens are control tokens, and so which
    /// texts are matched as special tokens.
    private mutating func inferSpecialAttributes(_ metadata: TokenizerMetadata) throws(QKVError) {
        let count = table.count
        func id(_ text: String) -> Int? { table.id(of: text) }
        func markControl(_ id: Int) { attributes[id].insert(.control) }

        // Each category is searched only when its id is not in the metadata. llama.cpp walks a
        // hash map and takes the first text it meets; with two candidates of one category the
        // lowest id is taken here (no real vocabulary has two).
        func detect(_ keys: [String], _ texts: [String]) throws(QKVError) -> Int? {
            var found: Int?
            for key in keys {
                if let id = try metadata.tokenID(key, count: count) { found = id }
            }
            if let found { return found }
            guard let detected = texts.compactMap(id).min() else { return nil }
            markControl(detected)
            return detected
        }
        let endOfTurn = try detect(["tokenizer.ggml.eot_token_id"], [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
            "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
        ])
        let endOfMessage = try detect(["tokenizer.ggml.eom_token_id"], ["<|eom_id|>"])
        _ = try detect(["tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"], [
            "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
            "<|prefix|>",
        ])
        _ = try detect(["tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"], [
            "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
            "<|suffix|>",
        ])
        _ = try detect(["tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"], [
            "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
            "<|middle|>",
        ])
        let fimPad = try detect(["tokenizer.ggml.fim_pad_token_id"], ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"])
        let fimRepo = try detect(["tokenizer.ggml.fim_rep_token_id"], [
            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
        ])
        let fimSeparator = try detect(["tokenizer.ggml.fim_sep_token_id"], ["<|file_sep|>"])

        // Every end-of-generation text becomes a control token.
        var endOfGeneration = Set([fimPad, fimRepo, fimSeparator, eos, endOfTurn, endOfMessage].compactMap { $0 })
        for text in [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
            "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
            "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
        ] {
            if let id = id(text) {
                endOfGeneration.insert(id)
                markControl(id)
            }
        }
        // gpt-oss: these are always rendered, so llama.cpp makes them plain user-defined tokens.
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let id = id(text) { attributes[id] = .userDefined }
        }
        // o200k_harmony and solar-open: "<|end|>" is not an end of generation when "<|return|>"
        // and "<|call|>" (or "<|calls|>" and "<|flush|>") are, and becomes user-defined.
        let generationTexts = Set(endOfGeneration.map { String(decoding: table.token($0), as: UTF8.self) })
        let hasCall = generationTexts.contains("<|call|>") || generationTexts.contains("<|calls|>")
        if let end = id("<|end|>"), endOfGeneration.contains(end), hasCall,
           generationTexts.contains("<|return|>") || generationTexts.contains("<|flush|>")
        {
            attributes[end] = .userDefined
        }
        // Gemma 4 and PLaMo: "</s>" is an ordinary token there.
        if let closing = id("</s>"), endOfGeneration.contains(closing),
           generationTexts.contains("<|tool_response>") || generationTexts.contains("<|plamo:eos|>")
        {
            attributes[closing] = .normal
        }

        // Whitespace stripping around some special tokens, chosen by model name as llama.cpp does.
        let name = (try metadata.string("general.name") ?? "").lowercased()
        let architecture = try metadata.string("general.architecture") ?? ""
        if architecture.contains("nomic-bert-moe") || architecture.contains("jina-bert-v3") {
            if let mask = id("<mask>") { attributes[mask].insert(.leftStrip) }
        } else if name.contains("phi-3") || name.contains("phi3") {
            for special in 0..<count where !attributes[special].isDisjoint(with: .special) {
                attributes[special].insert(.rightStrip)
            }
            if let closing = id("</s>") { attributes[closing].insert(.rightStrip) }
            for text in ["<unk>", "<s>", "<|endoftext|>"] {
                if let token = id(text) { attributes[token].remove(.rightStrip) }
            }
        } else if name.contains("modern-bert") {
            if let mask = id("[MASK]") { attributes[mask].insert(.leftStrip) }
        }
    }
}

/// Typed access to GGUF metadata that names the key in every error.
private struct TokenizerMetadata {
    let header: GGUFHeader

    func value(_ key: String) -> GGUFValue? { header.value(key) }

    func string(_ key: String) throws(QKVError) -> String? {
        guard let value = value(key) else { return nil }
        guard case let .string(text) = value else {
            throw .wrongMetadataType(key: key, expected: "string", found: value.typeName)
        }
        return text
    }

    func bool(_ key: String) throws(QKVError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case let .bool(flag) = value else {
            throw .wrongMetadataType(key: key, expected: "bool", found: value.typeName)
        }
        return flag
    }

    /// A special token id: any integer type, and an id of the vocabulary.
    func tokenID(_ key: String, count: Int) throws(QKVError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let id = value.integer else {
            throw .wrongMetadataType(key: key, expected: "u32", found: value.typeName)
        }
        guard id >= 0 && id < Int64(count) else {
            throw .invalidMetadataValue(key: key, expected: "a token id in 0..<\(count)", found: "\(id)")
        }
        return Int(id)
    }
}
