import CKernels
import Foundation

/// Float32 math kernels of the forward pass.
///
/// Every kernel works on raw row-major buffers with explicit sizes; the caller owns the memory,
/// guarantees that each buffer holds the stated number of elements, and that an output buffer
/// does not overlap an input unless the kernel is documented as in place.
/// Sizes are trusted here (they come from validated model shapes); negative sizes trap.
public enum Kernels {}

// MARK: - Elementwise

extension Kernels {
    /// dst[count] += src[count]
    public static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        precondition(count >= 0, "negative count")
        var i = 0
        while i + 16 <= count {
            let d = UnsafeMutableRawPointer(dst + i), s = UnsafeRawPointer(src + i)
            d.storeBytes(of: d.loadUnaligned(as: SIMD16<Float>.self) + s.loadUnaligned(as: SIMD16<Float>.self),
                         as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            dst[i] += src[i]
            i += 1
        }
    }

    /// x[rows, cols] += bias[cols], broadcast over rows
    public static func addRowVector(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, _ bias: UnsafePointer<Float>) {
        precondition(rows >= 0 && cols >= 0, "negative size")
        for r in 0..<rows {
            addInPlace(x + r * cols, bias, count: cols)
        }
    }

    /// x[count] *= factor
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        precondition(count >= 0, "negative count")
        var i = 0
        let f = SIMD16<Float>(repeating: factor)
        while i + 16 <= count {
            let p = UnsafeMutableRawPointer(x + i)
            p.storeBytes(of: p.loadUnaligned(as: SIMD16<Float>.self) * f, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            x[i] *= factor
            i += 1
        }
    }

    /// x[count] = x ⊙ y[count], elementwise product in place
    public static func multiplyInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        precondition(count >= 0, "negative count")
        var i = 0
        while i + 16 <= count {
            let p = UnsafeMutableRawPointer(x + i), q = UnsafeRawPointer(y + i)
            p.storeBytes(of: p.loadUnaligned(as: SIMD16<Float>.self) * q.loadUnaligned(as: SIMD16<Float>.self),
                         as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            x[i] *= y[i]
            i += 1
        }
    }

    /// True when all of x[count] are finite (no NaN, no ±inf).
    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        precondition(count >= 0, "negative count")
        // x - x is 0 for finite x and NaN for NaN/±inf; NaN poisons the running sum.
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            acc += v - v
            i += 16
        }
        var tail: Float = 0
        while i < count {
            tail += x[i] - x[i]
            i += 1
        }
        return (acc.sum() + tail) == 0
    }
}

// MARK: - Activations

extension Kernels {
    /// x[count] = x * Φ(x) = 0.5 x (1 + erf(x/√2)), exact GELU (PyTorch `gelu`, BERT "gelu")
    ///
    /// With AVX2+FMA, erf is a piecewise polynomial with absolute error ≤ 1.1·2⁻²⁴, checked over
    /// every float32 (scripts/check_ckernels.c): results are within ~1 float32 ulp of |x| + |GELU|
    /// of float64 GELU. Elsewhere the C library `erff` per element. Large inputs use every core.
    public static func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        geluErf(x, count: count, portable: false, threads: threads)
    }

    /// `geluErf`, optionally pinned to the portable C kernel (for tests).
    static func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int, portable: Bool, threads: Int = 1) {
        elementwise(x, count: count, portable: portable, threads: threads, qkv_gelu_erf)
    }

    /// Runs an in-place C kernel over x[count], split across cores when large (split points are
    /// multiples of 8, so no element's value depends on the split).
    private static func elementwise(
        _ x: UnsafeMutablePointer<Float>, count: Int, portable: Bool, threads: Int,
        _ kernel: @convention(c) (qkv_isa, UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        precondition(count >= 0, "negative count")
        let isa = portable ? QKV_ISA_GENERIC : qkv_best_isa()
        let chunks = min(max(1, threads), max(1, count / elementwiseParallelCount))
        if chunks == 1 {
            kernel(isa, x, count)
            return
        }
        parallelFor(chunks, threads: chunks) { c in
            let start = count * c / chunks / 8 * 8, end = c == chunks - 1 ? count : count * (c + 1) / chunks / 8 * 8
            kernel(isa, x + start, end - start)
        }
    }

    /// Elements per thread below which an elementwise kernel stays on one thread.
    private static let elementwiseParallelCount = 1 << 15

    /// x[count] = 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))), GPT-2 "gelu_new"
    ///
    /// With AVX2+FMA as the equal x · sigmoid(2√(2/π)(x + 0.044715 x³)), which has no cancellation
    /// for x ≪ 0; elsewhere in transformers' NewGELUActivation order with the C library `tanhf`.
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        geluTanh(x, count: count, portable: false, threads: threads)
    }

    static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int, portable: Bool, threads: Int = 1) {
        elementwise(x, count: count, portable: portable, threads: threads, qkv_gelu_tanh)
    }

    /// x[count] = x · sigmoid(x) = x / (1 + e^(−x)), SiLU (LLaMA MLP)
    ///
    /// For x → −∞, e^(−x) overflows to +inf and the result is −0, the correct limit.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        silu(x, count: count, portable: false, threads: threads)
    }

    static func silu(_ x: UnsafeMutablePointer<Float>, count: Int, portable: Bool, threads: Int = 1) {
        elementwise(x, count: count, portable: portable, threads: threads, qkv_silu)
    }
}

// MARK: - Softmax

extension Kernels {
    /// x[rows, cols] = softmax over each row, in place; see `softmaxRows(_:rows:cols:causalOffset:)`
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        softmaxRows(x, rows: rows, cols: cols, causalOffset: nil)
    }

    /// x[rows, cols] = softmax over each row, in place; with causalOffset c, row r only sees
    /// columns 0...r+c and every later column gets probability exactly 0.
    ///
    /// The row maximum (over visible columns) is subtracted before the exponential, and the sum is
    /// accumulated in float32. A row whose visible maximum is −inf (all masked by
    /// the caller with −inf) or +inf, or that contains NaN, becomes NaN like PyTorch; the caller
    /// checks finiteness. A row with no visible column (r + c < 0) becomes all zeros.
    /// With AVX2+FMA the exponential is a polynomial within 1.1 ulp of e^x (checked over every
    /// float32); elsewhere the C library `expf`.
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, causalOffset: Int?) {
        softmaxRows(x, rows: rows, cols: cols, causalOffset: causalOffset, scale: 1, portable: false)
    }

    /// softmax(x · scale) over each row (the product rounded to float32 first), optionally pinned to
    /// the portable C kernel (for tests).
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, causalOffset: Int?, scale: Float,
                            portable: Bool = false) {
        precondition(rows >= 0 && cols >= 0, "negative size")
        let isa = portable ? QKV_ISA_GENERIC : qkv_best_isa()
        for r in 0..<rows {
            let row = x + r * cols
            var visible = cols
            if let offset = causalOffset {
                visible = max(0, min(cols, r + offset + 1))
            }
            qkv_softmax_row(isa, row, visible, scale)
            if visible < cols {
                (row + visible).update(repeating: 0, count: cols - visible)
            }
        }
    }

    /// Σ x[count] in float32, 16 interleaved partial sums (a fixed order, better error than serial)
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        precondition(count >= 0, "negative count")
        var lanes = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var tail: Float = 0
        while i < count {
            tail += x[i]
            i += 1
        }
        return lanes.sum() + tail
    }
}

// MARK: - Normalization

extension Kernels {
    /// out[rows, cols] = (x − mean) / √(var + eps) · gamma[cols] + beta[cols], PyTorch LayerNorm
    /// over the last axis with biased variance; out may equal x (in place).
    ///
    /// Mean and variance are reduced in float64 (two passes), so they are exact to float32
    /// rounding; the affine part is float32.
    public static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, cols: Int,
                                 gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float,
                                 into out: UnsafeMutablePointer<Float>) {
        layerNorm(x, adding: nil, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps, into: out)
    }

    /// `layerNorm` of x + residual (the float32 sum, as PyTorch's `LayerNorm(h + input)`); out may
    /// equal x or residual. `portable` pins the portable C kernel (for tests).
    static func layerNorm(_ x: UnsafePointer<Float>, adding residual: UnsafePointer<Float>?, rows: Int, cols: Int,
                          gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float,
                          into out: UnsafeMutablePointer<Float>, portable: Bool = false) {
        precondition(rows >= 0 && cols >= 0, "negative size")
        guard cols > 0 else { return }
        let isa = portable ? QKV_ISA_GENERIC : qkv_best_isa()
        for r in 0..<rows {
            qkv_layer_norm_row(isa, x + r * cols, residual.map { $0 + r * cols }, cols, gamma, beta, eps, out + r * cols)
        }
    }

    /// out[rows, cols] = weight[cols] · (x / √(mean(x²) + eps)), LLaMA RMSNorm in float32;
    /// out may equal x (in place).
    ///
    /// mean(x²) is reduced in float64 then rounded to float32 before adding eps, as the float32
    /// PyTorch reference does up to its own summation error.
    public static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, cols: Int,
                               weight: UnsafePointer<Float>?, eps: Float,
                               into out: UnsafeMutablePointer<Float>) {
        rmsNorm(x, rows: rows, cols: cols, weight: weight, eps: eps, into: out, portable: false)
    }

    static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, cols: Int, weight: UnsafePointer<Float>?, eps: Float,
                        into out: UnsafeMutablePointer<Float>, portable: Bool) {
        precondition(rows >= 0 && cols >= 0, "negative size")
        let isa = portable ? QKV_ISA_GENERIC : qkv_best_isa()
        for r in 0..<rows {
            qkv_rms_norm_row(isa, x + r * cols, cols, weight, eps, out + r * cols)
        }
    }
}

// MARK: - Rotary position embedding

extension Kernels {
    /// inv_freq[headDim/2] = 1 / theta^(2i/headDim) in float32, as transformers' default RoPE
    /// (`1.0 / (base ** (arange(0, dim, 2).float() / dim))`).
    ///
    /// `powf` here is correctly rounded where torch's vectorized pow is sometimes 1 ulp low, so a
    /// few entries differ from torch by 1 ulp (e.g. 1 of 48 for headDim 96, theta 1e4); the angle
    /// then differs by ≤ position·ulp(inv_freq), under 1e-6 rad at position 512.
    public static func ropeInverseFrequencies(headDim: Int, theta: Float) -> [Float] {
        precondition(headDim > 0 && headDim % 2 == 0, "headDim must be positive and even")
        return (0..<(headDim / 2)).map { i in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / pow(theta, exponent)
        }
    }

    /// The inverse frequencies under a long-context `scaling`, in float32 step by step as
    /// transformers computes them.
    ///
    /// llama3 (`_compute_llama3_parameters`): with wavelen = 2π / inv_freq, low = original / low_freq_factor,
    /// high = original / high_freq_factor: wavelen > low → inv_freq / factor; wavelen < high → inv_freq;
    /// between → (1 − s)·inv_freq / factor + s·inv_freq, s = (original / wavelen − low_freq_factor) /
    /// (high_freq_factor − low_freq_factor). Frequency factors (llama.cpp's `rope_freqs`): inv_freq / factor.
    public static func ropeInverseFrequencies(headDim: Int, theta: Float, scaling: RopeScaling?) -> [Float] {
        let base = ropeInverseFrequencies(headDim: headDim, theta: theta)
        switch scaling {
        case nil:
            return base
        case let .frequencyFactors(factors):
            precondition(factors.count == base.count, "one factor per rotary pair")
            return zip(base, factors).map { $0 / $1 }
        case let .llama3(factor, lowFactor, highFactor, original):
            // torch does these element-wise steps in float32; the Python scalars enter as float32.
            let factor = Float(factor), lowFactor = Float(lowFactor), highFactor = Float(highFactor)
            let lowWavelength = Float(Double(original) / Double(lowFactor))
            let highWavelength = Float(Double(original) / Double(highFactor))
            let span = Float(Double(highFactor) - Double(lowFactor))
            return base.map { inverse in
                let wavelength = Float(2 * Double.pi) / inverse
                if wavelength > lowWavelength { return inverse / factor }
                if wavelength < highWavelength { return inverse }
                let smooth = (Float(original) / wavelength - lowFactor) / span
                return (1 - smooth) * inverse / factor + smooth * inverse
            }
        }
    }

    /// q[rows, heads*headDim] rotated in place, row t at position startPosition + t,
    /// Hugging Face rotate-half convention (dimension i pairs with i + headDim/2).
    ///
    /// The angle is float32 inv_freq[i] · Float(position) and cos/sin are the C library float32
    /// functions, the same float32 steps as LlamaRotaryEmbedding with the default rope type.
    /// out[i] = q[i]·cos − q[i+h]·sin and out[i+h] = q[i+h]·cos + q[i]·sin, h = headDim/2.
    public static func applyRoPE(_ q: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                                 theta: Float, startPosition: Int = 0) {
        precondition(rows >= 0 && heads >= 0 && startPosition >= 0, "negative size")
        let invFreq = ropeInverseFrequencies(headDim: headDim, theta: theta)
        applyRoPE(q, rows: rows, heads: heads, headDim: headDim, inverseFrequencies: invFreq,
                  startPosition: startPosition)
    }

    /// q[rows, heads*headDim] rotated in place with precomputed inverseFrequencies[headDim/2].
    ///
    /// `.halves` pairs dimension i with i + headDim/2; `.adjacentPairs` pairs 2i with 2i + 1
    /// (llama.cpp's "NORM" mode, llama2.c), with frequency i for the pair either way.
    public static func applyRoPE(_ q: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                                 inverseFrequencies invFreq: [Float], startPosition: Int = 0,
                                 layout: RopeLayout = .halves) {
        precondition(rows >= 0 && heads >= 0 && startPosition >= 0, "negative size")
        precondition(headDim > 0 && headDim % 2 == 0 && invFreq.count == headDim / 2, "bad headDim")
        let half = headDim / 2
        let stride = heads * headDim
        // Where the two members of pair i sit: (i, i + half) or (2i, 2i + 1).
        let (firstStep, partnerOffset) = layout == .halves ? (1, half) : (2, 1)
        // cos and sin of one position's angles, shared by all its heads.
        let table = UnsafeMutablePointer<Float>.allocate(capacity: headDim)
        defer { table.deallocate() }
        let cosines = table, sines = table + half
        invFreq.withUnsafeBufferPointer { invFreq in
            for t in 0..<rows {
                let position = Float(startPosition + t)
                for i in 0..<half {
                    let angle = invFreq[i] * position
                    cosines[i] = cos(angle)
                    sines[i] = sin(angle)
                }
                for h in 0..<heads {
                    let v = q + t * stride + h * headDim
                    for i in 0..<half {
                        let first = i * firstStep, second = first + partnerOffset
                        let a = v[first], b = v[second]
                        let c = cosines[i], s = sines[i]
                        v[first] = a * c + (-b) * s
                        v[second] = b * c + a * s
                    }
                }
            }
        }
    }
}
