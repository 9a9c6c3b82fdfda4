/// A typed metadata value: the five types QKV v1 stores, and the booleans and numeric arrays
/// GGUF adds (every GGUF integer type becomes `int`, both float types `double`).
public enum MetadataValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case string(String)
    case strings([String])
    case floats([Float])
    case bool(Bool)
    case ints([Int64])
    case doubles([Double])

    /// The QKV v1 type code; booleans are stored as i64 0 or 1, and integer or f64 arrays have none.
    public var typeCode: UInt8? {
        switch self {
        case .int, .bool: 1
        case .double: 2
        case .string: 3
        case .strings: 4
        case .floats: 5
        case .ints, .doubles: nil
        }
    }

    public var typeName: String {
        switch self {
        case .int: "i64"
        case .double: "f64"
        case .string: "string"
        case .strings: "string array"
        case .floats: "f32 array"
        case .bool: "bool"
        case .ints: "integer array"
        case .doubles: "f64 array"
        }
    }
}

/// Metadata in file order, with lookup by key.
public struct Metadata: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: MetadataValue)] = []
    private var index: [String: Int] = [:]

    public init() {}

    public init(_ entries: [(String, MetadataValue)]) {
        for (key, value) in entries { self[key] = value }
    }

    public subscript(key: String) -> MetadataValue? {
        get { index[key].map { entries[$0].value } }
        set {
            if let position = index[key] {
                if let newValue { entries[position].value = newValue } else {
                    entries.remove(at: position)
                    index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.key, $0) })
                }
            } else if let newValue {
                index[key] = entries.count
                entries.append((key, newValue))
            }
        }
    }

    public var count: Int { entries.count }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    // Typed accessors that report the key, the expected and the found type.
    public func int(_ key: String) throws(QKVError) -> Int64? {
        guard let value = self[key] else { return nil }
        guard case let .int(number) = value else {
            throw .wrongMetadataType(key: key, expected: "i64", found: value.typeName)
        }
        return number
    }

    /// A boolean, stored as a GGUF bool or as an i64 0 or 1 (QKV).
    public func bool(_ key: String) throws(QKVError) -> Bool? {
        guard let value = self[key] else { return nil }
        switch value {
        case let .bool(flag): return flag
        case let .int(number) where number == 0 || number == 1: return number == 1
        case let .int(number): throw .invalidMetadataValue(key: key, expected: "0 or 1", found: String(number))
        default: throw .wrongMetadataType(key: key, expected: "bool", found: value.typeName)
        }
    }

    /// An integer array.
    public func ints(_ key: String) throws(QKVError) -> [Int64]? {
        guard let value = self[key] else { return nil }
        guard case let .ints(list) = value else {
            throw .wrongMetadataType(key: key, expected: "integer array", found: value.typeName)
        }
        return list
    }

    public func double(_ key: String) throws(QKVError) -> Double? {
        guard let value = self[key] else { return nil }
        switch value {
        case let .double(number): return number
        case let .int(number): return Double(number)
        default: throw .wrongMetadataType(key: key, expected: "f64", found: value.typeName)
        }
    }

    public func string(_ key: String) throws(QKVError) -> String? {
        guard let value = self[key] else { return nil }
        guard case let .string(text) = value else {
            throw .wrongMetadataType(key: key, expected: "string", found: value.typeName)
        }
        return text
    }

    public func strings(_ key: String) throws(QKVError) -> [String]? {
        guard let value = self[key] else { return nil }
        guard case let .strings(list) = value else {
            throw .wrongMetadataType(key: key, expected: "string array", found: value.typeName)
        }
        return list
    }

    /// A float array (f32, or f64 rounded to f32).
    public func floats(_ key: String) throws(QKVError) -> [Float]? {
        guard let value = self[key] else { return nil }
        switch value {
        case let .floats(list): return list
        case let .doubles(list): return list.map { Float($0) }
        default: throw .wrongMetadataType(key: key, expected: "f32 array", found: value.typeName)
        }
    }
}
