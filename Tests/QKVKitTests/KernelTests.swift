import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

private func randomFloats(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
    var rng = SeededGenerator(state: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Unit roundoff of float32.
private let u = Double(Float.ulpOfOne) / 2

// MARK: - Matmul

private struct MatmulCase: CustomTestStringConvertible, Sendable {
    let m: Int, k: Int, n: Int
    var testDescription: String { "\(m)x\(k)x\(n)" }
}

private let matmulCases: [MatmulCase] = [
    (1, 1, 1), (1, 7, 33), (1, 129, 17), (2, 33, 7), (2, 300, 130), (3, 5, 9), (6, 8, 8), (7, 129, 33),
    (33, 7, 129), (13, 257, 19), (73, 300, 77), (129, 64, 520), (40, 513, 41),
    (8, 40, 50), (9, 40, 50),
].map { MatmulCase(m: $0.0, k: $0.1, n: $0.2) }

/// Computes the float32 kernel result and checks it against float64 within the textbook bound for
/// any summation order: |err| ≤ γ(k+2)·(Σ_i |x_i w_i| + |bias| + |previous out|), γ(j) = j·u/(1 − j·u).
private func checkMatmul(_ c: MatmulCase, transposed: Bool, withBias: Bool, accumulate: Bool,
                         threads: Int = ThreadCount.automatic, portable: Bool = false) {
    let (m, k, n) = (c.m, c.k, c.n)
    let x = randomFloats(m * k, seed: 1)
    let w = randomFloats(k * n, seed: 2)  // [k, n], or [n, k] when transposed
    let bias = randomFloats(n, seed: 3)
    let initial = randomFloats(m * n, seed: 4, in: -4...4)
    var out = accumulate ? initial : [Float](repeating: .nan, count: m * n)
    x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    let b = withBias ? bp.baseAddress : nil
                    if portable {
                        let operands = GemmOperands(x: xp.baseAddress!, xStride: k, w: wp.baseAddress!,
                                                    wStride: transposed ? k : n, weightTransposed: transposed,
                                                    bias: b, out: op.baseAddress!, outStride: n)
                        Kernels.gemm(operands, rows: m, inner: k, cols: n, accumulate: accumulate, threads: threads,
                                     portable: true)
                    } else if transposed {
                        Kernels.matmulTransposed(xp.baseAddress!, wp.baseAddress!, bias: b, into: op.baseAddress!,
                                                 rows: m, inner: k, cols: n, accumulate: accumulate, threads: threads)
                    } else {
                        Kernels.matmul(xp.baseAddress!, wp.baseAddress!, bias: b, into: op.baseAddress!,
                                       rows: m, inner: k, cols: n, accumulate: accumulate, threads: threads)
                    }
                }
            }
        }
    }
    let gamma = Double(k + 2) * u / (1 - Double(k + 2) * u)
    var failures = 0
    for r in 0..<m {
        for j in 0..<n {
            var exact = 0.0, magnitude = 0.0
            for i in 0..<k {
                let p = Double(x[r * k + i]) * Double(transposed ? w[j * k + i] : w[i * n + j])
                exact += p
                magnitude += abs(p)
            }
            if withBias {
                exact += Double(bias[j])
                magnitude += abs(Double(bias[j]))
            }
            if accumulate {
                exact += Double(initial[r * n + j])
                magnitude += abs(Double(initial[r * n + j]))
            }
            let got = Double(out[r * n + j])
            if !(abs(got - exact) <= gamma * magnitude) {
                failures += 1
                if failures <= 3 {
                    Issue.record("[\(r),\(j)] got \(got) expected \(exact) bound \(gamma * magnitude)")
                }
            }
        }
    }
    #expect(failures == 0)
}

@Suite struct MatmulTests {
    @Test(arguments: matmulCases)
    fileprivate func matmulMatchesFloat64(_ c: MatmulCase) {
        checkMatmul(c, transposed: false, withBias: false, accumulate: false)
        checkMatmul(c, transposed: false, withBias: true, accumulate: false)
        checkMatmul(c, transposed: false, withBias: true, accumulate: true)
    }

    @Test(arguments: matmulCases)
    fileprivate func matmulTransposedMatchesFloat64(_ c: MatmulCase) {
        checkMatmul(c, transposed: true, withBias: false, accumulate: false)
        checkMatmul(c, transposed: true, withBias: true, accumulate: false)
        checkMatmul(c, transposed: true, withBias: false, accumulate: true)
    }

    /// The portable C kernels (what CPUs without AVX2+FMA and arm64 run), pinned on this machine.
    @Test(arguments: matmulCases)
    fileprivate func portableKernelsMatchFloat64(_ c: MatmulCase) {
        for transposed in [false, true] {
            checkMatmul(c, transposed: transposed, withBias: false, accumulate: false, portable: true)
            checkMatmul(c, transposed: transposed, withBias: true, accumulate: true, portable: true)
        }
    }

    /// Large enough to cross the threading threshold, several column chunks and depth blocks.
    @Test func largeProblemMatchesFloat64() {
        checkMatmul(MatmulCase(m: 40, k: 300, n: 1100), transposed: false, withBias: true, accumulate: false)
        checkMatmul(MatmulCase(m: 40, k: 300, n: 1100), transposed: true, withBias: true, accumulate: false)
        // Several row blocks, depth chunks and packed column blocks per thread.
        checkMatmul(MatmulCase(m: 125, k: 260, n: 1580), transposed: false, withBias: true, accumulate: true)
        checkMatmul(MatmulCase(m: 125, k: 260, n: 1580), transposed: true, withBias: true, accumulate: false)
        // Matrix-vector path split across threads.
        checkMatmul(MatmulCase(m: 1, k: 1100, n: 1001), transposed: false, withBias: true, accumulate: false)
        checkMatmul(MatmulCase(m: 2, k: 1100, n: 1001), transposed: true, withBias: true, accumulate: true)
    }

    /// Same bits for every thread count: the split never changes any element's summation order.
    @Test(arguments: [false, true], [MatmulCase(m: 50, k: 300, n: 1030), MatmulCase(m: 2, k: 900, n: 1201),
                                     MatmulCase(m: 300, k: 70, n: 60)])
    fileprivate func resultIndependentOfThreadCount(transposed: Bool, c: MatmulCase) {
        let x = randomFloats(c.m * c.k, seed: 5), w = randomFloats(c.k * c.n, seed: 6)
        let bias = randomFloats(c.n, seed: 7)
        func run(threads: Int) -> [Float] {
            var out = [Float](repeating: 0, count: c.m * c.n)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    bias.withUnsafeBufferPointer { bp in
                        out.withUnsafeMutableBufferPointer { op in
                            if transposed {
                                Kernels.matmulTransposed(xp.baseAddress!, wp.baseAddress!, bias: bp.baseAddress,
                                                         into: op.baseAddress!, rows: c.m, inner: c.k, cols: c.n,
                                                         threads: threads)
                            } else {
                                Kernels.matmul(xp.baseAddress!, wp.baseAddress!, bias: bp.baseAddress,
                                               into: op.baseAddress!, rows: c.m, inner: c.k, cols: c.n,
                                               threads: threads)
                            }
                        }
                    }
                }
            }
            return out
        }
        let single = run(threads: 1)
        for threads in [2, 3, 5] {
            let multi = run(threads: threads)
            #expect(single.map(\.bitPattern) == multi.map(\.bitPattern), "threads \(threads)")
        }
    }

    /// Weights packed once at load: float64 bound as above, same bits for any thread count (x is
    /// then packed once and shared, columns handed out in blocks), Conv1D and nn.Linear layouts
    /// and stacked nn.Linear weights (fused Q|K|V).
    @Test(arguments: [MatmulCase(m: 1, k: 7, n: 33), MatmulCase(m: 8, k: 300, n: 130), MatmulCase(m: 9, k: 65, n: 400),
                      MatmulCase(m: 50, k: 300, n: 1030), MatmulCase(m: 200, k: 513, n: 72)])
    fileprivate func packedWeightMatchesFloat64(_ c: MatmulCase) {
        let x = randomFloats(c.m * c.k, seed: 8), bias = randomFloats(c.n, seed: 9)
        let w = randomFloats(c.k * c.n, seed: 10)  // [n, k] for nn.Linear, [k, n] for Conv1D
        let linear = PackedWeight(FloatTensor(name: "w", shape: [c.n, c.k], values: w), transposed: true)
        let conv = PackedWeight(FloatTensor(name: "w", shape: [c.k, c.n], values: w), transposed: false)
        let split = c.n / 3
        let stacked = PackedWeight(stackingTransposed: [
            FloatTensor(name: "a", shape: [split, c.k], values: Array(w[0..<(split * c.k)])),
            FloatTensor(name: "b", shape: [c.n - split, c.k], values: Array(w[(split * c.k)...])),
        ])
        func run(_ weight: PackedWeight, threads: Int) -> [Float] {
            var out = [Float](repeating: .nan, count: c.m * c.n)
            x.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { op in
                        weight.apply(xp.baseAddress!, bias: bp.baseAddress, into: op.baseAddress!, rows: c.m, threads: threads)
                    }
                }
            }
            return out
        }
        let gamma = Double(c.k + 2) * u / (1 - Double(c.k + 2) * u)
        for (weight, transposed) in [(linear, true), (conv, false), (stacked, true)] {
            let single = run(weight, threads: 1)
            for threads in [2, 3] {
                #expect(run(weight, threads: threads).map(\.bitPattern) == single.map(\.bitPattern), "threads \(threads)")
            }
            var failures = 0
            for r in 0..<c.m {
                for j in 0..<c.n {
                    var exact = Double(bias[j]), magnitude = abs(Double(bias[j]))
                    for i in 0..<c.k {
                        let p = Double(x[r * c.k + i]) * Double(transposed ? w[j * c.k + i] : w[i * c.n + j])
                        exact += p
                        magnitude += abs(p)
                    }
                    if !(abs(Double(single[r * c.n + j]) - exact) <= gamma * magnitude) { failures += 1 }
                }
            }
            #expect(failures == 0, "transposed \(transposed)")
        }
    }

    @Test func emptyInnerDimensionGivesBias() {
        let bias: [Float] = [1, -2, 3]
        var out: [Float] = [10, 20, 30, 40, 50, 60]
        let dummy: [Float] = [0]
        dummy.withUnsafeBufferPointer { d in
            bias.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    Kernels.matmul(d.baseAddress!, d.baseAddress!, bias: b.baseAddress, into: o.baseAddress!,
                                   rows: 2, inner: 0, cols: 3, threads: 1)
                }
            }
        }
        #expect(out == [1, -2, 3, 1, -2, 3])
        dummy.withUnsafeBufferPointer { d in
            bias.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    Kernels.matmulTransposed(d.baseAddress!, d.baseAddress!, bias: b.baseAddress,
                                             into: o.baseAddress!, rows: 2, inner: 0, cols: 3, accumulate: true, threads: 1)
                }
            }
        }
        #expect(out == [2, -4, 6, 2, -4, 6])
    }
}

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

// MARK: - Softmax

@Suite struct SoftmaxTests {
    private static func reference(_ row: ArraySlice<Float>) -> [Double] {
        let m = row.map(Double.init).max()!
        let e = row.map { Foundation.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// Inputs in [−8, 8]: float32 rounding of x − max (≤ 16·u relative after exp), expf (1 ulp),
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

// MARK: - Activations

@Suite struct ActivationTests {
    private static let inputs: [Float] = randomFloats(1037, seed: 41, in: -9...9) + [0, -0.0, 1e-30, -1e-30, 30, -30,
                                                                                    -100, 100]

    /// The float32 formulas lose relative accuracy where 1 + erf or 1 + tanh cancels (x ≪ 0), as in
    /// PyTorch; the error is then absolute, about u·|x|. Tolerance: 4u·|x| + 4u·|ref|.
    private static func check(_ kernel: (UnsafeMutablePointer<Float>, Int) -> Void, reference: (Double) -> Double) {
        var y = inputs
        y.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, $0.count) }
        for (x, got) in zip(inputs, y) {
            let ref = reference(Double(x))
            let tolerance = 4 * u * (abs(Double(x)) + abs(ref))
            #expect(abs(Double(got) - ref) <= tolerance, "x=\(x): \(got) vs \(ref)")
        }
    }

    @Test(arguments: [false, true])
    func geluErfMatchesFloat64(portable: Bool) {
        Self.check({ Kernels.geluErf($0, count: $1, portable: portable) }) {
            0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot()))
        }
    }

    /// Large enough to be split across threads; an element's value does not depend on the split.
    @Test func geluErfAcrossThreadsMatchesOneCall() {
        let inputs = randomFloats(100_003, seed: 42, in: -9...9)
        var split = inputs, whole = inputs
        split.withUnsafeMutableBufferPointer { Kernels.geluErf($0.baseAddress!, count: $0.count) }
        whole.withUnsafeMutableBufferPointer { p in
            for start in stride(from: 0, to: p.count, by: 1000) {
                Kernels.geluErf(p.baseAddress! + start, count: min(1000, p.count - start))
            }
        }
        #expect(split.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    @Test(arguments: [false, true])
    func geluTanhMatchesFloat64(portable: Bool) {
        Self.check({ Kernels.geluTanh($0, count: $1, portable: portable) }) { x in
            0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
    }

    @Test(arguments: [false, true])
    func siluMatchesFloat64(portable: Bool) {
        Self.check({ Kernels.silu($0, count: $1, portable: portable) }) { $0 / (1 + Foundation.exp(-$0)) }
    }

    /// Limits and NaN: −0 where e^(−z) overflows, x itself where it underflows.
    @Test(arguments: [false, true])
    func gatedActivationsAtTheLimits(portable: Bool) {
        for kernel in [Kernels.silu(_:count:portable:threads:), Kernels.geluTanh(_:count:portable:threads:)] {
            // (−inf gives NaN, as in PyTorch: −inf · 0.)
            var x: [Float] = [-1e30, 1e30, .infinity, .nan, -200, 200, 0, -0.0]
            x.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, $0.count, portable, 1) }
            #expect(x[0] == 0 && x[0].sign == .minus)
            #expect(x[1] == 1e30 && x[2] == .infinity && x[3].isNaN)
            #expect(x[4] == 0 && x[4].sign == .minus && x[5] == 200)
            #expect(x[6] == 0 && x[7] == 0)
        }
    }
}

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
            #expect(abs(Double(v) - ref) <= 4 * u * ref, "i=\(i)")
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
        #expect(abs(Double(total) - exact) <= Double(count) * u * magnitude)
        var rows = [Float](repeating: 1, count: 3 * count)
        rows.withUnsafeMutableBufferPointer { r in
            b.withUnsafeBufferPointer { Kernels.addRowVector(r.baseAddress!, rows: 3, cols: count, $0.baseAddress!) }
        }
        #expect(rows == (b + b + b).map { 1 + $0 })
    }
}
