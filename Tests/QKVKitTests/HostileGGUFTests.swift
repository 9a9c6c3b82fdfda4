import Foundation
import Testing
@testable import QKVKit

/// One hand-built GGUF file per rule of the format (ggml docs/gguf.md, llama.cpp's gguf.cpp) and of
/// the model it describes, each asserting the exact error. None reads or allocates more than the
/// bytes it is given, whatever counts, lengths or dims the file claims.
@Suite struct HostileGGUFTests {
    typealias V = GGUFBytes.ValueType

    /// A header whose first key/value (`general.name`, a 200-byte string) leaves room for the count
    /// checks, so that cutting the file inside the next field reaches that field's own check.
    static func roomy(entries more: [[UInt8]] = [], tensors: [[UInt8]] = []) -> GGUFBytes {
        var file = GGUFBytes()
        file.entries = [GGUFBytes.text("general.name", String(repeating: "x", count: 200))] + more
        file.tensors = tensors
        return file
    }

    /// Where the second key/value (or the first tensor info of `roomy(tensors:)`) starts: 24 + 232.
    static let second = 256

    /// One F32 [4] tensor "t" at offset 0, and its data.
    static func oneTensor(_ info: [UInt8]? = nil, data: [UInt8] = [UInt8](repeating: 0, count: 16)) -> GGUFBytes {
        var file = GGUFBytes()
        file.tensors = [info ?? GGUFBytes.tensor("t", dims: [4], offset: 0)]
        file.data = data
        return file
    }

    @Test func theBaseFilesAreValid() throws {
        #expect(ggufHeaderError(GGUFBytes().bytes()) == nil)
        #expect(ggufHeaderError(Self.roomy().bytes()) == nil)
        #expect(ggufHeaderError(Self.oneTensor().bytes()) == nil)
        let checkpoint = try CheckpointLoader.open(path: try temporaryFile(TinyGGUF().bytes(), name: "tiny.gguf"))
        #expect(checkpoint.parameterCount.totalParameters == 4 * 8 + 8 + 2 * 64 + 2 * 32 + 8 + 3 * 64 + 8)
        let report = try AttentionRunner.run(AttentionRequest(input: .tokens("0,1,3")), checkpoint: checkpoint)
        #expect(report.layers.count == 1 && report.layers[0].heads.count == 2)
        #expect(report.layers[0].heads.allSatisfy { $0.allSatisfy(\.isFinite) })
        #expect(checkpoint.verifyAll().problems.isEmpty)
    }

    // MARK: Truncation, field by field

    @Test func truncatedHeaderFields() {
        let file = GGUFBytes().bytes()
        #expect(ggufHeaderError([]) == .truncated(field: "magic", offset: 0, needed: 4, available: 0))
        #expect(ggufHeaderError(Array(file.prefix(2))) == .truncated(field: "magic", offset: 0, needed: 4, available: 2))
        #expect(ggufHeaderError(Array(file.prefix(6))) == .truncated(field: "version", offset: 4, needed: 4, available: 2))
        #expect(ggufHeaderError(Array(file.prefix(11))) == .truncated(field: "tensor_count", offset: 8, needed: 8, available: 3))
        #expect(ggufHeaderError(Array(file.prefix(21))) == .truncated(field: "metadata_kv_count", offset: 16, needed: 8, available: 5))
    }

    @Test func truncatedKey() {
        let file = Self.roomy(entries: [GGUFBytes.u32("general.k", 1)]).bytes()
        #expect(ggufHeaderError(Array(file.prefix(Self.second + 3)))
            == .truncated(field: "metadata key 1 length", offset: Self.second, needed: 8, available: 3))
        // The key's declared 9 bytes run past the end.
        #expect(ggufHeaderError(Array(file.prefix(Self.second + 8 + 4)))
            == .countTooLarge(field: "metadata key 1 length (at byte 256)", count: 9, remainingBytes: 4))
    }

    @Test func truncatedValueType() {
        let file = Self.roomy(entries: [GGUFBytes.u32("k", 1)]).bytes()
        #expect(ggufHeaderError(Array(file.prefix(Self.second + 9 + 2)))
            == .truncated(field: "metadata \"k\" type", offset: 265, needed: 4, available: 2))
    }

    /// Every fixed-size value type cut one byte short.
    @Test(arguments: [(V.u8, 1), (.i8, 1), (.bool, 1), (.u16, 2), (.i16, 2), (.u32, 4), (.i32, 4), (.f32, 4),
                      (.u64, 8), (.i64, 8), (.f64, 8)])
    func truncatedScalarValue(type: V, size: Int) {
        let value = [UInt8](repeating: 0, count: size)
        let file = Self.roomy(entries: [GGUFBytes.entry("k", type, value)]).bytes()
        #expect(ggufHeaderError(file) == nil)
        #expect(ggufHeaderError(Array(file.prefix(269 + size - 1)))
            == .truncated(field: "metadata \"k\"", offset: 269, needed: size, available: size - 1))
    }

    @Test func truncatedStringValue() {
        let file = Self.roomy(entries: [GGUFBytes.text("k", "0123456789")]).bytes()
        #expect(ggufHeaderError(Array(file.prefix(269 + 5))) == .truncated(field: "metadata \"k\" length", offset: 269, needed: 8, available: 5))
        #expect(ggufHeaderError(Array(file.prefix(269 + 8 + 3)))
            == .countTooLarge(field: "metadata \"k\" length (at byte 269)", count: 10, remainingBytes: 3))
    }

    @Test func truncatedArray() {
        let numbers = Self.roomy(entries: [GGUFBytes.array("k", of: V.u32.rawValue, count: 4, (1...4).flatMap { le(UInt32($0)) })]).bytes()
        #expect(ggufHeaderError(numbers) == nil)
        #expect(ggufHeaderError(Array(numbers.prefix(269 + 1))) == .truncated(field: "metadata \"k\" array type", offset: 269, needed: 4, available: 1))
        #expect(ggufHeaderError(Array(numbers.prefix(273 + 7))) == .truncated(field: "metadata \"k\" array length", offset: 273, needed: 8, available: 7))
        #expect(ggufHeaderError(Array(numbers.prefix(281 + 10)))
            == .countTooLarge(field: "metadata \"k\" array length (at byte 273)", count: 4, remainingBytes: 10))
        // Strings: the first whole, the second's length cut.
        let strings = Self.roomy(entries: [GGUFBytes.strings("k", ["abcdefghij", "b"])]).bytes()
        #expect(ggufHeaderError(strings) == nil)
        #expect(ggufHeaderError(Array(strings.prefix(281 + 18 + 3)))
            == .truncated(field: "metadata \"k\"[1] length", offset: 299, needed: 8, available: 3))
        #expect(ggufHeaderError(Array(strings.prefix(281 + 18 + 8)))
            == .countTooLarge(field: "metadata \"k\"[1] length (at byte 299)", count: 1, remainingBytes: 0))
    }

    @Test func truncatedTensorInfo() {
        let file = Self.roomy(tensors: [GGUFBytes.tensor("weight", dims: [4, 2], offset: 0)])
        let bytes = file.header() + [UInt8](repeating: 0, count: 32)
        #expect(ggufHeaderError(Array(bytes.prefix(256 + 4))) == .truncated(field: "tensor 0 name length", offset: 256, needed: 8, available: 4))
        #expect(ggufHeaderError(Array(bytes.prefix(264 + 2)))
            == .countTooLarge(field: "tensor 0 name length (at byte 256)", count: 6, remainingBytes: 2))
        #expect(ggufHeaderError(Array(bytes.prefix(270 + 2))) == .truncated(field: "tensor \"weight\" n_dims", offset: 270, needed: 4, available: 2))
        #expect(ggufHeaderError(Array(bytes.prefix(274 + 5))) == .truncated(field: "tensor \"weight\" ne[0]", offset: 274, needed: 8, available: 5))
        #expect(ggufHeaderError(Array(bytes.prefix(282 + 3))) == .truncated(field: "tensor \"weight\" ne[1]", offset: 282, needed: 8, available: 3))
        #expect(ggufHeaderError(Array(bytes.prefix(290 + 1))) == .truncated(field: "tensor \"weight\" type", offset: 290, needed: 4, available: 1))
        #expect(ggufHeaderError(Array(bytes.prefix(294 + 7))) == .truncated(field: "tensor \"weight\" offset", offset: 294, needed: 8, available: 7))
    }

    /// The header ends at 302; the data section starts at 320 (alignment 32).
    @Test func truncatedDataSection() {
        let file = Self.roomy(tensors: [GGUFBytes.tensor("weight", dims: [4, 2], offset: 0)])
        let bytes = file.header()
        #expect(bytes.count == 302)
        #expect(ggufHeaderError(bytes + [0, 0, 0, 0, 0, 0, 0, 0]) == .truncated(field: "data section", offset: 302, needed: 18, available: 8))
        #expect(ggufHeaderError(bytes + [UInt8](repeating: 0, count: 18 + 31))
            == .invalidField(field: "tensor \"weight\" offset", offset: 294, expected: "32 bytes inside the 31-byte data section", found: "offset 0"))
        #expect(ggufHeaderError(bytes + [UInt8](repeating: 0, count: 18 + 32)) == nil)
    }

    /// Through the loader, a header error is a LocatedError naming the file.
    @Test func loaderLocatesHeaderErrors() throws {
        var file = Self.roomy(entries: [GGUFBytes.entry("k", .bool, [9])])
        file.tensors = []
        let path = try temporaryFile(file.bytes(), name: "bool.gguf")
        do {
            _ = try CheckpointLoader.open(path: path)
            Issue.record("opened a file with a bool of 9")
        } catch let error as LocatedError {
            #expect(error.path == path)
            #expect(error.error == .invalidField(field: "metadata \"k\"", offset: 269, expected: "a bool (0 or 1)", found: "9"))
            #expect(error.description == "\(path): metadata \"k\" (byte 269): expected a bool (0 or 1), found 9")
        }
    }

    // MARK: Magic and version

    @Test func badMagic() throws {
        var file = GGUFBytes()
        file.magic = Array("GGUG".utf8)
        #expect(ggufHeaderError(file.bytes()) == .badGGUFMagic(found: Array("GGUG".utf8)))
        // Through the loader a file is a GGUF only by its magic, so this is no format at all.
        #expect(try ggufOpenError(file.bytes()) == .unrecognizedFormat(found: Array(file.bytes().prefix(8))))
    }

    @Test(arguments: [UInt32(0), 1, 4, 0xFFFF_FFFF])
    func unsupportedVersion(version: UInt32) throws {
        var file = GGUFBytes()
        file.version = version
        let expected = QKVError.invalidField(field: "version", offset: 4, expected: "2 or 3 (little-endian)", found: String(version))
        #expect(ggufHeaderError(file.bytes()) == expected)
        #expect(try ggufOpenError(file.bytes()) == expected)
    }

    @Test func bigEndianFile() {
        var file = GGUFBytes()
        file.versionBytes = [0, 0, 0, 3]
        file.tensorCount = UInt64(0).bigEndian
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "version", offset: 4, expected: "2 or 3 (little-endian)", found: "3 big-endian (not supported)"))
        file.versionBytes = [0, 0, 0, 2]
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "version", offset: 4, expected: "2 or 3 (little-endian)", found: "2 big-endian (not supported)"))
    }

    /// Version 2 has version 3's layout.
    @Test func version2IsRead() throws {
        var file = TinyGGUF().file()
        file.version = 2
        let checkpoint = try CheckpointLoader.open(path: try temporaryFile(file.bytes(), name: "v2.gguf"))
        #expect(checkpoint.format.description == "gguf v2")
        #expect(try AttentionRunner.run(AttentionRequest(input: .tokens("1,2")), checkpoint: checkpoint).layers.count == 1)
    }

    // MARK: Counts and lengths past the end

    @Test func countsPastTheEnd() {
        var file = GGUFBytes()
        file.tensorCount = 1
        #expect(ggufHeaderError(file.bytes()) == .countTooLarge(field: "tensor_count", count: 1, remainingBytes: 8))
        file = GGUFBytes()
        file.entryCount = 3
        file.entries = [GGUFBytes.entry("k", .u8, [1])]
        #expect(ggufHeaderError(file.header()) == .countTooLarge(field: "metadata_kv_count", count: 3, remainingBytes: 14))
        // Each count fits on its own, both together do not: 14 + 33 > 40.
        file = GGUFBytes()
        file.entryCount = 1
        file.tensorCount = 1
        let bytes = file.header() + [UInt8](repeating: 0, count: 40)
        #expect(ggufHeaderError(bytes) == .countTooLarge(field: "metadata_kv_count + tensor_count", count: 2, remainingBytes: 40))
    }

    /// Counts of 2^63 and 2^64 − 1: an error at once, no allocation, no trap.
    @Test(arguments: [UInt64(1) << 63, .max])
    func hugeCounts(count: UInt64) {
        let clock = ContinuousClock()
        let start = clock.now
        var file = Self.roomy()
        file.entryCount = count
        #expect(ggufHeaderError(file.bytes()) == .countTooLarge(field: "metadata_kv_count", count: count, remainingBytes: 232))
        file = Self.roomy()
        file.tensorCount = count
        #expect(ggufHeaderError(file.header()) == .countTooLarge(field: "tensor_count", count: count, remainingBytes: 232))
        // Lengths: a key, a string value, an array of each element size, a tensor name.
        var entry = GGUFBytes.entry(rawKey: [], type: 0, [])
        entry.replaceSubrange(0..<8, with: le(count))
        file = Self.roomy(entries: [entry])
        #expect(ggufHeaderError(file.header())
            == .countTooLarge(field: "metadata key 1 length (at byte 256)", count: count, remainingBytes: 4))
        file = Self.roomy(entries: [GGUFBytes.entry("k", .string, le(count) + [0x61])])
        #expect(ggufHeaderError(file.header()) == .countTooLarge(field: "metadata \"k\" length (at byte 269)", count: count, remainingBytes: 1))
        for element in [V.u8, .u16, .u32, .u64, .string, .bool, .f64] {
            file = Self.roomy(entries: [GGUFBytes.array("k", of: element.rawValue, count: count, [0, 0, 0, 0])])
            #expect(ggufHeaderError(file.header())
                == .countTooLarge(field: "metadata \"k\" array length (at byte 273)", count: count, remainingBytes: 4), "\(element)")
        }
        var tensor = GGUFBytes.tensor("t", dims: [4], offset: 0)
        tensor.replaceSubrange(0..<8, with: le(count))
        file = Self.roomy(tensors: [tensor])
        #expect(ggufHeaderError(file.header() + [UInt8](repeating: 0, count: 64))
            == .countTooLarge(field: "tensor 0 name length (at byte 256)", count: count, remainingBytes: 89))
        #expect(clock.now - start < .seconds(1))
    }

    // MARK: Key/values

    @Test(arguments: [UInt32(13), 255, 0xFFFF_FFFF])
    func unknownValueType(code: UInt32) {
        let file = Self.roomy(entries: [GGUFBytes.entry(rawKey: Array("k".utf8), type: code, [0, 0, 0, 0])])
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "metadata \"k\" type", offset: 265, expected: "a value type 0...12", found: String(code)))
    }

    @Test func unknownArrayElementType() {
        let file = Self.roomy(entries: [GGUFBytes.array("k", of: 13, count: 1, [0])])
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "metadata \"k\" array type", offset: 269, expected: "a value type 0...12", found: "13"))
    }

    @Test func arrayOfArrays() {
        let inner = le(V.u8.rawValue) + le(UInt64(1)) + [7]
        let file = Self.roomy(entries: [GGUFBytes.array("k", of: V.array.rawValue, count: 1, inner)])
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "metadata \"k\" array type", offset: 269, expected: "an array of scalars or strings", found: "an array of arrays"))
    }

    @Test(arguments: [UInt8(2), 0x80, 0xFF])
    func invalidBool(byte: UInt8) {
        var file = Self.roomy(entries: [GGUFBytes.entry("k", .bool, [byte])])
        #expect(ggufHeaderError(file.bytes()) == .invalidField(field: "metadata \"k\"", offset: 269, expected: "a bool (0 or 1)", found: String(byte)))
        file = Self.roomy(entries: [GGUFBytes.array("k", of: V.bool.rawValue, count: 3, [1, 0, byte])])
        #expect(ggufHeaderError(file.bytes()) == .invalidField(field: "metadata \"k\"[2]", offset: 283, expected: "a bool (0 or 1)", found: String(byte)))
    }

    @Test func duplicateKey() {
        let file = Self.roomy(entries: [GGUFBytes.u32("general.name", 1)])
        #expect(ggufHeaderError(file.bytes()) == .duplicateName(field: "metadata key at byte 256", name: "general.name"))
    }

    @Test func emptyKey() {
        var file = GGUFBytes()
        file.entries = [GGUFBytes.entry("", .u8, [1])]
        #expect(ggufHeaderError(file.bytes()) == .emptyName(field: "metadata key 0 at byte 24"))
    }

    /// Invalid UTF-8 in a key, a string value, and a string array element: the offset is the first bad byte.
    @Test(arguments: [[0xFF] as [UInt8], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]])
    func notUTF8(bad: [UInt8]) {
        var file = GGUFBytes()
        file.entries = [GGUFBytes.entry(rawKey: [0x6B] + bad, type: V.u8.rawValue, [1])]
        #expect(ggufHeaderError(file.bytes()) == .invalidUTF8(field: "metadata key 0", offset: 24 + 8 + 1))
        file.entries = [GGUFBytes.entry("k", .string, GGUFBytes.raw([0x61, 0x62] + bad))]
        #expect(ggufHeaderError(file.bytes()) == .invalidUTF8(field: "metadata \"k\"", offset: 37 + 8 + 2))
        file.entries = [GGUFBytes.array("k", of: V.string.rawValue, count: 2, GGUFBytes.string("ok") + GGUFBytes.raw(bad))]
        #expect(ggufHeaderError(file.bytes()) == .invalidUTF8(field: "metadata \"k\"[1]", offset: 37 + 12 + 10 + 8))
        var tensors = Self.oneTensor(GGUFBytes.tensor(rawName: [0x74] + bad, dims: [4], offset: 0))
        tensors.entries = []
        #expect(ggufHeaderError(tensors.bytes()) == .invalidUTF8(field: "tensor 0 name", offset: 24 + 8 + 1))
    }

    /// NUL is valid UTF-8 in values, but not in a tensor name.
    @Test func nulInTensorName() throws {
        let file = Self.oneTensor(GGUFBytes.tensor("ab\0c", dims: [4], offset: 0))
        #expect(ggufHeaderError(file.bytes()) == .nulInString(field: "tensor 0 name", offset: 24 + 8 + 2))
        let value = Self.roomy(entries: [GGUFBytes.text("k", "a\0b")])
        #expect(try ggufHeader(value.bytes()).value("k") == .string("a\0b"))
    }

    // MARK: general.alignment

    @Test(arguments: [UInt32(0), 3, 48, 0x8000_0001])
    func alignmentNotAPowerOfTwo(value: UInt32) {
        var file = Self.oneTensor()
        file.entries = [GGUFBytes.u32("general.alignment", value)]
        #expect(ggufHeaderError(file.bytes()) == .invalidMetadataValue(key: "general.alignment", expected: "a power of two", found: String(value)))
    }

    @Test func alignmentOfTheWrongType() {
        for (entry, type) in [(GGUFBytes.u64("general.alignment", 32), "u64"), (GGUFBytes.text("general.alignment", "32"), "string"),
                              (GGUFBytes.entry("general.alignment", .i32, le(Int32(32))), "i32")] {
            var file = Self.oneTensor()
            file.entries = [entry]
            #expect(ggufHeaderError(file.bytes()) == .wrongMetadataType(key: "general.alignment", expected: "u32", found: type))
        }
    }

    /// A legal alignment other than 32 moves the data section and the offsets with it.
    @Test func alignment64() throws {
        var tiny = TinyGGUF()
        tiny.alignment = 64
        tiny.set("general.alignment", GGUFBytes.u32("general.alignment", 64))
        let bytes = tiny.bytes()
        let header = try ggufHeader(bytes)
        #expect(header.alignment == 64 && header.dataStart % 64 == 0 && header.dataStart > header.headerEnd)
        #expect(header.tensors.allSatisfy { $0.dataOffset % 64 == 0 })
        let checkpoint = try CheckpointLoader.open(path: try temporaryFile(bytes, name: "aligned.gguf"))
        let plain = try CheckpointLoader.open(path: try temporaryFile(TinyGGUF().bytes(), name: "plain.gguf"))
        let request = AttentionRequest(input: .tokens("3,1,2"))
        #expect(try AttentionRunner.run(request, checkpoint: checkpoint).layers == AttentionRunner.run(request, checkpoint: plain).layers)
        // …and 32-aligned offsets are now misaligned.
        var file = Self.oneTensor(GGUFBytes.tensor("t", dims: [4], offset: 32), data: [UInt8](repeating: 0, count: 64))
        file.entries = [GGUFBytes.u32("general.alignment", 64)]
        file.alignment = 64
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "tensor \"t\" offset", offset: 24 + 33 + 8 + 1 + 4 + 8 + 4, expected: "a multiple of the alignment (64)", found: "32"))
    }

    // MARK: Tensor infos

    @Test func duplicateTensorName() {
        var file = Self.oneTensor(data: [UInt8](repeating: 0, count: 48))
        file.tensors.append(GGUFBytes.tensor("t", dims: [4], offset: 32))
        #expect(ggufHeaderError(file.bytes()) == .duplicateName(field: "tensor name at byte 57", name: "t"))
    }

    @Test func emptyTensorName() {
        let file = Self.oneTensor(GGUFBytes.tensor("", dims: [4], offset: 0))
        #expect(ggufHeaderError(file.bytes()) == .emptyName(field: "tensor 0 name at byte 24"))
    }

    @Test(arguments: [UInt32(0), 5, 0xFFFF_FFFF])
    func rankOutOfRange(rank: UInt32) {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [4], offset: 0, rank: rank))
        #expect(ggufHeaderError(file.bytes()) == .invalidField(field: "tensor \"t\" n_dims", offset: 33, expected: "1...4", found: String(rank)))
    }

    @Test func dimensionAboveInt64() {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [4, 1 << 63], offset: 0))
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "tensor \"t\" ne[1]", offset: 45, expected: "0...9223372036854775807", found: "9223372036854775808"))
    }

    /// llama.cpp's CVE-2025-53630: a product of dims past 2^64 (or a byte size past what an Int holds).
    static let overflowingDims: [[UInt64]] = [
        [1 << 32, 1 << 32], [1 << 31, 1 << 31, 4], [3, 1 << 62], [0x1_0000_0001, 0xFFFF_FFFF], [1 << 32, 1 << 32, 0], [1 << 61, 2],
        [32, 1 << 40, 1 << 20, 1 << 3],
    ]

    @Test(arguments: overflowingDims)
    func dimsOverflow(dims: [UInt64]) {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: dims, offset: 0))
        #expect(ggufHeaderError(file.bytes()) == .sizeOverflow(tensor: "t"))
    }

    /// Found by fuzzing (gguf): ne = [0, 6047313952798, 34339947158700032] is 0 elements in file
    /// order, but inspect counted the shape (the dims reversed) from the left and trapped on the
    /// overflow. The product of the dims other than zero must fit, whatever their order.
    @Test(arguments: [[0, 6_047_313_952_798, 34_339_947_158_700_032], [32, 1 << 40, 0, 1 << 30]] as [[UInt64]])
    func zeroSizedTensorWithOverflowingDims(dims: [UInt64]) {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: dims, offset: 0))
        #expect(ggufHeaderError(file.bytes()) == .sizeOverflow(tensor: "t"))
    }

    /// A Q4_0 product that fits: its bytes are 18/32 of the elements.
    @Test func quantizedSizesUseBlocks() throws {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [64, 3], type: GGMLType.q4_0.rawValue, offset: 0),
                                  data: [UInt8](repeating: 0, count: 6 * 18))
        let header = try ggufHeader(file.bytes())
        #expect(header.tensors[0].byteCount == 108 && header.tensors[0].elementCount == 192)
    }

    @Test(arguments: [UInt32(42), 1000, 0xFFFF_FFFF, 4, 5, 31, 32, 33, 36, 37, 38])
    func unknownOrRemovedGGMLType(code: UInt32) {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [4], type: code, offset: 0))
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "tensor \"t\" type", offset: 45, expected: "a ggml type id (\(GGMLType.knownIDs))", found: String(code)))
    }

    @Test(arguments: [(GGMLType.q4_0, UInt64(48)), (.q8_0, 16), (.q4_K, 128), (.q6_K, 384), (.iq4_NL, 33), (.iq2_XXS, 32)])
    func rowNotAWholeNumberOfBlocks(type: GGMLType, row: UInt64) {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [row, 2], type: type.rawValue, offset: 0))
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "tensor \"t\" ne[0]", offset: 37, expected: "a multiple of \(type.blockElements) (the \(type.name) block size)",
                             found: String(row)))
    }

    // MARK: Placement in the data section

    @Test func misalignedOffset() {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [4], offset: 16), data: [UInt8](repeating: 0, count: 32))
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "tensor \"t\" offset", offset: 49, expected: "a multiple of the alignment (32)", found: "16"))
    }

    @Test(arguments: [UInt64(32), 64, UInt64.max - 31])
    func offsetOutsideTheFile(offset: UInt64) {
        let file = Self.oneTensor(GGUFBytes.tensor("t", dims: [4], offset: offset), data: [UInt8](repeating: 0, count: 32))
        #expect(ggufHeaderError(file.bytes())
            == .invalidField(field: "tensor \"t\" offset", offset: 49, expected: "16 bytes inside the 32-byte data section", found: "offset \(offset)"))
    }

    @Test func overlappingTensors() {
        var file = GGUFBytes()
        file.tensors = [GGUFBytes.tensor("a", dims: [16], offset: 0), GGUFBytes.tensor("b", dims: [4], offset: 32),
                        GGUFBytes.tensor("c", dims: [4], offset: 96)]
        file.data = [UInt8](repeating: 0, count: 128)
        #expect(ggufHeaderError(file.bytes()) == .tensorsOverlap(first: "a", second: "b", offset: 32))
        // The same start, the smaller tensor sorts first.
        file.tensors[1] = GGUFBytes.tensor("b", dims: [4], offset: 0)
        #expect(ggufHeaderError(file.bytes()) == .tensorsOverlap(first: "b", second: "a", offset: 0))
        // Touching is not overlapping.
        file.tensors[1] = GGUFBytes.tensor("b", dims: [4], offset: 64)
        #expect(ggufHeaderError(file.bytes()) == nil)
    }

    // MARK: Metadata that contradicts the tensors

    static func modelError(_ tiny: TinyGGUF) throws -> QKVError? { try ggufOpenError(tiny.bytes()) }

    @Test func headCountNotDividingTheWidth() throws {
        var tiny = TinyGGUF()
        tiny.set("llama.attention.head_count", GGUFBytes.u32("llama.attention.head_count", 3))
        #expect(try Self.modelError(tiny) == .invalidMetadataValue(
            key: "llama.attention.key_length",
            expected: "a positive integer, since llama.embedding_length is not a multiple of llama.attention.head_count", found: "absent"))
    }

    @Test func kvHeadsNotDividingHeads() throws {
        var tiny = TinyGGUF(heads: 4, kvHeads: 2)
        tiny.set("llama.attention.head_count_kv", GGUFBytes.u32("llama.attention.head_count_kv", 3))
        #expect(try Self.modelError(tiny) == .invalidMetadataValue(
            key: "llama.attention.head_count_kv", expected: "a divisor of llama.attention.head_count (4)", found: "3"))
    }

    @Test(arguments: [UInt32(2), 0x7FFF_FFFF])
    func blockCountTheTensorsDoNotBack(count: UInt32) throws {
        var tiny = TinyGGUF()
        tiny.set("llama.block_count", GGUFBytes.u32("llama.block_count", count))
        #expect(try Self.modelError(tiny) == .missingTensor("layers.1.attn_norm.weight"))
    }

    /// Found by fuzzing (gguf): a file without tensors skips the tensor checks (vocabulary-only
    /// files open), so its block_count is not backed by anything, and inspect listed a parameter
    /// group per layer: 2^31 - 1 of them, tens of GB for a 1 KB file.
    @Test(arguments: [UInt32(2), 0x7FFF_FFFF])
    func blockCountOfAFileWithoutTensors(count: UInt32) throws {
        var tiny = TinyGGUF()
        tiny.tensors = []
        tiny.set("llama.block_count", GGUFBytes.u32("llama.block_count", count))
        let checkpoint = try CheckpointLoader.open(path: try temporaryFile(tiny.bytes(), name: "vocab.gguf"))
        #expect(checkpoint.layerCount == Int(count))
        #expect(checkpoint.parameterCount.groups.map(\.name) == ["embeddings", "other"])
        let report = InspectReport(checkpoint)
        let lines = report.text(showTensors: true, markdown: false).split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("n_layers ") && $0.hasSuffix(" \(count)") })
        #expect(thrownQKVError { _ = try AttentionRunner.run(AttentionRequest(input: .tokens("1")), checkpoint: checkpoint) }
            == .missingTensor("embed"))
    }

    @Test func countsOutOfRange() throws {
        for (key, value) in [("llama.attention.head_count", UInt64(0)), ("llama.block_count", 0), ("llama.embedding_length", 1 << 31)] {
            var tiny = TinyGGUF()
            tiny.set(key, GGUFBytes.u64(key, value))
            #expect(try Self.modelError(tiny) == .invalidMetadataValue(key: key, expected: "1...2147483647", found: String(value)))
        }
        var tiny = TinyGGUF()
        tiny.set("llama.embedding_length", nil)
        #expect(try Self.modelError(tiny) == .missingMetadata(key: "llama.embedding_length"))
    }

    @Test func shapeDisagreesWithTheConfig() throws {
        var tiny = TinyGGUF()
        tiny.set("llama.feed_forward_length", GGUFBytes.u32("llama.feed_forward_length", 16))
        #expect(try Self.modelError(tiny) == .shapeMismatch(tensor: "layers.0.w_gate", expected: [16, 8], found: [8, 8]))
        tiny = TinyGGUF()
        tiny.set("llama.attention.head_count_kv", GGUFBytes.u32("llama.attention.head_count_kv", 2))
        #expect(try Self.modelError(tiny) == .shapeMismatch(tensor: "layers.0.wk", expected: [8, 8], found: [4, 8]))
        tiny = TinyGGUF()
        tiny.set("llama.attention.key_length", GGUFBytes.u32("llama.attention.key_length", 2))
        #expect(try Self.modelError(tiny) == .shapeMismatch(tensor: "layers.0.wq", expected: [4, 8], found: [8, 8]))
    }

    /// The token list sets the vocabulary size when `llama.vocab_size` is absent (llama.cpp's n_vocab).
    @Test func tokenListLongerThanTheEmbedding() throws {
        var tiny = TinyGGUF()
        tiny.set("tokenizer.ggml.tokens", GGUFBytes.strings("tokenizer.ggml.tokens", (0..<5).map { "t\($0)" }))
        #expect(try Self.modelError(tiny) == .shapeMismatch(tensor: "embed", expected: [5, 8], found: [4, 8]))
    }

    /// `llama.vocab_size` against the embedding (no token list), then against a token list that
    /// agrees with the embedding: the list is checked first.
    @Test func vocabSizeDisagreesWithTheEmbedding() throws {
        var tiny = TinyGGUF()
        tiny.set("llama.vocab_size", GGUFBytes.u32("llama.vocab_size", 6))
        tiny.set("tokenizer.ggml.tokens", nil)
        #expect(try Self.modelError(tiny) == .shapeMismatch(tensor: "embed", expected: [6, 8], found: [4, 8]))
        tiny = TinyGGUF()
        tiny.set("llama.vocab_size", GGUFBytes.u32("llama.vocab_size", 6))
        #expect(try Self.modelError(tiny)
            == .invalidMetadataValue(key: "tokenizer.ggml.tokens", expected: "6 entries (llama.vocab_size)", found: "4 entries"))
    }

    /// With `llama.vocab_size` matching the embedding, a token list of another length names ids the
    /// model does not have, or leaves ids without text (`run` used to trap on the missing text, and
    /// to read past the embedding for token "t4").
    @Test(arguments: [3, 5])
    func tokenListDisagreesWithVocabSize(tokens: Int) throws {
        var tiny = TinyGGUF()
        tiny.set("llama.vocab_size", GGUFBytes.u32("llama.vocab_size", 4))
        tiny.set("tokenizer.ggml.tokens", GGUFBytes.strings("tokenizer.ggml.tokens", (0..<tokens).map { "t\($0)" }))
        let expected = QKVError.invalidMetadataValue(key: "tokenizer.ggml.tokens", expected: "4 entries (llama.vocab_size)", found: "\(tokens) entries")
        #expect(try Self.modelError(tiny) == expected)
        let path = try temporaryFile(tiny.bytes(), name: "tokens.gguf")
        for list in ["0,3", "t0,t4"] {
            let result = try runQKV(["run", path, "--tokens", list])
            #expect(result.status == 1 && result.stdout.isEmpty)
            #expect(result.stderr == "qkv: error: \(path): \(expected)\n")
        }
    }

    @Test func metadataOfTheWrongType() throws {
        var tiny = TinyGGUF()
        tiny.set("llama.block_count", GGUFBytes.text("llama.block_count", "1"))
        #expect(try Self.modelError(tiny) == .wrongMetadataType(key: "llama.block_count", expected: "an integer", found: "string"))
        tiny = TinyGGUF()
        tiny.set("llama.rope.freq_base", GGUFBytes.text("llama.rope.freq_base", "1e4"))
        #expect(try Self.modelError(tiny) == .wrongMetadataType(key: "llama.rope.freq_base", expected: "f64", found: "string"))
        tiny = TinyGGUF()
        tiny.set("general.architecture", GGUFBytes.u32("general.architecture", 1))
        #expect(try Self.modelError(tiny) == .wrongMetadataType(key: "general.architecture", expected: "string", found: "u32"))
    }

    @Test func ropeOnAnOddHeadSize() throws {
        var tiny = TinyGGUF(dim: 6, heads: 2, kvHeads: 1)
        tiny.set("llama.attention.key_length", GGUFBytes.u32("llama.attention.key_length", 3))
        #expect(try Self.modelError(tiny) == .invalidMetadataValue(key: "llama.attention.key_length", expected: "an even number (RoPE)", found: "3"))
    }

    // MARK: Values

    /// A NaN or infinite f16 scale in a quantized block: verify names the tensor and the first bad element.
    @Test func nonFiniteScaleInAQuantizedBlock() throws {
        let fine = q8_0Block(scaleBits: 0x3C00, quants: (0..<32).map { Int8($0 - 16) })
        let ones = [Int8](repeating: 1, count: 31)
        // (scale bits, quants of the second block, first bad element, its value): 0 · inf is NaN.
        let cases: [(UInt16, [Int8], Int, Float)] = [
            (0x7E00, [2] + ones, 32, .nan), (0x7C00, [2] + ones, 32, .infinity), (0xFC00, [2] + ones, 32, -.infinity),
            (0x7C00, [0] + ones, 32, .nan), (0x7BFF, [0] + ones, 0, 0),
        ]
        for (bits, quants, index, expected) in cases {
            let bad = q8_0Block(scaleBits: bits, quants: quants)
            var file = GGUFBytes()
            file.tensors = [GGUFBytes.tensor("blk.0.attn_q.weight", dims: [32, 2], type: GGMLType.q8_0.rawValue, offset: 0)]
            file.data = fine + bad
            let path = try temporaryFile(file.bytes(), name: "nan.gguf")
            let problems = try CheckpointLoader.open(path: path).verifyAll().problems
            if bits == 0x7BFF {  // 65504 · 1 is finite
                #expect(problems.isEmpty)
                continue
            }
            #expect(problems.count == 1)
            guard case let .nonFiniteWeight(tensor, at, value)? = problems.first?.error else {
                Issue.record("expected a non-finite weight, found \(problems)")
                continue
            }
            #expect(problems.first?.file == path)
            #expect(tensor == "blk.0.attn_q.weight" && at == index)
            #expect(value.isNaN ? expected.isNaN : value == expected)
            let result = try runQKV(["verify", path])
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("qkv: error: \(path): tensor \"blk.0.attn_q.weight\": element \(index) is "))
        }
    }

    /// A type qkv cannot dequantize (IQ2_XXS): inspect counts it, run and verify name the tensor and type.
    @Test func unsupportedQuantizationType() throws {
        var tiny = TinyGGUF(ff: 256)
        tiny.replaceTensor("blk.0.ffn_down.weight", with: .init(
            name: "blk.0.ffn_down.weight", dims: [256, 8], type: .iq2_XXS, payload: [UInt8](repeating: 0, count: 8 * 66)))
        let path = try temporaryFile(tiny.bytes(), name: "iq2.gguf")
        let checkpoint = try CheckpointLoader.open(path: path)
        #expect(checkpoint.parameterCount.totalParameters == 4 * 8 + 8 + 2 * 64 + 2 * 32 + 8 + 3 * 8 * 256 + 8)
        #expect(checkpoint.tensorInfo("layers.0.w_down")?.dtype.displayName == "IQ2_XXS")
        let expected = QKVError.unsupportedQuantization(tensor: "blk.0.ffn_down.weight", type: "IQ2_XXS", supported: GGMLType.dequantizable)
        #expect(thrownQKVError { _ = try AttentionRunner.run(AttentionRequest(input: .tokens("1")), checkpoint: checkpoint) } == expected)
        #expect(checkpoint.verifyAll().problems == [VerificationProblem(file: path, error: expected)])

        let inspect = try runQKV(["inspect", path, "--tensors"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("IQ2_XXS"))
        let run = try runQKV(["run", path, "--tokens", "1"])
        #expect(run.status == 1 && run.stdout.isEmpty)
        #expect(run.stderr == "qkv: error: \(path): \(expected)\n")
        let verify = try runQKV(["verify", path])
        #expect(verify.status == 1 && verify.stdout.isEmpty)
        #expect(verify.stderr.hasPrefix("qkv: error: \(path): \(expected)\n"))
    }

    // MARK: Split models

    /// Two shards of TinyGGUF, all metadata in the first (as gguf-split writes them), with some entries
    /// replaced (nil: removed).
    static func shards(split: Int = 5, first: [String: [UInt8]?] = [:], second: [String: [UInt8]?] = [:]) -> ([UInt8], [UInt8]) {
        let whole = TinyGGUF()
        var shards = [whole, whole]
        shards[0].tensors = Array(whole.tensors.prefix(split))
        shards[1].tensors = Array(whole.tensors.dropFirst(split))
        shards[1].metadata = []
        for index in 0..<2 {
            shards[index].set("split.no", GGUFBytes.entry("split.no", .u16, le(UInt16(index))))
            shards[index].set("split.count", GGUFBytes.entry("split.count", .u16, le(UInt16(2))))
            shards[index].set("split.tensors.count", GGUFBytes.entry("split.tensors.count", .i32, le(Int32(whole.tensors.count))))
            for (key, entry) in index == 0 ? first : second { shards[index].set(key, entry) }
        }
        return (shards[0].bytes(), shards[1].bytes())
    }

    /// Writes the shards as NAME-00001-of-00002.gguf and -00002-; returns the first path.
    static func writeShards(_ shards: ([UInt8], [UInt8]), name: String = "m") throws -> String {
        let first = try temporaryFile(shards.0, name: "\(name)-00001-of-00002.gguf")
        try Data(shards.1).write(to: URL(fileURLWithPath: parentFolder(of: first) + "\(name)-00002-of-00002.gguf"))
        return first
    }

    @Test func splitShardsOpenAsOneModel() throws {
        let path = try Self.writeShards(Self.shards())
        let split = try CheckpointLoader.open(path: path)
        let whole = try CheckpointLoader.open(path: try temporaryFile(TinyGGUF().bytes(), name: "whole.gguf"))
        #expect(split.tensors.map(\.name) == whole.tensors.map(\.name))
        let request = AttentionRequest(input: .tokens("0,3,2"))
        #expect(try AttentionRunner.run(request, checkpoint: split).layers == AttentionRunner.run(request, checkpoint: whole).layers)
    }

    @Test func splitNumberOutOfPlace() throws {
        let path = try Self.writeShards(Self.shards(second: ["split.no": GGUFBytes.entry("split.no", .u16, le(UInt16(0)))]))
        let second = parentFolder(of: path) + "m-00002-of-00002.gguf"
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: path) }
            == .invalidMetadataValue(key: "split.no", expected: "1", found: "0"))
        #expect(throws: LocatedError.self) { _ = try CheckpointLoader.open(path: second) }
    }

    @Test func splitCountsDisagree() throws {
        let path = try Self.writeShards(Self.shards(second: ["split.count": GGUFBytes.entry("split.count", .u16, le(UInt16(3)))]))
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: path) }
            == .invalidMetadataValue(key: "split.count", expected: "2", found: "3"))
    }

    @Test func splitTensorCountWrong() throws {
        let path = try Self.writeShards(Self.shards(first: ["split.tensors.count": GGUFBytes.entry("split.tensors.count", .i32, le(Int32(12)))]))
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: path) }
            == .invalidMetadataValue(key: "split.tensors.count", expected: "11 (the tensors in the 2 shards)", found: "12"))
    }

    @Test func splitCountOfTheWrongType() throws {
        let path = try Self.writeShards(Self.shards(first: ["split.count": GGUFBytes.text("split.count", "2")]))
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: path) }
            == .invalidMetadataValue(key: "split.count", expected: "a non-negative integer", found: "string"))
    }

    /// A file that says it is split but is not named NAME-0000k-of-0000n.gguf.
    @Test func splitFileNamedOtherwise() throws {
        let (first, _) = Self.shards()
        #expect(try ggufOpenError(first, name: "model.gguf") == .invalidMetadataValue(
            key: "split.count", expected: "a file named NAME-0000k-of-00002.gguf for a model split in 2", found: "model.gguf"))
    }

    /// NAME-00003-of-00002.gguf beside the two shards is not one of them.
    @Test(arguments: ["m-00003-of-00002.gguf", "m-00000-of-00002.gguf"])
    func shardNumberOutOfRange(name: String) throws {
        let (one, two) = Self.shards()
        let folder = parentFolder(of: try Self.writeShards((one, two)))
        try Data(two).write(to: URL(fileURLWithPath: folder + name))
        #expect(thrownQKVError { _ = try CheckpointLoader.open(path: folder + name) }
            == .invalidMetadataValue(key: "split.count", expected: "a shard number in 1...2 in the file name", found: name))
    }

    @Test func tensorInTwoShards() throws {
        var shards = [TinyGGUF(), TinyGGUF()]
        shards[1].metadata = []
        shards[1].tensors = [shards[0].tensors[0]]
        for index in 0..<2 {
            shards[index].set("split.no", GGUFBytes.entry("split.no", .u16, le(UInt16(index))))
            shards[index].set("split.count", GGUFBytes.entry("split.count", .u16, le(UInt16(2))))
        }
        let (first, second) = (shards[0], shards[1])
        let path = try Self.writeShards((first.bytes(), second.bytes()))
        let secondPath = parentFolder(of: path) + "m-00002-of-00002.gguf"
        do {
            _ = try CheckpointLoader.open(path: path)
            Issue.record("opened a tensor stored twice")
        } catch let error as LocatedError {
            #expect(error.path == secondPath)
            #expect(error.error == .tensorInTwoShards(tensor: "token_embd.weight", first: path, second: secondPath))
        }
    }

    // MARK: The command line

    /// Every hostile file fails every command the same way: status 1, nothing on stdout, one line on
    /// stderr naming the file.
    @Test func commandLineFailsCleanly() throws {
        var truncated = TinyGGUF().bytes()
        truncated.removeLast(100)
        var overflow = Self.oneTensor(GGUFBytes.tensor("t", dims: [1 << 32, 1 << 32], offset: 0))
        overflow.entries = []
        var badAlignment = Self.oneTensor()
        badAlignment.entries = [GGUFBytes.u32("general.alignment", 3)]
        var contradiction = TinyGGUF()
        contradiction.set("llama.block_count", GGUFBytes.u32("llama.block_count", 2))
        var version = TinyGGUF().file()
        version.version = 4
        let cases: [([UInt8], String)] = [
            (truncated, "inside the"), (overflow.bytes(), "overflows 64 bits"), (badAlignment.bytes(), "general.alignment"),
            (Self.roomy(entries: [GGUFBytes.u32("general.name", 1)]).bytes(), "duplicate name"),
            (contradiction.bytes(), "layers.1.attn_norm.weight"), (version.bytes(), "version"),
            (Self.oneTensor(GGUFBytes.tensor("t", dims: [4], type: 31, offset: 0)).bytes(), "ggml type id"),
        ]
        for (bytes, fragment) in cases {
            let path = try temporaryFile(bytes, name: "hostile.gguf")
            for arguments in [["inspect", path], ["inspect", path, "--format", "json"], ["run", path, "--tokens", "1"], ["verify", path],
                              ["convert", path, "-o", path + ".qkv"]] {
                let result = try runQKV(arguments)
                #expect(result.status == 1, "\(arguments)")
                #expect(result.stdout.isEmpty, "\(arguments)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.hasPrefix("qkv: error: \(path): "), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: path + ".qkv"))
        }
    }
}
