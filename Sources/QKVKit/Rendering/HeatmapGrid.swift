/// The layout shared by the SVG and PNG pictures: a title, a colour legend, and one labelled heatmap
/// per selected layer (rows) and head (columns), all in pixels (PNG) or user units (SVG).
///
/// Each panel is titled "layer L head H", has the query tokens down its left side and the key
/// tokens below it, rotated to read downwards. Labels are shown where they fit: every k-th token
/// when cells are smaller than a line of text. Labels longer than `maximumLabelLength` characters
/// are cut with "…".
public struct HeatmapGrid {
    public struct Panel: Sendable {
        public var layer: Int
        public var head: Int
        /// Position in `report.layers`.
        public var layerIndex: Int
        /// Top-left corner of the heatmap itself.
        public var x: Int
        public var y: Int
    }

    public static let margin = 16
    public static let gap = 16
    public static let maximumLabelLength = 16
    public static let legendWidth = 256
    public static let legendHeight = 12
    public static let legendTicks: [(value: Float, label: String)] = [(0, "0"), (0.25, "0.25"), (0.5, "0.5"), (0.75, "0.75"), (1, "1")]
    /// The most pixels a PNG may have (about 400 MiB of RGB while drawing).
    public static let maximumPixels = 1 << 27

    public let tokenCount: Int
    public let cell: Int
    /// Font scale of labels and panel titles (glyph box 6·scale × 8·scale).
    public let scale: Int
    public let labels: [String]
    /// Every `labelStride`-th token is labelled.
    public let labelStride: Int
    /// Room for the longest label plus a gap, left of each heatmap and below it.
    public let labelExtent: Int
    public let title: String
    public let subtitle: String
    public let legendX: Int
    public let legendY: Int
    public let panels: [Panel]
    public let width: Int
    public let height: Int

    /// A default cell size: 16 for short inputs, smaller for long ones, so a panel is at most about
    /// 256 pixels (at least 1 pixel per token).
    public static func defaultCell(tokenCount: Int) -> Int { max(1, min(16, 256 / max(1, tokenCount))) }

    public init(report: AttentionReport, cell: Int? = nil, title: String) {
        let count = report.tokens.count
        let cell = cell ?? Self.defaultCell(tokenCount: count)
        precondition((1...1024).contains(cell), "cell size \(cell) outside 1...1024")
        tokenCount = count
        self.cell = cell
        let scale = cell >= 24 ? 2 : 1
        self.scale = scale
        let labels = report.tokenLabels.map { truncatedLabel($0, to: Self.maximumLabelLength) }
        self.labels = labels
        let stride = max(1, (BitmapFont.lineHeight * scale + cell - 1) / cell)
        labelStride = stride
        let longest = labels.enumerated().filter { $0.offset % stride == 0 }.map(\.element.count).max() ?? 1
        let labelExtent = max(1, longest) * BitmapFont.advance * scale + 4
        self.labelExtent = labelExtent
        self.title = displayLabel(title)
        let subtitle = "attention: rows = queries, columns = keys; colour = probability, 0 to 1"
        self.subtitle = subtitle

        let margin = Self.margin
        var y = margin + 16 + 6  // title, 2x font
        y += BitmapFont.lineHeight + 8  // subtitle
        legendX = margin
        legendY = y
        y += Self.legendHeight + 3 + BitmapFont.lineHeight + Self.gap  // legend bar, tick labels

        let panelTitle = BitmapFont.lineHeight * scale + 4
        let side = count * cell
        let blockWidth = labelExtent + side
        let blockHeight = panelTitle + side + labelExtent
        var panels: [Panel] = []
        for (row, layer) in report.layers.enumerated() {
            for (column, head) in report.heads.enumerated() {
                panels.append(Panel(
                    layer: layer.layer, head: head, layerIndex: row,
                    x: margin + column * (blockWidth + Self.gap) + labelExtent,
                    y: y + row * (blockHeight + Self.gap) + panelTitle))
            }
        }
        self.panels = panels
        let columns = max(1, report.heads.count), rows = max(1, report.layers.count)
        let headerWidth = max(
            BitmapFont.width(title, scale: 2), BitmapFont.width(subtitle, scale: 1),
            Self.legendWidth + BitmapFont.width("0.75", scale: 1))
        width = 2 * margin + max(columns * blockWidth + (columns - 1) * Self.gap, headerWidth)
        height = y + rows * blockHeight + (rows - 1) * Self.gap + margin
    }

    /// Centre of row (query) or column (key) `index` along its axis, from the heatmap's corner.
    public func centre(_ index: Int) -> Int { index * cell + cell / 2 }

    public func isLabelled(_ index: Int) -> Bool { index % labelStride == 0 }
}

/// Token text as a label: control characters and anything XML cannot carry written as escapes
/// (`\n`, `\t`, `\r`, `\u{7f}`), so a label stays on one line and every output can hold it.
public func displayLabel(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case 0x0D: out += "\\r"
        case 0..<0x20, 0x7F..<0xA0, 0xFFFE, 0xFFFF: out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

func truncatedLabel(_ label: String, to length: Int) -> String {
    label.count <= length ? label : String(label.prefix(length - 1)) + "…"
}
