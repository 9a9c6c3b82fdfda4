/// A JSON document with keys kept in the order they were written, so output reads top-down.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Float)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.rendered() == rhs.rendered() }

    /// Compact JSON; `indent` > 0 pretty-prints objects (arrays of numbers stay on one line).
    public func rendered(indent: Int = 0) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int, level: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .int(value): out += String(value)
        // Swift's shortest round-trip form (0.9, 1e-05) is valid JSON; non-finite values have no JSON form.
        case let .float(value): out += value.isFinite ? value.description : "null"
        case let .double(value): out += value.isFinite ? value.description : "null"
        case let .string(value): out += jsonQuoted(value)
        case let .array(items):
            let flat = indent == 0 || items.allSatisfy(\.isScalar)
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += flat ? "," : ",\n" } else if !flat { out += "\n" }
                if !flat { out += String(repeating: " ", count: indent * (level + 1)) }
                item.write(into: &out, indent: indent, level: level + 1)
            }
            if !flat && !items.isEmpty { out += "\n" + String(repeating: " ", count: indent * level) }
            out += "]"
        case let .object(fields):
            out += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out += "," }
                if indent > 0 { out += "\n" + String(repeating: " ", count: indent * (level + 1)) }
                out += jsonQuoted(key) + (indent > 0 ? ": " : ":")
                value.write(into: &out, indent: indent, level: level + 1)
            }
            if indent > 0 && !fields.isEmpty { out += "\n" + String(repeating: " ", count: indent * level) }
            out += "}"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}

/// A JSON string literal; also how error messages quote untrusted text, so controls stay escaped
/// and the message stays on one line.
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
