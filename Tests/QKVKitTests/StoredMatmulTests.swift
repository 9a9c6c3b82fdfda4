import CKernels
import Foundation
import Testing
@testable import QKVKit

/// Products with weights left in their stored form (F16, BF16, ggml blocks), dequantized a panel
/// at a time inside the GEMM: against float64 products of the dequantized weights, within the
/// textbook bound for any summation order, and bit-identical however the columns are split.
@Suite struct StoredMatmulTests {
    /// Where each type keeps its f16 scales: set to small finite values so random blocks stay finite.
    static let scaleOffsets: [GGMLType: [Int]] = [
        .q4_0: [0], .q4_1: [0, 2], .q5_0: [0], .q5_1: [0, 2], .q8_0: [0], .q2_K: [80, 82], .q3_K: [108],
        .q4_K: [0, 2], .q5_K: [0, 2], .q6_K: [208], .iq4_NL: [0], .iq4_XS: [0],
    ]

    /// A random matrix [rows, columns] of `type` whose values are all finite.
    static func randomMatrix(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededGenerator(state: seed)
        let blocks = rows * columns / type.blockElements
        if type == .f16 || type == .bf16 {
            return (0..<rows * columns).flatMap { _ -> [UInt8] in
                let value = Float.random(in: -1...1, using: &rng)
                let bits = type == .f16 ? halfBitsFromFloat(value) : bfloat16BitsFromFloat(value)
                return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
            }
        }
        var bytes = (0..<blocks * type.blockBytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for block in 0..<blocks {
            for offset in scaleOffsets[type]! {
                let scale = halfBitsFromFloat(Float.random(in: 0.001...0.05, using: &rng))
                bytes[block * type.blockBytes + offset] = UInt8(scale & 0xFF)
                bytes[block * type.blockBytes + offset + 1] = UInt8(scale >> 8)
            }
        }
        return bytes
    }

    static func dequantized(_ bytes: [UInt8], _ type: GGMLType, count: Int) -> [Float] {
        var values = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { out in
                qkv_ggml_dequantize(qkv_best_isa(), Int32(type.rawValue), raw.baseAddress!, count / type.blockElements, out.baseAddress!)
            }
        }
        return values
    }

    /// out = x · Wᵀ + bias through `StoredMatrix.apply`.
    static func product(_ bytes: [UInt8], _ type: GGMLType, x: [Float], bias: [Float], m: Int, k: Int, n: Int, threads: Int)
        -> [Float]
    {
        let owner = NSData(bytes: bytes, length: bytes.count)
        let matrix = StoredMatrix(
            type: type, rows: n, columns: k, storage: StoredBytes(bytes: UnsafeRawBufferPointer(start: owner.bytes, count: owner.length), owner: owner))
        var out = [Float](repeating: .nan, count: m * n)
        x.withUnsafeBufferPointer { xp in
            bias.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    matrix.apply(xp.baseAddress!, bias: bp.baseAddress, into: op.baseAddress!, outStride: n, rows: m, threads: threads)
                }
            }
        }
        return out
    }

    static let types: [GGMLType] = [.f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_NL, .iq4_XS]

    @Test(arguments: types)
    func matchesFloat64AndIgnoresTheSplit(type: GGMLType) throws {
        // Depths of 1, 2 and 3 chunks (chunk starts rounded to whole blocks), rows on both sides
        // of a 6-row panel and of the 8-row small case, columns not a multiple of 16.
        for (m, k, n) in [(1, 256, 17), (7, 512, 40), (13, 768, 33), (29, 256, 130)] {
            let bytes = Self.randomMatrix(type, rows: n, columns: k, seed: UInt64(m * 7 + k))
            let w = Self.dequantized(bytes, type, count: n * k)
            #expect(w.allSatisfy { $0.isFinite })
            let x = randomFloats(m * k, seed: 11)
            let bias = randomFloats(n, seed: 12)
            let one = Self.product(bytes, type, x: x, bias: bias, m: m, k: k, n: n, threads: 1)
            let two = Self.product(bytes, type, x: x, bias: bias, m: m, k: k, n: n, threads: 2)
            #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "\(type) \(m)x\(k)x\(n): the column split changed bits")
            let gamma = Double(k + 2) * unitRoundoff / (1 - Double(k + 2) * unitRoundoff)
            var failures = 0
            for r in 0..<m {
                for j in 0..<n {
                    var exact = Double(bias[j]), magnitude = abs(Double(bias[j]))
                    for i in 0..<k {
                        let p = Double(x[r * k + i]) * Double(w[j * k + i])
                        exact += p
                        magnitude += abs(p)
                    }
                    if !(abs(Double(one[r * n + j]) - exact) <= gamma * magnitude) { failures += 1 }
                }
            }
            #expect(failures == 0, "\(type) \(m)x\(k)x\(n): \(failures) elements outside the bound")
        }
    }

    /// Large enough that two threads really split the columns (the small cases above stay on one).
    @Test func largeProductIsBitIdenticalOnOneAndTwoThreads() {
        let (m, k, n) = (64, 1024, 512)
        let bytes = Self.randomMatrix(.q4_K, rows: n, columns: k, seed: 5)
        let x = randomFloats(m * k, seed: 6)
        let bias = randomFloats(n, seed: 7)
        let one = Self.product(bytes, .q4_K, x: x, bias: bias, m: m, k: k, n: n, threads: 1)
        let two = Self.product(bytes, .q4_K, x: x, bias: bias, m: m, k: k, n: n, threads: 2)
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
        #expect(one.allSatisfy { $0.isFinite })
    }

    /// Gathered embedding rows equal the dequantized table's rows.
    @Test func embeddingRowsAreTheDequantizedRows() {
        let (rows, dim) = (9, 512)
        let bytes = Self.randomMatrix(.q6_K, rows: rows, columns: dim, seed: 9)
        let table = Self.dequantized(bytes, .q6_K, count: rows * dim)
        let owner = NSData(bytes: bytes, length: bytes.count)
        let matrix = StoredMatrix(
            type: .q6_K, rows: rows, columns: dim,
            storage: StoredBytes(bytes: UnsafeRawBufferPointer(start: owner.bytes, count: owner.length), owner: owner))
        let ids = [3, 0, 8, 3]
        var x = [Float](repeating: 0, count: ids.count * dim)
        x.withUnsafeMutableBufferPointer { EmbeddingTable.stored(matrix).addRows(ids: ids, dim: dim, into: $0.baseAddress!) }
        for (p, id) in ids.enumerated() {
            #expect(Array(x[(p * dim)..<((p + 1) * dim)]) == Array(table[(id * dim)..<((id + 1) * dim)]))
        }
    }
}

/// On a CPU with AVX-512 the matrix products pair panels into 6×32 tiles; each element is still the
/// same FMA chain, so `QKV_ISA=avx2` (the AVX2 tiles alone) must print the very same bytes: float32
/// weights (tiny-bert), K-quants (256-wide rows: every tile paired) and f16 through the stored path,
/// and 40 tokens so the attention head pairs its key panels too.
@Suite struct WideTileTests {
    @Test(arguments: ["fixtures/hf/tiny-bert", "fixtures/gguf/tiny/tiny-llama-k-Q4_K_M.gguf",
                      "fixtures/gguf/tiny/tiny-llama-s-F16.gguf", "fixtures/gguf/llama3/tiny-llama3-Q8_0.gguf"])
    func avx512TilesGiveTheAVX2Bits(model: String) throws {
        let tokens = (0..<40).map { String(($0 * 7) % 50) }.joined(separator: ",")
        let arguments = ["run", model, "--tokens", tokens, "--format", "json", "--layers", "all"]
        let wide = try runQKV(arguments), narrow = try runQKV(arguments, environment: ["QKV_ISA": "avx2"])
        #expect(wide.status == 0 && narrow.status == 0, "\(wide.stderr)\(narrow.stderr)")
        #expect(wide.stdout == narrow.stdout)
        #expect(wide.stdout.count > 10_000)
    }
}
