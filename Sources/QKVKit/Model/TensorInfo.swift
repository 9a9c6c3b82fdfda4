/// Which part of the model a tensor belongs to, for parameter counts.
public enum TensorGroup: Equatable, Sendable {
    case embeddings
    case layer(Int)
    case other
}

/// One tensor of a checkpoint under the canonical-name contract: whatever the format, `name` is
/// qkv's canonical name (docs/FORMAT.md) when the naming scheme knows the tensor, else the stored
/// name; `layer` comes from the scheme, never from guessing at the name afterwards.
public struct TensorInfo: Sendable, Equatable {
    /// The canonical name.
    public var name: String
    /// The name in the file.
    public var storedName: String
    public var layer: Int?
    public var group: TensorGroup
    public var dtype: DType
    /// Outermost dimension first (PyTorch order, also for GGUF).
    public var shape: [Int]
    public var encoding: TensorEncoding
    public var fileOffset: UInt64
    public var storedBytes: UInt64
    public var crc32: UInt32?
    /// The file holding the payload (differs per shard).
    public var file: String
    /// A float tensor that is state, not a parameter (GPT-2's stored causal mask, LLaMA's inv_freq).
    public var isBuffer = false
    /// For a stored copy of a tied weight (an LM head equal to the embedding), the stored name of
    /// the tensor it repeats: PyTorch counts one Parameter once, so the copy is not counted again.
    public var tiedTo: String?

    public init(stored: StoredTensor, name: String, layer: Int?, group: TensorGroup, isBuffer: Bool = false) {
        self.name = name
        storedName = stored.name
        self.layer = layer
        self.group = group
        dtype = stored.dtype
        shape = stored.shape
        encoding = stored.encoding
        fileOffset = stored.fileOffset
        storedBytes = stored.storedBytes
        crc32 = stored.crc32
        file = stored.file
        self.isBuffer = isBuffer
    }

    /// The entry as the file stores it.
    public var stored: StoredTensor {
        StoredTensor(
            name: storedName, dtype: dtype, shape: shape, encoding: encoding, fileOffset: fileOffset,
            storedBytes: storedBytes, crc32: crc32, file: file)
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var decodedBytes: Int { stored.decodedBytes }
    /// Float (and quantized) tensors are parameters; integer and boolean tensors are buffers.
    public var isParameter: Bool { !isBuffer && tiedTo == nil && dtype.isFloatingPoint }
}
