/// The architectures qkv can run.
public enum Architecture: String, Sendable, CaseIterable, Codable {
    /// The attention-only model of the QKV v1 spec.
    case attention
    case bert
    case gpt2
    case llama
}

/// MLP nonlinearities, by their Hugging Face names.
public enum Activation: String, Sendable, CaseIterable {
    /// Exact: 0.5 x (1 + erf(x / sqrt 2)).
    case gelu
    /// The tanh approximation (GPT-2's NewGELUActivation).
    case geluNew = "gelu_new"
    case geluPytorchTanh = "gelu_pytorch_tanh"
    case silu
    case relu
}

/// The blueprint of a model: sizes and constants, no weights.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    public var vocabSize: Int
    public var dim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    /// Rows of the learned position table, when the model has one.
    public var maxSequenceLength: Int?
    public var isCausal: Bool
    /// Width of the feed-forward block (BERT intermediate_size, GPT-2 n_inner, LLaMA intermediate_size).
    public var hiddenDim: Int?
    public var normEpsilon: Double?
    public var ropeTheta: Double?
    public var typeVocabSize: Int?
    public var tiedEmbeddings: Bool
    /// The MLP nonlinearity (BERT gelu, GPT-2 gelu_new, LLaMA silu).
    public var activation: Activation?
    /// GPT-2 `scale_attn_weights`: false means scores are not divided by sqrt(head_dim).
    public var scaleAttention = true
    /// GPT-2 `scale_attn_by_inverse_layer_idx`: scores of layer i are further divided by i + 1.
    public var scaleAttentionByInverseLayer = false
    /// LLaMA `attention_bias` / `mlp_bias`.
    public var attentionBias = false
    public var mlpBias = false

    public init(
        architecture: Architecture, vocabSize: Int, dim: Int, layerCount: Int, headCount: Int,
        kvHeadCount: Int? = nil, headDim: Int? = nil, maxSequenceLength: Int? = nil, isCausal: Bool = false,
        hiddenDim: Int? = nil, normEpsilon: Double? = nil, ropeTheta: Double? = nil,
        typeVocabSize: Int? = nil, tiedEmbeddings: Bool = false
    ) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.dim = dim
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount ?? headCount
        self.headDim = headDim ?? (headCount > 0 ? dim / headCount : 0)
        self.maxSequenceLength = maxSequenceLength
        self.isCausal = isCausal
        self.hiddenDim = hiddenDim
        self.normEpsilon = normEpsilon
        self.ropeTheta = ropeTheta
        self.typeVocabSize = typeVocabSize
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Query heads that share one key/value head.
    public var groupSize: Int { headCount / kvHeadCount }
}
