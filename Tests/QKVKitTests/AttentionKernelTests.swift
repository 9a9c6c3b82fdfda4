import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

// MARK: - Attention

@Suite struct AttentionKernelTests {
    /// The Float32 path (one CKernels call per head) against the generic path run in float64 on the
    /// same inputs: heads read through strides from fused rows, grouped key/value heads, causal and
    /// full masks, token counts across the 6-row panels and the 256-key depth chunks.
    /// Tolerances: probabilities 2e-6 absolute (they are ≤ 1; scores in ±8 after scaling carry a
    /// few float32 roundings into exp); context 1e-5·(1 + Σ_j p_j·|v_j|).
    @Test(arguments: [1, 7, 40, 300], [false, true])
    func matchesFloat64(tokens t: Int, causal: Bool) {
        for headDim in [8, 32, 80] {
            let heads = 4, kvHeads = 2
            let width = (heads + 2 * kvHeads) * headDim + 3  // q | k | v per row, plus padding
            let rows = randomFloats(t * width, seed: UInt64(t * 100 + headDim), in: -1.5...1.5)
            let shape = AttentionShape(tokens: t, heads: heads, kvHeads: kvHeads, headDim: headDim, causal: causal,
                                       qStride: width, kvStride: width)
            let scale = 1 / Float(headDim).squareRoot()
            let kOffset = heads * headDim, vOffset = (heads + kvHeads) * headDim
            var probabilities = [Float](repeating: .nan, count: heads * t * t)
            var output = [Float](repeating: .nan, count: t * heads * headDim)
            rows.withUnsafeBufferPointer { r in
                probabilities.withUnsafeMutableBufferPointer { p in
                    output.withUnsafeMutableBufferPointer { o in
                        multiHeadAttention(q: r.baseAddress!, k: r.baseAddress! + kOffset, v: r.baseAddress! + vOffset,
                                           shape: shape, scale: scale, probabilities: p.baseAddress!,
                                           output: o.baseAddress!, threads: 2)
                    }
                }
            }
            let wide = rows.map(Double.init)
            var refProbabilities = [Double](repeating: .nan, count: heads * t * t)
            var refOutput = [Double](repeating: .nan, count: t * heads * headDim)
            wide.withUnsafeBufferPointer { r in
                refProbabilities.withUnsafeMutableBufferPointer { p in
                    refOutput.withUnsafeMutableBufferPointer { o in
                        multiHeadAttention(q: r.baseAddress!, k: r.baseAddress! + kOffset, v: r.baseAddress! + vOffset,
                                           shape: shape, scale: Double(scale), probabilities: p.baseAddress!,
                                           output: o.baseAddress!, threads: 2)
                    }
                }
            }
            var failures = 0
            for i in 0..<(heads * t * t) where !(abs(Double(probabilities[i]) - refProbabilities[i]) <= 2e-6) {
                failures += 1
                if failures <= 3 { Issue.record("p[\(i)] \(probabilities[i]) vs \(refProbabilities[i]) (d=\(headDim))") }
            }
            for p in 0..<t {
                for h in 0..<heads {
                    let g = h / (heads / kvHeads)
                    for c in 0..<headDim {
                        var magnitude = 0.0
                        for j in 0..<t {
                            magnitude += refProbabilities[(h * t + p) * t + j] * abs(wide[j * width + vOffset + g * headDim + c])
                        }
                        let i = p * heads * headDim + h * headDim + c
                        if !(abs(Double(output[i]) - refOutput[i]) <= 1e-5 * (1 + magnitude)) {
                            failures += 1
                            if failures <= 3 { Issue.record("o[\(i)] \(output[i]) vs \(refOutput[i]) (d=\(headDim))") }
                        }
                    }
                }
            }
            #expect(failures == 0, "tokens \(t), head dim \(headDim)")
        }
    }
}
