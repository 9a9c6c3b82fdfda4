import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Times loading and repeated forward passes of one checkpoint (`qkv bench`).
public struct BenchmarkResult: Sendable {
    public var loadMilliseconds: Double
    /// Every timed forward pass, in milliseconds, in run order.
    public var forwardMilliseconds: [Double]
    public var tokens: Int
    /// Floating-point operations of one forward pass (2 per multiply-add of every matrix product).
    public var flopsPerForward: Double
    public var peakResidentBytes: Int
    /// Parameters per stored weight type (`Q4_K`, `f32`, …), most first.
    public var weightFormats: [(type: String, parameters: Int)] = []
    /// The matrix kernels that ran (`Kernels.matmulInstructionSet`): speed depends on them.
    public var kernels = Kernels.matmulInstructionSet

    public var sorted: [Double] { forwardMilliseconds.sorted() }
    public var minimum: Double { sorted.first ?? 0 }
    public var maximum: Double { sorted.last ?? 0 }
    public var median: Double {
        let values = sorted
        guard !values.isEmpty else { return 0 }
        return values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
    }
    public var tokensPerSecond: Double { median > 0 ? Double(tokens) / (median / 1000) : 0 }
    public var gigaflops: Double { median > 0 ? flopsPerForward / (median / 1000) / 1e9 : 0 }

}

public enum Benchmark {
    /// Loads `path` once (with `tokenizer`, as `CheckpointLoader.open`), runs `warmup` untimed and
    /// `iterations` timed forward passes over `input`.
    public static func run(
        path: String, tokenizer: TokenizerFile? = nil, input: AttentionRequest.Input, iterations: Int, warmup: Int,
        threads: Int = ThreadCount.automatic
    ) throws -> BenchmarkResult {
        let start = monotonicNanoseconds()
        let checkpoint = try CheckpointLoader.open(path: path, tokenizer: tokenizer)
        let model = try ModelLoader.load(checkpoint, verify: true, threads: threads)
        let loadMilliseconds = Double(monotonicNanoseconds() - start) / 1e6
        let tokens = try AttentionRunner.tokens(for: input, checkpoint: checkpoint).map(\.id)
        let layers = Array(0..<model.config.layerCount)
        for _ in 0..<warmup { _ = try model.attention(tokens: tokens, layers: layers) }
        var times: [Double] = []
        for _ in 0..<iterations {
            let begin = monotonicNanoseconds()
            _ = try model.attention(tokens: tokens, layers: layers)
            times.append(Double(monotonicNanoseconds() - begin) / 1e6)
        }
        return BenchmarkResult(
            loadMilliseconds: loadMilliseconds, forwardMilliseconds: times, tokens: tokens.count,
            flopsPerForward: forwardFLOPs(checkpoint, config: model.config, tokens: tokens.count),
            peakResidentBytes: peakResidentBytes(), weightFormats: weightFormats(checkpoint))
    }

    /// Parameters per stored type, most first (ties by name).
    public static func weightFormats(_ checkpoint: Checkpoint) -> [(type: String, parameters: Int)] {
        var counts: [String: Int] = [:]
        for tensor in checkpoint.tensors where tensor.isParameter { counts[tensor.dtype.displayName, default: 0] += tensor.elementCount }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
    }

    /// 2·T per weight of every matrix the pass multiplies by, plus the two attention products,
    /// 2·T·keys·head_dim per head each (keys = T, or p + 1 when causal). BERT, GPT-2 and LLaMA stop
    /// after the last layer's attention (nothing after it can change an attention matrix), so that
    /// layer counts only its Q, K and V projections.
    public static func forwardFLOPs(_ checkpoint: Checkpoint, config c: ModelConfig, tokens t: Int) -> Double {
        let stopsAfterLastAttention = c.wiring != .attentionOnly
        let attentionInputs: Set<Substring> = ["wq", "wk", "wv", "wqkv"]
        let matrixWeights = checkpoint.tensors.filter { info in
            guard info.isParameter, info.shape.count == 2, let layer = info.layer else { return false }
            guard stopsAfterLastAttention && layer == c.layerCount - 1 else { return true }
            return info.name.split(separator: ".").last.map(attentionInputs.contains) ?? false
        }.reduce(0) { $0 + $1.elementCount }
        let keyCount = c.isCausal ? Double(t * (t + 1) / 2) : Double(t * t)
        return 2 * Double(t) * Double(matrixWeights) + 2 * 2 * keyCount * Double(c.headDim * c.headCount * c.layerCount)
    }

    public static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// The process's peak resident set size (getrusage reports KiB on Linux, bytes on macOS).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }
}
