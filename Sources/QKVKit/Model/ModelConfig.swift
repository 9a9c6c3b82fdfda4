/// Which forward pass a model runs. Several architectures share one (Mistral, Qwen2 and Qwen3 are
/// LLaMA wiring with options); `Inference` maps each to its implementation.
public enum Wiring: String, Sendable, CaseIterable, Codable {
    /// The attention-only model of the QKV v1 spec.
    case attentionOnly = "attention"
    /// Post-LN encoder with learned positions (BERT).
    case bert
    /// Pre-LN decoder with learned positions and fused QKV (GPT-2).
    case gpt2
    /// Pre-RMSNorm decoder with rotary positions, grouped-query attention and a gated MLP (LLaMA).
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

/// Which dimensions rotary position embedding pairs up within a head.
public enum RopeLayout: String, Sendable, CaseIterable {
    /// Dimension i with i + head_dim/2 (Hugging Face `rotate_half`, llama.cpp "NEOX").
    case halves
    /// Dimension 2i with 2i + 1 (llama.cpp "NORM" on its permuted LLaMA weights, llama2.c, GPT-J).
    case adjacentPairs = "adjacent"
}

/// Rotary frequencies rescaled for long contexts. Attention is computed with
/// inv_freq[i] = θ^(−2i/h) changed as each case says.
public enum RopeScaling: Sendable, Equatable {
    /// transformers' `rope_type: "llama3"` (Llama 3.1 and later): wavelengths 2π/inv_freq above
    /// `originalContextLength / lowFrequencyFactor` are stretched by `factor`, those below
    /// `originalContextLength / highFrequencyFactor` kept, and those between interpolated smoothly.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContextLength: Int)
    /// Per-pair divisors: inv_freq[i] / factors[i] (llama.cpp's `rope_freqs.weight` in a GGUF file,
    /// which its converter computes from the llama3 parameters; `qkv.rope_frequency_factors`).
    case frequencyFactors([Float])
}

/// The blueprint of a model: sizes and constants, resolved from whatever the file says (every
/// default already applied by the architecture's definition), no weights.
public struct ModelConfig: Sendable, Equatable {
    /// The architecture's registry name (`llama`, `qwen2`, `bert`, …).
    public var architecture: String
    public var wiring: Wiring
    public var vocabSize: Int
    public var dim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    /// Rows of the learned position table, or the context length the model was trained for.
    public var maxSequenceLength: Int?
    public var isCausal: Bool
    /// Width of the feed-forward block (BERT intermediate_size, GPT-2 n_inner, LLaMA intermediate_size).
    public var hiddenDim: Int?
    public var normEpsilon: Double?
    public var ropeTheta: Double?
    public var ropeLayout = RopeLayout.halves
    /// Long-context rescaling of the rotary frequencies (Llama 3.1+); nil for plain RoPE.
    public var ropeScaling: RopeScaling?
    public var typeVocabSize: Int?
    public var tiedEmbeddings: Bool
    /// The MLP nonlinearity (BERT gelu, GPT-2 gelu_new, LLaMA silu).
    public var activation: Activation?
    /// GPT-2 `scale_attn_weights`: false means scores are not divided by sqrt(head_dim).
    public var scaleAttention = true
    /// GPT-2 `scale_attn_by_inverse_layer_idx`: scores of layer i are further divided by i + 1.
    public var scaleAttentionByInverseLayer = false
    /// Biases on the q, k and v projections (LLaMA `attention_bias`, always on in Qwen2).
    public var attentionBias = false
    /// A bias on the output projection (LLaMA `attention_bias`; Qwen2 has none).
    public var outputBias = false
    /// LLaMA `mlp_bias`.
    public var mlpBias = false
    /// RMSNorm over each head of q and k before rotary positions (Qwen3 `q_norm` / `k_norm`).
    public var queryKeyNorm = false
    /// Keys older than this many positions are masked (Mistral `sliding_window`); nil for none.
    public var slidingWindow: Int?
    /// Why `run` cannot run this model although it can be inspected (a rotary scaling qkv does
    /// not implement, say); nil when it can.
    public var unsupported: QKVError?

    public init(
        architecture: String, wiring: Wiring, vocabSize: Int, dim: Int, layerCount: Int, headCount: Int,
        kvHeadCount: Int? = nil, headDim: Int? = nil, maxSequenceLength: Int? = nil, isCausal: Bool = false,
        hiddenDim: Int? = nil, normEpsilon: Double? = nil, ropeTheta: Double? = nil,
        typeVocabSize: Int? = nil, tiedEmbeddings: Bool = false
    ) {
        self.architecture = architecture
        self.wiring = wiring
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
