/// BERT (`BertModel`, or the `bert.` part of `BertFor*`): post-LN encoder, learned absolute
/// positions, token type 0, full attention (transformers' models/bert).
public enum BERTArchitecture: ArchitectureDefinition {
    public static let name = "bert"
    public static let wiring = Wiring.bert

    // transformers' BertConfig defaults.
    static let defaultNormEpsilon = 1e-12
    static let defaultTypeVocabSize = 2
    static let defaultActivation = Activation.gelu

    public static let huggingFaceNames = TensorNaming(
        prefixes: ["bert."], layerPrefixes: ["encoder.layer."],
        layerNames: Dictionary(uniqueKeysWithValues:
            TensorNaming.linear("attention.self.query", "wq", "bq") + TensorNaming.linear("attention.self.key", "wk", "bk")
            + TensorNaming.linear("attention.self.value", "wv", "bv") + TensorNaming.linear("attention.output.dense", "wo", "bo")
            + TensorNaming.norm("attention.output.LayerNorm", "attn_norm") + TensorNaming.linear("intermediate.dense", "w_up", "b_up")
            + TensorNaming.linear("output.dense", "w_down", "b_down") + TensorNaming.norm("output.LayerNorm", "ffn_norm")),
        globalNames: Dictionary(uniqueKeysWithValues:
            [("embeddings.word_embeddings.weight", "embed"), ("embeddings.position_embeddings.weight", "pos"),
             ("embeddings.token_type_embeddings.weight", "token_type")]
            + TensorNaming.norm("embeddings.LayerNorm", "embed_norm") + TensorNaming.linear("pooler.dense", "pooler.weight", "pooler.bias")),
        embeddingComponents: ["embeddings"])

    public static func configuration(_ settings: ConfigSettings, context: ConfigContext) throws(QKVError) -> ModelConfig {
        let normEpsilon = ConfigKey.normEpsilon.huggingFace("layer_norm_eps")
        var config = ModelConfig(
            architecture: name, wiring: wiring, vocabSize: try settings.count(.vocabSize), dim: try settings.count(.dim),
            layerCount: try settings.count(.layerCount), headCount: try settings.count(.headCount),
            maxSequenceLength: try settings.count(.maxSequenceLength), isCausal: false,
            hiddenDim: try settings.count(.hiddenDim), normEpsilon: try settings.number(normEpsilon, default: defaultNormEpsilon),
            typeVocabSize: try settings.count(.typeVocabSize, default: defaultTypeVocabSize),
            tiedEmbeddings: try settings.flag(.tiedEmbeddings, default: true))
        config.activation = try settings.choice(.activation, default: defaultActivation)
        guard config.dim % config.headCount == 0 else {
            throw settings.invalid(.dim, expected: "a multiple of the head count (\(config.headCount))", found: String(config.dim))
        }
        // transformers 5 implements absolute positions only.
        if let kind = settings.huggingFaceValue("position_embedding_type"), kind != .string("absolute") {
            config.unsupported = .invalidConfig(key: "position_embedding_type", expected: "absolute", found: kind.rendered())
        }
        return config
    }

    public static func expectedTensors(_ c: ModelConfig) -> [TensorSpec] {
        let d = c.dim
        let ff = c.hiddenDim ?? 0
        var specs = [
            TensorSpec("embed", [c.vocabSize, d]), TensorSpec("pos", [c.maxSequenceLength ?? 0, d]),
            TensorSpec("token_type", [c.typeVocabSize ?? 0, d]),
            TensorSpec("embed_norm.weight", [d]), TensorSpec("embed_norm.bias", [d]),
            TensorSpec("pooler.weight", [d, d], required: false), TensorSpec("pooler.bias", [d], required: false),
        ]
        for i in 0..<c.layerCount {
            let p = "layers.\(i)."
            for name in ["wq", "wk", "wv", "wo"] { specs.append(TensorSpec(p + name, [d, d])) }
            for name in ["bq", "bk", "bv", "bo"] { specs.append(TensorSpec(p + name, [d])) }
            specs += [
                TensorSpec(p + "attn_norm.weight", [d]), TensorSpec(p + "attn_norm.bias", [d]),
                TensorSpec(p + "w_up", [ff, d]), TensorSpec(p + "b_up", [ff]),
                TensorSpec(p + "w_down", [d, ff]), TensorSpec(p + "b_down", [d]),
                TensorSpec(p + "ffn_norm.weight", [d]), TensorSpec(p + "ffn_norm.bias", [d]),
            ]
        }
        return specs
    }
}
