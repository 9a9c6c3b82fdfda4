import Foundation
import Testing
@testable import QKVKit

/// `fixtures/llama2c/`, made by scripts/make_llama2c_references.py: tiny llama2.c checkpoints in
/// export.py's layouts, transformers eager goldens cross-checked by a float64 NumPy forward pass
/// that reads the .bin files, and a tokenizer.bin with ids from a port of run.c's encode (checked
/// against run.c itself).
private func llama2cFixture(_ name: String) -> String { fixturePath("llama2c/\(name)") }

private let tokenizerBin = llama2cFixture("tokenizer.bin")

private struct Llama2cReference {
    var tokenLists: [[Int]]
    var attentions: [[[[[Double]]]]]  // [list][layer][head][query][key]
    var parameters: Int
    var groups: [String: Int]
    var version: Int
    var shared: Bool
    var groupSize: Int?
    var text: String?
    var int8Difference: Double?

    init(_ file: String) throws {
        let root = try loadJSON(llama2cFixture("reference.json")) as! [String: Any]
        let entry = (root["files"] as! [String: Any])[file] as! [String: Any]
        tokenLists = (entry["token_ids"] as! [[NSNumber]]).map { $0.map(\.intValue) }
        attentions = (entry["attentions"] as! [[[[[NSNumber]]]]]).map { $0.map { $0.map { $0.map { $0.map(\.doubleValue) } } } }
        parameters = (entry["num_parameters"] as! NSNumber).intValue
        groups = (entry["num_parameters_per_group"] as! [String: NSNumber]).mapValues(\.intValue)
        version = (entry["version"] as! NSNumber).intValue
        shared = entry["shared_classifier"] as! Bool
        groupSize = (entry["group_size"] as? NSNumber)?.intValue
        text = entry["text"] as? String
        int8Difference = (entry["int8_vs_f32_max_diff"] as? NSNumber)?.doubleValue
    }
}

/// The files the script wrote, each against its own goldens.
@Suite struct Llama2cCheckpointTests {
    static let files = ["tiny-v0.bin", "tiny-v0-shared.bin", "tiny-v1.bin", "tiny-v2.bin", "tiny-v2-shared.bin"]

    @Test(arguments: files)
    func opensWithRunCSettings(file: String) throws {
        let reference = try Llama2cReference(file)
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture(file))
        #expect(checkpoint.format.name == "llama2c")
        let header = try #require((checkpoint.container as? Llama2cFile)?.header)
        #expect(header.version == reference.version)
        #expect(header.sharedClassifier == reference.shared)
        #expect(header.groupSize == reference.groupSize)
        let config = try #require(checkpoint.config)
        #expect(config.architecture == "llama" && config.wiring == .llama)
        #expect(config.dim == 32 && config.layerCount == 2 && config.headCount == 4 && config.kvHeadCount == 2 && config.headDim == 8)
        #expect(config.hiddenDim == 48 && config.maxSequenceLength == 64 && config.isCausal)
        #expect(config.vocabSize == (reference.shared ? 400 : 60))
        #expect(config.normEpsilon == 1e-5 && config.ropeTheta == 10000 && config.ropeLayout == .adjacentPairs)
        #expect(config.tiedEmbeddings == reference.shared)
        #expect(checkpoint.hasTensor("lm_head") == !reference.shared)
        let expectedType: DType = reference.version == 2 ? .llama2cQ8 : .f32
        #expect(checkpoint.tensorInfo("layers.1.wk")?.dtype == expectedType)
        #expect(checkpoint.tensorInfo("layers.1.ffn_norm.weight")?.dtype == .f32)
        #expect(checkpoint.metadata["llama2c.version"] == .int(Int64(reference.version)))
    }

    /// Totals and groups equal PyTorch's `sum(p.numel() for p in model.parameters())`: a shared
    /// classifier is the embedding, counted once; v0's RoPE tables are not parameters.
    @Test(arguments: files)
    func parameterCountsMatchPyTorch(file: String) throws {
        let reference = try Llama2cReference(file)
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture(file))
        let counts = checkpoint.parameterCount
        #expect(counts.totalParameters == reference.parameters)
        #expect(Dictionary(uniqueKeysWithValues: counts.groups.map { ($0.name, $0.parameters) }) == reference.groups)
        #expect(counts.buffers.isEmpty)
    }

    /// Within 1e-5 of transformers for every version: f32 files hold the model's floats, v2's
    /// goldens are of the dequantized values (measured: under 5e-7 for all five).
    @Test(arguments: files)
    func attentionMatchesTransformers(file: String) throws {
        let reference = try Llama2cReference(file)
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture(file))
        for (ids, expected) in zip(reference.tokenLists, reference.attentions) {
            let report = try AttentionRunner.run(
                AttentionRequest(input: .tokens(ids.map(String.init).joined(separator: " "))), checkpoint: checkpoint)
            #expect(report.tokens.map(\.id) == ids)
            let comparison = AttentionComparison(report, expected: expected, tolerance: 1e-5)
            #expect(comparison.firstDivergence == nil, "\(file), \(ids.count) tokens: \(comparison)")
        }
    }

    /// int8 weights move attention away from the f32 model's: by 0.025 here (the script measures it
    /// against transformers as `int8_vs_f32_max_diff`); qkv's v2 against the v1 goldens stays in 0.03.
    @Test func int8AttentionIsNearTheFloatModel() throws {
        let float = try Llama2cReference("tiny-v1.bin")
        let int8 = try Llama2cReference("tiny-v2.bin")
        #expect(try #require(int8.int8Difference) < 0.03)
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture("tiny-v2.bin"))
        var worst = 0.0
        for (ids, expected) in zip(float.tokenLists, float.attentions) {
            let report = try AttentionRunner.run(AttentionRequest(input: .tokens(ids.map(String.init).joined(separator: " "))), checkpoint: checkpoint)
            worst = max(worst, AttentionComparison(report, expected: expected, tolerance: 1).maximumDifference)
        }
        #expect(worst > 1e-3 && worst < 0.03, "int8 vs f32 attention: \(worst)")
    }

    @Test(arguments: files)
    func verifyDecodesEveryTensor(file: String) throws {
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture(file))
        let verification = checkpoint.verifyAll()
        #expect(verification.problems.isEmpty)
        #expect(verification.tensorCount == 2 * 9 + 2 + (checkpoint.config!.tiedEmbeddings ? 0 : 1))
    }

    /// `convert` to QKV keeps config (rope_layout adjacent included), counts and attention: f32 within
    /// 1e-6 (the same floats), f16 and bf16 as close as their rounding allows.
    @Test(arguments: files)
    func convertedFileAgreesWithSource(file: String) throws {
        let source = try CheckpointLoader.open(path: llama2cFixture(file))
        let request = AttentionRequest(input: .tokens("1 2 3 4 5 6 7 8 9"))
        let before = try AttentionRunner.run(request, checkpoint: source)
        for (dtype, tolerance) in [(DType.f32, 1e-6), (.f16, 2e-3), (.bf16, 2e-2)] {
            let (bytes, summary) = try QKVConverter(dtype: dtype, encoding: .shuffleZlib).convert(source)
            #expect(summary.parameters == source.parameterCount.totalParameters)
            let converted = try CheckpointLoader.open(path: try temporaryFile(bytes))
            #expect(converted.config == source.config)
            #expect(converted.parameterCount.groups.map(\.parameters) == source.parameterCount.groups.map(\.parameters))
            let after = try AttentionRunner.run(request, checkpoint: converted)
            var worst = 0.0
            for (a, b) in zip(before.layers, after.layers) {
                for (x, y) in zip(a.heads, b.heads) { worst = max(worst, zip(x, y).map { Double(abs($0 - $1)) }.max() ?? 0) }
            }
            #expect(worst <= tolerance, "\(file) as \(dtype): \(worst)")
        }
    }

    /// With the tokenizer, `convert` keeps the vocabulary as `tokenizer.tokens` (pieces as
    /// SentencePiece shows them), so the converted file takes them in `--tokens`.
    @Test func convertKeepsTheVocabulary() throws {
        let source = try CheckpointLoader.open(path: llama2cFixture("tiny-v0-shared.bin"), tokenizer: .llama2c(path: tokenizerBin))
        let converted = try CheckpointLoader.open(path: try temporaryFile(try QKVConverter().convert(source).bytes))
        let pieces = try Llama2cTokenizerGoldens.shared.get().pieces
        #expect(try converted.metadata.strings("tokenizer.tokens") == pieces)
        let report = try AttentionRunner.run(AttentionRequest(input: .tokens("<s> ▁Lily")), checkpoint: converted)
        #expect(report.tokens.map(\.text) == ["<s>", "▁Lily"])
    }

    /// `--text` with the tokenizer gives run.c's ids and the golden attention for them.
    @Test func textRunsThroughTheTokenizer() throws {
        let reference = try Llama2cReference("tiny-v0-shared.bin")
        let text = try #require(reference.text)
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture("tiny-v0-shared.bin"), tokenizer: .llama2c(path: tokenizerBin))
        let report = try AttentionRunner.run(AttentionRequest(input: .text(text)), checkpoint: checkpoint)
        #expect(report.tokens.map(\.id) == reference.tokenLists.last)
        #expect(report.tokens.first?.text == "<s>")
        let comparison = AttentionComparison(report, expected: reference.attentions.last!, tolerance: 1e-5)
        #expect(comparison.firstDivergence == nil, "\(comparison)")
    }

    @Test func textWithoutTokenizerNamesWhereToGiveOne() throws {
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture("tiny-v1.bin"))
        #expect(try checkpoint.textTokenizer() == nil)
        #expect(checkpoint.vocabulary == nil)
        let error = thrownQKVError { _ = try AttentionRunner.run(AttentionRequest(input: .text("hello")), checkpoint: checkpoint) }
        #expect(error == .noTokenizer(lookedFor: "\(Llama2cFile.separateTokenizer): llama2.c checkpoints hold no vocabulary"))
        // Ids need none; they show as numbers.
        let report = try AttentionRunner.run(AttentionRequest(input: .tokens("5 7")), checkpoint: checkpoint)
        #expect(report.tokens.map(\.text) == ["5", "7"])
    }

    @Test func tokenizerWithAnotherFormatIsAnError() throws {
        for path in [fixturePath("seed.qkv"), fixturePath("hf/tiny-llama")] {
            let error = thrownQKVError { _ = try CheckpointLoader.open(path: path, tokenizer: .llama2c(path: tokenizerBin)) }
            let format = path.hasSuffix(".qkv") ? "qkv v1" : "safetensors"
            #expect(error == .tokenizerNotApplicable(format: format))
        }
    }

    @Test func tokenizerOfAnotherModelIsAnError() throws {
        do {
            _ = try CheckpointLoader.open(path: llama2cFixture("tiny-v0.bin"), tokenizer: .llama2c(path: tokenizerBin))
            Issue.record("opened a 400-token tokenizer with a 60-token model")
        } catch let error as LocatedError {
            #expect(error.path == tokenizerBin)
            #expect(error.error == .tokenizerVocabularyMismatch(tokens: 400, vocabSize: 60))
        }
    }

    @Test func inspectShowsTheHeader() throws {
        let checkpoint = try CheckpointLoader.open(path: llama2cFixture("tiny-v2-shared.bin"))
        #expect(checkpoint.format.description == "llama2.c v2 (int8, group size 8)")
        let text = InspectReport(checkpoint).text(showTensors: true, markdown: false)
        // Column widths depend on the longest field; compare with runs of spaces collapsed.
        let collapsed = text.replacingOccurrences(of: " +", with: " ", options: .regularExpression)
        for fragment in ["llama2c.group_size 8", "llama2c.shared_classifier true", "rope_layout adjacent", "LLAMA2C_Q8"] {
            #expect(collapsed.contains(fragment), "\(fragment) in\n\(text)")
        }
        // v0 shows vocab_size as stored: negative for an unshared classifier.
        let legacy = try CheckpointLoader.open(path: llama2cFixture("tiny-v0.bin"))
        #expect(legacy.metadata["llama2c.vocab_size"] == .int(-60))
        #expect(legacy.format.description == "llama2.c v0 (legacy, f32)")
    }
}

// MARK: - Tokenizer

struct Llama2cTokenizerGoldens: Decodable {
    struct Case: Decodable {
        var text: String?
        var bytesHex: String?
        var ids: [Int]

        enum CodingKeys: String, CodingKey {
            case text, ids
            case bytesHex = "bytes_hex"
        }

        var bytes: [UInt8] {
            if let text { return Array(text.utf8) }
            let hex = Array(bytesHex!.utf8)
            return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        }
    }

    var vocabSize: Int
    var pieces: [String]
    var cases: [Case]

    enum CodingKeys: String, CodingKey {
        case pieces, cases
        case vocabSize = "vocab_size"
    }

    /// Decoded by Foundation, not by code under test.
    static let shared: Result<Llama2cTokenizerGoldens, any Error> = Result {
        try JSONDecoder().decode(Llama2cTokenizerGoldens.self, from: Data(contentsOf: URL(fileURLWithPath: llama2cFixture("tokenizer_goldens.json"))))
    }
}

@Suite struct Llama2cTokenizerTests {
    func fixtureTokenizer() throws -> Llama2cTokenizer {
        Llama2cTokenizer(try Llama2cVocabulary(contentsOf: tokenizerBin, vocabSize: try Llama2cTokenizerGoldens.shared.get().vocabSize))
    }

    /// Every case equals run.c's encode (bos 1, eos 0), id for id: empty text, whitespace, digits,
    /// accents, scripts and emoji the vocabulary lacks (byte fallback), bytes that are not UTF-8.
    @Test func idsMatchRunC() throws {
        let goldens = try Llama2cTokenizerGoldens.shared.get()
        #expect(goldens.cases.count >= 100)
        let tokenizer = try fixtureTokenizer()
        var mismatches = 0
        for testCase in goldens.cases {
            let ids = try tokenizer.encode(bytes: testCase.bytes)
            if ids != testCase.ids {
                mismatches += 1
                Issue.record("\(testCase.bytes): ours \(ids), run.c \(testCase.ids)")
            }
            if let text = testCase.text { #expect(try tokenizer.encode(text) == testCase.ids) }
        }
        #expect(mismatches == 0)
    }

    /// Token text is the SentencePiece piece (`id_to_piece`): tokenizer.py's export undone.
    @Test func tokenTextIsTheSentencePiecePiece() throws {
        let goldens = try Llama2cTokenizerGoldens.shared.get()
        let tokenizer = try fixtureTokenizer()
        #expect(tokenizer.vocabularySize == goldens.vocabSize)
        #expect((0..<goldens.vocabSize).map(tokenizer.tokenText) == goldens.pieces)
        #expect(tokenizer.tokenText(goldens.vocabSize) == "<id \(goldens.vocabSize)>")
    }

    @Test func eosOnRequest() throws {
        var tokenizer = try fixtureTokenizer()
        tokenizer.addBOS = false
        tokenizer.addEOS = true
        let goldens = try Llama2cTokenizerGoldens.shared.get()
        let hello = try #require(goldens.cases.first { $0.text == "Hello world" })
        #expect(try tokenizer.encode("Hello world") == Array(hello.ids.dropFirst()) + [2])
        #expect(try tokenizer.encode("") == [2])
    }

    /// A hand-made vocabulary for run.c's rules that real SentencePiece files do not exercise.
    func vocabulary(_ entries: [(String, Float)]) -> Llama2cTokenizer {
        let pieces = entries.map { Array($0.0.utf8) }
        return Llama2cTokenizer(Llama2cVocabulary(
            file: "test.bin", maxTokenLength: pieces.map(\.count).max() ?? 0, scores: entries.map(\.1), pieces: pieces))
    }

    /// Ids 0-2 are <unk>, <s>, </s>; then one piece per case.
    var base: [(String, Float)] { [("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0), (" ", -1), ("a", -2), ("b", -3)] }

    @Test func equalScoresMergeLeftmostFirst() throws {
        let tokenizer = vocabulary(base + [("ab", 5), ("ba", 5), ("aba", -100)])
        // " abab": pairs ab (5) at 1, ba (5) at 2, ab (5) at 3: the leftmost wins, then ab ab.
        #expect(try tokenizer.encode(bytes: Array("abab".utf8)) == [1, 3, 6, 6])
        // "aba": ab and ba tie, ab is left; then ab + a = aba.
        #expect(try tokenizer.encode(bytes: Array("aba".utf8)) == [1, 3, 8])
    }

    @Test func scoresAtOrBelowTheThresholdAndNaNNeverMerge() throws {
        let tokenizer = vocabulary(base + [("ab", -1e10), ("ba", .nan), (" a", -9.9e9)])
        #expect(try tokenizer.encode(bytes: Array("ab".utf8)) == [1, 8, 5])
        #expect(try tokenizer.encode(bytes: Array("ba".utf8)) == [1, 3, 5, 4])
    }

    @Test func bosTakesPartInMerges() throws {
        // run.c merges over the whole array, BOS included.
        let tokenizer = vocabulary(base + [("\n<s>\n ", 1)])
        #expect(try tokenizer.encode(bytes: Array("a".utf8)) == [6, 4])
    }

    @Test func duplicatePiecesResolveToTheLowestID() throws {
        let tokenizer = vocabulary(base + [("a", 9), ("ab", 1)])
        #expect(try tokenizer.encode(bytes: Array("ab".utf8)) == [1, 3, 7])
        #expect(try tokenizer.encode(bytes: Array("a".utf8)) == [1, 3, 4])
    }

    @Test func textAndPiecesEndAtTheirFirstNUL() throws {
        let tokenizer = vocabulary(base + [("ab\u{0}zz", 1)])
        // The piece is "ab" to run.c, and so is the text "ab\0b".
        #expect(try tokenizer.encode(bytes: Array("ab\u{0}b".utf8)) == [1, 3, 6])
        #expect(try tokenizer.encode(bytes: [0, 0x61]) == [1])
    }

    @Test func groupsAreACodePointOfAtMostFourBytes() throws {
        // "é" (C3 A9) is one group and a piece; five continuation bytes make groups of 4 and 1.
        let tokenizer = vocabulary(base + [("é", -4)] + (7..<260).map { ("<0x\($0)>", -50) })
        #expect(try tokenizer.encode(bytes: [0xC3, 0xA9]) == [1, 3, 6])
        #expect(try tokenizer.encode(bytes: [0xF0, 0x80, 0x80, 0x80, 0x80]) == [1, 3, 0xF0 + 3, 0x83, 0x83, 0x83, 0x83])
    }

    @Test func unencodableTextIsAnError() throws {
        // No " " piece: run.c would prepend id -1.
        let noSpace = vocabulary([("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0), ("a", 0)])
        #expect(throws: TokenizerError.tokenNotInVocabulary(file: "test.bin", field: "dummy prefix (run.c's encode)", token: " ")) {
            try noSpace.encode(bytes: Array("a".utf8))
        }
        #expect(try noSpace.encode(bytes: []) == [1])
        // Byte fallback past the vocabulary: run.c would read beyond its table.
        #expect(throws: TokenizerError.unencodable(piece: "z")) { try vocabulary(base).encode(bytes: Array("z".utf8)) }
    }

    /// The tokenizer keeps candidate merges in a heap; run.c rescans every pair per merge. On random
    /// vocabularies full of tied scores both must merge the same pairs in the same order.
    @Test func heapMergesAsRunCsScan() throws {
        var rng = SeededGenerator(state: 2024)
        let alphabet = Array("ab c".utf8)
        for _ in 0..<300 {
            var entries: [(String, Float)] = [("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0)] + alphabet.map { (String(UnicodeScalar($0)), -5) }
            for _ in 0..<Int.random(in: 5...40, using: &rng) {
                let piece = String(decoding: (0..<Int.random(in: 2...5, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }, as: UTF8.self)
                entries.append((piece, [-1, 0, 0, 1, 2, -1e10, .nan].randomElement(using: &rng)!))
            }
            let tokenizer = vocabulary(entries)
            for _ in 0..<10 {
                let text = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
                #expect(try tokenizer.encode(bytes: text) == runCScan(entries, text), "\(entries) \(text)")
            }
        }
    }

    /// run.c's encode for ASCII text whose every byte is a piece, merges as run.c writes them.
    func runCScan(_ entries: [(String, Float)], _ text: [UInt8]) -> [Int] {
        let pieces = entries.map { Array($0.0.utf8) }
        func lookup(_ piece: [UInt8]) -> Int? { pieces.firstIndex(of: piece) }
        var tokens = [1] + (text.isEmpty ? [] : [lookup([0x20])!]) + text.map { lookup([$0])! }
        while true {
            var bestScore = Float(-1e10), bestID = -1, bestIndex = -1
            for i in 0..<max(0, tokens.count - 1) {
                if let id = lookup(pieces[tokens[i]] + pieces[tokens[i + 1]]), entries[id].1 > bestScore {
                    (bestScore, bestID, bestIndex) = (entries[id].1, id, i)
                }
            }
            if bestIndex == -1 { return tokens }
            tokens[bestIndex] = bestID
            tokens.remove(at: bestIndex + 1)
        }
    }

    /// A long input: a heap step per merge, not a pass over every pair.
    @Test func longTextIsQuick() throws {
        let tokenizer = try fixtureTokenizer()
        let text = String(repeating: "Once upon a time, there was a little girl named Lily. ", count: 2000)
        let start = Date()
        let ids = try tokenizer.encode(text)
        #expect(ids.count > 10_000)
        // About 0.3 s in a debug build; run.c's rescan would take minutes.
        #expect(Date().timeIntervalSince(start) < 5)
    }
}

// MARK: - Hostile files

/// A llama2.c file field by field, so a test can break exactly one rule. Defaults: dim 8,
/// hidden 16, 1 layer, 2 heads (head size 4), 1 kv head, vocab 6, seq_len 4, f32 weights.
struct Llama2cBytes {
    /// nil: v0 (no magic, no version).
    var version: Int32? = 1
    var dim: Int32 = 8, hidden: Int32 = 16, layers: Int32 = 1, heads: Int32 = 2, kvHeads: Int32 = 1, vocab: Int32 = 6, seqLen: Int32 = 4
    var shared: UInt8 = 1
    var groupSize: Int32 = 8
    /// Replaces the header after the fields (v1/v2).
    var padding: [UInt8]?
    /// Appended to, or (negative) cut from, the weights.
    var extraBytes = 0
    /// false: the header alone (for sizes too large to write).
    var withWeights = true

    /// Weight bytes as export.py writes them, counted here from its loops (wrapping: only
    /// meaningful for sizes a test writes).
    var weightBytes: Int {
        let (d, f, l, v, s) = (Int(dim), Int(hidden), Int(layers), Int(abs(vocab)), Int(seqLen))
        let kv = Int(kvHeads) &* d / max(1, Int(heads))
        let matrices = [d &* d, kv &* d, kv &* d, d &* d, f &* d, d &* f, f &* d].map { $0 &* l }
        let classifier = isShared ? 0 : v &* d
        let sum = { (values: [Int]) in values.reduce(0, &+) }
        switch version {
        case nil: return 4 &* sum([v &* d, 2 &* l &* d, sum(matrices), d, 2 &* (s &* (d / max(1, Int(heads))) / 2), classifier])
        case 2?:
            let quantized = [v &* d] + matrices + (isShared ? [] : [classifier])
            return 4 &* (2 &* l &* d &+ d) &+ quantized.reduce(0) { $0 &+ $1 &+ 4 &* ($1 / max(1, Int(groupSize))) }
        default: return 4 &* sum([2 &* l &* d, d, v &* d, sum(matrices), classifier])
        }
    }

    var isShared: Bool { version == nil ? vocab > 0 : shared == 1 }

    func bytes() -> [UInt8] {
        var file: [UInt8] = []
        if let version {
            file += [0x32, 0x34, 0x6B, 0x61]
            file.appendLE(UInt32(bitPattern: version))
        }
        for field in [dim, hidden, layers, heads, kvHeads, vocab, seqLen] { file.appendLE(UInt32(bitPattern: field)) }
        if version != nil {
            file.append(shared)
            if version == 2 { file.appendLE(UInt32(bitPattern: groupSize)) }
            file += padding ?? [UInt8](repeating: 0, count: 256 - file.count)
        }
        // Small values, valid both as f32 bytes and as int8 (0x3C: 0.0117 in f32 exponent range, 60 as int8).
        var rng = SeededGenerator(state: 11)
        let count = withWeights ? max(0, weightBytes + extraBytes) : 0
        file += (0..<count).map { index in index % 4 == 3 ? 0x3C : UInt8.random(in: 0...255, using: &rng) }
        return file
    }

    /// The error opening the bytes as a llama2.c file raises (the file's own reader, so a rule's
    /// error is not hidden behind "unrecognized format"), or nil.
    func openError() throws -> QKVError? {
        let path = try temporaryFile(bytes(), name: "model.bin")
        return thrownQKVError { _ = try Checkpoint(try Llama2cFile(path: path)) }
    }
}

@Suite struct HostileLlama2cTests {
    @Test func validFilesOfEveryVersionOpenAndRun() throws {
        for file in [Llama2cBytes(), Llama2cBytes(version: 2), Llama2cBytes(version: nil), Llama2cBytes(version: nil, vocab: -6),
                     Llama2cBytes(version: 2, shared: 0)] {
            let checkpoint = try CheckpointLoader.open(path: try temporaryFile(file.bytes()))
            #expect(checkpoint.format.name == "llama2c")
            #expect(checkpoint.hasTensor("lm_head") == !file.isShared)
            #expect(checkpoint.verifyAll().problems.isEmpty)
            let report = try AttentionRunner.run(AttentionRequest(input: .tokens("0 1 5")), checkpoint: checkpoint)
            #expect(report.layers.count == 1 && report.layers[0].heads.count == 2)
        }
    }

    @Test func truncatedHeader() throws {
        let short = Array(Llama2cBytes().bytes().prefix(20))
        let path = try temporaryFile(short)
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: path) } == .truncated(field: "n_heads", offset: 20, needed: 4, available: 0))
        let cut = Array(Llama2cBytes(version: 2).bytes().prefix(100))
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: try temporaryFile(cut)) }
            == .truncated(field: "header padding", offset: 41, needed: 215, available: 59))
    }

    @Test func badVersion() throws {
        #expect(try Llama2cBytes(version: 3).openError() == .invalidField(field: "version", offset: 4, expected: "1 or 2", found: "3"))
        #expect(try Llama2cBytes(version: 0).openError() == .invalidField(field: "version", offset: 4, expected: "1 or 2", found: "0"))
    }

    @Test func zeroAndNegativeSizes() throws {
        #expect(try Llama2cBytes(dim: 0).openError() == .invalidField(field: "dim", offset: 8, expected: "a positive integer", found: "0"))
        #expect(try Llama2cBytes(layers: -1).openError()
            == .invalidField(field: "n_layers", offset: 16, expected: "a positive integer", found: "-1"))
        #expect(try Llama2cBytes(vocab: -6).openError()
            == .invalidField(field: "vocab_size", offset: 28, expected: "a positive integer", found: "-6"))
        #expect(try Llama2cBytes(seqLen: 0).openError()
            == .invalidField(field: "seq_len", offset: 32, expected: "a positive integer", found: "0"))
    }

    @Test func dimNotAMultipleOfHeads() throws {
        #expect(try Llama2cBytes(dim: 10, heads: 4).openError()
            == .invalidField(field: "dim", offset: 8, expected: "a multiple of n_heads (4)", found: "10"))
    }

    @Test func kvHeadsNotDividingHeads() throws {
        #expect(try Llama2cBytes(dim: 16, heads: 4, kvHeads: 3).openError()
            == .invalidField(field: "n_kv_heads", offset: 24, expected: "a divisor of n_heads (4)", found: "3"))
        #expect(try Llama2cBytes(kvHeads: 4).openError()
            == .invalidField(field: "n_kv_heads", offset: 24, expected: "a divisor of n_heads (2)", found: "4"))
    }

    @Test func oddHeadSize() throws {
        #expect(try Llama2cBytes(dim: 12, heads: 4).openError() == .invalidField(
            field: "n_heads", offset: 20,
            expected: "a count giving an even head size dim / n_heads (RoPE rotates pairs; dim is 12)", found: "4"))
    }

    /// Sizes whose product does not fit: no allocation, no trap, the tensor named.
    @Test func hugeDimensionsOverflow() throws {
        // wq is dim² = 2⁶⁰ floats.
        #expect(try Llama2cBytes(dim: 1 << 30, heads: 1, kvHeads: 1, withWeights: false).openError() == .sizeOverflow(tensor: "layers.*.wq"))
        // 2³¹ − 1 layers of a 2³²-byte norm each.
        #expect(try Llama2cBytes(dim: 1 << 30, hidden: 1, layers: .max, heads: 1, kvHeads: 1, vocab: 1, withWeights: false).openError()
            == .sizeOverflow(tensor: "layers.*.attn_norm.weight"))
        // Every field at its maximum in v2, and in v0 (which is then just not recognised).
        #expect(try Llama2cBytes(
            version: 2, dim: 1 << 30, hidden: .max, layers: .max, heads: 1, kvHeads: 1, vocab: .max, seqLen: .max, withWeights: false)
            .openError() == .sizeOverflow(tensor: "layers.*.attn_norm.weight"))
        let legacy = Llama2cBytes(
            version: nil, dim: 1 << 30, hidden: .max, layers: .max, heads: 1, kvHeads: 1, vocab: .max, seqLen: .max, withWeights: false)
        #expect(Llama2cHeader.legacy(Array(legacy.bytes().prefix(28)), fileSize: .max) == nil)
    }

    @Test func sharedFlagNotABoolean() throws {
        #expect(try Llama2cBytes(shared: 2).openError() == .invalidField(field: "shared_classifier", offset: 36, expected: "0 or 1", found: "2"))
    }

    @Test func nonZeroHeaderPadding() throws {
        var padding = [UInt8](repeating: 0, count: 256 - 37)
        padding[100 - 37] = 1
        #expect(try Llama2cBytes(padding: padding).openError() == .nonZeroPadding(offset: 100))
    }

    @Test func groupSizeNotPositive() throws {
        #expect(try Llama2cBytes(version: 2, groupSize: 0).openError()
            == .invalidField(field: "group_size", offset: 37, expected: "a positive integer", found: "0"))
        #expect(try Llama2cBytes(version: 2, groupSize: -8).openError()
            == .invalidField(field: "group_size", offset: 37, expected: "a positive integer", found: "-8"))
    }

    @Test func groupSizeNotDividingATensor() throws {
        // 12 divides the embedding (48 values) but not wq (64).
        #expect(try Llama2cBytes(version: 2, groupSize: 12).openError() == .invalidField(
            field: "group_size", offset: 37, expected: "a divisor of every quantized tensor's size (layers.*.wq has 64 values)", found: "12"))
    }

    @Test func truncatedAndOverlongWeights() throws {
        for version in [Int32(1), 2] {
            let size = UInt64(Llama2cBytes(version: version).weightBytes)
            #expect(try Llama2cBytes(version: version, extraBytes: -1).openError() == .dataSizeMismatch(covered: size, available: size - 1))
            #expect(try Llama2cBytes(version: version, extraBytes: 3).openError() == .dataSizeMismatch(covered: size, available: size + 3))
        }
        // Only the header: the weights are all missing.
        let bare = Array(Llama2cBytes().bytes().prefix(256))
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: try temporaryFile(bare)) }
            == .dataSizeMismatch(covered: UInt64(Llama2cBytes().weightBytes), available: 0))
    }

    /// v0 has no magic: only the exact size implied by its config makes it one.
    @Test func legacyFileOffByOneIsNotRecognised() throws {
        for vocab in [Int32(6), -6] {
            let exact = Llama2cBytes(version: nil, vocab: vocab)
            #expect(try CheckpointLoader.open(path: try temporaryFile(exact.bytes())).format.description == "llama2.c v0 (legacy, f32)")
            for extra in [-1, 1] {
                var file = exact
                file.extraBytes = extra
                let bytes = file.bytes()
                #expect(thrownQKVError { _ = try CheckpointLoader.open(path: try temporaryFile(bytes)) }
                    == .unrecognizedFormat(found: Array(bytes.prefix(8))))
            }
        }
        // The other sign implies another size (the classifier stored or not).
        var flipped = Llama2cBytes(version: nil, vocab: 6).bytes()
        flipped[20..<24] = [0xFA, 0xFF, 0xFF, 0xFF]
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: try temporaryFile(flipped)) }
            == .unrecognizedFormat(found: Array(flipped.prefix(8))))
    }

    /// A config that breaks a rule is not v0 either, even at the size it implies.
    @Test func legacyFileBreakingARuleIsNotRecognised() throws {
        let odd = Llama2cBytes(version: nil, dim: 12, heads: 4)
        var bytes = odd.bytes()
        // Size it for a head size of 3 by hand: the rule, not the size, must reject it.
        let expected = 4 * (6 * 12 + 2 * 12 + (144 + 36 + 36 + 144 + 3 * 16 * 12) + 12 + 2 * (4 * 3 / 2))
        bytes = Array(bytes.prefix(28)) + [UInt8](repeating: 0, count: expected)
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: try temporaryFile(bytes)) }
            == .unrecognizedFormat(found: Array(bytes.prefix(8))))
    }

    @Test func openingSomethingElseAsLlama2c() throws {
        let path = try temporaryFile(Array("not a model at all, not at all".utf8))
        #expect(thrownQKVError { _ = try Llama2cFile(path: path) } == .invalidField(
            field: "magic", offset: 0,
            expected: "0x616b3432 \"ak42\" (bytes 32 34 6B 61), or a legacy (v0) config whose weights fill the file's 30 bytes exactly",
            found: "6E 6F 74 20"))
    }

    // MARK: tokenizer.bin

    /// tokenizer.bin bytes: max_token_length, then (score, length, bytes) per entry.
    func tokenizerBytes(maxLength: UInt32 = 8, _ entries: [(Float, Int32, [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLE(maxLength)
        for (score, length, piece) in entries {
            bytes.appendLE(score.bitPattern)
            bytes.appendLE(UInt32(bitPattern: length))
            bytes += piece
        }
        return bytes
    }

    var sixTokens: [(Float, Int32, [UInt8])] {
        ["<unk>", "\n<s>\n", "\n</s>\n", " ", "a", "b"].map { (0, Int32($0.utf8.count), Array($0.utf8)) }
    }

    func tokenizerError(_ bytes: [UInt8], vocabSize: Int = 6) -> QKVError? {
        thrownQKVError { _ = try bytes.withBytes { (raw) throws(QKVError) in try Llama2cVocabulary.parse(raw, vocabSize: vocabSize, file: "t.bin") } }
    }

    @Test func validTokenizerReads() throws {
        let vocabulary = try tokenizerBytes(sixTokens).withBytes { (raw) throws(QKVError) in
            try Llama2cVocabulary.parse(raw, vocabSize: 6, file: "t.bin")
        }
        #expect(vocabulary.pieces.map { String(decoding: $0, as: UTF8.self) } == ["<unk>", "\n<s>\n", "\n</s>\n", " ", "a", "b"])
        #expect(vocabulary.maxTokenLength == 8)
    }

    @Test func tokenizerTruncated() throws {
        #expect(tokenizerError([]) == .truncated(field: "max_token_length", offset: 0, needed: 4, available: 0))
        let whole = tokenizerBytes(sixTokens)
        // Cut inside the last piece ("b" at the very end).
        #expect(tokenizerError(Array(whole.dropLast())) == .truncated(field: "token 5 bytes", offset: whole.count - 1, needed: 1, available: 0))
        // Cut inside the last length.
        #expect(tokenizerError(Array(whole.dropLast(3))) == .truncated(field: "token 5 length", offset: whole.count - 5, needed: 4, available: 2))
    }

    @Test func tokenizerNegativeLength() throws {
        var entries = sixTokens
        entries[2] = (0, -1, [])
        let offset = 4 + 8 + 5 + 8 + 5 + 4
        #expect(tokenizerError(tokenizerBytes(entries))
            == .invalidField(field: "token 2 length", offset: offset, expected: "0...8 (max_token_length)", found: "-1"))
    }

    @Test func tokenizerLengthOverMaximum() throws {
        var entries = sixTokens
        entries[0] = (0, 9, Array("123456789".utf8))
        #expect(tokenizerError(tokenizerBytes(entries))
            == .invalidField(field: "token 0 length", offset: 8, expected: "0...8 (max_token_length)", found: "9"))
    }

    @Test func tokenizerLengthPastTheEnd() throws {
        let bytes = tokenizerBytes(maxLength: 1 << 30, [(0, 1 << 30, Array("abc".utf8))])
        #expect(tokenizerError(bytes) == .truncated(field: "token 0 bytes", offset: 12, needed: 1 << 30, available: 3))
    }

    @Test func tokenizerForAnotherVocabularySize() throws {
        #expect(tokenizerError(tokenizerBytes(Array(sixTokens.prefix(5)))) == .tokenizerVocabularyMismatch(tokens: 5, vocabSize: 6))
        #expect(tokenizerError(tokenizerBytes(sixTokens + [(0, 1, [0x63])])) == .tokenizerVocabularyMismatch(tokens: 7, vocabSize: 6))
        #expect(tokenizerError(tokenizerBytes(sixTokens), vocabSize: 2_000_000_000)
            == .tokenizerVocabularyMismatch(tokens: 6, vocabSize: 2_000_000_000))
        #expect(tokenizerError(tokenizerBytes(sixTokens) + [1, 2, 3]) == .tokenizerTrailingBytes(count: 3, vocabSize: 6))
    }

    /// Through the loader: the error names the tokenizer file, not the checkpoint.
    @Test func tokenizerErrorsNameTheTokenizer() throws {
        let model = try temporaryFile(Llama2cBytes().bytes(), name: "model.bin")
        let tokenizer = try temporaryFile(tokenizerBytes(Array(sixTokens.prefix(4))), name: "tokenizer.bin")
        do {
            _ = try CheckpointLoader.open(path: model, tokenizer: .llama2c(path: tokenizer))
            Issue.record("opened")
        } catch let error as LocatedError {
            #expect(error.path == tokenizer)
            #expect(error.error == .tokenizerVocabularyMismatch(tokens: 4, vocabSize: 6))
        }
        let missing = model + ".missing"
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: model, tokenizer: .llama2c(path: missing)) }
            == .cannotOpen(reason: "No such file or directory"))
    }
}

// MARK: - Command line

@Suite(.serialized) struct Llama2cCommandLineTests {
    let model = "fixtures/llama2c/tiny-v0-shared.bin"
    let tokenizer = "fixtures/llama2c/tokenizer.bin"

    func expectCleanFailure(_ arguments: [String], mentioning fragments: [String]) throws {
        let result = try runQKV(arguments)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)") }
    }

    @Test func runWithTokenizerAndText() throws {
        let reference = try Llama2cReference("tiny-v0-shared.bin")
        let result = try runQKV(["run", model, "--tokenizer", tokenizer, "--text", reference.text!, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let tokens = object["tokens"] as! [[String: Any]]
        #expect(tokens.map { ($0["id"] as! NSNumber).intValue } == reference.tokenLists.last)
        #expect(tokens.first?["text"] as? String == "<s>")
        let layers = object["layers"] as! [[String: Any]]
        let scores = layers.map { ($0["heads"] as! [[String: Any]]).map { ($0["scores"] as! [[NSNumber]]).map { $0.map(\.doubleValue) } } }
        var worst = 0.0
        for (ours, golden) in zip(scores, reference.attentions.last!) {
            for (a, b) in zip(ours, golden) { for (x, y) in zip(a, b) { for (p, q) in zip(x, y) { worst = max(worst, abs(p - q)) } } }
        }
        #expect(worst < 1e-5)
    }

    @Test func runWithTokensNeedsNoTokenizer() throws {
        let result = try runQKV(["run", "fixtures/llama2c/tiny-v2.bin", "--tokens", "1 2 3", "--layers", "0", "--heads", "0"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("layer 0 head 0     1     2     3\n1               1.00  0.00  0.00\n"))
    }

    @Test func textWithoutTokenizerFailsCleanly() throws {
        try expectCleanFailure(["run", model, "--text", "Once upon a time"],
                               mentioning: [model, "--tokenizer", "--tokens", "llama2.c checkpoints hold no vocabulary"])
    }

    @Test func tokenizerWithAnotherFormatFailsCleanly() throws {
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokenizer", tokenizer, "--tokens", "1"],
                               mentioning: ["fixtures/seed.qkv", "only for llama2.c checkpoints", "qkv v1"])
        try expectCleanFailure(["run", "fixtures/llama2c/tiny-v1.bin", "--tokenizer", tokenizer, "--tokens", "1"],
                               mentioning: [tokenizer, "holds 400 tokens", "vocab_size is 60"])
    }

    @Test func headsBenchAndConvertTakeTheTokenizer() throws {
        let heads = try runQKV(["heads", model, "--tokenizer", tokenizer, "--text", "The cat sat.", "--format", "csv"])
        #expect(heads.status == 0, "\(heads.stderr)")
        #expect(heads.stdout.split(separator: "\n").count == 1 + 2 * 4)
        let bench = try runQKV(["bench", model, "--tokenizer", tokenizer, "--text", "The cat sat.", "--iterations", "1", "--warmup", "0", "--format", "json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-l2c-\(UUID().uuidString).qkv").path
        let converted = try runQKV(["convert", model, "--tokenizer", tokenizer, "-o", output])
        #expect(converted.status == 0, "\(converted.stderr)")
        let run = try runQKV(["run", output, "--tokens", "<s> ▁Lily", "--format", "csv"])
        #expect(run.status == 0 && run.stdout.contains("<s>,▁Lily"), "\(run.stdout)\(run.stderr)")
    }

    @Test func helpExplainsTheTokenizerOption() throws {
        let result = try runQKV(["run", "--help"])
        #expect(result.stdout.contains("--tokenizer") && result.stdout.contains("llama2.c"))
    }

    @Test func inspectAndVerify() throws {
        let inspect = try runQKV(["inspect", "fixtures/llama2c/tiny-v2.bin"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("llama2.c v2 (int8, group size 16)"))
        let verify = try runQKV(["verify", "fixtures/llama2c/tiny-v2.bin"])
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("ok: fixtures/llama2c/tiny-v2.bin: 21 tensors"))
    }
}
