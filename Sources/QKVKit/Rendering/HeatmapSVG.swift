import Foundation

/// `qkv run --format svg`: the `HeatmapGrid` as one standalone SVG 1.1 document.
///
/// Text (title, legend, panel titles, token labels) is always vector, in a monospace font. The two
/// label sets (queries down the left, keys below) are written once in `<defs>` and placed on each
/// panel with `<use>`, so labels cost the same for 1 panel or 144.
///
/// Cells are vector too while the document has at most `vectorCellLimit` cells in all: one `<path>`
/// per colour per panel, horizontal runs of one colour merged, `shape-rendering="crispEdges"`.
/// Larger grids embed each heatmap as a palette PNG with one pixel per cell
/// (`<image href="data:image/png;base64,…">`, drawn with `image-rendering: pixelated`), which keeps a
/// 12 × 12-head, 128-token picture at a few MB. `cells` forces either form.
public enum HeatmapSVG {
    public enum Cells: Sendable { case automatic, vector, raster }

    /// 65,536 cells: at most about 1 MB of path data.
    public static let vectorCellLimit = 1 << 16
    /// The most attention values an SVG carries (raster form: about 1.3 bytes each).
    public static let maximumValues = 1 << 26

    public static func render(
        _ report: AttentionReport, cell: Int? = nil, title: String, cells: Cells = .automatic
    ) throws(RenderError) -> String {
        let grid = HeatmapGrid(report: report, cell: cell, title: title)
        let count = grid.tokenCount
        let values = grid.panels.count * count * count
        guard values <= maximumValues else { throw .tooManyValues(format: "svg", values: values, maximum: maximumValues) }
        let vector = cells == .vector || (cells == .automatic && values <= vectorCellLimit)
        let fontSize = BitmapFont.lineHeight * grid.scale
        let side = count * grid.cell

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" \
            width="\(grid.width)" height="\(grid.height)" viewBox="0 0 \(grid.width) \(grid.height)" \
            font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" fill="#202020">
            <title>\(xmlEscaped(grid.title))</title>
            <defs>
            <linearGradient id="viridis" x1="0" y1="0" x2="1" y2="0">

            """
        // The legend is the colour map itself: every 8th entry and the last as gradient stops.
        for index in Swift.stride(from: 0, through: 255, by: 8) + [255] {
            svg += "<stop offset=\"\(fixed(Double(index) / 255, decimals: 4))\" stop-color=\"\(ColorMap.viridis[index].hexString)\"/>\n"
        }
        svg += "</linearGradient>\n"
        // Query labels end 3 units left of the heatmap, key labels start 3 units below it.
        svg += "<g id=\"query-labels\" font-size=\"\(fontSize)\" text-anchor=\"end\">\n"
        for index in 0..<count where grid.isLabelled(index) {
            svg += "<text x=\"-3\" y=\"\(grid.centre(index))\" dy=\"0.35em\">\(xmlEscaped(grid.labels[index]))</text>\n"
        }
        svg += "</g>\n<g id=\"key-labels\" font-size=\"\(fontSize)\">\n"
        for index in 0..<count where grid.isLabelled(index) {
            svg += "<text transform=\"translate(\(grid.centre(index)) 3) rotate(90)\" dy=\"0.35em\">\(xmlEscaped(grid.labels[index]))</text>\n"
        }
        svg += "</g>\n</defs>\n"
        svg += "<rect width=\"\(grid.width)\" height=\"\(grid.height)\" fill=\"#ffffff\"/>\n"
        let margin = HeatmapGrid.margin
        svg += "<text x=\"\(margin)\" y=\"\(margin + 13)\" font-size=\"16\" font-weight=\"bold\">\(xmlEscaped(grid.title))</text>\n"
        svg += "<text x=\"\(margin)\" y=\"\(margin + 22 + 7)\" font-size=\"8\">\(xmlEscaped(grid.subtitle))</text>\n"
        svg += "<g id=\"legend\" font-size=\"8\" text-anchor=\"middle\">\n"
        svg += "<rect x=\"\(grid.legendX)\" y=\"\(grid.legendY)\" width=\"\(HeatmapGrid.legendWidth)\" height=\"\(HeatmapGrid.legendHeight)\" fill=\"url(#viridis)\"/>\n"
        for tick in HeatmapGrid.legendTicks {
            let x = grid.legendX + Int((tick.value * Float(HeatmapGrid.legendWidth - 1)).rounded())
            svg += "<rect x=\"\(x)\" y=\"\(grid.legendY + HeatmapGrid.legendHeight)\" width=\"1\" height=\"2\"/>"
            svg += "<text x=\"\(x)\" y=\"\(grid.legendY + HeatmapGrid.legendHeight + 10)\">\(tick.label)</text>\n"
        }
        svg += "</g>\n"

        for panel in grid.panels {
            let scores = report.layers[panel.layerIndex].heads[panel.head]
            svg += "<g id=\"layer\(panel.layer)-head\(panel.head)\">\n"
            svg += "<text x=\"\(panel.x)\" y=\"\(panel.y - 4)\" font-size=\"\(fontSize)\">layer \(panel.layer) head \(panel.head)</text>\n"
            svg += "<use xlink:href=\"#query-labels\" x=\"\(panel.x)\" y=\"\(panel.y)\"/>"
            svg += "<use xlink:href=\"#key-labels\" x=\"\(panel.x)\" y=\"\(panel.y + side)\"/>\n"
            if vector {
                svg += vectorCells(scores, count: count, x: panel.x, y: panel.y, cell: grid.cell)
            } else {
                let indices = scores.map { UInt8(ColorMap.index($0)) }
                let png = PNGEncoder.indexed(width: count, height: count, indices: indices, palette: ColorMap.viridis)
                svg += "<image x=\"\(panel.x)\" y=\"\(panel.y)\" width=\"\(side)\" height=\"\(side)\" preserveAspectRatio=\"none\" "
                    + "image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" "
                    + "xlink:href=\"data:image/png;base64,\(Data(png).base64EncodedString())\"/>\n"
            }
            svg += "</g>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// One `<path>` per colour: each run of equal colour along a row is one rectangle.
    static func vectorCells(_ scores: [Float], count: Int, x: Int, y: Int, cell: Int) -> String {
        var paths = [String](repeating: "", count: 256)
        for query in 0..<count {
            var key = 0
            while key < count {
                let index = ColorMap.index(scores[query * count + key])
                var end = key + 1
                while end < count && ColorMap.index(scores[query * count + end]) == index { end += 1 }
                let width = (end - key) * cell
                paths[index] += "M\(x + key * cell) \(y + query * cell)h\(width)v\(cell)h-\(width)z"
                key = end
            }
        }
        var out = "<g shape-rendering=\"crispEdges\">\n"
        for (index, path) in paths.enumerated() where !path.isEmpty {
            out += "<path fill=\"\(ColorMap.viridis[index].hexString)\" d=\"\(path)\"/>\n"
        }
        return out + "</g>\n"
    }
}

/// Text for XML character data and attribute values.
public func xmlEscaped(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(character)
        }
    }
    return out
}
