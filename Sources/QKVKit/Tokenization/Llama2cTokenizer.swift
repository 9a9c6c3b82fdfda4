/// llama2.c's tokenizer: run.c's `encode` over a `tokenizer.bin` vocabulary, id for id.
///
/// run.c does not run SentencePiece; it approximates it, and a llama2.c model is run with what
/// run.c gives, so this follows run.c, quirks included:
///
/// 1. BOS (id 1) first when `addBOS` (run.c's generate passes bos = 1), then, for non-empty text,
///    the id of the piece `" "` (the dummy prefix).
/// 2. The text's bytes in groups: a byte and up to three continuation bytes (`10xxxxxx`) after it
///    (a stray continuation byte starts a group of its own). A group that is a piece becomes its
///    id, else each byte b becomes id b + 3 (byte fallback: `<0x00>` is id 3 in a SentencePiece
///    vocabulary).
/// 3. Repeatedly, the adjacent pair whose concatenation is a piece with the highest score is merged,
///    the leftmost on ties; a pair merges only if its score is above -1e10 (NaN never). BOS takes
///    part in this, as in run.c.
/// 4. EOS (id 2) last when `addEOS`.
///
/// Pieces are C strings in run.c: a piece (and the text) ends at its first NUL byte here too. A
/// piece listed twice is found under its lowest id (run.c's bsearch over a sorted copy may find
/// either).
public struct Llama2cTokenizer: TextTokenizer {
    public let vocabulary: Llama2cVocabulary
    public var addBOS: Bool
    public var addEOS: Bool
    /// Ids of each piece (bytes before the first NUL).
    private let ids: [[UInt8]: Int]
    private let pieces: [[UInt8]]

    public static let bos = 1
    public static let eos = 2

    public init(_ vocabulary: Llama2cVocabulary, addBOS: Bool = true, addEOS: Bool = false) {
        self.vocabulary = vocabulary
        self.addBOS = addBOS
        self.addEOS = addEOS
        pieces = vocabulary.pieces.map { piece in piece.firstIndex(of: 0).map { Array(piece[..<$0]) } ?? piece }
        var ids: [[UInt8]: Int] = [:]
        for (id, piece) in pieces.enumerated() where ids[piece] == nil { ids[piece] = id }
        self.ids = ids
    }

    public var vocabularySize: Int { pieces.count }

    /// The SentencePiece piece the entry came from: tokenizer.py's export undone (`▁` for a space,
    /// `<s>` and `</s>` without the newlines it adds), as `id_to_piece` shows it.
    public func tokenText(_ id: Int) -> String {
        guard pieces.indices.contains(id) else { return "<id \(id)>" }
        let text = String(decoding: vocabulary.pieces[id], as: UTF8.self)
        switch text {
        case "\n<s>\n": return "<s>"
        case "\n</s>\n": return "</s>"
        default: return text.replacingOccurrences(of: " ", with: "\u{2581}")
        }
    }

    /// With `addSpecialTokens` false, neither BOS nor EOS, whatever `addBOS` and `addEOS` say.
    public func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        guard !addSpecialTokens else { return try encode(bytes: Array(text.utf8)) }
        var plain = self
        plain.addBOS = false
        plain.addEOS = false
        return try plain.encode(bytes: Array(text.utf8))
    }

    /// run.c's `encode` of a byte string (which need not be UTF-8), up to its first NUL.
    public func encode(bytes input: [UInt8]) throws(TokenizerError) -> [Int] {
        let bytes = input.firstIndex(of: 0).map { Array(input[..<$0]) } ?? input
        var tokens: [Int] = addBOS ? [Self.bos] : []
        if !bytes.isEmpty {
            // run.c would store -1 and read outside the vocabulary.
            guard let prefix = ids[[0x20]] else {
                throw .tokenNotInVocabulary(file: vocabulary.file, field: "dummy prefix (run.c's encode)", token: " ")
            }
            tokens.append(prefix)
        }
        var start = 0
        while start < bytes.count {
            var end = start + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80, end - start < 4 { end += 1 }
            let group = Array(bytes[start..<end])
            if let id = ids[group] {
                tokens.append(id)
            } else {
                for byte in group {
                    // +3 skips <unk>, <s>, </s>; beyond the vocabulary run.c would read past its table.
                    guard Int(byte) + 3 < pieces.count else { throw .unencodable(piece: String(decoding: group, as: UTF8.self)) }
                    tokens.append(Int(byte) + 3)
                }
            }
            start = end
        }
        merge(&tokens)
        if addEOS { tokens.append(Self.eos) }
        return tokens
    }

    /// run.c's merge loop: while some adjacent pair concatenates to a piece scoring above -1e10,
    /// merge the best, the leftmost of equal scores. run.c rescans the whole sequence per merge
    /// (quadratic); here the candidate pairs wait in a heap ordered by (score, position) over a
    /// linked list of the tokens, and a pair whose tokens have changed since it was queued is
    /// skipped when it comes up. Positions only ever get merged into their left neighbour, so a
    /// smaller position is further left, as run.c's scan order.
    private func merge(_ tokens: inout [Int]) {
        let count = tokens.count
        guard count > 1 else { return }
        var next = Array(1...count), previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var heap = MergeHeap()
        func enqueue(_ left: Int) {
            let right = next[left]
            guard left >= 0, right < count, let id = ids[pieces[tokens[left]] + pieces[tokens[right]]] else { return }
            let score = vocabulary.scores[id]
            // run.c's best_score starts at -1e10 (a float) and only a strictly greater score wins: NaN never.
            guard score > Float(-1e10) else { return }
            heap.push(MergeHeap.Candidate(score: score, left: left, right: right, leftToken: tokens[left], rightToken: tokens[right], id: id))
        }
        for left in 0..<(count - 1) { enqueue(left) }
        while let best = heap.pop() {
            let (left, right) = (best.left, best.right)
            guard alive[left], alive[right], next[left] == right, tokens[left] == best.leftToken, tokens[right] == best.rightToken else {
                continue
            }
            tokens[left] = best.id
            alive[right] = false
            next[left] = next[right]
            if next[right] < count { previous[next[right]] = left }
            if previous[left] >= 0 { enqueue(previous[left]) }
            enqueue(left)
        }
        tokens = (0..<count).filter { alive[$0] }.map { tokens[$0] }
    }
}

/// A binary max-heap of merge candidates: highest score first, then leftmost.
private struct MergeHeap {
    struct Candidate {
        var score: Float
        var left: Int
        var right: Int
        var leftToken: Int
        var rightToken: Int
        var id: Int

        /// Comes out before `other`. Scores are never NaN here.
        func precedes(_ other: Candidate) -> Bool {
            score != other.score ? score > other.score : left < other.left
        }
    }

    private var items: [Candidate] = []

    mutating func push(_ candidate: Candidate) {
        items.append(candidate)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let first = 2 * parent + 1, second = first + 1
                var best = parent
                if first < items.count, items[first].precedes(items[best]) { best = first }
                if second < items.count, items[second].precedes(items[best]) { best = second }
                guard best != parent else { break }
                items.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
