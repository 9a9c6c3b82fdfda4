import Foundation

/// Writes safetensors files: for tests and for converting checkpoints.
///
/// Tensors are laid out in the order given, contiguous from offset 0. As the reference writer does,
/// the JSON header is padded with spaces so that the data buffer starts at a multiple of
/// `headerAlignment` (8 by default; 1 leaves the header unpadded, for testing unaligned reads).
public struct SafetensorsWriter: Sendable {
    public struct Tensor: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        /// Little-endian elements, product(shape) * dtype.byteSize bytes.
        public var bytes: [UInt8]

        public init(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// Float32 values stored as F32, F16 or BF16 (rounded to nearest even).
        public init(_ name: String, shape: [Int], values: [Float], dtype: DType = .f32) {
            precondition(dtype.isWeightType, "float values are stored as F32, F16 or BF16")
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * dtype.byteSize)
            for value in values {
                switch dtype {
                case .f16: bytes.appendLE(halfBitsFromFloat(value))
                case .bf16: bytes.appendLE(bfloat16BitsFromFloat(value))
                default: bytes.appendLE(value.bitPattern)
                }
            }
            self.init(name, dtype: dtype, shape: shape, bytes: bytes)
        }
    }

    public var tensors: [Tensor]
    /// Written as `__metadata__` (keys sorted); omitted when empty.
    public var metadata: [String: String]
    public var headerAlignment: Int

    public init(tensors: [Tensor], metadata: [String: String] = [:], headerAlignment: Int = 8) {
        self.tensors = tensors
        self.metadata = metadata
        self.headerAlignment = headerAlignment
    }

    /// The complete file. Throws for a tensor whose bytes do not match its shape, a negative
    /// dimension, or a repeated or reserved name, so that every written file reads back.
    public func bytes() throws(QKVError) -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var names = Set<String>()
        var offset: UInt64 = 0
        for tensor in tensors {
            guard tensor.name != "__metadata__" else {
                throw .invalidTensorField(tensor: tensor.name, field: "name", expected: "a name other than __metadata__", found: "__metadata__")
            }
            guard names.insert(tensor.name).inserted else { throw .duplicateName(field: "tensor name", name: tensor.name) }
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw .invalidTensorField(tensor: tensor.name, field: "shape", expected: "non-negative dimensions", found: "\(tensor.shape)")
            }
            let (_, size) = try checkedByteSize(shape: tensor.shape.map { UInt64($0) }, elementSize: tensor.dtype.byteSize, tensor: tensor.name)
            guard size == UInt64(tensor.bytes.count) else {
                throw .tensorSizeMismatch(
                    tensor: tensor.name, dtype: tensor.dtype.safetensorsName, shape: tensor.shape, expected: size,
                    found: UInt64(tensor.bytes.count))
            }
            let end = offset + size
            members.append((tensor.name, .object([
                ("dtype", .string(tensor.dtype.safetensorsName)),
                ("shape", .array(tensor.shape.map { .int($0) })),
                ("data_offsets", .array([.int(Int(offset)), .int(Int(end))])),
            ])))
            offset = end
        }
        var header = Array(JSONValue.object(members).rendered().utf8)
        let alignment = max(headerAlignment, 1)
        let remainder = (8 + header.count) % alignment
        if remainder != 0 { header += repeatElement(UInt8(ascii: " "), count: alignment - remainder) }

        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + Int(offset))
        file.appendLE(UInt64(header.count))
        file += header
        for tensor in tensors { file += tensor.bytes }
        return file
    }

    public func write(to path: String) throws {
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
    }
}
