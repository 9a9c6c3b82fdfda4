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
/// 1). Callers write disjoint slices of shared buffers.
func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if count <= 1 || threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    // Callers write disjoint slices of shared buffers, which Sendable checking cannot see.
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        if threads >= count {
            DispatchQueue.concurrentPerform(iterations: count) { body($0) }
        } else {
            // `threads` workers take indices in turn; the work each index does is the same
            // however they are handed out, so results do not depend on the thread count.
            let next = AtomicCounter()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                while true {
                    let i = next.increment()
                    guard i < count else { break }
                    body(i)
                }
            }
        }
    }
}

/// A counter shared by the workers of one parallel loop.
final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// The current value, then adds one.
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

/// A pointer that parallel loops share; each iteration writes a disjoint slice.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}

/// Read-only bytes that parallel loops share.
struct SendableRawPointer: @unchecked Sendable {
    let pointer: UnsafeRawPointer
    init(_ pointer: UnsafeRawPointer) { self.pointer = pointer }
}
