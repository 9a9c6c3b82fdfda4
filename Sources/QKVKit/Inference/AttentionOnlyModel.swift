/// The attention-only transformer of the QKV v1 spec: embeddings, then per layer multi-head
/// attention added to the residual stream. No norms, no MLP.
///
/// It computes in Float64: the spec lets weights be extreme but finite, and Float64 keeps such
/// logits finite where Float32 would overflow. The model is tiny, so precision costs nothing here.
public struct AttentionOnlyModel: TransformerModel {
    public let config: ModelConfig
    let weights: Weights
    /// Threads every forward pass may use.
    let threads: Int

    /// Weights as Float64, x·W orientation (rows = input features).
    struct Weights: Sendable {
        var embed: [Double]  // (vocab_size, dim)
        var pos: [Double]?  // (max_seq_len, dim)
        var wq: [[Double]]  // (layer, dim, n_heads * head_dim)
        var wk: [[Double]]  // (layer, dim, n_kv_heads * head_dim)
        var wv: [[Double]]  // (layer, dim, n_kv_heads * head_dim)
        var wo: [[Double]?]  // (layer, n_heads * head_dim, dim), absent when n_heads * head_dim == dim
    }

    init(config c: ModelConfig, loading w: WeightLoader) throws {
        func doubles(_ name: String) throws -> [Double] {
            try w(name).withUnsafeBufferPointer { $0.map(Double.init) }
        }
        weights = Weights(
            embed: try doubles("embed"),
            pos: w.checkpoint.hasTensor("pos") ? try doubles("pos") : nil,
            wq: try (0..<c.layerCount).map { try doubles("layers.\($0).wq") },
            wk: try (0..<c.layerCount).map { try doubles("layers.\($0).wk") },
            wv: try (0..<c.layerCount).map { try doubles("layers.\($0).wv") },
            wo: try (0..<c.layerCount).map { i in
                w.checkpoint.hasTensor("layers.\(i).wo") ? try doubles("layers.\(i).wo") : nil
            })
        config = c
        threads = w.threads
    }

    public func attention(tokens: [Int], layers: [Int]) throws -> [LayerAttention] {
        let c = config
        let t = tokens.count
        let qWidth = c.headCount * c.headDim
        let kvWidth = c.kvHeadCount * c.headDim
        let wanted = Set(layers)
        guard let lastLayer = layers.max() else { return [] }
        // Run state: the residual stream and per-layer scratch.
        var x = [Double](repeating: 0, count: t * c.dim)  // (T, dim)
        var q = [Double](repeating: 0, count: t * qWidth)  // (T, n_heads * head_dim)
        var k = [Double](repeating: 0, count: t * kvWidth)  // (T, n_kv_heads * head_dim)
        var v = [Double](repeating: 0, count: t * kvWidth)
        var o = [Double](repeating: 0, count: t * qWidth)  // (T, n_heads * head_dim)
        var delta = [Double](repeating: 0, count: t * c.dim)  // (T, dim)
        var probabilities = [Double](repeating: 0, count: c.headCount * t * t)  // (n_heads, T, T)
        var result: [LayerAttention] = []

        // 1. Token embeddings, plus learned positions when the file has them.
        for (p, token) in tokens.enumerated() {
            for d in 0..<c.dim {
                x[p * c.dim + d] = weights.embed[token * c.dim + d] + (weights.pos?[p * c.dim + d] ?? 0)
            }
        }
        for layer in 0...lastLayer {
            // 2. Projections Q = X·Wq, K = X·Wk, V = X·Wv.
            matmulDouble(x, weights.wq[layer], into: &q, rows: t, inner: c.dim, columns: qWidth)
            matmulDouble(x, weights.wk[layer], into: &k, rows: t, inner: c.dim, columns: kvWidth)
            matmulDouble(x, weights.wv[layer], into: &v, rows: t, inner: c.dim, columns: kvWidth)
            // 3. Softmax(Q_h K_g^T / sqrt(head_dim)) per head, and O_h = A_h V_g.
            let shape = AttentionShape(
                tokens: t, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim, causal: c.isCausal,
                qStride: qWidth, kvStride: kvWidth)
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        probabilities.withUnsafeMutableBufferPointer { ap in
                            o.withUnsafeMutableBufferPointer { op in
                                multiHeadAttention(
                                    q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, shape: shape,
                                    scale: 1 / Double(c.headDim).squareRoot(),
                                    probabilities: ap.baseAddress!, output: op.baseAddress!, threads: threads)
                            }
                        }
                    }
                }
            }
            if wanted.contains(layer) {
                result.append(try layerAttention(layer: layer, tokens: t, probabilities: probabilities))
            }
            // 4. Output projection (when present) and the residual add.
            if let wo = weights.wo[layer] {
                matmulDouble(o, wo, into: &delta, rows: t, inner: qWidth, columns: c.dim)
                for i in 0..<x.count { x[i] += delta[i] }
            } else {
                for i in 0..<x.count { x[i] += o[i] }
            }
        }
        return result
    }

    private func layerAttention(layer: Int, tokens t: Int, probabilities: [Double]) throws(QKVError) -> LayerAttention {
        var heads: [[Float]] = []
        for h in 0..<config.headCount {
            let slice = probabilities[(h * t * t)..<((h + 1) * t * t)]
            guard slice.allSatisfy({ $0.isFinite }) else { throw .nonFiniteAttention(layer: layer, head: h) }
            heads.append(slice.map { Float($0) })
        }
        return LayerAttention(layer: layer, tokenCount: t, heads: heads)
    }
}

/// out[rows, columns] = a[rows, inner] · b[inner, columns], in Float64.
private func matmulDouble(_ a: [Double], _ b: [Double], into out: inout [Double], rows: Int, inner: Int, columns: Int) {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows {
                    let row = out.baseAddress! + r * columns
                    row.initialize(repeating: 0, count: columns)
                    for i in 0..<inner {
                        let scale = a[r * inner + i]
                        let bRow = b.baseAddress! + i * columns
                        for j in 0..<columns { row[j] += scale * bRow[j] }
                    }
                }
            }
        }
    }
}
