/// `model.safetensors.index.json`: which shard file holds each tensor of a sharded checkpoint.
///
/// Only `weight_map` is read; `metadata` (total_size, total_parameters) is informative and ignored.
public struct SafetensorsIndex: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var tensor: String
        public var shard: String
    }

    /// weight_map in the order written.
    public var entries: [Entry]
    /// The distinct shard file names, sorted: `model-00001-of-00003.safetensors` first.
    public var shards: [String]

    public init(json: UnsafeRawBufferPointer, limits: SafetensorsHeader.Limits = .init()) throws(QKVError) {
        let root = try StrictJSON.parse(json, what: "shard index", limits: limits.json)
        guard root.members != nil else {
            throw .wrongJSONType(what: "shard index", expected: "an object", found: root.kindName)
        }
        guard let weightMap = root["weight_map"] else {
            throw .wrongJSONType(what: "shard index", expected: "an object with a \"weight_map\" member", found: "no weight_map")
        }
        guard let members = weightMap.members else {
            throw .wrongJSONType(what: "weight_map", expected: "an object of tensor name to shard file", found: weightMap.rendered())
        }
        guard !members.isEmpty else {
            throw .wrongJSONType(what: "weight_map", expected: "at least one tensor", found: "{}")
        }
        guard members.count <= limits.maximumEntries else {
            throw .tooManyEntries(what: "weight_map", count: members.count, maximum: limits.maximumEntries)
        }
        var entries: [Entry] = []
        var shards = Set<String>()
        for member in members {
            guard let shard = member.value.string else {
                throw .wrongJSONType(
                    what: "weight_map \(jsonQuoted(member.key))", expected: "a shard file name", found: member.value.rendered())
            }
            if !shards.contains(shard) {
                guard isPlainFileName(shard) else { throw .unsafeShardName(shard) }
                shards.insert(shard)
            }
            entries.append(Entry(tensor: member.key, shard: shard))
        }
        self.entries = entries
        self.shards = shards.sorted()
    }
}

/// A name that stays inside its folder when appended to it: one path component, not "." or "..".
func isPlainFileName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".."
        && !name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") || $0 == 0 })
}
