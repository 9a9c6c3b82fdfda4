import Foundation
import Testing
@testable import QKVKit

@Suite struct GGUFHeaderTests {
    /// The real SmolLM2 file, against what gguf-py's GGUFReader reports for it.
    @Test func readsSmolLM2Header() throws {
        let file = try InputFile(path: try ModelCache.smolLM2())
        let header = try GGUFHeader(try file.mapped())
        #expect(header.version == 3)
        #expect(header.entries.count == 33)
        #expect(header.tensors.count == 272)
        #expect(header.value("llama.block_count") == .uint32(30))
        #expect(header.value("tokenizer.ggml.pre") == .string("smollm"))
        guard case let .array(.string(tokens))? = header.value("tokenizer.ggml.tokens") else {
            Issue.record("tokens missing")
            return
        }
        #expect(tokens.count == 49152)
        let embedding = try #require(header.tensors.first)
        #expect(embedding.name == "token_embd.weight")
        #expect(embedding.type == .q8_0)
        #expect(embedding.dims == [576, 49152])
        #expect(embedding.shape == [49152, 576])
        #expect(header.dataStart + embedding.dataOffset == 1_785_664)
        #expect(Dictionary(grouping: header.tensors, by: \.type).mapValues(\.count) == [.q4_1: 210, .f32: 61, .q8_0: 1])
    }
}
