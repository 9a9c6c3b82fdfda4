/// A JSON value from a tokenizer file.
///
/// Objects keep their members as pairs in file order and are looked up by UTF-8 bytes: Swift's
/// `String ==` is canonical equivalence, which would merge vocabulary entries such as `"é"` and
/// `"e\u{301}"` that the tokenizer treats as different tokens.
indirect enum TokenizerJSON: Sendable {
    case null
    case bool(Bool)
    /// A literal with no fraction or exponent that fits in `Int`.
    case integer(Int)
    case number(Double)
    case string(String)
    case array([TokenizerJSON])
    case object([(key: String, value: TokenizerJSON)])

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses a whole document; anything but whitespace after the value is an error.
    static func parse(_ bytes: [UInt8], file: String) throws -> TokenizerJSON {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer, file: file)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.position != buffer.count {
                throw parser.failure("unexpected \(parser.describeCurrent()) after the top-level value")
            }
            return value
        }
    }
}

/// Recursive-descent parser over the file's bytes (RFC 8259, no extensions).
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let file: String
    var position = 0

    /// Real tokenizer files nest about six levels; the cap keeps hostile input off the stack limit.
    static let maximumDepth = 64

    init(bytes: UnsafeBufferPointer<UInt8>, file: String) {
        self.bytes = bytes
        self.file = file
    }

    func failure(_ reason: String) -> TokenizerError {
        .malformedJSON(file: file, offset: position, reason: reason)
    }

    func describeCurrent() -> String {
        guard position < bytes.count else { return "end of file" }
        let byte = bytes[position]
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> TokenizerJSON {
        guard depth < Self.maximumDepth else {
            throw failure("nesting deeper than \(Self.maximumDepth) levels")
        }
        guard position < bytes.count else { throw failure("expected a value, found end of file") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("expected a value, found \(describeCurrent())")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw failure("expected \(literal)") }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        guard matches else { throw failure("expected \(literal)") }
        position += count
    }

    mutating func parseObject(depth: Int) throws -> TokenizerJSON {
        position += 1
        var members: [(key: String, value: TokenizerJSON)] = []
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a member name, found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw failure("expected ':', found \(describeCurrent())")
            }
            position += 1
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            } else {
                throw failure("expected ',' or '}', found \(describeCurrent())")
            }
        }
    }

    mutating func parseArray(depth: Int) throws -> TokenizerJSON {
        position += 1
        var elements: [TokenizerJSON] = []
        skipWhitespace()
        if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            } else {
                throw failure("expected ',' or ']', found \(describeCurrent())")
            }
        }
    }

    /// Parses a string literal starting at its opening quote.
    mutating func parseString() throws -> String {
        let start = position
        position += 1
        // Fast path: no escapes, so the literal's bytes are the string's UTF-8.
        var scan = position
        while scan < bytes.count {
            let byte = bytes[scan]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[position..<scan])
                guard let text = String(validating: slice, as: UTF8.self) else {
                    throw TokenizerError.invalidUTF8(file: file, offset: firstInvalidUTF8(from: position, to: scan))
                }
                position = scan + 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            scan += 1
        }
        guard scan < bytes.count else {
            position = start
            throw failure("unterminated string")
        }
        var utf8: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[position..<scan]))
        let contentStart = position
        position = scan
        while true {
            guard position < bytes.count else {
                position = start
                throw failure("unterminated string")
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                break
            }
            if byte < 0x20 {
                throw failure("control character 0x\(String(byte, radix: 16)) inside a string")
            }
            if byte != UInt8(ascii: "\\") {
                utf8.append(byte)
                position += 1
                continue
            }
            position += 1
            guard position < bytes.count else { throw failure("unterminated escape") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): utf8.append(0x22)
            case UInt8(ascii: "\\"): utf8.append(0x5C)
            case UInt8(ascii: "/"): utf8.append(0x2F)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                let scalar = try parseUnicodeEscape()
                UTF8.encode(scalar) { utf8.append($0) }
            default:
                position -= 1
                throw failure("invalid escape \\\(describeCurrent())")
            }
        }
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw TokenizerError.invalidUTF8(file: file, offset: firstInvalidUTF8(from: contentStart, to: position - 1))
        }
        return text
    }

    /// Reads the four hex digits after `\u` (and a following low surrogate escape if needed).
    mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xDC00...0xDFFF).contains(high) {
            throw failure("lone low surrogate \\u\(String(high, radix: 16))")
        }
        guard (0xD800...0xDBFF).contains(high) else {
            // Not a surrogate, so it is a valid scalar.
            return Unicode.Scalar(high)!
        }
        guard bytes.count - position >= 6,
              bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
        else {
            throw failure("high surrogate \\u\(String(high, radix: 16)) not followed by a low surrogate")
        }
        position += 2
        let low = try parseHex4()
        guard (0xDC00...0xDFFF).contains(low) else {
            throw failure("high surrogate followed by \\u\(String(low, radix: 16)), not a low surrogate")
        }
        let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        return Unicode.Scalar(value)!
    }

    mutating func parseHex4() throws -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit \(describeCurrent()) in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    mutating func parseNumber() throws -> TokenizerJSON {
        let start = position
        var isIntegral = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else {
            throw failure("expected a digit, found \(describeCurrent())")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count && isDigit(bytes[position]) {
                throw failure("leading zero in a number")
            }
        } else {
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            isIntegral = false
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw failure("expected a digit after '.', found \(describeCurrent())")
            }
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        }
        if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            isIntegral = false
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw failure("expected a digit in the exponent, found \(describeCurrent())")
            }
            while position < bytes.count && isDigit(bytes[position]) { position += 1 }
        }
        // The literal is ASCII by construction.
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isIntegral, let value = Int(literal) {
            return .integer(value)
        }
        guard let value = Double(literal) else {
            position = start
            throw failure("number \(literal) is not representable")
        }
        return .number(value)
    }

    func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The offset of the first byte in `start..<end` where UTF-8 decoding fails (for the message).
    func firstInvalidUTF8(from start: Int, to end: Int) -> Int {
        var decoder = UTF8()
        var iterator = UnsafeBufferPointer(rebasing: bytes[start..<end]).makeIterator()
        var consumed = start
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): consumed += UTF8.width(scalar)
            case .emptyInput: return consumed
            case .error: return consumed
            }
        }
    }
}

/// A JSON value together with where it came from, so every type error names the file and the
/// dotted path of the field.
struct JSONField {
    let value: TokenizerJSON
    let file: String
    /// Path of the containing value; the last component is kept apart so that walking a
    /// 100k-entry vocabulary does not build 100k path strings nobody reads.
    private let parentPath: String
    private let component: Component

    private enum Component {
        case none
        case key(String)
        case index(Int)
    }

    /// The top-level value of `file`.
    init(root value: TokenizerJSON, file: String) {
        self.init(value: value, file: file, parentPath: "", component: .none)
    }

    private init(value: TokenizerJSON, file: String, parentPath: String, component: Component) {
        self.value = value
        self.file = file
        self.parentPath = parentPath
        self.component = component
    }

    /// Dotted path of this value, e.g. `model.merges[3]`.
    var path: String {
        switch component {
        case .none: return parentPath
        case let .key(key): return parentPath.isEmpty ? key : "\(parentPath).\(key)"
        case let .index(index): return "\(parentPath)[\(index)]"
        }
    }

    private func child(_ value: TokenizerJSON, _ component: Component) -> JSONField {
        JSONField(value: value, file: file, parentPath: path, component: component)
    }

    var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    /// The member called `name`, or nil when the member is absent. A repeated member keeps the
    /// last value, as serde_json does for maps.
    func member(_ name: String) throws -> JSONField? {
        guard case let .object(members) = value else {
            throw wrongType(expected: "an object")
        }
        for member in members.reversed() where member.key.utf8.elementsEqual(name.utf8) {
            return child(member.value, .key(name))
        }
        return nil
    }

    /// The member called `name`, or nil when it is absent or null.
    func optionalMember(_ name: String) throws -> JSONField? {
        guard let field = try member(name), !field.isNull else { return nil }
        return field
    }

    func requiredMember(_ name: String) throws -> JSONField {
        guard let field = try member(name) else {
            throw TokenizerError.missingField(file: file, field: path.isEmpty ? name : "\(path).\(name)")
        }
        return field
    }

    func wrongType(expected: String) -> TokenizerError {
        .wrongType(file: file, field: path.isEmpty ? "top level" : path, expected: expected, found: value.typeName)
    }

    func string() throws -> String {
        guard case let .string(text) = value else { throw wrongType(expected: "a string") }
        return text
    }

    func bool() throws -> Bool {
        guard case let .bool(flag) = value else { throw wrongType(expected: "a boolean") }
        return flag
    }

    func integer() throws -> Int {
        switch value {
        case let .integer(number):
            return number
        case let .number(number):
            throw TokenizerError.invalidValue(file: file, field: path, expected: "an integer", found: "\(number)")
        default:
            throw wrongType(expected: "an integer")
        }
    }

    func double() throws -> Double {
        switch value {
        case let .integer(number): return Double(number)
        case let .number(number): return number
        default: throw wrongType(expected: "a number")
        }
    }

    func array() throws -> [JSONField] {
        guard case let .array(elements) = value else { throw wrongType(expected: "an array") }
        let parent = path
        return elements.enumerated().map {
            JSONField(value: $1, file: file, parentPath: parent, component: .index($0))
        }
    }

    func members() throws -> [(key: String, field: JSONField)] {
        guard case let .object(members) = value else { throw wrongType(expected: "an object") }
        let parent = path
        return members.map { member in
            (member.key, JSONField(value: member.value, file: file, parentPath: parent, component: .key(member.key)))
        }
    }

    /// `bool()` of member `name`, or `defaultValue` when the member is absent or null.
    func flag(_ name: String, default defaultValue: Bool) throws -> Bool {
        try optionalMember(name)?.bool() ?? defaultValue
    }
}
