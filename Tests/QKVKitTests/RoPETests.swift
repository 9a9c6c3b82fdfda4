import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

// MARK: - RoPE

@Suite struct RoPETests {
    /// theta^(−2i/d) in float32 is within 2 ulp of the float64 value (powf and the float32
    /// exponent 2i/d, which is exact for power-of-two d, each contribute ≤ 1 ulp).
    @Test(arguments: [(64, Float(10000)), (128, Float(500000)), (6, Float(10000))])
    func inverseFrequenciesMatchFloat64(headDim: Int, theta: Float) {
        let f = Kernels.ropeInverseFrequencies(headDim: headDim, theta: theta)
        #expect(f.count == headDim / 2)
        for (i, v) in f.enumerated() {
            let ref = 1 / Foundation.pow(Double(theta), Double(Float(2 * i) / Float(headDim)))
            #expect(abs(Double(v) - ref) <= 4 * unitRoundoff * ref, "i=\(i)")
        }
    }

    /// The angle is defined (as in transformers) by the float32 product inv_freq[i]·position; given
    /// it, the rotation is checked against float64 cos/sin. Tolerance 1e-6·(|q_i| + |q_{i+h}|):
    /// cosf/sinf ≤ 1 ulp and three float32 roundings.
    @Test(arguments: [(1, 1, 2, 0), (7, 3, 64, 0), (5, 2, 128, 500), (33, 1, 6, 3)])
    func rotationMatchesFloat64(rows: Int, heads: Int, headDim: Int, start: Int) {
        let theta: Float = 10000
        let q = randomFloats(rows * heads * headDim, seed: 51)
        var out = q
        out.withUnsafeMutableBufferPointer {
            Kernels.applyRoPE($0.baseAddress!, rows: rows, heads: heads, headDim: headDim, theta: theta,
                              startPosition: start)
        }
        let invFreq = Kernels.ropeInverseFrequencies(headDim: headDim, theta: theta)
        let half = headDim / 2
        for t in 0..<rows {
            for h in 0..<heads {
                let base = t * heads * headDim + h * headDim
                for i in 0..<half {
                    let angle = Double(invFreq[i] * Float(start + t))
                    let a = Double(q[base + i]), b = Double(q[base + i + half])
                    let ref0 = a * Foundation.cos(angle) - b * Foundation.sin(angle)
                    let ref1 = b * Foundation.cos(angle) + a * Foundation.sin(angle)
                    let tolerance = 1e-6 * (abs(a) + abs(b))
                    #expect(abs(Double(out[base + i]) - ref0) <= tolerance, "t=\(t) h=\(h) i=\(i)")
                    #expect(abs(Double(out[base + i + half]) - ref1) <= tolerance, "t=\(t) h=\(h) i=\(i)+h")
                }
            }
        }
    }

    @Test func positionZeroIsIdentity() {
        let q = randomFloats(3 * 16, seed: 52)
        var out = q
        out.withUnsafeMutableBufferPointer {
            Kernels.applyRoPE($0.baseAddress!, rows: 1, heads: 3, headDim: 16, theta: 10000)
        }
        #expect(out == q)
    }
}
