/// The header of one GGUF file (ggml's docs/gguf.md), parsed in file order into plain records
/// that keep their offsets, as gguf-py's `GGUFReader` does.
///
/// Layout (little-endian): magic `GGUF`, u32 version (2 or 3), u64 tensor count, u64 key/value
/// count, the key/values (u64-length key, u32 value type, value), the tensor infos (u64-length
/// name, u32 rank, u64 dims in ggml order, u32 type, u64 offset), zero padding to the alignment,
/// then the data section. Every count is checked against the bytes that remain before anything
/// is allocated, every size is computed with overflow checks, and every rule is checked here,
/// inside the parse, so a `GGUFHeader` that exists is consistent.
public struct GGUFHeader: Sendable {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    public static let defaultAlignment = 32

    public var version: UInt32
    /// Key/values in file order.
    public var entries: [GGUFEntry]
    /// Tensor infos in file order.
    public var tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32.
    public var alignment: Int
    /// Where the key/values and tensor infos end.
    public var headerEnd: UInt64
    /// The start of the data section: `headerEnd` rounded up to the alignment.
    public var dataStart: UInt64

    /// The value of `key`, if present.
    public func value(_ key: String) -> GGUFValue? { entries.first { $0.key == key }?.value }

    /// Parses the header at the start of `bytes`, the whole file (mapped), checking that every
    /// tensor lies inside it.
    public init(_ bytes: UnsafeRawBufferPointer) throws(QKVError) {
        var reader = ByteReader(bytes)
        let magic = try reader.readBytes(4, field: "magic")
        guard Array(magic) == Self.magic else { throw .badGGUFMagic(found: Array(magic)) }
        version = try reader.readLE(UInt32.self, field: "version")
        guard version == 2 || version == 3 else {
            // A big-endian file's version reads as 0x03000000 here.
            throw .invalidField(
                field: "version", offset: 4, expected: "2 or 3 (little-endian)",
                found: version.byteSwapped == 2 || version.byteSwapped == 3
                    ? "\(version.byteSwapped) big-endian (not supported)" : String(version))
        }
        let tensorCount = try reader.readLE(UInt64.self, field: "tensor_count")
        let entryCount = try reader.readLE(UInt64.self, field: "metadata_kv_count")
        // The smallest key/value is 8 (key length) + 1 (key) + 4 (type) + 1 (u8) bytes; the
        // smallest tensor info 8 + 1 + 4 + 8 + 4 + 8.
        try Self.checkCount(entryCount, minimumBytes: 14, field: "metadata_kv_count", offset: 16, reader: reader)
        try Self.checkCount(tensorCount, minimumBytes: 33, field: "tensor_count", offset: 8, reader: reader)
        if entryCount > 0 && tensorCount > 0 {
            let needed = entryCount.multipliedReportingOverflow(by: 14).partialValue
                .addingReportingOverflow(tensorCount.multipliedReportingOverflow(by: 33).partialValue).partialValue
            guard needed <= UInt64(reader.remaining) else {
                throw .countTooLarge(field: "metadata_kv_count + tensor_count", count: entryCount + tensorCount,
                                     remainingBytes: reader.remaining)
            }
        }

        var entries: [GGUFEntry] = []
        entries.reserveCapacity(Int(entryCount))
        var keys = Set<String>()
        for index in 0..<Int(entryCount) {
            let offset = UInt64(reader.fileOffset)
            let key = try Self.readString(&reader, field: "metadata key \(index)")
            guard !key.isEmpty else { throw .emptyName(field: "metadata key \(index) at byte \(offset)") }
            guard keys.insert(key).inserted else { throw .duplicateName(field: "metadata key at byte \(offset)", name: key) }
            let typeOffset = reader.fileOffset
            let typeCode = try reader.readLE(UInt32.self, field: "metadata \"\(key)\" type")
            guard let type = GGUFValueType(rawValue: typeCode) else {
                throw .invalidField(field: "metadata \"\(key)\" type", offset: typeOffset,
                                    expected: "a value type 0...12", found: String(typeCode))
            }
            let value = try Self.readValue(&reader, type: type, key: key)
            entries.append(GGUFEntry(key: key, value: value, offset: offset))
        }
        self.entries = entries

        alignment = Self.defaultAlignment
        if let entry = entries.first(where: { $0.key == "general.alignment" }) {
            guard case let .uint32(value) = entry.value else {
                throw .wrongMetadataType(key: "general.alignment", expected: "u32", found: entry.value.typeName)
            }
            guard value > 0, value & (value - 1) == 0 else {
                throw .invalidMetadataValue(key: "general.alignment", expected: "a power of two", found: String(value))
            }
            alignment = Int(value)
        }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(Int(tensorCount))
        var names = Set<String>()
        for index in 0..<Int(tensorCount) {
            let offset = UInt64(reader.fileOffset)
            let name = try Self.readString(&reader, field: "tensor \(index) name")
            guard !name.isEmpty else { throw .emptyName(field: "tensor \(index) name at byte \(offset)") }
            if let nul = name.utf8.firstIndex(of: 0) {
                throw .nulInString(field: "tensor \(index) name", offset: Int(offset) + 8 + name.utf8.distance(from: name.utf8.startIndex, to: nul))
            }
            guard names.insert(name).inserted else { throw .duplicateName(field: "tensor name at byte \(offset)", name: name) }
            let rankOffset = reader.fileOffset
            let rank = try reader.readLE(UInt32.self, field: "tensor \"\(name)\" n_dims")
            guard (1...4).contains(rank) else {
                throw .invalidField(field: "tensor \"\(name)\" n_dims", offset: rankOffset, expected: "1...4", found: String(rank))
            }
            var dims: [UInt64] = []
            for axis in 0..<Int(rank) {
                let dimOffset = reader.fileOffset
                let dim = try reader.readLE(UInt64.self, field: "tensor \"\(name)\" ne[\(axis)]")
                guard dim <= UInt64(Int64.max) else {
                    throw .invalidField(field: "tensor \"\(name)\" ne[\(axis)]", offset: dimOffset,
                                        expected: "0...\(Int64.max)", found: String(dim))
                }
                dims.append(dim)
            }
            let typeOffset = reader.fileOffset
            let typeCode = try reader.readLE(UInt32.self, field: "tensor \"\(name)\" type")
            guard let type = GGMLType(rawValue: typeCode) else {
                throw .invalidField(field: "tensor \"\(name)\" type", offset: typeOffset,
                                    expected: "a ggml type id (\(GGMLType.knownIDs))", found: String(typeCode))
            }
            let dataOffsetField = reader.fileOffset
            let dataOffset = try reader.readLE(UInt64.self, field: "tensor \"\(name)\" offset")
            guard dims[0] % UInt64(type.blockElements) == 0 else {
                throw .invalidField(field: "tensor \"\(name)\" ne[0]", offset: Int(rankOffset) + 4,
                                    expected: "a multiple of \(type.blockElements) (the \(type.name) block size)",
                                    found: String(dims[0]))
            }
            let size = try type.byteCount(dims: dims, tensor: name)
            tensors.append(GGUFTensorInfo(
                name: name, dims: dims, type: type, dataOffset: dataOffset, byteCount: size.bytes,
                elementCount: size.elements, infoOffset: offset, dataOffsetField: UInt64(dataOffsetField)))
        }
        self.tensors = tensors
        headerEnd = UInt64(reader.fileOffset)
        let (padded, overflow) = headerEnd.addingReportingOverflow(UInt64(alignment - 1))
        dataStart = overflow ? UInt64.max : padded / UInt64(alignment) * UInt64(alignment)
        try checkPlacement(fileSize: UInt64(bytes.count))
    }

    /// Offsets are multiples of the alignment, inside the file, and tensors do not overlap.
    private func checkPlacement(fileSize: UInt64) throws(QKVError) {
        guard !tensors.isEmpty else { return }
        guard dataStart <= fileSize else {
            throw .truncated(field: "data section", offset: Int(clamping: headerEnd),
                             needed: Int(clamping: dataStart - headerEnd), available: Int(clamping: fileSize - headerEnd))
        }
        let dataBytes = fileSize - dataStart
        for tensor in tensors {
            guard tensor.dataOffset % UInt64(alignment) == 0 else {
                throw .invalidField(field: "tensor \"\(tensor.name)\" offset", offset: Int(tensor.dataOffsetField),
                                    expected: "a multiple of the alignment (\(alignment))", found: String(tensor.dataOffset))
            }
            let (end, overflow) = tensor.dataOffset.addingReportingOverflow(tensor.byteCount)
            guard !overflow, end <= dataBytes else {
                throw .invalidField(
                    field: "tensor \"\(tensor.name)\" offset", offset: Int(tensor.dataOffsetField),
                    expected: "\(tensor.byteCount) bytes inside the \(dataBytes)-byte data section",
                    found: "offset \(tensor.dataOffset)")
            }
        }
        let ordered = tensors.sorted { ($0.dataOffset, $0.byteCount) < ($1.dataOffset, $1.byteCount) }
        for (first, second) in zip(ordered, ordered.dropFirst()) where first.dataOffset + first.byteCount > second.dataOffset {
            throw .tensorsOverlap(first: first.name, second: second.name, offset: second.dataOffset)
        }
    }

    private static func checkCount(
        _ count: UInt64, minimumBytes: UInt64, field: String, offset: Int, reader: ByteReader
    ) throws(QKVError) {
        let (needed, overflow) = count.multipliedReportingOverflow(by: minimumBytes)
        guard !overflow, needed <= UInt64(reader.remaining) else {
            throw .countTooLarge(field: field, count: count, remainingBytes: reader.remaining)
        }
    }

    /// A u64 length and that many bytes of UTF-8 (NUL allowed: it is valid UTF-8; names check it).
    static func readString(_ reader: inout ByteReader, field: String) throws(QKVError) -> String {
        let start = reader.fileOffset
        let length = try reader.readLE(UInt64.self, field: "\(field) length")
        guard length <= UInt64(reader.remaining) else {
            throw .countTooLarge(field: "\(field) length (at byte \(start))", count: length, remainingBytes: reader.remaining)
        }
        let body = try reader.readBytes(Int(length), field: field)
        guard let text = String(validating: body, as: UTF8.self) else {
            throw .invalidUTF8(field: field, offset: start + 8 + (firstInvalidUTF8(body) ?? 0))
        }
        return text
    }

    private static func readValue(_ reader: inout ByteReader, type: GGUFValueType, key: String) throws(QKVError) -> GGUFValue {
        let field = "metadata \"\(key)\""
        switch type {
        case .uint8: return .uint8(try reader.readLE(UInt8.self, field: field))
        case .int8: return .int8(try reader.readLE(Int8.self, field: field))
        case .uint16: return .uint16(try reader.readLE(UInt16.self, field: field))
        case .int16: return .int16(try reader.readLE(Int16.self, field: field))
        case .uint32: return .uint32(try reader.readLE(UInt32.self, field: field))
        case .int32: return .int32(try reader.readLE(Int32.self, field: field))
        case .float32: return .float32(try reader.readFloat32LE(field: field))
        case .uint64: return .uint64(try reader.readLE(UInt64.self, field: field))
        case .int64: return .int64(try reader.readLE(Int64.self, field: field))
        case .float64: return .float64(try reader.readFloat64LE(field: field))
        case .bool:
            let offset = reader.fileOffset
            let byte = try reader.readLE(UInt8.self, field: field)
            guard byte <= 1 else { throw .invalidField(field: field, offset: offset, expected: "a bool (0 or 1)", found: String(byte)) }
            return .bool(byte == 1)
        case .string: return .string(try readString(&reader, field: field))
        case .array:
            let typeOffset = reader.fileOffset
            let code = try reader.readLE(UInt32.self, field: "\(field) array type")
            guard let element = GGUFValueType(rawValue: code) else {
                throw .invalidField(field: "\(field) array type", offset: typeOffset, expected: "a value type 0...12", found: String(code))
            }
            guard element != .array else {
                throw .invalidField(field: "\(field) array type", offset: typeOffset,
                                    expected: "an array of scalars or strings", found: "an array of arrays")
            }
            let countOffset = reader.fileOffset
            let count = try reader.readLE(UInt64.self, field: "\(field) array length")
            let (needed, overflow) = count.multipliedReportingOverflow(by: UInt64(element.minimumSize))
            guard !overflow, needed <= UInt64(reader.remaining) else {
                throw .countTooLarge(field: "\(field) array length (at byte \(countOffset))", count: count, remainingBytes: reader.remaining)
            }
            return .array(try readArray(&reader, element: element, count: Int(count), field: field))
        }
    }

    private static func readArray(_ reader: inout ByteReader, element: GGUFValueType, count: Int, field: String) throws(QKVError) -> GGUFArray {
        func numbers<T: FixedWidthInteger>(_: T.Type) throws(QKVError) -> [T] {
            let raw = try reader.readBytes(count * MemoryLayout<T>.size, field: field)
            return (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch element {
        case .uint8: return .uint8(try numbers(UInt8.self))
        case .int8: return .int8(try numbers(Int8.self))
        case .uint16: return .uint16(try numbers(UInt16.self))
        case .int16: return .int16(try numbers(Int16.self))
        case .uint32: return .uint32(try numbers(UInt32.self))
        case .int32: return .int32(try numbers(Int32.self))
        case .uint64: return .uint64(try numbers(UInt64.self))
        case .int64: return .int64(try numbers(Int64.self))
        case .float32: return .float32(try numbers(UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(try numbers(UInt64.self).map(Double.init(bitPattern:)))
        case .bool:
            let offset = reader.fileOffset
            let bytes = try numbers(UInt8.self)
            if let bad = bytes.firstIndex(where: { $0 > 1 }) {
                throw .invalidField(field: "\(field)[\(bad)]", offset: offset + bad, expected: "a bool (0 or 1)", found: String(bytes[bad]))
            }
            return .bool(bytes.map { $0 == 1 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(count)
            for index in 0..<count { strings.append(try readString(&reader, field: "\(field)[\(index)]")) }
            return .string(strings)
        case .array:
            preconditionFailure("arrays of arrays are rejected before reading")
        }
    }
}

/// One key/value of a GGUF header.
public struct GGUFEntry: Sendable, Equatable {
    public var key: String
    public var value: GGUFValue
    /// Where the entry (its key length) starts in the file.
    public var offset: UInt64
}

/// One tensor info of a GGUF header; `dims` in ggml order (`dims[0]` is the row length).
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    public var dims: [UInt64]
    public var type: GGMLType
    /// Relative to the start of the data section.
    public var dataOffset: UInt64
    public var byteCount: UInt64
    public var elementCount: UInt64
    /// Where the info starts in the file, and where its offset field is.
    public var infoOffset: UInt64
    public var dataOffsetField: UInt64

    /// The shape as PyTorch (and users) write it: outermost dimension first.
    public var shape: [Int] { dims.reversed().map { Int($0) } }
}

public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes an element takes at least (a string is at least its u64 length).
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }

    public var name: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .float32: "f32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "u64"
        case .int64: "i64"
        case .float64: "f64"
        }
    }
}

/// A GGUF metadata value with its stored type.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(GGUFArray)

    public var typeName: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .uint64: "u64"
        case .int64: "i64"
        case .float32: "f32"
        case .float64: "f64"
        case .bool: "bool"
        case .string: "string"
        case let .array(array): "array of \(array.elementTypeName)"
        }
    }

    /// Any integer type as an Int64, when it fits.
    public var integer: Int64? {
        switch self {
        case let .uint8(v): Int64(v)
        case let .int8(v): Int64(v)
        case let .uint16(v): Int64(v)
        case let .int16(v): Int64(v)
        case let .uint32(v): Int64(v)
        case let .int32(v): Int64(v)
        case let .uint64(v): Int64(exactly: v)
        case let .int64(v): v
        default: nil
        }
    }

    /// Either float type, or any integer, as a Double.
    public var number: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: integer.map(Double.init)
        }
    }
}

/// A GGUF array: homogeneous, of scalars or strings.
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case uint64([UInt64]), int64([Int64]), float32([Float]), float64([Double]), bool([Bool]), string([String])

    public var count: Int {
        switch self {
        case let .uint8(v): v.count
        case let .int8(v): v.count
        case let .uint16(v): v.count
        case let .int16(v): v.count
        case let .uint32(v): v.count
        case let .int32(v): v.count
        case let .uint64(v): v.count
        case let .int64(v): v.count
        case let .float32(v): v.count
        case let .float64(v): v.count
        case let .bool(v): v.count
        case let .string(v): v.count
        }
    }

    public var elementTypeName: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .uint64: "u64"
        case .int64: "i64"
        case .float32: "f32"
        case .float64: "f64"
        case .bool: "bool"
        case .string: "string"
        }
    }

    /// Integer elements as Int64 (nil for non-integer arrays or a u64 above Int64.max).
    public var integers: [Int64]? {
        switch self {
        case let .uint8(v): v.map(Int64.init)
        case let .int8(v): v.map(Int64.init)
        case let .uint16(v): v.map(Int64.init)
        case let .int16(v): v.map(Int64.init)
        case let .uint32(v): v.map(Int64.init)
        case let .int32(v): v.map(Int64.init)
        case let .int64(v): v
        case let .uint64(v):
            v.allSatisfy { $0 <= UInt64(Int64.max) } ? v.map { Int64($0) } : nil
        default: nil
        }
    }
}
