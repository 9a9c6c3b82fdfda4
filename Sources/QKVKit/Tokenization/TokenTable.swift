/// Token strings by id and ids by token bytes, with lookups that take any byte collection (a
/// slice of the text, two slices to be joined) without building a key array first.
///
/// Keys are bytes, never `String`: Swift's `String ==` is canonical equivalence, and a
/// vocabulary distinguishes "é" from "e" + U+0301. All token bytes live in one buffer, so a
/// 150k-token vocabulary is two allocations, not 150k.
struct TokenTable: Sendable {
    private var storage: [UInt8] = []
    /// `offsets[id] ..< offsets[id + 1]` is token `id` in `storage`.
    private var offsets: [Int] = [0]
    /// Open addressing with linear probing; -1 is an empty slot. Capacity is a power of two at
    /// least twice the token count.
    private var slots: [Int32] = []
    private var mask = 0

    var count: Int { offsets.count - 1 }

    /// The longest token in bytes.
    private(set) var longestToken = 0

    init(expectedCount: Int, expectedBytes: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        storage.reserveCapacity(expectedBytes)
        offsets.reserveCapacity(expectedCount + 1)
    }

    func token(_ id: Int) -> ArraySlice<UInt8> {
        storage[offsets[id]..<offsets[id + 1]]
    }

    func byteCount(_ id: Int) -> Int { offsets[id + 1] - offsets[id] }

    /// FNV-1a: cheap, and good enough for token strings.
    private static func hash<C: Collection>(_ bytes: C, continuing start: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64
        where C.Element == UInt8
    {
        var hash = start
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// Appends a token with the next id, or returns the id that already has these bytes.
    mutating func append<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        while slots[slot] >= 0 {
            let existing = Int(slots[slot])
            if token(existing).elementsEqual(bytes) { return existing }
            slot = (slot + 1) & mask
        }
        let id = count
        storage.append(contentsOf: bytes)
        offsets.append(storage.count)
        slots[slot] = Int32(id)
        longestToken = Swift.max(longestToken, bytes.count)
        return nil
    }

    func id<C: Collection>(of bytes: C) -> Int? where C.Element == UInt8 {
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        while slots[slot] >= 0 {
            let candidate = Int(slots[slot])
            if token(candidate).elementsEqual(bytes) { return candidate }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The id of `first` followed by `second`.
    func id<C: Collection, D: Collection>(of first: C, then second: D) -> Int?
        where C.Element == UInt8, D.Element == UInt8
    {
        var slot = Int(truncatingIfNeeded: Self.hash(second, continuing: Self.hash(first))) & mask
        let length = first.count + second.count
        while slots[slot] >= 0 {
            let candidate = Int(slots[slot])
            let stored = token(candidate)
            if stored.count == length && stored.prefix(first.count).elementsEqual(first)
                && stored.suffix(second.count).elementsEqual(second)
            {
                return candidate
            }
            slot = (slot + 1) & mask
        }
        return nil
    }

    func id(of text: String) -> Int? { id(of: Array(text.utf8)) }
}
