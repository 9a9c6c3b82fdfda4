/// GPT-2 (`GPT2Model`, or the `transformer.` part of `GPT2LMHeadModel`): learned positions,
/// pre-LN blocks, fused QKV, causal attention.
public struct GPT2Model: TransformerModel {
    public let config: ModelConfig
    let weights: Weights
    /// Threads every forward pass may use.
    let threads: Int

    /// Conv1D weights in [in, out] layout: y = x · W + b.
    struct Layer {
        var attnNormWeight, attnNormBias: FloatTensor  // (dim)
        var wqkv: PackedWeight  // (dim, 3*dim): q | k | v blocks
        var bqkv: FloatTensor  // (3*dim)
        var wo: PackedWeight  // (dim, dim)
        var bo: FloatTensor  // (dim)
        var ffnNormWeight, ffnNormBias: FloatTensor  // (dim)
        var wUp: PackedWeight  // (dim, hidden)
        var bUp: FloatTensor  // (hidden)
        var wDown: PackedWeight  // (hidden, dim)
        var bDown: FloatTensor  // (dim)
    }

    struct Weights {
        var embed: EmbeddingTable  // (vocab_size, dim)
        var pos: FloatTensor  // (n_positions, dim)
        var layers: [Layer]
    }

    init(config: ModelConfig, loading w: WeightLoader) throws {
        let layers = try (0..<config.layerCount).map { i in
            let p = "layers.\(i)."
            return Layer(
                attnNormWeight: try w(p + "attn_norm.weight"), attnNormBias: try w(p + "attn_norm.bias"),
                wqkv: try w.packed(p + "wqkv", transposed: false), bqkv: try w(p + "bqkv"),
                wo: try w.packed(p + "wo", transposed: false), bo: try w(p + "bo"),
                ffnNormWeight: try w(p + "ffn_norm.weight"), ffnNormBias: try w(p + "ffn_norm.bias"),
                wUp: try w.packed(p + "w_up", transposed: false), bUp: try w(p + "b_up"),
                wDown: try w.packed(p + "w_down", transposed: false), bDown: try w(p + "b_down"))
        }
        weights = Weights(embed: try w.embedding("embed"), pos: try w("pos"), layers: layers)
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
        let x = ScratchBuffer(t * d)  // (T, dim) residual stream
        let normed = ScratchBuffer(t * d)  // (T, dim)
        let qkv = ScratchBuffer(t * 3 * d)  // (T, 3*dim)
        let context = ScratchBuffer(t * d)  // (T, dim)
        let hidden = ScratchBuffer(t * ff)  // (T, hidden)
        let probabilities = ScratchBuffer(c.headCount * t * t)  // (heads, T, T)
        var result: [LayerAttention] = []

        // 1. Token plus learned position embeddings.
        weights.embed.addRows(ids: tokens, dim: d, into: x.pointer)
        addEmbeddingRows(weights.pos, ids: Array(0..<t), dim: d, into: x.pointer)

        for (index, layer) in weights.layers.enumerated() where index <= lastLayer {
            // 2. ln_1, then the fused projection to q | k | v.
            copyLayerNorm(x.pointer, into: normed.pointer, rows: t, cols: d, layer.attnNormWeight, layer.attnNormBias, eps: eps)
            conv1D(normed.pointer, layer.wqkv, layer.bqkv, into: qkv.pointer, rows: t, inner: d, cols: 3 * d, threads: threads)
            // 3. Causal attention, read in place from the fused buffer (row stride 3*dim).
            let shape = AttentionShape(
                tokens: t, heads: c.headCount, kvHeads: c.headCount, headDim: c.headDim, causal: true, qStride: 3 * d,
                kvStride: 3 * d)
            multiHeadAttention(
                q: qkv.pointer, k: qkv.pointer + d, v: qkv.pointer + 2 * d, shape: shape,
                scale: (c.scaleAttention ? 1 / Float(c.headDim).squareRoot() : 1)
                    / (c.scaleAttentionByInverseLayer ? Float(index + 1) : 1),
                probabilities: probabilities.pointer, output: context.pointer, threads: threads)
            if wanted.contains(index) {
                result.append(try collectAttention(
                    layer: index, probabilities: probabilities.pointer, heads: c.headCount, tokens: t, threads: threads))
            }
            if index == lastLayer { break }
            // 4. Output projection added to the residual stream.
            conv1D(context.pointer, layer.wo, layer.bo, into: x.pointer, rows: t, inner: d, cols: d, accumulate: true, threads: threads)
            // 5. MLP on ln_2, added to the residual stream.
            copyLayerNorm(x.pointer, into: normed.pointer, rows: t, cols: d, layer.ffnNormWeight, layer.ffnNormBias, eps: eps)
            conv1D(normed.pointer, layer.wUp, layer.bUp, into: hidden.pointer, rows: t, inner: d, cols: ff, threads: threads)
            activate(c.activation ?? .geluNew, hidden.pointer, count: t * ff, threads: threads)
            conv1D(hidden.pointer, layer.wDown, layer.bDown, into: x.pointer, rows: t, inner: ff, cols: d, accumulate: true, threads: threads)
        }
        return result
    }
}

/// out[T, n] (+)= x[T, d] · W + b with W packed from Conv1D layout [d, n].
func conv1D(
    _ x: UnsafePointer<Float>, _ weight: PackedWeight, _ bias: FloatTensor?, into out: UnsafeMutablePointer<Float>,
    rows: Int, inner: Int, cols: Int, accumulate: Bool = false, threads: Int
) {
    linear(x, weight, bias, into: out, rows: rows, inner: inner, cols: cols, accumulate: accumulate, threads: threads)
}

/// out[rows, cols] = LayerNorm(x) with weight and bias, leaving x untouched.
func copyLayerNorm(
    _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
    _ weight: FloatTensor, _ bias: FloatTensor, eps: Float
) {
    withExtendedLifetime((weight, bias)) {
        Kernels.layerNorm(x, rows: rows, cols: cols, gamma: weight.pointer, beta: bias.pointer, eps: eps, into: out)
    }
}
