import Foundation
import Testing
@testable import QKVKit

/// The hard strings of `scripts/make_gguf_tokenizer_goldens.py`, in order.
let ggufCorpus: [String] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixturePath("gguf/corpus.json")))
    return try! JSONDecoder().decode([String].self, from: data)
}()

/// llama.cpp's ids for every corpus string in each mode ("add-parse", "noadd-noparse", …).
func ggufGoldens(_ path: String) throws -> [String: [[Int]]] {
    try JSONDecoder().decode([String: [[Int]]].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
}

func ggufTokenizer(path: String) throws -> GGUFTokenizer {
    let file = try InputFile(path: path)
    return try GGUFTokenizerLoader.load(from: try GGUFHeader(try file.mapped()))
}

/// Compares every corpus string in every mode; reports the first differences readably.
func expectGoldens(_ tokenizer: GGUFTokenizer, _ goldens: [String: [[Int]]], label: String) throws {
    #expect(goldens.count == 4)
    var mismatches: [String] = []
    var compared = 0
    for (mode, expected) in goldens.sorted(by: { $0.key < $1.key }) {
        let addSpecial = mode.hasPrefix("add-")
        let parseSpecial = mode.hasSuffix("-parse")
        try #require(expected.count == ggufCorpus.count, "\(label) \(mode): \(expected.count) goldens for \(ggufCorpus.count) strings")
        for (index, text) in ggufCorpus.enumerated() {
            let ids = try tokenizer.encode(text, addSpecialTokens: addSpecial, parseSpecialTokens: parseSpecial)
            compared += 1
            if ids != expected[index] {
                mismatches.append("\(mode) #\(index) \(visibleString(text)): got \(ids), llama.cpp \(expected[index])")
            }
        }
    }
    #expect(mismatches.isEmpty, "\(label): \(mismatches.count) of \(compared) differ:\n\(mismatches.prefix(8).joined(separator: "\n"))")
}

/// Control characters and invisible code points as escapes, for failure messages.
func visibleString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars.prefix(60) {
        if scalar.value < 0x20 || (0x7F...0xA0).contains(scalar.value) || scalar.properties.generalCategory == .format {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out + (text.unicodeScalars.count > 60 ? "…\"" : "\"")
}

@Suite struct GGUFTokenizerTests {
    static let vocabularies = [
        "bpe-default", "bpe-gpt-2", "bpe-llama-bpe", "bpe-qwen2", "bpe-smollm", "bpe-deepseek-llm", "bpe-deepseek-coder",
        "bpe-falcon", "bpe-starcoder", "bpe-refact", "bpe-mpt", "bpe-command-r",
        "spm-bpe", "spm-bpe-noprefix", "spm-unigram", "bert-minilm",
    ]

    @Test("every corpus string in all four modes equals llama.cpp", arguments: vocabularies)
    func matchesLlamaCpp(vocabulary: String) throws {
        let tokenizer = try ggufTokenizer(path: fixturePath("gguf/vocab/\(vocabulary).gguf"))
        try expectGoldens(tokenizer, try ggufGoldens(fixturePath("gguf/vocab/\(vocabulary).ids.json")), label: vocabulary)
    }

    @Test("the real SmolLM2-135M-Instruct file equals llama.cpp on the whole corpus")
    func smolLM2MatchesLlamaCpp() throws {
        let tokenizer = try ggufTokenizer(path: try ModelCache.smolLM2())
        try expectGoldens(tokenizer, try ggufGoldens(fixturePath("gguf/smollm2.ids.json")), label: "SmolLM2")
        // Its add_bos_token is false: no BOS even with the model's defaults.
        #expect(try tokenizer.encode("Hello world") == [19556, 905])
        #expect(tokenizer.vocabularySize == 49152)
    }
}
