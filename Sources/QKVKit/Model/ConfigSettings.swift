/// One setting as each source spells it: Hugging Face `config.json` keys (alternatives in order,
/// dotted for nested objects), QKV's `qkv.*` key, and the GGUF key after `{arch}.`.
///
/// The spellings shared by every architecture are defined once here; an architecture whose
/// config.json says it differently overrides the Hugging Face spelling in its own file
/// (GPT-2: `.dim.huggingFace("n_embd")`).
public struct ConfigKey: Sendable {
    public var huggingFace: [String]
    public var qkv: String?
    public var gguf: String?

    public init(huggingFace: [String], qkv: String?, gguf: String?) {
        self.huggingFace = huggingFace
        self.qkv = qkv
        self.gguf = gguf
    }

    /// The same setting under other config.json keys.
    public func huggingFace(_ keys: String...) -> ConfigKey {
        ConfigKey(huggingFace: keys, qkv: qkv, gguf: gguf)
    }

    public static let vocabSize = ConfigKey(huggingFace: ["vocab_size"], qkv: "qkv.vocab_size", gguf: "vocab_size")
    public static let dim = ConfigKey(huggingFace: ["hidden_size"], qkv: "qkv.dim", gguf: "embedding_length")
    public static let layerCount = ConfigKey(huggingFace: ["num_hidden_layers"], qkv: "qkv.n_layers", gguf: "block_count")
    public static let headCount = ConfigKey(huggingFace: ["num_attention_heads"], qkv: "qkv.n_heads", gguf: "attention.head_count")
    public static let kvHeadCount = ConfigKey(
        huggingFace: ["num_key_value_heads"], qkv: "qkv.n_kv_heads", gguf: "attention.head_count_kv")
    public static let headDim = ConfigKey(huggingFace: ["head_dim"], qkv: "qkv.head_dim", gguf: "attention.key_length")
    public static let valueHeadDim = ConfigKey(huggingFace: [], qkv: nil, gguf: "attention.value_length")
    public static let hiddenDim = ConfigKey(huggingFace: ["intermediate_size"], qkv: "qkv.hidden_dim", gguf: "feed_forward_length")
    public static let maxSequenceLength = ConfigKey(
        huggingFace: ["max_position_embeddings"], qkv: "qkv.max_seq_len", gguf: "context_length")
    public static let normEpsilon = ConfigKey(
        huggingFace: ["rms_norm_eps"], qkv: "qkv.norm_eps", gguf: "attention.layer_norm_rms_epsilon")
    public static let ropeTheta = ConfigKey(
        huggingFace: ["rope_parameters.rope_theta", "rope_theta"], qkv: "qkv.rope_theta", gguf: "rope.freq_base")
    public static let ropeDimensions = ConfigKey(huggingFace: [], qkv: nil, gguf: "rope.dimension_count")
    public static let ropeLayout = ConfigKey(huggingFace: [], qkv: "qkv.rope_layout", gguf: nil)
    public static let typeVocabSize = ConfigKey(huggingFace: ["type_vocab_size"], qkv: "qkv.type_vocab_size", gguf: nil)
    public static let tiedEmbeddings = ConfigKey(huggingFace: ["tie_word_embeddings"], qkv: "qkv.tied_embeddings", gguf: nil)
    public static let activation = ConfigKey(huggingFace: ["hidden_act"], qkv: "qkv.activation", gguf: nil)
    public static let causal = ConfigKey(huggingFace: [], qkv: "qkv.causal", gguf: nil)
    public static let scaleAttention = ConfigKey(huggingFace: ["scale_attn_weights"], qkv: "qkv.scale_attention", gguf: nil)
    public static let scaleAttentionByInverseLayer = ConfigKey(
        huggingFace: ["scale_attn_by_inverse_layer_idx"], qkv: "qkv.scale_attention_by_inverse_layer", gguf: nil)
    public static let attentionBias = ConfigKey(huggingFace: ["attention_bias"], qkv: "qkv.attention_bias", gguf: nil)
    public static let outputBias = ConfigKey(huggingFace: [], qkv: "qkv.output_bias", gguf: nil)
    public static let mlpBias = ConfigKey(huggingFace: ["mlp_bias"], qkv: "qkv.mlp_bias", gguf: nil)
    public static let queryKeyNorm = ConfigKey(huggingFace: [], qkv: "qkv.qk_norm", gguf: nil)
    public static let slidingWindow = ConfigKey(
        huggingFace: ["sliding_window"], qkv: "qkv.sliding_window", gguf: "attention.sliding_window")
}

/// Typed reads of a model's settings from any source, with errors that name the key as that
/// source spells it: `hidden_size: expected …` for config.json, `metadata "qkv.dim": …` for QKV,
/// `metadata "llama.embedding_length": …` for GGUF.
public struct ConfigSettings {
    public let source: SettingsSource

    public init(_ source: SettingsSource) {
        self.source = source
    }

    /// Largest size qkv accepts for any count (heads, layers, widths): a bound on allocations.
    public static let maximumCount = Int(Int32.max)

    /// How this source spells `key` (the first Hugging Face alternative).
    public func name(_ key: ConfigKey) -> String {
        switch source {
        case .huggingFace: key.huggingFace.first ?? "?"
        case .qkv: key.qkv ?? "?"
        case let .gguf(_, architecture): "\(architecture).\(key.gguf ?? "?")"
        case .none: "?"
        }
    }

    /// An error about a value of `key` that breaks a rule across settings.
    public func invalid(_ key: ConfigKey, expected: String, found: String) -> QKVError {
        switch source {
        case .huggingFace: .invalidConfig(key: name(key), expected: expected, found: found)
        default: .invalidMetadataValue(key: name(key), expected: expected, found: found)
        }
    }

    private func missing(_ key: ConfigKey, expected: String) -> QKVError {
        switch source {
        case .huggingFace: .invalidConfig(key: name(key), expected: expected, found: "absent")
        default: .missingMetadata(key: name(key))
        }
    }

    /// The raw value of `key` in this source, with the key it was found under; JSON null counts as absent.
    private enum Found {
        case json(StrictJSON.Value, key: String)
        case metadata(String)
    }

    private func find(_ key: ConfigKey) -> Found? {
        switch source {
        case let .huggingFace(root, _):
            for spelling in key.huggingFace {
                var value: StrictJSON.Value? = root
                for part in spelling.split(separator: ".") { value = value?[String(part)] }
                if let value, value != .null { return .json(value, key: spelling) }
            }
            return nil
        case let .qkv(metadata):
            guard let name = key.qkv, metadata[name] != nil else { return nil }
            return .metadata(name)
        case let .gguf(metadata, architecture):
            guard let suffix = key.gguf, metadata["\(architecture).\(suffix)"] != nil else { return nil }
            return .metadata("\(architecture).\(suffix)")
        case .none:
            return nil
        }
    }

    private var metadata: Metadata {
        switch source {
        case let .qkv(metadata), let .gguf(metadata, _): metadata
        default: Metadata()
        }
    }

    public func contains(_ key: ConfigKey) -> Bool { find(key) != nil }

    /// A positive count in 1...2³¹−1; `default` when absent, an error when absent without one.
    public func count(_ key: ConfigKey, default fallback: Int? = nil) throws(QKVError) -> Int {
        guard let value = try optionalCount(key) ?? fallback else { throw missing(key, expected: "a positive integer") }
        return value
    }

    /// A positive count in 1...2³¹−1, or nil when absent.
    public func optionalCount(_ key: ConfigKey) throws(QKVError) -> Int? {
        guard let found = find(key) else { return nil }
        let number: Int64
        let spelling: String
        switch found {
        case let .json(value, name):
            spelling = name
            guard let integer = Self.integer(value) else {
                throw .invalidConfig(key: name, expected: "a positive integer", found: value.rendered())
            }
            number = integer
        case let .metadata(name):
            spelling = name
            do {
                number = try metadata.int(name)!
            } catch {
                // GGUF has eight integer types, all read as i64: say "an integer", not "i64".
                if isGGUF, case let .wrongMetadataType(key, _, found) = error {
                    throw .wrongMetadataType(key: key, expected: "an integer", found: found)
                }
                throw error
            }
        }
        guard number >= 1 && number <= Int64(Self.maximumCount) else {
            switch source {
            case .huggingFace: throw .invalidConfig(key: spelling, expected: "1...\(Self.maximumCount)", found: String(number))
            default: throw .invalidMetadataValue(key: spelling, expected: "1...\(Self.maximumCount)", found: String(number))
            }
        }
        return Int(number)
    }

    /// A JSON integer literal, or a number with an integral value (`32.0`), as Int64.
    private static func integer(_ value: StrictJSON.Value) -> Int64? {
        if let integer = value.integer { return Int64(integer) }
        guard let double = value.double, double.rounded() == double, abs(double) < 9e15 else { return nil }
        return Int64(double)
    }

    /// A finite number, or `default` when absent.
    public func number(_ key: ConfigKey, default fallback: Double? = nil) throws(QKVError) -> Double? {
        guard let found = find(key) else { return fallback }
        let value: Double
        switch found {
        case let .json(json, name):
            guard let number = json.double else { throw .invalidConfig(key: name, expected: "a number", found: json.rendered()) }
            value = number
        case let .metadata(name):
            value = try metadata.double(name)!
        }
        guard value.isFinite else { throw invalid(key, expected: "a finite number", found: String(value)) }
        return value
    }

    /// A boolean (QKV: i64 0 or 1), or `default` when absent.
    public func flag(_ key: ConfigKey, default fallback: Bool) throws(QKVError) -> Bool {
        guard let found = find(key) else { return fallback }
        switch found {
        case let .json(json, name):
            guard case let .bool(value) = json else { throw .invalidConfig(key: name, expected: "true or false", found: json.rendered()) }
            return value
        case let .metadata(name):
            return try metadata.bool(name)!
        }
    }

    /// A string, or nil when absent.
    public func text(_ key: ConfigKey) throws(QKVError) -> String? {
        guard let found = find(key) else { return nil }
        switch found {
        case let .json(json, name):
            guard let value = json.string else { throw .invalidConfig(key: name, expected: "a string", found: json.rendered()) }
            return value
        case let .metadata(name):
            return try metadata.string(name)!
        }
    }

    /// One of a string enumeration's values, or `default` when absent.
    public func choice<Value: RawRepresentable & CaseIterable>(
        _ key: ConfigKey, default fallback: Value
    ) throws(QKVError) -> Value where Value.RawValue == String {
        guard let name = try text(key) else { return fallback }
        guard let value = Value(rawValue: name) else {
            throw invalid(key, expected: Value.allCases.map(\.rawValue).joined(separator: ", "), found: name)
        }
        return value
    }

    /// A config.json value by dotted path, for settings only config.json has (rope_scaling).
    public func huggingFaceValue(_ path: String) -> StrictJSON.Value? {
        guard case let .huggingFace(root, _) = source else { return nil }
        var value: StrictJSON.Value? = root
        for part in path.split(separator: ".") { value = value?[String(part)] }
        return value == .null ? nil : value
    }

    /// Whether the settings come from a GGUF file (whose defaults follow llama.cpp).
    public var isGGUF: Bool {
        if case .gguf = source { return true }
        return false
    }
}
