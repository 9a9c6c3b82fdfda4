import Foundation
import Testing
@testable import QKVKit

/// `fixtures/tokenizers/` at the package root, made by `scripts/make_tokenizer_goldens.py`.
private let tokenizerFixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("fixtures/tokenizers")

private struct Goldens: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let tokens: [String]?
    }

    struct Tokenizer: Decodable {
        let reference: String
        let cases: [Case]
    }

    struct Split: Decodable {
        let text: String
        let pieces: [String]
    }

    let tokenizers: [String: Tokenizer]
    let byteLevelSplits: [Split]
    let qwen2Splits: [Split]

    enum CodingKeys: String, CodingKey {
        case tokenizers
        case byteLevelSplits = "byte_level_splits"
        case qwen2Splits = "qwen2_splits"
    }

    /// Decoded with Foundation, not the parser under test.
    static let shared: Result<Goldens, any Error> = Result {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("goldens.json"))
        return try JSONDecoder().decode(Goldens.self, from: data)
    }
}

private func loadFixture(_ folder: String) throws -> any TextTokenizer {
    try #require(try TokenizerLoader.load(folder: tokenizerFixtures.appendingPathComponent(folder)))
}

/// Shows invisible characters in failure messages.
private func visible(_ text: String) -> String {
    text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
        .joined()
}

@Suite("Tokenizer goldens from Python tokenizers/transformers")
struct TokenizerGoldenTests {
    static let folders = [
        "minilm", "minilm-vocab", "vocab-cased", "wordpiece-cased", "wordpiece-keep-accents", "wordpiece-raw",
        "wordpiece-sequence", "bpe-byte-level", "bpe-prefix-space", "bpe-chars", "bpe-byte-fallback", "bpe-qwen2",
    ]

    @Test("ids and token strings equal the Python reference exactly", arguments: folders)
    func idsMatchReference(folder: String) throws {
        let goldens = try Goldens.shared.get()
        let golden = try #require(goldens.tokenizers[folder], "no goldens for \(folder)")
        #expect(golden.cases.count >= 200)
        let tokenizer = try loadFixture(folder)
        var mismatches = 0
        for testCase in golden.cases {
            let ids = try tokenizer.encode(testCase.text)
            if ids != testCase.ids {
                mismatches += 1
                Issue.record("\(folder): \"\(visible(testCase.text))\"\n  ours   \(ids)\n  python \(testCase.ids)")
                continue
            }
            #expect(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize })
            if let tokens = testCase.tokens {
                #expect(ids.map(tokenizer.tokenText) == tokens, "\(folder): \"\(visible(testCase.text))\"")
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(golden.cases.count) cases differ (\(golden.reference))")
    }

    @Test("GPT-2 split equals the Oniguruma regex of tokenizers")
    func byteLevelSplitMatchesReference() throws {
        let goldens = try Goldens.shared.get()
        #expect(goldens.byteLevelSplits.count >= 200)
        for split in goldens.byteLevelSplits {
            var words: [[Unicode.Scalar]] = []
            let text = Array(split.text.unicodeScalars)
            if !text.isEmpty {
                PreTokenizer.byteLevel(addPrefixSpace: false, useRegex: true).split(text, into: &words)
            }
            let pieces = words.map { String(String.UnicodeScalarView($0)) }
            #expect(pieces == split.pieces, "\"\(visible(split.text))\"")
        }
    }

    @Test("Qwen2 split equals the Oniguruma regex of tokenizers")
    func qwen2SplitMatchesReference() throws {
        let goldens = try Goldens.shared.get()
        #expect(goldens.qwen2Splits.count >= 200)
        for split in goldens.qwen2Splits {
            var words: [[Unicode.Scalar]] = []
            let text = Array(split.text.unicodeScalars)
            if !text.isEmpty { PreTokenizer.split(.llama3(maximumDigits: 1)).split(text, into: &words) }
            let pieces = words.map { String(String.UnicodeScalarView($0)) }
            #expect(pieces == split.pieces, "\"\(visible(split.text))\"")
        }
    }

    @Test("MiniLM tokenizer.json and vocab.txt give the same ids")
    func vocabularyFileAgreesWithTokenizerJSON() throws {
        let json = try loadFixture("minilm")
        let vocab = try loadFixture("minilm-vocab")
        #expect(json.vocabularySize == 30522)
        #expect(vocab.vocabularySize == 30522)
        let text = "The capital of France is [MASK]. Café 北京 don't"
        #expect(try json.encode(text) == vocab.encode(text))
        #expect(try json.encode(text) == [101, 1996, 3007, 1997, 2605, 2003, 103, 1012, 7668, 1781, 1755, 2123, 1005, 1056, 102])
    }
}

/// How Rust `tokenizers` classifies every code point (see `probe_unicode_classes` in the script).
private struct UnicodeClasses: Decodable {
    let cleanRemoved: [[UInt32]]
    let cleanWhitespace: [[UInt32]]
    let bertWhitespace: [[UInt32]]
    let bertPunctuation: [[UInt32]]
    let stripAccentsRemoved: [[UInt32]]
    let gpt2Letter: [[UInt32]]
    let gpt2Number: [[UInt32]]
    let gpt2Whitespace: [[UInt32]]
    let bertStripAccents: [String: String]
    let nfd: [String: String]
    let lowercase: [String: String]

    enum CodingKeys: String, CodingKey {
        case cleanRemoved = "clean_removed", cleanWhitespace = "clean_whitespace"
        case bertWhitespace = "bert_whitespace", bertPunctuation = "bert_punctuation"
        case stripAccentsRemoved = "strip_accents_removed"
        case gpt2Letter = "gpt2_letter", gpt2Number = "gpt2_number", gpt2Whitespace = "gpt2_whitespace"
        case bertStripAccents = "bert_strip_accents", nfd, lowercase
    }

    static func set(_ runs: [[UInt32]]) -> Set<UInt32> {
        var result = Set<UInt32>()
        for run in runs where run.count == 2 { result.formUnion(run[0]...run[1]) }
        return result
    }
}

@Suite("Unicode classes equal those of Rust tokenizers for every code point")
struct TokenizerUnicodeTests {
    private static let classes: Result<UnicodeClasses, any Error> = Result {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent("unicode_classes.json"))
        return try JSONDecoder().decode(UnicodeClasses.self, from: data)
    }

    /// Planes 4–13 hold no characters (checked below), so every class is false there on both sides.
    private static let emptyPlanes: Range<UInt32> = 0x40000..<0xE0000

    private static let allScalars: [Unicode.Scalar] = (0..<0x110000).compactMap { value in
        emptyPlanes.contains(UInt32(value)) ? nil : Unicode.Scalar(UInt32(value))
    }

    @Test("the skipped planes are unassigned")
    func skippedPlanesAreEmpty() {
        #expect(Self.emptyPlanes.allSatisfy { Unicode.Scalar($0)!.properties.generalCategory == .unassigned })
    }

    /// Records up to ten differing code points of one class.
    private func compare(_ name: String, expected: Set<UInt32>, actual: (Unicode.Scalar) -> Bool) {
        var differing: [String] = []
        for scalar in Self.allScalars where actual(scalar) != expected.contains(scalar.value) {
            differing.append("U+\(String(scalar.value, radix: 16, uppercase: true))")
        }
        #expect(differing.count == 0, "\(name) differs at \(differing.prefix(10))")
    }

    private func compareMapping(_ name: String, expected: [String: String], steps: [NormalizerStep]) {
        let normalizer = TextNormalizer(steps: steps)
        var differing: [String] = []
        for scalar in Self.allScalars {
            // The generator samples Hangul syllables (algorithmic decomposition) every 97th.
            if (0xAC00...0xD7A3).contains(scalar.value) && scalar.value % 97 != 0 { continue }
            let out = normalizer.normalize([scalar])
            let reference = expected[String(scalar.value)].map { Array($0.unicodeScalars) } ?? [scalar]
            if out != reference {
                differing.append("U+\(String(scalar.value, radix: 16, uppercase: true))")
            }
        }
        #expect(differing.count == 0, "\(name) differs at \(differing.prefix(10))")
    }

    @Test("BERT text cleaning, whitespace and punctuation")
    func bertClasses() throws {
        let classes = try Self.classes.get()
        let clean = TextNormalizer(steps: [.cleanText])
        compare("clean_removed", expected: UnicodeClasses.set(classes.cleanRemoved)) {
            clean.normalize(["a", $0, "b"]) == ["a", "b"]
        }
        compare("clean_whitespace", expected: UnicodeClasses.set(classes.cleanWhitespace)) {
            clean.normalize(["a", $0, "b"]) == ["a", " ", "b"]
        }
        func bertWords(_ scalar: Unicode.Scalar) -> [[Unicode.Scalar]] {
            var words: [[Unicode.Scalar]] = []
            PreTokenizer.bert.split(["a", scalar, "b"], into: &words)
            return words
        }
        compare("bert_whitespace", expected: UnicodeClasses.set(classes.bertWhitespace)) {
            bertWords($0) == [["a"], ["b"]]
        }
        compare("bert_punctuation", expected: UnicodeClasses.set(classes.bertPunctuation)) {
            bertWords($0) == [["a"], [$0], ["b"]]
        }
    }

    @Test("GPT-2 letters, numbers and whitespace")
    func gpt2Classes() throws {
        let classes = try Self.classes.get()
        func pieces(_ first: Unicode.Scalar, _ scalar: Unicode.Scalar) -> Int {
            var count = 0
            GPT2Splitter.split([first, scalar]) { _ in count += 1 }
            return count
        }
        compare("gpt2_letter", expected: UnicodeClasses.set(classes.gpt2Letter)) { pieces("a", $0) == 1 }
        compare("gpt2_number", expected: UnicodeClasses.set(classes.gpt2Number)) {
            pieces("a", $0) == 2 && pieces("1", $0) == 1
        }
        compare("gpt2_whitespace", expected: UnicodeClasses.set(classes.gpt2Whitespace)) {
            pieces("a", $0) == 2 && pieces("1", $0) == 2 && pieces("!", $0) == 2
        }
    }

    @Test("NFD, accent stripping and lowercase mappings")
    func mappings() throws {
        let classes = try Self.classes.get()
        compareMapping("nfd", expected: classes.nfd, steps: [.decompose])
        compareMapping("bert_strip_accents", expected: classes.bertStripAccents,
                       steps: [.decompose, .stripNonspacingMarks])
        compareMapping("lowercase", expected: classes.lowercase, steps: [.lowercase])
        let stripMarks = TextNormalizer(steps: [.stripMarks])
        compare("strip_accents_removed", expected: UnicodeClasses.set(classes.stripAccentsRemoved)) {
            stripMarks.normalize([$0]).isEmpty
        }
    }
}

@Suite("Tokenizer building blocks")
struct TokenizerUnitTests {
    @Test("byte-to-unicode table is GPT-2's")
    func byteLevelAlphabet() {
        let table = ByteLevelAlphabet.characters
        #expect(table[0x21] == "!")
        #expect(table[0x20] == "\u{120}")  // Ġ
        #expect(table[0x0A] == "\u{10A}")  // Ċ
        #expect(table[0x00] == "\u{100}")
        #expect(table[0x7F] == "\u{121}")
        #expect(table[0xAD] == "\u{143}")
        #expect(table[0xFF] == "\u{FF}")
        #expect(Set(table).count == 256)
        #expect(table.allSatisfy { !$0.properties.isWhitespace })
    }

    @Test("GPT-2 split of hand-checked strings", arguments: [
        ("Hello world", ["Hello", " world"]),
        ("don't", ["don", "'t"]),
        ("DON'T", ["DON", "'", "T"]),
        ("a  b", ["a", " ", " b"]),
        ("a\n\nb", ["a", "\n", "\n", "b"]),
        ("a \tb", ["a", " ", "\t", "b"]),
        ("x   ", ["x", "   "]),
        ("?!'s", ["?!'", "s"]),
        ("2024abc", ["2024", "abc"]),
        (" 's", [" '", "s"]),
    ])
    func gpt2Split(text: String, expected: [String]) {
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = []
        GPT2Splitter.split(scalars) { pieces.append(String(String.UnicodeScalarView(scalars[$0]))) }
        #expect(pieces == expected)
    }

    @Test("BERT normalizer steps")
    func bertNormalizer() {
        let lower = TextNormalizer.bert(cleanText: true, handleChineseCharacters: true, stripAccents: nil, lowercase: true)
        #expect(lower.steps == [.cleanText, .isolateCJKIdeographs, .decompose, .stripNonspacingMarks, .lowercase])
        let cased = TextNormalizer.bert(cleanText: true, handleChineseCharacters: false, stripAccents: nil, lowercase: false)
        #expect(cased.steps == [.cleanText])
        let normalized = lower.normalize(Array("A\u{0}b\tC\u{301}北".unicodeScalars))
        #expect(String(String.UnicodeScalarView(normalized)) == "ab c 北 ")
    }

    @Test("WordPiece: longest match first, ## continuation, unknown word")
    func wordPiece() {
        let vocabulary: [TokenBytes: Int] = [
            Array("[UNK]".utf8): 0, Array("un".utf8): 1, Array("##aff".utf8): 2, Array("##able".utf8): 3,
            Array("unaff".utf8): 4, Array("##a".utf8): 5,
        ]
        let model = WordPieceModel(vocabulary: vocabulary, unknownID: 0, continuingPrefix: Array("##".utf8),
                                   maximumWordLength: 8)
        var ids: [Int] = []
        model.tokenize(Array("unaffable".unicodeScalars), into: &ids)
        #expect(ids == [0])  // 9 scalars > maximumWordLength 8
        let wide = WordPieceModel(vocabulary: vocabulary, unknownID: 0, continuingPrefix: Array("##".utf8),
                                  maximumWordLength: 100)
        ids = []
        wide.tokenize(Array("unaffable".unicodeScalars), into: &ids)
        #expect(ids == [4, 3])
        ids = [7]
        wide.tokenize(Array("unaffx".unicodeScalars), into: &ids)
        #expect(ids == [7, 0])
    }
}

@Suite("Tokenizer files are untrusted")
struct TokenizerErrorTests {
    /// Writes `files` into a fresh folder and loads it.
    private func load(_ files: [String: String]) throws -> (any TextTokenizer)? {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("qkv-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, contents) in files {
            try Data(contents.utf8).write(to: folder.appendingPathComponent(name))
        }
        return try TokenizerLoader.load(folder: folder)
    }

    private func expectError(_ expected: TokenizerError, _ files: [String: String],
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try load(files) }
    }

    private static let bpeModel = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#

    @Test("a folder without tokenizer files gives nil")
    func emptyFolder() throws {
        #expect(try load([:]) == nil)
        #expect(try load(["config.json": "{}"]) == nil)
    }

    @Test("a minimal BPE tokenizer.json loads and merges")
    func minimalBPE() throws {
        let tokenizer = try #require(try load(["tokenizer.json": #"{"model": \#(Self.bpeModel)}"#]))
        #expect(try tokenizer.encode("abab") == [2, 2])
        #expect(try tokenizer.encode("aba") == [2, 0])
        #expect(tokenizer.vocabularySize == 3)
        #expect(tokenizer.tokenText(2) == "ab")
        #expect(tokenizer.tokenText(99) == "<id 99>")
        #expect(throws: TokenizerError.unencodable(piece: "c")) { try tokenizer.encode("abc") }
    }

    @Test("post-processors: Roberta pair, Sequence nesting, template with several ids")
    func postProcessors() throws {
        func encode(_ processor: String) throws -> [Int] {
            let json = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": 4}, "merges": ["a b"]}, "post_processor": \#(processor)}"#
            return try #require(try load(["tokenizer.json": json])).encode("ab")
        }
        #expect(try encode(#"{"type": "RobertaProcessing", "sep": ["</s>", 4], "cls": ["<s>", 3]}"#) == [3, 2, 4])
        #expect(try encode(#"{"type": "BertProcessing", "sep": ["</s>", 4], "cls": ["<s>", 3]}"#) == [3, 2, 4])
        #expect(try encode(#"{"type": "ByteLevel"}"#) == [2])
        let inner = #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}, {"SpecialToken": {"id": "pair"}}], "special_tokens": {"<s>": {"ids": [3]}, "pair": {"ids": [4, 4]}}}"#
        #expect(try encode(inner) == [3, 2, 4, 4])
        let outer = #"{"type": "RobertaProcessing", "sep": ["b", 1], "cls": ["a", 0]}"#
        #expect(try encode(#"{"type": "Sequence", "processors": [{"type": "ByteLevel"}, \#(inner), \#(outer)]}"#)
            == [0, 3, 2, 4, 4, 1])
    }

    @Test("tokenizer.json wins over vocab.txt; unreadable files are reported")
    func fileChoiceAndReadErrors() throws {
        let both = try #require(try load([
            "tokenizer.json": #"{"model": \#(Self.bpeModel)}"#,
            "vocab.txt": "[UNK]\n[CLS]\n[SEP]\nab\n",
        ]))
        #expect(try both.encode("ab") == [2])
        let vocabOnly = try #require(try load(["vocab.txt": "[UNK]\r\n[CLS]\r[SEP]\nab"]))
        #expect(try vocabOnly.encode("AB abc") == [1, 3, 0, 2])
        #expect(throws: TokenizerError.invalidUTF8(file: "vocab.txt", offset: 6)) {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-utf8-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try Data(Array("[UNK]\n".utf8) + [0xC3, 0x28]).write(to: folder.appendingPathComponent("vocab.txt"))
            _ = try TokenizerLoader.load(folder: folder)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tokenizer.json"),
                                                withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: TokenizerError.unreadableFile(file: "tokenizer.json", reason: "not a regular file")) {
            _ = try TokenizerLoader.load(folder: folder)
        }
    }

    @Test("unsupported components name the field and point to --tokens")
    func unsupportedComponents() throws {
        expectError(.unsupported(file: "tokenizer.json", field: "model.type", found: "\"Unigram\"",
                                 supported: "WordPiece, BPE"),
                    ["tokenizer.json": #"{"model": {"type": "Unigram", "vocab": {}}}"#])
        expectError(.unsupported(file: "tokenizer.json", field: "pre_tokenizer.type", found: "\"Metaspace\"",
                                 supported: "BertPreTokenizer, ByteLevel, Split, Sequence of these"),
                    ["tokenizer.json": #"{"model": \#(Self.bpeModel), "pre_tokenizer": {"type": "Metaspace"}}"#])
        expectError(.unsupported(file: "tokenizer.json", field: "normalizer.normalizers[1].type", found: "\"NFKC\"",
                                 supported: "BertNormalizer, NFD, NFC, Lowercase, StripAccents, Sequence of these"),
                    ["tokenizer.json": #"{"model": \#(Self.bpeModel), "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "NFKC"}]}}"#])
        expectError(.unsupported(file: "tokenizer.json", field: "model.dropout", found: "0.1",
                                 supported: "null or 0, deterministic merges"),
                    ["tokenizer.json": #"{"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}}"#])
        let error = TokenizerError.unsupported(file: "tokenizer.json", field: "model.type", found: "\"Unigram\"",
                                               supported: "WordPiece, BPE")
        #expect(error.description.contains("give the token ids instead"))
        #expect(error.description.contains("Unigram"))
    }

    @Test("wrong types and missing fields")
    func structuralErrors() throws {
        expectError(.missingField(file: "tokenizer.json", field: "model"), ["tokenizer.json": "{}"])
        expectError(.wrongType(file: "tokenizer.json", field: "top level", expected: "an object", found: "an array"),
                    ["tokenizer.json": "[]"])
        expectError(.wrongType(file: "tokenizer.json", field: "model.vocab.a", expected: "an integer",
                               found: "a string"),
                    ["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {"a": "0"}}}"#])
        expectError(.invalidValue(file: "tokenizer.json", field: "model.vocab.a", expected: "an id in 0..<2147483647",
                                  found: "-1"),
                    ["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {"a": -1}}}"#])
        expectError(.invalidValue(file: "tokenizer.json", field: "model.vocab.a", expected: "an integer", found: "1.5"),
                    ["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {"a": 1.5}}}"#])
        expectError(.tokenNotInVocabulary(file: "tokenizer.json", field: "model.unk_token", token: "[UNK]"),
                    ["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#])
        expectError(.tokenNotInVocabulary(file: "tokenizer.json", field: "model.merges[0]", token: "c"),
                    ["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a c"]}}"#])
        expectError(.tokenNotInVocabulary(file: "tokenizer.json", field: "model.merges[0]", token: "ab"),
                    ["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}"#])
        expectError(.invalidValue(file: "tokenizer.json", field: "model.merges[0]",
                                  expected: "two tokens separated by one space", found: "\"a  b\""),
                    ["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a  b"]}}"#])
        expectError(.wrongType(file: "tokenizer.json", field: "model.merges[0]",
                               expected: "a string \"a b\" or a pair [\"a\", \"b\"]", found: "a number"),
                    ["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}}"#])
        expectError(.wrongType(file: "tokenizer.json", field: "added_tokens[0].lstrip", expected: "a boolean",
                               found: "a number"),
                    ["tokenizer.json": #"{"model": \#(Self.bpeModel), "added_tokens": [{"id": 3, "content": "x", "lstrip": 1}]}"#])
        expectError(.invalidValue(file: "tokenizer.json", field: "post_processor.single[0].SpecialToken.id",
                                  expected: "a token listed in special_tokens", found: "\"[CLS]\""),
                    ["tokenizer.json": #"{"model": \#(Self.bpeModel), "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]"}}, {"Sequence": {"id": "A"}}], "special_tokens": {}}}"#])
        expectError(.tokenNotInVocabulary(file: "vocab.txt", field: "unk_token", token: "[UNK]"),
                    ["vocab.txt": "a\nb\n"])
        expectError(.wrongType(file: "tokenizer_config.json", field: "do_lower_case", expected: "a boolean",
                               found: "a string"),
                    ["vocab.txt": "[UNK]\n[CLS]\n[SEP]\n", "tokenizer_config.json": #"{"do_lower_case": "yes"}"#])
    }

    /// The reasons are the shared parser's (`StrictJSON`); an escape or a number is reported at its first byte.
    @Test("malformed JSON reports the byte offset", arguments: [
        ("", 0, "expected a value, found the end of the document"),
        ("{", 1, "expected a string key, found the end of the document"),
        (#"{"a" 1}"#, 5, "expected ':' after the key \"a\", found '1'"),
        (#"{"a": tru}"#, 6, "expected the literal true"),
        (#"{"a": "\x"}"#, 7, "unknown escape: 'x' after a backslash"),
        (#"{"a": "\ud800"}"#, 7, "high surrogate \\uD800 not followed by a low surrogate"),
        (#"{"a": "\udc00"}"#, 7, "lone low surrogate \\uDC00"),
        (#"{"a": 01}"#, 6, "number with a leading zero"),
        (#"{"a": 1} x"#, 9, "expected the end of the document after the value, found 'x'"),
        (#"{"a": "unterminated"#, 6, "string never closed"),
        ("{\"a\": \"tab\there\"}", 10, "control character byte 0x09 inside a string (it must be escaped)"),
    ])
    func malformedJSON(text: String, offset: Int, reason: String) {
        #expect(throws: TokenizerError.malformedJSON(file: "tokenizer.json", offset: offset, reason: reason)) {
            _ = try JSONField(parsing: Array(text.utf8), file: "tokenizer.json")
        }
    }

    @Test("JSON strings: escapes, surrogate pairs, invalid UTF-8, deep nesting")
    func jsonStrings() throws {
        let parsed = try JSONField(parsing: Array(#"["\u00e9\n\ud83e\udd70\/", "e\u0301", 12, -3.5e2]"#.utf8),
                                   file: "t")
        let values = try parsed.array()
        try #require(values.count == 4)
        #expect(Array(try values[0].string().unicodeScalars) == ["\u{e9}", "\n", "\u{1F970}", "/"])
        #expect(Array(try values[1].string().unicodeScalars) == ["e", "\u{301}"])
        #expect(try values[2].integer() == 12)
        #expect(try values[3].double() == -350)
        #expect(throws: TokenizerError.invalidValue(file: "t", field: "[3]", expected: "an integer", found: "-3.5e2")) {
            try values[3].integer()
        }

        #expect(throws: TokenizerError.invalidUTF8(file: "t", offset: 3)) {
            _ = try JSONField(parsing: [0x22, 0x61, 0x62, 0xFF, 0x22], file: "t")
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: TokenizerError.malformedJSON(file: "t", offset: 64, reason: "arrays and objects nested deeper than 64 levels")) {
            _ = try JSONField(parsing: Array(deep.utf8), file: "t")
        }
    }

    @Test("a repeated key is kept, and the last one counts")
    func repeatedKeys() throws {
        let json = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1, "a": 2}}}"#
        let tokenizer = try #require(try load(["tokenizer.json": json]))
        #expect(try tokenizer.encode("a") == [2])
        #expect(tokenizer.vocabularySize == 3)
    }

    @Test("vocabulary keys are compared byte for byte, not by canonical equivalence")
    func canonicallyEquivalentTokensStayApart() throws {
        let json = #"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "\u00e9": 1, "e\u0301": 2, "e": 3}}}"#
        let tokenizer = try #require(try load(["tokenizer.json": json]))
        #expect(try tokenizer.encode("\u{e9}") == [1])
        #expect(try tokenizer.encode("e\u{301}") == [2])
        #expect(Array(tokenizer.tokenText(1).unicodeScalars) == ["\u{e9}"])
        #expect(Array(tokenizer.tokenText(2).unicodeScalars) == ["e", "\u{301}"])
    }

    /// Every truncation and many byte flips of a real tokenizer.json either load or throw a
    /// `TokenizerError`; none may crash.
    @Test("damaged tokenizer.json never crashes")
    func damagedFiles() throws {
        let url = tokenizerFixtures.appendingPathComponent("bpe-byte-fallback/tokenizer.json")
        let original = try [UInt8](Data(contentsOf: url))
        var generator = SeededGenerator(state: 42)
        var variants: [[UInt8]] = [original]
        variants += stride(from: 0, to: original.count, by: 97).map { Array(original[..<$0]) }
        for round in 0..<400 {
            var bytes = original
            let index = Int(generator.next() % UInt64(bytes.count))
            // Half the flips write a letter or digit, which keeps more of the damaged files
            // parseable, so the later stages see them too.
            let alphabet = Array("abcXYZ0179".utf8)
            bytes[index] = round.isMultiple(of: 2)
                ? alphabet[Int(generator.next() % UInt64(alphabet.count))]
                : UInt8(truncatingIfNeeded: generator.next())
            variants.append(bytes)
        }
        var loaded = 0
        for bytes in variants {
            do {
                let tokenizer = try TokenizerLoader.tokenizer(tokenizerJSON: bytes, file: "tokenizer.json")
                _ = try? tokenizer.encode("Hello, world! Café 🥰")
                loaded += 1
            } catch is TokenizerError {
                continue
            }
        }
        // Both outcomes must occur, or the test did not exercise what it claims.
        #expect(loaded > 1)
        #expect(loaded < variants.count)
    }
}
