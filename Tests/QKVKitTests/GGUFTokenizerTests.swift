import Foundation
import Testing
@testable import QKVKit

/// The hard strings of `scripts/make_gguf_tokenizer_goldens.py`, in order.
let ggufCorpus: [String] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixturePath("gguf/corpus.json")))
    return try! JSONDecoder().decode([String].self, from: data)
}()

/// llama.cpp's ids for every corpus string in each mode ("add-parse", "noadd-noparse", …).
func ggufGoldens(_ path: String) throws -> [String: [[Int]]] {
    try JSONDecoder().decode([String: [[Int]]].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
}

func ggufTokenizer(path: String) throws -> GGUFTokenizer {
    let file = try InputFile(path: path)
    // The header reads the mapping, so the file must outlive the parse.
    return try withExtendedLifetime(file) { try GGUFTokenizerLoader.load(from: try GGUFHeader(try file.mapped())) }
}

/// Compares every corpus string in every mode; reports the first differences readably.
func expectGoldens(_ tokenizer: GGUFTokenizer, _ goldens: [String: [[Int]]], label: String) throws {
    #expect(goldens.count == 4)
    var mismatches: [String] = []
    var compared = 0
    for (mode, expected) in goldens.sorted(by: { $0.key < $1.key }) {
        let addSpecial = mode.hasPrefix("add-")
        let parseSpecial = mode.hasSuffix("-parse")
        try #require(expected.count == ggufCorpus.count, "\(label) \(mode): \(expected.count) goldens for \(ggufCorpus.count) strings")
        for (index, text) in ggufCorpus.enumerated() {
            let ids = try tokenizer.encode(text, addSpecialTokens: addSpecial, parseSpecialTokens: parseSpecial)
            compared += 1
            if ids != expected[index] {
                mismatches.append("\(mode) #\(index) \(visibleString(text)): got \(ids), llama.cpp \(expected[index])")
            }
        }
    }
    #expect(mismatches.isEmpty, "\(label): \(mismatches.count) of \(compared) differ:\n\(mismatches.prefix(8).joined(separator: "\n"))")
}

/// Control characters and invisible code points as escapes, for failure messages.
func visibleString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars.prefix(60) {
        if scalar.value < 0x20 || (0x7F...0xA0).contains(scalar.value) || scalar.properties.generalCategory == .format {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out + (text.unicodeScalars.count > 60 ? "…\"" : "\"")
}

@Suite struct GGUFTokenizerTests {
    static let vocabularies = [
        "bpe-default", "bpe-gpt-2", "bpe-llama-bpe", "bpe-qwen2", "bpe-smollm", "bpe-deepseek-llm", "bpe-deepseek-coder",
        "bpe-falcon", "bpe-starcoder", "bpe-refact", "bpe-mpt", "bpe-command-r", "bpe-gpt-2-no-4-byte-leads",
        "spm-bpe", "spm-bpe-noprefix", "spm-unigram", "spm-bpe-phi3", "bert-minilm", "bert-cased", "bert-keep-accents",
    ]

    @Test("every corpus string in all four modes equals llama.cpp", arguments: vocabularies)
    func matchesLlamaCpp(vocabulary: String) throws {
        let tokenizer = try ggufTokenizer(path: fixturePath("gguf/vocab/\(vocabulary).gguf"))
        try expectGoldens(tokenizer, try ggufGoldens(fixturePath("gguf/vocab/\(vocabulary).ids.json")), label: vocabulary)
    }

    @Test("the real SmolLM2-135M-Instruct file equals llama.cpp on the whole corpus")
    func smolLM2MatchesLlamaCpp() throws {
        let tokenizer = try ggufTokenizer(path: try ModelCache.smolLM2())
        try expectGoldens(tokenizer, try ggufGoldens(fixturePath("gguf/smollm2.ids.json")), label: "SmolLM2")
        // Its add_bos_token is false: no BOS even with the model's defaults.
        #expect(try tokenizer.encode("Hello world") == [19556, 905])
        #expect(tokenizer.vocabularySize == 49152)
    }
}

/// Broken tokenizer metadata: one rule per test, each a `QKVError` naming the key (and index).
@Suite struct HostileGGUFTokenizerTests {
    func expectError(_ expected: QKVError, _ file: TokenizerGGUF, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try file.tokenizer()
            Issue.record("loaded; expected \(expected)", sourceLocation: sourceLocation)
        } catch let error as QKVError {
            #expect(error == expected, sourceLocation: sourceLocation)
            // Every message names the key it is about.
            if case let .invalidMetadataValue(key, _, _) = expected {
                #expect(error.description.contains(key), sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func validVocabulariesLoad() throws {
        let bpe = try TokenizerGGUF.byteLevelBPE().tokenizer()
        #expect(try bpe.encode(" the the") == [261, 261])
        #expect(try bpe.encode("<|im_start|> the", addSpecialTokens: false, parseSpecialTokens: true) == [1, 261])
        let spm = try TokenizerGGUF.sentencePiece().tokenizer()
        // BOS by default; "▁ab": ▁a (-1) beats ab (-2), then b alone.
        #expect(try spm.encode("ab") == [1, 262, 261])
    }

    @Test func mergeNamingAnUnknownToken() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.merges"] = .strings(["Ġ t", "h e", "Ġt hex"])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.merges[2]", expected: "a merge of two tokens of the vocabulary",
                                          found: "\"Ġt hex\": \"hex\" is not a token"), file)
        file["tokenizer.ggml.merges"] = .strings(["Ġ t", "zz e"])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.merges[1]", expected: "a merge of two tokens of the vocabulary",
                                          found: "\"zz e\": \"zz\" is not a token"), file)
    }

    @Test func mergeWhoseResultIsNoToken() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.merges"] = .strings(["Ġ t", "t h"])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.merges[1]", expected: "a merge whose result is a token",
                                          found: "\"t h\": \"th\" is not a token"), file)
    }

    @Test func mergeWithoutASpace() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.merges"] = .strings(["Ġ t", "he"])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.merges[1]", expected: "two tokens separated by a space",
                                          found: "\"he\""), file)
        // A space first is not a separator (llama.cpp looks from the second byte on).
        file["tokenizer.ggml.merges"] = .strings([" he"])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.merges[0]", expected: "two tokens separated by a space",
                                          found: "\" he\""), file)
    }

    @Test func mergesMissingOrOfTheWrongType() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.merges"] = nil
        expectError(.missingMetadata(key: "tokenizer.ggml.merges"), file)
        file["tokenizer.ggml.merges"] = .i32s([1, 2])
        expectError(.wrongMetadataType(key: "tokenizer.ggml.merges", expected: "array of string", found: "array of i32"), file)
    }

    @Test func tokenTypesOutOfRange() {
        var file = TokenizerGGUF.byteLevelBPE()
        var types = [Int32](repeating: 1, count: 262)
        types[5] = 7
        file["tokenizer.ggml.token_type"] = .i32s(types)
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.token_type[5]", expected: "a token type 0...6", found: "7"), file)
        types[5] = -1
        file["tokenizer.ggml.token_type"] = .i32s(types)
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.token_type[5]", expected: "a token type 0...6", found: "-1"), file)
    }

    @Test func tokenTypesOfTheWrongLengthOrType() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.token_type"] = .i32s([1, 1, 1])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.token_type", expected: "262 entries (one per token)", found: "3"), file)
        file["tokenizer.ggml.token_type"] = .strings(["normal"])
        expectError(.wrongMetadataType(key: "tokenizer.ggml.token_type", expected: "array of i32", found: "array of string"), file)
    }

    @Test func scoresMissing() {
        var file = TokenizerGGUF.sentencePiece()
        file["tokenizer.ggml.scores"] = nil
        expectError(.missingMetadata(key: "tokenizer.ggml.scores"), file)
    }

    @Test func scoresOfTheWrongLengthTypeOrValue() {
        var file = TokenizerGGUF.sentencePiece()
        file["tokenizer.ggml.scores"] = .f32s([0, 0])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.scores", expected: "264 entries (one per token)", found: "2"), file)
        file["tokenizer.ggml.scores"] = .strings(["0"])
        expectError(.wrongMetadataType(key: "tokenizer.ggml.scores", expected: "array of f32", found: "array of string"), file)
        var scores = [Float](repeating: 0, count: 264)
        scores[9] = .nan
        file["tokenizer.ggml.scores"] = .f32s(scores)
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.scores[9]", expected: "a number", found: "NaN"), file)
    }

    @Test("special token ids out of range", arguments: [
        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
        "tokenizer.ggml.padding_token_id", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.mask_token_id",
        "tokenizer.ggml.eot_token_id", "tokenizer.ggml.fim_pre_token_id",
    ])
    func specialIDsOutOfRange(key: String) {
        var file = TokenizerGGUF.byteLevelBPE()
        file[key] = .u32(262)
        expectError(.invalidMetadataValue(key: key, expected: "a token id in 0..<262", found: "262"), file)
        file[key] = .i32(-1)
        expectError(.invalidMetadataValue(key: key, expected: "a token id in 0..<262", found: "-1"), file)
        file[key] = .string("<s>")
        expectError(.wrongMetadataType(key: key, expected: "u32", found: "string"), file)
    }

    @Test func unknownModel() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.model"] = .string("t5")
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.model", expected: "one of llama, gpt2, bert", found: "\"t5\""), file)
        file["tokenizer.ggml.model"] = nil
        expectError(.missingMetadata(key: "tokenizer.ggml.model"), file)
        file["tokenizer.ggml.model"] = .u32(2)
        expectError(.wrongMetadataType(key: "tokenizer.ggml.model", expected: "string", found: "u32"), file)
    }

    @Test func unknownPreTokenizerListsTheSupportedOnes() throws {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.pre"] = .string("tekken")
        do {
            _ = try file.tokenizer()
            Issue.record("loaded")
        } catch let error as QKVError {
            guard case let .invalidMetadataValue(key, expected, found) = error else { throw error }
            #expect(key == "tokenizer.ggml.pre")
            #expect(found == "\"tekken\"")
            for name in ["default", "gpt-2", "llama-bpe", "qwen2", "smollm", "deepseek-llm", "deepseek-coder", "falcon",
                         "starcoder", "refact", "mpt", "command-r"] {
                #expect(expected.contains(name))
            }
        }
        // No pre key at all, or an empty one: llama.cpp's "default" regexes, as llama.cpp does.
        for pre in [nil, TokenizerGGUF.Value.string("")] {
            file["tokenizer.ggml.pre"] = pre
            let tokenizer = try file.tokenizer()
            guard case let .bytePair(preTokenizer) = tokenizer.vocabulary.model else { throw QKVError.other("not BPE") }
            #expect(preTokenizer.family == .defaultBPE)
            #expect(try tokenizer.encode("x") == [ByteLevelAlphabet.characters.firstIndex(of: "x")! + 3])
        }
    }

    @Test func emptyOrMissingTokenList() {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.tokens"] = .strings([])
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.tokens", expected: "at least one token", found: "an empty array"), file)
        file["tokenizer.ggml.tokens"] = nil
        expectError(.missingMetadata(key: "tokenizer.ggml.tokens"), file)
        file["tokenizer.ggml.tokens"] = .i32s([1])
        expectError(.wrongMetadataType(key: "tokenizer.ggml.tokens", expected: "array of string", found: "array of i32"), file)
    }

    @Test func duplicateTokens() {
        var file = TokenizerGGUF.byteLevelBPE()
        guard case var .strings(tokens)? = file["tokenizer.ggml.tokens"] else { return }
        tokens[261] = "he"
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        expectError(.invalidMetadataValue(key: "tokenizer.ggml.tokens[261]", expected: "a token not listed before",
                                          found: "\"he\", already token 260"), file)
    }

    @Test func emptyTokensAreRenamedAsInLlamaCpp() throws {
        var file = TokenizerGGUF.sentencePiece()
        guard case var .strings(tokens)? = file["tokenizer.ggml.tokens"] else { return }
        tokens[0] = ""
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        #expect(try file.tokenizer().tokenText(0) == "[EMPTY_0]")
    }

    @Test func flagsOfTheWrongType() {
        var file = TokenizerGGUF.sentencePiece()
        file["tokenizer.ggml.add_bos_token"] = .u8(1)
        expectError(.wrongMetadataType(key: "tokenizer.ggml.add_bos_token", expected: "bool", found: "u8"), file)
    }

    @Test func addingATokenTheVocabularyLacks() {
        // Two tokens: llama.cpp's default BOS (1) exists but EOS (2) does not.
        var file = TokenizerGGUF()
        file["tokenizer.ggml.model"] = .string("llama")
        file["tokenizer.ggml.tokens"] = .strings(["<unk>", "<s>"])
        file["tokenizer.ggml.scores"] = .f32s([0, 0])
        file["tokenizer.ggml.add_eos_token"] = .bool(true)
        expectError(.missingMetadata(key: "tokenizer.ggml.eos_token_id"), file)
        file["tokenizer.ggml.model"] = .string("bert")
        file["tokenizer.ggml.add_eos_token"] = nil
        expectError(.missingMetadata(key: "tokenizer.ggml.bos_token_id"), file)
    }

    @Test func noVocabularyIsNoTokenizer() throws {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.model"] = .string("none")
        #expect(!GGUFTokenizerLoader.hasTokenizer(try file.header()))
        #expect(GGUFTokenizerLoader.hasTokenizer(try TokenizerGGUF.byteLevelBPE().header()))
        do {
            _ = try file.tokenizer()
            Issue.record("loaded")
        } catch let error as QKVError {
            guard case .noTokenizer = error else { throw error }
        }
    }

    @Test func textWithoutAnyTokenIsAnErrorNotACrash() throws {
        // SentencePiece without byte tokens: llama.cpp's byte_to_token throws out of the C API.
        var file = TokenizerGGUF()
        file["tokenizer.ggml.model"] = .string("llama")
        file["tokenizer.ggml.tokens"] = .strings(["<unk>", "<s>", "</s>", "▁", "a"])
        file["tokenizer.ggml.scores"] = .f32s([0, 0, 0, 0, 0])
        let spm = try file.tokenizer()
        #expect(try spm.encode("a a") == [1, 3, 4, 3, 4])
        #expect(throws: TokenizerError.noByteToken(piece: "z", byteToken: "<0x7A>")) { try spm.encode("az") }
        // WordPiece with no unknown token in range.
        file["tokenizer.ggml.model"] = .string("bert")
        file["tokenizer.ggml.bos_token_id"] = .u32(1)
        file["tokenizer.ggml.seperator_token_id"] = .u32(2)
        let wpm = try file.tokenizer()
        #expect(try wpm.encode("a") == [1, 3, 4, 2])
        #expect(throws: TokenizerError.unencodable(piece: "b")) { try wpm.encode("a b") }
    }

    /// Random byte flips and truncations of small valid files: every outcome is a thrown error
    /// or a working tokenizer, never a trap.
    @Test func mutatedFilesNeverTrap() throws {
        var generator = SeededGenerator(state: 7)
        let originals = [TokenizerGGUF.byteLevelBPE().bytes(), TokenizerGGUF.sentencePiece().bytes()]
        var loaded = 0
        for round in 0..<400 {
            var bytes = originals[round % 2]
            switch round % 3 {
            case 0:
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &generator))
            default:
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            guard let header = try? bytes.withUnsafeBytes({ try GGUFHeader($0) }),
                  let tokenizer = try? GGUFTokenizerLoader.load(from: header)
            else { continue }
            loaded += 1
            for text in ["", " the the", "<|im_start|>ab a", "ünïcödé 👍 123"] {
                _ = try? tokenizer.encode(text, addSpecialTokens: true, parseSpecialTokens: true)
                _ = try? tokenizer.encode(text, addSpecialTokens: false, parseSpecialTokens: false)
            }
        }
        #expect(loaded > 0)
    }
}

@Suite struct GGUFTokenTextTests {
    @Test func byteTokensAndSpaceMarkersShowAsStored() throws {
        let spm = try ggufTokenizer(path: fixturePath("gguf/vocab/spm-bpe.gguf"))
        let ids = try spm.encode("🦀 the", addSpecialTokens: false)
        #expect(ids.map(spm.tokenText) == ["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x80>", "▁the"])
        #expect(spm.tokenText(1) == "<s>")
        #expect(spm.tokenText(-1) == "<id -1>")
        #expect(spm.tokenText(spm.vocabularySize) == "<id \(spm.vocabularySize)>")

        let bpe = try ggufTokenizer(path: fixturePath("gguf/vocab/bpe-gpt-2.gguf"))
        #expect(try bpe.encode(" the\n", addSpecialTokens: false).map(bpe.tokenText) == ["Ġthe", "Ċ"])

        let bert = try ggufTokenizer(path: fixturePath("gguf/vocab/bert-minilm.gguf"))
        #expect(try bert.encode("Hello, tokenization!").map(bert.tokenText)
            == ["[CLS]", "▁hello", "▁,", "▁token", "ization", "▁!", "[SEP]"])
    }

    @Test func parseSpecialChoosesBetweenTheTokenAndItsText() throws {
        let bpe = try ggufTokenizer(path: fixturePath("gguf/vocab/bpe-smollm.gguf"))
        let parsed = try bpe.encode("<|im_start|>hi", addSpecialTokens: false, parseSpecialTokens: true)
        let literal = try bpe.encode("<|im_start|>hi", addSpecialTokens: false, parseSpecialTokens: false)
        #expect(parsed.first == 1)
        #expect(literal.count > parsed.count && !literal.contains(1))
        // The default of encode(_:addSpecialTokens:) is what `qkv run --text` uses: parsed.
        #expect(try bpe.encode("<|im_start|>hi", addSpecialTokens: false) == parsed)
    }
}

/// llama.cpp's own code point tables (src/unicode-data.cpp) against the Swift derivation.
@Suite struct LlamaCppUnicodeTests {
    struct Tables: Decodable {
        var flag_ranges: [[UInt32]]
        var whitespace: [UInt32]
        var lowercase: [[UInt32]]
        var nfd_ranges: [[UInt32]]
    }

    static let tables: Tables = try! JSONDecoder().decode(
        Tables.self, from: Data(contentsOf: URL(fileURLWithPath: fixturePath("gguf/llamacpp_unicode.json"))))

    static func flag(_ category: LlamaCppUnicode.Category) -> UInt32 {
        switch category {
        case .undefined: 1
        case .number: 2
        case .letter: 4
        case .separator: 8
        case .mark: 16
        case .punctuation: 32
        case .symbol: 64
        case .control: 128
        }
    }

    @Test func categoriesOfEveryCodePoint() {
        var differences: [String] = []
        for (range, next) in zip(Self.tables.flag_ranges, Self.tables.flag_ranges.dropFirst()) {
            for value in range[0]..<next[0] where Self.flag(LlamaCppUnicode.category(value)) != range[1] {
                differences.append("U+\(String(value, radix: 16)): \(LlamaCppUnicode.category(value)), llama.cpp \(range[1])")
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differ: \(differences.prefix(10))")
    }

    @Test func whitespace() {
        let expected = Set(Self.tables.whitespace)
        #expect((0..<0x110000).filter { LlamaCppUnicode.isWhitespace(UInt32($0)) }.map(UInt32.init) == expected.sorted())
    }

    @Test func lowercaseOfEveryLetter() {
        let expected = Dictionary(uniqueKeysWithValues: Self.tables.lowercase.map { ($0[0], $0[1]) })
        var differences: [String] = []
        for value in UInt32(0)..<0x110000 {
            let mapped = expected[value]
            guard mapped != nil || LlamaCppUnicode.category(value) == .letter || LlamaCppUnicode.category(value) == .number
            else { continue }
            if LlamaCppUnicode.lowercase(value) != (mapped ?? value) {
                differences.append("U+\(String(value, radix: 16))")
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differ: \(differences.prefix(10))")
    }

    @Test func firstCodePointOfEachDecomposition() {
        var expected: [UInt32: UInt32] = [:]
        for range in Self.tables.nfd_ranges where range[2] != 0 {
            for value in range[0]...range[1] { expected[value] = range[2] }
        }
        var differences: [String] = []
        for value in UInt32(0)..<0x30000 {
            let category = LlamaCppUnicode.category(value)
            guard expected[value] != nil || category == .letter || category == .symbol || category == .mark else { continue }
            if LlamaCppUnicode.decompositionBase(value) != (expected[value] ?? value) {
                differences.append("U+\(String(value, radix: 16))")
            }
        }
        #expect(differences.isEmpty, "\(differences.count) differ: \(differences.prefix(10))")
    }
}

/// `encode(_:addSpecialTokens:)` on the Hugging Face tokenizers: false drops exactly the
/// post-processor's ids, nothing else.
@Suite struct AddSpecialTokensTests {
    @Test("false drops the post-processor's ids", arguments: ["minilm", "minilm-vocab", "bpe-byte-level", "bpe-byte-fallback"])
    func huggingFaceTokenizers(folder: String) throws {
        let tokenizer = try #require(try TokenizerLoader.load(folder: URL(fileURLWithPath: fixturePath("tokenizers/\(folder)"))))
        for text in ["Hello, world!", "", "[MASK] <|endoftext|> text"] {
            let with = try tokenizer.encode(text)
            let without = try tokenizer.encode(text, addSpecialTokens: false)
            #expect(try tokenizer.encode(text, addSpecialTokens: true) == with)
            if folder.hasPrefix("minilm") {
                #expect(with == [101] + without + [102])
            } else {
                #expect(with == without)
            }
        }
    }

    @Test func llama2cTokenizerDropsBOSAndEOS() throws {
        let file = try Llama2cFile(path: fixturePath("llama2c/tiny-v0-shared.bin"), tokenizer: fixturePath("llama2c/tokenizer.bin"))
        guard case let .llama2c(vocabulary)? = try file.tokenizerSource() else { throw QKVError.other("no tokenizer.bin") }
        let tokenizer = Llama2cTokenizer(vocabulary, addBOS: true, addEOS: true)
        let with = try tokenizer.encode("Hello")
        #expect(with.first == 1 && with.last == 2)
        let without = try tokenizer.encode("Hello", addSpecialTokens: false)
        #expect(!without.contains(1) && !without.contains(2) && !without.isEmpty)
    }

    @Test func templateWithSpecialTokensOnBothSides() throws {
        let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": 4}, "merges": ["a b"]}, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "</s>"}}], "special_tokens": {"<s>": {"ids": [3]}, "</s>": {"ids": [4]}}}}"#
        let tokenizer = try TokenizerLoader.tokenizer(tokenizerJSON: Array(json.utf8), file: "tokenizer.json")
        #expect(try tokenizer.encode("abab") == [3, 2, 2, 4])
        #expect(try tokenizer.encode("abab", addSpecialTokens: false) == [2, 2])
        #expect(try tokenizer.encode("", addSpecialTokens: false) == [])
    }
}
