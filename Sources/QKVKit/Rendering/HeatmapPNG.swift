/// `qkv run --format png`: the `HeatmapGrid` drawn as an RGB raster and encoded as PNG.
///
/// Cells are `cell` × `cell` pixels (default `HeatmapGrid.defaultCell`), coloured by `ColorMap`;
/// text uses the built-in 5×7 `BitmapFont` (ASCII; other characters are drawn as boxes).
public enum HeatmapPNG {
    public static let background = RGB(255, 255, 255)
    public static let ink = RGB(0x20, 0x20, 0x20)

    public static func render(_ report: AttentionReport, cell: Int? = nil, title: String) throws(RenderError) -> [UInt8] {
        try raster(report, cell: cell, title: title).png()
    }

    /// The picture before encoding (tests read pixels from it).
    public static func raster(_ report: AttentionReport, cell: Int? = nil, title: String) throws(RenderError) -> RasterImage {
        let grid = HeatmapGrid(report: report, cell: cell, title: title)
        let limit = HeatmapGrid.maximumPixels
        // Each side at most 2^27 first, so the product cannot overflow.
        guard grid.width <= limit, grid.height <= limit, grid.width * grid.height <= limit else {
            throw .imageTooLarge(width: grid.width, height: grid.height, maximumPixels: limit)
        }

        var image = RasterImage(width: grid.width, height: grid.height, background: background)
        image.drawText(grid.title, x: HeatmapGrid.margin, y: HeatmapGrid.margin, scale: 2, ink)
        image.drawText(grid.subtitle, x: HeatmapGrid.margin, y: HeatmapGrid.margin + 22, ink)
        drawLegend(&image, grid)

        let count = grid.tokenCount, cell = grid.cell, scale = grid.scale
        let side = count * cell
        for panel in grid.panels {
            let layer = report.layers[panel.layerIndex]
            image.drawText(
                "layer \(panel.layer) head \(panel.head)", x: panel.x, y: panel.y - BitmapFont.lineHeight * scale - 3,
                scale: scale, ink)
            layer.heads[panel.head].withUnsafeBufferPointer { values in
                image.drawHeatmap(values, count: count, x: panel.x, y: panel.y, cell: cell)
            }
            let glyphHalf = BitmapFont.glyphHeight * scale / 2
            for index in 0..<count where grid.isLabelled(index) {
                let label = grid.labels[index]
                // Query labels: right-aligned against the heatmap, centred on the row.
                image.drawText(
                    label, x: panel.x - 3 - BitmapFont.width(label, scale: scale) + scale,
                    y: panel.y + grid.centre(index) - glyphHalf, scale: scale, ink)
                // Key labels: below the heatmap, reading downwards, centred on the column.
                image.drawText(
                    label, x: panel.x + grid.centre(index) + glyphHalf + scale, y: panel.y + side + 3, scale: scale, ink,
                    direction: .down)
            }
        }
        return image
    }

    private static func drawLegend(_ image: inout RasterImage, _ grid: HeatmapGrid) {
        // One pixel column per colour-map entry: the bar is the table itself.
        for (index, colour) in ColorMap.viridis.enumerated() {
            image.fill(x: grid.legendX + index, y: grid.legendY, width: 1, height: HeatmapGrid.legendHeight, colour)
        }
        for tick in HeatmapGrid.legendTicks {
            let x = grid.legendX + Int((tick.value * Float(HeatmapGrid.legendWidth - 1)).rounded())
            image.fill(x: x, y: grid.legendY + HeatmapGrid.legendHeight, width: 1, height: 2, ink)
            let textX = min(x - BitmapFont.width(tick.label, scale: 1) / 2, grid.legendX + HeatmapGrid.legendWidth)
            image.drawText(tick.label, x: max(grid.legendX, textX), y: grid.legendY + HeatmapGrid.legendHeight + 3, ink)
        }
    }
}
