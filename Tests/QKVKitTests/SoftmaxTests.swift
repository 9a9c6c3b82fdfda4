import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

// MARK: - Softmax

@Suite struct SoftmaxTests {
    private static func reference(_ row: ArraySlice<Float>) -> [Double] {
        let m = row.map(Double.init).max()!
        let e = row.map { Foundation.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// Inputs in [−8, 8]: float32 rounding of x − max (≤ 16·unitRoundoff relative after exp), expf (1 ulp),
    /// the 16-lane sum and the scaling stay well under 4e-6 relative.
    @Test(arguments: [(1, 1), (3, 7), (5, 33), (2, 129), (4, 300)], [false, true])
    func matchesFloat64(shape: (Int, Int), portable: Bool) {
        let (rows, cols) = shape
        var x = randomFloats(rows * cols, seed: UInt64(rows * 1000 + cols), in: -8...8)
        let original = x
        x.withUnsafeMutableBufferPointer {
            Kernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols, causalOffset: nil, scale: 1, portable: portable)
        }
        for r in 0..<rows {
            let ref = Self.reference(original[(r * cols)..<((r + 1) * cols)])
            for j in 0..<cols {
                let got = Double(x[r * cols + j])
                #expect(abs(got - ref[j]) <= 4e-6 * ref[j], "[\(r),\(j)] \(got) vs \(ref[j])")
            }
        }
    }

    @Test(arguments: [0, 2, -1])
    func causalMaskZeroesFutureColumns(offset: Int) {
        let rows = 9, cols = 37
        var x = randomFloats(rows * cols, seed: 11, in: -5...5)
        let original = x
        x.withUnsafeMutableBufferPointer {
            Kernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols, causalOffset: offset)
        }
        for r in 0..<rows {
            let visible = max(0, min(cols, r + offset + 1))
            let ref = visible > 0 ? Self.reference(original[(r * cols)..<(r * cols + visible)]) : []
            for j in 0..<cols {
                let got = x[r * cols + j]
                if j < visible {
                    #expect(abs(Double(got) - ref[j]) <= 4e-6 * ref[j], "[\(r),\(j)]")
                } else {
                    #expect(got == 0, "[\(r),\(j)] masked but \(got)")
                }
            }
        }
    }

    /// The last row is masked with −inf, which must give probability exactly 0.
    @Test(arguments: [false, true])
    func nonFiniteRowsBecomeNaN(portable: Bool) {
        var x: [Float] = [-.infinity, -.infinity, -.infinity, 1, .nan, 2, 0, .infinity, 1, 0, 1, 2, 0, -.infinity, 0]
        x.withUnsafeMutableBufferPointer {
            Kernels.softmaxRows($0.baseAddress!, rows: 5, cols: 3, causalOffset: nil, scale: 1, portable: portable)
        }
        let nanRows = x[0..<9].allSatisfy { $0.isNaN }
        let finiteRow = x[9..<12].allSatisfy { $0.isFinite }
        #expect(nanRows)
        #expect(finiteRow)
        #expect(x[12..<15] == [0.5, 0, 0.5])
        x.withUnsafeBufferPointer { #expect(!Kernels.allFinite($0.baseAddress!, count: 12)) }
        x.withUnsafeBufferPointer { #expect(Kernels.allFinite($0.baseAddress! + 9, count: 3)) }
    }
}
