/// A llama2.c checkpoint (`.bin` of Karpathy's run.c / runq.c, any of export.py's versions 0, 1
/// and 2; see `Llama2cHeader`), with the `tokenizer.bin` given beside it, if any.
///
/// The file names no architecture and no tensors: it is LLaMA as run.c computes it, so the reader
/// gives its tensors canonical names and hands over run.c's constants as `qkv.*` settings (RMSNorm
/// eps 1e-5, RoPE base 10000 on adjacent pairs, SiLU). Opening reads the header only; f32 tensors
/// are used straight from the map, v2's int8 groups are dequantized on request as runq.c's
/// `dequantize` does (int8 · scale, one f32 product per value).
public final class Llama2cFile: TensorContainer, @unchecked Sendable {
    public let path: String
    public let format: CheckpointFormat
    public let compression = "none"
    public let header: Llama2cHeader
    /// The header fields as stored (`llama2c.*`), for inspect.
    public let metadata: Metadata
    public let tensors: [StoredTensor]
    /// The `tokenizer.bin` given with the checkpoint, checked against its vocab_size.
    public let vocabulary: Llama2cVocabulary?
    private let file: InputFile

    /// What `tokenizerLocations` says; the command line names its option here.
    public static let separateTokenizer = "a llama2.c tokenizer.bin given with the checkpoint"

    /// Opens `path`, a llama2.c checkpoint of any version, and `tokenizer`, a llama2.c
    /// tokenizer.bin for it (errors in it name the tokenizer's path).
    public init(path: String, tokenizer: String? = nil) throws(LocatedError) {
        self.path = path
        let file = try located(path) { () throws(QKVError) in try InputFile(path: path) }
        self.file = file
        let header = try located(path) { () throws(QKVError) -> Llama2cHeader in
            let first = try file.read(at: 0, count: Llama2cHeader.versionedHeaderSize)
            if first.starts(with: Llama2cHeader.magic) {
                return try first.withBytes { (bytes) throws(QKVError) in try Llama2cHeader(versioned: bytes, fileSize: file.size) }
            }
            guard let legacy = Llama2cHeader.legacy(first, fileSize: file.size) else {
                throw .invalidField(
                    field: "magic", offset: 0,
                    expected: "0x616b3432 \"ak42\" (bytes 32 34 6B 61), or a legacy (v0) config whose weights fill the file's \(file.size) bytes exactly",
                    found: Llama2cHeader.hex(Array(first.prefix(4))))
            }
            return legacy
        }
        self.header = header
        // The header checks guarantee the weights fit the file, which bounds the tensor count.
        tensors = try located(path) { () throws(QKVError) in try Llama2cLayout(header).tensors(file: path) }
        let description = switch header.version {
        case 0: "llama2.c v0 (legacy, f32)"
        case 1: "llama2.c v1 (f32)"
        default: "llama2.c v2 (int8, group size \(header.groupSize ?? 0))"
        }
        format = CheckpointFormat(name: "llama2c", description: description, hasChecksums: false)
        var metadata = Metadata([
            ("llama2c.version", .int(Int64(header.version))),
            ("llama2c.dim", .int(Int64(header.dim))),
            ("llama2c.hidden_dim", .int(Int64(header.hiddenDim))),
            ("llama2c.n_layers", .int(Int64(header.layerCount))),
            ("llama2c.n_heads", .int(Int64(header.headCount))),
            ("llama2c.n_kv_heads", .int(Int64(header.kvHeadCount))),
            // As stored: v0 negates it for an unshared classifier.
            ("llama2c.vocab_size", .int(Int64(header.version == 0 && !header.sharedClassifier ? -header.vocabSize : header.vocabSize))),
            ("llama2c.seq_len", .int(Int64(header.sequenceLength))),
            ("llama2c.shared_classifier", .bool(header.sharedClassifier)),
        ])
        if let groupSize = header.groupSize { metadata["llama2c.group_size"] = .int(Int64(groupSize)) }
        self.metadata = metadata
        vocabulary = try tokenizer.map { (tokenizerPath) throws(LocatedError) in
            try Llama2cVocabulary(contentsOf: tokenizerPath, vocabSize: header.vocabSize)
        }
    }

    /// LLaMA with run.c's constants, which the file does not store.
    public var model: ModelSource {
        let settings = Metadata([
            ("qkv.vocab_size", .int(Int64(header.vocabSize))),
            ("qkv.dim", .int(Int64(header.dim))),
            ("qkv.n_layers", .int(Int64(header.layerCount))),
            ("qkv.n_heads", .int(Int64(header.headCount))),
            ("qkv.n_kv_heads", .int(Int64(header.kvHeadCount))),
            ("qkv.head_dim", .int(Int64(header.headSize))),
            ("qkv.hidden_dim", .int(Int64(header.hiddenDim))),
            ("qkv.max_seq_len", .int(Int64(header.sequenceLength))),
            // run.c's rmsnorm adds 1e-5f; its RoPE uses powf(10000.0f, ...) on pairs (2i, 2i + 1),
            // qkv.rope_layout "adjacent" (spelled out: RopeLayout lives in Model, above Formats).
            ("qkv.norm_eps", .double(1e-5)),
            ("qkv.rope_theta", .double(10000)),
            ("qkv.rope_layout", .string("adjacent")),
            ("qkv.activation", .string("silu")),
            ("qkv.tied_embeddings", .int(header.sharedClassifier ? 1 : 0)),
        ])
        return ModelSource(architecture: "llama", settings: .qkv(settings), naming: .canonical)
    }

    public func decode(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> FloatTensor {
        try located(path) { () throws(QKVError) in
            let bytes = try file.mapped()
            let end = tensor.fileOffset + tensor.storedBytes
            guard end <= UInt64(bytes.count) else {
                // Only if the file shrank after it was opened.
                throw .truncated(field: "tensor \"\(tensor.name)\"", offset: Int(tensor.fileOffset),
                                 needed: Int(tensor.storedBytes), available: max(0, bytes.count - Int(tensor.fileOffset)))
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[Int(tensor.fileOffset)..<Int(end)])
            let count = tensor.elementCount
            switch tensor.dtype {
            case .f32:
                if isLittleEndianHost, let base = payload.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
                    return FloatTensor(name: tensor.name, shape: tensor.shape, borrowing: base.assumingMemoryBound(to: Float.self), owner: self)
                }
                let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
                decodeFloats(payload.baseAddress!, dtype: .f32, count: count, into: floats)
                return FloatTensor(name: tensor.name, shape: tensor.shape, taking: floats)
            case .llama2cQ8:
                guard let groupSize = header.groupSize else { throw .unsupportedTensorDType(tensor: tensor.name, dtype: tensor.dtype.displayName) }
                let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
                Self.dequantize(payload, count: count, groupSize: groupSize, into: floats, threads: threads)
                return FloatTensor(name: tensor.name, shape: tensor.shape, taking: floats)
            default:
                throw .unsupportedTensorDType(tensor: tensor.name, dtype: tensor.dtype.displayName)
            }
        }
    }

    /// runq.c's `dequantize`: value i is int8[i] · scale[i / group size], the scales (f32, possibly
    /// unaligned) right after the `count` int8 values. Split in whole groups across threads.
    static func dequantize(
        _ payload: UnsafeRawBufferPointer, count: Int, groupSize: Int, into destination: UnsafeMutablePointer<Float>, threads: Int
    ) {
        guard count > 0, let base = payload.baseAddress else { return }
        let groups = count / groupSize
        let chunks = min(max(1, threads), max(1, count / (1 << 16)))
        parallelFor(chunks, threads: chunks) { chunk in
            let first = groups * chunk / chunks, last = groups * (chunk + 1) / chunks
            for group in first..<last {
                let scale = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(
                    fromByteOffset: count + 4 * group, as: UInt32.self)))
                for i in (group * groupSize)..<((group + 1) * groupSize) {
                    destination[i] = Float(base.load(fromByteOffset: i, as: Int8.self)) * scale
                }
            }
        }
    }

    /// The tokenizer.bin given with the checkpoint; the checkpoint itself holds none.
    public func tokenizerSource() -> TokenizerSource? { vocabulary.map { .llama2c($0) } }

    public var tokenizerLocations: String { "\(Self.separateTokenizer): llama2.c checkpoints hold no vocabulary" }
}

extension Llama2cFile: MappedPagesOwner {
    func releaseResidentPages(_ range: UnsafeRawBufferPointer) { file.releaseResidentPages(range) }
}
