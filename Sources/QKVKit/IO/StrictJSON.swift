/// An RFC 8259 JSON parser for untrusted files: safetensors headers and shard indexes, tokenizer files.
///
/// Unlike `JSONSerialization`, which keeps one of two equal keys without a word, a repeated key is
/// an error unless the caller asks to keep it: a safetensors header with two entries of the same
/// name is ambiguous, and readers disagree on which one wins. The parser reads borrowed bytes,
/// never traps, bounds nesting depth and value count, and reports the byte offset of the first problem.
public enum StrictJSON {
    public struct Limits: Sendable, Equatable {
        /// Arrays and objects nested deeper than this are rejected (the parser recurses once per level).
        public var maximumDepth: Int
        /// Every scalar, array and object counts one; bounds the memory of the parsed tree.
        public var maximumValues: Int

        public init(maximumDepth: Int = 64, maximumValues: Int = 1 << 22) {
            self.maximumDepth = maximumDepth
            self.maximumValues = maximumValues
        }
    }

    /// What parsing does with an object key that repeats an earlier key of the same object.
    public enum DuplicateKeys: Sendable {
        /// Throw `duplicateJSONKey`. Keys are compared with `String ==`, canonical equivalence, so
        /// keys differing only in Unicode normalisation are repeats: a lookup by name could not
        /// tell them apart either.
        case reject
        /// Keep every member in file order and let the reader choose. For documents whose keys are
        /// data compared byte for byte, such as tokenizer vocabularies where "\u{E9}" and
        /// "e\u{301}" are different tokens.
        case keep
    }

    /// One member of an object, in the order it was written.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: Value

        public init(key: String, value: Value) {
            self.key = key
            self.value = value
        }
    }

    /// A parsed value. Numbers keep their literal text, so a caller decides what range it accepts
    /// and can quote the number exactly in an error.
    public enum Value: Sendable, Equatable {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([Value])
        case object([Member])
    }

    /// Parses one JSON value surrounded by optional whitespace. `what` names the document in errors;
    /// `baseOffset` is the file offset of `bytes`, so offsets in errors are file offsets.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, what: String, baseOffset: Int = 0, limits: Limits = Limits(),
        duplicateKeys: DuplicateKeys = .reject
    ) throws(QKVError) -> Value {
        if let bad = firstInvalidUTF8(bytes) {
            throw .invalidUTF8(field: what, offset: baseOffset + bad)
        }
        var parser = Parser(bytes: bytes, what: what, baseOffset: baseOffset, limits: limits, duplicateKeys: duplicateKeys)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if let byte = parser.peek() {
            throw parser.failure("expected the end of the document after the value, found \(describe(byte))")
        }
        return value
    }

    public static func parse(
        _ bytes: [UInt8], what: String, baseOffset: Int = 0, limits: Limits = Limits(), duplicateKeys: DuplicateKeys = .reject
    ) throws(QKVError) -> Value {
        try bytes.withBytes { (raw) throws(QKVError) -> Value in
            try parse(raw, what: what, baseOffset: baseOffset, limits: limits, duplicateKeys: duplicateKeys)
        }
    }
}

extension StrictJSON.Value {
    /// "an object", "a string", ...: for messages of the form "expected X, found Y".
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    public var string: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    public var array: [StrictJSON.Value]? {
        if case let .array(items) = self { return items }
        return nil
    }

    public var members: [StrictJSON.Member]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// The first member named `key` (the only one when parsed with `.reject`), by `String ==`.
    public subscript(key: String) -> StrictJSON.Value? {
        members?.first { $0.key == key }?.value
    }

    /// The number when written as an integer that fits `Int`: an optional '-', digits, no
    /// fraction or exponent ("1.0" and "1e2" are not integers here).
    public var integer: Int? {
        guard case let .number(text) = self else { return nil }
        var digits = Substring(text).utf8
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        // Accumulated negatively, so Int.min fits.
        var result = 0
        for byte in digits {
            guard isDigit(byte) else { return nil }
            let (scaled, overflowTimes) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflowMinus) = scaled.subtractingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowMinus else { return nil }
            result = sum
        }
        if negative { return result }
        let (positive, overflow) = (0).subtractingReportingOverflow(result)
        return overflow ? nil : positive
    }

    /// The number when written as a plain integer in 0...Int64.max: no sign, fraction or exponent.
    public var nonNegativeInteger: Int64? {
        guard case let .number(text) = self, text.utf8.first != UInt8(ascii: "-"), let value = integer else { return nil }
        return Int64(value)
    }

    /// The number as the nearest `Double`; a literal beyond its range is infinite, as in `strtod`.
    public var double: Double? {
        guard case let .number(text) = self else { return nil }
        return Double(text)
    }

    /// Compact JSON text, cut after about `limit` characters: quotes the value in an error message.
    public func rendered(limit: Int = 60) -> String {
        var out = ""
        render(into: &out, limit: limit)
        if out.count > limit { return String(out.prefix(limit)) + "..." }
        return out
    }

    private func render(into out: inout String, limit: Int) {
        guard out.count <= limit else { return }
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .number(text): out += text
        case let .string(text): out += jsonQuoted(String(text.prefix(limit + 1)))
        case let .array(items):
            out += "["
            for (index, item) in items.enumerated() {
                guard out.count <= limit else { return }
                if index > 0 { out += "," }
                item.render(into: &out, limit: limit)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (index, member) in members.enumerated() {
                guard out.count <= limit else { return }
                if index > 0 { out += "," }
                out += jsonQuoted(String(member.key.prefix(limit + 1))) + ":"
                member.value.render(into: &out, limit: limit)
            }
            out += "}"
        }
    }
}

/// Where the parser is, for the JSON pointer of an object with a repeated key.
private enum PathComponent {
    case key(String)
    case index(Int)
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    let what: String
    let baseOffset: Int
    let limits: StrictJSON.Limits
    /// The path is only for the error about a repeated key, so it is tracked only when rejecting.
    let rejectsDuplicateKeys: Bool
    var position = 0
    var valueCount = 0
    var path: [PathComponent] = []

    init(bytes: UnsafeRawBufferPointer, what: String, baseOffset: Int, limits: StrictJSON.Limits,
         duplicateKeys: StrictJSON.DuplicateKeys) {
        self.bytes = bytes
        self.what = what
        self.baseOffset = baseOffset
        self.limits = limits
        rejectsDuplicateKeys = duplicateKeys == .reject
    }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    func failure(_ reason: String, at offset: Int? = nil) -> QKVError {
        .invalidJSON(what: what, offset: baseOffset + (offset ?? position), reason: reason)
    }

    func foundHere() -> String { peek().map(describe) ?? "the end of the document" }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(QKVError) -> StrictJSON.Value {
        skipWhitespace()
        guard let byte = peek() else { throw failure("expected a value, found the end of the document") }
        valueCount += 1
        guard valueCount <= limits.maximumValues else {
            throw failure("more than \(limits.maximumValues) values")
        }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw failure("expected a value, found \(describe(byte))")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(QKVError) {
        let start = position
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count,
              (0..<count).allSatisfy({ bytes[position + $0] == word.utf8Start[$0] })
        else { throw failure("expected the literal \(word)", at: start) }
        position += count
    }

    mutating func enterContainer(depth: Int) throws(QKVError) {
        guard depth <= limits.maximumDepth else {
            throw failure("arrays and objects nested deeper than \(limits.maximumDepth) levels")
        }
        position += 1  // the opening bracket
    }

    mutating func parseArray(depth: Int) throws(QKVError) -> StrictJSON.Value {
        try enterContainer(depth: depth)
        var items: [StrictJSON.Value] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            if rejectsDuplicateKeys { path.append(.index(items.count)) }
            items.append(try parseValue(depth: depth))
            if rejectsDuplicateKeys { path.removeLast() }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(items)
            default:
                throw failure("expected ',' or ']' after an array element, found \(foundHere())")
            }
        }
    }

    mutating func parseObject(depth: Int) throws(QKVError) -> StrictJSON.Value {
        try enterContainer(depth: depth)
        var members: [StrictJSON.Member] = []
        // Most objects (tensor entries) have a handful of keys: scan those, hash only large objects.
        var seen = Set<String>()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyOffset = position
            guard peek() == UInt8(ascii: "\"") else {
                throw failure("expected a string key, found \(foundHere())")
            }
            let key = try parseString()
            let repeated: Bool
            if !rejectsDuplicateKeys {
                repeated = false
            } else if members.count < 16 {
                repeated = members.contains { $0.key == key }
            } else {
                if seen.isEmpty { seen = Set(members.map(\.key)) }
                repeated = !seen.insert(key).inserted
            }
            guard !repeated else {
                throw .duplicateJSONKey(what: what, path: pointer(), key: key, offset: baseOffset + keyOffset)
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw failure("expected ':' after the key \(jsonQuoted(key)), found \(foundHere())")
            }
            position += 1
            if rejectsDuplicateKeys { path.append(.key(key)) }
            let value = try parseValue(depth: depth)
            if rejectsDuplicateKeys { path.removeLast() }
            members.append(StrictJSON.Member(key: key, value: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default:
                throw failure("expected ',' or '}' after an object member, found \(foundHere())")
            }
        }
    }

    /// RFC 6901 pointer of the container being parsed.
    func pointer() -> String {
        path.map { component in
            switch component {
            case let .key(key):
                "/" + key.map { $0 == "~" ? "~0" : $0 == "/" ? "~1" : String($0) }.joined()
            case let .index(index):
                "/\(index)"
            }
        }.joined()
    }

    /// A string starting at the opening quote. The whole document was checked to be UTF-8 already.
    mutating func parseString() throws(QKVError) -> String {
        let start = position
        position += 1
        var runStart = position
        var unescaped: [UInt8]?
        while true {
            guard position < bytes.count else { throw failure("string never closed", at: start) }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<position])
                position += 1
                guard var text = unescaped else { return String(decoding: run, as: UTF8.self) }
                text.append(contentsOf: run)
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                var text = unescaped ?? []
                text.append(contentsOf: bytes[runStart..<position])
                try appendEscape(to: &text)
                unescaped = text
                runStart = position
            case 0..<0x20:
                throw failure("control character \(describe(byte)) inside a string (it must be escaped)")
            default:
                position += 1
            }
        }
    }

    /// Decodes the escape at `position` (a backslash) and moves past it.
    mutating func appendEscape(to text: inout [UInt8]) throws(QKVError) {
        let start = position
        position += 1
        guard let code = peek() else { throw failure("string never closed", at: start) }
        position += 1
        let simple: UInt8?
        switch code {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default: throw failure("unknown escape: \(describe(code)) after a backslash", at: start)
        }
        if let simple {
            text.append(simple)
            return
        }
        var scalar = try hexQuad(escapeStart: start)
        if (0xDC00...0xDFFF).contains(scalar) {
            throw failure("lone low surrogate \\u\(hex4(scalar))", at: start)
        }
        if (0xD800...0xDBFF).contains(scalar) {
            let low = position
            guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("high surrogate \\u\(hex4(scalar)) not followed by a low surrogate", at: start)
            }
            position += 2
            let second = try hexQuad(escapeStart: low)
            guard (0xDC00...0xDFFF).contains(second) else {
                throw failure("high surrogate \\u\(hex4(scalar)) not followed by a low surrogate", at: start)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (second - 0xDC00)
        }
        // Surrogates were combined or rejected above, so this always succeeds.
        guard let decoded = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape", at: start) }
        UTF8.encode(decoded) { text.append($0) }
    }

    mutating func hexQuad(escapeStart: Int) throws(QKVError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexDigit(byte) else {
                throw failure("\\u must be followed by four hex digits", at: escapeStart)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, returned as written.
    mutating func parseNumber() throws(QKVError) -> String {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else {
            throw failure("expected a digit after '-', found \(foundHere())")
        }
        position += 1
        if first == UInt8(ascii: "0"), let next = peek(), isDigit(next) {
            throw failure("number with a leading zero", at: start)
        }
        skipDigits()
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let digit = peek(), isDigit(digit) else {
                throw failure("expected a digit after the decimal point, found \(foundHere())")
            }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek(), isDigit(digit) else {
                throw failure("expected a digit in the exponent, found \(foundHere())")
            }
            skipDigits()
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func hexDigit(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
}

private func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// 'x' for printable ASCII, byte 0xNN otherwise.
private func describe(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    let digits = String(byte, radix: 16, uppercase: true)
    return "byte 0x" + (digits.count == 1 ? "0" : "") + digits
}

/// Offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629: no overlong
/// forms, no surrogates, nothing above U+10FFFF), or nil.
public func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var index = 0
    let count = bytes.count
    while index < count {
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            continue
        }
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return index
        }
        guard count - index >= length, secondRange.contains(bytes[index + 1]) else { return index }
        for next in 2..<length where !(0x80...0xBF).contains(bytes[index + next]) {
            return index
        }
        index += length
    }
    return nil
}
