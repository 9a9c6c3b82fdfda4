import CFuzzSupport

/// zlib's deflate, for targets that wrap the bytes they are given.
public enum Deflate {
    public enum Container { case zlib, gzip }

    public static func compress(_ bytes: [UInt8], container: Container, level: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: qkv_fuzz_deflate_bound(bytes.count))
        var size = output.count
        let status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                qkv_fuzz_deflate(input.baseAddress, input.count, out.baseAddress, &size, container == .gzip ? 1 : 0, Int32(level))
            }
        }
        precondition(status == 0, "deflate failed")
        return Array(output.prefix(size))
    }

    public static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { qkv_fuzz_crc32($0.baseAddress, $0.count) }
    }
}

/// QKV v1's checksums, repaired, so that mutated headers get past the header CRC-32 to the rules
/// behind it (docs/FORMAT.md: `header_crc32` at byte 24 covers `header_bytes` at byte 16 from 32).
public enum QKVRepair {
    /// The bytes with `header_crc32` set to the CRC-32 of the header block, when the header
    /// block lies inside them; nil when there is nothing to repair.
    public static func headerChecksum(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 32, bytes.starts(with: Array("QKVC".utf8)) else { return nil }
        let headerBytes = bytes[16 ..< 24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerBytes <= UInt64(bytes.count - 32) else { return nil }
        let crc = Deflate.crc32(bytes[32 ..< 32 + Int(headerBytes)])
        let stored = bytes[24 ..< 28].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard crc != stored else { return nil }
        var repaired = bytes
        for index in 0 ..< 4 { repaired[24 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        return repaired
    }
}
