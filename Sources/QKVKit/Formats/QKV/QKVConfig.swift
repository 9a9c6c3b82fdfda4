/// Reads a `ModelConfig` from `qkv.*` metadata and checks it against the tensor directory.
public enum QKVConfig {
    public static func parse(_ metadata: Metadata, tensors: [TensorInfo]) throws(QKVError) -> ModelConfig {
        guard let name = try metadata.string("qkv.architecture") else { throw .missingMetadata(key: "qkv.architecture") }
        guard let architecture = Architecture(rawValue: name) else { throw .unsupportedArchitecture(name) }
        let vocabSize = try required(metadata, "qkv.vocab_size")
        let dim = try required(metadata, "qkv.dim")
        let layerCount = try required(metadata, "qkv.n_layers")
        let headCount = try required(metadata, "qkv.n_heads")
        let kvHeadCount = try optional(metadata, "qkv.n_kv_heads") ?? headCount
        guard headCount % kvHeadCount == 0 else {
            throw .invalidMetadataValue(
                key: "qkv.n_kv_heads", expected: "a divisor of qkv.n_heads (\(headCount))", found: String(kvHeadCount))
        }
        let headDim: Int
        if let explicit = try optional(metadata, "qkv.head_dim") {
            headDim = explicit
        } else {
            guard dim % headCount == 0 else {
                throw .invalidMetadataValue(
                    key: "qkv.head_dim", expected: "present, since qkv.dim (\(dim)) is not divisible by qkv.n_heads (\(headCount))",
                    found: "absent")
            }
            headDim = dim / headCount
        }
        let causal = try metadata.int("qkv.causal") ?? (architecture == .gpt2 || architecture == .llama ? 1 : 0)
        guard causal == 0 || causal == 1 else {
            throw .invalidMetadataValue(key: "qkv.causal", expected: "0 or 1", found: String(causal))
        }
        var config = ModelConfig(
            architecture: architecture, vocabSize: vocabSize, dim: dim, layerCount: layerCount, headCount: headCount,
            kvHeadCount: kvHeadCount, headDim: headDim, maxSequenceLength: try optional(metadata, "qkv.max_seq_len"),
            isCausal: causal == 1)
        config.hiddenDim = try optional(metadata, "qkv.hidden_dim")
        config.normEpsilon = try metadata.double("qkv.norm_eps")
        config.ropeTheta = try metadata.double("qkv.rope_theta")
        config.typeVocabSize = try optional(metadata, "qkv.type_vocab_size")
        config.tiedEmbeddings = (try metadata.int("qkv.tied_embeddings") ?? 0) != 0
        if let tokens = try metadata.strings("tokenizer.tokens"), tokens.count != vocabSize {
            throw .invalidMetadataValue(
                key: "tokenizer.tokens", expected: "\(vocabSize) entries (qkv.vocab_size)", found: "\(tokens.count) entries")
        }
        _ = try metadata.string("general.name")
        try ArchitectureRegistry.validate(config, tensors: tensors)
        return config
    }

    /// A positive i64 that fits comfortably in an Int.
    private static func required(_ metadata: Metadata, _ key: String) throws(QKVError) -> Int {
        guard let value = try optional(metadata, key) else { throw .missingMetadata(key: key) }
        return value
    }

    private static func optional(_ metadata: Metadata, _ key: String) throws(QKVError) -> Int? {
        guard let value = try metadata.int(key) else { return nil }
        guard value >= 1 && value <= Int64(Int32.max) else {
            throw .invalidMetadataValue(key: key, expected: "1...\(Int32.max)", found: String(value))
        }
        return Int(value)
    }
}
