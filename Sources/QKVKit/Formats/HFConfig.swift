import Foundation

/// The subset of a Hugging Face `config.json` that BERT, GPT-2 and LLaMA need, under each family's
/// own key names (GPT-2 says `n_embd` where the others say `hidden_size`).
struct HFConfig: Decodable {
    var modelType: String?
    var architectures: [String]?
    var vocabSize: Int?
    // BERT / LLaMA names
    var hiddenSize: Int?
    var numHiddenLayers: Int?
    var numAttentionHeads: Int?
    var numKeyValueHeads: Int?
    var headDim: Int?
    var intermediateSize: Int?
    var maxPositionEmbeddings: Int?
    var typeVocabSize: Int?
    var layerNormEps: Double?
    var rmsNormEps: Double?
    var hiddenAct: String?
    var positionEmbeddingType: String?
    var ropeTheta: Double?
    var ropeParameters: RopeParameters?
    var ropeScaling: RopeParameters?
    var attentionBias: Bool?
    var mlpBias: Bool?
    var tieWordEmbeddings: Bool?
    // GPT-2 names
    var nEmbd: Int?
    var nLayer: Int?
    var nHead: Int?
    var nInner: Int?
    var nPositions: Int?
    var layerNormEpsilon: Double?
    var activationFunction: String?
    var scaleAttnWeights: Bool?
    var scaleAttnByInverseLayerIdx: Bool?

    struct RopeParameters: Decodable {
        var ropeTheta: Double?
        var ropeType: String?
        var type: String?

        enum CodingKeys: String, CodingKey {
            case ropeTheta = "rope_theta"
            case ropeType = "rope_type"
            case type
        }
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case architectures
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case intermediateSize = "intermediate_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps"
        case rmsNormEps = "rms_norm_eps"
        case hiddenAct = "hidden_act"
        case positionEmbeddingType = "position_embedding_type"
        case ropeTheta = "rope_theta"
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case tieWordEmbeddings = "tie_word_embeddings"
        case nEmbd = "n_embd"
        case nLayer = "n_layer"
        case nHead = "n_head"
        case nInner = "n_inner"
        case nPositions = "n_positions"
        case layerNormEpsilon = "layer_norm_epsilon"
        case activationFunction = "activation_function"
        case scaleAttnWeights = "scale_attn_weights"
        case scaleAttnByInverseLayerIdx = "scale_attn_by_inverse_layer_idx"
    }

    /// Decodes `config.json`; a malformed file is one clear error naming the key.
    static func load(path: String) throws -> HFConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw QKVError.cannotOpen(reason: "cannot read config.json")
        }
        guard data.count <= 16 << 20 else {
            throw QKVError.invalidConfig(key: "config.json", expected: "at most 16 MiB", found: "\(data.count) bytes")
        }
        do {
            return try JSONDecoder().decode(HFConfig.self, from: data)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            throw QKVError.invalidConfig(key: codingPath(context), expected: "\(type)", found: "another type")
        } catch let DecodingError.dataCorrupted(context) {
            throw QKVError.invalidConfig(key: codingPath(context), expected: "valid JSON", found: context.debugDescription)
        } catch {
            throw QKVError.invalidConfig(key: "config.json", expected: "a JSON object", found: String(describing: error))
        }
    }

    private static func codingPath(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "config.json" : context.codingPath.map(\.stringValue).joined(separator: ".")
    }

    /// The `ModelConfig` for this family; every size is required and checked positive.
    func modelConfig() throws -> ModelConfig {
        guard let type = modelType else { throw QKVError.invalidConfig(key: "model_type", expected: "bert, gpt2 or llama", found: "absent") }
        switch type {
        case "bert":
            if let kind = positionEmbeddingType, kind != "absolute" {
                throw QKVError.invalidConfig(key: "position_embedding_type", expected: "absolute", found: kind)
            }
            var config = ModelConfig(
                architecture: .bert, vocabSize: try positive(vocabSize, "vocab_size"), dim: try positive(hiddenSize, "hidden_size"),
                layerCount: try positive(numHiddenLayers, "num_hidden_layers"),
                headCount: try positive(numAttentionHeads, "num_attention_heads"),
                maxSequenceLength: try positive(maxPositionEmbeddings, "max_position_embeddings"), isCausal: false,
                hiddenDim: try positive(intermediateSize, "intermediate_size"), normEpsilon: layerNormEps ?? 1e-12,
                typeVocabSize: try positive(typeVocabSize ?? 2, "type_vocab_size"), tiedEmbeddings: tieWordEmbeddings ?? true)
            config.activation = try activation(hiddenAct ?? "gelu", key: "hidden_act")
            try checkDivisible(config, key: "hidden_size")
            return config
        case "gpt2":
            let dim = try positive(nEmbd, "n_embd")
            var config = ModelConfig(
                architecture: .gpt2, vocabSize: try positive(vocabSize, "vocab_size"), dim: dim,
                layerCount: try positive(nLayer, "n_layer"), headCount: try positive(nHead, "n_head"),
                maxSequenceLength: try positive(nPositions, "n_positions"), isCausal: true,
                hiddenDim: try positive(nInner ?? 4 * dim, "n_inner"), normEpsilon: layerNormEpsilon ?? 1e-5,
                tiedEmbeddings: tieWordEmbeddings ?? true)
            config.activation = try activation(activationFunction ?? "gelu_new", key: "activation_function")
            config.scaleAttention = scaleAttnWeights ?? true
            config.scaleAttentionByInverseLayer = scaleAttnByInverseLayerIdx ?? false
            try checkDivisible(config, key: "n_embd")
            return config
        case "llama":
            if let scaling = ropeScaling, let kind = scaling.ropeType ?? scaling.type, kind != "default" {
                throw QKVError.invalidConfig(key: "rope_scaling", expected: "null or default", found: kind)
            }
            if let kind = ropeParameters?.ropeType, kind != "default" {
                throw QKVError.invalidConfig(key: "rope_parameters.rope_type", expected: "default", found: kind)
            }
            let dim = try positive(hiddenSize, "hidden_size")
            let heads = try positive(numAttentionHeads, "num_attention_heads")
            var config = ModelConfig(
                architecture: .llama, vocabSize: try positive(vocabSize, "vocab_size"), dim: dim,
                layerCount: try positive(numHiddenLayers, "num_hidden_layers"), headCount: heads,
                kvHeadCount: try positive(numKeyValueHeads ?? heads, "num_key_value_heads"),
                headDim: try positive(headDim ?? (dim % heads == 0 ? dim / heads : nil), "head_dim"),
                maxSequenceLength: try positive(maxPositionEmbeddings ?? 2048, "max_position_embeddings"), isCausal: true,
                hiddenDim: try positive(intermediateSize, "intermediate_size"), normEpsilon: rmsNormEps ?? 1e-6,
                ropeTheta: ropeParameters?.ropeTheta ?? ropeTheta ?? 10000, tiedEmbeddings: tieWordEmbeddings ?? false)
            config.activation = try activation(hiddenAct ?? "silu", key: "hidden_act")
            config.attentionBias = attentionBias ?? false
            config.mlpBias = mlpBias ?? false
            guard config.headCount % config.kvHeadCount == 0 else {
                throw QKVError.invalidConfig(
                    key: "num_key_value_heads", expected: "a divisor of num_attention_heads (\(heads))", found: String(config.kvHeadCount))
            }
            guard config.headDim % 2 == 0 else { throw QKVError.invalidConfig(key: "head_dim", expected: "an even number (RoPE)", found: String(config.headDim)) }
            return config
        default:
            throw QKVError.invalidConfig(key: "model_type", expected: "bert, gpt2 or llama", found: type)
        }
    }

    private func positive(_ value: Int?, _ key: String) throws(QKVError) -> Int {
        guard let value else { throw QKVError.invalidConfig(key: key, expected: "a positive integer", found: "absent") }
        guard value >= 1 && value <= Int(Int32.max) else {
            throw QKVError.invalidConfig(key: key, expected: "1...\(Int32.max)", found: String(value))
        }
        return value
    }

    private func checkDivisible(_ config: ModelConfig, key: String) throws(QKVError) {
        guard config.dim % config.headCount == 0 else {
            throw QKVError.invalidConfig(key: key, expected: "a multiple of the head count (\(config.headCount))", found: String(config.dim))
        }
    }

    private func activation(_ name: String, key: String) throws(QKVError) -> Activation {
        guard let activation = Activation(rawValue: name) else {
            throw QKVError.invalidConfig(key: key, expected: Activation.allCases.map(\.rawValue).joined(separator: ", "), found: name)
        }
        return activation
    }
}
