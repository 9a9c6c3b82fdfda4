/// PNG files written from scratch (ISO/IEC 15948): the signature, IHDR, PLTE for palette images, IDAT
/// (the filtered scanlines as one zlib stream from the system zlib, split into chunks of at most
/// 1 MiB) and IEND, each chunk with its CRC-32.
public enum PNGEncoder {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let maximumChunk = 1 << 20

    /// An 8-bit RGB image; `pixels` holds 3 bytes per pixel, rows top to bottom. Each scanline gets
    /// the filter (None, Sub, Up, Average, Paeth) with the smallest sum of absolute signed bytes,
    /// the heuristic libpng uses.
    public static func rgb(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] { rgb(width: width, height: height, pixels: pixels, filter: nil) }

    /// `filter`: one filter type for every row (for tests), nil to choose per row.
    static func rgb(width: Int, height: Int, pixels: [UInt8], filter: UInt8?) -> [UInt8] {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3)
        let filtered = pixels.withUnsafeBytes {
            filterScanlines($0, width: width, height: height, bytesPerPixel: 3, forcing: filter)
        }
        return file(width: width, height: height, colourType: 2, palette: nil, scanlines: filtered)
    }

    /// An 8-bit palette image: one palette index per pixel. Scanlines are left unfiltered (filter
    /// None), as the PNG specification recommends for palette images.
    public static func indexed(width: Int, height: Int, indices: [UInt8], palette: [RGB]) -> [UInt8] {
        precondition(width > 0 && height > 0 && indices.count == width * height)
        precondition(!palette.isEmpty && palette.count <= 256)
        var scanlines = [UInt8](repeating: 0, count: height * (width + 1))
        scanlines.withUnsafeMutableBufferPointer { out in
            indices.withUnsafeBufferPointer { source in
                for y in 0..<height {
                    UnsafeMutableRawPointer(out.baseAddress! + y * (width + 1) + 1)
                        .copyMemory(from: source.baseAddress! + y * width, byteCount: width)
                }
            }
        }
        var plte: [UInt8] = []
        plte.reserveCapacity(palette.count * 3)
        for colour in palette { plte += [colour.red, colour.green, colour.blue] }
        return file(width: width, height: height, colourType: 3, palette: plte, scanlines: scanlines)
    }

    private static func file(width: Int, height: Int, colourType: UInt8, palette: [UInt8]?, scanlines: [UInt8]) -> [UInt8] {
        precondition(width <= Int(Int32.max) && height <= Int(Int32.max))
        var ihdr: [UInt8] = []
        ihdr.appendBE(UInt32(width))
        ihdr.appendBE(UInt32(height))
        ihdr += [8, colourType, 0, 0, 0]  // bit depth, colour type, deflate, adaptive filtering, no interlace
        let compressed = scanlines.withUnsafeBytes { deflateBytes($0, container: .zlib, level: 6) }
        var out = signature
        out.reserveCapacity(compressed.count + 1024)
        appendChunk(&out, "IHDR", ihdr)
        if let palette { appendChunk(&out, "PLTE", palette) }
        var offset = 0
        repeat {
            let end = min(compressed.count, offset + maximumChunk)
            appendChunk(&out, "IDAT", compressed[offset..<end])
            offset = end
        } while offset < compressed.count
        appendChunk(&out, "IEND", [])
        return out
    }

    private static func appendChunk<Data: Collection>(_ out: inout [UInt8], _ type: String, _ data: Data) where Data.Element == UInt8 {
        out.appendBE(UInt32(data.count))
        let start = out.count
        out += Array(type.utf8)
        out += data
        let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        out.appendBE(crc)
    }

    /// Filter type byte + filtered bytes per row, the filter chosen per row.
    static func filterScanlines(
        _ pixels: UnsafeRawBufferPointer, width: Int, height: Int, bytesPerPixel bpp: Int, forcing forced: UInt8? = nil
    ) -> [UInt8] {
        let stride = width * bpp
        var out = [UInt8](repeating: 0, count: height * (stride + 1))
        let zeros = [UInt8](repeating: 0, count: stride)
        out.withUnsafeMutableBufferPointer { outBuffer in
            zeros.withUnsafeBufferPointer { zeroRow in
                let source = pixels.bindMemory(to: UInt8.self).baseAddress!
                for y in 0..<height {
                    let row = source + y * stride
                    let above = y > 0 ? source + (y - 1) * stride : zeroRow.baseAddress!
                    let filter = forced ?? bestFilter(row: row, above: above, count: stride, bpp: bpp)
                    let target = outBuffer.baseAddress! + y * (stride + 1)
                    target[0] = filter
                    apply(filter, row: row, above: above, count: stride, bpp: bpp, into: target + 1)
                }
            }
        }
        return out
    }

    @inline(__always)
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let ia = Int(a), ib = Int(b), ic = Int(c)
        let pa = abs(ib - ic), pb = abs(ia - ic), pc = abs(ia + ib - 2 * ic)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// The filter with the smallest sum of |byte as Int8| over the row (all five computed in one pass).
    private static func bestFilter(row: UnsafePointer<UInt8>, above: UnsafePointer<UInt8>, count: Int, bpp: Int) -> UInt8 {
        var sums = (0, 0, 0, 0, 0)
        @inline(__always) func cost(_ value: UInt8) -> Int { value < 128 ? Int(value) : 256 - Int(value) }
        for i in 0..<count {
            let x = row[i], b = above[i]
            let a: UInt8 = i >= bpp ? row[i - bpp] : 0
            let c: UInt8 = i >= bpp ? above[i - bpp] : 0
            sums.0 &+= cost(x)
            sums.1 &+= cost(x &- a)
            sums.2 &+= cost(x &- b)
            sums.3 &+= cost(x &- UInt8((Int(a) + Int(b)) >> 1))
            sums.4 &+= cost(x &- paeth(a, b, c))
        }
        var best: UInt8 = 0
        var bestSum = sums.0
        for (filter, sum) in [(UInt8(1), sums.1), (2, sums.2), (3, sums.3), (4, sums.4)] where sum < bestSum {
            best = filter
            bestSum = sum
        }
        return best
    }

    private static func apply(
        _ filter: UInt8, row: UnsafePointer<UInt8>, above: UnsafePointer<UInt8>, count: Int, bpp: Int,
        into out: UnsafeMutablePointer<UInt8>
    ) {
        for i in 0..<count {
            let x = row[i], b = above[i]
            let a: UInt8 = i >= bpp ? row[i - bpp] : 0
            let c: UInt8 = i >= bpp ? above[i - bpp] : 0
            switch filter {
            case 0: out[i] = x
            case 1: out[i] = x &- a
            case 2: out[i] = x &- b
            case 3: out[i] = x &- UInt8((Int(a) + Int(b)) >> 1)
            default: out[i] = x &- paeth(a, b, c)
            }
        }
    }
}

/// An RGB raster to draw into: filled rectangles, heatmaps, and text in the built-in bitmap font.
public struct RasterImage {
    public let width: Int
    public let height: Int
    /// 3 bytes per pixel, rows top to bottom.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB) {
        precondition(width > 0 && height > 0)
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    public func pixel(x: Int, y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Fills a rectangle, clipped to the image.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ colour: RGB) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1 && y0 < y1 else { return }
        let imageWidth = width
        pixels.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            // First row pixel by pixel, the others copied from it.
            let first = base + (y0 * imageWidth + x0) * 3
            for i in 0..<(x1 - x0) {
                first[i * 3] = colour.red
                first[i * 3 + 1] = colour.green
                first[i * 3 + 2] = colour.blue
            }
            for row in (y0 + 1)..<max(y0 + 1, y1) {
                (base + (row * imageWidth + x0) * 3).update(from: first, count: (x1 - x0) * 3)
            }
        }
    }

    /// A `count` × `count` matrix of probabilities (row-major), each value a `cell` × `cell` square
    /// coloured by `ColorMap`, top-left corner at (x, y). Must lie inside the image.
    public mutating func drawHeatmap(_ values: UnsafeBufferPointer<Float>, count: Int, x: Int, y: Int, cell: Int) {
        precondition(values.count == count * count && cell > 0)
        precondition(x >= 0 && y >= 0 && x + count * cell <= width && y + count * cell <= height)
        let table = ColorMap.viridis
        let imageWidth = width
        let rowBytes = count * cell * 3
        pixels.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for query in 0..<count {
                let top = base + ((y + query * cell) * imageWidth + x) * 3
                var p = top
                for key in 0..<count {
                    let colour = table[ColorMap.index(values[query * count + key])]
                    for _ in 0..<cell {
                        p[0] = colour.red
                        p[1] = colour.green
                        p[2] = colour.blue
                        p += 3
                    }
                }
                for line in 1..<max(1, cell) {
                    (top + line * imageWidth * 3).update(from: top, count: rowBytes)
                }
            }
        }
    }

    public enum Direction { case right, down }

    /// Text in the bitmap font. `.right`: (x, y) is the top-left corner. `.down` (rotated 90°
    /// clockwise, reading top to bottom): (x, y) is the top-right corner. Clipped to the image.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, _ colour: RGB, direction: Direction = .right) {
        var position = 0
        for character in text {
            let glyph = BitmapFont.glyph(character)
            for (row, bits) in glyph.enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(column)) != 0 {
                    let u = position + column * scale, v = row * scale
                    switch direction {
                    case .right: fill(x: x + u, y: y + v, width: scale, height: scale, colour)
                    case .down: fill(x: x - v - scale, y: y + u, width: scale, height: scale, colour)
                    }
                }
            }
            position += BitmapFont.advance * scale
        }
    }

    public func png() -> [UInt8] { PNGEncoder.rgb(width: width, height: height, pixels: pixels) }
}

extension Array where Element == UInt8 {
    mutating func appendBE(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8(value >> 16 & 0xFF))
        append(UInt8(value >> 8 & 0xFF))
        append(UInt8(value & 0xFF))
    }
}
