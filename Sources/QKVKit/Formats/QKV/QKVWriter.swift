/// Writes QKV v1 files: the fixtures, `convert`, and the tests' hand-made inputs.
public struct QKVWriter {
    /// A tensor to write: Float32 values, stored as `dtype` with `encoding`.
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public var dtype: DType
        public var encoding: TensorEncoding

        public init(_ name: String, shape: [Int], values: [Float], dtype: DType = .f32, encoding: TensorEncoding = .raw) {
            precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
            precondition(dtype.qkvCode != nil, "QKV stores f32, f16 and bf16 only")
            self.name = name
            self.shape = shape
            self.values = values
            self.dtype = dtype
            self.encoding = encoding
        }
    }

    public var metadata: Metadata
    public var tensors: [Tensor]

    public init(metadata: Metadata, tensors: [Tensor]) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// Checks that QKV v1 can hold everything to be written (docs/FORMAT.md): names not empty and
    /// not repeated, strings without NUL bytes, metadata of QKV's types, ranks 1 to 4, dimensions
    /// of at least 1, counts that fit a u32. `convert` checks before writing, so what another
    /// format holds and QKV cannot is an error, never a file qkv cannot read back.
    public func validate() throws(QKVError) {
        func check(_ text: String, _ what: @autoclosure () -> String, empty: Bool = true) throws(QKVError) {
            if !empty, text.isEmpty { throw .cannotStoreInQKV(what: what(), reason: "an empty name") }
            if text.utf8.contains(0) { throw .cannotStoreInQKV(what: what(), reason: "a NUL byte in a string") }
            if text.utf8.count > UInt32.max { throw .cannotStoreInQKV(what: what(), reason: "a string of more than 2^32 - 1 bytes") }
        }
        func checkCount(_ count: Int, _ what: String) throws(QKVError) {
            if count > UInt32.max { throw .cannotStoreInQKV(what: what, reason: "\(count) entries, more than 2^32 - 1") }
        }
        try checkCount(metadata.count, "metadata")
        for (key, value) in metadata.entries {
            try check(key, "metadata key \(jsonQuoted(key))", empty: false)
            switch value {
            case let .string(text):
                try check(text, "metadata \(jsonQuoted(key))")
            case let .strings(list):
                try checkCount(list.count, "metadata \(jsonQuoted(key))")
                for (index, text) in list.enumerated() { try check(text, "metadata \(jsonQuoted(key))[\(index)]") }
            case let .floats(list):
                try checkCount(list.count, "metadata \(jsonQuoted(key))")
            case .ints, .doubles:
                throw .cannotStoreInQKV(what: "metadata \(jsonQuoted(key))", reason: "an \(value.typeName)")
            case .int, .double, .bool:
                break
            }
        }
        try checkCount(tensors.count, "tensors")
        var names = Set<String>()
        for tensor in tensors {
            let what = "tensor \(jsonQuoted(tensor.name))"
            try check(tensor.name, what, empty: false)
            guard names.insert(tensor.name).inserted else { throw .cannotStoreInQKV(what: what, reason: "a second tensor of that name") }
            guard (1...4).contains(tensor.shape.count) else {
                throw .cannotStoreInQKV(what: what, reason: "rank \(tensor.shape.count) (shape \(tensor.shape)), not 1 to 4")
            }
            if let axis = tensor.shape.firstIndex(where: { $0 < 1 }) {
                throw .cannotStoreInQKV(what: what, reason: "dimension \(axis) of \(tensor.shape[axis]) (shape \(tensor.shape))")
            }
        }
    }

    /// The complete file, optionally inside a whole-file zlib or gzip stream.
    public func bytes(wrap: DeflateContainer? = nil) -> [UInt8] {
        let payloads = tensors.map(Self.payload)
        var header: [UInt8] = []
        for (key, value) in metadata.entries {
            header.appendString(key)
            guard let code = value.typeCode else { preconditionFailure("metadata \(key): QKV has no \(value.typeName)") }
            header.append(code)
            switch value {
            case let .int(number): header.appendLE(UInt64(bitPattern: number))
            case let .bool(flag): header.appendLE(UInt64(flag ? 1 : 0))
            case .ints, .doubles: break
            case let .double(number): header.appendLE(number.bitPattern)
            case let .string(text): header.appendString(text)
            case let .strings(list):
                header.appendLE(UInt32(list.count))
                for text in list { header.appendString(text) }
            case let .floats(list):
                header.appendLE(UInt32(list.count))
                for number in list { header.appendLE(number.bitPattern) }
            }
        }
        var offset: UInt64 = 0
        for (tensor, payload) in zip(tensors, payloads) {
            header.appendString(tensor.name)
            header.append(tensor.dtype.qkvCode!)
            header.append(tensor.encoding.qkvCode)
            header.append(UInt8(tensor.shape.count))
            header.append(0)
            for dimension in tensor.shape { header.appendLE(UInt64(dimension)) }
            header.appendLE(offset)
            header.appendLE(UInt64(payload.stored.count))
            header.appendLE(payload.crc)
            offset = alignUp(offset + UInt64(payload.stored.count), QKVHeader.alignment)
        }
        var file: [UInt8] = QKVHeader.magic
        file.appendLE(UInt32(1))
        file.appendLE(UInt32(metadata.count))
        file.appendLE(UInt32(tensors.count))
        file.appendLE(UInt64(header.count))
        file.appendLE(CRC32.checksum(header))
        file.appendLE(UInt32(0))
        file += header
        for payload in payloads {
            file.padToMultiple(of: Int(QKVHeader.alignment))
            file += payload.stored
        }
        if payloads.isEmpty { file.padToMultiple(of: Int(QKVHeader.alignment)) }
        guard let wrap else { return file }
        return file.withUnsafeBytes { deflateBytes($0, container: wrap) }
    }

    /// Stored bytes and the CRC-32 of the decoded little-endian element bytes.
    static func payload(_ tensor: Tensor) -> (stored: [UInt8], crc: UInt32) {
        var raw: [UInt8] = []
        raw.reserveCapacity(tensor.values.count * tensor.dtype.byteSize)
        for value in tensor.values {
            switch tensor.dtype {
            case .f16: raw.appendLE(halfBitsFromFloat(value))
            case .bf16: raw.appendLE(bfloat16BitsFromFloat(value))
            default: raw.appendLE(value.bitPattern)
            }
        }
        let crc = CRC32.checksum(raw)
        switch tensor.encoding {
        case .raw:
            return (raw, crc)
        case .zlib:
            return (raw.withUnsafeBytes { deflateBytes($0, container: .zlib) }, crc)
        case .shuffleZlib:
            let shuffled = raw.withUnsafeBytes { shuffle($0, elementSize: tensor.dtype.byteSize) }
            return (shuffled.withUnsafeBytes { deflateBytes($0, container: .zlib) }, crc)
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendString(_ text: String) {
        appendLE(UInt32(text.utf8.count))
        append(contentsOf: text.utf8)
    }

    mutating func padToMultiple(of alignment: Int) {
        let remainder = count % alignment
        if remainder != 0 { append(contentsOf: repeatElement(0, count: alignment - remainder)) }
    }
}
