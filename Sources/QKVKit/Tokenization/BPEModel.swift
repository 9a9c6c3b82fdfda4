/// The `BPE` model of `tokenizers`: split a word into characters, then apply merges lowest rank
/// first (leftmost first among equal ranks) until none applies.
struct BPEModel: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var newID: Int32
    }

    let vocabulary: [TokenBytes: Int]
    /// Keyed by `pairKey(left, right)`.
    let merges: [UInt64: Merge]
    let unknownID: Int?
    let continuingPrefix: TokenBytes?
    let endOfWordSuffix: TokenBytes?
    let fuseUnknown: Bool
    /// Ids of `<0x00>`…`<0xFF>` where the vocabulary has them (byte fallback).
    let byteFallbackIDs: [Int?]?
    let ignoreMerges: Bool

    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    init(vocabulary: [TokenBytes: Int], merges: [UInt64: Merge], unknownID: Int?, continuingPrefix: TokenBytes?,
         endOfWordSuffix: TokenBytes?, fuseUnknown: Bool, byteFallback: Bool, ignoreMerges: Bool)
    {
        self.vocabulary = vocabulary
        self.merges = merges
        self.unknownID = unknownID
        self.continuingPrefix = continuingPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnknown = fuseUnknown
        self.ignoreMerges = ignoreMerges
        if byteFallback {
            byteFallbackIDs = (0..<256).map { byte in
                let hex = String(byte, radix: 16, uppercase: true)
                return vocabulary[Array("<0x\(hex.count == 1 ? "0" : "")\(hex)>".utf8)]
            }
        } else {
            byteFallbackIDs = nil
        }
    }

    /// Appends the ids of `word` (non-empty) to `ids`; `cache` remembers words already seen.
    func tokenize(_ word: [Unicode.Scalar], cache: inout [TokenBytes: [Int]], into ids: inout [Int]) throws {
        var wordBytes: [UInt8] = []
        wordBytes.appendUTF8(word)
        if ignoreMerges, let id = vocabulary[wordBytes] {
            ids.append(id)
            return
        }
        if let cached = cache[wordBytes] {
            ids += cached
            return
        }
        let symbols = try initialSymbols(word)
        let merged = mergeAll(symbols)
        cache[wordBytes] = merged
        ids += merged
    }

    /// One id per character (prefix on all but the first, suffix on the last), with unknown
    /// characters replaced by byte-fallback ids or the unknown id.
    private func initialSymbols(_ word: [Unicode.Scalar]) throws -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        var pendingUnknown = false
        var key: [UInt8] = []
        for (index, scalar) in word.enumerated() {
            key.removeAll(keepingCapacity: true)
            if index > 0, let prefix = continuingPrefix { key += prefix }
            UTF8.encode(scalar) { key.append($0) }
            if index == word.count - 1, let suffix = endOfWordSuffix { key += suffix }

            if let id = vocabulary[key] {
                if pendingUnknown, let unknown = unknownID {
                    symbols.append(Int32(unknown))
                    pendingUnknown = false
                }
                symbols.append(Int32(id))
                continue
            }
            // Byte fallback covers the whole key (prefix included) or nothing; like `tokenizers`,
            // it does not flush a pending unknown token first.
            if let fallback = byteFallbackIDs {
                let byteIDs = key.map { fallback[Int($0)] }
                if byteIDs.allSatisfy({ $0 != nil }) {
                    symbols += byteIDs.map { Int32($0!) }
                    continue
                }
            }
            guard let unknown = unknownID else {
                throw TokenizerError.unencodable(piece: String(Character(scalar)))
            }
            if pendingUnknown && !fuseUnknown {
                symbols.append(Int32(unknown))
            }
            pendingUnknown = true
        }
        if pendingUnknown, let unknown = unknownID {
            symbols.append(Int32(unknown))
        }
        return symbols
    }

    /// Applies merges with a priority queue ordered by (rank, position), skipping stale entries
    /// the way `tokenizers` does, so ties resolve identically. O(n log n) in the word length.
    private func mergeAll(_ initial: [Int32]) -> [Int] {
        let count = initial.count
        guard count > 1 else { return initial.map(Int.init) }
        var symbol = initial
        var previous = (0..<count).map { Int32($0) - 1 }
        var next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }
        var removed = [Bool](repeating: false, count: count)
        var queue = MergeQueue()
        for position in 0..<(count - 1) {
            if let merge = merges[Self.pairKey(symbol[position], symbol[position + 1])] {
                queue.push(.init(rank: merge.rank, position: Int32(position), newID: merge.newID))
            }
        }
        while let top = queue.pop() {
            let position = Int(top.position)
            if removed[position] || next[position] < 0 { continue }
            let right = Int(next[position])
            guard let current = merges[Self.pairKey(symbol[position], symbol[right])],
                  current.newID == top.newID
            else { continue }
            symbol[position] = top.newID
            next[position] = next[right]
            removed[right] = true
            if next[right] >= 0 { previous[Int(next[right])] = Int32(position) }
            if previous[position] >= 0 {
                let left = Int(previous[position])
                if let merge = merges[Self.pairKey(symbol[left], symbol[position])] {
                    queue.push(.init(rank: merge.rank, position: Int32(left), newID: merge.newID))
                }
            }
            if next[position] >= 0 {
                if let merge = merges[Self.pairKey(symbol[position], symbol[Int(next[position])])] {
                    queue.push(.init(rank: merge.rank, position: Int32(position), newID: merge.newID))
                }
            }
        }
        var out: [Int] = []
        out.reserveCapacity(count)
        for index in 0..<count where !removed[index] {
            out.append(Int(symbol[index]))
        }
        return out
    }
}

/// Binary min-heap of pending merges ordered by rank, then position.
private struct MergeQueue {
    struct Entry {
        var rank: Int32
        var position: Int32
        var newID: Int32

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < heap.count && heap[left].precedes(heap[best]) { best = left }
                if right < heap.count && heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return first
    }
}
