import Foundation
import Testing
@testable import QKVKit

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The three matrices whose statistics are worked out by hand in `HeadStatisticsTests`.
let stepMatrix: [Float] = [1, 0, 0, 0.5, 0.5, 0, 0.25, 0.25, 0.5]
let cycleMatrix: [Float] = [0, 1, 0, 0, 0, 1, 1, 0, 0]

@Suite struct ColorMapTests {
    @Test func endpointsAndMiddleAreViridis() {
        // Published viridis: #440154 at 0, #21918c in the middle, #fde725 at 1.
        #expect(ColorMap.color(0) == RGB(0x44, 0x01, 0x54))
        #expect(ColorMap.color(0.5) == RGB(0x21, 0x91, 0x8C))
        #expect(ColorMap.color(1) == RGB(0xFD, 0xE7, 0x25))
        #expect(ColorMap.viridis.count == 256)
        #expect(ColorMap.viridis[0].hexString == "#440154")
    }

    @Test func indexIsFloorOfValueTimes256Clamped() {
        #expect(ColorMap.index(0) == 0)
        #expect(ColorMap.index(1.0 / 256) == 1)
        #expect(ColorMap.index(Float(1.0 / 256).nextDown) == 0)
        #expect(ColorMap.index(0.5) == 128)
        #expect(ColorMap.index(Float(255.0 / 256)) == 255)
        #expect(ColorMap.index(1) == 255)
        #expect(ColorMap.index(7) == 255)
        #expect(ColorMap.index(-0.5) == 0)
        #expect(ColorMap.index(.nan) == 0)
        #expect(ColorMap.index(.infinity) == 255)
    }

    @Test func foregroundContrasts() {
        #expect(ColorMap.color(0).readableForeground == RGB(255, 255, 255))
        #expect(ColorMap.color(1).readableForeground == RGB(0, 0, 0))
    }
}

@Suite struct PNGTests {
    @Test func rgbRoundTripsThroughAnIndependentDecoderWithEveryFilter() throws {
        // Gradients, noise and flat areas, so that rows pick different filters.
        var generator = SeededGenerator(state: 3)
        let width = 37, height = 23
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                switch y % 4 {
                case 0: pixels[i] = UInt8(x * 6); pixels[i + 1] = UInt8(y * 9); pixels[i + 2] = 40
                case 1: pixels[i] = UInt8.random(in: 0...255, using: &generator); pixels[i + 1] = 7; pixels[i + 2] = UInt8(x)
                case 2: pixels[i] = 200; pixels[i + 1] = 200; pixels[i + 2] = 200
                default: pixels[i] = UInt8((x * y) & 0xFF); pixels[i + 1] = UInt8(x + y); pixels[i + 2] = UInt8(255 - x)
                }
            }
        }
        let png = PNGEncoder.rgb(width: width, height: height, pixels: pixels)
        let decoded = try DecodedPNG(png)
        #expect(decoded.width == width && decoded.height == height && decoded.colourType == 2)
        #expect(decoded.samples == pixels)
        #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
        // Each filter on its own, so every one of the encoder's five filters is checked by the decoder.
        for filter in UInt8(0)...4 {
            let forced = try DecodedPNG(PNGEncoder.rgb(width: width, height: height, pixels: pixels, filter: filter))
            #expect(forced.samples == pixels, "filter \(filter)")
        }
        // The per-row choice picks the cheapest filter: flat rows of grey compress best with Sub or Up.
        let filtered = pixels.withUnsafeBytes { PNGEncoder.filterScanlines($0, width: width, height: height, bytesPerPixel: 3) }
        #expect(filtered[2 * (width * 3 + 1)] != 0)
    }

    @Test func paletteImageKeepsIndices() throws {
        let indices: [UInt8] = [0, 1, 2, 255, 128, 7]
        let png = PNGEncoder.indexed(width: 3, height: 2, indices: indices, palette: ColorMap.viridis)
        let decoded = try DecodedPNG(png)
        #expect(decoded.colourType == 3)
        #expect(decoded.palette == ColorMap.viridis)
        #expect(decoded.samples == indices)
        #expect(decoded.chunkTypes == ["IHDR", "PLTE", "IDAT", "IEND"])
    }

    @Test func largeImagesSplitIDAT() throws {
        var generator = SeededGenerator(state: 9)
        let side = 700
        let pixels = (0..<(side * side * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let decoded = try DecodedPNG(PNGEncoder.rgb(width: side, height: side, pixels: pixels))
        #expect(decoded.chunkTypes.filter { $0 == "IDAT" }.count >= 2)
        #expect(decoded.samples == pixels)
    }

    @Test func pythonZlibReadsIt() throws {
        let image = try HeatmapPNG.raster(
            handReport(tokens: ["a", "b", "c"], layers: [0], matrices: [[stepMatrix]], heads: [0]), title: "t")
        let path = temporaryPath("py.png")
        try Data(image.png()).write(to: URL(fileURLWithPath: path))
        // Python's zlib and struct only: chunk CRCs, size, and that the inflated size fits the header.
        let out = try runPython("""
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat, size = 8, b'', None
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0], kind
                if kind == b'IHDR': size = struct.unpack('>II', body[:8])
                if kind == b'IDAT': idat += body
                pos += 12 + n
            raw = zlib.decompress(idat)
            assert len(raw) == size[1] * (1 + 3 * size[0]), (len(raw), size)
            print(size[0], size[1])
            """, arguments: [path])
        #expect(out == "\(image.width) \(image.height)\n")
    }

    @Test func fontDrawsTheGlyphPattern() {
        var image = RasterImage(width: 8, height: 9, background: RGB(255, 255, 255))
        image.drawText("A", x: 1, y: 1, RGB(0, 0, 0))
        let expected = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"]
        for (row, pattern) in expected.enumerated() {
            for (column, mark) in pattern.enumerated() {
                let ink = image.pixel(x: 1 + column, y: 1 + row) == RGB(0, 0, 0)
                #expect(ink == (mark == "#"), "A at \(column),\(row)")
            }
        }
        #expect(image.pixel(x: 0, y: 0) == RGB(255, 255, 255))
        // Anything outside ASCII is a box; the ellipsis has its own glyph.
        #expect(BitmapFont.glyph("漢") == BitmapFont.box)
        #expect(BitmapFont.glyph("é") == BitmapFont.box)
        #expect(BitmapFont.glyph("…") != BitmapFont.box)
        // Vocabulary space and newline marks are drawn, not boxed: "Ġcat", "▁cat", "Ċ".
        #expect(BitmapFont.glyph("Ġ") == BitmapFont.visibleSpace && BitmapFont.glyph("▁") == BitmapFont.visibleSpace)
        #expect(BitmapFont.glyph("Ċ") == BitmapFont.lineBreak)
        #expect(Set([BitmapFont.box, BitmapFont.visibleSpace, BitmapFont.lineBreak, BitmapFont.glyph("_")]).count == 4)
        #expect(BitmapFont.ascii.count == 95)
    }

    @Test func rotatedTextReadsDownwards() {
        var image = RasterImage(width: 10, height: 8, background: RGB(255, 255, 255))
        image.drawText("-", x: 8, y: 0, RGB(0, 0, 0), direction: .down)
        // "-" is row 3 of the glyph, columns 0...4: rotated clockwise it is a vertical bar at x = 8 - 3 - 1.
        for y in 0..<5 { #expect(image.pixel(x: 4, y: y) == RGB(0, 0, 0)) }
        #expect(image.pixel(x: 4, y: 5) == RGB(255, 255, 255))
        #expect(image.pixel(x: 5, y: 2) == RGB(255, 255, 255))
    }
}

@Suite struct HeatmapPNGTests {
    let report = handReport(tokens: ["a", "bb", "<c>"], layers: [4], matrices: [[stepMatrix, cycleMatrix]], heads: [0, 1])

    @Test func cellsHaveTheColourOfTheirValue() throws {
        let grid = HeatmapGrid(report: report, cell: 10, title: "test")
        let decoded = try DecodedPNG(try HeatmapPNG.render(report, cell: 10, title: "test"))
        #expect(decoded.width == grid.width && decoded.height == grid.height)
        #expect(grid.panels.map { "\($0.layer)/\($0.head)" } == ["4/0", "4/1"])
        let yellow = RGB(0xFD, 0xE7, 0x25), purple = RGB(0x44, 0x01, 0x54), teal = RGB(0x21, 0x91, 0x8C)
        let step = grid.panels[0], cycle = grid.panels[1]
        func at(_ panel: HeatmapGrid.Panel, _ q: Int, _ k: Int) -> RGB {
            decoded.pixel(x: panel.x + k * 10 + 5, y: panel.y + q * 10 + 5)
        }
        // Every pixel of a cell, corners included, has the cell's colour.
        for dy in [0, 9] { for dx in [0, 9] { #expect(decoded.pixel(x: step.x + dx, y: step.y + dy) == yellow) } }
        #expect(at(step, 0, 0) == yellow)
        #expect(at(step, 0, 1) == purple)
        #expect(at(step, 1, 0) == teal)
        #expect(at(step, 1, 1) == teal)
        #expect(at(step, 2, 0) == ColorMap.viridis[64])
        #expect(at(step, 2, 2) == teal)
        #expect(at(cycle, 0, 1) == yellow)
        #expect(at(cycle, 2, 0) == yellow)
        #expect(at(cycle, 1, 1) == purple)
        // Labels: ink left of the first row, and below the heatmap.
        let ink = { (x0: Int, x1: Int, y0: Int, y1: Int) -> Bool in
            (y0..<y1).contains { y in (x0..<x1).contains { x in decoded.pixel(x: x, y: y) == HeatmapPNG.ink } }
        }
        #expect(ink(step.x - grid.labelExtent, step.x, step.y, step.y + 10))
        #expect(ink(step.x, step.x + 10, step.y + 30, step.y + 30 + grid.labelExtent))
        #expect(!ink(step.x, step.x + 30, step.y, step.y + 30))
        // The legend is the colour map, one column per entry.
        #expect(decoded.pixel(x: grid.legendX, y: grid.legendY) == purple)
        #expect(decoded.pixel(x: grid.legendX + 255, y: grid.legendY + 5) == yellow)
    }

    @Test func cellSizeDefaultsAndLabelStride() {
        #expect(HeatmapGrid.defaultCell(tokenCount: 1) == 16)
        #expect(HeatmapGrid.defaultCell(tokenCount: 8) == 16)
        #expect(HeatmapGrid.defaultCell(tokenCount: 64) == 4)
        #expect(HeatmapGrid.defaultCell(tokenCount: 128) == 2)
        #expect(HeatmapGrid.defaultCell(tokenCount: 512) == 1)
        let long = randomAttention(layers: 1, heads: 1, tokens: 64)
        let grid = HeatmapGrid(report: long, title: "x")
        #expect(grid.cell == 4 && grid.labelStride == 2)
        #expect(grid.isLabelled(62) && !grid.isLabelled(63))
    }

    @Test func oneTokenAndOneHeadWork() throws {
        let single = handReport(tokens: ["only"], layers: [0], matrices: [[[1]]], heads: [0])
        let grid = HeatmapGrid(report: single, title: "one")
        let decoded = try DecodedPNG(try HeatmapPNG.render(single, title: "one"))
        #expect(decoded.pixel(x: grid.panels[0].x + 8, y: grid.panels[0].y + 8) == RGB(0xFD, 0xE7, 0x25))
    }

    @Test func hugePicturesFailClearly() {
        let big = handReport(
            tokens: (0..<1200).map(String.init), layers: [0], matrices: [[[Float](repeating: 0, count: 1200 * 1200)]], heads: [0])
        #expect(throws: RenderError.self) { try HeatmapPNG.render(big, cell: 64, title: "big") }
        do {
            _ = try HeatmapPNG.render(big, cell: 64, title: "big")
        } catch {
            #expect(error.description.contains("--cell"))
        }
    }
}

@Suite struct HeatmapSVGTests {
    static let awkward = ["<s>", "a&b", "\"q\"", "it's", "é漢🙂", "line\nbreak"]

    func report() -> AttentionReport {
        randomAttention(layers: 2, heads: 2, tokens: Self.awkward.count).withTokens(Self.awkward)
    }

    #if canImport(FoundationXML)
    func parse(_ svg: String) throws -> XMLElement {
        let document = try XMLDocument(xmlString: svg, options: [])
        return try #require(document.rootElement())
    }

    /// By qualified name ("fill", "xlink:href"); FoundationXML's attribute(forName:) misses some on Linux.
    func attributeValue(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.name == name }?.stringValue
    }

    func elements(_ root: XMLElement, _ name: String) -> [XMLElement] {
        var found: [XMLElement] = []
        func walk(_ element: XMLElement) {
            if element.localName == name { found.append(element) }
            for child in element.children ?? [] { if let child = child as? XMLElement { walk(child) } }
        }
        walk(root)
        return found
    }

    @Test func isValidXMLWithLabelsTitleAndLegend() throws {
        let report = report()
        let svg = try HeatmapSVG.render(report, title: "A&B <model>")
        let root = try parse(svg)
        let grid = HeatmapGrid(report: report, title: "A&B <model>")
        #expect(root.localName == "svg")
        #expect(attributeValue(root, "viewBox") == "0 0 \(grid.width) \(grid.height)")
        #expect(elements(root, "title").first?.stringValue == "A&B <model>")
        let groups = elements(root, "g").compactMap { attributeValue($0, "id") }
        #expect(groups.filter { $0.hasPrefix("layer") } == ["layer0-head0", "layer0-head1", "layer1-head0", "layer1-head1"])
        let queryLabels = try #require(elements(root, "g").first { attributeValue($0, "id") == "query-labels" })
        #expect(elements(queryLabels, "text").map { $0.stringValue ?? "" } == ["<s>", "a&b", "\"q\"", "it's", "é漢🙂", "line\\nbreak"])
        #expect(elements(root, "use").count == 8)
        #expect(elements(root, "stop").count == 33)
        #expect(elements(root, "text").contains { $0.stringValue == "layer 1 head 0" })
    }

    /// Rectangles "Mx yhWvHh-Wz" of every path, with their fill.
    func rectangles(_ root: XMLElement) -> [(x: Int, y: Int, w: Int, h: Int, fill: String)] {
        elements(root, "path").flatMap { path -> [(x: Int, y: Int, w: Int, h: Int, fill: String)] in
            let fill = attributeValue(path, "fill") ?? ""
            let d = attributeValue(path, "d") ?? ""
            return d.split(separator: "z").map { piece in
                let numbers = piece.split(whereSeparator: { "Mhv ".contains($0) }).compactMap { Int($0) }
                return (numbers[0], numbers[1], numbers[2], numbers[3], fill)
            }
        }
    }

    @Test func vectorCellsCoverEveryCellWithItsColour() throws {
        let report = report()
        let svg = try HeatmapSVG.render(report, cell: 10, title: "v", cells: .vector)
        let root = try parse(svg)
        let grid = HeatmapGrid(report: report, cell: 10, title: "v")
        let rects = rectangles(root)
        let count = report.tokens.count
        #expect(rects.reduce(0) { $0 + $1.w * $1.h } == grid.panels.count * count * count * 100)
        for panel in grid.panels {
            for q in 0..<count {
                for k in 0..<count {
                    let x = panel.x + k * 10 + 5, y = panel.y + q * 10 + 5
                    let hits = rects.filter { x >= $0.x && x < $0.x + $0.w && y >= $0.y && y < $0.y + $0.h }
                    let value = report.layers[panel.layerIndex].score(head: panel.head, query: q, key: k)
                    #expect(hits.map(\.fill) == [ColorMap.color(value).hexString])
                }
            }
        }
    }

    @Test func rasterCellsArePalettePNGs() throws {
        let report = report()
        let svg = try HeatmapSVG.render(report, title: "r", cells: .raster)
        let images = elements(try parse(svg), "image")
        #expect(images.count == 4)
        let grid = HeatmapGrid(report: report, title: "r")
        for (image, panel) in zip(images, grid.panels) {
            let href = try #require(attributeValue(image, "xlink:href"))
            let prefix = "data:image/png;base64,"
            #expect(href.hasPrefix(prefix))
            let png = try #require(Data(base64Encoded: String(href.dropFirst(prefix.count))))
            let decoded = try DecodedPNG(Array(png))
            #expect(decoded.width == report.tokens.count && decoded.height == report.tokens.count)
            let scores = report.layers[panel.layerIndex].heads[panel.head]
            #expect(decoded.samples == scores.map { UInt8(ColorMap.index($0)) })
            #expect(decoded.palette == ColorMap.viridis)
        }
    }
    #endif

    @Test func bigGridsStaySmall() throws {
        // 12 layers x 12 heads x 128 tokens: raster cells, labels once in <defs>.
        let report = randomAttention(layers: 12, heads: 12, tokens: 128)
        let svg = try HeatmapSVG.render(report, title: "big")
        #expect(svg.utf8.count < 4_000_000, "\(svg.utf8.count) bytes")
        #expect(svg.contains("<image "))
        // Small grids are all vector.
        let small = try HeatmapSVG.render(randomAttention(layers: 1, heads: 2, tokens: 8), title: "s")
        #expect(!small.contains("<image ") && small.contains("<path "))
    }

    @Test func xmlEscapingCoversAllFiveCharacters() {
        #expect(xmlEscaped("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;")
        #expect(displayLabel("a\nb\tc\u{1}\u{FFFF}") == "a\\nb\\tc\\u{1}\\u{ffff}")
    }
}

extension AttentionReport {
    func withTokens(_ texts: [String]) -> AttentionReport {
        var copy = self
        copy.tokens = texts.enumerated().map { Token(id: 1000 + $0.offset, text: $0.element) }
        return copy
    }
}
