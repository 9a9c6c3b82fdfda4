/// Scratch memory for one forward pass: a Float buffer freed when the pass ends.
final class ScratchBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}

/// Reads weights by canonical name, checking checksums unless asked not to.
struct WeightLoader {
    let checkpoint: Checkpoint
    let verify: Bool
    /// Threads for decoding now and for every forward pass of the model being loaded.
    let threads: Int

    func callAsFunction(_ name: String) throws -> FloatTensor {
        try checkpoint.floats(name, verify: verify, threads: threads)
    }

    /// A weight matrix packed for the GEMM kernels (shape [out, in] if `transposed`, else [in, out]).
    /// The tensor's file-mapped pages are given back right after, so the weights stay resident once.
    func packed(_ name: String, transposed: Bool) throws -> PackedWeight {
        let tensor = try callAsFunction(name)
        let packed = PackedWeight(tensor, transposed: transposed)
        tensor.releaseResidentPages()
        return packed
    }

    /// nn.Linear weights [n_i, in] packed as one [Σ n_i, in] matrix (fused projections), with their
    /// biases concatenated; mapped pages released as in `packed`.
    func stackedLinear(_ weights: [String], biases: [String]) throws -> (PackedWeight, FloatTensor) {
        let tensors = try weights.map { try callAsFunction($0) }
        let packed = PackedWeight(stackingTransposed: tensors)
        for tensor in tensors { tensor.releaseResidentPages() }
        let biasValues = try biases.flatMap { try callAsFunction($0).values }
        precondition(biasValues.count == packed.cols, "one bias per output")
        return (packed, FloatTensor(name: biases.joined(separator: "|"), shape: [packed.cols], values: biasValues))
    }

    /// An nn.Linear weight [out, in]: read where it is stored when it is F16, BF16 or quantized
    /// and the format allows (no float32 copy), else packed as float32 like `packed`.
    func linear(_ name: String) throws -> LinearWeight {
        if let stored = try checkpoint.storedMatrix(name, verify: verify, threads: threads) { return .stored(stored) }
        return .packed(try packed(name, transposed: true))
    }

    /// An embedding table [rows, dim]: rows are gathered (and dequantized) per token when it is
    /// stored as F16, BF16 or quantized, else decoded to float32 once.
    func embedding(_ name: String) throws -> EmbeddingTable {
        if let stored = try checkpoint.storedMatrix(name, verify: verify, threads: threads) { return .stored(stored) }
        return .floats(try callAsFunction(name))
    }

    /// A tensor the architecture can do without (a bias that some checkpoints omit).
    func optional(_ name: String) throws -> FloatTensor? {
        checkpoint.hasTensor(name) ? try callAsFunction(name) : nil
    }
}

/// Copies one layer's probabilities [heads, T, T] out of scratch, refusing NaN or infinity.
/// Large layers are copied by all cores, one head each.
func collectAttention(
    layer: Int, probabilities: UnsafePointer<Float>, heads: Int, tokens t: Int, threads: Int
) throws(QKVError) -> LayerAttention {
    var matrices = [[Float]](repeating: [], count: heads)
    var finite = [Bool](repeating: true, count: heads)
    matrices.withUnsafeMutableBufferPointer { matrices in
        finite.withUnsafeMutableBufferPointer { finite in
            let out = matrices, ok = finite
            let copy = { (head: Int) in
                let start = probabilities + head * t * t
                ok[head] = Kernels.allFinite(start, count: t * t)
                out[head] = Array(UnsafeBufferPointer(start: start, count: t * t))
            }
            if heads * t * t >= 1 << 16 {
                parallelFor(heads, threads: threads, copy)
            } else {
                for head in 0..<heads { copy(head) }
            }
        }
    }
    if let head = finite.firstIndex(of: false) { throw .nonFiniteAttention(layer: layer, head: head) }
    return LayerAttention(layer: layer, tokenCount: t, heads: matrices)
}

/// Adds embedding rows: x[p] += table[ids[p]]. Shape: table [rows, dim], x [T, dim].
func addEmbeddingRows(_ table: FloatTensor, ids: [Int], dim: Int, into x: UnsafeMutablePointer<Float>) {
    table.withUnsafeBufferPointer { rows in
        for (p, id) in ids.enumerated() {
            Kernels.addInPlace(x + p * dim, rows.baseAddress! + id * dim, count: dim)
        }
    }
}

/// A token embedding table: float32, or rows left in their stored form and dequantized per token.
enum EmbeddingTable {
    case floats(FloatTensor)  // (vocab_size, dim)
    case stored(StoredMatrix)  // (vocab_size, dim) as stored

    /// x[p] += table[ids[p]] for x [T, dim].
    func addRows(ids: [Int], dim: Int, into x: UnsafeMutablePointer<Float>) {
        switch self {
        case let .floats(table):
            addEmbeddingRows(table, ids: ids, dim: dim, into: x)
        case let .stored(matrix):
            let row = ScratchBuffer(dim)
            for (p, id) in ids.enumerated() { matrix.addRow(id, into: x + p * dim, scratch: row.pointer) }
        }
    }
}

/// Applies the MLP nonlinearity in place over `count` values.
func activate(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
    switch activation {
    case .gelu: Kernels.geluErf(x, count: count, threads: threads)
    case .geluNew, .geluPytorchTanh: Kernels.geluTanh(x, count: count, threads: threads)
    case .silu: Kernels.silu(x, count: count, threads: threads)
    case .relu: for i in 0..<count { x[i] = max(x[i], 0) }
    }
}
