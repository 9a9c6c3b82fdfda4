import CKernels
import CZlib
import Foundation

/// Decodes one zlib or shuffle+zlib tensor payload.
///
/// zlib's inflate is the only step that cannot be split, so it runs alone on one core with every
/// other byte pass moved off it: the deflate data is inflated raw (the two-byte zlib header and the
/// Adler-32 trailer are checked here, with zlib's own messages), and a second core follows the
/// inflated prefix chunk by chunk, computing the Adler-32, un-shuffling the elements whose last
/// byte plane has arrived, and the CRC-32 of the decoded bytes while they are still in cache.
/// Small payloads run the same steps one after another on the calling thread.
struct CompressedPayload {
    /// The zlib stream as stored in the file.
    let stream: UnsafeRawBufferPointer
    /// Bytes per element, for un-shuffling.
    let elementSize: Int
    /// Whether the inflated bytes are byte planes (shuffle+zlib) rather than the elements.
    let isShuffled: Bool
    /// Names the tensor in errors.
    let what: String

    /// Inflated bytes handed from the inflating core to the follower at a time.
    static let chunkBytes = 256 << 10
    /// Payloads decoding to fewer bytes are not worth a second thread.
    static let parallelThreshold = 1 << 20

    /// Fills `elements` with the decoded bytes, inflating through `planes` (at least as large) when
    /// shuffled; returns the CRC-32 of the decoded bytes when `computeCRC`, else nil.
    /// `threads` above 1 lets a large payload use a second core.
    func decode(
        into elements: UnsafeMutableRawBufferPointer, planes: UnsafeMutableRawBufferPointer?, computeCRC: Bool,
        threads: Int
    ) throws(QKVError) -> UInt32? {
        precondition(elementSize > 0 && elements.count % elementSize == 0, "whole elements only")
        precondition(!isShuffled || (planes?.count ?? -1) >= elements.count, "shuffled data needs planes")
        try ZlibStreamHeader.check(stream, what: what)
        let deflateData = UnsafeRawBufferPointer(rebasing: stream[ZlibStreamHeader.byteCount...])
        let inflater = try Inflater(windowBits: -15, what: what, nextInput: pieces(of: deflateData))
        let inflated = isShuffled ? UnsafeMutableRawBufferPointer(rebasing: planes![0..<elements.count]) : elements
        let work = BlockWork(
            inflated: UnsafeRawBufferPointer(inflated), elements: elements, elementSize: elementSize,
            isShuffled: isShuffled, computeCRC: computeCRC)

        let written: Int
        if elements.count >= Self.parallelThreshold && threads > 1 {
            written = try inflateAlongside(work, inflater: inflater, into: inflated)
        } else {
            written = try inflater.read(into: inflated)
            work.checkInflated(upTo: written)
            work.decodeReadyBlocks(inflatedBytes: written)
        }
        guard written == inflated.count else {
            throw .inflatedSizeMismatch(what: what, expected: UInt64(inflated.count), found: UInt64(written))
        }
        try inflater.expectEnd(expectedTotal: UInt64(inflated.count))
        try checkTrailer(after: inflater.totalIn, in: deflateData, adler: work.adler.value)
        return computeCRC ? work.crc() : nil
    }

    /// Inflates on this thread while a second one checks and decodes each finished chunk; once the
    /// stream is out, both share the blocks still to decode. Returns the bytes inflated (fewer than
    /// `target.count` when the stream ends early).
    private func inflateAlongside(
        _ work: BlockWork, inflater: Inflater, into target: UnsafeMutableRawBufferPointer
    ) throws(QKVError) -> Int {
        var failure: QKVError?
        var written = 0
        parallelFor(2, threads: 2) { _ in
            // Roles go by arrival, not by index: whoever comes first inflates, so the follower
            // never waits on a side that has not started, however the two closures are scheduled.
            if work.arriveFirst() {
                do throws(QKVError) {
                    while written < target.count && !inflater.isFinished {
                        let end = min(written + Self.chunkBytes, target.count)
                        written += try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: target[written..<end]))
                        work.publish(inflatedBytes: written)
                    }
                } catch {
                    failure = error
                }
                work.endInflating(failed: failure != nil)
                if failure == nil { work.decodeReadyBlocks(inflatedBytes: written) }
            } else {
                var seen = 0
                while let (available, ended) = work.wait(beyond: seen) {
                    work.checkInflated(upTo: available)
                    seen = available
                    work.decodeReadyBlocks(inflatedBytes: available)
                    if ended { break }
                }
            }
        }
        if let failure { throw failure }
        return written
    }

    /// After the deflate data: the big-endian Adler-32 of the inflated bytes, then nothing.
    private func checkTrailer(after consumed: UInt64, in deflateData: UnsafeRawBufferPointer, adler: UInt32) throws(QKVError) {
        let base = Int(consumed)
        let trailer = deflateData.count - base
        guard trailer >= 4 else { throw .inflateTruncated(what: what) }
        let stored = deflateData[base..<base + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard stored == adler else { throw .inflateFailed(what: what, reason: "incorrect data check") }
        if trailer > 4 { throw .trailingBytesAfterStream(what: what, count: UInt64(trailer - 4)) }
    }
}

/// The passes that trail behind inflate. The Adler-32 runs on one thread in stream order; the
/// decoded bytes are cut into blocks of elements that either thread may claim once their bytes
/// are all inflated (for shuffled data: once byte i of the last plane is in), each un-shuffled and
/// given its own CRC-32 while in cache, the CRCs joined in order at the end.
private final class BlockWork: @unchecked Sendable {
    let inflated: UnsafeRawBufferPointer
    let elements: UnsafeMutableRawBufferPointer
    let elementSize: Int
    let isShuffled: Bool
    let computeCRC: Bool
    /// Adler-32 of the inflated bytes so far (one thread only).
    private(set) var adler = Adler32()
    private var checkedBytes = 0

    static let blockElements = 16 << 10
    private let elementCount: Int
    private let blockCount: Int
    /// One CRC-32 per block, each slot written by whichever thread decoded that block.
    private let blockCRCs: UnsafeMutableBufferPointer<UInt32>

    // Shared between the threads, under `condition`.
    private let condition = NSCondition()
    private var arrivals = 0
    private var inflatedBytes = 0
    private var ended = false
    private var nextBlock = 0

    init(
        inflated: UnsafeRawBufferPointer, elements: UnsafeMutableRawBufferPointer, elementSize: Int,
        isShuffled: Bool, computeCRC: Bool
    ) {
        self.inflated = inflated
        self.elements = elements
        self.elementSize = elementSize
        self.isShuffled = isShuffled
        self.computeCRC = computeCRC
        elementCount = elements.count / elementSize
        // Plain zlib without a CRC to compute has no block work at all.
        blockCount = isShuffled || computeCRC ? (elementCount + Self.blockElements - 1) / Self.blockElements : 0
        blockCRCs = .allocate(capacity: blockCount)
        blockCRCs.initialize(repeating: 0)
    }

    deinit { blockCRCs.deallocate() }

    /// Adds the inflated bytes up to `produced` to the Adler-32.
    func checkInflated(upTo produced: Int) {
        adler.update(UnsafeRawBufferPointer(rebasing: inflated[checkedBytes..<produced]))
        checkedBytes = produced
    }

    /// Elements whose bytes are all inflated once `produced` bytes are out.
    private func readyElements(_ produced: Int) -> Int {
        guard isShuffled else { return produced / elementSize }
        return min(elementCount, max(0, produced - (elementSize - 1) * elementCount))
    }

    /// Claims and decodes blocks, one at a time, while unclaimed ones are complete at `produced`.
    func decodeReadyBlocks(inflatedBytes produced: Int) {
        while let block = claimBlock(inflatedBytes: produced) { decodeBlock(block) }
    }

    /// The next block whose elements are all inflated, or nil.
    private func claimBlock(inflatedBytes produced: Int) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        let block = nextBlock
        guard block < blockCount, min((block + 1) * Self.blockElements, elementCount) <= readyElements(produced) else {
            return nil
        }
        nextBlock += 1
        return block
    }

    private func decodeBlock(_ block: Int) {
        let first = block * Self.blockElements
        let last = min(first + Self.blockElements, elementCount)
        if isShuffled {
            qkv_unshuffle(
                inflated.baseAddress!.assumingMemoryBound(to: UInt8.self), elementCount, elementSize, first, last,
                elements.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        if computeCRC {
            let crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: elements[first * elementSize..<last * elementSize]))
            blockCRCs[block] = crc
        }
    }

    /// The CRC-32 of all decoded bytes, once every block is done.
    func crc() -> UInt32 {
        guard blockCount > 0 else { return 0 }  // the CRC-32 of no bytes
        let blockBytes = Self.blockElements * elementSize
        let lastBytes = elementCount * elementSize - (blockCount - 1) * blockBytes
        return UInt32(truncatingIfNeeded: qkv_crc32_join(blockCRCs.baseAddress!, blockCount, blockBytes, lastBytes))
    }

    /// True for the first caller only.
    func arriveFirst() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrivals += 1
        return arrivals == 1
    }

    func publish(inflatedBytes count: Int) {
        condition.lock()
        inflatedBytes = count
        condition.signal()
        condition.unlock()
    }

    func endInflating(failed: Bool) {
        condition.lock()
        ended = true
        if failed { nextBlock = blockCount }  // nothing left worth decoding
        condition.signal()
        condition.unlock()
    }

    /// Blocks until more than `seen` bytes are inflated or inflating ended; nil once it ended and
    /// every byte was seen.
    func wait(beyond seen: Int) -> (available: Int, ended: Bool)? {
        condition.lock()
        defer { condition.unlock() }
        while inflatedBytes == seen && !ended { condition.wait() }
        if inflatedBytes == seen && ended { return nil }
        return (inflatedBytes, ended)
    }
}
