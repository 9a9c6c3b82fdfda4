import Foundation
import Testing
@testable import QKVKit

/// Runs the built `qkv` executable as a user would and checks streams and exit status.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The `qkv` binary next to the test bundle in the build folder.
let qkvExecutable: URL? = {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("qkv")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory.deleteLastPathComponent()
    }
    let fallback = repositoryRoot.appendingPathComponent(".build/debug/qkv")
    return FileManager.default.isExecutableFile(atPath: fallback.path) ? fallback : nil
}()

func runQKV(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> CommandResult {
    let executable = try #require(qkvExecutable, "the qkv executable was not built next to the tests")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    stdin.fileHandleForWriting.write(Data((input ?? "").utf8))
    try stdin.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

@Suite(.serialized) struct CommandLineTests {
    /// The failure contract: status 1, nothing on stdout, exactly one line on stderr naming the file.
    func expectCleanFailure(_ arguments: [String], mentioning fragments: [String]) throws {
        let result = try runQKV(arguments)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)") }
    }

    /// `bench` prints its table on stdout; a debug build (what the tests run) warns on stderr.
    @Test func benchReportsWeightsAndWarnsInDebug() throws {
        let result = try runQKV(["bench", "fixtures/hf/tiny-llama", "--tokens", "1,2,3", "--iterations", "2", "--warmup", "0",
                                 "--format", "json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((object?["weights"] as? [String: Int]) == ["f32": 19360])
        #expect((object?["tokens"] as? Int) == 3)
        #expect(["avx512", "avx2-fma", "generic"].contains(object?["kernels"] as? String ?? ""))
        #if DEBUG
        #expect(result.stderr.contains("debug build"))
        #endif
    }

    @Test func demoPrintsTheTable() throws {
        let result = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1 x2 x3"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.hasPrefix("layer 0 head 0    x1    x2    x3\nx1              0.90  0.03  0.08\n"))
    }

    @Test func inspectJSONParses() throws {
        let result = try runQKV(["inspect", "fixtures/gqa_causal_pos.qkv", "--format", "json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((object?["total_parameters"] as? Int) == 1488)
        #expect((object?["compression"] as? String) == "none")
    }

    @Test func runCSVHasOneRowPerCell() throws {
        let result = try runQKV(["run", "fixtures/gqa_causal_pos.qkv", "--tokens", "1,2,3", "--layers", "0,2", "--heads", "1", "--format", "csv"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "layer,head,query,key,score,query_token,key_token")
        #expect(lines.count == 1 + 2 * 1 * 3 * 3)
    }

    @Test func badTokensFailCleanly() throws {
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", "7"], mentioning: ["fixtures/seed.qkv", "id 7", "0..<3"])
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens=-1"], mentioning: ["-1", "out of range"])
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", "banana"], mentioning: ["\"banana\"", "not in the vocabulary"])
        try expectCleanFailure(["run", "fixtures/no_wo_no_tokenizer.qkv", "--tokens", "x1"], mentioning: ["\"x1\"", "not a token id"])
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", " , "], mentioning: ["at least one token"])
        try expectCleanFailure(["run", "fixtures/gqa_causal_pos.qkv", "--tokens", "1 2 3 4 5 6 7"], mentioning: ["7 tokens", "at most 6"])
        try expectCleanFailure(["run", "fixtures/no_wo_no_tokenizer.qkv", "--text", "a b"], mentioning: ["tokenizer.tokens", "--tokens"])
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", "1", "--layers", "3"], mentioning: ["--layers", "3"])
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", "1", "--heads", "x"], mentioning: ["--heads", "\"x\""])
    }

    @Test func badFilesFailCleanly() throws {
        let garbage = try temporaryFile(Array("not a model at all".utf8))
        try expectCleanFailure(["inspect", garbage], mentioning: [garbage, "format"])
        try expectCleanFailure(["inspect", "/nonexistent/model.qkv"], mentioning: ["/nonexistent/model.qkv", "No such file"])
        var corrupted = try Array(Data(contentsOf: URL(fileURLWithPath: fixturePath("seed.qkv"))))
        corrupted[corrupted.count - 3] ^= 0x40
        let path = try temporaryFile(corrupted)
        try expectCleanFailure(["run", path, "--tokens", "0"], mentioning: [path, "layers.0.wv", "crc32"])
        let result = try runQKV(["verify", path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("layers.0.wv"))
    }

    @Test func verifyPassesOnSoundFiles() throws {
        let result = try runQKV(["verify", "fixtures/f32_shuffle_gzip.qkv"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("ok: fixtures/f32_shuffle_gzip.qkv"))
    }

    @Test func usageErrorsExitWith64() throws {
        let result = try runQKV(["run", "fixtures/seed.qkv"])
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
    }

    @Test func everyCommandHasHelp() throws {
        for command in ["inspect", "run", "verify", "convert"] {
            let result = try runQKV([command, "--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("USAGE"))
        }
    }

    /// A tokenizer QKV v1 cannot hold is named on stderr (the vocabulary survives as tokenizer.tokens);
    /// a checkpoint with none, or with a tokenizer.json that is kept, converts without a note.
    @Test func convertSaysWhichTokenizerItCannotKeep() throws {
        let output = temporaryPath("converted.qkv")
        let gguf = try runQKV(["convert", "fixtures/gguf/tiny/tiny-llama-s-Q8_0.gguf", "-o", output])
        #expect(gguf.status == 0 && gguf.stdout.hasPrefix("wrote \(output): 21 tensors"))
        #expect(gguf.stderr == "qkv: note: the GGUF tokenizer (tokenizer.ggml.*) is not kept (QKV v1 holds a Hugging Face "
            + "tokenizer.json only): the vocabulary is, as tokenizer.tokens, so --text on \(output) splits on whitespace; "
            + "give --tokens, or run the original file\n")
        let tokens = try runQKV(["tokenize", output, "--text", "<s> <unk>", "--format", "json"])
        #expect(tokens.stdout == "{\"tokens\":[{\"id\":1,\"text\":\"<s>\"},{\"id\":0,\"text\":\"<unk>\"}]}\n")
        for plain in ["fixtures/hf/tiny-bert", "fixtures/seed.qkv"] {
            let result = try runQKV(["convert", plain, "-o", output])
            #expect(result.status == 0 && result.stderr.isEmpty, "\(plain): \(result.stderr)")
        }
    }

    @Test func convertRoundTripsAttention() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-convert-\(UUID().uuidString).qkv").path
        let converted = try runQKV(["convert", "fixtures/headdim_wo.qkv", "-o", output, "--encoding", "shuffle", "--wrap", "zlib"])
        #expect(converted.status == 0)
        let before = try runQKV(["run", "fixtures/headdim_wo.qkv", "--tokens", "2 2 6 7", "--format", "json"])
        let after = try runQKV(["run", output, "--tokens", "2 2 6 7", "--format", "json"])
        #expect(before.stdout == after.stdout)
    }
}
