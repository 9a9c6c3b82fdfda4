/// The tokenizer a GGUF file carries, giving the token ids llama.cpp gives (`llama_tokenize`).
///
/// The pipeline is llama.cpp's: special tokens are cut out of the raw text first (longest text
/// first), then each stretch of plain text goes through the model's own algorithm —
/// SentencePiece-style merging by score with byte fallback (`llama`), byte-level BPE after a
/// pre-tokenizer (`gpt2`), or WordPiece (`bert`) — and BOS/EOS (or CLS/SEP) go around the result.
public struct GGUFTokenizer: TextTokenizer {
    let vocabulary: GGUFVocabulary
    /// Per byte: the id of the token for that byte (`<0xNN>` or the byte itself for SentencePiece,
    /// GPT-2's printable stand-in for byte-level BPE), -1 when the vocabulary has none.
    private let byteTokens: [Int]

    init(vocabulary: GGUFVocabulary) {
        self.vocabulary = vocabulary
        let table = vocabulary.table
        switch vocabulary.model {
        case .sentencePiece:
            byteTokens = (0..<256).map { byte in
                // llama.cpp's byte_to_token: "<0xNN>", else the single byte as a string.
                table.id(of: Self.byteTokenName(UInt8(byte))) ?? table.id(of: [UInt8(byte)]) ?? -1
            }
        case .bytePair:
            byteTokens = (0..<256).map { byte in
                var utf8: [UInt8] = []
                UTF8.encode(ByteLevelAlphabet.characters[byte]) { utf8.append($0) }
                return table.id(of: utf8) ?? -1
            }
        case .wordPiece:
            byteTokens = []
        }
    }

    public var vocabularySize: Int { vocabulary.count }

    /// The token's text as the file stores it (`Ġworld`, `▁the`, `<0x0A>`; llama.cpp's BERT
    /// vocabularies spell `##ing` as `ing` and `the` as `▁the`), or `"<id N>"` outside the vocabulary.
    public func tokenText(_ id: Int) -> String {
        guard id >= 0 && id < vocabulary.count else { return "<id \(id)>" }
        return String(decoding: vocabulary.table.token(id), as: UTF8.self)
    }

    /// `encode(text, addSpecialTokens:, parseSpecialTokens: true)`. Special-token texts are always
    /// parsed here, because that is what a prompt needs: text written from a chat template
    /// (`<|im_start|>user…`) means those tokens, as in llama.cpp's tools and in transformers.
    public func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        try encode(text, addSpecialTokens: addSpecialTokens, parseSpecialTokens: true)
    }

    /// `llama_tokenize(vocab, text, …, add_special, parse_special)`.
    ///
    /// `addSpecialTokens`: BOS/EOS as the file's `add_bos_token`/`add_eos_token` (and llama.cpp's
    /// defaults per model) ask; for `bert` always CLS … SEP. `parseSpecialTokens`: control and
    /// unknown tokens written in the text (`<|im_start|>`, `<s>`) become those tokens; when false
    /// they are tokenized as plain text. User-defined tokens are matched either way, as in
    /// llama.cpp.
    public func encode(_ text: String, addSpecialTokens: Bool, parseSpecialTokens: Bool) throws -> [Int] {
        let bytes = Array(text.utf8)
        let fragments = partition(bytes, parseSpecial: parseSpecialTokens)
        var output: [Int] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        switch vocabulary.model {
        case .sentencePiece:
            if addSpecialTokens && vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
            // llama.cpp puts the dummy space before the first text and before any text that
            // follows a special token.
            var afterSpecial = true
            for fragment in fragments {
                switch fragment {
                case let .text(range):
                    var piece: [UInt8] = []
                    piece.reserveCapacity(range.count + 8)
                    if vocabulary.addSpacePrefix && afterSpecial { piece += [0xE2, 0x96, 0x81] }
                    for byte in bytes[range] {
                        if byte == 0x20 { piece += [0xE2, 0x96, 0x81] } else { piece.append(byte) }
                    }
                    try sentencePiece(piece, into: &output)
                    afterSpecial = false
                case let .token(id):
                    output.append(id)
                    afterSpecial = true
                }
            }
            if addSpecialTokens && vocabulary.addEOS, let eos = vocabulary.eos { output.append(eos) }
        case let .bytePair(preTokenizer):
            if addSpecialTokens && vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
            var cache: [[UInt8]: [Int]] = [:]
            for fragment in fragments {
                switch fragment {
                case let .text(range): bytePair(bytes[range], preTokenizer: preTokenizer, cache: &cache, into: &output)
                case let .token(id): output.append(id)
                }
            }
            if addSpecialTokens && vocabulary.addEOS, let eos = vocabulary.eos { output.append(eos) }
        case .wordPiece:
            if addSpecialTokens, let bos = vocabulary.bos { output.append(bos) }
            for fragment in fragments {
                switch fragment {
                case let .text(range): try wordPiece(bytes[range], into: &output)
                case let .token(id): output.append(id)
                }
            }
            if addSpecialTokens, let separator = vocabulary.separator { output.append(separator) }
        }
        return output
    }

    // MARK: Special tokens

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    /// `tokenizer_st_partition`: for each special token, longest first, every occurrence in the
    /// remaining plain text becomes that token. Matching is on bytes, which is safe on valid
    /// UTF-8: a token's bytes can only match at character boundaries.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        for id in vocabulary.specialTokens {
            let attributes = vocabulary.attributes[id]
            if !parseSpecial && !attributes.isDisjoint(with: [.control, .unknown]) { continue }
            let needle = vocabulary.table.token(id)
            guard let first = needle.first else { continue }
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count + 2)
            for fragment in fragments {
                guard case let .text(range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var cursor = range.lowerBound
                while let match = Self.find(needle, first: first, in: bytes, from: cursor, to: range.upperBound) {
                    var leftEnd = match
                    if attributes.contains(.leftStrip) {
                        while leftEnd > cursor && Self.isASCIISpace(bytes[leftEnd - 1]) { leftEnd -= 1 }
                    }
                    if leftEnd > cursor { next.append(.text(cursor..<leftEnd)) }
                    next.append(.token(id))
                    cursor = match + needle.count
                    if attributes.contains(.rightStrip) {
                        while cursor < range.upperBound && Self.isASCIISpace(bytes[cursor]) { cursor += 1 }
                    }
                }
                if cursor < range.upperBound { next.append(.text(cursor..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    /// C's `isspace` in the "C" locale, which llama.cpp uses for stripping.
    private static func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private static func find(_ needle: ArraySlice<UInt8>, first: UInt8, in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        guard needle.count <= end - start else { return nil }
        var position = start
        let last = end - needle.count
        while position <= last {
            if bytes[position] == first && bytes[position..<(position + needle.count)].elementsEqual(needle) {
                return position
            }
            position += 1
        }
        return nil
    }

    // MARK: SentencePiece (llama)

    /// `llm_tokenizer_spm_session`: start from UTF-8 characters and repeatedly merge the adjacent
    /// pair whose concatenation is the highest-scoring token (leftmost on ties); a final piece
    /// that is not a token is spelled with byte tokens.
    private func sentencePiece(_ text: [UInt8], into output: inout [Int]) throws {
        guard !text.isEmpty else { return }
        let table = vocabulary.table
        var start: [Int] = []
        var length: [Int] = []
        var offset = 0
        while offset < text.count {
            let width = Swift.min(utf8Width(text[offset]), text.count - offset)
            start.append(offset)
            length.append(width)
            offset += width
        }
        let count = start.count
        var previous = (0..<count).map { $0 - 1 }
        var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }

        struct Bigram {
            var score: Float
            var left: Int
            var right: Int
            var size: Int
        }
        var queue = BinaryHeap<Bigram> { a, b in a.score != b.score ? a.score > b.score : a.left < b.left }
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let size = length[left] + length[right]
            guard let id = table.id(of: text[start[left]..<(start[left] + size)]) else { return }
            queue.push(Bigram(score: vocabulary.scores[id], left: left, right: right, size: size))
        }
        for index in 1..<Swift.max(count, 1) { tryAdd(index - 1, index) }
        while let bigram = queue.pop() {
            // A pair whose sides changed since it was queued is stale: sizes only grow or drop to 0.
            guard length[bigram.left] > 0, length[bigram.right] > 0,
                  length[bigram.left] + length[bigram.right] == bigram.size
            else { continue }
            length[bigram.left] += length[bigram.right]
            length[bigram.right] = 0
            next[bigram.left] = next[bigram.right]
            if next[bigram.right] >= 0 { previous[next[bigram.right]] = bigram.left }
            tryAdd(previous[bigram.left], bigram.left)
            tryAdd(bigram.left, next[bigram.left])
        }
        var index = 0
        while index >= 0 {
            let piece = text[start[index]..<(start[index] + length[index])]
            if let id = table.id(of: piece) {
                output.append(id)
            } else {
                // Only single characters can be left without a token (every merge made one).
                for byte in piece {
                    let id = byteTokens[Int(byte)]
                    // llama.cpp throws std::out_of_range here and takes the process down.
                    guard id >= 0 else {
                        throw TokenizerError.noByteToken(piece: String(decoding: piece, as: UTF8.self),
                                                         byteToken: Self.byteTokenName(byte))
                    }
                    output.append(id)
                }
            }
            index = next[index]
        }
    }

    /// `<0xNN>`, SentencePiece's name for a byte token.
    static func byteTokenName(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x\(hex.count == 1 ? "0" : "")\(hex)>"
    }

    /// `unicode_len_utf8`: the length a lead byte announces (1 for a stray continuation byte).
    private func utf8Width(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }

    // MARK: Byte-level BPE (gpt2)

    /// `llm_tokenizer_bpe_session`: pre-tokenize, map each UTF-8 byte of a word to GPT-2's
    /// printable alphabet, then apply merges lowest rank first (leftmost on ties).
    private func bytePair(_ text: ArraySlice<UInt8>, preTokenizer: LlamaCppPreTokenizer,
                          cache: inout [[UInt8]: [Int]], into output: inout [Int])
    {
        let codePoints = LlamaCppUnicode.codePoints(text)
        var wordBytes: [UInt8] = []
        var position = 0
        for length in preTokenizer.split(codePoints) {
            wordBytes.removeAll(keepingCapacity: true)
            for value in codePoints[position..<(position + length)] { wordBytes.appendCodePoint(value) }
            position += length
            if let known = cache[wordBytes] {
                output += known
                continue
            }
            let ids = mergeWord(wordBytes)
            cache[wordBytes] = ids
            output += ids
        }
    }

    private func mergeWord(_ bytes: [UInt8]) -> [Int] {
        let count = bytes.count
        var symbol = bytes.map { byteTokens[Int($0)] }
        guard count > 1 else { return symbol.filter { $0 >= 0 } }
        var previous = (0..<count).map { $0 - 1 }
        var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
        var alive = [Bool](repeating: true, count: count)

        struct Bigram {
            var rank: Int
            var left: Int
            var right: Int
            var leftID: Int
            var rightID: Int
            var merged: Int
        }
        var queue = BinaryHeap<Bigram> { a, b in a.rank != b.rank ? a.rank < b.rank : a.left < b.left }
        let merges = vocabulary.merges
        func add(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, symbol[left] >= 0, symbol[right] >= 0,
                  let entry = merges[GGUFVocabulary.pairKey(symbol[left], symbol[right])]
            else { return }
            queue.push(Bigram(rank: Int(entry >> 32), left: left, right: right, leftID: symbol[left],
                              rightID: symbol[right], merged: Int(entry & 0xFFFF_FFFF)))
        }
        for index in 1..<count { add(index - 1, index) }
        while let bigram = queue.pop() {
            // Stale when either side merged since: symbols only grow, so equal ids mean equal text.
            guard alive[bigram.left], alive[bigram.right], symbol[bigram.left] == bigram.leftID,
                  symbol[bigram.right] == bigram.rightID
            else { continue }
            symbol[bigram.left] = bigram.merged
            alive[bigram.right] = false
            next[bigram.left] = next[bigram.right]
            if next[bigram.right] >= 0 { previous[next[bigram.right]] = bigram.left }
            add(previous[bigram.left], bigram.left)
            add(bigram.left, next[bigram.left])
        }
        // A byte whose printable character is not a token is dropped: llama.cpp then looks up
        // each byte of that character's UTF-8 as a one-byte token, and none can exist (a lone
        // byte ≥ 0x80 is not valid UTF-8, and an ASCII character would have been the token).
        var ids: [Int] = []
        ids.reserveCapacity(count)
        for index in 0..<count where alive[index] && symbol[index] >= 0 {
            ids.append(symbol[index])
        }
        return ids
    }

    // MARK: WordPiece (bert)

    /// `llm_tokenizer_wpm_session`: split on whitespace, punctuation, ASCII symbols and CJK
    /// ideographs (dropping controls, lowercasing and stripping accents as configured), then
    /// take the longest token that matches "▁" + word from each position; a word that cannot
    /// be covered becomes the unknown token.
    private func wordPiece(_ text: ArraySlice<UInt8>, into output: inout [Int]) throws {
        let table = vocabulary.table
        let longest = table.longestToken
        for word in wordPieceWords(LlamaCppUnicode.codePoints(text)) {
            var bytes: [UInt8] = [0xE2, 0x96, 0x81]
            bytes += word
            let firstOfWord = output.count
            var position = 0
            while position < bytes.count {
                var end = Swift.min(bytes.count, position + longest + 1)
                var matched: Int?
                while end > position {
                    if let id = table.id(of: bytes[position..<end]) {
                        matched = id
                        break
                    }
                    end -= 1
                }
                guard let id = matched else {
                    output.removeSubrange(firstOfWord...)
                    break
                }
                output.append(id)
                position = end
            }
            if output.count == firstOfWord {
                guard let unknown = vocabulary.unknown else {
                    throw TokenizerError.unencodable(piece: String(decoding: word, as: UTF8.self))
                }
                output.append(unknown)
            }
        }
    }

    /// `llm_tokenizer_wpm_session::preprocess`, as UTF-8 words.
    private func wordPieceWords(_ codePoints: [UInt32]) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var word: [UInt8] = []
        func finishWord() {
            if !word.isEmpty { words.append(word); word.removeAll(keepingCapacity: true) }
        }
        for original in codePoints {
            let value = vocabulary.stripAccents ? LlamaCppUnicode.decompositionBase(original) : original
            if LlamaCppUnicode.isWhitespace(value) {
                finishWord()
                continue
            }
            let category = LlamaCppUnicode.category(value)
            if value == 0 || value == 0xFFFD || category == .control { continue }
            if vocabulary.stripAccents && category == .mark { continue }
            let output = vocabulary.lowercase ? LlamaCppUnicode.lowercase(value) : value
            if category == .punctuation || (value < 0x7F && category == .symbol) || Self.isChineseCharacter(value) {
                finishWord()
                word.appendCodePoint(output)
                finishWord()
            } else {
                word.appendCodePoint(output)
            }
        }
        finishWord()
        return words
    }

    /// llama.cpp's CJK ranges for WordPiece (with the HF quirk 0x2B920, not 0x2B820).
    private static func isChineseCharacter(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}

/// Reads the tokenizer of a GGUF file from its header.
public enum GGUFTokenizerLoader {
    /// Whether the header describes a tokenizer at all (`tokenizer.ggml.model` present and not
    /// llama.cpp's "no vocabulary" markers).
    public static func hasTokenizer(_ header: GGUFHeader) -> Bool {
        guard case let .string(model)? = header.value("tokenizer.ggml.model") else { return false }
        return model != "none" && model != "no_vocab"
    }

    /// The tokenizer of `header`; every malformed tokenizer key is a `QKVError` naming the key.
    public static func tokenizer(from header: GGUFHeader) throws -> any TextTokenizer {
        try load(from: header)
    }

    /// The same, as the concrete type (for `encode(_:addSpecialTokens:parseSpecialTokens:)`).
    public static func load(from header: GGUFHeader) throws(QKVError) -> GGUFTokenizer {
        if case let .string(model)? = header.value("tokenizer.ggml.model"), model == "none" || model == "no_vocab" {
            throw .noTokenizer(lookedFor: "a vocabulary, but tokenizer.ggml.model is \(jsonQuoted(model))")
        }
        return GGUFTokenizer(vocabulary: try GGUFVocabulary(header: header))
    }
}

/// A binary heap ordered by `precedes` (the top precedes everything else).
struct BinaryHeap<Element> {
    private var storage: [Element] = []
    private let precedes: (Element, Element) -> Bool

    init(precedes: @escaping (Element, Element) -> Bool) {
        self.precedes = precedes
    }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(storage[child], storage[parent]) else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = storage.first else { return nil }
        let last = storage.removeLast()
        if !storage.isEmpty {
            storage[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < storage.count && precedes(storage[left], storage[best]) { best = left }
                if right < storage.count && precedes(storage[right], storage[best]) { best = right }
                if best == parent { break }
                storage.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
