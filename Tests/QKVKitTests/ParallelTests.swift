import Foundation
import Testing
@testable import QKVKit

/// `parallelFor` over qkv's worker pool (`qkv_parallel_for`): every index runs exactly once, for
/// any count and thread count, from several callers at once and from inside another loop (which
/// the pool runs on the calling thread).
@Suite struct ParallelTests {
    /// How many times each index ran.
    static func runs(count: Int, threads: Int) -> [Int] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        counts.initialize(repeating: 0, count: max(1, count))
        defer { counts.deallocate() }
        nonisolated(unsafe) let shared = counts
        parallelFor(count, threads: threads) { i in shared[i] += 1 }
        return Array(UnsafeBufferPointer(start: counts, count: count))
    }

    @Test(arguments: [0, 1, 2, 3, 7, 64, 1000])
    func everyIndexOnce(count: Int) {
        for threads in [1, 2, 3, 8, 64] {
            #expect(Self.runs(count: count, threads: threads) == Array(repeating: 1, count: count), "threads \(threads)")
        }
    }

    @Test func manyShortLoopsInARow() {
        // The forward pass's pattern: thousands of small jobs back to back, workers spinning between.
        for round in 0..<2000 {
            let count = 1 + round % 9
            #expect(Self.runs(count: count, threads: 2 + round % 3) == Array(repeating: 1, count: count))
        }
    }

    @Test func nestedLoopsRunOnTheCallingThread() {
        let total = 16 * 16
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: total)
        counts.initialize(repeating: 0, count: total)
        defer { counts.deallocate() }
        nonisolated(unsafe) let shared = counts
        parallelFor(16, threads: 4) { i in
            parallelFor(16, threads: 4) { j in shared[i * 16 + j] += 1 }
        }
        #expect(Array(UnsafeBufferPointer(start: counts, count: total)) == Array(repeating: 1, count: total))
    }

    @Test func callersOnSeveralThreadsAtOnce() {
        // One job at a time: the callers that find the pool busy run their own indices.
        let callers = 6
        let ok = UnsafeMutablePointer<Bool>.allocate(capacity: callers)
        ok.initialize(repeating: false, count: callers)
        defer { ok.deallocate() }
        nonisolated(unsafe) let results = ok
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            var good = true
            for round in 0..<300 {
                let count = 5 + (round + caller) % 40
                good = good && Self.runs(count: count, threads: 4) == Array(repeating: 1, count: count)
            }
            results[caller] = good
        }
        #expect(Array(UnsafeBufferPointer(start: ok, count: callers)) == Array(repeating: true, count: callers))
    }
}
