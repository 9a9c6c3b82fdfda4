/// Writes any readable checkpoint as QKV v1: canonical tensor names, the config as `qkv.*`
/// metadata, and the vocabulary as `tokenizer.tokens`.
public struct QKVConverter {
    public var dtype: DType = .f32
    public var encoding: TensorEncoding = .raw
    public var wrap: DeflateContainer?

    public init(dtype: DType = .f32, encoding: TensorEncoding = .raw, wrap: DeflateContainer? = nil) {
        self.dtype = dtype
        self.encoding = encoding
        self.wrap = wrap
    }

    /// What was written and what was left out.
    public struct Summary: Sendable {
        public var tensorCount: Int
        public var parameters: Int
        /// Integer buffers (such as `position_ids`), which QKV does not store: they are not parameters.
        public var skippedBuffers: [String]
        public var bytes: Int
        /// The source's tokenizer when QKV v1 cannot keep it (a GGUF or llama2.c tokenizer: QKV keeps
        /// a Hugging Face `tokenizer.json` only), so the written file's `--text` splits on whitespace
        /// over `tokenizer.tokens` instead; nil when the tokenizer was kept or there was none.
        public var tokenizerNotKept: String?
    }

    /// The QKV bytes for `checkpoint`; `progress` receives (tensors done, tensors total).
    public func convert(
        _ checkpoint: Checkpoint, threads: Int = ThreadCount.automatic, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> (bytes: [UInt8], summary: Summary) {
        let parameters = checkpoint.tensors.filter(\.isParameter)
        var written: [QKVWriter.Tensor] = []
        for (index, info) in parameters.enumerated() {
            // Canonical names when the architecture knows the tensor; others keep their stored name.
            let values = try checkpoint.floats(info.name, verify: true, threads: threads).values
            written.append(QKVWriter.Tensor(info.name, shape: info.shape, values: values, dtype: dtype, encoding: encoding))
            progress(index + 1, parameters.count)
        }
        var metadata = Self.metadata(for: checkpoint)
        if let json = try checkpoint.tokenizerJSONText() { metadata[QKVFile.tokenizerJSONKey] = .string(json) }
        var tokenizerNotKept: String?
        switch try checkpoint.container.tokenizerSource() {
        case .gguf?: tokenizerNotKept = "the GGUF tokenizer (tokenizer.ggml.*)"
        case .llama2c?: tokenizerNotKept = "the llama2.c tokenizer.bin"
        case .wordPieceVocabulary?: tokenizerNotKept = "the WordPiece vocab.txt"
        case .huggingFaceJSONFile?, .huggingFaceJSON?, .tokenList?, nil: break
        }
        let writer = QKVWriter(metadata: metadata, tensors: written)
        try writer.validate()
        let bytes = writer.bytes(wrap: wrap)
        let summary = Summary(
            tensorCount: written.count, parameters: parameters.reduce(0) { $0 + $1.elementCount },
            skippedBuffers: checkpoint.tensors.filter { !$0.isParameter }.map(\.storedName), bytes: bytes.count,
            tokenizerNotKept: tokenizerNotKept)
        return (bytes, summary)
    }

    /// The config as the `qkv.*` keys of docs/FORMAT.md; an architecture qkv does not know keeps
    /// its name (`qkv.architecture`) and nothing else.
    static func metadata(for checkpoint: Checkpoint) -> Metadata {
        var metadata = Metadata()
        if let name = try? checkpoint.metadata.string("general.name") { metadata["general.name"] = .string(name) }
        guard let c = checkpoint.config else {
            metadata["qkv.architecture"] = .string(checkpoint.architectureName ?? "unknown")
            return metadata
        }
        metadata["qkv.architecture"] = .string(c.architecture)
        metadata["qkv.vocab_size"] = .int(Int64(c.vocabSize))
        metadata["qkv.dim"] = .int(Int64(c.dim))
        metadata["qkv.n_layers"] = .int(Int64(c.layerCount))
        metadata["qkv.n_heads"] = .int(Int64(c.headCount))
        metadata["qkv.n_kv_heads"] = .int(Int64(c.kvHeadCount))
        metadata["qkv.head_dim"] = .int(Int64(c.headDim))
        if let maxLength = c.maxSequenceLength { metadata["qkv.max_seq_len"] = .int(Int64(maxLength)) }
        metadata["qkv.causal"] = .int(c.isCausal ? 1 : 0)
        if c.wiring != .attentionOnly {
            if let hidden = c.hiddenDim { metadata["qkv.hidden_dim"] = .int(Int64(hidden)) }
            if let eps = c.normEpsilon { metadata["qkv.norm_eps"] = .double(eps) }
            if let theta = c.ropeTheta { metadata["qkv.rope_theta"] = .double(theta) }
            if c.wiring == .llama { metadata["qkv.rope_layout"] = .string(c.ropeLayout.rawValue) }
            if let types = c.typeVocabSize { metadata["qkv.type_vocab_size"] = .int(Int64(types)) }
            if let activation = c.activation { metadata["qkv.activation"] = .string(activation.rawValue) }
            metadata["qkv.tied_embeddings"] = .int(c.tiedEmbeddings ? 1 : 0)
            metadata["qkv.scale_attention"] = .int(c.scaleAttention ? 1 : 0)
            metadata["qkv.scale_attention_by_inverse_layer"] = .int(c.scaleAttentionByInverseLayer ? 1 : 0)
            metadata["qkv.attention_bias"] = .int(c.attentionBias ? 1 : 0)
            metadata["qkv.output_bias"] = .int(c.outputBias ? 1 : 0)
            metadata["qkv.mlp_bias"] = .int(c.mlpBias ? 1 : 0)
            metadata["qkv.qk_norm"] = .int(c.queryKeyNorm ? 1 : 0)
            if let window = c.slidingWindow { metadata["qkv.sliding_window"] = .int(Int64(window)) }
            switch c.ropeScaling {
            case nil: break
            case let .llama3(factor, low, high, original):
                metadata["qkv.rope_scaling"] = .string("llama3")
                metadata["qkv.rope_scaling_factor"] = .double(factor)
                metadata["qkv.rope_low_freq_factor"] = .double(low)
                metadata["qkv.rope_high_freq_factor"] = .double(high)
                metadata["qkv.rope_original_max_seq_len"] = .int(Int64(original))
            case let .frequencyFactors(factors):
                metadata["qkv.rope_frequency_factors"] = .floats(factors)
            }
        }
        if let vocabulary = checkpoint.vocabulary { metadata["tokenizer.tokens"] = .strings(vocabulary) }
        return metadata
    }
}
