/// A JSON value from a tokenizer file together with where it came from, so every type error
/// names the file and the dotted path of the field.
///
/// Members are looked up by UTF-8 bytes: Swift's `String ==` is canonical equivalence, which would
/// merge vocabulary entries such as `"é"` and `"e\u{301}"` that the tokenizer treats as different
/// tokens. For the same reason the file is parsed keeping repeated keys.
struct JSONField {
    let value: StrictJSON.Value
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

    /// Real tokenizer files nest about six levels, and a 250k-token vocabulary with 500k merge
    /// pairs is about 2M values. 32M values leave 16 times that and, at 24 to 40 bytes a value,
    /// bound the parsed tree to about 1.3 GB, where `TokenizerLoader.maximumFileSize` alone would
    /// allow 500M values.
    static let limits = StrictJSON.Limits(maximumDepth: 64, maximumValues: 1 << 25)

    /// The top-level value of `file`, parsed from its bytes; errors carry file offsets.
    init(parsing bytes: [UInt8], file: String) throws(TokenizerError) {
        do throws(QKVError) {
            let root = try StrictJSON.parse(bytes, what: file, limits: Self.limits, duplicateKeys: .keep)
            self.init(value: root, file: file, parentPath: "", component: .none)
        } catch {
            switch error {
            case let .invalidJSON(_, offset, reason): throw .malformedJSON(file: file, offset: offset, reason: reason)
            case let .invalidUTF8(_, offset): throw .invalidUTF8(file: file, offset: offset)
            // The parser throws nothing else when it keeps repeated keys.
            default: throw .malformedJSON(file: file, offset: 0, reason: "\(error)")
            }
        }
    }

    private init(value: StrictJSON.Value, file: String, parentPath: String, component: Component) {
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

    private func child(_ value: StrictJSON.Value, _ component: Component) -> JSONField {
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
        .wrongType(file: file, field: path.isEmpty ? "top level" : path, expected: expected, found: value.kindName)
    }

    func string() throws -> String {
        guard case let .string(text) = value else { throw wrongType(expected: "a string") }
        return text
    }

    func bool() throws -> Bool {
        guard case let .bool(flag) = value else { throw wrongType(expected: "a boolean") }
        return flag
    }

    /// A number written without fraction or exponent that fits `Int`.
    func integer() throws -> Int {
        guard case let .number(text) = value else { throw wrongType(expected: "an integer") }
        guard let number = value.integer else {
            throw TokenizerError.invalidValue(file: file, field: path, expected: "an integer", found: text)
        }
        return number
    }

    func double() throws -> Double {
        guard case let .number(text) = value else { throw wrongType(expected: "a number") }
        guard let number = value.double else {
            throw TokenizerError.invalidValue(file: file, field: path, expected: "a number", found: text)
        }
        return number
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
