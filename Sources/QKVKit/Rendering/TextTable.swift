/// A plain-text or Markdown table: left-aligned text columns, right-aligned number columns.
public struct TextTable {
    public enum Alignment { case left, right }

    public var headers: [String]
    public var alignments: [Alignment]
    public var rows: [[String]] = []

    public init(headers: [String], alignments: [Alignment]) {
        precondition(headers.count == alignments.count)
        self.headers = headers
        self.alignments = alignments
    }

    public mutating func append(_ row: [String]) {
        precondition(row.count == headers.count)
        rows.append(row)
    }

    /// Columns separated by two spaces, no trailing blanks.
    public func text() -> String { text(background: nil) }

    /// As `text()`, and every body cell for which `background(row, column)` gives a colour is
    /// painted with it as a 24-bit ANSI background (`ESC[48;2;r;g;bm`) under black or white text,
    /// whichever reads better, then reset (`ESC[0m`). Padding is computed on the plain text.
    public func text(background: ((_ row: Int, _ column: Int) -> RGB?)?) -> String {
        let widths = columnWidths
        return ([headers] + rows).enumerated().map { line, row in
            row.indices.map { column in
                let cell = pad(row[column], to: widths[column], alignments[column])
                guard line > 0, let colour = background?(line - 1, column) else { return cell }
                return ansiShaded(cell, colour)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    /// Each column's width in terminal cells.
    var columnWidths: [Int] {
        headers.indices.map { column in ([headers] + rows).map { displayWidth($0[column]) }.max() ?? 0 }
    }

    /// The table as several that each fit in `width` cells, the first column repeated in every
    /// one (it labels the rows), the others in order; every value still appears once. A column
    /// wider than `width` on its own still gets a table of its own. `firstColumnWidth` reserves
    /// room for a longer first header the caller adds to each part.
    public func splitColumns(toFit width: Int, firstColumnWidth: Int = 0) -> [(columns: Range<Int>, table: TextTable)] {
        var widths = columnWidths
        guard headers.count > 1 else { return [(0..<headers.count, self)] }
        widths[0] = max(widths[0], firstColumnWidth)
        var parts: [(columns: Range<Int>, table: TextTable)] = []
        var start = 1
        while start < headers.count {
            var end = start + 1
            var used = widths[0] + 2 + widths[start]
            while end < headers.count && used + 2 + widths[end] <= width {
                used += 2 + widths[end]
                end += 1
            }
            var part = TextTable(headers: [headers[0]] + headers[start..<end], alignments: [alignments[0]] + alignments[start..<end])
            part.rows = rows.map { [$0[0]] + $0[start..<end] }
            parts.append((start..<end, part))
            start = end
        }
        return parts
    }

    /// GitHub-flavoured Markdown, with alignment markers.
    public func markdown() -> String {
        let escape = { (cell: String) in cell.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["| " + headers.map(escape).joined(separator: " | ") + " |"]
        lines.append("|" + alignments.map { $0 == .right ? "---:|" : "---|" }.joined())
        for row in rows { lines.append("| " + row.map(escape).joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    private func pad(_ cell: String, to width: Int, _ alignment: Alignment) -> String {
        let fill = String(repeating: " ", count: max(0, width - displayWidth(cell)))
        return alignment == .left ? cell + fill : fill + cell
    }
}

/// `text` on a 24-bit ANSI background with a readable foreground, then reset.
func ansiShaded(_ text: String, _ colour: RGB) -> String {
    let ink = colour.readableForeground
    return "\u{1B}[48;2;\(colour.red);\(colour.green);\(colour.blue)m\u{1B}[38;2;\(ink.red);\(ink.green);\(ink.blue)m"
        + text + "\u{1B}[0m"
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// 11328 → "11,328".
public func groupedThousands<N: BinaryInteger>(_ value: N) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
        out.append(digit)
    }
    return value < 0 ? "-" + out : out
}

/// A fraction as a percentage with two decimals.
func percent(_ part: Int, of total: Int) -> String {
    guard total > 0 else { return "0.00%" }
    return fixed(Double(part) * 100 / Double(total), decimals: 2) + "%"
}

/// A number with exactly `decimals` digits after the point, without Foundation's locale.
public func fixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return String(describing: value) }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    var digits = String(format0(scaled))
    if decimals > 0 {
        while digits.count <= decimals { digits = "0" + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
    }
    return (value < 0 && scaled != 0 ? "-" : "") + digits
}

private func format0(_ integral: Double) -> String {
    integral < 1e18 ? String(Int64(integral)) : String(describing: integral)
}
