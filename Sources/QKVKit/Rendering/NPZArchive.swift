/// `qkv run --format npz`: the attention as NumPy's `.npz`, which `numpy.load` reads.
///
/// A ZIP archive (no ZIP64: every member and the archive stay below 4 GiB, or it is an error) of
/// `.npy` version 1.0 files, each member deflated when that makes it smaller and stored otherwise:
///
/// - `attention`: float32 `[layers, heads, T, T]`, the selected layers and heads in order,
///   `attention[l, h, q, k]` = attention of query q to key k;
/// - `token_ids`: int64 `[T]`;
/// - `tokens`: unicode `<U{longest}` `[T]` (UTF-32; NumPy drops trailing NUL characters);
/// - `layers`, `heads`: int64, the selected layer and head indices.
public enum NPZArchive {
    public static func attention(_ report: AttentionReport) throws(RenderError) -> [UInt8] {
        let count = report.tokens.count
        let shape = [report.layers.count, report.heads.count, count, count]
        let (elements, overflow) = shape.reduce((1, false)) { acc, n in
            let (product, o) = acc.0.multipliedReportingOverflow(by: n)
            return (product, acc.1 || o)
        }
        let limit = UInt64(UInt32.max) - 4096
        guard !overflow, UInt64(elements) * 4 < limit else {
            throw .archiveTooLarge(member: "attention.npy", bytes: overflow ? UInt64.max : UInt64(elements) * 4)
        }
        var data: [UInt8] = []
        data.reserveCapacity(elements * 4)
        for layer in report.layers {
            for head in report.heads {
                layer.heads[head].withUnsafeBytes { raw in
                    // Float32 bit patterns are stored little-endian, as `<f4` says.
                    for value in raw.bindMemory(to: Float.self) { data.appendLE(value.bitPattern) }
                }
            }
        }
        var zip = ZIPWriter()
        try zip.add("attention.npy", npy(descr: "<f4", shape: shape, data: data))
        try zip.add("token_ids.npy", npy(descr: "<i8", shape: [count], data: int64s(report.tokens.map(\.id))))
        let scalars = report.tokens.map { Array($0.text.unicodeScalars) }
        let width = max(1, scalars.map(\.count).max() ?? 1)
        var text: [UInt8] = []
        text.reserveCapacity(count * width * 4)
        for token in scalars {
            for scalar in token { text.appendLE(scalar.value) }
            for _ in token.count..<width { text.appendLE(UInt32(0)) }
        }
        try zip.add("tokens.npy", npy(descr: "<U\(width)", shape: [count], data: text))
        try zip.add("layers.npy", npy(descr: "<i8", shape: [report.layers.count], data: int64s(report.layers.map(\.layer))))
        try zip.add("heads.npy", npy(descr: "<i8", shape: [report.heads.count], data: int64s(report.heads)))
        return try zip.finish()
    }

    private static func int64s(_ values: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values { bytes.appendLE(Int64(value)) }
        return bytes
    }

    /// An `.npy` version 1.0 file: magic, version, header length, the header dictionary padded with
    /// spaces and a newline to a multiple of 64 bytes, then the C-order data.
    public static func npy(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        let dimensions = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dimensions)), }"
        let prefix = 10  // "\x93NUMPY", 2 version bytes, 2 length bytes
        let total = (prefix + header.utf8.count + 1 + 63) / 64 * 64
        header += String(repeating: " ", count: total - prefix - header.utf8.count - 1) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out.appendLE(UInt16(header.utf8.count))
        out += Array(header.utf8)
        out += data
        return out
    }
}

/// A ZIP archive (PKWARE APPNOTE 6.3) built in memory: local headers and data, central directory,
/// end record. Times are fixed at 1980-01-01 00:00 so the same input gives the same bytes.
struct ZIPWriter {
    private var bytes: [UInt8] = []
    private var central: [UInt8] = []
    private var entries = 0

    private static let limit = UInt64(UInt32.max)
    private static let dosDate: UInt16 = 1 << 5 | 1  // 1980-01-01

    mutating func add(_ name: String, _ data: [UInt8]) throws(RenderError) {
        guard UInt64(data.count) < Self.limit else { throw .archiveTooLarge(member: name, bytes: UInt64(data.count)) }
        let crc = CRC32.checksum(data)
        // A zlib stream without its 2-byte header and 4-byte Adler-32 is the raw deflate ZIP wants.
        let zlib = data.withUnsafeBytes { deflateBytes($0, container: .zlib, level: 6) }
        let deflated = zlib.count - 6 < data.count
        let payload = deflated ? Array(zlib[2..<(zlib.count - 4)]) : data
        let offset = UInt64(bytes.count)
        guard offset + 30 + UInt64(name.utf8.count) + UInt64(payload.count) < Self.limit else {
            throw .archiveTooLarge(member: name, bytes: offset + UInt64(payload.count))
        }
        let method: UInt16 = deflated ? 8 : 0
        bytes.appendLE(UInt32(0x0403_4B50))
        appendCommon(&bytes, method: method, crc: crc, compressed: payload.count, size: data.count, name: name)
        bytes.appendLE(UInt16(0))  // extra field length
        bytes += Array(name.utf8)
        bytes += payload

        central.appendLE(UInt32(0x0201_4B50))
        central.appendLE(UInt16(3 << 8 | 20))  // made by: Unix, spec 2.0
        appendCommon(&central, method: method, crc: crc, compressed: payload.count, size: data.count, name: name)
        central.appendLE(UInt16(0))  // extra field length
        central.appendLE(UInt16(0))  // comment length
        central.appendLE(UInt16(0))  // disk number
        central.appendLE(UInt16(0))  // internal attributes
        central.appendLE(UInt32(0o100644) << 16)  // external attributes: a regular file, rw-r--r--
        central.appendLE(UInt32(offset))
        central += Array(name.utf8)
        entries += 1
    }

    /// Version needed, flags, method, time, date, CRC-32, sizes, name length: the fields both headers share.
    private func appendCommon(_ out: inout [UInt8], method: UInt16, crc: UInt32, compressed: Int, size: Int, name: String) {
        out.appendLE(UInt16(20))  // version needed: 2.0 (deflate)
        out.appendLE(UInt16(0))  // flags
        out.appendLE(method)
        out.appendLE(UInt16(0))  // time 00:00:00
        out.appendLE(Self.dosDate)
        out.appendLE(crc)
        out.appendLE(UInt32(compressed))
        out.appendLE(UInt32(size))
        out.appendLE(UInt16(name.utf8.count))
    }

    mutating func finish() throws(RenderError) -> [UInt8] {
        let directoryOffset = UInt64(bytes.count)
        guard directoryOffset + UInt64(central.count) + 22 < Self.limit, entries < 0xFFFF else {
            throw .archiveTooLarge(member: "the archive", bytes: directoryOffset + UInt64(central.count) + 22)
        }
        var out = bytes
        out += central
        out.appendLE(UInt32(0x0605_4B50))
        out.appendLE(UInt16(0))  // this disk
        out.appendLE(UInt16(0))  // disk with the central directory
        out.appendLE(UInt16(entries))
        out.appendLE(UInt16(entries))
        out.appendLE(UInt32(central.count))
        out.appendLE(UInt32(directoryOffset))
        out.appendLE(UInt16(0))  // comment length
        return out
    }
}
