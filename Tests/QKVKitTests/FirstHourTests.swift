import Foundation
import Testing
@testable import QKVKit

/// What a new user hits in the first hour (issue 13), each through the command line.
@Suite(.serialized) struct FirstHourTests {
    /// Exit 1, nothing on stdout, one stderr line with every fragment.
    func expectCleanFailure(_ arguments: [String], mentioning fragments: [String], environment: [String: String] = [:]) throws {
        let result = try runQKV(arguments, environment: environment)
        #expect(result.status == 1, "\(arguments)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        for fragment in fragments { #expect(result.stderr.contains(fragment), "stderr: \(result.stderr)") }
    }

    /// Negative numbers are values, and their errors say what is wrong with them.
    @Test func negativeNumbersGetRealMessages() throws {
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", "0,1", "--heads", "-1"], mentioning: ["--heads: -1 is out of range"])
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--tokens", "-1"], mentioning: ["id -1 is out of range"])
        for arguments in [["run", "fixtures/seed.qkv", "--tokens", "0", "--precision", "-1"],
                          ["bench", "fixtures/seed.qkv", "--tokens", "0", "--iterations", "-5"]] {
            let result = try runQKV(arguments)
            #expect(result.status == 64)
            #expect(result.stderr.contains("found -"), "stderr: \(result.stderr)")
            #expect(!result.stderr.contains("Missing value"))
        }
    }

    @Test func bareQKVIsAUsageError() throws {
        let result = try runQKV([])
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("SUBCOMMANDS"))
    }

    /// verify says what it checked: checksums only where the format has them.
    @Test func verifySaysWhatItChecked() throws {
        let qkv = try runQKV(["verify", "fixtures/seed.qkv"])
        #expect(qkv.stdout.contains("checksums match, all values finite"))
        let safetensors = try runQKV(["verify", "fixtures/hf/tiny-bert"])
        #expect(safetensors.status == 0)
        #expect(safetensors.stdout.contains("all values finite (the format has no checksums)"))
        #expect(!safetensors.stdout.contains("checksums match"))
    }

    /// Errors name what was looked for and not found.
    @Test func errorsPointAtTheRightThing() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try expectCleanFailure(["inspect", empty.path], mentioning: ["no checkpoint: looked for model.safetensors", "no file qkv reads"])
        try FileManager.default.copyItem(atPath: fixturePath("seed.qkv"), toPath: empty.appendingPathComponent("seed.qkv").path)
        try expectCleanFailure(["inspect", empty.path], mentioning: ["it holds seed.qkv: pass one of them"])
        try expectCleanFailure(["inspect", "fixtures/hf/tiny-bert/config.json"], mentioning: ["config.json, not its weights"])
        let nothing = try temporaryFile([], name: "empty.bin")
        try expectCleanFailure(["inspect", nothing], mentioning: ["format: the file is empty"])
        try expectCleanFailure(["convert", "fixtures/seed.qkv", "-o", "/nonexistent-qkv/dir/x.qkv"],
                               mentioning: ["the folder /nonexistent-qkv/dir does not exist"])
        try expectCleanFailure(["run", "fixtures/hf/tiny-bert", "--text", "hello"],
                               mentioning: ["has none (looked for tokenizer.json and vocab.txt in fixtures/hf/tiny-bert)", "--tokens"])
        let config = try temporaryFile(Array(#"{"model_type": "bert", "hidden_size": 32,}"#.utf8), name: "config.json")
        let folder = (config as NSString).deletingLastPathComponent
        try FileManager.default.copyItem(atPath: fixturePath("hf/tiny-bert/model.safetensors"), toPath: folder + "/model.safetensors")
        try expectCleanFailure(["inspect", folder], mentioning: ["config.json", "invalid JSON at byte"])
    }

    /// --text - reads stdin, --text-file a file; both tokenize like --text.
    @Test func textFromStdinAndFiles() throws {
        let direct = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1 x3", "--format", "json"])
        let piped = try runQKV(["run", "fixtures/seed.qkv", "--text", "-", "--format", "json"], input: "x1 x3\n")
        let file = try temporaryFile(Array("x1 x3".utf8), name: "text.txt")
        let fromFile = try runQKV(["run", "fixtures/seed.qkv", "--text-file", file, "--format", "json"])
        #expect(direct.status == 0 && !direct.stdout.isEmpty)
        #expect(piped.stdout == direct.stdout && fromFile.stdout == direct.stdout)
        try expectCleanFailure(["run", "fixtures/seed.qkv", "--text-file", "/nonexistent-qkv.txt"], mentioning: ["cannot read the text file"])
    }

    /// A table of a many-layer model shows its last layer by default; JSON keeps every layer.
    @Test func tablesDefaultToTheLastLayer() throws {
        let table = try runQKV(["run", "fixtures/hf/tiny-llama", "--tokens", "1,2,3"])
        #expect(table.stdout.hasPrefix("layer 1 head 0"))
        #expect(!table.stdout.contains("layer 0 head"))
        let all = try runQKV(["run", "fixtures/hf/tiny-llama", "--tokens", "1,2,3", "--layers", "all"])
        #expect(all.stdout.contains("layer 0 head 0") && all.stdout.contains("layer 1 head 3"))
        let json = try runQKV(["run", "fixtures/hf/tiny-llama", "--tokens", "1,2,3", "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["layers"] as? [Any])?.count == 2)
    }

    /// COLUMNS splits wide tables into blocks of keys; a pipe without it gets whole rows.
    @Test func tablesFitColumns() throws {
        let ids = (1...20).map(String.init).joined(separator: ",")
        let narrow = try runQKV(["run", "fixtures/hf/tiny-llama", "--tokens", ids, "--heads", "0"], environment: ["COLUMNS": "60"])
        #expect(narrow.stdout.split(separator: "\n").allSatisfy { displayWidth(String($0)) <= 60 })
        #expect(narrow.stdout.contains("keys 0–"))
        let piped = try runQKV(["run", "fixtures/hf/tiny-llama", "--tokens", ids, "--heads", "0"], environment: ["COLUMNS": ""])
        #expect(!piped.stdout.contains("keys 0–"))
        #expect(piped.stdout.split(separator: "\n").count == 21)
    }

    /// inspect summarises long values in tables; JSON keeps them only with --full.
    @Test func longMetadataIsSummarised() throws {
        var metadata = Metadata([("general.name", .string("long")), ("qkv.architecture", .string("attention")),
                                 ("qkv.vocab_size", .int(2)), ("qkv.dim", .int(2)), ("qkv.n_layers", .int(1)), ("qkv.n_heads", .int(1))])
        metadata[QKVFile.tokenizerJSONKey] = .string("{\"model\": \"" + String(repeating: "x", count: 20_000) + "\"}")
        let tensors = ["embed", "layers.0.wq", "layers.0.wk", "layers.0.wv"].map { QKVWriter.Tensor($0, shape: [2, 2], values: [1, 0, 0, 1]) }
        let path = try temporaryFile(QKVWriter(metadata: metadata, tensors: tensors).bytes())
        let table = try runQKV(["inspect", path])
        #expect(table.stdout.contains("20,013 bytes of JSON"))
        #expect(table.stdout.count < 5_000)
        let json = try runQKV(["inspect", path, "--format", "json"])
        #expect(json.stdout.count < 10_000 && json.stdout.contains("\"omitted_bytes\": 20013"))
        let full = try runQKV(["inspect", path, "--format", "json", "--full"])
        #expect(full.stdout.count > 20_000)
    }
}
