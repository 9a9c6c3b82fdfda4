import Foundation
import Testing
@testable import QKVKit

/// Config resolution and tensor naming, unit by unit: the same model described by config.json,
/// by `qkv.*` metadata and by GGUF metadata resolves to the same config; defaults apply once;
/// errors name the key as each source spells it.
@Suite struct ArchitectureConfigTests {
    static func json(_ text: String) throws -> SettingsSource {
        .huggingFace(try StrictJSON.parse(Array(text.utf8), what: "config.json"), file: "config.json")
    }

    static var context: ConfigContext { ConfigContext(shapes: [:], tokenCount: nil) }

    /// One LLaMA described three ways.
    @Test func oneModelThreeSources() throws {
        let hf = try Self.json(#"""
            {"model_type": "llama", "vocab_size": 60, "hidden_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48,
             "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 64}
            """#)
        let qkv = SettingsSource.qkv(Metadata([
            ("qkv.vocab_size", .int(60)), ("qkv.dim", .int(32)), ("qkv.n_layers", .int(2)), ("qkv.n_heads", .int(4)),
            ("qkv.n_kv_heads", .int(2)), ("qkv.hidden_dim", .int(48)), ("qkv.norm_eps", .double(1e-5)),
            ("qkv.rope_theta", .double(500000)), ("qkv.max_seq_len", .int(64)),
        ]))
        let gguf = SettingsSource.gguf(Metadata([
            ("llama.vocab_size", .int(60)), ("llama.embedding_length", .int(32)), ("llama.block_count", .int(2)),
            ("llama.attention.head_count", .int(4)), ("llama.attention.head_count_kv", .int(2)),
            ("llama.feed_forward_length", .int(48)), ("llama.attention.layer_norm_rms_epsilon", .double(1e-5)),
            ("llama.rope.freq_base", .double(500000)), ("llama.context_length", .int(64)),
        ]), architecture: "llama")
        // GGUF ties the head by leaving output.weight out: give it one, so all three are untied.
        let withHead = ConfigContext(shapes: ["lm_head": [60, 32]], tokenCount: nil)
        let fromHF = try LlamaArchitecture.configuration(ConfigSettings(hf), context: Self.context)
        let fromQKV = try LlamaArchitecture.configuration(ConfigSettings(qkv), context: Self.context)
        var fromGGUF = try LlamaArchitecture.configuration(ConfigSettings(gguf), context: withHead)
        #expect(fromHF == fromQKV)
        #expect(fromGGUF.ropeLayout == .adjacentPairs)  // llama.cpp permuted q and k
        fromGGUF.ropeLayout = .halves
        #expect(fromHF == fromGGUF)
        #expect(fromHF.headDim == 8 && fromHF.kvHeadCount == 2 && fromHF.activation == .silu && !fromHF.tiedEmbeddings)
    }

    /// Each architecture's defaults, from a config that leaves them out.
    @Test func defaultsComeFromTheArchitecture() throws {
        let sizes = #""vocab_size": 60, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48"#
        let llama = try LlamaArchitecture.configuration(ConfigSettings(try Self.json("{\(sizes)}")), context: Self.context)
        #expect(llama.normEpsilon == 1e-6 && llama.ropeTheta == 10000 && llama.maxSequenceLength == 2048 && llama.headDim == 8)
        #expect(!llama.attentionBias && !llama.outputBias && !llama.queryKeyNorm && llama.slidingWindow == nil)
        let qwen2 = try Qwen2Architecture.configuration(ConfigSettings(try Self.json("{\(sizes)}")), context: Self.context)
        #expect(qwen2.attentionBias && !qwen2.outputBias && qwen2.wiring == .llama && qwen2.architecture == "qwen2")
        let qwen3 = try Qwen3Architecture.configuration(ConfigSettings(try Self.json("{\(sizes)}")), context: Self.context)
        #expect(qwen3.queryKeyNorm && qwen3.headDim == 128 && !qwen3.attentionBias)
        let mistral = try MistralArchitecture.configuration(
            ConfigSettings(try Self.json("{\(sizes), \"sliding_window\": 4}")), context: Self.context)
        #expect(mistral.slidingWindow == 4)
        let unbounded = try MistralArchitecture.configuration(
            ConfigSettings(try Self.json("{\(sizes), \"sliding_window\": null}")), context: Self.context)
        #expect(unbounded.slidingWindow == nil)
        let bert = try BERTArchitecture.configuration(
            ConfigSettings(try Self.json("{\(sizes), \"max_position_embeddings\": 64}")), context: Self.context)
        #expect(bert.normEpsilon == 1e-12 && bert.typeVocabSize == 2 && bert.activation == .gelu && bert.tiedEmbeddings)
        let gpt2 = try GPT2Architecture.configuration(
            ConfigSettings(try Self.json(#"{"vocab_size": 60, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64}"#)),
            context: Self.context)
        #expect(gpt2.hiddenDim == 128 && gpt2.normEpsilon == 1e-5 && gpt2.activation == .geluNew && gpt2.isCausal)
    }

    /// A GGUF file leaves the vocabulary size to its token list, and ties the head by omission.
    @Test func ggufDefaultsFollowLlamaCpp() throws {
        let gguf = SettingsSource.gguf(Metadata([
            ("qwen2.embedding_length", .int(32)), ("qwen2.block_count", .int(1)), ("qwen2.attention.head_count", .int(4)),
            ("qwen2.feed_forward_length", .int(48)), ("qwen2.context_length", .int(64)),
        ]), architecture: "qwen2")
        let config = try Qwen2Architecture.configuration(ConfigSettings(gguf), context: ConfigContext(shapes: [:], tokenCount: 77))
        #expect(config.vocabSize == 77 && config.tiedEmbeddings && config.ropeLayout == .halves && config.kvHeadCount == 4)
    }

    /// Errors name the key the way the file spells it.
    @Test func errorsNameTheKeyOfTheSource() throws {
        let badHF = try Self.json(#"{"vocab_size": 60, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 48}"#)
        #expect(thrownQKVError { _ = try LlamaArchitecture.configuration(ConfigSettings(badHF), context: Self.context) }
            == .invalidConfig(key: "num_key_value_heads", expected: "a divisor of num_attention_heads (4)", found: "3"))
        let badGGUF = SettingsSource.gguf(Metadata([
            ("llama.vocab_size", .int(60)), ("llama.embedding_length", .int(32)), ("llama.block_count", .int(2)),
            ("llama.attention.head_count", .int(4)), ("llama.attention.head_count_kv", .int(3)), ("llama.feed_forward_length", .int(48)),
        ]), architecture: "llama")
        #expect(thrownQKVError { _ = try LlamaArchitecture.configuration(ConfigSettings(badGGUF), context: Self.context) }
            == .invalidMetadataValue(key: "llama.attention.head_count_kv", expected: "a divisor of llama.attention.head_count (4)", found: "3"))
        let missing = SettingsSource.gguf(Metadata([("llama.vocab_size", .int(60))]), architecture: "llama")
        #expect(thrownQKVError { _ = try LlamaArchitecture.configuration(ConfigSettings(missing), context: Self.context) }
            == .missingMetadata(key: "llama.embedding_length"))
        let wrongType = SettingsSource.qkv(Metadata([("qkv.vocab_size", .string("60"))]))
        #expect(thrownQKVError { _ = try LlamaArchitecture.configuration(ConfigSettings(wrongType), context: Self.context) }
            == .wrongMetadataType(key: "qkv.vocab_size", expected: "i64", found: "string"))
        let float = try Self.json(#"{"vocab_size": 60.5}"#)
        #expect(thrownQKVError { _ = try LlamaArchitecture.configuration(ConfigSettings(float), context: Self.context) }
            == .invalidConfig(key: "vocab_size", expected: "a positive integer", found: "60.5"))
    }

    /// A rotary scaling qkv does not implement leaves the config readable but not runnable.
    @Test func unsupportedFeaturesDoNotStopReading() throws {
        let config = try LlamaArchitecture.configuration(ConfigSettings(try Self.json(#"""
            {"vocab_size": 60, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 48,
             "rope_scaling": {"rope_type": "dynamic", "factor": 8.0}}
            """#)), context: Self.context)
        #expect(config.unsupported == .invalidConfig(key: "rope_scaling.rope_type", expected: "default or llama3", found: "dynamic"))
    }

    /// llama.cpp's defaults for GGUF, transformers' for config.json; Llama 3 frequency factors come
    /// from `rope_freqs.weight`, checked for shape and sign.
    @Test func ggufKeepsLlamaCppDefaultsAndReadsFrequencyFactors() throws {
        let qwen3 = SettingsSource.gguf(Metadata([
            ("qwen3.vocab_size", .int(60)), ("qwen3.embedding_length", .int(32)), ("qwen3.block_count", .int(1)),
            ("qwen3.attention.head_count", .int(4)), ("qwen3.feed_forward_length", .int(48)),
        ]), architecture: "qwen3")
        #expect(try Qwen3Architecture.configuration(ConfigSettings(qwen3), context: Self.context).headDim == 8)
        let llama = SettingsSource.gguf(Metadata([
            ("llama.vocab_size", .int(60)), ("llama.embedding_length", .int(32)), ("llama.block_count", .int(1)),
            ("llama.attention.head_count", .int(4)), ("llama.feed_forward_length", .int(48)),
        ]), architecture: "llama")
        func context(_ shape: [Int], _ values: [Float]) -> ConfigContext {
            ConfigContext(shapes: ["rope_freqs.weight": shape], tokenCount: nil) { name throws(QKVError) in
                guard name == "rope_freqs.weight" else { throw .missingTensor(name) }
                return values
            }
        }
        let config = try LlamaArchitecture.configuration(ConfigSettings(llama), context: context([4], [1, 2, 4, 8]))
        #expect(config.unsupported == nil)
        #expect(config.ropeScaling == .frequencyFactors([1, 2, 4, 8]))
        #expect(throws: QKVError.shapeMismatch(tensor: "rope_freqs.weight", expected: [4], found: [8])) {
            try LlamaArchitecture.configuration(ConfigSettings(llama), context: context([8], Array(repeating: 1, count: 8)))
        }
        #expect(throws: QKVError.invalidConfig(key: "rope_freqs.weight[2]", expected: "a positive finite frequency factor", found: "0.0")) {
            try LlamaArchitecture.configuration(ConfigSettings(llama), context: context([4], [1, 2, 0, 8]))
        }
    }

    /// Llama 3.1's `rope_type: llama3` from either config.json layout; other scaling types and
    /// parameters that make the interpolation undefined are refused by name.
    @Test func llama3RotaryScalingFromConfigJSON() throws {
        func configuration(_ rope: String) throws -> ModelConfig {
            let json = """
                {"model_type": "llama", "vocab_size": 60, "hidden_size": 32, "num_hidden_layers": 1,
                 "num_attention_heads": 4, "intermediate_size": 48, "max_position_embeddings": 4096, \(rope)}
                """
            return try LlamaArchitecture.configuration(ConfigSettings(try Self.json(json)), context: Self.context)
        }
        let expected = RopeScaling.llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 8192)
        let legacy = try configuration("""
            "rope_theta": 500000.0, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
             "original_max_position_embeddings": 8192, "rope_type": "llama3"}
            """)
        #expect(legacy.ropeScaling == expected && legacy.ropeTheta == 500000 && legacy.unsupported == nil)
        let current = try configuration("""
            "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
            """)
        #expect(current.ropeScaling == expected && current.ropeTheta == 500000)
        // Without original_max_position_embeddings, transformers falls back to max_position_embeddings.
        let fallback = try configuration("""
            "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}
            """)
        #expect(fallback.ropeScaling == .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContextLength: 4096))
        #expect(throws: QKVError.invalidConfig(key: "rope_scaling.high_freq_factor", expected: "a number above low_freq_factor (4.0)", found: "4.0")) {
            try configuration(#""rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 4}"#)
        }
        #expect(throws: QKVError.invalidConfig(key: "rope_scaling.factor", expected: "a number (rope_type llama3)", found: "absent")) {
            try configuration(#""rope_scaling": {"rope_type": "llama3", "low_freq_factor": 1, "high_freq_factor": 4}"#)
        }
        let yarn = try configuration(#""rope_scaling": {"rope_type": "yarn", "factor": 4}"#)
        #expect(yarn.unsupported == .invalidConfig(key: "rope_scaling.rope_type", expected: "default or llama3", found: "yarn"))
    }

    @Test func registryNamesAndAliases() {
        #expect(ArchitectureRegistry.names == ["attention", "bert", "gpt2", "llama", "mistral", "qwen2", "qwen3"])
        #expect(ArchitectureRegistry.definition(named: "qwen3") == Qwen3Architecture.self)
        #expect(ArchitectureRegistry.definition(named: "qwen2_moe") == nil)
    }
}

/// Tensor naming schemes: canonical name, layer, buffer, as data.
@Suite struct TensorNamingTests {
    typealias Resolved = TensorNaming.Resolved

    @Test func huggingFaceNamesPerArchitecture() {
        #expect(BERTArchitecture.huggingFaceNames.resolve("bert.encoder.layer.3.attention.self.query.weight")
            == Resolved(canonical: "layers.3.wq", layer: 3, isBuffer: false, isMapped: true, looksLikeEmbedding: false))
        #expect(BERTArchitecture.huggingFaceNames.resolve("embeddings.LayerNorm.gamma").canonical == "embed_norm.weight")
        #expect(GPT2Architecture.huggingFaceNames.resolve("transformer.h.0.attn.c_attn.weight").canonical == "layers.0.wqkv")
        #expect(GPT2Architecture.huggingFaceNames.resolve("h.1.attn.masked_bias").isBuffer)
        #expect(Qwen3Architecture.huggingFaceNames.resolve("model.layers.11.self_attn.k_norm.weight")
            == Resolved(canonical: "layers.11.k_norm.weight", layer: 11, isBuffer: false, isMapped: true, looksLikeEmbedding: false))
        #expect(LlamaArchitecture.huggingFaceNames.resolve("lm_head.weight").canonical == "lm_head")
        // Not the base model: the stored name stays, without a layer.
        #expect(BERTArchitecture.huggingFaceNames.resolve("cls.predictions.bias")
            == Resolved(canonical: "cls.predictions.bias", layer: nil, isBuffer: false, isMapped: false, looksLikeEmbedding: false))
        // Only canonical decimal indices.
        #expect(LlamaArchitecture.huggingFaceNames.resolve("model.layers.01.mlp.up_proj.weight").layer == nil)
    }

    @Test func ggufNames() {
        #expect(TensorNaming.gguf.resolve("blk.29.attn_q.weight")
            == Resolved(canonical: "layers.29.wq", layer: 29, isBuffer: false, isMapped: true, looksLikeEmbedding: false))
        #expect(TensorNaming.gguf.resolve("blk.0.attn_k_norm.weight").canonical == "layers.0.k_norm.weight")
        #expect(TensorNaming.gguf.resolve("token_embd.weight").canonical == "embed")
        #expect(TensorNaming.gguf.resolve("output.weight").canonical == "lm_head")
        #expect(TensorNaming.gguf.resolve("rope_freqs.weight").isBuffer)
        // An architecture llama.cpp writes but qkv does not map still counts by layer.
        #expect(TensorNaming.gguf.resolve("blk.2.ffn_gate_exps.weight")
            == Resolved(canonical: "blk.2.ffn_gate_exps.weight", layer: 2, isBuffer: false, isMapped: false, looksLikeEmbedding: false))
        #expect(TensorNaming.gguf.resolve("position_embd.weight").looksLikeEmbedding)
    }

    @Test func genericAndCanonicalNames() {
        #expect(TensorNaming.huggingFaceGeneric.resolve("model.layers.7.mlp.experts.3.w1.weight").layer == 7)
        #expect(TensorNaming.huggingFaceGeneric.resolve("gpt_neox.embed_in.weight").looksLikeEmbedding)
        #expect(TensorNaming.canonical.resolve("layers.4.wq")
            == Resolved(canonical: "layers.4.wq", layer: 4, isBuffer: false, isMapped: false, looksLikeEmbedding: false))
        #expect(TensorNaming.canonical.resolve("blk.4.ssm_in.weight").layer == 4)
    }
}
