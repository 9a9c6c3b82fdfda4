import CZlib

/// CRC-32 as zlib computes it (the checksum of gzip, PNG and QKV).
public struct CRC32 {
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = accumulate(value, bytes, crc32)
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// The same CRC, computed as two halves on two cores and joined with zlib's `crc32_combine`:
    /// checking a large tensor then costs half the wall time.
    public static func parallelChecksum(_ bytes: UnsafeRawBufferPointer, threads: Int) -> UInt32 {
        guard bytes.count >= 1 << 20, threads > 1 else { return checksum(bytes) }
        let half = bytes.count / 2
        var parts: [UInt32] = [0, 0]
        parts.withUnsafeMutableBufferPointer { parts in
            parallelFor(2, threads: 2) { index in
                let range = index == 0 ? 0..<half : half..<bytes.count
                parts[index] = checksum(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
        return UInt32(truncatingIfNeeded: crc32_combine(UInt(parts[0]), UInt(parts[1]), off_t(bytes.count - half)))
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}

/// Adler-32 as zlib computes it (the check value that ends a zlib stream).
public struct Adler32 {
    public private(set) var value: UInt32 = 1

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = accumulate(value, bytes, adler32)
    }
}

/// Runs one of zlib's running checksums (`crc32`, `adler32`) from `value` over `bytes`. zlib takes
/// a 32-bit length, so huge buffers go in pieces.
private func accumulate(
    _ value: UInt32, _ bytes: UnsafeRawBufferPointer,
    _ step: (UInt, UnsafePointer<UInt8>?, UInt32) -> UInt
) -> UInt32 {
    var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
    var left = bytes.count
    var running = UInt(value)
    while left > 0, let pointer = base {
        let piece = min(left, 1 << 30)
        running = step(running, pointer, UInt32(piece))
        base = pointer + piece
        left -= piece
    }
    return UInt32(truncatingIfNeeded: running)
}
