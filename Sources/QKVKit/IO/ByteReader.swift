/// A bounds-checked little-endian reader over bytes it does not own.
///
/// Every read checks the remaining length first and leaves the cursor where it was when it throws,
/// so a caller can report the exact offset of the bad field.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the first byte of `bytes` in the file, for error messages.
    public let baseOffset: Int
    public private(set) var cursor: Int = 0

    public init(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0) {
        self.bytes = bytes
        self.baseOffset = baseOffset
    }

    public var remaining: Int { bytes.count - cursor }
    /// The file offset of the next byte to be read.
    public var fileOffset: Int { baseOffset + cursor }

    private func require(_ count: Int, _ field: String) throws(QKVError) {
        guard count <= remaining else {
            throw .truncated(field: field, offset: fileOffset, needed: count, available: remaining)
        }
    }

    public mutating func readLE<T: FixedWidthInteger>(_: T.Type, field: String) throws(QKVError) -> T {
        try require(MemoryLayout<T>.size, field)
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor, as: T.self))
        cursor += MemoryLayout<T>.size
        return value
    }

    public mutating func readFloat32LE(field: String) throws(QKVError) -> Float {
        Float(bitPattern: try readLE(UInt32.self, field: field))
    }

    public mutating func readFloat64LE(field: String) throws(QKVError) -> Double {
        Double(bitPattern: try readLE(UInt64.self, field: field))
    }

    /// The next `count` bytes, without copying.
    public mutating func readBytes(_ count: Int, field: String) throws(QKVError) -> UnsafeRawBufferPointer {
        try require(count, field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[cursor..<(cursor + count)])
        cursor += count
        return slice
    }

    /// A u32 length followed by that many bytes of UTF-8 without NUL.
    public mutating func readString(field: String) throws(QKVError) -> String {
        let start = cursor
        let length = try readLE(UInt32.self, field: field)
        guard Int(length) <= remaining else {
            let available = remaining
            cursor = start
            throw .countTooLarge(field: "\(field) length", count: UInt64(length), remainingBytes: available)
        }
        let body = try readBytes(Int(length), field: field)
        if let nul = body.firstIndex(of: 0) {
            cursor = start
            throw .nulInString(field: field, offset: baseOffset + start + 4 + nul)
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            cursor = start
            throw .invalidUTF8(field: field, offset: baseOffset + start + 4)
        }
        return text
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` with a typed error (the standard library's version only rethrows `any Error`).
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(QKVError) -> Result) throws(QKVError) -> Result {
        var outcome: Swift.Result<Result, QKVError>?
        withUnsafeBytes { raw in outcome = Swift.Result { () throws(QKVError) -> Result in try body(raw) } }
        return try outcome!.get()
    }
}
