import Foundation
import Testing
@testable import QKVKit

@Suite struct HeadStatisticsTests {
    static let uniform = [Float](repeating: 1.0 / 3, count: 9)
    /// Layer 0 heads [step, cycle, uniform], layer 2 heads [cycle, step, uniform]; heads 0 and 2 selected.
    let report = handReport(
        tokens: ["a", "b", "c"], layers: [0, 2],
        matrices: [[stepMatrix, cycleMatrix, uniform], [cycleMatrix, stepMatrix, uniform]], heads: [0, 2])

    @Test func valuesWorkedOutByHand() throws {
        let rows = HeadStatisticsReport(report).heads
        #expect(rows.map { "\($0.layer)/\($0.head)" } == ["0/0", "0/2", "2/0", "2/2"])
        let step = rows[0], uniform = rows[1], cycle = rows[2]
        // step = [[1,0,0],[.5,.5,0],[.25,.25,.5]]: row entropies 0, ln 2, 1.5 ln 2.
        #expect(abs(step.entropy - 5.0 / 6.0 * log(2.0)) < 1e-15)
        #expect(step.firstToken == 1.75 / 3)
        #expect(step.previousToken == 0.375)  // (p[1][0] + p[2][1]) / 2 = (0.5 + 0.25) / 2
        #expect(step.selfAttention == 2.0 / 3)
        #expect(step.topKey == 0 && step.topKeyMean == 1.75 / 3)
        // cycle = [[0,1,0],[0,0,1],[1,0,0]]: one-hot rows, 0 ln 0 = 0.
        #expect(cycle.entropy == 0)
        #expect(cycle.firstToken == 1.0 / 3)
        #expect(cycle.previousToken == 0)
        #expect(cycle.selfAttention == 0)
        #expect(cycle.topKey == 0)  // every key has mean 1/3: the first wins the tie
        // uniform: every value is Float(1/3) = 0.3333333432674408.
        let third = Double(Float(1.0 / 3))
        #expect(abs(uniform.entropy - log(3.0)) < 1e-7)
        #expect(abs(uniform.entropy - -3 * third * log(third)) < 1e-15)
        #expect(uniform.firstToken == third && uniform.previousToken == third && uniform.selfAttention == third)
        #expect(abs(uniform.topKeyMean - third) < 1e-15)
    }

    @Test func sortOrders() {
        let statistics = HeadStatisticsReport(report)
        let order = { (metric: HeadStatisticsReport.Metric) in
            statistics.sorted(by: metric).heads.map { "\($0.layer)/\($0.head)" }
        }
        #expect(order(.layer) == ["0/0", "0/2", "2/0", "2/2"])
        // Ascending entropy; the two uniform heads tie and keep layer order.
        #expect(order(.entropy) == ["2/0", "0/0", "0/2", "2/2"])
        // Descending; Float(1/3) is a little above 1/3, so the uniform heads beat the cycle's 1/3.
        #expect(order(.firstToken) == ["0/0", "0/2", "2/2", "2/0"])
        #expect(order(.previousToken) == ["0/0", "0/2", "2/2", "2/0"])
        #expect(order(.selfAttention) == ["0/0", "0/2", "2/2", "2/0"])
        #expect(order(.topKeyMean) == ["0/0", "0/2", "2/2", "2/0"])
    }

    @Test func oneTokenHasNoPreviousToken() throws {
        let single = HeadStatisticsReport(handReport(tokens: ["x"], layers: [0], matrices: [[[1], [1]]], heads: [0, 1]))
        #expect(single.heads[0] == HeadStatistics(layer: 0, head: 0, scores: [1], tokenCount: 1))
        #expect(single.heads[0].entropy == 0 && single.heads[0].firstToken == 1 && single.heads[0].previousToken == nil)
        #expect(single.sorted(by: .previousToken).heads.map(\.head) == [0, 1])
        let json = try #require(JSONSerialization.jsonObject(with: Data(single.json().rendered().utf8)) as? [String: Any])
        let row = try #require((json["heads"] as? [[String: Any]])?.first)
        #expect(row["previous_token"] is NSNull)
        #expect(single.csv().split(separator: "\n")[1] == "0,0,0.0,1.0,,1.0,0,1.0,x")
        #expect(single.table().contains("-  "))
        #expect(!single.table().contains("▲"))
    }

    @Test func jsonCSVAndTable() throws {
        let statistics = HeadStatisticsReport(report)
        let json = try #require(JSONSerialization.jsonObject(with: Data(statistics.json().rendered().utf8)) as? [String: Any])
        #expect((json["tokens"] as? [[String: Any]])?.map { $0["text"] as? String } == ["a", "b", "c"])
        let rows = try #require(json["heads"] as? [[String: Any]])
        #expect(rows.count == 4)
        #expect(rows[0]["first_token"] as? Double == 1.75 / 3)
        #expect(rows[0]["previous_token"] as? Double == 0.375)
        #expect(rows[0]["top_key_token"] as? String == "a")
        #expect(Set(rows[0].keys) == ["layer", "head", "entropy", "first_token", "previous_token", "self", "top_key", "top_key_token", "top_key_mean"])
        let csv = statistics.csv().split(separator: "\n")
        #expect(csv[0] == "layer,head,entropy,first_token,previous_token,self,top_key,top_key_mean,top_key_token")
        let fields = csv[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields.count == 9 && Double(fields[4]) == 0.375 && Double(fields[5]) == 2.0 / 3)
        // Table: cycle (2/0) has the lowest entropy, the uniform heads the highest (both marked).
        let lines = statistics.table().split(separator: "\n")
        #expect(lines[0] == "layer  head  entropy  first_token  previous_token     self  top_key  top_key_mean")
        #expect(lines[1].split(separator: " ") == ["0", "0", "0.578", "0.583", "▲", "0.375", "▲", "0.667", "▲", "a", "(0)", "0.583"])
        #expect(lines[3].contains("0.000 ▼"))
        #expect(lines[2].contains("1.099 ▲") && lines[4].contains("1.099 ▲"))
        #expect(lines.last == "▲ highest, ▼ lowest in the column")
    }
}

/// Removes ANSI escape sequences ESC [ ... m.
func strippingANSI(_ text: String) -> String {
    var out = ""
    var escaping = false
    for scalar in text.unicodeScalars {
        if escaping { if scalar == "m" { escaping = false }; continue }
        if scalar == "\u{1B}" { escaping = true; continue }
        out.unicodeScalars.append(scalar)
    }
    return out
}

@Suite struct TerminalShadingTests {
    @Test func cellsGetTheColourMapBackground() {
        let report = handReport(tokens: ["x", "y"], layers: [0], matrices: [[[1, 0, 0.5, 0.5]]], heads: [0])
        let plain = report.table(decimals: 2)
        let shaded = report.table(decimals: 2, colour: true)
        #expect(!plain.contains("\u{1B}"))
        #expect(shaded.contains("\u{1B}[48;2;253;231;37m\u{1B}[38;2;0;0;0m1.00\u{1B}[0m"))
        #expect(shaded.contains("\u{1B}[48;2;68;1;84m\u{1B}[38;2;255;255;255m0.00\u{1B}[0m"))
        #expect(shaded.contains("\u{1B}[48;2;33;145;140m"))  // 0.5
        #expect(strippingANSI(shaded) == plain)
        #expect(shaded.split(separator: "\n")[0] == plain.split(separator: "\n")[0])  // headers stay plain
        let heads = HeadStatisticsReport(report)
        #expect(strippingANSI(heads.table(colour: true)) == heads.table())
        #expect(heads.table(colour: true).contains("\u{1B}[48;2;"))
    }

    @Test func markdownTables() {
        let report = handReport(tokens: ["x", "a|b"], layers: [1], matrices: [[[1, 0, 0.25, 0.75]]], heads: [0])
        #expect(report.markdown(decimals: 2) == """
            | layer 1 head 0 | x | a\\|b |
            |---|---:|---:|
            | x | 1.00 | 0.00 |
            | a\\|b | 0.25 | 0.75 |
            """)
    }
}

@Suite struct NPZTests {
    let report = handReport(
        tokens: ["[CLS]", "é漢🙂", "a"], ids: [101, 7, 30521], layers: [1, 4],
        matrices: [[stepMatrix, cycleMatrix], [cycleMatrix, stepMatrix]], heads: [1])

    struct Member {
        var name: String
        var data: [UInt8]
    }

    /// Reads the archive from its end record, checking both headers and each member's CRC-32.
    func members(_ zip: [UInt8]) throws -> [Member] {
        func u16(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        let end = zip.count - 22
        #expect(u32(end) == 0x0605_4B50)
        let entries = u16(end + 10)
        var directory = u32(end + 16)
        #expect(directory + u32(end + 12) == end)
        var out: [Member] = []
        for _ in 0..<entries {
            #expect(u32(directory) == 0x0201_4B50)
            let method = u16(directory + 10), crc = UInt32(u32(directory + 16))
            let compressed = u32(directory + 20), size = u32(directory + 24)
            let nameLength = u16(directory + 28), local = u32(directory + 42)
            let name = String(decoding: zip[(directory + 46)..<(directory + 46 + nameLength)], as: UTF8.self)
            #expect(u32(local) == 0x0403_4B50)
            #expect(u16(local + 8) == method && UInt32(u32(local + 14)) == crc && u32(local + 18) == compressed)
            #expect(u16(local + 26) == nameLength && u16(local + 28) == 0)
            let start = local + 30 + nameLength
            let payload = Array(zip[start..<(start + compressed)])
            var data = [UInt8](repeating: 0, count: size)
            if method == 8 {
                try payload.withUnsafeBytes { source in
                    let inflater = try Inflater(windowBits: -15, what: name, nextInput: pieces(of: source))
                    let produced = try data.withUnsafeMutableBytes { try inflater.read(into: $0) }
                    #expect(produced == size)
                    try inflater.finish(expectedTotal: UInt64(size))
                }
            } else {
                #expect(method == 0 && compressed == size)
                data = payload
            }
            #expect(CRC32.checksum(data) == crc, "\(name)")
            out.append(Member(name: name, data: data))
            directory += 46 + nameLength
        }
        return out
    }

    /// The header dictionary and the data of an .npy v1.0 file.
    func npy(_ bytes: [UInt8]) -> (header: String, data: [UInt8]) {
        #expect(Array(bytes.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + length) % 64 == 0)
        #expect(bytes[10 + length - 1] == 0x0A)
        let header = String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
        return (header.trimmingCharacters(in: .whitespacesAndNewlines), Array(bytes[(10 + length)...]))
    }

    @Test func structure() throws {
        let archive = try members(NPZArchive.attention(report))
        #expect(archive.map(\.name) == ["attention.npy", "token_ids.npy", "tokens.npy", "layers.npy", "heads.npy"])
        let attention = npy(archive[0].data)
        #expect(attention.header == "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3, 3), }")
        let floats = stride(from: 0, to: attention.data.count, by: 4).map { i in
            Float(bitPattern: UInt32(attention.data[i]) | UInt32(attention.data[i + 1]) << 8
                | UInt32(attention.data[i + 2]) << 16 | UInt32(attention.data[i + 3]) << 24)
        }
        #expect(floats == cycleMatrix + stepMatrix)  // layer 1 head 1, layer 4 head 1
        let ids = npy(archive[1].data)
        #expect(ids.header == "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }")
        #expect(ids.data == [101, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0x39, 0x77, 0, 0, 0, 0, 0, 0]) // 30521 = 0x7739
        let tokens = npy(archive[2].data)
        // Longest token: "[CLS]", 5 code points; "é漢🙂" is 3 (🙂 is one UTF-32 unit).
        #expect(tokens.header == "{'descr': '<U5', 'fortran_order': False, 'shape': (3,), }")
        #expect(tokens.data.count == 3 * 5 * 4)
        #expect(Array(tokens.data[20..<32]) == [0xE9, 0, 0, 0, 0x22, 0x6F, 0, 0, 0x42, 0xF6, 0x01, 0])
        #expect(npy(archive[3].data).data == [1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0])
        #expect(npy(archive[4].data).data == [1, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func numpyLoadsIt() throws {
        let path = temporaryPath("attention.npz")
        try Data(NPZArchive.attention(report)).write(to: URL(fileURLWithPath: path))
        let out = try runPython("""
            import json, sys
            import numpy as np
            z = np.load(sys.argv[1])
            a = z['attention']
            assert a.dtype == np.float32 and a.shape == (2, 1, 3, 3), (a.dtype, a.shape)
            print(json.dumps({'attention': a.astype(float).ravel().tolist(), 'ids': z['token_ids'].tolist(),
                'id_dtype': str(z['token_ids'].dtype), 'tokens': z['tokens'].tolist(), 'layers': z['layers'].tolist(),
                'heads': z['heads'].tolist(), 'files': sorted(z.files)}))
            """, arguments: [path])
        let json = try #require(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect((json["attention"] as? [Double])?.map { Float($0) } == cycleMatrix + stepMatrix)
        #expect(json["ids"] as? [Int] == [101, 7, 30521])
        #expect(json["id_dtype"] as? String == "int64")
        #expect(json["tokens"] as? [String] == ["[CLS]", "é漢🙂", "a"])
        #expect(json["layers"] as? [Int] == [1, 4])
        #expect(json["heads"] as? [Int] == [1])
        #expect(json["files"] as? [String] == ["attention", "heads", "layers", "token_ids", "tokens"])
    }

    @Test func tooLargeIsAClearError() throws {
        // 4 x 16 x 4100 x 4100 float32 is above 4 GiB; the check comes before any allocation.
        let big = AttentionReport(
            tokens: (0..<4100).map { AttentionReport.Token(id: $0, text: "t") },
            layers: (0..<4).map { LayerAttention(layer: $0, tokenCount: 4100, heads: []) },
            heads: Array(0..<16))
        #expect(throws: RenderError.archiveTooLarge(member: "attention.npy", bytes: 4 * 16 * 4100 * 4100 * 4)) {
            try NPZArchive.attention(big)
        }
    }
}

@Suite struct HTMLViewerTests {
    static let awkward = ["</script><script>alert(1)</script>", "a&b", "<!--", "\"q\" 'x'", "é漢🙂", "\u{2028}"]

    func data(_ html: String) throws -> [String: Any] {
        let open = "<script id=\"qkv-data\" type=\"application/json\">"
        let start = try #require(html.range(of: open)).upperBound
        let end = try #require(html[start...].range(of: "</script>")).lowerBound
        let text = String(html[start..<end])
        #expect(!text.contains("<") && !text.contains(">") && !text.contains("&"))
        return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func embedsExactFloat32AndTokens() throws {
        let report = randomAttention(layers: 2, heads: 3, tokens: Self.awkward.count).withTokens(Self.awkward)
        let html = try HTMLViewer.render(report, title: "<model> & co")
        let json = try data(html)
        #expect(json["tokens"] as? [String] == Self.awkward)
        #expect(json["count"] as? Int == Self.awkward.count)
        #expect(json["layers"] as? [Int] == [0, 1])
        #expect(json["heads"] as? [Int] == [0, 1, 2])
        let scores = try #require(json["scores"] as? [String])
        #expect(scores.count == 6)
        for (index, base64) in scores.enumerated() {
            let bytes = try #require(Data(base64Encoded: base64))
            let floats = bytes.withUnsafeBytes { raw in
                (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            #expect(floats == report.layers[index / 3].heads[index % 3])
        }
        let paletteText = try #require(json["viridis"] as? String)
        let palette = try #require(Data(base64Encoded: paletteText))
        #expect(palette.count == 768)
        #expect(Array(palette.prefix(3)) == [0x44, 0x01, 0x54] && Array(palette.suffix(3)) == [0xFD, 0xE7, 0x25])
        #expect(html.contains("<title>qkv attention: &lt;model&gt; &amp; co</title>"))
    }

    @Test func loadsNothingFromTheNetwork() throws {
        let html = try HTMLViewer.render(randomAttention(layers: 1, heads: 1, tokens: 4), title: "t")
        for forbidden in ["http:", "https:", "//cdn", "src=", "href=", "@import", "url(", "fetch(", "XMLHttpRequest"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func refusesMoreThanItCanCarry() {
        let report = AttentionReport(
            tokens: (0..<2000).map { AttentionReport.Token(id: $0, text: "t") },
            layers: (0..<9).map { LayerAttention(layer: $0, tokenCount: 2000, heads: []) }, heads: [0])
        #expect(throws: RenderError.tooManyValues(format: "html", values: 9 * 2000 * 2000, maximum: HTMLViewer.maximumValues)) {
            try HTMLViewer.render(report, title: "t")
        }
    }
}

@Suite struct AtomicFileTests {
    @Test func writesAndReplaces() throws {
        let path = temporaryPath("out.bin")
        try AtomicFile.write([1, 2, 3], to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
        try AtomicFile.write([9], to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([9]))
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.bin"])  // no temporary left
    }

    @Test func failuresNameThePathAndLeaveNothing() throws {
        #expect(throws: FileWriteError(path: "/nonexistent-qkv/x.png", reason: "the folder /nonexistent-qkv does not exist")) {
            try AtomicFile.write([1], to: "/nonexistent-qkv/x.png")
        }
        let folder = URL(fileURLWithPath: temporaryPath("x")).deletingLastPathComponent().path
        #expect(throws: FileWriteError(path: folder, reason: "is a folder")) { try AtomicFile.write([1], to: folder) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test func writerInPiecesCommitsOnlyAtTheEnd() throws {
        let path = temporaryPath("dump.json")
        try AtomicFile.write(Array("old".utf8), to: path)
        do {
            let writer = try AtomicFileWriter(path: path)
            try Array("new ".utf8).withUnsafeBytes { try writer.write($0) }
            // Dropped before commit: the destination keeps its old content and no temporary remains.
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["dump.json"])

        let writer = try AtomicFileWriter(path: path)
        for piece in ["new ", "content"] { try Array(piece.utf8).withUnsafeBytes { try writer.write($0) } }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")  // not yet committed
        try writer.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new content")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["dump.json"])
    }

    @Test func devicesAreWrittenInPlace() throws {
        try AtomicFile.write([1, 2, 3], to: "/dev/null")
        var status = stat()
        #expect(stat("/dev/null", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR)
    }
}
