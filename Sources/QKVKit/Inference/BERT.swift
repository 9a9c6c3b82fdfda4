/// BERT (`BertModel`, or the `bert.` part of `BertFor*`): post-LN encoder, full attention,
/// token type 0, exactly as transformers' eager `output_attentions`.
public struct BERTModel: TransformerModel, ArchitectureDefinition {
    public static let architecture = Architecture.bert
    public let config: ModelConfig
    let weights: Weights

    /// Linear weights stored in PyTorch layout [out, in] (y = x · Wᵀ + b), packed at load.
    struct Layer {
        var wq, wk, wv: PackedWeight  // (dim, dim)
        var bq, bk, bv: FloatTensor  // (dim)
        var wo: PackedWeight  // (dim, dim)
        var bo: FloatTensor  // (dim)
        var attnNormWeight, attnNormBias: FloatTensor  // (dim)
        var wUp: PackedWeight  // (hidden, dim)
        var bUp: FloatTensor  // (hidden)
        var wDown: PackedWeight  // (dim, hidden)
        var bDown: FloatTensor  // (dim)
        var ffnNormWeight, ffnNormBias: FloatTensor  // (dim)
    }

    struct Weights {
        var embed: FloatTensor  // (vocab_size, dim)
        var pos: FloatTensor  // (max_position_embeddings, dim)
        var tokenType: FloatTensor  // (type_vocab_size, dim)
        var embedNormWeight, embedNormBias: FloatTensor  // (dim)
        var layers: [Layer]
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] {
        let d = c.dim
        let ff = c.hiddenDim ?? 0
        var specs = [
            TensorSpec("embed", [c.vocabSize, d]), TensorSpec("pos", [c.maxSequenceLength ?? 0, d]),
            TensorSpec("token_type", [c.typeVocabSize ?? 0, d]),
            TensorSpec("embed_norm.weight", [d]), TensorSpec("embed_norm.bias", [d]),
            TensorSpec("pooler.weight", [d, d], required: false), TensorSpec("pooler.bias", [d], required: false),
        ]
        for i in 0..<c.layerCount {
            let p = "layers.\(i)."
            for name in ["wq", "wk", "wv", "wo"] { specs.append(TensorSpec(p + name, [d, d])) }
            for name in ["bq", "bk", "bv", "bo"] { specs.append(TensorSpec(p + name, [d])) }
            specs += [
                TensorSpec(p + "attn_norm.weight", [d]), TensorSpec(p + "attn_norm.bias", [d]),
                TensorSpec(p + "w_up", [ff, d]), TensorSpec(p + "b_up", [ff]),
                TensorSpec(p + "w_down", [d, ff]), TensorSpec(p + "b_down", [d]),
                TensorSpec(p + "ffn_norm.weight", [d]), TensorSpec(p + "ffn_norm.bias", [d]),
            ]
        }
        return specs
    }

    public static func load(_ checkpoint: any Checkpoint, verify: Bool) throws -> any TransformerModel {
        let w = WeightLoader(checkpoint: checkpoint, verify: verify)
        let layers = try (0..<checkpoint.config.layerCount).map { i in
            let p = "layers.\(i)."
            return Layer(
                wq: try w.packed(p + "wq", transposed: true), wk: try w.packed(p + "wk", transposed: true),
                wv: try w.packed(p + "wv", transposed: true), bq: try w(p + "bq"), bk: try w(p + "bk"), bv: try w(p + "bv"),
                wo: try w.packed(p + "wo", transposed: true), bo: try w(p + "bo"),
                attnNormWeight: try w(p + "attn_norm.weight"), attnNormBias: try w(p + "attn_norm.bias"),
                wUp: try w.packed(p + "w_up", transposed: true), bUp: try w(p + "b_up"),
                wDown: try w.packed(p + "w_down", transposed: true), bDown: try w(p + "b_down"),
                ffnNormWeight: try w(p + "ffn_norm.weight"), ffnNormBias: try w(p + "ffn_norm.bias"))
        }
        let weights = Weights(
            embed: try w("embed"), pos: try w("pos"), tokenType: try w("token_type"),
            embedNormWeight: try w("embed_norm.weight"), embedNormBias: try w("embed_norm.bias"), layers: layers)
        return BERTModel(config: checkpoint.config, weights: weights)
    }

    public func attention(tokens: [Int], layers wanted: [Int]) throws -> [LayerAttention] {
        guard let lastLayer = wanted.max() else { return [] }
        let c = config
        let t = tokens.count
        let d = c.dim
        let ff = c.hiddenDim!
        let eps = Float(c.normEpsilon ?? 1e-12)
        // Run state.
        let x = ScratchBuffer(t * d)  // (T, dim) hidden states
        let q = ScratchBuffer(t * d), k = ScratchBuffer(t * d), v = ScratchBuffer(t * d)  // (T, dim)
        let context = ScratchBuffer(t * d)  // (T, dim) attention output before Wo
        let projected = ScratchBuffer(t * d)  // (T, dim)
        let hidden = ScratchBuffer(t * ff)  // (T, hidden)
        let probabilities = ScratchBuffer(c.headCount * t * t)  // (heads, T, T)
        var result: [LayerAttention] = []

        // 1. Embeddings: word + position + token type 0, then LayerNorm.
        addEmbeddingRows(weights.embed, ids: tokens, dim: d, into: x.pointer)
        addEmbeddingRows(weights.pos, ids: Array(0..<t), dim: d, into: x.pointer)
        addEmbeddingRows(weights.tokenType, ids: Array(repeating: 0, count: t), dim: d, into: x.pointer)
        layerNorm(x.pointer, rows: t, cols: d, weights.embedNormWeight, weights.embedNormBias, eps: eps)

        for (index, layer) in weights.layers.enumerated() where index <= lastLayer {
            // 2. Q, K, V projections with bias.
            linear(x.pointer, layer.wq, layer.bq, into: q.pointer, rows: t, inner: d, cols: d)
            linear(x.pointer, layer.wk, layer.bk, into: k.pointer, rows: t, inner: d, cols: d)
            linear(x.pointer, layer.wv, layer.bv, into: v.pointer, rows: t, inner: d, cols: d)
            // 3. Full (bidirectional) attention per head.
            let shape = AttentionShape(
                tokens: t, heads: c.headCount, kvHeads: c.headCount, headDim: c.headDim, causal: false, qStride: d, kvStride: d)
            multiHeadAttention(
                q: q.pointer, k: k.pointer, v: v.pointer, shape: shape, scale: 1 / Float(c.headDim).squareRoot(),
                probabilities: probabilities.pointer, output: context.pointer)
            if wanted.contains(index) {
                result.append(try collectAttention(layer: index, probabilities: probabilities.pointer, heads: c.headCount, tokens: t))
            }
            if index == lastLayer { break }
            // 4. Output projection, residual, LayerNorm (post-LN).
            linear(context.pointer, layer.wo, layer.bo, into: projected.pointer, rows: t, inner: d, cols: d)
            Kernels.addInPlace(x.pointer, projected.pointer, count: t * d)
            layerNorm(x.pointer, rows: t, cols: d, layer.attnNormWeight, layer.attnNormBias, eps: eps)
            // 5. MLP: up, activation, down, residual, LayerNorm.
            linear(x.pointer, layer.wUp, layer.bUp, into: hidden.pointer, rows: t, inner: d, cols: ff)
            activate(c.activation ?? .gelu, hidden.pointer, count: t * ff)
            linear(hidden.pointer, layer.wDown, layer.bDown, into: projected.pointer, rows: t, inner: ff, cols: d)
            Kernels.addInPlace(x.pointer, projected.pointer, count: t * d)
            layerNorm(x.pointer, rows: t, cols: d, layer.ffnNormWeight, layer.ffnNormBias, eps: eps)
        }
        return result
    }
}

/// out[T, n] (+)= x[T, d] · W + b with W packed from PyTorch layout [n, d] (or Conv1D [d, n]).
func linear(
    _ x: UnsafePointer<Float>, _ weight: PackedWeight, _ bias: FloatTensor?, into out: UnsafeMutablePointer<Float>,
    rows: Int, inner: Int, cols: Int, accumulate: Bool = false
) {
    precondition(weight.inner == inner && weight.cols == cols, "weight shape")
    withExtendedLifetime(bias) {
        weight.apply(x, bias: bias?.pointer, into: out, rows: rows, accumulate: accumulate)
    }
}

/// In-place LayerNorm over rows of x[rows, cols].
func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, _ weight: FloatTensor, _ bias: FloatTensor, eps: Float) {
    withExtendedLifetime((weight, bias)) {
        Kernels.layerNorm(x, rows: rows, cols: cols, gamma: weight.pointer, beta: bias.pointer, eps: eps, into: x)
    }
}
