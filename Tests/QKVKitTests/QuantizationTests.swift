import CKernels
import Foundation
import Testing
@testable import QKVKit

// ggml dequantization (Sources/CKernels/quants*.c): both ISAs against gguf-py's goldens
// (fixtures/gguf/quants, scripts/make_gguf_quant_goldens.py), the AVX2 kernels against the portable
// ones over every quant value and 100k random blocks per type, unaligned and guard-paged buffers,
// and block-range splits. Floats are compared as bit patterns: NaN payloads included on x86-64,
// where the goldens were made; elsewhere any NaN matches any NaN (other CPUs propagate NaNs their
// own way).

/// A type qkv dequantizes, with its sizes (checked against gguf-py's in the manifest).
struct DequantType: CustomTestStringConvertible, Sendable, Hashable {
    let name: String
    let id: Int32
    let elements: Int
    let bytes: Int
    var testDescription: String { name }

    static let all: [DequantType] = [
        ("F32", QKV_GGML_F32, 1, 4), ("F16", QKV_GGML_F16, 1, 2), ("BF16", QKV_GGML_BF16, 1, 2),
        ("Q4_0", QKV_GGML_Q4_0, 32, 18), ("Q4_1", QKV_GGML_Q4_1, 32, 20), ("Q5_0", QKV_GGML_Q5_0, 32, 22),
        ("Q5_1", QKV_GGML_Q5_1, 32, 24), ("Q8_0", QKV_GGML_Q8_0, 32, 34), ("Q2_K", QKV_GGML_Q2_K, 256, 84),
        ("Q3_K", QKV_GGML_Q3_K, 256, 110), ("Q4_K", QKV_GGML_Q4_K, 256, 144), ("Q5_K", QKV_GGML_Q5_K, 256, 176),
        ("Q6_K", QKV_GGML_Q6_K, 256, 210), ("IQ4_NL", QKV_GGML_IQ4_NL, 32, 18), ("IQ4_XS", QKV_GGML_IQ4_XS, 256, 136),
    ].map { DequantType(name: $0.0, id: Int32($0.1.rawValue), elements: $0.2, bytes: $0.3) }

    static let blockTypes = all.filter { $0.elements > 1 }
    static func named(_ name: String) -> DequantType { all.first { $0.name == name }! }
}

struct DequantISA: CustomTestStringConvertible, Sendable {
    let value: qkv_isa
    var testDescription: String { value == QKV_ISA_GENERIC ? "portable" : "AVX2" }
    static let portable = DequantISA(value: QKV_ISA_GENERIC)
    /// Falls back to the portable kernels on a CPU without AVX2 and F16C.
    static let avx2 = DequantISA(value: QKV_ISA_AVX2_FMA)
    static let both = [portable, avx2]
}

/// Dequantizes `blocks` blocks of `source` starting at byte `offset`.
private func dequantize(_ type: DequantType, _ source: [UInt8], offset: Int = 0, blocks: Int, isa: DequantISA) -> [Float] {
    precondition(offset + blocks * type.bytes <= source.count)
    var out = [Float](repeating: .nan, count: blocks * type.elements)
    source.withUnsafeBytes { raw in
        out.withUnsafeMutableBufferPointer { dst in
            qkv_ggml_dequantize(isa.value, type.id, raw.baseAddress! + offset, blocks, dst.baseAddress!)
        }
    }
    return out
}

/// Same float32, bit for bit (see the top of the file for NaNs off x86-64).
private func sameBits(_ a: UInt32, _ b: UInt32) -> Bool {
    #if arch(x86_64)
    return a == b
    #else
    return a == b || (Float(bitPattern: a).isNaN && Float(bitPattern: b).isNaN)
    #endif
}

/// Indices where two results differ, each with both bit patterns, at most `limit` of them.
private func bitDifferences(_ ours: [Float], _ expected: [UInt32], limit: Int = 5) -> (count: Int, first: [String]) {
    precondition(ours.count == expected.count)
    var count = 0
    var first: [String] = []
    for i in ours.indices where !sameBits(ours[i].bitPattern, expected[i]) {
        count += 1
        if first.count < limit {
            first.append("[\(i)] \(hex(ours[i].bitPattern)) ≠ \(hex(expected[i]))")
        }
    }
    return (count, first)
}

/// `count` random bytes, eight per draw (byte-at-a-time is slow in debug builds).
private func randomBytes(_ count: Int, _ generator: inout SeededGenerator) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: (count + 7) / 8 * 8)
    bytes.withUnsafeMutableBytes { raw in
        for i in 0..<raw.count / 8 { raw.storeBytes(of: generator.next().littleEndian, toByteOffset: 8 * i, as: UInt64.self) }
    }
    return Array(bytes[..<count])
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16, uppercase: true) }

// MARK: - Goldens

/// fixtures/gguf/quants/manifest.json and the files it names.
struct DequantGoldens: @unchecked Sendable {
    struct Case: CustomTestStringConvertible, @unchecked Sendable {
        let type: DequantType
        let name: String
        let blocks: Int
        /// Byte offset in blocks[type], or nil: the input is every 16-bit pattern in increasing order.
        let firstByte: Int?
        let expectedFirst: Int?
        let crcChunk: Int?
        let crcs: [UInt32]
        let labels: [String]
        var testDescription: String { "\(type.name) \(name)" }
    }

    let cases: [Case]
    let blocks: [String: [UInt8]]
    let expected: [String: [UInt32]]
    let typeSizes: [String: (id: Int, elements: Int, bytes: Int)]
    let llamaCpp: [String: Any]

    static let shared: DequantGoldens = try! DequantGoldens()

    init() throws {
        let directory = fixturePath("gguf/quants")
        let root = try loadJSON(directory + "/manifest.json") as! [String: Any]
        var blocks: [String: [UInt8]] = [:], expected: [String: [UInt32]] = [:]
        var sizes: [String: (Int, Int, Int)] = [:]
        for (name, entry) in root["types"] as! [String: [String: Any]] {
            sizes[name] = ((entry["id"] as! NSNumber).intValue, (entry["block_elements"] as! NSNumber).intValue,
                           (entry["block_bytes"] as! NSNumber).intValue)
            if let file = entry["blocks_file"] as? String {
                blocks[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
            }
            if let file = entry["expected_file"] as? String {
                let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
                expected[name] = data.withUnsafeBytes { raw in
                    (0..<data.count / 4).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
                }
            }
        }
        self.blocks = blocks
        self.expected = expected
        typeSizes = sizes
        llamaCpp = root["llama_cpp"] as! [String: Any]
        cases = (root["cases"] as! [[String: Any]]).map { c in
            let type = DequantType.named(c["type"] as! String)
            return Case(
                type: type, name: c["name"] as! String, blocks: (c["blocks"] as! NSNumber).intValue,
                firstByte: (c["first_block"] as? NSNumber).map { $0.intValue * type.bytes },
                expectedFirst: (c["expected_first"] as? NSNumber)?.intValue,
                crcChunk: (c["crc32_chunk"] as? NSNumber)?.intValue,
                crcs: (c["crc32"] as? [NSNumber] ?? []).map(\.uint32Value),
                labels: c["labels"] as? [String] ?? [])
        }
    }

    func input(_ c: Case) -> [UInt8] {
        guard let first = c.firstByte else {
            return (0..<65536).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        }
        return Array(blocks[c.type.name]![first..<first + c.blocks * c.type.bytes])
    }

    func expectedBits(_ c: Case) -> [UInt32]? {
        guard let first = c.expectedFirst else { return nil }
        return Array(expected[c.type.name]![first..<first + c.blocks * c.type.elements])
    }

    /// Mismatches of `ours` against the case's golden: element indices for full goldens, chunk
    /// indices for CRC ones.
    func mismatches(_ c: Case, _ ours: [Float]) -> (count: Int, first: [String]) {
        if let expected = expectedBits(c) {
            let (count, first) = bitDifferences(ours, expected)
            return (count, first.map { line in
                // name the edge block the first element of a line falls in
                let index = Int(line.dropFirst().prefix { $0 != "]" })!
                let block = index / c.type.elements
                return c.labels.isEmpty ? "block \(block) " + line : "block \(block) (\(c.labels[block])) " + line
            })
        }
        let chunk = c.crcChunk!
        var count = 0
        var first: [String] = []
        for (k, crc) in c.crcs.enumerated() {
            let ours = ours[k * chunk..<(k + 1) * chunk].withUnsafeBytes { CRC32.checksum($0) }
            if ours != crc {
                count += 1
                if first.count < 5 { first.append("floats \(k * chunk)..<\((k + 1) * chunk): CRC \(hex(ours)) ≠ \(hex(crc))") }
            }
        }
        return (count, first)
    }
}

@Suite struct QuantizationTests {
    static let goldens = DequantGoldens.shared

    // MARK: Goldens

    /// Every golden case of every type, both ISAs, bit-identical to gguf-py.
    @Test(arguments: DequantType.all, DequantISA.both)
    func matchesGGUFPy(type: DequantType, isa: DequantISA) {
        let cases = Self.goldens.cases.filter { $0.type == type }
        #expect(!cases.isEmpty, "no golden for \(type.name)")
        for c in cases {
            let ours = dequantize(type, Self.goldens.input(c), blocks: c.blocks, isa: isa)
            let (count, first) = Self.goldens.mismatches(c, ours)
            #expect(count == 0, "\(c.name): \(count) mismatches, first \(first)")
        }
    }

    /// The goldens hold what they claim to: each block type has random, edge and llama.cpp cases, the
    /// edge results contain NaN (several payloads), ±inf, zeros and finite results of subnormal scales, and the sizes agree with gguf-py's.
    @Test func goldensCoverEveryTypeAndTheSpecialValues() {
        let g = Self.goldens
        for type in DequantType.all {
            let sizes = g.typeSizes[type.name]
            #expect(sizes?.id == Int(type.id) && sizes?.elements == type.elements && sizes?.bytes == type.bytes,
                    "\(type.name): manifest (gguf-py) says \(String(describing: sizes))")
            #expect(qkv_ggml_block_elements(type.id) == type.elements && qkv_ggml_block_bytes(type.id) == type.bytes)
        }
        for type in DequantType.blockTypes {
            let names = g.cases.filter { $0.type == type }.map(\.name)
            #expect(names.contains("random") && names.contains("edge"), "\(type.name): \(names)")
            #expect(names.contains { $0.hasPrefix("llama.cpp") }, "\(type.name) has no llama.cpp-quantized blocks")
            #expect(names.contains { $0.hasSuffix("whole tensor") }, "\(type.name) has no whole llama.cpp tensor")
            let edge = g.cases.first { $0.type == type && $0.name == "edge" }!
            let values = g.expectedBits(edge)!.map(Float.init(bitPattern:))
            #expect(values.contains { $0.isNaN } && values.contains(.infinity) && values.contains(-.infinity))
            #expect(values.contains { $0 == 0 }, "\(type.name)")
            // blocks with subnormal f16 scales, giving finite nonzero results
            let subnormal = edge.labels.indices.filter { edge.labels[$0].hasPrefix("d=") && edge.labels[$0].contains("subnormal") }
            #expect(subnormal.count >= 3, "\(type.name): \(edge.labels)")
            for block in subnormal {
                let results = values[block * type.elements..<(block + 1) * type.elements]
                #expect(results.allSatisfy(\.isFinite) && results.contains { $0 != 0 }, "\(type.name) \(edge.labels[block])")
            }
            #expect(Set(values.filter(\.isNaN).map(\.bitPattern)).count >= 3, "\(type.name): NaN payloads")
        }
        // every llama.cpp file type quantized, and to the types we dequantize
        for ftype in ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"] {
            let info = g.llamaCpp[ftype] as? [String: Any]
            let types = Set((info?["tensor_types"] as? [String: String] ?? [:]).values)
            #expect(!types.isEmpty, "llama.cpp \(ftype): \(String(describing: info))")
            for name in types { #expect(qkv_ggml_can_dequantize(DequantType.named(name).id)) }
        }
    }

    /// The comparison is not vacuous: flipping the sign of one block's d must make exactly that
    /// block mismatch the golden, for both ISAs.
    @Test(arguments: DequantType.blockTypes)
    func goldenComparisonDetectsAChangedBlock(type: DequantType) {
        let c = Self.goldens.cases.first { $0.type == type && $0.name == "random" }!
        let input = Self.goldens.input(c), expected = Self.goldens.expectedBits(c)!
        let signByte = DequantLayout.scaleOffsets(type)[0] + 1  // high byte of the f16 d
        #expect(Self.goldens.mismatches(c, dequantize(type, input, blocks: c.blocks, isa: .portable)).count == 0)
        for block in 0..<c.blocks {
            var changed = input
            changed[block * type.bytes + signByte] ^= 0x80
            for isa in DequantISA.both {
                let ours = dequantize(type, changed, blocks: c.blocks, isa: isa)
                let wrong = Set(ours.indices.filter { !sameBits(ours[$0].bitPattern, expected[$0]) }.map { $0 / type.elements })
                #expect(wrong == [block], "\(type.name) \(isa.testDescription): negating d of block \(block) changed blocks \(wrong)")
            }
        }
    }

    // MARK: AVX2 against portable

    /// Asserts AVX2 == portable, bit for bit, for `blocks` blocks of `source`.
    static func expectSameOnBothISAs(_ type: DequantType, _ source: [UInt8], blocks: Int, _ what: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
        let portable = dequantize(type, source, blocks: blocks, isa: .portable)
        let avx2 = dequantize(type, source, blocks: blocks, isa: .avx2)
        // exact bits on every CPU: both ISAs run on the same one
        let (count, first) = bitDifferences(avx2, portable.map(\.bitPattern))
        #expect(count == 0, "\(type.name) \(what): AVX2 differs from portable in \(count) floats, first \(first)",
                sourceLocation: sourceLocation)
    }

    @Test(arguments: ["F16", "BF16"].map(DequantType.named))
    func everyHalfPatternAgrees(type: DequantType) {
        let every = (0..<65536).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        Self.expectSameOnBothISAs(type, every, blocks: 65536, "all patterns")
        // and the portable F16 conversion by the numbers: exponent/mantissa formula, NaN payload kept
        let values = dequantize(type, every, blocks: 65536, isa: .portable)
        for h in 0..<65536 {
            let bits = values[h].bitPattern
            if type.name == "BF16" {
                #expect(bits == UInt32(h) << 16)
                continue
            }
            let sign: Float = h & 0x8000 != 0 ? -1 : 1, exponent = (h >> 10) & 31, mantissa = h & 0x3FF
            if exponent == 31 {
                #expect(bits == UInt32(h & 0x8000) << 16 | 0x7F80_0000 | UInt32(mantissa) << 13, "f16 \(h)")
            } else {
                let magnitude = exponent == 0 ? Float(mantissa) * 0x1p-24 : Float(1024 + mantissa) * Float(sign: .plus, exponent: exponent - 25, significand: 1)
                #expect(values[h] == sign * magnitude && values[h].sign == (sign < 0 ? .minus : .plus), "f16 \(h)")
            }
        }
    }

    /// Scale values for the block-structured checks: ordinary, negative, extreme, subnormal, NaN, inf.
    static let scaleHalves: [UInt16] = [0x3C00, 0xB600, 0x7BFF, 0x0001, 0x83FF, 0x0000, 0x7E01, 0x7C01, 0xFC00]

    /// Blocks with every element holding quant value v, for every v, and every scale byte value in every
    /// scale position, with several d (and m/dmin) values: AVX2 == portable.
    @Test(arguments: DequantType.blockTypes)
    func everyQuantValueInEveryPosition(type: DequantType) {
        var generator = SeededGenerator(state: 99 + UInt64(type.id))
        var blocks: [UInt8] = []
        var count = 0
        for d in Self.scaleHalves {
            for m in [0x3555, d] as [UInt16] {
                for value in 0..<DequantLayout.levels(type) {
                    var block = DequantLayout.random(type, &generator)
                    DequantLayout.setScales(type, &block, d: d, m: m)
                    DequantLayout.setEveryQuant(type, &block, to: value)
                    blocks += block
                    count += 1
                }
                if DequantLayout.hasSubScales(type) {
                    for byte in 0..<256 {
                        var block = DequantLayout.random(type, &generator)
                        DequantLayout.setScales(type, &block, d: d, m: m)
                        DequantLayout.setSubScaleBytes(type, &block, to: UInt8(byte))
                        blocks += block
                        count += 1
                    }
                }
            }
        }
        Self.expectSameOnBothISAs(type, blocks, blocks: count, "every quant value")
    }

    /// 100 000 blocks of random bytes per type (NaN and infinite scales included: random f16 fields
    /// are NaN or inf about once in 32).
    @Test(arguments: DequantType.all)
    func randomBlocksAgree(type: DequantType) {
        var generator = SeededGenerator(state: 0xD0 + UInt64(type.id))
        let total = 100_000, batch = 10_000
        for _ in 0..<total / batch {
            let bytes = randomBytes(batch * type.bytes, &generator)
            Self.expectSameOnBothISAs(type, bytes, blocks: batch, "random blocks")
        }
    }

    // MARK: Buffers

    /// Source offsets 1...31 (GGUF data is only 32-byte aligned and rows of 18-, 20-, 22-byte blocks
    /// start anywhere), destination offsets 0...7 floats, block counts 0, 1, 7 and 33: results equal
    /// the aligned ones and no float outside the destination range is written.
    @Test(arguments: DequantType.all, DequantISA.both)
    func unalignedBuffersAndBlockCounts(type: DequantType, isa: DequantISA) {
        var generator = SeededGenerator(state: 7 + UInt64(type.id))
        let maxBlocks = 33
        let bytes = randomBytes(maxBlocks * type.bytes, &generator)
        let reference = dequantize(type, bytes, blocks: maxBlocks, isa: .portable)
        let sentinel = Float(bitPattern: 0x7FBA_DBAD)
        for blocks in [0, 1, 7, 33] {
            for offset in 0..<32 {
                let source = [UInt8](repeating: 0xA5, count: offset) + bytes[..<(blocks * type.bytes)]
                let dstOffset = offset % 8, n = blocks * type.elements
                var out = [Float](repeating: sentinel, count: n + 24)
                source.withUnsafeBytes { raw in
                    out.withUnsafeMutableBufferPointer { dst in
                        qkv_ggml_dequantize(isa.value, type.id, raw.baseAddress! + offset, blocks, dst.baseAddress! + dstOffset)
                    }
                }
                let inside = Array(out[dstOffset..<dstOffset + n])
                #expect(bitDifferences(inside, reference[..<n].map(\.bitPattern)).count == 0,
                        "\(blocks) blocks at source offset \(offset)")
                let outside = out[..<dstOffset] + out[(dstOffset + n)...]
                #expect(outside.allSatisfy { $0.bitPattern == sentinel.bitPattern },
                        "\(blocks) blocks at offset \(offset): wrote outside the destination")
            }
        }
    }

    /// Blocks placed right before an inaccessible page, and right after one: reading a byte past
    /// blocks · block_bytes (or before the source) would crash the test process.
    @Test(arguments: DequantType.all, DequantISA.both)
    func neverReadsOutsideTheSource(type: DequantType, isa: DequantISA) throws {
        var generator = SeededGenerator(state: 11 + UInt64(type.id))
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for blocks in [1, 7, 33] {
            let length = blocks * type.bytes
            let bytes = randomBytes(length, &generator)
            let reference = dequantize(type, bytes, blocks: blocks, isa: .portable)
            let pages = (length + page - 1) / page
            let mapped = try #require(GuardPages(dataPages: pages, pageSize: page))
            defer { mapped.unmap() }
            for atEnd in [true, false] {
                let start = atEnd ? mapped.data + pages * page - length : mapped.data
                start.copyMemory(from: bytes, byteCount: length)
                var out = [Float](repeating: 0, count: blocks * type.elements)
                out.withUnsafeMutableBufferPointer { qkv_ggml_dequantize(isa.value, type.id, start, blocks, $0.baseAddress!) }
                #expect(bitDifferences(out, reference.map(\.bitPattern)).count == 0, "\(blocks) blocks, at end: \(atEnd)")
            }
        }
    }

    /// Dequantizing a tensor in block ranges (threads, GEMM panels) gives the bits of one call.
    @Test(arguments: DequantType.all, DequantISA.both)
    func blockRangesGiveTheSameBits(type: DequantType, isa: DequantISA) {
        var generator = SeededGenerator(state: 13 + UInt64(type.id))
        let blocks = 97
        let bytes = randomBytes(blocks * type.bytes, &generator)
        let whole = dequantize(type, bytes, blocks: blocks, isa: isa)
        for _ in 0..<5 {
            var parts: [Float] = []
            var first = 0
            while first < blocks {
                let count = min(blocks - first, 1 + Int(generator.next() % 20))
                parts += dequantize(type, bytes, offset: first * type.bytes, blocks: count, isa: isa)
                first += count
            }
            #expect(bitDifferences(parts, whole.map(\.bitPattern)).count == 0)
        }
    }

    /// Types qkv does not dequantize are refused and write nothing; so do block counts ≤ 0.
    @Test func otherTypesAndEmptyCountsWriteNothing() {
        let source = [UInt8](repeating: 0x3C, count: 4096)
        for type in DequantType.all {
            for isa in DequantISA.both {
                for blocks in [0, -1, Int.min] {
                    var out = [Float](repeating: 42, count: 512)
                    source.withUnsafeBytes { raw in
                        out.withUnsafeMutableBufferPointer { qkv_ggml_dequantize(isa.value, type.id, raw.baseAddress!, blocks, $0.baseAddress!) }
                    }
                    #expect(out.allSatisfy { $0 == 42 }, "\(type.name) \(blocks) blocks wrote output")
                }
            }
        }
        let supported = Set(DequantType.all.map(\.id))
        for id in Int32(-1)...Int32(45) {
            #expect(qkv_ggml_can_dequantize(id) == supported.contains(id), "type \(id)")
            if supported.contains(id) { continue }
            #expect(qkv_ggml_block_elements(id) == 0 && qkv_ggml_block_bytes(id) == 0)
            var out = [Float](repeating: 42, count: 512)
            source.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { qkv_ggml_dequantize(QKV_ISA_AVX2_FMA, id, raw.baseAddress!, 2, $0.baseAddress!) }
            }
            #expect(out.allSatisfy { $0 == 42 }, "type \(id) wrote output")
        }
    }
}

// MARK: - Helpers

/// Anonymous memory: an inaccessible page, `dataPages` read-write pages, another inaccessible page.
private struct GuardPages {
    let base: UnsafeMutableRawPointer
    let data: UnsafeMutableRawPointer
    let total: Int

    init?(dataPages: Int, pageSize: Int) {
        total = (dataPages + 2) * pageSize
        guard let p = mmap(nil, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        base = p
        data = p + pageSize
        guard mprotect(data, dataPages * pageSize, PROT_READ | PROT_WRITE) == 0 else {
            munmap(p, total)
            return nil
        }
    }

    func unmap() { munmap(base, total) }
}

/// Where each block type keeps its scales and quants (ggml-common.h), to build blocks with chosen
/// contents. Offsets here are independent of the C code (written from the layouts).
private enum DequantLayout {
    static func random(_ type: DequantType, _ generator: inout SeededGenerator) -> [UInt8] {
        randomBytes(type.bytes, &generator)
    }

    /// Offsets of the f16 fields: d, then m or dmin when the type has one.
    static func scaleOffsets(_ type: DequantType) -> [Int] {
        switch type.name {
        case "Q4_1", "Q5_1", "Q4_K", "Q5_K": return [0, 2]
        case "Q2_K": return [80, 82]
        case "Q3_K": return [108]
        case "Q6_K": return [208]
        default: return [0]
        }
    }

    static func setScales(_ type: DequantType, _ block: inout [UInt8], d: UInt16, m: UInt16) {
        for (offset, half) in zip(scaleOffsets(type), [d, m]) {
            block[offset] = UInt8(half & 0xFF)
            block[offset + 1] = UInt8(half >> 8)
        }
    }

    /// Number of distinct quant values (indices for IQ4).
    static func levels(_ type: DequantType) -> Int {
        switch type.name {
        case "Q2_K": return 4
        case "Q3_K": return 8
        case "Q5_0", "Q5_1", "Q5_K": return 32
        case "Q6_K": return 64
        case "Q8_0": return 256
        default: return 16
        }
    }

    static func fill(_ block: inout [UInt8], _ range: Range<Int>, _ value: UInt8) {
        for i in range { block[i] = value }
    }

    /// Every element of the block gets quant value v.
    static func setEveryQuant(_ type: DequantType, _ block: inout [UInt8], to v: Int) {
        let nibbles = UInt8(v & 15) * 0x11, fifth: UInt8 = v >> 4 != 0 ? 0xFF : 0
        switch type.name {
        case "Q4_0", "IQ4_NL": fill(&block, 2..<18, nibbles)
        case "Q4_1": fill(&block, 4..<20, nibbles)
        case "Q5_0": fill(&block, 2..<6, fifth); fill(&block, 6..<22, nibbles)
        case "Q5_1": fill(&block, 4..<8, fifth); fill(&block, 8..<24, nibbles)
        case "Q8_0": fill(&block, 2..<34, UInt8(v))
        case "Q2_K": fill(&block, 16..<80, UInt8(v) * 0x55)
        case "Q3_K": fill(&block, 0..<32, v >> 2 != 0 ? 0xFF : 0); fill(&block, 32..<96, UInt8(v & 3) * 0x55)
        case "Q4_K": fill(&block, 16..<144, nibbles)
        case "Q5_K": fill(&block, 16..<48, fifth); fill(&block, 48..<176, nibbles)
        case "Q6_K": fill(&block, 0..<128, nibbles); fill(&block, 128..<192, UInt8(v >> 4) * 0x55)
        case "IQ4_XS": fill(&block, 8..<136, nibbles)
        default: fatalError(type.name)
        }
    }

    static func hasSubScales(_ type: DequantType) -> Bool { type.elements == 256 }

    /// Every byte of the sub-block scale fields set to `byte`.
    static func setSubScaleBytes(_ type: DequantType, _ block: inout [UInt8], to byte: UInt8) {
        switch type.name {
        case "Q2_K": fill(&block, 0..<16, byte)
        case "Q3_K": fill(&block, 96..<108, byte)
        case "Q4_K", "Q5_K": fill(&block, 4..<16, byte)
        case "Q6_K": fill(&block, 192..<208, byte)
        case "IQ4_XS": fill(&block, 2..<8, byte)
        default: fatalError(type.name)
        }
    }
}
