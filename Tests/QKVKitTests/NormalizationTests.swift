import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

// MARK: - Normalization

@Suite struct NormalizationTests {
    /// Rows with a common offset of 3 test the cancellation in x − mean. Tolerance: 2e-6 absolute
    /// on outputs of size O(|gamma|·|x − mean|/σ) ≤ ~10, i.e. a few float32 ulps.
    @Test(arguments: [(1, 1), (3, 7), (4, 33), (2, 129), (3, 768)], [false, true])
    func layerNormMatchesFloat64(shape: (Int, Int), portable: Bool) {
        let (rows, cols) = shape
        let x = randomFloats(rows * cols, seed: 21).map { $0 + 3 }
        let gamma = randomFloats(cols, seed: 22, in: 0.5...1.5), beta = randomFloats(cols, seed: 23)
        let eps: Float = 1e-5
        var out = [Float](repeating: .nan, count: rows * cols)
        x.withUnsafeBufferPointer { xp in
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        Kernels.layerNorm(xp.baseAddress!, adding: nil, rows: rows, cols: cols, gamma: g.baseAddress,
                                          beta: b.baseAddress, eps: eps, into: o.baseAddress!, portable: portable)
                    }
                }
            }
        }
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { p in
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    Kernels.layerNorm(p.baseAddress!, adding: nil, rows: rows, cols: cols, gamma: g.baseAddress,
                                      beta: b.baseAddress, eps: eps, into: p.baseAddress!, portable: portable)
                }
            }
        }
        #expect(inPlace == out)
        Self.expectLayerNorm(out, of: x, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
    }

    /// LayerNorm(x + residual), written over x as BERT does: the reference normalizes the float32
    /// sums, the same tolerance applies.
    @Test(arguments: [(2, 7), (3, 33), (2, 384)], [false, true])
    func layerNormOfSumMatchesFloat64(shape: (Int, Int), portable: Bool) {
        let (rows, cols) = shape
        let x = randomFloats(rows * cols, seed: 24).map { $0 + 3 }
        let residual = randomFloats(rows * cols, seed: 25, in: -2...2)
        let gamma = randomFloats(cols, seed: 26, in: 0.5...1.5), beta = randomFloats(cols, seed: 27)
        let eps: Float = 1e-12
        var out = x
        out.withUnsafeMutableBufferPointer { p in
            residual.withUnsafeBufferPointer { r in
                gamma.withUnsafeBufferPointer { g in
                    beta.withUnsafeBufferPointer { b in
                        Kernels.layerNorm(p.baseAddress!, adding: r.baseAddress, rows: rows, cols: cols, gamma: g.baseAddress,
                                          beta: b.baseAddress, eps: eps, into: p.baseAddress!, portable: portable)
                    }
                }
            }
        }
        let sums = zip(x, residual).map { $0 + $1 }
        Self.expectLayerNorm(out, of: sums, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
    }

    private static func expectLayerNorm(_ out: [Float], of x: [Float], rows: Int, cols: Int, gamma: [Float],
                                        beta: [Float], eps: Float) {
        for r in 0..<rows {
            let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let mean = row.reduce(0, +) / Double(cols)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
            let rstd = 1 / (variance + Double(eps)).squareRoot()
            for j in 0..<cols {
                let ref = (row[j] - mean) * rstd * Double(gamma[j]) + Double(beta[j])
                let got = Double(out[r * cols + j])
                #expect(abs(got - ref) <= 2e-6 * max(1, abs(ref)), "[\(r),\(j)] \(got) vs \(ref)")
            }
        }
    }

    /// Tolerance: 1e-6 relative to |x|·rstd·|weight| (x·rsqrt and ·weight are two float32 roundings
    /// after a float64 mean of squares).
    @Test(arguments: [(1, 1), (3, 7), (4, 33), (2, 129), (3, 4096)], [false, true])
    func rmsNormMatchesFloat64(shape: (Int, Int), portable: Bool) {
        let (rows, cols) = shape
        let x = randomFloats(rows * cols, seed: 31, in: -2...2)
        let weight = randomFloats(cols, seed: 32, in: -1.5...1.5)
        let eps: Float = 1e-6
        var out = x
        out.withUnsafeMutableBufferPointer { p in
            weight.withUnsafeBufferPointer { wp in
                Kernels.rmsNorm(p.baseAddress!, rows: rows, cols: cols, weight: wp.baseAddress, eps: eps,
                                into: p.baseAddress!, portable: portable)
            }
        }
        for r in 0..<rows {
            let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let meanSquare = row.map { $0 * $0 }.reduce(0, +) / Double(cols)
            let rinv = 1 / (meanSquare + Double(eps)).squareRoot()
            for j in 0..<cols {
                let ref = Double(weight[j]) * row[j] * rinv
                let got = Double(out[r * cols + j])
                #expect(abs(got - ref) <= 1e-6 * max(abs(ref), 1e-30), "[\(r),\(j)] \(got) vs \(ref)")
            }
        }
    }
}
