/// How targets that read several files take them from one input: the files one after another,
/// separated by the 8 bytes `00 00 4E 45 58 54 00 00` ("\0\0NEXT\0\0", in every dictionary).
/// A separator survives the mutations of the bytes around it, where length prefixes would not.
public enum Framing {
    public static let separator: [UInt8] = [0, 0, 0x4E, 0x45, 0x58, 0x54, 0, 0]

    /// At most `maximum` parts: the last one takes the rest of the input, separators included.
    public static func parts(_ bytes: [UInt8], maximum: Int) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var start = 0
        var index = 0
        let last = bytes.count - separator.count
        while index <= last, parts.count < maximum - 1 {
            if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 0x4E,
               bytes[index ..< index + separator.count].elementsEqual(separator) {
                parts.append(Array(bytes[start ..< index]))
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(Array(bytes[start...]))
        return parts
    }

    /// The inverse of `parts`, for seeds and tests.
    public static func join(_ parts: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 { bytes += separator }
            bytes += part
        }
        return bytes
    }
}
