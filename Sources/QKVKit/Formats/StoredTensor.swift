/// How a tensor's bytes are stored in its file.
public enum TensorEncoding: String, Sendable, Codable, CaseIterable {
    case raw
    case zlib
    case shuffleZlib = "shuffle+zlib"

    public var qkvCode: UInt8 {
        switch self {
        case .raw: 0
        case .zlib: 1
        case .shuffleZlib: 2
        }
    }

    public init?(qkvCode: UInt8) {
        switch qkvCode {
        case 0: self = .raw
        case 1: self = .zlib
        case 2: self = .shuffleZlib
        default: return nil
        }
    }
}

/// One entry of a file's tensor directory, as the file stores it: everything known without
/// reading the payload. The name is the stored name; `Checkpoint` adds the canonical one.
public struct StoredTensor: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    /// Outermost dimension first; row-major (PyTorch order, also for GGUF).
    public var shape: [Int]
    public var encoding: TensorEncoding
    /// Offset of the payload from the start of its file.
    public var fileOffset: UInt64
    public var storedBytes: UInt64
    /// CRC-32 of the decoded bytes, where the format records one.
    public var crc32: UInt32?
    /// The file holding the payload (differs per shard of a sharded checkpoint).
    public var file: String

    public init(
        name: String, dtype: DType, shape: [Int], encoding: TensorEncoding = .raw,
        fileOffset: UInt64, storedBytes: UInt64, crc32: UInt32? = nil, file: String
    ) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.encoding = encoding
        self.fileOffset = fileOffset
        self.storedBytes = storedBytes
        self.crc32 = crc32
        self.file = file
    }

    /// Number of elements; the directory parse guarantees this does not overflow.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes once any compression is undone (for block-quantized types, the stored blocks).
    public var decodedBytes: Int { dtype.isBlockQuantized ? Int(storedBytes) : elementCount * dtype.byteSize }
}

/// Product of dimensions and byte size with overflow checks, for sizes read from a file.
public func checkedByteSize(shape: [UInt64], elementSize: Int, tensor: String) throws(QKVError) -> (elements: UInt64, bytes: UInt64) {
    var elements: UInt64 = 1
    for dimension in shape {
        let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
        guard !overflow else { throw .sizeOverflow(tensor: tensor) }
        elements = product
    }
    let (bytes, overflow) = elements.multipliedReportingOverflow(by: UInt64(elementSize))
    // Sizes must also fit an Int so that later Int arithmetic cannot trap.
    guard !overflow, bytes <= UInt64(Int.max) / 2 else { throw .sizeOverflow(tensor: tensor) }
    return (elements, bytes)
}

/// Decoded Float32 values of one tensor, either borrowed from a memory map or owned.
public final class FloatTensor: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let pointer: UnsafePointer<Float>
    public var count: Int { shape.reduce(1, *) }
    private let owned: UnsafeMutablePointer<Float>?
    /// Keeps the mapping (or other owner) alive while the values are in use.
    private let keepAlive: AnyObject?

    /// Takes ownership of `storage`, which must hold product(shape) floats allocated with `allocate`.
    public init(name: String, shape: [Int], taking storage: UnsafeMutablePointer<Float>) {
        self.name = name
        self.shape = shape
        self.pointer = UnsafePointer(storage)
        self.owned = storage
        self.keepAlive = nil
    }

    /// Borrows floats that live as long as `owner` (for example an aligned raw f32 tensor in a map).
    public init(name: String, shape: [Int], borrowing pointer: UnsafePointer<Float>, owner: AnyObject) {
        self.name = name
        self.shape = shape
        self.pointer = pointer
        self.owned = nil
        self.keepAlive = owner
    }

    public convenience init(name: String, shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *))
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        _ = UnsafeMutableBufferPointer(start: storage, count: values.count).initialize(from: values)
        self.init(name: name, shape: shape, taking: storage)
    }

    deinit { owned?.deallocate() }

    /// The values, valid only inside `body`: the tensor (and so its memory) stays alive until it returns.
    public func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(UnsafeBufferPointer(start: pointer, count: count)) }
    }

    /// A copy of the values.
    public var values: [Float] { withUnsafeBufferPointer { Array($0) } }

    public subscript(index: Int) -> Float { withExtendedLifetime(self) { pointer[index] } }

    /// Lets the OS drop the resident pages of values borrowed from a read-only file map (they are
    /// read back from the file if touched again); owned values are left alone.
    func releaseResidentPages() {
        guard owned == nil, let owner = keepAlive as? MappedPagesOwner else { return }
        owner.releaseResidentPages(UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<Float>.stride))
    }
}
