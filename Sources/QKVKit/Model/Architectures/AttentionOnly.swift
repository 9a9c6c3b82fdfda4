/// The attention-only transformer of the QKV v1 spec (docs/FORMAT.md): embeddings (and optional
/// learned positions), then per layer multi-head attention added to the residual stream.
public enum AttentionOnlyArchitecture: ArchitectureDefinition {
    public static let name = "attention"
    public static let wiring = Wiring.attentionOnly
    public static var huggingFaceNames: TensorNaming { .canonical }

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        let vocabSize = try settings.count(.vocabSize)
        let dim = try settings.count(.dim)
        let layerCount = try settings.count(.layerCount)
        let headCount = try settings.count(.headCount)
        let kvHeadCount = try settings.count(.kvHeadCount, default: headCount)
        guard headCount % kvHeadCount == 0 else {
            throw settings.invalid(
                .kvHeadCount, expected: "a divisor of \(settings.name(.headCount)) (\(headCount))", found: String(kvHeadCount))
        }
        guard let headDim = try settings.optionalCount(.headDim) ?? (dim % headCount == 0 ? dim / headCount : nil) else {
            throw settings.invalid(
                .headDim,
                expected: "present, since \(settings.name(.dim)) (\(dim)) is not divisible by \(settings.name(.headCount)) (\(headCount))",
                found: "absent")
        }
        return ModelConfig(
            architecture: name, wiring: wiring, vocabSize: vocabSize, dim: dim, layerCount: layerCount, headCount: headCount,
            kvHeadCount: kvHeadCount, headDim: headDim, maxSequenceLength: try settings.optionalCount(.maxSequenceLength),
            isCausal: try settings.flag(.causal, default: false))
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] {
        var specs = [TensorSpec("embed", [c.vocabSize, c.dim])]
        if let maxLength = c.maxSequenceLength { specs.append(TensorSpec("pos", [maxLength, c.dim], required: false)) }
        let qWidth = c.headCount * c.headDim
        let kvWidth = c.kvHeadCount * c.headDim
        for i in 0..<c.layerCount {
            specs.append(TensorSpec("layers.\(i).wq", [c.dim, qWidth]))
            specs.append(TensorSpec("layers.\(i).wk", [c.dim, kvWidth]))
            specs.append(TensorSpec("layers.\(i).wv", [c.dim, kvWidth]))
            specs.append(TensorSpec("layers.\(i).wo", [qWidth, c.dim], required: qWidth != c.dim))
        }
        return specs
    }

    /// Positions limit the sequence only when the learned table exists.
    public static func maximumTokens(_ config: ModelConfig, tensors: [TensorInfo]) -> Int? {
        tensors.contains { $0.name == "pos" } ? config.maxSequenceLength : nil
    }

    public static func validate(_ c: ModelConfig, tensors: [String: TensorInfo]) throws(QKVError) {
        if tensors["pos"] != nil && c.maxSequenceLength == nil {
            throw .missingMetadata(key: "qkv.max_seq_len")
        }
        // A layer tensor beyond n_layers means the count and the tensors disagree.
        for name in tensors.keys.sorted() {
            guard let layer = tensors[name]?.layer, layer >= c.layerCount else { continue }
            throw .invalidMetadataValue(
                key: "qkv.n_layers", expected: "at least \(layer + 1) (tensor \(name) exists)", found: String(c.layerCount))
        }
    }
}
