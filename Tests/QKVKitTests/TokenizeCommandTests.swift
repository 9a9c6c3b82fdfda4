import Foundation
import Testing
@testable import QKVKit

/// `qkv tokenize` as a user runs it: exit status, exact stdout, one stderr line on failure.
@Suite(.serialized) struct TokenizeCommandTests {
    /// Runs qkv with `input` on standard input.
    func runQKV(_ arguments: [String], stdin input: String) throws -> CommandResult {
        let executable = try #require(qkvExecutable, "the qkv executable was not built next to the tests")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let stdin = Pipe()
        let out = Pipe()
        let err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// The JSON `qkv tokenize --format json` must print for `ids` (texts from the vocabulary).
    func expectedJSON(_ ids: [Int], vocabulary path: String) throws -> String {
        let tokenizer = try ggufTokenizer(path: path)
        return TextTokenization.json(ids.map { TextTokenization.Token(id: $0, text: tokenizer.tokenText($0)) }).rendered() + "\n"
    }

    func expectCleanFailure(_ result: CommandResult, mentioning fragments: [String]) {
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)") }
    }

    static let chat = 125  // "<|im_start|>user\nHello<|im_end|>\n" in the corpus
    static let endWithNewline = 17  // "end\n"

    @Test("vocab-only GGUF files give llama.cpp's ids", arguments: ["bpe-smollm", "bpe-llama-bpe", "spm-bpe", "bert-minilm"])
    func vocabOnlyGGUF(vocabulary: String) throws {
        let path = fixturePath("gguf/vocab/\(vocabulary).gguf")
        let goldens = try ggufGoldens(fixturePath("gguf/vocab/\(vocabulary).ids.json"))
        let text = ggufCorpus[Self.chat]
        let result = try QKVKitTests.runQKV(["tokenize", path, "--text", text, "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout == (try expectedJSON(goldens["add-parse"]![Self.chat], vocabulary: path)))
        let bare = try QKVKitTests.runQKV(["tokenize", path, "--text", text, "--format", "json", "--no-special"])
        #expect(bare.stdout == (try expectedJSON(goldens["noadd-parse"]![Self.chat], vocabulary: path)))
    }

    @Test func textFromAFileAndFromStandardInput() throws {
        let path = fixturePath("gguf/vocab/spm-bpe.gguf")
        let expected = try expectedJSON(try ggufGoldens(fixturePath("gguf/vocab/spm-bpe.ids.json"))["add-parse"]![Self.endWithNewline],
                                        vocabulary: path)
        let file = try temporaryFile(Array(ggufCorpus[Self.endWithNewline].utf8), name: "text.txt")
        let fromFile = try runQKV(["tokenize", path, "--text-file", file, "--format", "json"], stdin: "")
        #expect(fromFile.status == 0)
        #expect(fromFile.stdout == expected)
        let fromStdin = try runQKV(["tokenize", path, "--text", "-", "--format", "json"], stdin: ggufCorpus[Self.endWithNewline])
        #expect(fromStdin.status == 0)
        #expect(fromStdin.stdout == expected)
    }

    @Test func tableShowsInvisibleCharacters() throws {
        let result = try QKVKitTests.runQKV(["tokenize", fixturePath("gguf/vocab/spm-bpe.gguf"), "--text", " Hi\tthere\\"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            index    id  text
                0     1  <s>
                1   260  ▁▁
                2  1036  Hi
                3  1469  \\t
                4  1406  t
                5   277  he
                6   265  re
                7  1546  \\\\

            """)
        #expect(TextTokenization.visible("a b\u{A0}\u{200D}\r\n") == "a␣b\\u{A0}\\u{200D}\\r\\n")
    }

    @Test func huggingFaceFolderAndConvertedQKVFile() throws {
        // The tiny BERT fixture with MiniLM's tokenizer.json beside it, then converted to QKV.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-tokenize-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: fixturePath("hf/tiny-bert/\(file)"), toPath: folder.appendingPathComponent(file).path)
        }
        try FileManager.default.copyItem(atPath: fixturePath("tokenizers/minilm/tokenizer.json"),
                                         toPath: folder.appendingPathComponent("tokenizer.json").path)
        let converted = folder.appendingPathComponent("converted.qkv").path
        #expect(try QKVKitTests.runQKV(["convert", folder.path, "-o", converted]).status == 0)
        // transformers' ids for "Hello, world!" (fixtures/tokenizers/goldens.json).
        let expected = #"{"tokens":[{"id":101,"text":"[CLS]"},{"id":7592,"text":"hello"},{"id":1010,"text":","},{"id":2088,"text":"world"},{"id":999,"text":"!"},{"id":102,"text":"[SEP]"}]}"# + "\n"
        for path in [folder.path, converted] {
            let result = try QKVKitTests.runQKV(["tokenize", path, "--text", "Hello, world!", "--format", "json"])
            #expect(result.status == 0)
            #expect(result.stdout == expected)
            let bare = try QKVKitTests.runQKV(["tokenize", path, "--text", "Hello, world!", "--format", "json", "--no-special"])
            #expect(bare.stdout == expected.replacingOccurrences(of: #"{"id":101,"text":"[CLS]"},"#, with: "")
                .replacingOccurrences(of: #",{"id":102,"text":"[SEP]"}"#, with: ""))
        }
    }

    /// A llama2.c checkpoint with its tokenizer.bin: run.c's ids (fixtures/llama2c/tokenizer_goldens.json).
    @Test func llama2cCheckpointWithItsTokenizer() throws {
        struct Goldens: Decodable {
            struct Case: Decodable { var text: String?; var ids: [Int] }
            var cases: [Case]
        }
        let goldens = try JSONDecoder().decode(Goldens.self, from: Data(contentsOf: URL(fileURLWithPath: fixturePath("llama2c/tokenizer_goldens.json"))))
        let golden = try #require(goldens.cases.first { ($0.text?.count ?? 0) > 8 && !$0.text!.contains("\u{0}") })
        let arguments = ["tokenize", fixturePath("llama2c/tiny-v0-shared.bin"), "--tokenizer", fixturePath("llama2c/tokenizer.bin"),
                         "--text", golden.text!, "--format", "json"]
        let result = try QKVKitTests.runQKV(arguments)
        #expect(result.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((root["tokens"] as? [[String: Any]])?.compactMap { ($0["id"] as? NSNumber)?.intValue } == golden.ids)
        // Without the tokenizer there is none; with one, other formats refuse it.
        expectCleanFailure(try QKVKitTests.runQKV(["tokenize", fixturePath("llama2c/tiny-v0-shared.bin"), "--text", "x"]),
                           mentioning: ["has no tokenizer", "--tokenizer"])
        expectCleanFailure(try QKVKitTests.runQKV(["tokenize", "fixtures/seed.qkv", "--tokenizer", fixturePath("llama2c/tokenizer.bin"),
                                                   "--text", "x1"]), mentioning: ["llama2.c"])
    }

    @Test func aTokenListSplitsOnWhitespaceAsRunDoes() throws {
        let result = try QKVKitTests.runQKV(["tokenize", "fixtures/seed.qkv", "--text", "x1  x3", "--format", "json"])
        #expect(result.stdout == #"{"tokens":[{"id":0,"text":"x1"},{"id":2,"text":"x3"}]}"# + "\n")
    }

    @Test func fileWithoutTokenizer() throws {
        expectCleanFailure(try QKVKitTests.runQKV(["tokenize", "fixtures/no_wo_no_tokenizer.qkv", "--text", "x"]),
                           mentioning: ["fixtures/no_wo_no_tokenizer.qkv", "has no tokenizer", "tokenizer.tokens"])
        var none = TokenizerGGUF.byteLevelBPE()
        none["tokenizer.ggml.model"] = .string("none")
        let path = try temporaryFile(none.bytes(), name: "none.gguf")
        expectCleanFailure(try QKVKitTests.runQKV(["tokenize", path, "--text", "x"]), mentioning: [path, "tokenizer.ggml.model"])
    }

    @Test func hostileTokenizerMetadataIsOneLine() throws {
        var file = TokenizerGGUF.byteLevelBPE()
        file["tokenizer.ggml.merges"] = .strings(["Ġ t", "zz e"])
        let path = try temporaryFile(file.bytes(), name: "bad.gguf")
        expectCleanFailure(try QKVKitTests.runQKV(["tokenize", path, "--text", "x"]), mentioning: [path, "tokenizer.ggml.merges[1]", "\"zz\""])
    }

    @Test func textTheVocabularyCannotSpellIsOneLine() throws {
        // SentencePiece without byte tokens cannot spell "z" (llama.cpp throws out of its C API).
        var file = TokenizerGGUF()
        file["tokenizer.ggml.model"] = .string("llama")
        file["tokenizer.ggml.tokens"] = .strings(["<unk>", "<s>", "</s>", "▁", "a"])
        file["tokenizer.ggml.scores"] = .f32s([0, 0, 0, 0, 0])
        let path = try temporaryFile(file.bytes(), name: "no-bytes.gguf")
        let result = try QKVKitTests.runQKV(["tokenize", path, "--text", "a z"])
        expectCleanFailure(result, mentioning: [path, "\"z\""])
        #expect(!result.stderr.contains("--tokens"))
    }

    @Test func textMustBeUTF8AndGivenOnce() throws {
        let path = try temporaryFile([0x61, 0xFF, 0x62], name: "bad.txt")
        expectCleanFailure(try runQKV(["tokenize", fixturePath("gguf/vocab/spm-bpe.gguf"), "--text-file", path], stdin: ""),
                           mentioning: [path, "UTF-8", "offset 1"])
        let both = try runQKV(["tokenize", "fixtures/seed.qkv", "--text", "a", "--text-file", path], stdin: "")
        #expect(both.status == 64)
        #expect(both.stdout.isEmpty)
    }

    /// `run --text` takes the same ids: SmolLM2 has add_bos_token false, so no BOS.
    @Test func runTextUsesTheSameTokenizer() throws {
        let model = try ModelCache.smolLM2()
        let text = ggufCorpus[Self.chat]
        let expected = try ggufGoldens(fixturePath("gguf/smollm2.ids.json"))["add-parse"]![Self.chat]
        let run = try QKVKitTests.runQKV(["run", model, "--text", text, "--layers", "0", "--heads", "0", "--format", "json"])
        #expect(run.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let ids = (root["tokens"] as? [[String: Any]])?.compactMap { ($0["id"] as? NSNumber)?.intValue }
        #expect(ids == expected)
        let tokenize = try QKVKitTests.runQKV(["tokenize", model, "--text", text, "--format", "json"])
        #expect(tokenize.stdout == (try expectedJSON(expected, vocabulary: model)))
    }
}
