import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

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
/// any summation order: |err| ≤ γ(k+2)·(Σ_i |x_i w_i| + |bias| + |previous out|), γ(j) = j·unitRoundoff/(1 − j·unitRoundoff).
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
    let gamma = Double(k + 2) * unitRoundoff / (1 - Double(k + 2) * unitRoundoff)
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
        let gamma = Double(c.k + 2) * unitRoundoff / (1 - Double(c.k + 2) * unitRoundoff)
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
