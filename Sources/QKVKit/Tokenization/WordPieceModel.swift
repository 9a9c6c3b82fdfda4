/// Vocabulary keys are UTF-8 bytes, not `String`, because `String` equality is canonical
/// equivalence and the tokenizer distinguishes `"é"` from `"e\u{301}"`.
typealias TokenBytes = [UInt8]

extension Array where Element == UInt8 {
    /// Appends the UTF-8 encoding of `scalars`.
    mutating func appendUTF8<S: Sequence>(_ scalars: S) where S.Element == Unicode.Scalar {
        for scalar in scalars {
            UTF8.encode(scalar) { self.append($0) }
        }
    }
}

/// The `WordPiece` model: greedy longest-match-first over the vocabulary, continuation pieces
/// spelled with a prefix (`##`), and one unknown token for a word that cannot be covered.
struct WordPieceModel: Sendable {
    let vocabulary: [TokenBytes: Int]
    let unknownID: Int
    let continuingPrefix: TokenBytes
    let maximumWordLength: Int
    /// Longest vocabulary entry in scalars: no match can be longer, which bounds the search.
    let longestEntry: Int

    init(vocabulary: [TokenBytes: Int], unknownID: Int, continuingPrefix: TokenBytes, maximumWordLength: Int) {
        self.vocabulary = vocabulary
        self.unknownID = unknownID
        self.continuingPrefix = continuingPrefix
        self.maximumWordLength = maximumWordLength
        var longest = 0
        for key in vocabulary.keys {
            // Counting lead bytes counts scalars of valid UTF-8.
            longest = Swift.max(longest, key.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) })
        }
        longestEntry = longest
    }

    /// Appends the ids of `word` (non-empty, no whitespace) to `ids`.
    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.count > maximumWordLength {
            ids.append(unknownID)
            return
        }
        // offsets[i] is the byte offset of scalar i in `bytes`.
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        offsets.reserveCapacity(word.count + 1)
        for scalar in word {
            offsets.append(bytes.count)
            UTF8.encode(scalar) { bytes.append($0) }
        }
        offsets.append(bytes.count)

        let firstID = ids.count
        var key: [UInt8] = []
        var start = 0
        while start < word.count {
            var end = Swift.min(word.count, start + longestEntry)
            var matched: Int?
            while end > start {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key += continuingPrefix }
                key += bytes[offsets[start]..<offsets[end]]
                if let id = vocabulary[key] {
                    matched = id
                    break
                }
                end -= 1
            }
            guard let id = matched else {
                // One uncovered piece makes the whole word unknown.
                ids.removeSubrange(firstID...)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start = end
        }
    }
}
