import Foundation
import Testing
@testable import QKVKit

/// One hand-built file per rule of the safetensors format (and of sharded checkpoints), each
/// asserting the exact error. None of them reads or allocates more than a few bytes.
@Suite struct HostileSafetensorsTests {
    /// One F32 [1] tensor "a" at [0, 4], and its 4 data bytes (1.0).
    static let one = "{" + stEntry("a") + "}"
    static let four: [UInt8] = [0, 0, 0x80, 0x3F]
    static let integers = "an array of integers in 0...9223372036854775807"
    static let offsetsExpected = "[begin, end], two integers in 0...9223372036854775807"

    @Test func theBaseFileIsValid() throws {
        #expect(try safetensorsError(safetensorsFile(Self.one, data: Self.four)) == nil)
    }

    // MARK: Length field

    @Test func fileShorterThanTheLengthField() throws {
        #expect(try safetensorsError([1, 0, 0]) == .truncated(field: "header length", offset: 0, needed: 8, available: 3))
        #expect(try safetensorsError([]) == .truncated(field: "header length", offset: 0, needed: 8, available: 0))
    }

    @Test func headerLongerThanTheFile() throws {
        #expect(try safetensorsError(safetensorsFile("{}", length: 1000)) == .truncated(field: "header", offset: 8, needed: 1000, available: 2))
        // The 100 MB cap is inclusive: exactly 100_000_000 passes it and fails on the file size.
        #expect(
            try safetensorsError(safetensorsFile("{}", length: 100_000_000))
                == .truncated(field: "header", offset: 8, needed: 100_000_000, available: 2))
    }

    @Test func headerOver100MB() throws {
        for declared: UInt64 in [100_000_001, 1 << 40, .max] {
            #expect(try safetensorsError(safetensorsFile("{}", length: declared)) == .headerTooLarge(declared: declared, maximum: 100_000_000))
        }
    }

    // MARK: Header text

    @Test(arguments: [
        [0xFF] as [UInt8],  // never valid
        [0xC0, 0x80],  // overlong NUL
        [0xE0, 0x80, 0x80],  // overlong
        [0xED, 0xA0, 0x80],  // UTF-16 surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xE2, 0x82],  // sequence cut short by the closing quote
        [0x80],  // lone continuation byte
    ])
    func headerNotUTF8(bad: [UInt8]) throws {
        let header = Array("{\"a".utf8) + bad + Array("\":1}".utf8)
        #expect(try safetensorsError(safetensorsFile(headerBytes: header)) == .invalidUTF8(field: "header", offset: 8 + 3))
    }

    /// (header, byte index of the reported offset within the header, reason).
    @Test(arguments: [
        ("", 0, "expected a value, found the end of the document"),
        ("   ", 3, "expected a value, found the end of the document"),
        ("{\"a\":}", 5, "expected a value, found '}'"),
        ("{\"a\":1,}", 7, "expected a string key, found '}'"),
        ("{a:1}", 1, "expected a string key, found 'a'"),
        ("{\"a\" 1}", 5, "expected ':' after the key \"a\", found '1'"),
        ("{\"a\":1} x", 8, "expected the end of the document after the value, found 'x'"),
        ("{}{}", 2, "expected the end of the document after the value, found '{'"),
        ("{\"a\":NaN}", 5, "expected a value, found 'N'"),
        ("{\"a\":tru}", 5, "expected the literal true"),
        ("{\"a\":01}", 5, "number with a leading zero"),
        ("{\"a\":-}", 6, "expected a digit after '-', found '}'"),
        ("{\"a\":1.}", 7, "expected a digit after the decimal point, found '}'"),
        ("{\"a\":1e}", 7, "expected a digit in the exponent, found '}'"),
        ("{\"a\":[1 2]}", 8, "expected ',' or ']' after an array element, found '2'"),
        ("{\"a\":1 /* c */}", 7, "expected ',' or '}' after an object member, found '/'"),
        ("{\"a\":\"b", 5, "string never closed"),
        ("{\"a\u{0A}\":1}", 3, "control character byte 0x0A inside a string (it must be escaped)"),
        ("{\"a\\x\":1}", 3, "unknown escape: 'x' after a backslash"),
        ("{\"\\u12G4\":1}", 2, "\\u must be followed by four hex digits"),
        ("{\"\\udc00\":1}", 2, "lone low surrogate \\uDC00"),
        ("{\"\\ud800x\":1}", 2, "high surrogate \\uD800 not followed by a low surrogate"),
        ("{\"\\ud800\\u0041\":1}", 2, "high surrogate \\uD800 not followed by a low surrogate"),
    ])
    func headerNotJSON(header: String, index: Int, reason: String) throws {
        #expect(try safetensorsError(safetensorsFile(header)) == .invalidJSON(what: "header", offset: 8 + index, reason: reason))
    }

    @Test func headerNestedTooDeep() throws {
        let header = "{\"__metadata__\":" + String(repeating: "[", count: 20) + String(repeating: "]", count: 20) + "}"
        // The top object is level 1, so the 8th bracket is level 9.
        #expect(
            try safetensorsError(safetensorsFile(header))
                == .invalidJSON(what: "header", offset: 8 + 16 + 7, reason: "arrays and objects nested deeper than 8 levels"))
    }

    @Test func headerWithTooManyValues() throws {
        // maximumEntries 0 allows 16 * 0 + 4096 values: the object, the array and 4094 zeros.
        let header = "{\"__metadata__\":[" + Array(repeating: "0", count: 5000).joined(separator: ",") + "]}"
        #expect(
            try safetensorsError(safetensorsFile(header), limits: .init(maximumEntries: 0))
                == .invalidJSON(what: "header", offset: 8 + 17 + 2 * 4094, reason: "more than 4096 values"))
    }

    @Test(arguments: [("[]", "an array"), ("\"{}\"", "a string"), ("null", "null"), ("7", "a number"), (" true ", "a boolean")])
    func headerNotAnObject(header: String, found: String) throws {
        #expect(try safetensorsError(safetensorsFile(header)) == .wrongJSONType(what: "header", expected: "an object", found: found))
    }

    // MARK: __metadata__

    @Test func metadataNotAnObjectOfStrings() throws {
        #expect(
            try safetensorsError(safetensorsFile("{\"__metadata__\":[1]}"))
                == .invalidHeaderMetadata(key: nil, expected: "an object of strings", found: "[1]"))
        #expect(
            try safetensorsError(safetensorsFile("{\"__metadata__\":\"pt\"}"))
                == .invalidHeaderMetadata(key: nil, expected: "an object of strings", found: "\"pt\""))
        #expect(
            try safetensorsError(safetensorsFile("{\"__metadata__\":{\"format\":1}}"))
                == .invalidHeaderMetadata(key: "format", expected: "a string", found: "1"))
        #expect(
            try safetensorsError(safetensorsFile("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}"))
                == .invalidHeaderMetadata(key: "a", expected: "a string", found: "{\"b\":\"c\"}"))
    }

    // MARK: Tensor entries

    @Test func entryNotAnObject() throws {
        #expect(
            try safetensorsError(safetensorsFile("{\"a\":[0,4]}"))
                == .invalidTensorField(tensor: "a", field: "", expected: "an object with dtype, shape and data_offsets", found: "[0,4]"))
    }

    @Test func missingFields() throws {
        let fields = ["\"dtype\":\"F32\"", "\"shape\":[1]", "\"data_offsets\":[0,4]"]
        for (index, name) in ["dtype", "shape", "data_offsets"].enumerated() {
            var present = fields
            present.remove(at: index)
            let header = "{\"a\":{" + present.joined(separator: ",") + "}}"
            #expect(try safetensorsError(safetensorsFile(header, data: Self.four)) == .missingTensorField(tensor: "a", field: name))
        }
    }

    @Test(arguments: ["1", "null", "[\"F32\"]"])
    func dtypeNotAString(dtype: String) throws {
        let header = "{\"a\":{\"dtype\":\(dtype),\"shape\":[1],\"data_offsets\":[0,4]}}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four))
                == .invalidTensorField(tensor: "a", field: "dtype", expected: "a string", found: dtype))
    }

    @Test(arguments: ["F8_E4M3", "F8_E5M2", "C64", "X", "f32", "", "F32 "])
    func unsupportedDType(dtype: String) throws {
        let header = "{" + stEntry("a", dtype) + "}"
        #expect(try safetensorsError(safetensorsFile(header, data: Self.four)) == .unsupportedSafetensorsDType(tensor: "a", dtype: dtype))
    }

    @Test(arguments: ["\"1\"", "1", "{}", "[1.0]", "[-1]", "[-0]", "[1e0]", "[9223372036854775808]", "[1,null]", "[true]"])
    func shapeNotNonNegativeIntegers(shape: String) throws {
        let header = "{" + stEntry("a", shape: shape) + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four))
                == .invalidTensorField(tensor: "a", field: "shape", expected: Self.integers, found: shape))
    }

    @Test(arguments: ["[0]", "[0,4,8]", "[]", "\"0,4\"", "[-1,3]", "[0,4.0]", "[0,18446744073709551616]", "[0,null]", "{\"0\":4}"])
    func dataOffsetsNotAPair(offsets: String) throws {
        let header = "{" + stEntry("a", offsets: offsets) + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four))
                == .invalidTensorField(tensor: "a", field: "data_offsets", expected: Self.offsetsExpected, found: offsets))
    }

    @Test func dataOffsetsBackwards() throws {
        let header = "{" + stEntry("a", offsets: "[8,4]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four + Self.four))
                == .invalidTensorField(tensor: "a", field: "data_offsets", expected: "begin <= end", found: "[8,4]"))
    }

    @Test func spanDisagreesWithShapeAndDType() throws {
        #expect(
            try safetensorsError(safetensorsFile("{" + stEntry("a", shape: "[2]") + "}", data: Self.four))
                == .tensorSizeMismatch(tensor: "a", dtype: "F32", shape: [2], expected: 8, found: 4))
        #expect(
            try safetensorsError(safetensorsFile("{" + stEntry("a", "BF16", shape: "[3]") + "}", data: Self.four))
                == .tensorSizeMismatch(tensor: "a", dtype: "BF16", shape: [3], expected: 6, found: 4))
        #expect(
            try safetensorsError(safetensorsFile("{" + stEntry("a", shape: "[]", offsets: "[0,0]") + "}"))
                == .tensorSizeMismatch(tensor: "a", dtype: "F32", shape: [], expected: 4, found: 0))
    }

    @Test func elementCountOrByteSizeOverflows() throws {
        for shape in ["[4294967296,4294967296]", "[9223372036854775807]", "[4294967296,4294967296,0]"] {
            #expect(try safetensorsError(safetensorsFile("{" + stEntry("a", shape: shape) + "}", data: Self.four)) == .sizeOverflow(tensor: "a"))
        }
    }

    @Test func zeroSizedTensorWithHugeDimensionsIsLegal() throws {
        // 0 * anything is 0: the reference accepts it, and so must we, without trapping later.
        let header = "{" + stEntry("a", shape: "[0,9223372036854775807,9223372036854775807]", offsets: "[0,0]") + "}"
        let archive = try SafetensorsArchive(path: try temporaryFile(safetensorsFile(header), name: "z.safetensors"))
        #expect(archive.tensors[0].elementCount == 0)
        #expect(try archive.floats("a").count == 0)
    }

    // MARK: Data buffer

    @Test func gapBetweenTensors() throws {
        let header = "{" + stEntry("a") + "," + stEntry("b", offsets: "[8,12]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four + Self.four + Self.four))
                == .tensorNotContiguous(tensor: "b", expectedBegin: 4, foundBegin: 8))
    }

    @Test func overlappingTensors() throws {
        let header = "{" + stEntry("a", shape: "[2]", offsets: "[0,8]") + "," + stEntry("b", shape: "[2]", offsets: "[4,12]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four + Self.four + Self.four))
                == .tensorNotContiguous(tensor: "b", expectedBegin: 8, foundBegin: 4))
        // Two tensors sharing one span: the second in header order is the overlap.
        let shared = "{" + stEntry("b") + "," + stEntry("a") + "}"
        #expect(try safetensorsError(safetensorsFile(shared, data: Self.four)) == .tensorNotContiguous(tensor: "a", expectedBegin: 4, foundBegin: 0))
    }

    @Test func dataNotStartingAtZero() throws {
        let header = "{" + stEntry("a", offsets: "[4,8]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four + Self.four))
                == .tensorNotContiguous(tensor: "a", expectedBegin: 0, foundBegin: 4))
    }

    @Test func trailingBytes() throws {
        #expect(try safetensorsError(safetensorsFile(Self.one, data: Self.four + [0])) == .dataSizeMismatch(covered: 4, available: 5))
        #expect(try safetensorsError(safetensorsFile("{}", data: [0, 0, 0])) == .dataSizeMismatch(covered: 0, available: 3))
    }

    @Test func truncatedData() throws {
        #expect(try safetensorsError(safetensorsFile(Self.one, data: [0, 0])) == .dataSizeMismatch(covered: 4, available: 2))
        // Offsets far past the end are caught by arithmetic on the header alone; nothing is read there.
        let far = "{" + stEntry("a", "U8", shape: "[1099511627776]", offsets: "[0,1099511627776]") + "}"
        #expect(try safetensorsError(safetensorsFile(far, data: Self.four)) == .dataSizeMismatch(covered: 1 << 40, available: 4))
    }

    // MARK: Names

    @Test func duplicateTensorNames() throws {
        let header = "{" + stEntry("a") + "," + stEntry("a", offsets: "[4,8]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four + Self.four))
                == .duplicateJSONKey(what: "header", path: "", key: "a", offset: headerOffset(of: "\"a\"", in: header, occurrence: 2)))
        // An escape spelling the same name is the same name.
        let escaped = "{" + stEntry("a") + "," + stEntry("\\u0061", offsets: "[4,8]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(escaped, data: Self.four + Self.four))
                == .duplicateJSONKey(what: "header", path: "", key: "a", offset: headerOffset(of: "\"\\u0061\"", in: escaped)))
        // Canonically equivalent spellings (precomposed and combining acute) are one name to a Swift lookup.
        let composed = "{" + stEntry("\\u00e9") + "," + stEntry("e\\u0301", offsets: "[4,8]") + "}"
        #expect(
            try safetensorsError(safetensorsFile(composed, data: Self.four + Self.four))
                == .duplicateJSONKey(what: "header", path: "", key: "e\u{301}", offset: headerOffset(of: "\"e\\u0301\"", in: composed)))
    }

    @Test func duplicateKeysInsideEntriesAndMetadata() throws {
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"dtype\":\"F16\",\"data_offsets\":[0,4]}}"
        #expect(
            try safetensorsError(safetensorsFile(header, data: Self.four))
                == .duplicateJSONKey(what: "header", path: "/a", key: "dtype", offset: headerOffset(of: "\"dtype\"", in: header, occurrence: 2)))
        let metadata = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"
        #expect(
            try safetensorsError(safetensorsFile(metadata))
                == .duplicateJSONKey(what: "header", path: "/__metadata__", key: "k", offset: headerOffset(of: "\"k\"", in: metadata, occurrence: 2)))
        // Large objects are checked through a hash set: repeats at the switch-over point and well past it.
        for (count, repeated) in [(16, 15), (16, 0), (40, 3), (40, 39)] {
            let keys = (0..<count).map { "\"k\($0)\":\"v\"" } + ["\"k\(repeated)\":\"w\""]
            let large = "{\"__metadata__\":{" + keys.joined(separator: ",") + "}}"
            #expect(
                try safetensorsError(safetensorsFile(large))
                    == .duplicateJSONKey(
                        what: "header", path: "/__metadata__", key: "k\(repeated)", offset: headerOffset(of: "\"k\(repeated)\"", in: large, occurrence: 2)))
        }
        let twice = "{\"__metadata__\":{},\"__metadata__\":{}}"
        #expect(
            try safetensorsError(safetensorsFile(twice))
                == .duplicateJSONKey(what: "header", path: "", key: "__metadata__", offset: 8 + 19))
    }

    @Test func tooManyEntries() throws {
        let header = "{\"__metadata__\":{}," + [stEntry("a"), stEntry("b", offsets: "[4,8]"), stEntry("c", offsets: "[8,12]")].joined(separator: ",") + "}"
        let data = Self.four + Self.four + Self.four
        #expect(try safetensorsError(safetensorsFile(header, data: data), limits: .init(maximumEntries: 3)) == nil)
        #expect(
            try safetensorsError(safetensorsFile(header, data: data), limits: .init(maximumEntries: 2))
                == .tooManyEntries(what: "header", count: 3, maximum: 2))
    }

    /// Found by fuzzing (gguf; the same for every format): a file without a known architecture
    /// takes its layer count from the highest layer a tensor names, and inspect listed a group for
    /// every layer up to it: `qkv inspect` on this 90-byte file asked for 144 GB and trapped.
    @Test func layerIndexFarBeyondTheTensors() throws {
        let header = "{" + stEntry("layers.2000000000.w") + "," + stEntry("layers.1.w", offsets: "[4,8]") + "}"
        let path = try temporaryFile(safetensorsFile(header, data: floatBytes([1, 2])), name: "model.safetensors")
        let checkpoint = try CheckpointLoader.open(path: path)
        #expect(checkpoint.layerCount == 2_000_000_001)
        #expect(checkpoint.parameterCount.groups.map(\.name) == ["embeddings", "layer 1", "layer 2000000000", "other"])
        #expect(checkpoint.parameterCount.totalParameters == 2)
        #expect(InspectReport(checkpoint).text(showTensors: true, markdown: false).contains("layer 2000000000"))
    }

    // MARK: Paths

    @Test func folderWithoutACheckpoint() throws {
        let folder = try temporaryFolder(["config.json": Array("{}".utf8)])
        do {
            _ = try SafetensorsArchive(path: folder, limits: .init())
            Issue.record("expected a folder without model files to be refused")
        } catch {
            #expect(error.path == folder)
            #expect(error.error == .cannotOpen(reason: "no model.safetensors or model.safetensors.index.json in this folder"))
        }
    }

    // MARK: Sharded checkpoints

    /// A shard holding F32 [1] tensors with these names, in this order.
    func shard(_ names: [String]) throws -> [UInt8] {
        try SafetensorsWriter(tensors: names.map { .init($0, shape: [1], values: [1]) }, metadata: ["format": "pt"]).bytes()
    }

    /// Opens a folder with this index and these shards; returns the folder and the error (nil if it opened).
    func openSharded(
        index: String, shards: [String: [UInt8]], limits: SafetensorsHeader.Limits = .init()
    ) throws -> (folder: String, error: LocatedError?) {
        var files = shards
        files["model.safetensors.index.json"] = Array(index.utf8)
        let folder = try temporaryFolder(files)
        do {
            _ = try SafetensorsArchive(path: folder, limits: limits)
            return (folder, nil)
        } catch {
            return (folder, error)
        }
    }

    func weightMap(_ pairs: KeyValuePairs<String, String>) -> String {
        "{\"metadata\":{\"total_size\":8},\"weight_map\":{" + pairs.map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }.joined(separator: ",") + "}}"
    }

    @Test func validShardsOpen() throws {
        let (folder, error) = try openSharded(
            index: weightMap(["b": "s2.safetensors", "a": "s1.safetensors", "c": "s2.safetensors"]),
            shards: ["s1.safetensors": try shard(["a"]), "s2.safetensors": try shard(["c", "b"])])
        #expect(error == nil)
        let archive = try SafetensorsArchive(path: folder)
        #expect(archive.files == [folder + "/s1.safetensors", folder + "/s2.safetensors"])
        #expect(archive.tensors.map(\.name) == ["a", "c", "b"])
    }

    @Test(arguments: ["../x.safetensors", "sub/x.safetensors", "/etc/passwd", "..", ".", "", "a\\b.safetensors", "a\u{0}b"])
    func shardNameEscapesTheFolder(name: String) throws {
        let (folder, error) = try openSharded(index: weightMap(["a": name]), shards: [:])
        #expect(error?.path == folder + "/model.safetensors.index.json")
        #expect(error?.error == .unsafeShardName(name))
    }

    @Test func shardMissingAListedTensor() throws {
        let (folder, error) = try openSharded(
            index: weightMap(["a": "s1.safetensors", "b": "s1.safetensors"]), shards: ["s1.safetensors": try shard(["a"])])
        #expect(error?.path == folder + "/s1.safetensors")
        #expect(error?.error == .shardMissingTensor(tensor: "b", shard: "s1.safetensors"))
    }

    @Test func shardTensorNotInWeightMap() throws {
        let (folder, error) = try openSharded(index: weightMap(["a": "s1.safetensors"]), shards: ["s1.safetensors": try shard(["a", "b"])])
        #expect(error?.path == folder + "/s1.safetensors")
        #expect(error?.error == .tensorNotInWeightMap(tensor: "b", shard: "s1.safetensors", listedIn: nil))
    }

    @Test func shardTensorListedInAnotherShard() throws {
        let (folder, error) = try openSharded(
            index: weightMap(["a": "s2.safetensors", "b": "s1.safetensors"]),
            shards: ["s1.safetensors": try shard(["a", "b"]), "s2.safetensors": try shard([])])
        #expect(error?.path == folder + "/s1.safetensors")
        #expect(error?.error == .tensorNotInWeightMap(tensor: "a", shard: "s1.safetensors", listedIn: "s2.safetensors"))
    }

    @Test func tensorInTwoShards() throws {
        let (folder, error) = try openSharded(
            index: weightMap(["a": "s1.safetensors", "b": "s2.safetensors"]),
            shards: ["s1.safetensors": try shard(["a"]), "s2.safetensors": try shard(["a", "b"])])
        #expect(error?.path == folder + "/s2.safetensors")
        #expect(error?.error == .tensorInTwoShards(tensor: "a", first: "s1.safetensors", second: "s2.safetensors"))
    }

    @Test func missingShardFile() throws {
        let (folder, error) = try openSharded(index: weightMap(["a": "gone.safetensors"]), shards: [:])
        #expect(error?.path == folder + "/gone.safetensors")
        #expect(error?.error == .cannotOpen(reason: "No such file or directory"))
    }

    @Test func invalidShardIsNamed() throws {
        var bad = try shard(["a"])
        bad.append(0)
        let (folder, error) = try openSharded(index: weightMap(["a": "s1.safetensors"]), shards: ["s1.safetensors": bad])
        #expect(error?.path == folder + "/s1.safetensors")
        #expect(error?.error == .dataSizeMismatch(covered: 4, available: 5))
    }

    @Test func duplicateTensorInWeightMap() throws {
        let index = "{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s1.safetensors\"}}"
        let (folder, error) = try openSharded(index: index, shards: ["s1.safetensors": try shard(["a"])])
        #expect(error?.path == folder + "/model.safetensors.index.json")
        let offset = headerOffset(of: "\"a\"", in: index, occurrence: 2) - 8
        #expect(error?.error == .duplicateJSONKey(what: "shard index", path: "/weight_map", key: "a", offset: offset))
    }

    @Test(arguments: [
        ("xyz", QKVError.invalidJSON(what: "shard index", offset: 0, reason: "expected a value, found 'x'")),
        ("[]", .wrongJSONType(what: "shard index", expected: "an object", found: "an array")),
        ("{\"metadata\":{}}", .wrongJSONType(what: "shard index", expected: "an object with a \"weight_map\" member", found: "no weight_map")),
        ("{\"weight_map\":[]}", .wrongJSONType(what: "weight_map", expected: "an object of tensor name to shard file", found: "[]")),
        ("{\"weight_map\":{}}", .wrongJSONType(what: "weight_map", expected: "at least one tensor", found: "{}")),
        ("{\"weight_map\":{\"a\":1}}", .wrongJSONType(what: "weight_map \"a\"", expected: "a shard file name", found: "1")),
    ])
    func malformedIndex(index: String, expected: QKVError) throws {
        let (folder, error) = try openSharded(index: index, shards: [:])
        #expect(error?.path == folder + "/model.safetensors.index.json")
        #expect(error?.error == expected)
    }

    @Test func indexTooLarge() throws {
        let index = weightMap(["a": "s1.safetensors"])
        let (_, error) = try openSharded(index: index, shards: [:], limits: .init(maximumHeaderBytes: 16))
        #expect(error?.error == .fileTooLarge(what: "shard index", size: UInt64(index.utf8.count), maximum: 16))
    }

    // MARK: The JSON parser on valid input

    @Test func strictJSONDecodesEscapesAndKeepsNumberText() throws {
        let text = "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\",\"n\":[0,-1.5e+3,9223372036854775807,9223372036854775808,-0,1.0,1E2],\"o\":{},\"l\":[true,false,null]}"
        let value = try StrictJSON.parse(Array(text.utf8), what: "test")
        #expect(value["s"] == .string("é😀\n\"\\/\u{8}\u{C}\r\t"))
        let numbers = try #require(value["n"]?.array)
        #expect(numbers == ["0", "-1.5e+3", "9223372036854775807", "9223372036854775808", "-0", "1.0", "1E2"].map { .number($0) })
        #expect(numbers.map(\.nonNegativeInteger) == [0, nil, Int64.max, nil, nil, nil, nil])
        #expect(numbers.map(\.integer) == [0, nil, Int.max, nil, 0, nil, nil])
        #expect(numbers.map(\.double) == [0, -1500, 0x1p63, 0x1p63, -0.0, 1, 100])
        #expect(value["o"] == .object([]))
        #expect(value["l"] == .array([.bool(true), .bool(false), .null]))
        #expect(value.members?.map(\.key) == ["s", "n", "o", "l"])
        #expect(value.rendered(limit: 10) == "{\"s\":\"é😀\\n...")
        #expect(StrictJSON.Value.array([.number("1"), .string("x\u{1}"), .object([.init(key: "k", value: .null)])]).rendered()
            == "[1,\"x\\u0001\",{\"k\":null}]")
    }

    @Test func strictJSONIntegerBounds() throws {
        let numbers = try #require(try StrictJSON.parse(Array("[-9223372036854775808,-9223372036854775809,9223372036854775808,-12,1e999]".utf8), what: "test").array)
        #expect(numbers.map(\.integer) == [Int.min, nil, nil, -12, nil])
        #expect(numbers.map(\.nonNegativeInteger) == [nil, nil, nil, nil, nil])
        #expect(numbers[4].double == .infinity)
        #expect(StrictJSON.Value.string("1").integer == nil)
        #expect(StrictJSON.Value.string("1").double == nil)
    }

    @Test func strictJSONKeepsRepeatedKeysWhenAsked() throws {
        // Exact repeats and canonically equivalent spellings ("\u{E9}" and "e\u{301}") all stay, in file order.
        let text = "{\"a\":1,\"a\":2,\"\\u00e9\":3,\"e\\u0301\":4,\"o\":{\"k\":[],\"k\":{}}}"
        let value = try StrictJSON.parse(Array(text.utf8), what: "test", duplicateKeys: .keep)
        let members = try #require(value.members)
        #expect(members.map { Array($0.key.unicodeScalars) } == [["a"], ["a"], ["\u{E9}"], ["e", "\u{301}"], ["o"]])
        #expect(members.map(\.value) == [.number("1"), .number("2"), .number("3"), .number("4"), .object([.init(key: "k", value: .array([])), .init(key: "k", value: .object([]))])])
        // The default still rejects them.
        #expect(throws: QKVError.duplicateJSONKey(what: "test", path: "", key: "a", offset: 7)) {
            try StrictJSON.parse(Array(text.utf8), what: "test")
        }
    }
}
