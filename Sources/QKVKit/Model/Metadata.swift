/// A typed metadata value, as QKV v1 stores it.
public enum MetadataValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case string(String)
    case strings([String])
    case floats([Float])

    public var typeCode: UInt8 {
        switch self {
        case .int: 1
        case .double: 2
        case .string: 3
        case .strings: 4
        case .floats: 5
        }
    }

    public var typeName: String {
        switch self {
        case .int: "i64"
        case .double: "f64"
        case .string: "string"
        case .strings: "string array"
        case .floats: "f32 array"
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
}
