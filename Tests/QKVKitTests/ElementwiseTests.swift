import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

// MARK: - Small helpers

@Suite struct ElementwiseTests {
    @Test(arguments: [1, 7, 16, 33, 129])
    func addScaleMultiplySum(count: Int) {
        let a = randomFloats(count, seed: 61), b = randomFloats(count, seed: 62)
        var s = a
        s.withUnsafeMutableBufferPointer { sp in
            b.withUnsafeBufferPointer { Kernels.addInPlace(sp.baseAddress!, $0.baseAddress!, count: count) }
        }
        #expect(s == zip(a, b).map { $0 + $1 })  // one rounding each: exact equality with float32 +
        var p = a
        p.withUnsafeMutableBufferPointer { pp in
            b.withUnsafeBufferPointer { Kernels.multiplyInPlace(pp.baseAddress!, $0.baseAddress!, count: count) }
        }
        #expect(p == zip(a, b).map { $0 * $1 })
        var c = a
        c.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, count: count, by: 0.3) }
        #expect(c == a.map { $0 * 0.3 })
        let total = a.withUnsafeBufferPointer { Kernels.sum($0.baseAddress!, count: count) }
        let exact = a.map(Double.init).reduce(0, +)
        let magnitude = a.map { abs(Double($0)) }.reduce(0, +)
        #expect(abs(Double(total) - exact) <= Double(count) * unitRoundoff * magnitude)
        var rows = [Float](repeating: 1, count: 3 * count)
        rows.withUnsafeMutableBufferPointer { r in
            b.withUnsafeBufferPointer { Kernels.addRowVector(r.baseAddress!, rows: 3, cols: count, $0.baseAddress!) }
        }
        #expect(rows == (b + b + b).map { 1 + $0 })
    }
}
