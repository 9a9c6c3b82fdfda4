import Foundation
import Testing
@testable import QKVKit

/// Tiny random BERT, GPT-2 and LLaMA models saved by transformers, against the eager
/// `output_attentions` and parameter counts transformers itself wrote (scripts/make_hf_references.py).
/// Tolerance: 1e-5 absolute on every probability (measured: under 1e-6).
@Suite struct RealArchitectureTests {
    /// `qkv bench`'s GFLOP/s counts the work done, by hand from the configs: the last layer stops
    /// after its attention, so it contributes only its Q, K, V projections.
    @Test func forwardFLOPsCountTheWorkDone() throws {
        let t = 5
        // tiny-bert: d 32, intermediate 37, 2 layers, 4 heads of 8, bidirectional.
        let bert = try CheckpointLoader.open(path: fixturePath("hf/tiny-bert"))
        let bertMatrices = (4 * 32 * 32 + 2 * 32 * 37) + 3 * 32 * 32
        #expect(Benchmark.forwardFLOPs(bert, config: bert.config!, tokens: t) == Double(2 * t * bertMatrices + 2 * 2 * t * t * 32 * 2))
        // tiny-gpt2: d 32, inner 64, 2 layers, causal (key counts 1 + 2 + … + T).
        let gpt2 = try CheckpointLoader.open(path: fixturePath("hf/tiny-gpt2"))
        let gptMatrices = (3 * 32 * 32 + 32 * 32 + 2 * 32 * 64) + 3 * 32 * 32
        #expect(Benchmark.forwardFLOPs(gpt2, config: gpt2.config!, tokens: t) == Double(2 * t * gptMatrices + 2 * 2 * (t * (t + 1) / 2) * 32 * 2))
    }

    static let models = [
        "tiny-bert", "tiny-bert-prefixed", "tiny-gpt2", "tiny-gpt2-model", "tiny-gpt2-inverse-scale", "tiny-llama", "tiny-llama-sharded", "tiny-llama-model",
        "tiny-llama3", "tiny-qwen2", "tiny-qwen3", "tiny-mistral",
    ]

    struct Reference {
        var tokenLists: [[Int]]
        var attentions: [[[[[Double]]]]]  // [list][layer][head][query][key]
        var parameters: Int
        var groups: [String: Int]
        var buffers: [String]

        init(model: String) throws {
            let root = try loadJSON(fixturePath("hf/\(model)/reference.json")) as! [String: Any]
            tokenLists = (root["token_ids"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            attentions = (root["attentions"] as! [[[[[NSNumber]]]]]).map { $0.map { $0.map { $0.map { $0.map(\.doubleValue) } } } }
            parameters = (root["num_parameters"] as! NSNumber).intValue
            groups = (root["num_parameters_per_group"] as! [String: NSNumber]).mapValues(\.intValue)
            buffers = (root["buffers"] as! [String: Any]).keys.sorted()
        }
    }

    @Test(arguments: models)
    func parameterCountsMatchPyTorch(model: String) throws {
        let reference = try Reference(model: model)
        let checkpoint = try CheckpointLoader.open(path: fixturePath("hf/\(model)"))
        let counts = ParameterCount(tensors: checkpoint.tensors, layerCount: checkpoint.layerCount)
        #expect(counts.totalParameters == reference.parameters)
        #expect(Dictionary(uniqueKeysWithValues: counts.groups.map { ($0.name, $0.parameters) }) == reference.groups)
        #expect(counts.buffers.map(\.name).sorted() == reference.buffers)
    }

    @Test(arguments: models)
    func attentionMatchesTransformers(model: String) throws {
        let reference = try Reference(model: model)
        let checkpoint = try CheckpointLoader.open(path: fixturePath("hf/\(model)"))
        for (ids, expected) in zip(reference.tokenLists, reference.attentions) {
            let report = try AttentionRunner.run(
                AttentionRequest(input: .tokens(ids.map(String.init).joined(separator: " "))), checkpoint: checkpoint)
            #expect(report.tokens.map(\.id) == ids)
            #expect(report.layers.count == expected.count)
            let comparison = AttentionComparison(report, expected: expected, tolerance: 1e-5)
            #expect(comparison.firstDivergence == nil, "\(model), \(ids.count) tokens: \(comparison)")
        }
    }

    /// `convert` to QKV f32 keeps counts and attention (within 1e-6; the same floats in the same order).
    @Test(arguments: models)
    func convertedFileAgreesWithSource(model: String) throws {
        let source = try CheckpointLoader.open(path: fixturePath("hf/\(model)"))
        let (bytes, summary) = try QKVConverter(encoding: .shuffleZlib).convert(source)
        let converted = try CheckpointLoader.open(path: try temporaryFile(bytes))
        #expect(converted.config == source.config)
        #expect(
            ParameterCount(tensors: converted.tensors, layerCount: converted.layerCount).groups
                .map { [$0.name: $0.parameters] }
                == ParameterCount(tensors: source.tensors, layerCount: source.layerCount).groups.map { [$0.name: $0.parameters] })
        #expect(summary.skippedBuffers == source.tensors.filter { !$0.isParameter }.map(\.name))
        let request = AttentionRequest(input: .tokens("3 1 4 1 5 9 2 6"))
        let before = try AttentionRunner.run(request, checkpoint: source)
        let after = try AttentionRunner.run(request, checkpoint: converted)
        for (a, b) in zip(before.layers, after.layers) {
            for (x, y) in zip(a.heads, b.heads) {
                #expect(zip(x, y).allSatisfy { abs($0 - $1) <= 1e-6 })
            }
        }
    }

    /// Half-precision weights read where they are stored (raw f16/bf16: `StoredMatrix` products,
    /// embeddings gathered per token) give the same bits as the same weights decoded to float32
    /// first (compressed payloads take the packed path): granule-1 chunks are the float32 ones.
    @Test(arguments: ["tiny-bert", "tiny-llama", "tiny-qwen3", "tiny-mistral"])
    func halfPrecisionInPlaceEqualsDecoded(model: String) throws {
        let source = try CheckpointLoader.open(path: fixturePath("hf/\(model)"))
        for dtype in [DType.f16, .bf16] {
            let inPlace = try QKVConverter(dtype: dtype, encoding: .raw).convert(source).bytes
            let decoded = try QKVConverter(dtype: dtype, encoding: .zlib).convert(source).bytes
            let a = try CheckpointLoader.open(path: try temporaryFile(inPlace))
            let b = try CheckpointLoader.open(path: try temporaryFile(decoded))
            #expect(try a.storedMatrix("layers.0.wq", verify: true) != nil)
            #expect(try b.storedMatrix("layers.0.wq", verify: true) == nil)
            let request = AttentionRequest(input: .tokens("3 1 4 1 5 9 2 6 5 3 5 8 9"))
            let x = try AttentionRunner.run(request, checkpoint: a), y = try AttentionRunner.run(request, checkpoint: b)
            #expect(x.layers == y.layers, "\(model) \(dtype)")
        }
    }

    @Test func gptLayerSelectionStopsEarlyButMatches() throws {
        let checkpoint = try CheckpointLoader.open(path: fixturePath("hf/tiny-gpt2"))
        let all = try AttentionRunner.run(AttentionRequest(input: .tokens("1 2 3")), checkpoint: checkpoint)
        let first = try AttentionRunner.run(AttentionRequest(input: .tokens("1 2 3"), layers: [0], heads: [2]), checkpoint: checkpoint)
        #expect(first.layers.count == 1)
        #expect(first.heads == [2])
        #expect(first.layers[0] == all.layers[0])
    }
}

/// Broken model folders: each failure is one located error.
@Suite struct HostileModelFolderTests {
    func folder(config: String?, copyingWeightsFrom model: String = "tiny-bert") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: fixturePath("hf/\(model)/model.safetensors"), toPath: directory.appendingPathComponent("model.safetensors").path)
        if let config { try Data(config.utf8).write(to: directory.appendingPathComponent("config.json")) }
        return directory.path
    }

    func openError(_ path: String) -> LocatedError? {
        do {
            _ = try CheckpointLoader.open(path: path)
            return nil
        } catch {
            return error as? LocatedError
        }
    }

    /// Weights without config.json open (inspect and verify work); only run refuses.
    @Test func missingConfig() throws {
        let path = try folder(config: nil)
        let checkpoint = try CheckpointLoader.open(path: path)
        #expect(checkpoint.architectureName == nil && checkpoint.config == nil)
        // Grouped by the generic Hugging Face naming as PyTorch's reference groups them.
        let reference = try RealArchitectureTests.Reference(model: "tiny-bert")
        #expect(checkpoint.parameterCount.totalParameters == reference.parameters)
        #expect(Dictionary(uniqueKeysWithValues: checkpoint.parameterCount.groups.map { ($0.name, $0.parameters) }) == reference.groups)
        #expect(thrownQKVError { _ = try checkpoint.runnable() } == .unsupportedArchitecture(name: nil, supported: ArchitectureRegistry.names))
    }

    /// An architecture qkv does not run opens with its tensors counted by layer; only run refuses.
    @Test func unknownModelType() throws {
        let path = try folder(config: #"{"model_type": "mamba"}"#)
        let checkpoint = try CheckpointLoader.open(path: path)
        #expect(checkpoint.architectureName == "mamba" && checkpoint.config == nil)
        #expect(checkpoint.parameterCount.totalParameters == 18730)
        #expect(thrownQKVError { _ = try checkpoint.runnable() }
            == .unsupportedArchitecture(name: "mamba", supported: ArchitectureRegistry.names))
    }

    @Test func configValueOfWrongType() throws {
        let path = try folder(config: #"{"model_type": "bert", "vocab_size": 60, "hidden_size": "32"}"#)
        #expect(openError(path)?.path == path + "/config.json")
        #expect(openError(path)?.error == .invalidConfig(key: "hidden_size", expected: "a positive integer", found: "\"32\""))
    }

    @Test func configNotJSON() throws {
        let path = try folder(config: "{model_type: bert")
        #expect(openError(path)?.path == path + "/config.json")
        #expect(openError(path)?.error == .invalidJSON(what: "config.json", offset: 1, reason: "expected a string key, found 'm'"))
    }

    @Test func configDisagreesWithWeights() throws {
        let config = try String(contentsOfFile: fixturePath("hf/tiny-bert/config.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"intermediate_size\": 37", with: "\"intermediate_size\": 38")
        let path = try folder(config: config)
        #expect(openError(path)?.error == .shapeMismatch(tensor: "layers.0.w_up", expected: [38, 32], found: [37, 32]))
    }

    @Test func weightsOfAnotherArchitecture() throws {
        let config = try String(contentsOfFile: fixturePath("hf/tiny-gpt2/config.json"), encoding: .utf8)
        let path = try folder(config: config, copyingWeightsFrom: "tiny-bert")
        #expect(openError(path)?.error == .missingTensor("embed"))
    }

    @Test func unsupportedRopeScaling() throws {
        let config = try String(contentsOfFile: fixturePath("hf/tiny-llama/config.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"rope_type\": \"default\"", with: "\"rope_type\": \"yarn\"")
        let path = try folder(config: config, copyingWeightsFrom: "tiny-llama")
        // Inspectable; running would need the yarn rotary scaling.
        let checkpoint = try CheckpointLoader.open(path: path)
        #expect(thrownQKVError { _ = try checkpoint.runnable() }
            == .invalidConfig(key: "rope_parameters.rope_type", expected: "default or llama3", found: "yarn"))
    }
}

/// Older checkpoints store tied weights twice; PyTorch counts the shared Parameter once.
@Suite struct TiedWeightTests {
    @Test func storedTiedHeadIsNotCountedTwice() throws {
        let source = try SafetensorsArchive(path: fixturePath("hf/tiny-gpt2/model.safetensors"))
        var tensors = try source.tensors.map { info in
            SafetensorsWriter.Tensor(info.name, dtype: info.dtype, shape: info.shape, bytes: Array(try source.rawBytes(info.name)))
        }
        let embed = try #require(source.tensorInfo("transformer.wte.weight"))
        tensors.append(.init("lm_head.weight", dtype: .f32, shape: embed.shape, bytes: Array(try source.rawBytes(embed.name))))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-tied-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(try SafetensorsWriter(tensors: tensors).bytes()).write(to: directory.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(
            atPath: fixturePath("hf/tiny-gpt2/config.json"), toPath: directory.appendingPathComponent("config.json").path)

        let checkpoint = try CheckpointLoader.open(path: directory.path)
        let counts = ParameterCount(tensors: checkpoint.tensors, layerCount: checkpoint.layerCount)
        #expect(counts.totalParameters == 21_120)
        #expect(counts.buffers.map(\.storedName) == ["lm_head.weight"])
        #expect(counts.buffers.map(\.name) == ["lm_head"])
        #expect(counts.buffers.first?.tiedTo == "transformer.wte.weight")
    }
}
