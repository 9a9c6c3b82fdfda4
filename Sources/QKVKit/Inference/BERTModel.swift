/// BERT (`BertModel`, or the `bert.` part of `BertFor*`): post-LN encoder, full attention,
/// token type 0, exactly as transformers' eager `output_attentions`.
public struct BERTModel: TransformerModel {
    public let config: ModelConfig
    let weights: Weights
    /// Threads every forward pass may use.
    let threads: Int

    /// Linear weights stored in PyTorch layout [out, in] (y = x · Wᵀ + b), packed at load.
    struct Layer {
        var qkv: QKVProjection  // wq | wk | wv: (3*dim, dim), bq | bk | bv: (3*dim)
        var wo: LinearWeight  // (dim, dim)
        var bo: FloatTensor  // (dim)
        var attnNormWeight, attnNormBias: FloatTensor  // (dim)
        var wUp: LinearWeight  // (hidden, dim)
        var bUp: FloatTensor  // (hidden)
        var wDown: LinearWeight  // (dim, hidden)
        var bDown: FloatTensor  // (dim)
        var ffnNormWeight, ffnNormBias: FloatTensor  // (dim)
    }

    struct Weights {
        var embed: EmbeddingTable  // (vocab_size, dim)
        var pos: FloatTensor  // (max_position_embeddings, dim)
        var tokenType: FloatTensor  // (type_vocab_size, dim)
        var embedNormWeight, embedNormBias: FloatTensor  // (dim)
        var layers: [Layer]
    }

    init(config: ModelConfig, loading w: WeightLoader) throws {
        let layers = try (0..<config.layerCount).map { i in
            let p = "layers.\(i)."
            return Layer(
                qkv: try QKVProjection(loading: w, weights: [p + "wq", p + "wk", p + "wv"], biases: [p + "bq", p + "bk", p + "bv"]),
                wo: try w.linear(p + "wo"), bo: try w(p + "bo"),
                attnNormWeight: try w(p + "attn_norm.weight"), attnNormBias: try w(p + "attn_norm.bias"),
                wUp: try w.linear(p + "w_up"), bUp: try w(p + "b_up"),
                wDown: try w.linear(p + "w_down"), bDown: try w(p + "b_down"),
                ffnNormWeight: try w(p + "ffn_norm.weight"), ffnNormBias: try w(p + "ffn_norm.bias"))
        }
        weights = Weights(
            embed: try w.embedding("embed"), pos: try w("pos"), tokenType: try w("token_type"),
            embedNormWeight: try w("embed_norm.weight"), embedNormBias: try w("embed_norm.bias"), layers: layers)
        self.config = config
        threads = w.threads
    }

    public func attention(tokens: [Int], layers wanted: [Int]) throws -> [LayerAttention] {
        guard let lastLayer = wanted.max() else { return [] }
        let c = config
        let t = tokens.count
        let d = c.dim
        let ff = c.hiddenDim!
        let eps = Float(c.normEpsilon!)
        // Run state.
        let x = ScratchBuffer(t * d)  // (T, dim) hidden states
        let qkv = ScratchBuffer(t * 3 * d)  // (T, 3*dim): q | k | v per row
        let context = ScratchBuffer(t * d)  // (T, dim) attention output before Wo
        let projected = ScratchBuffer(t * d)  // (T, dim)
        let hidden = ScratchBuffer(t * ff)  // (T, hidden)
        let probabilities = ScratchBuffer(c.headCount * t * t)  // (heads, T, T)
        var result: [LayerAttention] = []

        // 1. Embeddings: word + position + token type 0, then LayerNorm.
        weights.embed.addRows(ids: tokens, dim: d, into: x.pointer)
        addEmbeddingRows(weights.pos, ids: Array(0..<t), dim: d, into: x.pointer)
        addEmbeddingRows(weights.tokenType, ids: Array(repeating: 0, count: t), dim: d, into: x.pointer)
        layerNorm(x.pointer, rows: t, cols: d, weights.embedNormWeight, weights.embedNormBias, eps: eps)

        for (index, layer) in weights.layers.enumerated() where index <= lastLayer {
            // 2. Q, K, V projections with bias, as one product.
            layer.qkv.apply(x.pointer, into: qkv.pointer, rows: t, threads: threads)
            // 3. Full (bidirectional) attention per head, read in place from the fused rows.
            let shape = AttentionShape(
                tokens: t, heads: c.headCount, kvHeads: c.headCount, headDim: c.headDim, causal: false, qStride: 3 * d,
                kvStride: 3 * d)
            multiHeadAttention(
                q: qkv.pointer, k: qkv.pointer + d, v: qkv.pointer + 2 * d, shape: shape,
                scale: 1 / Float(c.headDim).squareRoot(), probabilities: probabilities.pointer, output: context.pointer,
                threads: threads)
            if wanted.contains(index) {
                result.append(try collectAttention(
                    layer: index, probabilities: probabilities.pointer, heads: c.headCount, tokens: t, threads: threads))
            }
            if index == lastLayer { break }
            // 4. Output projection, residual, LayerNorm (post-LN).
            linear(context.pointer, layer.wo, layer.bo, into: projected.pointer, rows: t, inner: d, cols: d, threads: threads)
            layerNorm(x.pointer, adding: projected.pointer, rows: t, cols: d, layer.attnNormWeight, layer.attnNormBias, eps: eps)
            // 5. MLP: up, activation, down, residual, LayerNorm.
            linear(x.pointer, layer.wUp, layer.bUp, into: hidden.pointer, rows: t, inner: d, cols: ff, threads: threads)
            activate(c.activation ?? .gelu, hidden.pointer, count: t * ff, threads: threads)
            linear(hidden.pointer, layer.wDown, layer.bDown, into: projected.pointer, rows: t, inner: ff, cols: d, threads: threads)
            layerNorm(x.pointer, adding: projected.pointer, rows: t, cols: d, layer.ffnNormWeight, layer.ffnNormBias, eps: eps)
        }
        return result
    }
}

/// Q, K and V projections into one [T, 3·dim] buffer (q | k | v per row): float32 weights stacked
/// and packed as one matrix (one product), or three stored matrices writing their thirds.
enum QKVProjection {
    case fused(PackedWeight, FloatTensor)  // (3*dim, dim), (3*dim)
    case separate([StoredMatrix], [FloatTensor])  // 3 × (dim, dim), 3 × (dim)

    init(loading w: WeightLoader, weights: [String], biases: [String]) throws {
        let stored = try weights.compactMap { try w.checkpoint.storedMatrix($0, verify: w.verify, threads: w.threads) }
        if stored.count == weights.count {
            self = .separate(stored, try biases.map { try w($0) })
        } else {
            let (packed, bias) = try w.stackedLinear(weights, biases: biases)
            self = .fused(packed, bias)
        }
    }

    func apply(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows t: Int, threads: Int) {
        switch self {
        case let .fused(weight, bias):
            withExtendedLifetime(bias) { weight.apply(x, bias: bias.pointer, into: out, rows: t, threads: threads) }
        case let .separate(matrices, biases):
            let width = matrices.reduce(0) { $0 + $1.rows }
            var offset = 0
            for (matrix, bias) in zip(matrices, biases) {
                withExtendedLifetime(bias) {
                    matrix.apply(x, bias: bias.pointer, into: out + offset, outStride: width, rows: t, threads: threads)
                }
                offset += matrix.rows
            }
        }
    }
}

/// out[T, n] (+)= x[T, d] · Wᵀ + b with W [n, d] packed or in its stored form.
func linear(
    _ x: UnsafePointer<Float>, _ weight: LinearWeight, _ bias: FloatTensor?, into out: UnsafeMutablePointer<Float>,
    rows: Int, inner: Int, cols: Int, accumulate: Bool = false, threads: Int
) {
    precondition(weight.inner == inner && weight.cols == cols, "weight shape")
    withExtendedLifetime(bias) {
        weight.apply(x, bias: bias?.pointer, into: out, rows: rows, accumulate: accumulate, threads: threads)
    }
}

/// out[T, n] (+)= x[T, d] · W + b with W packed from PyTorch layout [n, d] (or Conv1D [d, n]).
func linear(
    _ x: UnsafePointer<Float>, _ weight: PackedWeight, _ bias: FloatTensor?, into out: UnsafeMutablePointer<Float>,
    rows: Int, inner: Int, cols: Int, accumulate: Bool = false, threads: Int
) {
    precondition(weight.inner == inner && weight.cols == cols, "weight shape")
    withExtendedLifetime(bias) {
        weight.apply(x, bias: bias?.pointer, into: out, rows: rows, accumulate: accumulate, threads: threads)
    }
}

/// x[rows, cols] = LayerNorm(x + residual) (or of x alone), in place.
func layerNorm(_ x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>? = nil, rows: Int, cols: Int,
               _ weight: FloatTensor, _ bias: FloatTensor, eps: Float) {
    withExtendedLifetime((weight, bias)) {
        Kernels.layerNorm(x, adding: residual, rows: rows, cols: cols, gamma: weight.pointer, beta: bias.pointer, eps: eps,
                          into: x)
    }
}
