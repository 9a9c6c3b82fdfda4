// Times Kernels.matmul / matmulTransposed on square and given shapes; one JSON line per case.
// Usage: qkv-matmul-bench [--threads N] [--runs N] [MxKxN ...]   (default sizes 384, 1024, 2048)
import Foundation
import QKVKit

var threads = ThreadCount.automatic
var runs = 0
var shapes: [(Int, Int, Int)] = []
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--threads": threads = Int(arguments.popFirst() ?? "") ?? threads
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    default:
        let parts = arg.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else {
            FileHandle.standardError.write(Data("bad shape \(arg); expected MxKxN\n".utf8))
            exit(2)
        }
        shapes.append((parts[0], parts[1], parts[2]))
    }
}
if shapes.isEmpty { shapes = [(384, 384, 384), (1024, 1024, 1024), (2048, 2048, 2048)] }

func filled(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
    var state = seed
    for i in 0..<count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        p[i] = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    return p
}

/// CPU time of the whole process (all threads), from the C library's clock().
func processCPUSeconds() -> Double {
    Double(clock()) / Double(CLOCKS_PER_SEC)
}

for (m, k, n) in shapes {
    let x = filled(m * k, seed: 1), w = filled(k * n, seed: 2), bias = filled(n, seed: 3)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    defer { x.deallocate(); w.deallocate(); bias.deallocate(); out.deallocate() }
    let flops = 2.0 * Double(m) * Double(k) * Double(n)
    let repeats = runs > 0 ? runs : max(5, min(50, Int(2e10 / flops)))
    for transposed in [false, true] {
        func once() {
            if transposed {
                Kernels.matmulTransposed(x, w, bias: bias, into: out, rows: m, inner: k, cols: n, threads: threads)
            } else {
                Kernels.matmul(x, w, bias: bias, into: out, rows: m, inner: k, cols: n, threads: threads)
            }
        }
        once()
        var seconds: [Double] = []
        var cpuSeconds: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<repeats {
            let cpuStart = processCPUSeconds()
            let elapsed = clock.measure { once() }
            cpuSeconds.append(processCPUSeconds() - cpuStart)
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        seconds.sort()
        cpuSeconds.sort()
        let median = seconds[seconds.count / 2]
        let op = transposed ? "matmulTransposed" : "matmul"
        // cpu_s (process CPU time, all threads) exposes contention: busy machines show
        // median_s well above cpu_s / threads.
        print("{\"op\":\"\(op)\",\"m\":\(m),\"k\":\(k),\"n\":\(n),\"threads\":\(threads),\"runs\":\(repeats),"
            + "\"median_s\":\(median),\"best_s\":\(seconds[0]),\"cpu_s\":\(cpuSeconds[cpuSeconds.count / 2]),"
            + "\"gflops\":\(flops / median / 1e9),\"gflops_best\":\(flops / seconds[0] / 1e9)}")
    }
}
