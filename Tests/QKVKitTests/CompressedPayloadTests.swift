import CKernels
import Foundation
import Testing
@testable import QKVKit

/// The zlib / shuffle+zlib decoder: the SSE2 un-shuffle against the spec's formula, payloads on both
/// sides of the two-thread threshold against the bytes they were made from, and one hand-built
/// hostile stream per failure, large enough to take the two-thread path.
@Suite struct CompressedPayloadTests {
    /// Bytes that compress partly, like weights: random low bytes, a few distinct high bytes.
    static func weightLikeBytes(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(state: seed)
        return (0..<count).map { index in
            index % 4 == 3 ? UInt8(0x3C + generator.next() % 3) : UInt8(truncatingIfNeeded: generator.next())
        }
    }

    static func shuffled(_ raw: [UInt8], elementSize s: Int) -> [UInt8] {
        raw.withUnsafeBytes { shuffle($0, elementSize: s) }
    }

    static func zlib(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { deflateBytes($0, container: .zlib) } }

    /// Decodes `stream` to `count` bytes; the CRC-32 it computed and the decoded bytes.
    static func decode(
        _ stream: [UInt8], count: Int, elementSize: Int = 4, isShuffled: Bool, threads: Int = 2
    ) throws(QKVError) -> (crc: UInt32?, bytes: [UInt8]) {
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: stream.count, alignment: 1)
        let elements = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        let planes = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer {
            source.deallocate()
            elements.deallocate()
            planes.deallocate()
        }
        source.copyBytes(from: stream)
        let payload = CompressedPayload(
            stream: UnsafeRawBufferPointer(source), elementSize: elementSize, isShuffled: isShuffled, what: what)
        let crc = try payload.decode(into: elements, planes: planes, computeCRC: true, threads: threads)
        return (crc, Array(elements))
    }

    /// The error decoding raises, or nil; one thread and two must agree.
    static func decodeError(_ stream: [UInt8], count: Int, isShuffled: Bool = true) -> QKVError? {
        func attempt(threads: Int) -> QKVError? {
            do {
                _ = try decode(stream, count: count, isShuffled: isShuffled, threads: threads)
                return nil
            } catch {
                return error
            }
        }
        let single = attempt(threads: 1)
        #expect(attempt(threads: 2) == single, "one thread and two threads disagree")
        return single
    }

    // MARK: Un-shuffle kernel

    @Test func unshuffleKernelMatchesTheFormula() {
        var generator = SeededGenerator(state: 7)
        for s in [1, 2, 4, 8] {
            for n in [1, 15, 16, 17, 33, 100, 1000] {
                let raw = (0..<n * s).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let shuffled = Self.shuffled(raw, elementSize: s)
                for (first, last) in [(0, n), (0, n / 2), (n / 3, n), (1, max(1, n - 1))] {
                    var out = [UInt8](repeating: 0xEE, count: n * s)
                    shuffled.withUnsafeBufferPointer { source in
                        out.withUnsafeMutableBufferPointer { target in
                            qkv_unshuffle(source.baseAddress!, n, s, first, last, target.baseAddress!)
                        }
                    }
                    for index in 0..<n * s {
                        let inRange = (first * s..<last * s).contains(index)
                        #expect(out[index] == (inRange ? raw[index] : 0xEE), "s=\(s) n=\(n) range \(first)..<\(last) byte \(index)")
                    }
                }
            }
        }
    }

    // MARK: Round trips

    // Sizes below and above the two-thread threshold, and not a whole number of blocks.
    @Test(arguments: [4 << 10, 3 << 20 + 20], [1, 2])
    func shuffledPayloadsDecode(count: Int, threads: Int) throws {
        for s in [2, 4] {
            let raw = Self.weightLikeBytes(count: count, seed: UInt64(count + s))
            let stream = Self.zlib(Self.shuffled(raw, elementSize: s))
            let (crc, bytes) = try Self.decode(stream, count: count, elementSize: s, isShuffled: true, threads: threads)
            #expect(bytes == raw)
            #expect(crc == CRC32.checksum(raw))
        }
    }

    @Test(arguments: [4 << 10, 3 << 20 + 20], [1, 2])
    func plainPayloadsDecode(count: Int, threads: Int) throws {
        let raw = Self.weightLikeBytes(count: count, seed: 11)
        let (crc, bytes) = try Self.decode(Self.zlib(raw), count: count, isShuffled: false, threads: threads)
        #expect(bytes == raw)
        #expect(crc == CRC32.checksum(raw))
    }

    @Test func emptyPayloadDecodes() throws {
        let (crc, bytes) = try Self.decode(Self.zlib([]), count: 0, isShuffled: true)
        #expect(bytes.isEmpty && crc == 0)
    }

    @Test func largeTensorsThroughACheckpoint() throws {
        // An attention-only model of dim 1000: every tensor is 1000 × 1000, over the threshold.
        var generator = SeededGenerator(state: 3)
        let values = (0..<1_000_000).map { _ in Float(Double(generator.next() % 2_000_001) / 1_000_000 - 1) }
        let writer = QKVWriter(
            metadata: Metadata([
                ("qkv.architecture", .string("attention")), ("qkv.vocab_size", .int(1000)), ("qkv.dim", .int(1000)),
                ("qkv.n_layers", .int(1)), ("qkv.n_heads", .int(1)),
            ]),
            tensors: [
                .init("embed", shape: [1000, 1000], values: values, encoding: .shuffleZlib),
                .init("layers.0.wq", shape: [1000, 1000], values: values, dtype: .f16, encoding: .shuffleZlib),
                .init("layers.0.wk", shape: [1000, 1000], values: values, encoding: .zlib),
                .init("layers.0.wv", shape: [1000, 1000], values: values, dtype: .bf16, encoding: .zlib),
            ])
        let checkpoint = try CheckpointLoader.open(path: try temporaryFile(writer.bytes()))
        #expect(try checkpoint.floats("embed", verify: true).values == values)
        #expect(try checkpoint.floats("layers.0.wk", verify: true).values == values)
        let halves = try checkpoint.floats("layers.0.wq", verify: true).values
        #expect(halves == values.map { Float(Float16($0)) })
        let brains = try checkpoint.floats("layers.0.wv", verify: true).values
        #expect(zip(brains, values).allSatisfy { abs($0 - $1) <= abs($1) * 0x1p-8 })
        #expect(checkpoint.verifyAll().problems.isEmpty)
    }

    // MARK: Hostile streams (large: the two-thread path)

    static let count = 2 << 20
    static let raw = weightLikeBytes(count: count, seed: 5)
    static let stream = zlib(shuffled(raw, elementSize: 4))
    static let what = "tensor \"t\""

    @Test func largeStreamTruncated() {
        #expect(Self.decodeError(Array(Self.stream.dropLast(6)), count: Self.count) == .inflateTruncated(what: Self.what))
        #expect(Self.decodeError(Array(Self.stream.prefix(Self.stream.count / 2)), count: Self.count) == .inflateTruncated(what: Self.what))
    }

    /// The deflate data is complete but the Adler-32 after it is cut short or missing.
    @Test(arguments: [1, 2, 3, 4])
    func largeStreamTrailerCut(bytes: Int) {
        #expect(Self.decodeError(Array(Self.stream.dropLast(bytes)), count: Self.count) == .inflateTruncated(what: Self.what))
    }

    /// A changed byte inside a stored block inflates fine; only the Adler-32 notices.
    @Test func largeStreamContentChanged() {
        var stored = Self.raw.withUnsafeBytes { deflateBytes($0, container: .zlib, level: 0) }
        stored[stored.count / 2] ^= 0x01
        #expect(Self.decodeError(stored, count: Self.count, isShuffled: false)
            == .inflateFailed(what: Self.what, reason: "incorrect data check"))
    }

    @Test func largeStreamAdlerMismatch() {
        var stream = Self.stream
        stream[stream.count - 2] ^= 0x40
        #expect(Self.decodeError(stream, count: Self.count) == .inflateFailed(what: Self.what, reason: "incorrect data check"))
    }

    @Test func largeStreamJunkAfterTrailer() {
        #expect(Self.decodeError(Self.stream + [9, 9, 9], count: Self.count) == .trailingBytesAfterStream(what: Self.what, count: 3))
    }

    @Test func largeStreamShorterOrLongerThanTensor() {
        let short = Self.zlib(Array(Self.raw.prefix(Self.count - 4)))
        #expect(Self.decodeError(short, count: Self.count)
            == .inflatedSizeMismatch(what: Self.what, expected: UInt64(Self.count), found: UInt64(Self.count - 4)))
        let long = Self.zlib(Self.raw + [1, 2, 3, 4])
        #expect(Self.decodeError(long, count: Self.count)
            == .inflatedSizeMismatch(what: Self.what, expected: UInt64(Self.count), found: UInt64(Self.count + 4)))
    }

    @Test func largeStreamBadBlockType() {
        var stream = Self.stream
        stream[2] = 0x07  // first block: BFINAL = 1, BTYPE = 11 (reserved)
        #expect(Self.decodeError(stream, count: Self.count) == .inflateFailed(what: Self.what, reason: "invalid block type"))
    }

    // MARK: zlib header (RFC 1950), checked by hand since the data is inflated raw

    /// A two-byte header with a valid check for this CMF and flag bits.
    static func header(cmf: UInt8, flags: UInt8) -> [UInt8] {
        let base = UInt16(cmf) << 8 | UInt16(flags & 0xE0)
        return [cmf, flags & 0xE0 | UInt8(31 - base % 31) % 31]
    }

    /// Any window size up to 32 KiB and any FLEVEL are valid headers (RFC 1950).
    @Test func headerVariantsAccepted() throws {
        let body = Array(Self.zlib([1, 2, 3, 4]).dropFirst(2))
        for cinfo in UInt8(0)...7 {
            for level in UInt8(0)...3 {
                let (_, bytes) = try Self.decode(Self.header(cmf: cinfo << 4 | 8, flags: level << 6) + body, count: 4, isShuffled: false)
                #expect(bytes == [1, 2, 3, 4], "CINFO \(cinfo) FLEVEL \(level)")
            }
        }
    }

    @Test func headerRules() {
        let body = Array(Self.zlib([1, 2, 3, 4]).dropFirst(2))
        #expect(Self.decodeError(Self.header(cmf: 0x78, flags: 0x80) + body, count: 4) == nil)
        #expect(Self.decodeError([0x78], count: 4) == .inflateTruncated(what: Self.what))
        #expect(Self.decodeError([0x78, 0x9D] + body, count: 4) == .inflateFailed(what: Self.what, reason: "incorrect header check"))
        #expect(Self.decodeError(Self.header(cmf: 0x77, flags: 0) + body, count: 4)
            == .inflateFailed(what: Self.what, reason: "unknown compression method"))
        #expect(Self.decodeError(Self.header(cmf: 0x88, flags: 0) + body, count: 4)
            == .inflateFailed(what: Self.what, reason: "invalid window size"))
        #expect(Self.decodeError(Self.header(cmf: 0x78, flags: 0x20) + [0, 0, 0, 1] + body, count: 4)
            == .inflateFailed(what: Self.what, reason: "needs a preset dictionary"))
    }
}
