import CKernels
import Foundation

/// How many threads work may use. A value handed down from the command line (`--threads`) or an
/// API caller; kernels never read the environment themselves.
public enum ThreadCount {
    /// `QKV_THREADS` when it holds a positive integer, else the active processor count: the
    /// default of every public entry point that takes `threads:`. Read once: Foundation reads
    /// cgroup files on every `activeProcessorCount` on Linux, which costs more than a small product.
    public static let automatic: Int = {
        if let text = ProcessInfo.processInfo.environment["QKV_THREADS"], let n = Int(text), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()
}

/// Runs `body` for 0..<count on up to `threads` threads at once (inline when count or threads is
/// 1): the caller and qkv's worker pool (`qkv_parallel_for`), which stays awake between the many
/// short loops of a forward pass. Callers write disjoint slices of shared buffers, and what an
/// index computes must not depend on the thread that runs it.
func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if count <= 1 || threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    // The pool's workers call the closure through the context pointer; it does not outlive this call.
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { task in
            qkv_parallel_for(count, Int32(clamping: threads), { context, index in
                context.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            }, task)
        }
    }
}
