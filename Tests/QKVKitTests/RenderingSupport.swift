import Foundation
import Testing
@testable import QKVKit

/// An attention report built by hand: `matrices[layer][head]` row-major T × T.
func handReport(tokens: [String], ids: [Int]? = nil, layers: [Int], matrices: [[[Float]]], heads: [Int]) -> AttentionReport {
    let count = tokens.count
    return AttentionReport(
        tokens: tokens.enumerated().map { AttentionReport.Token(id: ids?[$0.offset] ?? $0.offset, text: $0.element) },
        layers: zip(layers, matrices).map { LayerAttention(layer: $0.0, tokenCount: count, heads: $0.1) },
        heads: heads)
}

/// Rows that are each a probability distribution, from a seeded generator.
func randomAttention(layers: Int, heads: Int, tokens: Int, causal: Bool = false, seed: UInt64 = 7) -> AttentionReport {
    var generator = SeededGenerator(state: seed)
    var matrices: [[[Float]]] = []
    for _ in 0..<layers {
        var perHead: [[Float]] = []
        for _ in 0..<heads {
            var matrix = [Float](repeating: 0, count: tokens * tokens)
            for q in 0..<tokens {
                let keys = causal ? q + 1 : tokens
                var row = (0..<keys).map { _ in Double.random(in: 0..<1, using: &generator) }
                row = row.map { $0 * $0 * $0 * $0 }  // peaky, like real heads
                let sum = row.reduce(0, +)
                for k in 0..<keys { matrix[q * tokens + k] = Float(row[k] / sum) }
            }
            perHead.append(matrix)
        }
        matrices.append(perHead)
    }
    return handReport(
        tokens: (0..<tokens).map { "t\($0)" }, layers: Array(0..<layers), matrices: matrices, heads: Array(0..<heads))
}

/// A PNG reader written for the tests: checks the signature and every chunk's CRC-32, inflates
/// IDAT with zlib and undoes all five scanline filters. 8-bit RGB (type 2) and palette (type 3) only.
struct DecodedPNG {
    var width = 0
    var height = 0
    var colourType = 0
    var palette: [RGB] = []
    /// Palette indices for type 3, RGB triples for type 2.
    var samples: [UInt8] = []
    var chunkTypes: [String] = []

    init(_ bytes: [UInt8]) throws {
        try #require(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8
        var idat: [UInt8] = []
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while offset < bytes.count {
            try #require(offset + 12 <= bytes.count)
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            try #require(offset + 12 + length <= bytes.count)
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let crc = UInt32(be32(offset + 8 + length))
            #expect(CRC32.checksum(Array(bytes[(offset + 4)..<(offset + 8 + length)])) == crc, "CRC of \(type)")
            chunkTypes.append(type)
            switch type {
            case "IHDR":
                width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                #expect(body[8] == 8)  // bit depth
                colourType = Int(body[9])
                #expect(body[10] == 0 && body[11] == 0 && body[12] == 0)
            case "PLTE":
                palette = stride(from: 0, to: body.count, by: 3).map { RGB(body[$0], body[$0 + 1], body[$0 + 2]) }
            case "IDAT": idat += body
            default: break
            }
            offset += 12 + length
        }
        #expect(chunkTypes.first == "IHDR" && chunkTypes.last == "IEND")
        let bpp = colourType == 2 ? 3 : 1
        let stride = width * bpp
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        let (produced, finished) = try idat.withUnsafeBytes { source in
            let inflater = try Inflater(container: .zlib, what: "IDAT", nextInput: pieces(of: source))
            let produced = try raw.withUnsafeMutableBytes { try inflater.read(into: $0) }
            try inflater.finish(expectedTotal: UInt64(produced))
            return (produced, inflater.isFinished)
        }
        #expect(produced == raw.count)
        #expect(finished)
        samples = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = raw[y * (stride + 1) + 1 + i]
                let a = i >= bpp ? samples[y * stride + i - bpp] : 0
                let b = y > 0 ? samples[(y - 1) * stride + i] : 0
                let c = i >= bpp && y > 0 ? samples[(y - 1) * stride + i - bpp] : 0
                let predictor: UInt8
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = UInt8((Int(a) + Int(b)) / 2)
                case 4:
                    let p = Int(a) + Int(b) - Int(c)
                    let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default:
                    Issue.record("filter type \(filter)")
                    predictor = 0
                }
                samples[y * stride + i] = x &+ predictor
            }
        }
    }

    func pixel(x: Int, y: Int) -> RGB {
        if colourType == 3 { return palette[Int(samples[y * width + x])] }
        let i = (y * width + x) * 3
        return RGB(samples[i], samples[i + 1], samples[i + 2])
    }
}

/// Runs `python3 -c script` and returns stdout; fails the test with stderr on a non-zero exit.
func runPython(_ script: String, arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "python3 failed: \(String(decoding: stderr, as: UTF8.self))")
    return String(decoding: stdout, as: UTF8.self)
}

func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}
