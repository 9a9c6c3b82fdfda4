import Foundation
@testable import QKVKit

/// A vocab-only GGUF (metadata, no tensors) kept as typed key/values, so a tokenizer test can set,
/// replace or remove one key and write the file with `GGUFBytes`.
struct TokenizerGGUF {
    enum Value {
        case u8(UInt8), i32(Int32), u32(UInt32), u64(UInt64), f32(Float), bool(Bool), string(String)
        case strings([String]), i32s([Int32]), f32s([Float]), u32s([UInt32])
    }

    var entries: [(key: String, value: Value)] = []

    subscript(key: String) -> Value? {
        get { entries.first { $0.key == key }?.value }
        set {
            entries.removeAll { $0.key == key }
            if let newValue { entries.append((key, newValue)) }
        }
    }

    func bytes() -> [UInt8] {
        var file = GGUFBytes()
        file.entries = entries.map { key, value in
            switch value {
            case let .u8(v): GGUFBytes.entry(key, .u8, [v])
            case let .i32(v): GGUFBytes.entry(key, .i32, le(v))
            case let .u32(v): GGUFBytes.u32(key, v)
            case let .u64(v): GGUFBytes.u64(key, v)
            case let .f32(v): GGUFBytes.f32(key, v)
            case let .bool(v): GGUFBytes.entry(key, .bool, [v ? 1 : 0])
            case let .string(v): GGUFBytes.text(key, v)
            case let .strings(values): GGUFBytes.strings(key, values)
            case let .i32s(values):
                GGUFBytes.array(key, of: GGUFBytes.ValueType.i32.rawValue, count: UInt64(values.count), values.flatMap { le($0) })
            case let .u32s(values):
                GGUFBytes.array(key, of: GGUFBytes.ValueType.u32.rawValue, count: UInt64(values.count), values.flatMap { le($0) })
            case let .f32s(values):
                GGUFBytes.array(key, of: GGUFBytes.ValueType.f32.rawValue, count: UInt64(values.count), values.flatMap { le($0) })
            }
        }
        return file.bytes()
    }

    func header() throws -> GGUFHeader {
        try bytes().withUnsafeBytes { try GGUFHeader($0) }
    }

    func tokenizer() throws -> GGUFTokenizer {
        try GGUFTokenizerLoader.load(from: try header())
    }

    /// A tiny valid byte-level BPE vocabulary: the 256 byte characters, "Ġt", "he", "Ġthe" and
    /// three special tokens, with the merges that build the words.
    static func byteLevelBPE() -> TokenizerGGUF {
        var tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        tokens += ByteLevelAlphabet.characters.map { String($0) }
        tokens += ["Ġt", "he", "Ġthe"]
        var file = TokenizerGGUF()
        file["general.architecture"] = .string("llama")
        file["tokenizer.ggml.model"] = .string("gpt2")
        file["tokenizer.ggml.pre"] = .string("gpt-2")
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        file["tokenizer.ggml.token_type"] = .i32s(tokens.indices.map { $0 < 3 ? 3 : 1 })
        file["tokenizer.ggml.merges"] = .strings(["Ġ t", "h e", "Ġt he"])
        file["tokenizer.ggml.bos_token_id"] = .u32(0)
        file["tokenizer.ggml.eos_token_id"] = .u32(2)
        return file
    }

    /// A tiny valid SentencePiece vocabulary: <unk> <s> </s>, byte tokens <0x00>…<0xFF>, ▁, a, b,
    /// ▁a, ab, with scores that prefer ▁a over ab.
    static func sentencePiece() -> TokenizerGGUF {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [Int32] = [2, 3, 3]
        for byte in 0..<256 {
            let hex = String(byte, radix: 16, uppercase: true)
            tokens.append("<0x\(hex.count == 1 ? "0" : "")\(hex)>")
            types.append(6)
        }
        tokens += ["▁", "a", "b", "▁a", "ab"]
        types += [1, 1, 1, 1, 1]
        var scores = [Float](repeating: 0, count: tokens.count)
        scores[tokens.count - 2] = -1  // ▁a
        scores[tokens.count - 1] = -2  // ab
        var file = TokenizerGGUF()
        file["general.architecture"] = .string("llama")
        file["tokenizer.ggml.model"] = .string("llama")
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        file["tokenizer.ggml.scores"] = .f32s(scores)
        file["tokenizer.ggml.token_type"] = .i32s(types)
        return file
    }
}
