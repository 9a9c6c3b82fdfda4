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

    /// The standard library's seeded SipHash over the bytes, so a file cannot choose token strings
    /// that all land in one slot (a hash anyone can predict, such as FNV, would let a hostile
    /// vocabulary make loading quadratic). Feeding bytes in pieces hashes like feeding them at once.
    private static func feed<C: Collection>(_ bytes: C, into hasher: inout Hasher) where C.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in bytes { withUnsafeBytes(of: byte) { hasher.combine(bytes: $0) } }
        }
    }

    private static func hash<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        var hasher = Hasher()
        feed(bytes, into: &hasher)
        return hasher.finalize()
    }

    private static func hash<C: Collection, D: Collection>(_ first: C, _ second: D) -> Int
        where C.Element == UInt8, D.Element == UInt8
    {
        var hasher = Hasher()
        feed(first, into: &hasher)
        feed(second, into: &hasher)
        return hasher.finalize()
    }

    /// Appends a token with the next id, or returns the id that already has these bytes.
    mutating func append<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        var slot = Self.hash(bytes) & mask
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
        var slot = Self.hash(bytes) & mask
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
        var slot = Self.hash(first, second) & mask
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
