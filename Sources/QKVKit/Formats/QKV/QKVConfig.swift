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
        config.tiedEmbeddings = try flag(metadata, "qkv.tied_embeddings") ?? false
        config.scaleAttention = try flag(metadata, "qkv.scale_attention") ?? true
        config.scaleAttentionByInverseLayer = try flag(metadata, "qkv.scale_attention_by_inverse_layer") ?? false
        config.attentionBias = try flag(metadata, "qkv.attention_bias") ?? false
        config.mlpBias = try flag(metadata, "qkv.mlp_bias") ?? false
        if let name = try metadata.string("qkv.activation") {
            guard let activation = Activation(rawValue: name) else {
                throw .invalidMetadataValue(
                    key: "qkv.activation", expected: Activation.allCases.map(\.rawValue).joined(separator: ", "), found: name)
            }
            config.activation = activation
        }
        if architecture != .attention {
            // The real architectures need their full blueprint; converted files always carry it.
            guard config.hiddenDim != nil else { throw .missingMetadata(key: "qkv.hidden_dim") }
            guard config.maxSequenceLength != nil || architecture == .llama else { throw .missingMetadata(key: "qkv.max_seq_len") }
            if architecture == .bert && config.typeVocabSize == nil { throw .missingMetadata(key: "qkv.type_vocab_size") }
            if architecture == .llama && !config.headDim.isMultiple(of: 2) {
                throw .invalidMetadataValue(key: "qkv.head_dim", expected: "an even number (RoPE)", found: String(config.headDim))
            }
        }
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

    private static func flag(_ metadata: Metadata, _ key: String) throws(QKVError) -> Bool? {
        guard let value = try metadata.int(key) else { return nil }
        guard value == 0 || value == 1 else { throw .invalidMetadataValue(key: key, expected: "0 or 1", found: String(value)) }
        return value == 1
    }

    private static func optional(_ metadata: Metadata, _ key: String) throws(QKVError) -> Int? {
        guard let value = try metadata.int(key) else { return nil }
        guard value >= 1 && value <= Int64(Int32.max) else {
            throw .invalidMetadataValue(key: key, expected: "1...\(Int32.max)", found: String(value))
        }
        return Int(value)
    }
}
