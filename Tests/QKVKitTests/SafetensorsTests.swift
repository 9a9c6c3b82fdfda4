import Foundation
import Testing
@testable import QKVKit

// MARK: Helpers shared by the safetensors suites

/// A safetensors file from header text and data bytes; `length` overrides the u64 length field.
func safetensorsFile(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    safetensorsFile(headerBytes: Array(header.utf8), data: data, length: length)
}

func safetensorsFile(headerBytes header: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.appendLE(length ?? UInt64(header.count))
    return bytes + header + data
}

/// One header entry: `"name":{"dtype":...,"shape":...,"data_offsets":...}`.
func stEntry(_ name: String, _ dtype: String = "F32", shape: String = "[1]", offsets: String = "[0,4]") -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

/// File offset of the `occurrence`-th `needle` in a header that starts at byte 8.
func headerOffset(of needle: String, in header: String, occurrence: Int = 1) -> Int {
    let bytes = Array(header.utf8)
    let pattern = Array(needle.utf8)
    var seen = 0
    for start in 0...(bytes.count - pattern.count) where Array(bytes[start..<(start + pattern.count)]) == pattern {
        seen += 1
        if seen == occurrence { return 8 + start }
    }
    fatalError("\(needle) not found \(occurrence) times in \(header)")
}

/// The error opening `bytes` as a single .safetensors file raises (checking it names that file), or nil.
func safetensorsError(_ bytes: [UInt8], limits: SafetensorsHeader.Limits = .init()) throws -> QKVError? {
    let path = try temporaryFile(bytes, name: "model.safetensors")
    do {
        _ = try SafetensorsArchive(path: path, limits: limits)
        return nil
    } catch {
        #expect(error.path == path)
        return error.error
    }
}

/// A fresh folder holding `files`.
func temporaryFolder(_ files: [String: [UInt8]]) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, bytes) in files {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }
    return directory.path
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    var bytes: [UInt8] = []
    for value in values { bytes.appendLE(value.bitPattern) }
    return bytes
}

/// Valid files: the writer, every dtype family, unaligned data, and the committed Hugging Face fixtures.
@Suite struct SafetensorsTests {
    @Test func writerRoundTripsEveryKindOfTensor() throws {
        var positions: [UInt8] = []
        for value: Int64 in [0, 1, -2] { positions.appendLE(UInt64(bitPattern: value)) }
        var step: [UInt8] = []
        step.appendLE(UInt64(bitPattern: Int64(-7)))
        let writer = SafetensorsWriter(
            tensors: [
                .init("w", shape: [2, 3], values: [1, -2, 0.5, 3, 0, -0.25]),
                .init("h", shape: [2], values: [1, -2], dtype: .f16),
                .init("ids", dtype: .i64, shape: [1, 3], bytes: positions),
                .init("step", dtype: .i64, shape: [], bytes: step),
                .init("none", dtype: .f32, shape: [0, 3], bytes: []),
                .init("mask", dtype: .bool, shape: [3], bytes: [1, 0, 1]),
            ],
            metadata: ["format": "pt", "note": "a \"quoted\" value\n"])
        let bytes = try writer.bytes()
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect((8 + headerLength) % 8 == 0)
        // Like the reference: compact JSON, then fewer than 8 spaces.
        let headerText = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        let json = headerText.reversed().drop { $0 == " " }
        #expect(headerText.count - json.count < 8 && json.first == "}")

        let path = try temporaryFile(bytes, name: "model.safetensors")
        let archive = try SafetensorsArchive(path: path)
        #expect(archive.files == [path])
        #expect(archive.metadata == ["format": "pt", "note": "a \"quoted\" value\n"])
        // File order; the empty tensor shares its offset with the next one and keeps header order.
        #expect(archive.tensors.map(\.name) == ["w", "h", "ids", "step", "none", "mask"])
        #expect(archive.tensors.map(\.dtype) == [.f32, .f16, .i64, .i64, .f32, .bool])
        #expect(archive.tensors.map(\.shape) == [[2, 3], [2], [1, 3], [], [0, 3], [3]])
        let dataStart = UInt64(8 + headerLength)
        #expect(archive.tensors.map(\.fileOffset) == [0, 24, 28, 52, 60, 60].map { dataStart + $0 })
        #expect(archive.tensors.map(\.storedBytes) == [24, 4, 24, 8, 0, 3])
        #expect(archive.tensors.allSatisfy { $0.file == path && $0.encoding == .raw && $0.crc32 == nil })

        #expect(try archive.floats("w").values == [1, -2, 0.5, 3, 0, -0.25])
        #expect(try archive.floats("h").values == [1, -2])
        #expect(try archive.floats("none").values == [])
        #expect(try archive.floats("none").shape == [0, 3])
        #expect(Array(try archive.rawBytes("ids")) == positions)
        #expect(Array(try archive.rawBytes("step")) == step)
        #expect(Array(try archive.rawBytes("mask")) == [1, 0, 1])
        #expect(Array(try archive.rawBytes("none")) == [])
    }

    @Test func integerTensorsAreBuffersNotWeights() throws {
        let writer = SafetensorsWriter(tensors: [.init("ids", dtype: .i64, shape: [1], bytes: [5, 0, 0, 0, 0, 0, 0, 0])])
        let path = try temporaryFile(try writer.bytes(), name: "model.safetensors")
        let archive = try SafetensorsArchive(path: path)
        do {
            _ = try archive.floats("ids")
            Issue.record("expected floats() to refuse an I64 tensor")
        } catch let error as LocatedError {
            #expect(error.path == path)
            #expect(error.error == .unsupportedTensorDType(tensor: "ids", dtype: "I64"))
        }
        do {
            _ = try archive.floats("absent")
            Issue.record("expected floats() to refuse an unknown name")
        } catch let error as LocatedError {
            #expect(error.error == .missingTensor("absent"))
        }
    }

    @Test func alignedF32IsBorrowedAndUnalignedF32IsDecoded() throws {
        let values: [Float] = [1.5, -3, 0x1p-149, .infinity]
        let aligned = try SafetensorsArchive(
            path: try temporaryFile(try SafetensorsWriter(tensors: [.init("x", shape: [4], values: values)]).bytes(), name: "a.safetensors"))
        #expect(aligned.tensors[0].fileOffset % 8 == 0)
        let borrowed = try aligned.floats("x")
        #expect(UnsafeRawPointer(borrowed.pointer) == (try aligned.rawBytes("x")).baseAddress)
        #expect(borrowed.values == values)

        // headerAlignment 1: no padding, so the data starts wherever the JSON ends.
        let unalignedWriter = SafetensorsWriter(tensors: [.init("x", shape: [4], values: values)], headerAlignment: 1)
        let unaligned = try SafetensorsArchive(path: try temporaryFile(try unalignedWriter.bytes(), name: "u.safetensors"))
        #expect(unaligned.tensors[0].fileOffset % 4 != 0)
        let decoded = try unaligned.floats("x")
        #expect(UnsafeRawPointer(decoded.pointer) != (try unaligned.rawBytes("x")).baseAddress)
        #expect(decoded.values == values)
    }

    /// Expected values: NumPy 2.4.6 `np.array(bits, '<u2').view(np.float16).astype(np.float32)`.
    @Test func f16DecodesExactly() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x3555]
        let expected: [Float] = [1.0, -2.0, 0x1p-24, 0x1.ff8p-15, 65504.0, .infinity, -.infinity, -0.0, 0x1.554p-2]
        var data: [UInt8] = []
        for bit in bits { data.appendLE(bit) }
        // Header of 59 bytes puts the data at byte 67: odd, so every load is unaligned.
        let header = "{" + stEntry("h", "F16", shape: "[9]", offsets: "[0,18]") + "}"
        #expect((8 + header.utf8.count) % 2 == 1)
        let archive = try SafetensorsArchive(path: try temporaryFile(safetensorsFile(header, data: data), name: "h.safetensors"))
        let values = try archive.floats("h").values
        #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    /// Expected values: torch 2.15.0 `torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16).float()`.
    @Test func bf16DecodesExactly() throws {
        let bits: [UInt16] = [0x3F80, 0xC049, 0x0001, 0x7F7F, 0xFF80, 0x8000, 0x3EAB]
        let expected: [Float] = [1.0, -0x1.92p+1, 0x1p-133, 0x1.fep+127, -.infinity, -0.0, 0x1.56p-2]
        var data: [UInt8] = []
        for bit in bits { data.appendLE(bit) }
        let header = "{" + stEntry("bf", "BF16", shape: "[7]", offsets: "[0,14]") + "}"
        #expect((8 + header.utf8.count) % 2 == 1)
        let archive = try SafetensorsArchive(path: try temporaryFile(safetensorsFile(header, data: data), name: "b.safetensors"))
        let values = try archive.floats("bf").values
        #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func scalarAndEmptyTensorsAreLegal() throws {
        // Two empty tensors at offset 0 (before and after in header order), a scalar, and an empty header-only file.
        let header = "{" + [
            stEntry("scalar", "I64", shape: "[]", offsets: "[0,8]"),
            stEntry("empty", "F32", shape: "[3,0]", offsets: "[0,0]"),
            stEntry("nothing", "U8", shape: "[0]", offsets: "[0,0]"),
        ].joined(separator: ",") + "}"
        var data: [UInt8] = []
        data.appendLE(UInt64(bitPattern: -1))
        let archive = try SafetensorsArchive(path: try temporaryFile(safetensorsFile(header, data: data), name: "s.safetensors"))
        #expect(archive.tensors.map(\.name) == ["empty", "nothing", "scalar"])
        #expect(archive.tensors.map(\.shape) == [[3, 0], [0], []])
        #expect(archive.tensors.map(\.elementCount) == [0, 0, 1])
        #expect(Array(try archive.rawBytes("scalar")) == data)
        #expect(try archive.floats("empty").count == 0)

        let empty = try SafetensorsArchive(path: try temporaryFile(try SafetensorsWriter(tensors: []).bytes(), name: "e.safetensors"))
        #expect(empty.tensors.isEmpty && empty.metadata.isEmpty)
    }

    @Test func headerWhitespaceNullMetadataAndExtraFieldsAreAccepted() throws {
        // serde_json (the reference) skips JSON whitespace, reads a null __metadata__ as none and ignores unknown fields.
        let header = " \t\n{\"__metadata__\" : null , \"x\":{\"data_offsets\":[0,4],\"extra\":[1,{}],\"shape\":[1],\"dtype\":\"U32\"}}\r\n   "
        let archive = try SafetensorsArchive(path: try temporaryFile(safetensorsFile(header, data: [1, 2, 3, 4]), name: "w.safetensors"))
        #expect(archive.metadata.isEmpty)
        #expect(archive.tensors.map(\.dtype) == [.u32])
        #expect(archive.tensors[0].fileOffset == UInt64(8 + header.utf8.count))
    }

    @Test func writerRejectsInconsistentTensors() throws {
        #expect(throws: QKVError.tensorSizeMismatch(tensor: "a", dtype: "F32", shape: [2], expected: 8, found: 4)) {
            try SafetensorsWriter(tensors: [.init("a", dtype: .f32, shape: [2], bytes: [0, 0, 0, 0])]).bytes()
        }
        #expect(throws: QKVError.duplicateName(field: "tensor name", name: "a")) {
            try SafetensorsWriter(tensors: [.init("a", shape: [1], values: [1]), .init("a", shape: [1], values: [1])]).bytes()
        }
        #expect(throws: QKVError.invalidTensorField(tensor: "a", field: "shape", expected: "non-negative dimensions", found: "[-1]")) {
            try SafetensorsWriter(tensors: [.init("a", dtype: .u8, shape: [-1], bytes: [])]).bytes()
        }
    }

    // MARK: Committed Hugging Face fixtures (written by transformers' save_pretrained)

    /// Counts, first and last names in data-offset order, and sizes: the Python `safetensors` 0.8.0
    /// package (`safe_open(...).metadata()`, header JSON sorted by `data_offsets`, `load_file` sizes).
    @Test(arguments: [
        ("tiny-bert", 39, "embeddings.LayerNorm.bias", "pooler.dense.weight", 18730),
        ("tiny-bert-prefixed", 43, "bert.embeddings.position_ids", "cls.predictions.transform.dense.weight", 18918),
        ("tiny-gpt2", 28, "transformer.h.0.attn.c_attn.bias", "transformer.wte.weight", 21120),
        ("tiny-llama", 21, "lm_head.weight", "model.norm.weight", 19360),
    ])
    func realFixtureOpens(folder: String, count: Int, first: String, last: String, elements: Int) throws {
        let path = fixturePath("hf/\(folder)/model.safetensors")
        for archive in [try SafetensorsArchive(path: path), try SafetensorsArchive(path: fixturePath("hf/\(folder)"))] {
            #expect(archive.metadata == ["format": "pt"])
            #expect(archive.tensors.count == count)
            #expect(archive.tensors.first?.name == first)
            #expect(archive.tensors.last?.name == last)
            #expect(archive.tensors.reduce(0) { $0 + $1.elementCount } == elements)
            #expect(archive.files.count == 1)
        }
    }

    /// Values from `safetensors.numpy.load_file` (NumPy float32 repr, shortest round-trip) and a float64 sum.
    @Test func realFixtureValuesMatchNumPy() throws {
        let bert = try SafetensorsArchive(path: fixturePath("hf/tiny-bert/model.safetensors"))
        let word = try bert.floats("embeddings.word_embeddings.weight")
        #expect(word.shape == [60, 32])
        #expect(word[0] == -0.20473786)
        #expect(word[3 * 32 + 5] == -0.16454445)
        #expect(word[60 * 32 - 1] == -0.3948965)
        #expect(abs(word.values.reduce(0.0) { $0 + Double($1) } - -3.437074839399429) < 1e-12)

        let prefixed = try SafetensorsArchive(path: fixturePath("hf/tiny-bert-prefixed"))
        let positions = try #require(prefixed.tensorInfo("bert.embeddings.position_ids"))
        #expect(positions.dtype == .i64 && positions.shape == [1, 64] && !positions.dtype.isFloatingPoint)
        let raw = try prefixed.rawBytes("bert.embeddings.position_ids")
        #expect((0..<64).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) } == Array(0..<64))

        let llama = try SafetensorsArchive(path: fixturePath("hf/tiny-llama"))
        let q = try llama.floats("model.layers.1.self_attn.q_proj.weight")
        #expect(q.shape == [32, 32])
        #expect(q[0] == -0.028626686)
        #expect(q[7 * 32 + 3] == -0.3945323)
        #expect(q[32 * 32 - 1] == 0.20365003)
        #expect(abs(q.values.reduce(0.0) { $0 + Double($1) } - -4.234391040547052) < 1e-12)
    }

    @Test func shardedFixtureMatchesTheSingleFile() throws {
        let folder = fixturePath("hf/tiny-llama-sharded")
        let sharded = try SafetensorsArchive(path: folder)
        let viaIndex = try SafetensorsArchive(path: folder + "/model.safetensors.index.json")
        let single = try SafetensorsArchive(path: fixturePath("hf/tiny-llama"))
        let shardNames = (1...3).map { "model-0000\($0)-of-00003.safetensors" }
        #expect(sharded.files == shardNames.map { folder + "/" + $0 })
        #expect(viaIndex.tensors == sharded.tensors)
        #expect(sharded.metadata == ["format": "pt"])
        // Per shard in data-offset order (Python safetensors 0.8.0): 6 + 8 + 7 tensors.
        #expect(sharded.tensors.map(\.name).prefix(1) == ["model.embed_tokens.weight"])
        #expect(sharded.tensors[5].name == "model.layers.0.self_attn.v_proj.weight")
        #expect(sharded.tensors[6].name == "model.layers.0.input_layernorm.weight")
        #expect(sharded.tensors[13].name == "model.layers.1.self_attn.v_proj.weight")
        #expect(sharded.tensors[14].name == "lm_head.weight")
        #expect(sharded.tensors.last?.name == "model.norm.weight")
        #expect(sharded.tensorInfo("model.embed_tokens.weight")?.file == folder + "/" + shardNames[0])
        #expect(sharded.tensorInfo("lm_head.weight")?.file == folder + "/" + shardNames[2])
        // The same weights were written once whole and once sharded: every tensor must agree bit for bit.
        #expect(Set(sharded.tensors.map(\.name)) == Set(single.tensors.map(\.name)))
        for info in single.tensors {
            let ours = try sharded.floats(info.name)
            #expect(ours.shape == info.shape)
            #expect(ours.values.map(\.bitPattern) == (try single.floats(info.name)).values.map(\.bitPattern), "\(info.name)")
        }
        #expect(try sharded.floats("model.layers.1.self_attn.q_proj.weight")[7 * 32 + 3] == -0.3945323)
    }

    @Test func folderPrefersTheSingleFile() throws {
        let file = try SafetensorsWriter(tensors: [.init("a", shape: [1], values: [2])]).bytes()
        let folder = try temporaryFolder(["model.safetensors": file, "model.safetensors.index.json": Array("not json".utf8)])
        let archive = try SafetensorsArchive(path: folder)
        #expect(archive.files == [folder + "/model.safetensors"])
        #expect(try archive.floats("a").values == [2])
    }
}
