import Foundation
import Testing
@testable import QKVKit

// Every kernel is compared with a naive float64 implementation written here, on seeded random
// inputs of awkward sizes (1, 7, 33, 129, ... : not multiples of the SIMD width, the 6×16 tile,
// the KC=256 depth block or the 120-row block, on both sides of the 8-row unpacked path).
// Tolerances are stated next to each check.

// MARK: - Activations

@Suite struct ActivationTests {
    private static let inputs: [Float] = randomFloats(1037, seed: 41, in: -9...9) + [0, -0.0, 1e-30, -1e-30, 30, -30,
                                                                                    -100, 100]

    /// The float32 formulas lose relative accuracy where 1 + erf or 1 + tanh cancels (x ≪ 0), as in
    /// PyTorch; the error is then absolute, about unitRoundoff·|x|. Tolerance: 4u·|x| + 4u·|ref|.
    private static func check(_ kernel: (UnsafeMutablePointer<Float>, Int) -> Void, reference: (Double) -> Double) {
        var y = inputs
        y.withUnsafeMutableBufferPointer { kernel($0.baseAddress!, $0.count) }
        for (x, got) in zip(inputs, y) {
            let ref = reference(Double(x))
            let tolerance = 4 * unitRoundoff * (abs(Double(x)) + abs(ref))
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
