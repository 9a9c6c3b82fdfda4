import Foundation
import Testing
@testable import QKVKit

/// Tables a terminal can show: widths in terminal cells, wide matrices split into blocks of keys
/// that fit, repeated tokens told apart.
@Suite struct TableLayoutTests {
    @Test func displayWidthCountsTerminalCells() {
        #expect(displayWidth("abc") == 3)
        #expect(displayWidth("我爱北京") == 8)  // CJK: two cells each
        #expect(displayWidth("ｱ") == 1 && displayWidth("Ａ") == 2)  // halfwidth katakana, fullwidth A
        #expect(displayWidth("e\u{301}") == 1)  // a combining accent takes no cell
        #expect(displayWidth("🥰") == 2 && displayWidth("👨\u{200D}👩") == 4)  // emoji wide, the joiner zero
        #expect(displayWidth("한") == 2 && displayWidth("\u{1112}\u{1161}\u{11AB}") == 2)  // precomposed and jamo
        #expect(displayWidth("\u{FE0F}") == 0)
    }

    @Test func paddingUsesCellsNotCharacters() {
        var table = TextTable(headers: ["token", "p"], alignments: [.left, .right])
        table.append(["我爱", "0.5"])
        table.append(["ab", "0.25"])
        let lines = table.text().split(separator: "\n").map(String.init)
        // "token" is 5 cells, "我爱" 4: every line puts p's column at the same cell.
        #expect(lines.map(displayWidth) == [11, 11, 11])
        #expect(lines[1] == "我爱    0.5")
    }

    static func report(_ texts: [String]) -> AttentionReport {
        let t = texts.count
        let scores = (0..<(t * t)).map { Float($0) / Float(t * t) }
        return AttentionReport(
            tokens: texts.enumerated().map { .init(id: $0.offset, text: $0.element) },
            layers: [LayerAttention(layer: 0, tokenCount: t, heads: [scores])], heads: [0])
    }

    @Test func repeatedTokensGetTheirPosition() {
        #expect(Self.report(["the", "cat", "the", "\n", "cat"]).tokenLabels == ["the#0", "cat#1", "the#2", "\\n", "cat#4"])
        #expect(Self.report(["a", "b"]).tokenLabels == ["a", "b"])
    }

    /// Split into blocks that fit, each repeating the query labels, every score printed once.
    @Test func wideMatricesSplitIntoBlocksOfKeys() {
        let texts = (0..<23).map { "tok\($0)" }
        let report = Self.report(texts)
        let whole = report.table(decimals: 3)
        let split = report.table(decimals: 3, width: 50)
        for line in split.split(separator: "\n") { #expect(displayWidth(String(line)) <= 50, "\(line)") }
        let blocks = split.components(separatedBy: "\n\n")
        #expect(blocks.count > 1)
        #expect(blocks.allSatisfy { $0.split(separator: "\n").count == texts.count + 1 })
        // Every score once: the numbers of the split tables are those of the whole table.
        func numbers(_ text: String) -> [String] {
            text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).filter { $0.contains(".") && Double($0) != nil }
        }
        #expect(numbers(split).sorted() == numbers(whole).sorted())
        #expect(blocks[0].hasPrefix("layer 0 head 0 keys 0–"))
        #expect(report.table(decimals: 3, width: 10_000) == whole)
    }
}
