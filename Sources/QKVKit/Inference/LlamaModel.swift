/// The LLaMA wiring (LLaMA, Mistral, Qwen2, Qwen3): RMSNorm, rotary positions, grouped-query
/// causal attention (optionally windowed), SwiGLU MLP, with the options `ModelConfig` carries:
/// q/k/v and output biases, per-head q/k RMSNorm, the rotary pair layout.
public struct LlamaModel: TransformerModel {
    public let config: ModelConfig
    let weights: Weights
    /// Threads every forward pass may use.
    let threads: Int

    /// Linear weights in PyTorch layout [out, in].
    struct Layer {
        var attnNorm: FloatTensor  // (dim)
        var wq: LinearWeight  // (n_heads * head_dim, dim)
        var wk, wv: LinearWeight  // (n_kv_heads * head_dim, dim)
        var bq, bk, bv: FloatTensor?  // present with attention_bias
        var wo: LinearWeight  // (dim, n_heads * head_dim)
        var bo: FloatTensor?
        var qNorm, kNorm: FloatTensor?  // (head_dim), present with q/k norm (Qwen3)
        var ffnNorm: FloatTensor  // (dim)
        var wGate, wUp: LinearWeight  // (hidden, dim)
        var wDown: LinearWeight  // (dim, hidden)
        var bGate, bUp, bDown: FloatTensor?  // present with mlp_bias
    }

    struct Weights {
        var embed: EmbeddingTable  // (vocab_size, dim)
        var layers: [Layer]
        var inverseFrequencies: [Float]  // (head_dim / 2)
    }

    init(config c: ModelConfig, loading w: WeightLoader) throws {
        let layers = try (0..<c.layerCount).map { i in
            let p = "layers.\(i)."
            return Layer(
                attnNorm: try w(p + "attn_norm.weight"), wq: try w.linear(p + "wq"),
                wk: try w.linear(p + "wk"), wv: try w.linear(p + "wv"),
                bq: try w.optional(p + "bq"), bk: try w.optional(p + "bk"), bv: try w.optional(p + "bv"),
                wo: try w.linear(p + "wo"), bo: try w.optional(p + "bo"),
                qNorm: try w.optional(p + "q_norm.weight"), kNorm: try w.optional(p + "k_norm.weight"),
                ffnNorm: try w(p + "ffn_norm.weight"), wGate: try w.linear(p + "w_gate"),
                wUp: try w.linear(p + "w_up"), wDown: try w.linear(p + "w_down"),
                bGate: try w.optional(p + "b_gate"), bUp: try w.optional(p + "b_up"), bDown: try w.optional(p + "b_down"))
        }
        let frequencies = Kernels.ropeInverseFrequencies(headDim: c.headDim, theta: Float(c.ropeTheta!), scaling: c.ropeScaling)
        weights = Weights(embed: try w.embedding("embed"), layers: layers, inverseFrequencies: frequencies)
        config = c
        threads = w.threads
    }

    public func attention(tokens: [Int], layers wanted: [Int]) throws -> [LayerAttention] {
        guard let lastLayer = wanted.max() else { return [] }
        let c = config
        let t = tokens.count
        let d = c.dim
        let ff = c.hiddenDim!
        let qWidth = c.headCount * c.headDim
        let kvWidth = c.kvHeadCount * c.headDim
        let eps = Float(c.normEpsilon!)
        let x = ScratchBuffer(t * d)  // (T, dim) residual stream
        let normed = ScratchBuffer(t * d)  // (T, dim)
        let q = ScratchBuffer(t * qWidth)  // (T, n_heads * head_dim)
        let k = ScratchBuffer(t * kvWidth), v = ScratchBuffer(t * kvWidth)  // (T, n_kv_heads * head_dim)
        let context = ScratchBuffer(t * qWidth)  // (T, n_heads * head_dim)
        let gate = ScratchBuffer(t * ff), up = ScratchBuffer(t * ff)  // (T, hidden)
        let probabilities = ScratchBuffer(c.headCount * t * t)  // (heads, T, T)
        var result: [LayerAttention] = []

        // 1. Token embeddings (positions enter through RoPE).
        weights.embed.addRows(ids: tokens, dim: d, into: x.pointer)

        for (index, layer) in weights.layers.enumerated() where index <= lastLayer {
            // 2. RMSNorm, projections, per-head q/k norm (Qwen3), rotary positions on q and k.
            rmsNorm(x.pointer, into: normed.pointer, rows: t, cols: d, layer.attnNorm, eps: eps)
            linear(normed.pointer, layer.wq, layer.bq, into: q.pointer, rows: t, inner: d, cols: qWidth, threads: threads)
            linear(normed.pointer, layer.wk, layer.bk, into: k.pointer, rows: t, inner: d, cols: kvWidth, threads: threads)
            linear(normed.pointer, layer.wv, layer.bv, into: v.pointer, rows: t, inner: d, cols: kvWidth, threads: threads)
            if let qNorm = layer.qNorm, let kNorm = layer.kNorm {
                rmsNorm(q.pointer, into: q.pointer, rows: t * c.headCount, cols: c.headDim, qNorm, eps: eps)
                rmsNorm(k.pointer, into: k.pointer, rows: t * c.kvHeadCount, cols: c.headDim, kNorm, eps: eps)
            }
            Kernels.applyRoPE(q.pointer, rows: t, heads: c.headCount, headDim: c.headDim,
                              inverseFrequencies: weights.inverseFrequencies, layout: c.ropeLayout)
            Kernels.applyRoPE(k.pointer, rows: t, heads: c.kvHeadCount, headDim: c.headDim,
                              inverseFrequencies: weights.inverseFrequencies, layout: c.ropeLayout)
            // 3. Causal grouped-query attention: query head h reads kv head h / (n_heads / n_kv_heads).
            let shape = AttentionShape(
                tokens: t, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, causal: true, qStride: qWidth,
                kvStride: kvWidth, window: c.slidingWindow)
            multiHeadAttention(
                q: q.pointer, k: k.pointer, v: v.pointer, shape: shape, scale: 1 / Float(c.headDim).squareRoot(),
                probabilities: probabilities.pointer, output: context.pointer, threads: threads)
            if wanted.contains(index) {
                result.append(try collectAttention(
                    layer: index, probabilities: probabilities.pointer, heads: c.headCount, tokens: t, threads: threads))
            }
            if index == lastLayer { break }
            // 4. Output projection into the residual stream.
            linear(context.pointer, layer.wo, layer.bo, into: x.pointer, rows: t, inner: qWidth, cols: d, accumulate: true,
                   threads: threads)
            // 5. SwiGLU MLP: down(silu(gate(h)) * up(h)) into the residual stream.
            rmsNorm(x.pointer, into: normed.pointer, rows: t, cols: d, layer.ffnNorm, eps: eps)
            linear(normed.pointer, layer.wGate, layer.bGate, into: gate.pointer, rows: t, inner: d, cols: ff, threads: threads)
            linear(normed.pointer, layer.wUp, layer.bUp, into: up.pointer, rows: t, inner: d, cols: ff, threads: threads)
            activate(c.activation ?? .silu, gate.pointer, count: t * ff, threads: threads)
            Kernels.multiplyInPlace(gate.pointer, up.pointer, count: t * ff)
            linear(gate.pointer, layer.wDown, layer.bDown, into: x.pointer, rows: t, inner: ff, cols: d, accumulate: true,
                   threads: threads)
        }
        return result
    }
}

/// out[rows, cols] = RMSNorm(x) · weight (out may be x).
func rmsNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, _ weight: FloatTensor, eps: Float) {
    withExtendedLifetime(weight) {
        Kernels.rmsNorm(x, rows: rows, cols: cols, weight: weight.pointer, eps: eps, into: out)
    }
}
