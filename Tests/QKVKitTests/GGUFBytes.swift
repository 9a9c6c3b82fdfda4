import Foundation
@testable import QKVKit

/// Builds GGUF v3 bytes key by key (no tensors), so a test can write exactly the metadata it
/// needs, broken exactly where it wants.
struct GGUFBytes {
    enum Value {
        case u8(UInt8), i32(Int32), u32(UInt32), u64(UInt64), f32(Float), bool(Bool), string(String)
        case strings([String]), i32s([Int32]), f32s([Float]), u32s([UInt32])

        var typeCode: UInt32 {
            switch self {
            case .u8: 0
            case .u32: 4
            case .i32: 5
            case .f32: 6
            case .bool: 7
            case .string: 8
            case .strings, .i32s, .f32s, .u32s: 9
            case .u64: 10
            }
        }
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
        var out = Array("GGUF".utf8)
        out.appendLE(UInt32(3))
        out.appendLE(UInt64(0))  // tensors
        out.appendLE(UInt64(entries.count))
        for (key, value) in entries {
            Self.appendString(key, to: &out)
            out.appendLE(value.typeCode)
            switch value {
            case let .u8(v): out.append(v)
            case let .i32(v): out.appendLE(UInt32(bitPattern: v))
            case let .u32(v): out.appendLE(v)
            case let .u64(v): out.appendLE(v)
            case let .f32(v): out.appendLE(v.bitPattern)
            case let .bool(v): out.append(v ? 1 : 0)
            case let .string(v): Self.appendString(v, to: &out)
            case let .strings(values):
                out.appendLE(UInt32(8))
                out.appendLE(UInt64(values.count))
                for v in values { Self.appendString(v, to: &out) }
            case let .i32s(values):
                out.appendLE(UInt32(5))
                out.appendLE(UInt64(values.count))
                for v in values { out.appendLE(UInt32(bitPattern: v)) }
            case let .u32s(values):
                out.appendLE(UInt32(4))
                out.appendLE(UInt64(values.count))
                for v in values { out.appendLE(v) }
            case let .f32s(values):
                out.appendLE(UInt32(6))
                out.appendLE(UInt64(values.count))
                for v in values { out.appendLE(v.bitPattern) }
            }
        }
        return out
    }

    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.appendLE(UInt64(text.utf8.count))
        out += Array(text.utf8)
    }

    func header() throws -> GGUFHeader {
        try bytes().withUnsafeBytes { try GGUFHeader($0) }
    }

    func tokenizer() throws -> GGUFTokenizer {
        try GGUFTokenizerLoader.load(from: try header())
    }

    /// A tiny valid byte-level BPE vocabulary: the 256 byte characters, "Ġt", "he", "Ġthe" and
    /// three special tokens, with the merges that build the words.
    static func byteLevelBPE() -> GGUFBytes {
        var tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        tokens += ByteLevelAlphabet.characters.map { String($0) }
        tokens += ["Ġt", "he", "Ġthe"]
        var file = GGUFBytes()
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
    static func sentencePiece() -> GGUFBytes {
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
        var file = GGUFBytes()
        file["general.architecture"] = .string("llama")
        file["tokenizer.ggml.model"] = .string("llama")
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        file["tokenizer.ggml.scores"] = .f32s(scores)
        file["tokenizer.ggml.token_type"] = .i32s(types)
        return file
    }
}
