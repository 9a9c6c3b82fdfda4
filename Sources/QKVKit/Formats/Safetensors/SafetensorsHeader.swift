/// The validated header of one safetensors file.
///
/// Layout: a u64 little-endian length N, N bytes of UTF-8 JSON, then the data buffer. The rules
/// are those of the reference reader (huggingface/safetensors `tensor.rs`): N at most 100 MB;
/// every entry has a known dtype, a shape and [begin, end] offsets into the data buffer; sorted by
/// offset the entries tile the buffer from 0 to its last byte, with no gap, overlap or trailing
/// byte; each span holds exactly product(shape) elements. In addition a repeated key (two tensors
/// of one name) is an error instead of being resolved silently.
public struct SafetensorsHeader: Sendable, Equatable {
    public struct Limits: Sendable, Equatable {
        public var maximumHeaderBytes: UInt64
        public var maximumEntries: Int

        public init(maximumHeaderBytes: UInt64 = 100_000_000, maximumEntries: Int = 1_000_000) {
            self.maximumHeaderBytes = maximumHeaderBytes
            self.maximumEntries = maximumEntries
        }

        /// A tensor entry is at least 8 JSON values (object, dtype, shape, offsets and their two numbers);
        /// the slack allows ranks above zero and a metadata object of the same order of size.
        var json: StrictJSON.Limits {
            StrictJSON.Limits(maximumDepth: 8, maximumValues: 16 * maximumEntries + 4096)
        }
    }

    /// N: the length of the JSON text after the 8-byte length field.
    public var headerBytes: UInt64
    /// 8 + N: where the data buffer starts.
    public var dataStart: UInt64
    /// `__metadata__`, empty when absent.
    public var metadata: [String: String]
    /// Entries in file order (sorted by data offset); `fileOffset` is from the start of the file.
    public var tensors: [StoredTensor]

    /// Reads and validates the header of `file` with positional reads: no payload byte is touched.
    public init(file: InputFile, limits: Limits = Limits()) throws(QKVError) {
        let size = file.size
        guard size >= 8 else {
            throw .truncated(field: "header length", offset: 0, needed: 8, available: Int(size))
        }
        let lengthField = try file.read(at: 0, count: 8)
        guard lengthField.count == 8 else {
            throw .truncated(field: "header length", offset: 0, needed: 8, available: lengthField.count)
        }
        let length = lengthField.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= limits.maximumHeaderBytes else {
            throw .headerTooLarge(declared: length, maximum: limits.maximumHeaderBytes)
        }
        guard length <= size - 8 else {
            throw .truncated(field: "header", offset: 8, needed: Int(length), available: Int(clamping: size - 8))
        }
        let json = try file.read(at: 8, count: Int(length))
        guard json.count == Int(length) else {
            throw .truncated(field: "header", offset: 8, needed: Int(length), available: json.count)
        }
        self = try json.withBytes { (raw) throws(QKVError) -> SafetensorsHeader in
            try SafetensorsHeader(json: raw, dataBytes: size - 8 - length, file: file.path, limits: limits)
        }
    }

    /// Validates the JSON text of a header against a data buffer of `dataBytes` bytes.
    init(json: UnsafeRawBufferPointer, dataBytes: UInt64, file: String, limits: Limits) throws(QKVError) {
        headerBytes = UInt64(json.count)
        dataStart = 8 + headerBytes
        let root = try StrictJSON.parse(json, what: "header", baseOffset: 8, limits: limits.json)
        guard let members = root.members else {
            throw .wrongJSONType(what: "header", expected: "an object", found: root.kindName)
        }
        let entryCount = members.count - (root["__metadata__"] == nil ? 0 : 1)
        guard entryCount <= limits.maximumEntries else {
            throw .tooManyEntries(what: "header", count: entryCount, maximum: limits.maximumEntries)
        }

        metadata = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        for member in members {
            if member.key == "__metadata__" {
                metadata = try Self.parseMetadata(member.value)
            } else {
                entries.append(try Entry(name: member.key, json: member.value))
            }
        }

        // File order; empty tensors may share an offset, and keep their header order among themselves.
        let order = entries.indices.sorted { (entries[$0].begin, entries[$0].end, $0) < (entries[$1].begin, entries[$1].end, $1) }
        var covered: UInt64 = 0
        for index in order {
            let entry = entries[index]
            guard entry.begin == covered else {
                throw .tensorNotContiguous(tensor: entry.name, expectedBegin: covered, foundBegin: entry.begin)
            }
            covered = entry.end
        }
        guard covered == dataBytes else { throw .dataSizeMismatch(covered: covered, available: dataBytes) }

        let dataStart = dataStart
        tensors = order.map { index in
            let entry = entries[index]
            return StoredTensor(
                name: entry.name, dtype: entry.dtype, shape: entry.shape, encoding: .raw,
                fileOffset: dataStart + entry.begin, storedBytes: entry.end - entry.begin, crc32: nil, file: file)
        }
    }

    /// `__metadata__` is a flat object of strings; null, like a missing key, means none.
    private static func parseMetadata(_ value: StrictJSON.Value) throws(QKVError) -> [String: String] {
        if value == .null { return [:] }
        guard let members = value.members else {
            throw .invalidHeaderMetadata(key: nil, expected: "an object of strings", found: value.rendered())
        }
        var metadata: [String: String] = [:]
        for member in members {
            guard let text = member.value.string else {
                throw .invalidHeaderMetadata(key: member.key, expected: "a string", found: member.value.rendered())
            }
            metadata[member.key] = text
        }
        return metadata
    }

    /// One tensor entry, checked on its own (offsets are checked against the others afterwards).
    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: UInt64
        var end: UInt64

        init(name: String, json: StrictJSON.Value) throws(QKVError) {
            self.name = name
            guard json.members != nil else {
                throw .invalidTensorField(
                    tensor: name, field: "", expected: "an object with dtype, shape and data_offsets", found: json.rendered())
            }
            // Fields other than these three are ignored, as the reference reader does.
            guard let dtypeValue = json["dtype"] else { throw .missingTensorField(tensor: name, field: "dtype") }
            guard let shapeValue = json["shape"] else { throw .missingTensorField(tensor: name, field: "shape") }
            guard let offsetsValue = json["data_offsets"] else { throw .missingTensorField(tensor: name, field: "data_offsets") }

            guard let dtypeName = dtypeValue.string else {
                throw .invalidTensorField(tensor: name, field: "dtype", expected: "a string", found: dtypeValue.rendered())
            }
            guard let dtype = DType(safetensorsName: dtypeName) else {
                throw .unsupportedSafetensorsDType(tensor: name, dtype: dtypeName)
            }
            self.dtype = dtype

            let integers = "an array of integers in 0...\(Int64.max)"
            guard let dimensionValues = shapeValue.array else {
                throw .invalidTensorField(tensor: name, field: "shape", expected: integers, found: shapeValue.rendered())
            }
            var dimensions: [UInt64] = []
            dimensions.reserveCapacity(dimensionValues.count)
            for value in dimensionValues {
                guard let dimension = value.nonNegativeInteger else {
                    throw .invalidTensorField(tensor: name, field: "shape", expected: integers, found: shapeValue.rendered())
                }
                dimensions.append(UInt64(dimension))
            }
            // Each dimension is at most Int64.max, so it fits an Int.
            shape = dimensions.map { Int($0) }

            guard let pair = offsetsValue.array, pair.count == 2,
                  let begin = pair[0].nonNegativeInteger, let end = pair[1].nonNegativeInteger
            else {
                throw .invalidTensorField(
                    tensor: name, field: "data_offsets", expected: "[begin, end], two integers in 0...\(Int64.max)",
                    found: offsetsValue.rendered())
            }
            guard begin <= end else {
                throw .invalidTensorField(tensor: name, field: "data_offsets", expected: "begin <= end", found: offsetsValue.rendered())
            }
            self.begin = UInt64(begin)
            self.end = UInt64(end)

            let (_, bytes) = try checkedByteSize(shape: dimensions, elementSize: dtype.byteSize, tensor: name)
            guard bytes == self.end - self.begin else {
                throw .tensorSizeMismatch(tensor: name, dtype: dtypeName, shape: shape, expected: bytes, found: self.end - self.begin)
            }
        }
    }
}
