import Foundation
import Testing
@testable import QKVKit

/// Runs `qkv` under a pseudo-terminal (util-linux `script`), so stdout is a TTY.
func runQKVOnTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let executable = try #require(qkvExecutable)
    let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let exports = environment.map { "export \($0.key)='\($0.value)'; " }.joined()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qec", exports + quoted.joined(separator: " "), "/dev/null"]
    process.currentDirectoryURL = repositoryRoot
    var env = ProcessInfo.processInfo.environment
    env["TERM"] = "xterm-256color"
    env["NO_COLOR"] = nil
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    // The terminal turns "\n" into "\r\n".
    let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    return CommandResult(status: process.terminationStatus, stdout: text, stderr: "")
}

func runQKVBytes(_ arguments: [String]) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
    let executable = try #require(qkvExecutable)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, Array(stdout), String(decoding: stderr, as: UTF8.self))
}

@Suite(.serialized) struct VisualizationCommandTests {
    static let formats = ["html", "svg", "png", "npz"]

    /// Writes every picture format with -o and checks each file with an independent reader.
    func checkEveryFormat(_ model: String, _ input: [String], tokenCount: Int, layers: Int, heads: Int) throws {
        let folder = URL(fileURLWithPath: temporaryPath("x")).deletingLastPathComponent().path
        let json = try runQKV(["run", model] + input + ["--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let reference = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let texts = try #require(reference["tokens"] as? [[String: Any]]).map { $0["text"] as? String ?? "" }
        #expect(texts.count == tokenCount)
        for format in Self.formats {
            let path = folder + "/out." + format
            let result = try runQKV(["run", model] + input + ["--format", format, "-o", path])
            #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(format): \(result.stderr)")
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            switch format {
            case "png":
                let decoded = try DecodedPNG(bytes)
                #expect(decoded.width > tokenCount && decoded.height > tokenCount)
            case "npz":
                #expect(bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]))
                let out = try runPython("""
                    import sys, json, numpy as np
                    z = np.load(sys.argv[1])
                    print(json.dumps({'shape': list(z['attention'].shape), 'tokens': z['tokens'].tolist(),
                                      'rows': z['attention'].sum(axis=-1).min().item()}))
                    """, arguments: [path])
                let loaded = try #require(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
                #expect(loaded["shape"] as? [Int] == [layers, heads, tokenCount, tokenCount])
                #expect(loaded["tokens"] as? [String] == texts)
                #expect(abs((loaded["rows"] as? Double ?? 0) - 1) < 1e-5)  // every row is a distribution
            case "svg":
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.hasPrefix("<?xml"))
                let out = try runPython("""
                    import sys, xml.etree.ElementTree as ET
                    root = ET.parse(sys.argv[1]).getroot()
                    ns = '{http://www.w3.org/2000/svg}'
                    print(len([g for g in root.iter(ns + 'g') if g.get('id', '').startswith('layer')]))
                    """, arguments: [path])
                #expect(out == "\(layers * heads)\n")
            default:
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("id=\"qkv-data\""))
            }
        }
    }

    @Test func everyFormatOnTheSeedFixture() throws {
        try checkEveryFormat("fixtures/seed.qkv", ["--text", "x1 x2 x3"], tokenCount: 3, layers: 1, heads: 1)
    }

    @Test func everyFormatOnACausalModel() throws {
        try checkEveryFormat("fixtures/hf/tiny-gpt2", ["--tokens", "1,2,3,4,5"], tokenCount: 5, layers: 2, heads: 4)
        try checkEveryFormat("fixtures/hf/tiny-llama", ["--tokens", "1,2,3,4,5", "--layers", "1"], tokenCount: 5, layers: 1, heads: 4)
    }

    @Test func everyFormatOnMiniLM() throws {
        let folder = try MiniLMTests.folder()
        try checkEveryFormat(folder, ["--text", "Attention is all you need."], tokenCount: 8, layers: 6, heads: 12)
    }

    @Test func binaryFormatsPipeButRefuseATerminal() throws {
        let png = try runQKVBytes(["run", "fixtures/seed.qkv", "--tokens", "0,1", "--format", "png"])
        #expect(png.status == 0 && png.stderr.isEmpty)
        #expect(Array(png.stdout.prefix(8)) == PNGEncoder.signature)
        let npz = try runQKVBytes(["run", "fixtures/seed.qkv", "--tokens", "0,1", "--format", "npz", "-o", "-"])
        #expect(npz.status == 0 && npz.stdout.starts(with: [0x50, 0x4B, 0x03, 0x04]))
        for format in ["png", "npz"] {
            let result = try runQKVOnTerminal(["run", "fixtures/seed.qkv", "--tokens", "0,1", "--format", format])
            #expect(result.status == 1)
            #expect(result.stdout == "qkv: error: \(format) is binary and stdout is a terminal: pass -o FILE, or pipe it (| cat > FILE)\n")
        }
    }

    @Test func tablesAreShadedOnlyOnAColourTerminal() throws {
        let arguments = ["run", "fixtures/seed.qkv", "--text", "x1 x2 x3"]
        let piped = try runQKV(arguments)
        #expect(!piped.stdout.contains("\u{1B}"))
        let terminal = try runQKVOnTerminal(arguments)
        #expect(terminal.status == 0)
        #expect(terminal.stdout.contains("\u{1B}[48;2;"))
        #expect(strippingANSI(terminal.stdout) == piped.stdout)
        #expect(try runQKVOnTerminal(arguments, environment: ["NO_COLOR": "1"]).stdout == piped.stdout)
        #expect(try runQKVOnTerminal(arguments, environment: ["TERM": "dumb"]).stdout == piped.stdout)
        let heads = try runQKVOnTerminal(["heads", "fixtures/hf/tiny-gpt2", "--tokens", "1,2,3"])
        #expect(heads.stdout.contains("\u{1B}[48;2;"))
    }

    @Test func outputFileIsWrittenAtomicallyOrFailsCleanly() throws {
        let path = temporaryPath("table.txt")
        let written = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1 x2 x3", "-o", path])
        #expect(written.status == 0 && written.stdout.isEmpty && written.stderr.isEmpty)
        let plain = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1 x2 x3"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == plain.stdout)
        for format in ["table", "png"] {
            let result = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1", "--format", format, "-o", "/nonexistent-qkv/out"])
            #expect(result.status == 1 && result.stdout.isEmpty)
            #expect(result.stderr == "qkv: error: /nonexistent-qkv/out: cannot write: the folder /nonexistent-qkv does not exist\n")
        }
    }

    @Test func usageErrors() throws {
        for arguments in [
            ["run", "fixtures/seed.qkv", "--tokens", "0", "--cell", "4"],
            ["run", "fixtures/seed.qkv", "--tokens", "0", "--format", "png", "--cell", "0"],
            ["run", "fixtures/seed.qkv", "--tokens", "0", "--format", "gif"],
            ["heads", "fixtures/seed.qkv"],
            ["heads", "fixtures/seed.qkv", "--tokens", "0", "--sort", "size"],
        ] {
            let result = try runQKV(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stdout.isEmpty)
        }
        for command in ["run", "heads"] {
            let help = try runQKV([command, "--help"])
            #expect(help.status == 0 && help.stdout.contains("--output") && help.stdout.contains("USAGE"))
        }
        let help = try runQKV(["heads", "--help"])
        #expect(help.stdout.contains("entropy") && help.stdout.contains("previous_token") && help.stdout.contains("--sort"))
    }

    @Test func markdownMatchesTheTable() throws {
        let table = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1 x2 x3"])
        let markdown = try runQKV(["run", "fixtures/seed.qkv", "--text", "x1 x2 x3", "--format", "markdown"])
        let lines = markdown.stdout.split(separator: "\n")
        #expect(lines[0] == "| layer 0 head 0 | x1 | x2 | x3 |")
        #expect(lines[1] == "|---|---:|---:|---:|")
        // Same cells as the plain table, row by row.
        for (plain, md) in zip(table.stdout.split(separator: "\n").dropFirst(), lines.dropFirst(2)) {
            let plainCells = plain.split(separator: " ").map(String.init)
            let markdownCells = md.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            #expect(plainCells == markdownCells)
        }
    }

    /// `qkv heads` against statistics recomputed here from `qkv run --format json`.
    @Test func headsAgreesWithTheAttentionItSummarises() throws {
        let run = try runQKV(["run", "fixtures/hf/tiny-gpt2", "--tokens", "1,2,3,4,5", "--format", "json"])
        let heads = try runQKV(["heads", "fixtures/hf/tiny-gpt2", "--tokens", "1,2,3,4,5", "--format", "json"])
        #expect(heads.status == 0, "\(heads.stderr)")
        let attention = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let summary = try #require(JSONSerialization.jsonObject(with: Data(heads.stdout.utf8)) as? [String: Any])
        let rows = try #require(summary["heads"] as? [[String: Any]])
        #expect(rows.count == 8)
        for layer in try #require(attention["layers"] as? [[String: Any]]) {
            for head in try #require(layer["heads"] as? [[String: Any]]) {
                let p = try #require(head["scores"] as? [[Double]]).map { $0.map { Double(Float($0)) } }
                let row = try #require(rows.first { $0["layer"] as? Int == layer["layer"] as? Int && $0["head"] as? Int == head["head"] as? Int })
                let n = Double(p.count)
                let entropy = p.map { $0.filter { $0 > 0 }.map { -$0 * log($0) }.reduce(0, +) }.reduce(0, +) / n
                let previous = (1..<p.count).map { p[$0][$0 - 1] }.reduce(0, +) / (n - 1)
                let columns = (0..<p.count).map { k in p.map { $0[k] }.reduce(0, +) / n }
                #expect(abs((row["entropy"] as? Double ?? -1) - entropy) < 1e-12)
                #expect(abs((row["first_token"] as? Double ?? -1) - p.map { $0[0] }.reduce(0, +) / n) < 1e-12)
                #expect(abs((row["previous_token"] as? Double ?? -1) - previous) < 1e-12)
                #expect(abs((row["self"] as? Double ?? -1) - (0..<p.count).map { p[$0][$0] }.reduce(0, +) / n) < 1e-12)
                #expect(row["top_key"] as? Int == columns.firstIndex(of: columns.max()!))
                // Causal: nothing above the diagonal.
                #expect(p[0][1...].allSatisfy { $0 == 0 })
            }
        }
        let sorted = try runQKV(["heads", "fixtures/hf/tiny-gpt2", "--tokens", "1,2,3,4,5", "--format", "csv", "--sort", "entropy"])
        let entropies = sorted.stdout.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[2])! }
        #expect(entropies == entropies.sorted() && entropies.count == 8)
        let selected = try runQKV(["heads", "fixtures/hf/tiny-gpt2", "--tokens", "1,2,3", "--layers", "1", "--heads", "3,0,3", "--format", "csv"])
        #expect(selected.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") } == ["1,0", "1,3"])
        for (option, value) in [("--layers", "4"), ("--heads", "x")] {
            let bad = try runQKV(["heads", "fixtures/hf/tiny-gpt2", "--tokens", "1,2,3", option, value])
            #expect(bad.status == 1 && bad.stdout.isEmpty)
            #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("fixtures/hf/tiny-gpt2: \(option): "))
        }
        let single = try runQKV(["heads", "fixtures/seed.qkv", "--tokens", "x2", "--format", "json"])
        #expect(single.stdout.contains("\"previous_token\":null"))
    }
}
