/// Why a picture or archive of the attention cannot be written.
public enum RenderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The picture would need more pixels than qkv draws in memory.
    case imageTooLarge(width: Int, height: Int, maximumPixels: Int)
    /// More attention values than the output carries (HTML, SVG).
    case tooManyValues(format: String, values: Int, maximum: Int)
    /// A ZIP member or the whole archive passes 4 GiB, which needs ZIP64.
    case archiveTooLarge(member: String, bytes: UInt64)

    public var description: String {
        switch self {
        case let .imageTooLarge(width, height, maximum):
            "png: the picture would be \(width)×\(height) pixels, more than \(groupedThousands(maximum)); "
                + "pass a smaller --cell or fewer --layers/--heads"
        case let .tooManyValues(format, values, maximum):
            "\(format): \(groupedThousands(values)) attention values, more than the \(groupedThousands(maximum)) it can carry; "
                + "select fewer --layers/--heads or tokens"
        case let .archiveTooLarge(member, bytes):
            "npz: \(member) would be \(groupedThousands(bytes)) bytes; archives of 4 GiB and more need ZIP64, "
                + "which qkv does not write: select fewer --layers/--heads or tokens"
        }
    }
}
