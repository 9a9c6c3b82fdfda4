import CKernels
import Foundation

/// Scaled dot-product attention over all heads, the step every architecture shares.
///
/// Shapes: q [T, heads*headDim], k and v [T, kvHeads*headDim] (row stride given separately so fused
/// QKV buffers can be read in place), probabilities [heads, T, T], output [T, heads*headDim].
/// Query head h reads key/value head h / (heads / kvHeads). Heads run in parallel.
struct AttentionShape {
    var tokens: Int
    var heads: Int
    var kvHeads: Int
    var headDim: Int
    var causal: Bool
    var qStride: Int
    var kvStride: Int
    /// Causal queries see only the last `window` keys (themselves included); nil for all.
    var window: Int? = nil
}

/// Float for real models; Double for the attention-only model, whose spec allows extreme weights.
protocol AttentionScalar: BinaryFloatingPoint {
    static func exponential(_ x: Self) -> Self
}

extension Float: AttentionScalar {
    static func exponential(_ x: Float) -> Float { expf(x) }
}

extension Double: AttentionScalar {
    static func exponential(_ x: Double) -> Double { exp(x) }
}

func multiHeadAttention<Scalar: AttentionScalar>(
    q: UnsafePointer<Scalar>, k: UnsafePointer<Scalar>, v: UnsafePointer<Scalar>,
    shape s: AttentionShape, scale: Scalar,
    probabilities: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>, threads: Int
) {
    precondition(s.window == nil, "the Float64 path has no sliding window")
    let t = s.tokens
    let group = s.heads / s.kvHeads
    let outStride = s.heads * s.headDim
    parallelFor(s.heads, threads: threads) { h in
        let g = h / group
        let a = probabilities + h * t * t
        // Scores: S[p][j] = q_p · k_j * scale, masked above the diagonal when causal.
        for p in 0..<t {
            let qRow = q + p * s.qStride + h * s.headDim
            let last = s.causal ? p : t - 1
            var rowMax = -Scalar.infinity
            for j in 0...last {
                let kRow = k + j * s.kvStride + g * s.headDim
                var dot: Scalar = 0
                for d in 0..<s.headDim { dot += qRow[d] * kRow[d] }
                let score = dot * scale
                a[p * t + j] = score
                rowMax = max(rowMax, score)
            }
            // Softmax with the row maximum subtracted, so large finite logits stay finite.
            var sum: Scalar = 0
            for j in 0...last {
                let e = Scalar.exponential(a[p * t + j] - rowMax)
                a[p * t + j] = e
                sum += e
            }
            let inverse = 1 / sum
            for j in 0...last { a[p * t + j] *= inverse }
            if last + 1 < t {
                for j in (last + 1)..<t { a[p * t + j] = 0 }
            }
        }
        // O_h = A_h · V_g
        for p in 0..<t {
            let outRow = output + p * outStride + h * s.headDim
            for d in 0..<s.headDim { outRow[d] = 0 }
            for j in 0..<t {
                let weight = a[p * t + j]
                if weight == 0 { continue }
                let vRow = v + j * s.kvStride + g * s.headDim
                for d in 0..<s.headDim { outRow[d] += weight * vRow[d] }
            }
        }
    }
}

/// The Float32 path used by the real architectures: one CKernels call per head (scores, softmax
/// and context six query rows at a time), reading the heads in place through row strides; heads
/// run in parallel. Same shapes as the generic version.
func multiHeadAttention(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    shape s: AttentionShape, scale: Float,
    probabilities: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, threads: Int
) {
    let t = s.tokens
    let hd = s.headDim
    let group = s.heads / s.kvHeads
    let outStride = s.heads * hd
    let isa = qkv_best_isa()
    parallelFor(s.heads, threads: threads) { h in
        let g = h / group
        qkv_attention_head(isa, t, hd, q + h * hd, s.qStride, k + g * hd, s.kvStride, v + g * hd, s.kvStride, scale,
                           s.causal, s.window ?? 0, probabilities + h * t * t, output + h * hd, outStride)
    }
}
