import CZlib

/// The largest ratio deflate can reach (about 1032:1); anything claiming more is hostile.
public let maximumDeflateRatio: UInt64 = 1032

/// Which container wraps a deflate stream.
public enum DeflateContainer: Sendable {
    case zlib, gzip

    var windowBits: Int32 { self == .zlib ? 15 : 15 + 16 }
}

/// A streaming zlib `inflate` that writes straight into caller-owned memory.
///
/// The input arrives in chunks from `nextInput`, so a whole-file wrapper can be inflated only as far
/// as a header needs without reading the rest of the file.
public final class Inflater {
    private var stream = z_stream()
    private let what: String
    private var finished = false
    private let nextInput: () throws(QKVError) -> UnsafeRawBufferPointer?
    private var inputExhausted = false
    /// Bytes produced so far.
    public private(set) var totalOut: UInt64 = 0

    public convenience init(
        container: DeflateContainer, what: String,
        nextInput: @escaping () throws(QKVError) -> UnsafeRawBufferPointer?
    ) throws(QKVError) {
        try self.init(windowBits: container.windowBits, what: what, nextInput: nextInput)
    }

    /// `windowBits` as zlib's `inflateInit2` takes it: 8…15 for a zlib stream, +16 for gzip,
    /// negative for raw deflate (no header, no check value).
    init(
        windowBits: Int32, what: String,
        nextInput: @escaping () throws(QKVError) -> UnsafeRawBufferPointer?
    ) throws(QKVError) {
        self.what = what
        self.nextInput = nextInput
        let status = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw .inflateFailed(what: what, reason: "inflateInit2 returned \(status)") }
    }

    /// Compressed bytes consumed so far.
    public var totalIn: UInt64 { UInt64(stream.total_in) }

    deinit { inflateEnd(&stream) }

    /// True once the compressed stream reached its end marker.
    public var isFinished: Bool { finished }

    /// Fills `destination` completely unless the stream ends first; returns the bytes written.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws(QKVError) -> Int {
        guard let base = destination.baseAddress, destination.count > 0 else { return 0 }
        var written = 0
        while written < destination.count && !finished {
            if stream.avail_in == 0 {
                if inputExhausted { throw .inflateTruncated(what: what) }
                guard let chunk = try nextInput(), chunk.count > 0 else {
                    inputExhausted = true
                    continue
                }
                stream.next_in = UnsafeMutablePointer(mutating: chunk.baseAddress!.assumingMemoryBound(to: UInt8.self))
                stream.avail_in = UInt32(chunk.count)
            }
            let room = min(destination.count - written, Int(UInt32.max))
            stream.next_out = (base + written).assumingMemoryBound(to: UInt8.self)
            stream.avail_out = UInt32(room)
            let status = inflate(&stream, Z_NO_FLUSH)
            let produced = room - Int(stream.avail_out)
            written += produced
            totalOut += UInt64(produced)
            switch status {
            case Z_STREAM_END: finished = true
            case Z_OK: break
            case Z_BUF_ERROR where produced == 0 && stream.avail_in == 0: break  // needs more input
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw .inflateFailed(what: what, reason: reason)
            }
        }
        return written
    }

    /// After the expected bytes were read: the deflate data must end right here.
    func expectEnd(expectedTotal: UInt64) throws(QKVError) {
        guard !finished else { return }
        // Count any excess without keeping it, so a bomb cannot make us allocate.
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        var excess: UInt64 = 0
        while !finished && excess <= maximumDeflateRatio << 20 {
            excess += UInt64(try read(into: scratch))
        }
        if excess > 0 {
            throw .inflatedSizeMismatch(what: what, expected: expectedTotal, found: expectedTotal + excess)
        }
    }

    /// After the expected bytes were read: the stream must end right here, with no input left over.
    public func finish(expectedTotal: UInt64) throws(QKVError) {
        try expectEnd(expectedTotal: expectedTotal)
        var leftover = UInt64(stream.avail_in)
        while let chunk = try nextInput() { leftover += UInt64(chunk.count) }
        if leftover > 0 { throw .trailingBytesAfterStream(what: what, count: leftover) }
    }
}

/// Hands out `source` in pieces zlib can count (its lengths are 32-bit), then nil.
func pieces(of source: UnsafeRawBufferPointer) -> () throws(QKVError) -> UnsafeRawBufferPointer? {
    var offset = 0
    return { () throws(QKVError) -> UnsafeRawBufferPointer? in
        guard offset < source.count else { return nil }
        let end = offset + min(source.count - offset, 1 << 30)
        defer { offset = end }
        return UnsafeRawBufferPointer(rebasing: source[offset..<end])
    }
}

/// The two-byte zlib stream header (RFC 1950), checked as zlib's inflate checks it, for callers
/// that inflate the deflate data raw and verify the Adler-32 trailer themselves.
struct ZlibStreamHeader {
    static let byteCount = 2

    static func check(_ bytes: UnsafeRawBufferPointer, what: String) throws(QKVError) {
        guard bytes.count >= byteCount else { throw .inflateTruncated(what: what) }
        let cmf = bytes[0], flags = bytes[1]
        guard (UInt16(cmf) << 8 | UInt16(flags)) % 31 == 0 else { throw .inflateFailed(what: what, reason: "incorrect header check") }
        guard cmf & 0x0F == 8 else { throw .inflateFailed(what: what, reason: "unknown compression method") }
        guard cmf >> 4 <= 7 else { throw .inflateFailed(what: what, reason: "invalid window size") }
        guard flags & 0x20 == 0 else { throw .inflateFailed(what: what, reason: "needs a preset dictionary") }
    }
}

/// Compresses bytes as one zlib or gzip stream (the writer's side).
public func deflateBytes(_ source: UnsafeRawBufferPointer, container: DeflateContainer, level: Int32 = 6) -> [UInt8] {
    var stream = z_stream()
    var status = deflateInit2_(
        &stream, level, Z_DEFLATED, container.windowBits, 8, Z_DEFAULT_STRATEGY,
        ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "deflateInit2 failed: \(status)")
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(source.count))) + 64)
    output.withUnsafeMutableBytes { out in
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(source.count)
        stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(out.count)
        status = deflate(&stream, Z_FINISH)
    }
    precondition(status == Z_STREAM_END, "deflate did not finish: \(status)")
    output.removeSubrange(Int(stream.total_out)...)
    return output
}
