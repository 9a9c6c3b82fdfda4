extension TextTokenization {
    /// One row per token: index, id, and the vocabulary string made readable — a space shows as
    /// ␣, tabs and line breaks as \t \n \r, other controls, invisible format characters and
    /// non-ASCII spaces as \u{…}, a backslash as \\. ▁ and Ġ are the vocabulary's own characters
    /// and stay. JSON gives the exact strings.
    public static func table(_ tokens: [Token]) -> String {
        var table = TextTable(headers: ["index", "id", "text"], alignments: [.right, .right, .left])
        for (index, token) in tokens.enumerated() {
            table.append([String(index), String(token.id), visible(token.text)])
        }
        return table.text()
    }

    static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ": out += "␣"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\\": out += "\\\\"
            default:
                let invisible: Bool = switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .unassigned, .surrogate: true
                default: false
                }
                if invisible {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
