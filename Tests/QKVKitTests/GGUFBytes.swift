import Foundation
@testable import QKVKit

/// Builds GGUF bytes field by field (ggml docs/gguf.md), so a test can break exactly one rule.
struct GGUFBytes {
    var magic: [UInt8] = Array("GGUF".utf8)
    /// The 4 version bytes as written (little-endian 3 by default).
    var versionBytes: [UInt8] = le(UInt32(3))
    /// nil: the number of `tensors` / `entries`.
    var tensorCount: UInt64?
    var entryCount: UInt64?
    /// Encoded key/values and tensor infos, in file order.
    var entries: [[UInt8]] = []
    var tensors: [[UInt8]] = []
    /// The header is zero-padded to this multiple before the data section.
    var alignment = 32
    var data: [UInt8] = []

    /// Where the first key/value starts.
    static let entriesStart = 24

    var version: UInt32 {
        get { UInt32(littleEndian: versionBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) }
        set { versionBytes = le(newValue) }
    }

    /// Magic, version, counts, key/values and tensor infos, without padding.
    func header() -> [UInt8] {
        var bytes = magic + versionBytes
        bytes += le(tensorCount ?? UInt64(tensors.count))
        bytes += le(entryCount ?? UInt64(entries.count))
        return bytes + entries.flatMap { $0 } + tensors.flatMap { $0 }
    }

    /// Where the i-th tensor info starts.
    func tensorInfoStart(_ index: Int) -> Int {
        Self.entriesStart + entries.reduce(0) { $0 + $1.count } + tensors.prefix(index).reduce(0) { $0 + $1.count }
    }

    /// The whole file: header, zero padding to the alignment, data.
    func bytes() -> [UInt8] {
        var bytes = header()
        let padded = (bytes.count + alignment - 1) / alignment * alignment
        bytes += [UInt8](repeating: 0, count: padded - bytes.count)
        return bytes + data
    }

    // MARK: Value types (gguf.md)

    enum ValueType: UInt32 {
        case u8 = 0, i8, u16, i16, u32, i32, f32, bool, string, array, u64, i64, f64
    }

    /// A GGUF string: u64 length, then the bytes.
    static func string(_ text: String) -> [UInt8] { raw(Array(text.utf8)) }
    static func raw(_ bytes: [UInt8]) -> [UInt8] { le(UInt64(bytes.count)) + bytes }

    /// A key/value: key, u32 type, the value's bytes.
    static func entry(_ key: String, _ type: ValueType, _ value: [UInt8]) -> [UInt8] {
        string(key) + le(type.rawValue) + value
    }

    static func entry(rawKey: [UInt8], type: UInt32, _ value: [UInt8]) -> [UInt8] {
        raw(rawKey) + le(type) + value
    }

    static func u32(_ key: String, _ value: UInt32) -> [UInt8] { entry(key, .u32, le(value)) }
    static func u64(_ key: String, _ value: UInt64) -> [UInt8] { entry(key, .u64, le(value)) }
    static func f32(_ key: String, _ value: Float) -> [UInt8] { entry(key, .f32, le(value.bitPattern)) }
    static func text(_ key: String, _ value: String) -> [UInt8] { entry(key, .string, string(value)) }

    /// An array: u32 element type, u64 count, then `elements` (already encoded).
    static func array(_ key: String, of element: UInt32, count: UInt64, _ elements: [UInt8]) -> [UInt8] {
        entry(key, .array, le(element) + le(count) + elements)
    }

    static func strings(_ key: String, _ values: [String]) -> [UInt8] {
        array(key, of: ValueType.string.rawValue, count: UInt64(values.count), values.flatMap(string))
    }

    /// A tensor info: name, u32 rank, u64 dims (ggml order: dims[0] is the row length), u32 type, u64 offset.
    static func tensor(_ name: String, dims: [UInt64], type: UInt32 = 0, offset: UInt64, rank: UInt32? = nil) -> [UInt8] {
        tensor(rawName: Array(name.utf8), dims: dims, type: type, offset: offset, rank: rank)
    }

    static func tensor(rawName: [UInt8], dims: [UInt64], type: UInt32 = 0, offset: UInt64, rank: UInt32? = nil) -> [UInt8] {
        raw(rawName) + le(rank ?? UInt32(dims.count)) + dims.flatMap { le($0) } + le(type) + le(offset)
    }
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

func le(_ value: Float) -> [UInt8] { le(value.bitPattern) }

/// A valid one-file llama model (token_embd, one block per layer, output_norm, tied embeddings),
/// F32 unless a tensor says otherwise, that tests change one field of.
struct TinyGGUF {
    struct Tensor {
        var name: String
        /// ggml order: dims[0] is the row length.
        var dims: [UInt64]
        var type: GGMLType = .f32
        var payload: [UInt8]
    }

    var metadata: [(key: String, entry: [UInt8])] = []
    var tensors: [Tensor] = []
    var alignment = 32

    /// vocab tokens, dim-wide embeddings, `heads` query heads and `kvHeads` KV heads of dim / heads.
    init(dim: Int = 8, ff: Int = 8, heads: Int = 2, kvHeads: Int = 1, layers: Int = 1, vocab: Int = 4) {
        let headDim = dim / heads
        metadata = [
            ("general.architecture", GGUFBytes.text("general.architecture", "llama")),
            ("general.name", GGUFBytes.text("general.name", "tiny")),
            ("llama.context_length", GGUFBytes.u32("llama.context_length", 64)),
            ("llama.embedding_length", GGUFBytes.u32("llama.embedding_length", UInt32(dim))),
            ("llama.block_count", GGUFBytes.u32("llama.block_count", UInt32(layers))),
            ("llama.feed_forward_length", GGUFBytes.u32("llama.feed_forward_length", UInt32(ff))),
            ("llama.attention.head_count", GGUFBytes.u32("llama.attention.head_count", UInt32(heads))),
            ("llama.attention.head_count_kv", GGUFBytes.u32("llama.attention.head_count_kv", UInt32(kvHeads))),
            ("llama.rope.freq_base", GGUFBytes.f32("llama.rope.freq_base", 10000)),
            ("llama.attention.layer_norm_rms_epsilon", GGUFBytes.f32("llama.attention.layer_norm_rms_epsilon", 1e-5)),
            ("tokenizer.ggml.model", GGUFBytes.text("tokenizer.ggml.model", "llama")),
            ("tokenizer.ggml.tokens", GGUFBytes.strings("tokenizer.ggml.tokens", (0..<vocab).map { "t\($0)" })),
        ]
        var seed = 1
        func f32(_ dims: [Int], norm: Bool = false) -> [UInt8] {
            let count = dims.reduce(1, *)
            seed += 1
            return (0..<count).flatMap { index -> [UInt8] in
                let value = norm ? 1 + 0.25 * Float(sin(Double(index * 7 + seed))) : 0.5 * Float(sin(Double(index * 13 + seed * 101)))
                return le(value)
            }
        }
        func add(_ name: String, _ dims: [Int], norm: Bool = false) {
            tensors.append(Tensor(name: name, dims: dims.map(UInt64.init), payload: f32(dims, norm: norm)))
        }
        add("token_embd.weight", [dim, vocab])
        for layer in 0..<layers {
            let p = "blk.\(layer)."
            add(p + "attn_norm.weight", [dim], norm: true)
            add(p + "attn_q.weight", [dim, heads * headDim])
            add(p + "attn_k.weight", [dim, kvHeads * headDim])
            add(p + "attn_v.weight", [dim, kvHeads * headDim])
            add(p + "attn_output.weight", [heads * headDim, dim])
            add(p + "ffn_norm.weight", [dim], norm: true)
            add(p + "ffn_gate.weight", [dim, ff])
            add(p + "ffn_up.weight", [dim, ff])
            add(p + "ffn_down.weight", [ff, dim])
        }
        add("output_norm.weight", [dim], norm: true)
    }

    /// Replaces the entry of `key` (or appends it); nil removes it.
    mutating func set(_ key: String, _ entry: [UInt8]?) {
        let index = metadata.firstIndex { $0.key == key }
        switch (index, entry) {
        case let (index?, entry?): metadata[index].entry = entry
        case let (index?, nil): metadata.remove(at: index)
        case let (nil, entry?): metadata.append((key, entry))
        case (nil, nil): break
        }
    }

    mutating func removeTensor(_ name: String) { tensors.removeAll { $0.name == name } }

    mutating func replaceTensor(_ name: String, with tensor: Tensor) {
        tensors[tensors.firstIndex { $0.name == name }!] = tensor
    }

    /// The file, each tensor at the next multiple of the alignment.
    func file() -> GGUFBytes {
        var file = GGUFBytes()
        file.alignment = alignment
        file.entries = metadata.map(\.entry)
        var data: [UInt8] = []
        for tensor in tensors {
            data += [UInt8](repeating: 0, count: (data.count + alignment - 1) / alignment * alignment - data.count)
            file.tensors.append(GGUFBytes.tensor(tensor.name, dims: tensor.dims, type: tensor.type.rawValue, offset: UInt64(data.count)))
            data += tensor.payload
        }
        file.data = data
        return file
    }

    func bytes() -> [UInt8] { file().bytes() }
}

/// Q8_0 blocks: an f16 scale (bits) and 32 int8 quants each.
func q8_0Block(scaleBits: UInt16, quants: [Int8]) -> [UInt8] {
    precondition(quants.count == 32)
    return le(scaleBits) + quants.map { UInt8(bitPattern: $0) }
}

/// The error GGUFHeader raises for these bytes, or nil if they parse.
func ggufHeaderError(_ bytes: [UInt8]) -> QKVError? {
    do {
        _ = try bytes.withBytes { raw throws(QKVError) in try GGUFHeader(raw) }
        return nil
    } catch {
        return error
    }
}

/// The header these bytes parse to (a failed parse fails the test).
func ggufHeader(_ bytes: [UInt8]) throws -> GGUFHeader {
    try bytes.withBytes { raw throws(QKVError) in try GGUFHeader(raw) }
}

/// The error opening these bytes as a file (through CheckpointLoader) raises, or nil; `name` is the
/// file name in a fresh temporary folder.
func ggufOpenError(_ bytes: [UInt8], name: String = "model.gguf") throws -> QKVError? {
    let path = try temporaryFile(bytes, name: name)
    return thrownQKVError { _ = try CheckpointLoader.open(path: path) }
}
