import Foundation
import Testing
@testable import QKVKit

/// `convert` on checkpoints other formats can hold but QKV v1 cannot (docs/FORMAT.md): each must be
/// an error naming what cannot be stored, never a QKV file qkv cannot read back. Found by fuzzing
/// (the fuzz targets convert what opens and reopen the result; docs/RELIABILITY.md).
@Suite struct HostileConvertTests {
    func convertError(_ path: String, tokenizer: TokenizerFile? = nil) throws -> QKVError? {
        let checkpoint = try CheckpointLoader.open(path: path, tokenizer: tokenizer)
        return thrownQKVError { _ = try QKVConverter().convert(checkpoint, threads: 1) }
    }

    /// One F32 tensor "a" [1] in a lone .safetensors file, or in a folder with `files`.
    func safetensors(_ entry: String = stEntry("a"), data: [UInt8] = floatBytes([1]), files: [String: [UInt8]] = [:]) throws -> String {
        let model = safetensorsFile("{" + entry + "}", data: data)
        return try temporaryFolder(files.merging(["model.safetensors": model]) { $1 })
    }

    static let nul = "a NUL byte in a string"

    @Test func theBaseFileConverts() throws {
        #expect(try convertError(try safetensors()) == nil)
    }

    /// safetensors: a JSON key may be any string, "\u0000" included.
    @Test func tensorNameWithNUL() throws {
        #expect(try convertError(try safetensors(stEntry("a\\u0000b"))) == .cannotStoreInQKV(what: "tensor \"a\\u0000b\"", reason: Self.nul))
    }

    /// safetensors shapes QKV cannot store: a scalar, a zero dimension, rank 5.
    @Test func shapesOutsideQKV() throws {
        #expect(try convertError(try safetensors(stEntry("s", shape: "[]"))) == .cannotStoreInQKV(what: "tensor \"s\"", reason: "rank 0 (shape []), not 1 to 4"))
        #expect(try convertError(try safetensors(stEntry("z", shape: "[2,0]", offsets: "[0,0]"), data: []))
            == .cannotStoreInQKV(what: "tensor \"z\"", reason: "dimension 1 of 0 (shape [2, 0])"))
        #expect(try convertError(try safetensors(stEntry("r", shape: "[1,1,1,1,1]")))
            == .cannotStoreInQKV(what: "tensor \"r\"", reason: "rank 5 (shape [1, 1, 1, 1, 1]), not 1 to 4"))
    }

    /// config.json: an architecture qkv does not know keeps its name, which may hold "\u0000".
    @Test func architectureNameWithNUL() throws {
        let folder = try safetensors(files: ["config.json": Array(#"{"model_type":"x\u0000y"}"#.utf8)])
        #expect(try convertError(folder) == .cannotStoreInQKV(what: "metadata \"qkv.architecture\"", reason: Self.nul))
    }

    /// tokenizer.json is kept as it is written, a NUL byte included (it does not parse, and is kept anyway).
    @Test func tokenizerJSONWithNUL() throws {
        let folder = try safetensors(files: ["tokenizer.json": [0x7B, 0x00, 0x7D]])
        #expect(try convertError(folder) == .cannotStoreInQKV(what: "metadata \"tokenizer.huggingface.json\"", reason: Self.nul))
    }

    /// llama2.c: a tokenizer.bin piece may hold any bytes; the vocabulary becomes tokenizer.tokens.
    @Test func llama2cTokenWithNUL() throws {
        let pieces: [[UInt8]] = [Array("<unk>".utf8), [0x61, 0x00], [0x62], [0x63], [0x64], [0x65]]
        var tokenizer: [UInt8] = []
        tokenizer.appendLE(UInt32(5))
        for piece in pieces {
            tokenizer.appendLE(Float(0).bitPattern)
            tokenizer.appendLE(UInt32(piece.count))
            tokenizer += piece
        }
        let model = try temporaryFile(Llama2cBytes().bytes(), name: "model.bin")
        let tokenizerPath = try temporaryFile(tokenizer, name: "tokenizer.bin")
        #expect(try convertError(model, tokenizer: .llama2c(path: tokenizerPath))
            == .cannotStoreInQKV(what: "metadata \"tokenizer.tokens\"[1]", reason: Self.nul))
    }

    /// GGUF: a dimension may be 0, and a model without a known architecture keeps any tensor.
    @Test func ggufZeroDimension() throws {
        var file = GGUFBytes()
        file.tensors = [GGUFBytes.tensor("t", dims: [2, 0], offset: 0)]
        let path = try temporaryFile(file.bytes(), name: "model.gguf")
        #expect(try convertError(path) == .cannotStoreInQKV(what: "tensor \"t\"", reason: "dimension 0 of 0 (shape [0, 2])"))
    }

    /// GGUF strings may hold NUL bytes; general.name is kept.
    @Test func ggufNameWithNUL() throws {
        var model = TinyGGUF()
        model.set("general.name", GGUFBytes.text("general.name", "a\u{0}b"))
        let path = try temporaryFile(model.bytes(), name: "tiny.gguf")
        #expect(try convertError(path) == .cannotStoreInQKV(what: "metadata \"general.name\"", reason: Self.nul))
    }

    /// Found while fixing inspect's groups for files without tensors: such a file's vocab_size is
    /// backed by nothing, and the vocabulary convert writes (every id's token text) was built for
    /// all 2,000,000,000 ids a 200-byte config.json claims (a 32 GB allocation, a trap).
    @Test func vocabularySizeOfAFolderWithoutTensors() throws {
        let config = #"{"model_type":"bert","vocab_size":2000000000,"hidden_size":8,"num_hidden_layers":1,"#
            + #""num_attention_heads":2,"intermediate_size":8,"max_position_embeddings":8,"type_vocab_size":2}"#
        let tokenizer = #"{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"a":3}}}"#
        let folder = try temporaryFolder([
            "config.json": Array(config.utf8), "tokenizer.json": Array(tokenizer.utf8), "model.safetensors": safetensorsFile("{}"),
        ])
        let checkpoint = try CheckpointLoader.open(path: folder)
        #expect(checkpoint.config?.vocabSize == 2_000_000_000)
        #expect(checkpoint.vocabulary == nil)
        #expect(try checkpoint.textTokenizer()?.encode("a") == [3])
        let (bytes, summary) = try QKVConverter().convert(checkpoint, threads: 1)
        #expect(summary.tensorCount == 0)
        let converted = try CheckpointLoader.open(path: try temporaryFile(bytes))
        #expect(converted.config == checkpoint.config)
        #expect(converted.metadata["tokenizer.tokens"] == nil)
        #expect(try converted.textTokenizer()?.encode("a") == [3])
    }
}
