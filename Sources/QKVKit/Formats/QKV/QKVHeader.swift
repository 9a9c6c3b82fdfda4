/// The parsed preamble and header block of a QKV v1 file (see docs/FORMAT.md).
public struct QKVHeader: Sendable, Equatable {
    public static let magic: [UInt8] = Array("QKVC".utf8)
    public static let preambleSize = 32
    public static let alignment: UInt64 = 64

    public var metadata: Metadata
    /// Directory entries in file order; `fileOffset` is relative to the start of the (inflated) file.
    public var tensors: [StoredTensor]
    public var headerBytes: UInt64
    /// align_up(32 + header_bytes, 64): where tensor payloads begin.
    public var dataStart: UInt64
    /// The exact length of the (inflated) file the directory describes.
    public var fileSize: UInt64

    /// Smallest possible encodings, used to bound counts by the bytes that remain.
    static let minimumMetadataEntryBytes = 4 + 1 + 1 + 4  // key, type, shortest value (empty string)
    static let minimumTensorEntryBytes = 4 + 1 + 4 + 8 + 8 + 8 + 4  // name, codes, one dim, offset, size, crc

    /// The fields of the 32-byte preamble.
    public struct Preamble: Sendable, Equatable {
        public var metaCount: UInt32
        public var tensorCount: UInt32
        public var headerBytes: UInt64
        public var headerCRC: UInt32

        public init(_ bytes: [UInt8]) throws(QKVError) {
            let preamble = try bytes.withBytes { (raw) throws(QKVError) -> Preamble in
                var reader = ByteReader(raw)
                let magic = Array(try reader.readBytes(4, field: "magic"))
                guard magic == QKVHeader.magic else { throw .badMagic(found: magic) }
                let version = try reader.readLE(UInt32.self, field: "version")
                guard version == 1 else { throw .unsupportedVersion(found: version) }
                let metaCount = try reader.readLE(UInt32.self, field: "meta_count")
                let tensorCount = try reader.readLE(UInt32.self, field: "tensor_count")
                let headerBytes = try reader.readLE(UInt64.self, field: "header_bytes")
                let headerCRC = try reader.readLE(UInt32.self, field: "header_crc32")
                let reserved = try reader.readLE(UInt32.self, field: "reserved")
                guard reserved == 0 else { throw .reservedNotZero(field: "preamble reserved (byte 28)", found: UInt64(reserved)) }
                return Preamble(metaCount: metaCount, tensorCount: tensorCount, headerBytes: headerBytes, headerCRC: headerCRC)
            }
            self = preamble
        }

        init(metaCount: UInt32, tensorCount: UInt32, headerBytes: UInt64, headerCRC: UInt32) {
            self.metaCount = metaCount
            self.tensorCount = tensorCount
            self.headerBytes = headerBytes
            self.headerCRC = headerCRC
        }

        /// align_up(32 + header_bytes, 64), checked.
        public var dataStart: UInt64 {
            get throws(QKVError) {
                let (end, overflow) = UInt64(QKVHeader.preambleSize).addingReportingOverflow(headerBytes)
                guard !overflow, end <= UInt64(Int.max) / 2 else {
                    throw .countTooLarge(field: "header_bytes", count: headerBytes, remainingBytes: 0)
                }
                return alignUp(end, QKVHeader.alignment)
            }
        }
    }

    /// Parses the header block that follows `preamble`; `block` must be exactly header_bytes long.
    public init(preamble: Preamble, block: UnsafeRawBufferPointer, path: String) throws(QKVError) {
        let computed = CRC32.checksum(block)
        guard computed == preamble.headerCRC else {
            throw .headerChecksumMismatch(expected: preamble.headerCRC, found: computed)
        }
        var reader = ByteReader(block, baseOffset: QKVHeader.preambleSize)
        guard UInt64(preamble.metaCount) * UInt64(Self.minimumMetadataEntryBytes) <= UInt64(reader.remaining) else {
            throw .countTooLarge(field: "meta_count", count: UInt64(preamble.metaCount), remainingBytes: reader.remaining)
        }
        var metadata = Metadata()
        for _ in 0..<preamble.metaCount {
            let key = try reader.readString(field: "metadata key")
            guard !key.isEmpty else { throw .emptyName(field: "metadata key at byte \(reader.fileOffset - 4)") }
            guard metadata[key] == nil else { throw .duplicateName(field: "metadata key", name: key) }
            metadata[key] = try Self.readValue(&reader, key: key)
        }
        guard UInt64(preamble.tensorCount) * UInt64(Self.minimumTensorEntryBytes) <= UInt64(reader.remaining) else {
            throw .countTooLarge(field: "tensor_count", count: UInt64(preamble.tensorCount), remainingBytes: reader.remaining)
        }
        let dataStart = try preamble.dataStart
        var tensors: [StoredTensor] = []
        var seen = Set<String>()
        var expectedOffset: UInt64 = 0
        for _ in 0..<preamble.tensorCount {
            var entry = try Self.readTensorEntry(&reader, path: path)
            guard seen.insert(entry.name).inserted else { throw .duplicateName(field: "tensor name", name: entry.name) }
            // Contiguity: each payload starts at the aligned end of the previous one.
            guard entry.fileOffset == expectedOffset else {
                throw .misplacedTensor(tensor: entry.name, expectedOffset: expectedOffset, foundOffset: entry.fileOffset)
            }
            let (end, overflow) = entry.fileOffset.addingReportingOverflow(entry.storedBytes)
            let (absoluteEnd, overflow2) = dataStart.addingReportingOverflow(end)
            guard !overflow, !overflow2, absoluteEnd <= UInt64(Int.max) / 2 else { throw .sizeOverflow(tensor: entry.name) }
            expectedOffset = alignUp(end, QKVHeader.alignment)
            entry.fileOffset += dataStart
            tensors.append(entry)
        }
        let consumed = UInt64(reader.cursor)
        guard consumed == preamble.headerBytes else {
            throw .headerLengthMismatch(declared: preamble.headerBytes, consumed: consumed)
        }
        self.metadata = metadata
        self.tensors = tensors
        self.headerBytes = preamble.headerBytes
        self.dataStart = dataStart
        if let last = tensors.last {
            fileSize = last.fileOffset + last.storedBytes
        } else {
            fileSize = dataStart
        }
    }

    private static func readValue(_ reader: inout ByteReader, key: String) throws(QKVError) -> MetadataValue {
        let type = try reader.readLE(UInt8.self, field: "metadata \"\(key)\" type")
        switch type {
        case 1: return .int(try reader.readLE(Int64.self, field: "metadata \"\(key)\" value"))
        case 2: return .double(try reader.readFloat64LE(field: "metadata \"\(key)\" value"))
        case 3: return .string(try reader.readString(field: "metadata \"\(key)\" value"))
        case 4:
            let count = try reader.readLE(UInt32.self, field: "metadata \"\(key)\" count")
            guard UInt64(count) * 4 <= UInt64(reader.remaining) else {
                throw .countTooLarge(field: "metadata \"\(key)\" count", count: UInt64(count), remainingBytes: reader.remaining)
            }
            var strings: [String] = []
            strings.reserveCapacity(Int(count))
            for index in 0..<Int(count) {
                strings.append(try reader.readString(field: "metadata \"\(key)\"[\(index)]"))
            }
            return .strings(strings)
        case 5:
            let count = try reader.readLE(UInt32.self, field: "metadata \"\(key)\" count")
            guard UInt64(count) * 4 <= UInt64(reader.remaining) else {
                throw .countTooLarge(field: "metadata \"\(key)\" count", count: UInt64(count), remainingBytes: reader.remaining)
            }
            var floats: [Float] = []
            floats.reserveCapacity(Int(count))
            for _ in 0..<count { floats.append(try reader.readFloat32LE(field: "metadata \"\(key)\" value")) }
            return .floats(floats)
        default:
            throw .unknownMetadataType(key: key, found: type)
        }
    }

    private static func readTensorEntry(_ reader: inout ByteReader, path: String) throws(QKVError) -> StoredTensor {
        let name = try reader.readString(field: "tensor name")
        guard !name.isEmpty else { throw .emptyName(field: "tensor name at byte \(reader.fileOffset - 4)") }
        let dtypeCode = try reader.readLE(UInt8.self, field: "tensor \"\(name)\" dtype")
        let encodingCode = try reader.readLE(UInt8.self, field: "tensor \"\(name)\" encoding")
        let rank = try reader.readLE(UInt8.self, field: "tensor \"\(name)\" rank")
        let reserved = try reader.readLE(UInt8.self, field: "tensor \"\(name)\" reserved")
        guard let dtype = DType(qkvCode: dtypeCode) else { throw .unknownDType(tensor: name, found: String(dtypeCode)) }
        guard let encoding = TensorEncoding(qkvCode: encodingCode) else { throw .unknownEncoding(tensor: name, found: encodingCode) }
        guard (1...4).contains(rank) else { throw .invalidRank(tensor: name, found: Int(rank)) }
        guard reserved == 0 else { throw .reservedNotZero(field: "tensor \"\(name)\" reserved", found: UInt64(reserved)) }
        var dims: [UInt64] = []
        for axis in 0..<Int(rank) {
            let dimension = try reader.readLE(UInt64.self, field: "tensor \"\(name)\" dims[\(axis)]")
            guard dimension >= 1 else { throw .zeroDimension(tensor: name, axis: axis) }
            dims.append(dimension)
        }
        let offset = try reader.readLE(UInt64.self, field: "tensor \"\(name)\" offset")
        let stored = try reader.readLE(UInt64.self, field: "tensor \"\(name)\" stored_bytes")
        let crc = try reader.readLE(UInt32.self, field: "tensor \"\(name)\" crc32")
        let (_, decoded) = try checkedByteSize(shape: dims, elementSize: dtype.byteSize, tensor: name)
        switch encoding {
        case .raw:
            guard stored == decoded else { throw .storedSizeMismatch(tensor: name, expected: decoded, found: stored) }
        case .zlib, .shuffleZlib:
            let (limit, overflow) = stored.multipliedReportingOverflow(by: maximumDeflateRatio)
            guard !overflow && decoded <= limit else {
                throw .compressionRatioTooHigh(what: "tensor \"\(name)\"", decodedBytes: decoded, storedBytes: stored)
            }
        }
        return StoredTensor(
            name: name, dtype: dtype, shape: dims.map { Int($0) }, encoding: encoding,
            fileOffset: offset, storedBytes: stored, crc32: crc, file: path)
    }
}

@inline(__always)
func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    (value + alignment - 1) / alignment * alignment
}
