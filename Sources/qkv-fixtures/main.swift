// Writes the QKV fixtures in fixtures/ with QKVKit's own writer.
// Usage: swift run qkv-fixtures fixtures   (then: python3 scripts/make_goldens.py)
import Foundation
import QKVKit

/// SplitMix64: a tiny deterministic generator, so fixtures are byte-identical on every machine.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-scale, scale).
    mutating func values(_ count: Int, scale: Float) -> [Float] {
        (0..<count).map { _ in (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }
}

struct Spec {
    var name: String
    var vocab = 8, dim = 8, layers = 2, heads = 2, kvHeads: Int? = nil, headDim: Int? = nil
    var causal = false, pos = false, maxSeqLen: Int? = nil, wo = true, tokenizer = true
    var dtype = DType.f32, encoding = TensorEncoding.raw, wrap: DeflateContainer? = nil
    var tokens: [Int] = [0, 3, 1, 5, 2]
    var extra = false
}

func build(_ spec: Spec, seed: UInt64) -> QKVWriter {
    var random = SplitMix(state: seed)
    let kv = spec.kvHeads ?? spec.heads
    let hd = spec.headDim ?? spec.dim / spec.heads
    var metadata = Metadata([
        ("general.name", .string(spec.name)), ("qkv.architecture", .string("attention")),
        ("qkv.vocab_size", .int(Int64(spec.vocab))), ("qkv.dim", .int(Int64(spec.dim))),
        ("qkv.n_layers", .int(Int64(spec.layers))), ("qkv.n_heads", .int(Int64(spec.heads))),
    ])
    if let kvHeads = spec.kvHeads { metadata["qkv.n_kv_heads"] = .int(Int64(kvHeads)) }
    if let headDim = spec.headDim { metadata["qkv.head_dim"] = .int(Int64(headDim)) }
    if let maxSeqLen = spec.maxSeqLen { metadata["qkv.max_seq_len"] = .int(Int64(maxSeqLen)) }
    if spec.causal { metadata["qkv.causal"] = .int(1) }
    if spec.tokenizer { metadata["tokenizer.tokens"] = .strings((0..<spec.vocab).map { "tok\($0)" }) }
    func tensor(_ name: String, _ shape: [Int], scale: Float) -> QKVWriter.Tensor {
        QKVWriter.Tensor(name, shape: shape, values: random.values(shape.reduce(1, *), scale: scale), dtype: spec.dtype, encoding: spec.encoding)
    }
    var tensors = [tensor("embed", [spec.vocab, spec.dim], scale: 1)]
    if spec.pos { tensors.append(tensor("pos", [spec.maxSeqLen!, spec.dim], scale: 0.5)) }
    for i in 0..<spec.layers {
        tensors.append(tensor("layers.\(i).wq", [spec.dim, spec.heads * hd], scale: 0.8))
        tensors.append(tensor("layers.\(i).wk", [spec.dim, kv * hd], scale: 0.8))
        tensors.append(tensor("layers.\(i).wv", [spec.dim, kv * hd], scale: 0.8))
        if spec.wo { tensors.append(tensor("layers.\(i).wo", [spec.heads * hd, spec.dim], scale: 0.5)) }
    }
    if spec.extra { tensors.append(tensor("lm_head", [spec.dim, spec.vocab], scale: 0.3)) }
    return QKVWriter(metadata: metadata, tensors: tensors)
}

/// The demo model: one layer, one head, vocabulary x1 x2 x3, weights chosen so that the attention of
/// "x1 x2 x3" is the textbook matrix. With one-hot embeddings and Wq = I, the logits are Wk^T / sqrt(3),
/// so Wk = sqrt(3) * log(P)^T gives softmax rows equal to P exactly.
func seed() -> QKVWriter {
    let target: [[Double]] = [[0.8955, 0.0290, 0.0755], [0.0245, 0.9645, 0.0110], [0.0800, 0.0100, 0.9100]]
    let identity: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
    var wk = [Float](repeating: 0, count: 9)
    for row in 0..<3 {
        for column in 0..<3 { wk[column * 3 + row] = Float(3.0.squareRoot() * log(target[row][column])) }
    }
    let metadata = Metadata([
        ("general.name", .string("seed")), ("qkv.architecture", .string("attention")),
        ("qkv.vocab_size", .int(3)), ("qkv.dim", .int(3)), ("qkv.n_layers", .int(1)), ("qkv.n_heads", .int(1)),
        ("tokenizer.tokens", .strings(["x1", "x2", "x3"])),
    ])
    return QKVWriter(metadata: metadata, tensors: [
        .init("embed", shape: [3, 3], values: identity),
        .init("layers.0.wq", shape: [3, 3], values: identity),
        .init("layers.0.wk", shape: [3, 3], values: wk),
        .init("layers.0.wv", shape: [3, 3], values: identity),
    ])
}

let specs: [Spec] = [
    Spec(name: "basic_f32"),
    Spec(name: "f16_zlib", dtype: .f16, encoding: .zlib),
    Spec(name: "bf16_shuffle", dtype: .bf16, encoding: .shuffleZlib),
    Spec(name: "f32_shuffle_gzip", dtype: .f32, encoding: .shuffleZlib, wrap: .gzip),
    Spec(name: "f16_raw_zlibwrap", dtype: .f16, wrap: .zlib),
    Spec(name: "gqa_causal_pos", vocab: 10, dim: 12, layers: 3, heads: 4, kvHeads: 2, causal: true, pos: true, maxSeqLen: 6,
         tokens: [9, 1, 1, 4, 0, 7]),
    Spec(name: "headdim_wo", dim: 8, heads: 3, headDim: 5, tokens: [2, 2, 6, 7]),
    Spec(name: "no_wo_no_tokenizer", dim: 8, heads: 4, wo: false, tokenizer: false, tokens: [7, 0, 0, 3]),
    Spec(name: "maxseq_without_pos", layers: 1, heads: 1, maxSeqLen: 2, tokens: [1, 2, 3, 4], extra: true),
]

let directory = CommandLine.arguments.dropFirst().first ?? "fixtures"
func write(_ bytes: [UInt8], _ name: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
}
try write(seed().bytes(), "seed.qkv")
var manifest: [String] = ["  \"seed\": {\"tokens\": [0, 1, 2]}"]
for (index, spec) in specs.enumerated() {
    try write(build(spec, seed: UInt64(index + 1)).bytes(wrap: spec.wrap), "\(spec.name).qkv")
    manifest.append("  \"\(spec.name)\": {\"tokens\": \(spec.tokens)}")
}
try Data(("{\n" + manifest.joined(separator: ",\n") + "\n}\n").utf8).write(
    to: URL(fileURLWithPath: directory).appendingPathComponent("fixtures.json"))
print("wrote \(specs.count + 1) fixtures to \(directory)")
