/// LLaMA (`LlamaModel`, or the `model.` part of `LlamaForCausalLM`): RMSNorm, rotary positions
/// (rotate-half), grouped-query causal attention, SwiGLU MLP.
public struct LlamaModel: TransformerModel, ArchitectureDefinition {
    public static let architecture = Architecture.llama
    public let config: ModelConfig
    let weights: Weights

    /// Linear weights in PyTorch layout [out, in].
    struct Layer {
        var attnNorm: FloatTensor  // (dim)
        var wq: PackedWeight  // (n_heads * head_dim, dim)
        var wk, wv: PackedWeight  // (n_kv_heads * head_dim, dim)
        var bq, bk, bv: FloatTensor?  // present with attention_bias
        var wo: PackedWeight  // (dim, n_heads * head_dim)
        var bo: FloatTensor?
        var ffnNorm: FloatTensor  // (dim)
        var wGate, wUp: PackedWeight  // (hidden, dim)
        var wDown: PackedWeight  // (dim, hidden)
        var bGate, bUp, bDown: FloatTensor?  // present with mlp_bias
    }

    struct Weights {
        var embed: FloatTensor  // (vocab_size, dim)
        var layers: [Layer]
        var inverseFrequencies: [Float]  // (head_dim / 2)
    }

    /// Rotary positions have no table, so no limit (transformers does not enforce max_position_embeddings).
    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? { nil }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] {
        let d = c.dim
        let ff = c.hiddenDim ?? 0
        let qWidth = c.headCount * c.headDim
        let kvWidth = c.kvHeadCount * c.headDim
        var specs = [
            TensorSpec("embed", [c.vocabSize, d]), TensorSpec("final_norm.weight", [d], required: false),
            TensorSpec("lm_head", [c.vocabSize, d], required: false),
        ]
        for i in 0..<c.layerCount {
            let p = "layers.\(i)."
            specs += [
                TensorSpec(p + "attn_norm.weight", [d]), TensorSpec(p + "wq", [qWidth, d]),
                TensorSpec(p + "wk", [kvWidth, d]), TensorSpec(p + "wv", [kvWidth, d]), TensorSpec(p + "wo", [d, qWidth]),
                TensorSpec(p + "bq", [qWidth], required: c.attentionBias), TensorSpec(p + "bk", [kvWidth], required: c.attentionBias),
                TensorSpec(p + "bv", [kvWidth], required: c.attentionBias), TensorSpec(p + "bo", [d], required: c.attentionBias),
                TensorSpec(p + "ffn_norm.weight", [d]), TensorSpec(p + "w_gate", [ff, d]), TensorSpec(p + "w_up", [ff, d]),
                TensorSpec(p + "w_down", [d, ff]), TensorSpec(p + "b_gate", [ff], required: c.mlpBias),
                TensorSpec(p + "b_up", [ff], required: c.mlpBias), TensorSpec(p + "b_down", [d], required: c.mlpBias),
            ]
        }
        return specs
    }

    public static func load(_ checkpoint: any Checkpoint, verify: Bool) throws -> any TransformerModel {
        let c = checkpoint.config
        let w = WeightLoader(checkpoint: checkpoint, verify: verify)
        let layers = try (0..<c.layerCount).map { i in
            let p = "layers.\(i)."
            return Layer(
                attnNorm: try w(p + "attn_norm.weight"), wq: try w.packed(p + "wq", transposed: true),
                wk: try w.packed(p + "wk", transposed: true), wv: try w.packed(p + "wv", transposed: true),
                bq: try w.optional(p + "bq"), bk: try w.optional(p + "bk"), bv: try w.optional(p + "bv"),
                wo: try w.packed(p + "wo", transposed: true), bo: try w.optional(p + "bo"),
                ffnNorm: try w(p + "ffn_norm.weight"), wGate: try w.packed(p + "w_gate", transposed: true),
                wUp: try w.packed(p + "w_up", transposed: true), wDown: try w.packed(p + "w_down", transposed: true),
                bGate: try w.optional(p + "b_gate"), bUp: try w.optional(p + "b_up"), bDown: try w.optional(p + "b_down"))
        }
        let frequencies = Kernels.ropeInverseFrequencies(headDim: c.headDim, theta: Float(c.ropeTheta ?? 10000))
        return LlamaModel(config: c, weights: Weights(embed: try w("embed"), layers: layers, inverseFrequencies: frequencies))
    }

    public func attention(tokens: [Int], layers wanted: [Int]) throws -> [LayerAttention] {
        guard let lastLayer = wanted.max() else { return [] }
        let c = config
        let t = tokens.count
        let d = c.dim
        let ff = c.hiddenDim!
        let qWidth = c.headCount * c.headDim
        let kvWidth = c.kvHeadCount * c.headDim
        let eps = Float(c.normEpsilon ?? 1e-6)
        let x = ScratchBuffer(t * d)  // (T, dim) residual stream
        let normed = ScratchBuffer(t * d)  // (T, dim)
        let q = ScratchBuffer(t * qWidth)  // (T, n_heads * head_dim)
        let k = ScratchBuffer(t * kvWidth), v = ScratchBuffer(t * kvWidth)  // (T, n_kv_heads * head_dim)
        let context = ScratchBuffer(t * qWidth)  // (T, n_heads * head_dim)
        let gate = ScratchBuffer(t * ff), up = ScratchBuffer(t * ff)  // (T, hidden)
        let probabilities = ScratchBuffer(c.headCount * t * t)  // (heads, T, T)
        var result: [LayerAttention] = []

        // 1. Token embeddings (positions enter through RoPE).
        addEmbeddingRows(weights.embed, ids: tokens, dim: d, into: x.pointer)

        for (index, layer) in weights.layers.enumerated() where index <= lastLayer {
            // 2. RMSNorm, projections, rotary positions on q and k.
            rmsNorm(x.pointer, into: normed.pointer, rows: t, cols: d, layer.attnNorm, eps: eps)
            linear(normed.pointer, layer.wq, layer.bq, into: q.pointer, rows: t, inner: d, cols: qWidth)
            linear(normed.pointer, layer.wk, layer.bk, into: k.pointer, rows: t, inner: d, cols: kvWidth)
            linear(normed.pointer, layer.wv, layer.bv, into: v.pointer, rows: t, inner: d, cols: kvWidth)
            Kernels.applyRoPE(q.pointer, rows: t, heads: c.headCount, headDim: c.headDim, inverseFrequencies: weights.inverseFrequencies)
            Kernels.applyRoPE(k.pointer, rows: t, heads: c.kvHeadCount, headDim: c.headDim, inverseFrequencies: weights.inverseFrequencies)
            // 3. Causal grouped-query attention: query head h reads kv head h / (n_heads / n_kv_heads).
            let shape = AttentionShape(
                tokens: t, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, causal: true, qStride: qWidth,
                kvStride: kvWidth)
            multiHeadAttention(
                q: q.pointer, k: k.pointer, v: v.pointer, shape: shape, scale: 1 / Float(c.headDim).squareRoot(),
                probabilities: probabilities.pointer, output: context.pointer)
            if wanted.contains(index) {
                result.append(try collectAttention(layer: index, probabilities: probabilities.pointer, heads: c.headCount, tokens: t))
            }
            if index == lastLayer { break }
            // 4. Output projection into the residual stream.
            linear(context.pointer, layer.wo, layer.bo, into: x.pointer, rows: t, inner: qWidth, cols: d, accumulate: true)
            // 5. SwiGLU MLP: down(silu(gate(h)) * up(h)) into the residual stream.
            rmsNorm(x.pointer, into: normed.pointer, rows: t, cols: d, layer.ffnNorm, eps: eps)
            linear(normed.pointer, layer.wGate, layer.bGate, into: gate.pointer, rows: t, inner: d, cols: ff)
            linear(normed.pointer, layer.wUp, layer.bUp, into: up.pointer, rows: t, inner: d, cols: ff)
            activate(c.activation ?? .silu, gate.pointer, count: t * ff)
            Kernels.multiplyInPlace(gate.pointer, up.pointer, count: t * ff)
            linear(gate.pointer, layer.wDown, layer.bDown, into: x.pointer, rows: t, inner: ff, cols: d, accumulate: true)
        }
        return result
    }
}

/// out[rows, cols] = RMSNorm(x) · weight, leaving x untouched.
func rmsNorm(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, _ weight: FloatTensor, eps: Float) {
    withExtendedLifetime(weight) {
        Kernels.rmsNorm(x, rows: rows, cols: cols, weight: weight.pointer, eps: eps, into: out)
    }
}
