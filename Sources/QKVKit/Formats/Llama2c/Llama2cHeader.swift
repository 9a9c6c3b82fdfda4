/// The header of a llama2.c checkpoint (the `.bin` files of Karpathy's run.c and runq.c, written
/// by llama2.c's export.py), and where each of its tensors lies.
///
/// Three layouts, all little-endian with native C `int`s (i32):
///
/// - **v0** (`legacy_export`, read by run.c): no magic; the file starts with the 7-int config
///   `dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len` (28 bytes). A negative
///   `vocab_size` means the classifier is stored after the layers (unshared); positive, it is the
///   token embedding. f32 weights follow in run.c's `memory_map_weights` order, including two
///   RoPE tables (`freq_cis_real`, `freq_cis_imag`, [seq_len, head_size/2] each) that run.c
///   skips and so does qkv. With no magic, a file is taken for v0 only when its size is exactly
///   what its config implies.
/// - **v1** (`version1_export`): u32 magic 0x616b3432 ("ak42" as a number; stored little-endian,
///   the bytes are 32 34 6B 61, "24ka"), i32 version 1, the config (vocab_size positive), a u8
///   shared-classifier flag at byte 36, zeros to byte 256; f32 weights, norms first.
/// - **v2** (`version2_export`, read by runq.c): as v1 with version 2 and the i32 group size at
///   byte 37; the norms in f32, then every matrix as int8 values followed by one f32 scale per
///   group of `group_size` values (value = int8 · scale).
///
/// Every rule is checked here, every size with overflow checks, and the total against the file
/// size before a tensor list is built, so a header that exists describes a file that holds it.
public struct Llama2cHeader: Sendable, Equatable {
    /// The u32 0x616b3432 ("ak42") as export.py's `struct.pack('I', ...)` stores it: "24ka".
    public static let magic: [UInt8] = [0x32, 0x34, 0x6B, 0x61]
    /// v0 starts with the config alone; v1 and v2 have a 256-byte header.
    public static let legacyHeaderSize = 28
    public static let versionedHeaderSize = 256

    /// 0 (legacy, no magic), 1 (f32) or 2 (int8 groups).
    public var version: Int
    public var dim: Int
    public var hiddenDim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    /// Always positive here; v0 stores it negated when the classifier is not shared.
    public var vocabSize: Int
    public var sequenceLength: Int
    /// The classifier is the token embedding (not stored again).
    public var sharedClassifier: Bool
    /// Values per scale of the int8 tensors (v2 only).
    public var groupSize: Int?

    /// run.c's `head_size`: dim / n_heads (dim is q's width too).
    public var headSize: Int { dim / headCount }
    /// Width of k and v: n_kv_heads · head_size.
    public var kvDim: Int { kvHeadCount * headSize }
    public var headerSize: Int { version == 0 ? Self.legacyHeaderSize : Self.versionedHeaderSize }

    /// The 7 config ints in file order (from byte 8 of a versioned header, byte 0 of v0).
    static let configFields = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"]

    // MARK: Parsing

    /// A v1 or v2 header: `bytes` is the start of a file that begins with the magic (up to 256
    /// bytes of it), `fileSize` its length. Checks every field, then that the weights the header
    /// implies fill the rest of the file exactly.
    public init(versioned bytes: UnsafeRawBufferPointer, fileSize: UInt64) throws(QKVError) {
        var reader = ByteReader(bytes)
        let magic = try reader.readBytes(4, field: "magic")
        guard Array(magic) == Self.magic else {
            throw .invalidField(field: "magic", offset: 0, expected: "0x616b3432 \"ak42\" (bytes 32 34 6B 61)", found: Self.hex(Array(magic)))
        }
        let version = try reader.readLE(Int32.self, field: "version")
        guard version == 1 || version == 2 else {
            throw .invalidField(field: "version", offset: 4, expected: "1 or 2", found: String(version))
        }
        var config: [Int32] = []
        for field in Self.configFields { config.append(try reader.readLE(Int32.self, field: field)) }
        let flag = try reader.readLE(UInt8.self, field: "shared_classifier")
        var groupSize: Int32?
        if version == 2 { groupSize = try reader.readLE(Int32.self, field: "group_size") }
        let paddingStart = reader.cursor
        // The header is 256 bytes even when the weights are missing.
        let padding = try reader.readBytes(Self.versionedHeaderSize - paddingStart, field: "header padding")

        try Self.checkConfig(config, offset: 8)
        guard flag <= 1 else {
            throw .invalidField(field: "shared_classifier", offset: 36, expected: "0 or 1", found: String(flag))
        }
        if let groupSize, groupSize <= 0 {
            throw .invalidField(field: "group_size", offset: 37, expected: "a positive integer", found: String(groupSize))
        }
        // export.py writes zeros; anything else would be a flag this reader does not know.
        if let bad = padding.firstIndex(where: { $0 != 0 }) {
            throw .nonZeroPadding(offset: UInt64(paddingStart + bad))
        }
        self.init(version: Int(version), config: config, shared: flag == 1, groupSize: groupSize.map(Int.init))
        let layout = try Llama2cLayout(self)
        let available = fileSize - min(fileSize, UInt64(Self.versionedHeaderSize))
        guard layout.weightBytes == available else {
            throw .dataSizeMismatch(covered: layout.weightBytes, available: available)
        }
    }

    /// A v0 header, or nil when `first` (the file's first bytes, at least 28 of them) is not the
    /// config of a v0 file of exactly `fileSize` bytes: v0 has no magic, so nothing else may
    /// claim a file.
    public static func legacy(_ first: [UInt8], fileSize: UInt64) -> Llama2cHeader? {
        guard first.count >= legacyHeaderSize, fileSize >= UInt64(legacyHeaderSize) else { return nil }
        var config: [Int32] = []
        for index in 0..<7 {
            config.append(Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(first[4 * index + $1]) << (8 * $1) }))
        }
        // A negative vocab_size flags an unshared classifier (run.c's read_checkpoint).
        let shared = config[5] > 0
        guard config[5] != Int32.min else { return nil }
        config[5] = abs(config[5])
        guard (try? checkConfig(config, offset: 0)) != nil else { return nil }
        let header = Llama2cHeader(version: 0, config: config, shared: shared, groupSize: nil)
        guard let layout = try? Llama2cLayout(header), layout.weightBytes == fileSize - UInt64(legacyHeaderSize) else {
            return nil
        }
        return header
    }

    private init(version: Int, config: [Int32], shared: Bool, groupSize: Int?) {
        self.version = version
        dim = Int(config[0])
        hiddenDim = Int(config[1])
        layerCount = Int(config[2])
        headCount = Int(config[3])
        kvHeadCount = Int(config[4])
        vocabSize = Int(config[5])
        sequenceLength = Int(config[6])
        sharedClassifier = shared
        self.groupSize = groupSize
    }

    /// The rules run.c relies on without checking: every size positive, whole heads, kv heads
    /// that divide the query heads, an even head size (RoPE rotates pairs). `offset` is where the
    /// config starts in the file.
    private static func checkConfig(_ config: [Int32], offset: Int) throws(QKVError) {
        for (index, value) in config.enumerated() where value <= 0 {
            throw .invalidField(field: configFields[index], offset: offset + 4 * index, expected: "a positive integer", found: String(value))
        }
        let (dim, heads, kvHeads) = (config[0], config[3], config[4])
        guard dim % heads == 0 else {
            throw .invalidField(field: "dim", offset: offset, expected: "a multiple of n_heads (\(heads))", found: String(dim))
        }
        guard heads % kvHeads == 0 else {
            throw .invalidField(field: "n_kv_heads", offset: offset + 16, expected: "a divisor of n_heads (\(heads))", found: String(kvHeads))
        }
        guard (dim / heads) % 2 == 0 else {
            throw .invalidField(
                field: "n_heads", offset: offset + 12,
                expected: "a count giving an even head size dim / n_heads (RoPE rotates pairs; dim is \(dim))", found: String(heads))
        }
    }
}

/// Where every tensor of a llama2.c file lies, in file order, with sizes computed with overflow
/// checks; tensors are listed only after the total is known (the caller compares it with the file
/// size first, which bounds the number of layers).
struct Llama2cLayout {
    /// A run of same-shaped tensors in a row: one, or one per layer.
    struct Run {
        /// The canonical name; `N` stands for the layer in per-layer runs.
        var name: String
        var perLayer: Bool
        var shape: [Int]
        var quantized: Bool
        /// Stored but not a tensor qkv lists (v0's RoPE tables).
        var skipped = false
    }

    let header: Llama2cHeader
    let runs: [Run]
    /// Bytes of one tensor of each run.
    let tensorBytes: [UInt64]
    /// Everything after the header.
    let weightBytes: UInt64

    init(_ header: Llama2cHeader) throws(QKVError) {
        self.header = header
        let (d, f, v, kv, hs) = (header.dim, header.hiddenDim, header.vocabSize, header.kvDim, header.headSize)
        func layer(_ name: String, _ shape: [Int], quantized: Bool = false) -> Run {
            Run(name: "layers.N.\(name)", perLayer: true, shape: shape, quantized: quantized)
        }
        func single(_ name: String, _ shape: [Int], quantized: Bool = false) -> Run {
            Run(name: name, perLayer: false, shape: shape, quantized: quantized)
        }
        // PyTorch shapes: nn.Linear weights are [out, in]; q's width is dim (n_heads · head_size).
        let isInt8 = header.version == 2
        let matrices = [
            layer("wq", [d, d], quantized: isInt8), layer("wk", [kv, d], quantized: isInt8), layer("wv", [kv, d], quantized: isInt8),
            layer("wo", [d, d], quantized: isInt8), layer("w_gate", [f, d], quantized: isInt8),
            layer("w_down", [d, f], quantized: isInt8), layer("w_up", [f, d], quantized: isInt8),
        ]
        let classifier = header.sharedClassifier ? [] : [single("lm_head", [v, d], quantized: isInt8)]
        switch header.version {
        case 0:
            // run.c's memory_map_weights: w1 is the gate, w2 down, w3 up.
            let table = Run(name: "freq_cis", perLayer: false, shape: [header.sequenceLength, hs / 2], quantized: false, skipped: true)
            runs = [single("embed", [v, d]), layer("attn_norm.weight", [d])] + matrices[0..<4]
                + [layer("ffn_norm.weight", [d])] + matrices[4...] + [single("final_norm.weight", [d]), table, table] + classifier
        default:
            // export.py's version1_export / version2_export: the norms first.
            runs = [layer("attn_norm.weight", [d]), layer("ffn_norm.weight", [d]), single("final_norm.weight", [d]),
                    single("embed", [v, d], quantized: isInt8)] + matrices + classifier
        }
        var sizes: [UInt64] = []
        var total: UInt64 = 0
        for run in runs {
            let label = run.name.replacingOccurrences(of: ".N.", with: ".*.")
            let (elements, floatBytes) = try checkedByteSize(shape: run.shape.map(UInt64.init), elementSize: 4, tensor: label)
            var bytes = floatBytes
            if run.quantized, let groupSize = header.groupSize {
                // runq.c maps `size / GS` scales after each tensor's int8 values.
                guard elements % UInt64(groupSize) == 0 else {
                    throw .invalidField(
                        field: "group_size", offset: 37,
                        expected: "a divisor of every quantized tensor's size (\(label) has \(elements) values)", found: String(groupSize))
                }
                bytes = elements + elements / UInt64(groupSize) * 4
            }
            sizes.append(bytes)
            let count = UInt64(run.perLayer ? header.layerCount : 1)
            let (runBytes, overflow) = bytes.multipliedReportingOverflow(by: count)
            let (sum, carry) = total.addingReportingOverflow(runBytes)
            guard !overflow, !carry, sum <= UInt64(Int.max) / 2 else { throw .sizeOverflow(tensor: label) }
            total = sum
        }
        tensorBytes = sizes
        weightBytes = total
    }

    /// Every tensor qkv lists, in file order. Call only once `weightBytes` is known to fit the file.
    func tensors(file: String) -> [StoredTensor] {
        var result: [StoredTensor] = []
        var offset = UInt64(header.headerSize)
        for (run, bytes) in zip(runs, tensorBytes) {
            for index in 0..<(run.perLayer ? header.layerCount : 1) {
                defer { offset += bytes }
                if run.skipped { continue }
                let name = run.perLayer ? run.name.replacingOccurrences(of: ".N.", with: ".\(index).") : run.name
                result.append(StoredTensor(
                    name: name, dtype: run.quantized ? .llama2cQ8 : .f32, shape: run.shape, fileOffset: offset,
                    storedBytes: bytes, file: file))
            }
        }
        return result
    }
}

extension Llama2cHeader {
    /// Bytes as "32 34 6B 61", for messages about the magic.
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "no bytes" : bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}
