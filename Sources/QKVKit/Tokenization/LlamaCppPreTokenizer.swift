/// The word splitting llama.cpp applies before byte-level BPE, chosen by `tokenizer.ggml.pre`.
///
/// llama.cpp runs a list of regexes one after the other: each one splits every piece the previous
/// ones produced, and both its matches and the text between them become pieces. Three patterns
/// have hand-written scanners in llama.cpp (`unicode_regex_split_custom_gpt2`, `…_llama3`,
/// `…_qwen2`), which differ from the regexes in details (only U+0020 counts as the optional
/// leading space, a run of digits is cut into groups counted from the left, …); they are
/// reproduced here as scanners. The other patterns go through `std::regex` on a "collapsed" text
/// in which every non-ASCII code point is replaced by one byte naming its category; those are
/// reproduced by `CollapsedPattern`, which matches the same symbols with the same greedy,
/// leftmost-first rules.
struct LlamaCppPreTokenizer: Sendable, Equatable {
    /// The pre-tokenizer families qkv implements, each named after a `tokenizer.ggml.pre` value.
    enum Family: String, Sendable, CaseIterable {
        case defaultBPE = "default"
        case gpt2 = "gpt-2"
        case llama3 = "llama-bpe"
        case qwen2 = "qwen2"
        case starcoder = "starcoder"
        case falcon = "falcon"
        case deepseekLLM = "deepseek-llm"
        case deepseekCoder = "deepseek-coder"
    }

    /// `tokenizer.ggml.pre` values whose llama.cpp behaviour for encoding is exactly one of the
    /// families (same regex list, no other switch that changes token ids).
    static let familiesByName: [String: Family] = [
        "default": .defaultBPE,
        "gpt-2": .gpt2, "phi-2": .gpt2, "roberta-bpe": .gpt2, "mpt": .gpt2, "olmo": .gpt2, "jais": .gpt2,
        "llama-bpe": .llama3, "llama3": .llama3, "llama-v3": .llama3, "falcon3": .llama3, "dbrx": .llama3,
        "smaug-bpe": .llama3, "chatglm-bpe": .llama3,
        "qwen2": .qwen2, "stablelm2": .qwen2, "deepseek-r1-qwen": .qwen2, "megrez": .qwen2,
        "starcoder": .starcoder, "refact": .starcoder, "command-r": .starcoder, "smollm": .starcoder,
        "codeshell": .starcoder, "exaone": .starcoder, "minerva-7b": .starcoder,
        "falcon": .falcon,
        "deepseek-llm": .deepseekLLM,
        "deepseek-coder": .deepseekCoder,
    ]

    static var supportedNames: String { familiesByName.keys.sorted().joined(separator: ", ") }

    let family: Family

    /// One regex of llama.cpp's list for a family.
    enum Step: Sendable, Equatable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
        case gpt2
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        /// with N = 3 (llama3) or 1 (qwen2).
        case llama3(digitGroup: Int)
        case pattern(CollapsedPattern)
    }

    var steps: [Step] {
        switch family {
        case .gpt2: return [.gpt2]
        case .llama3: return [.llama3(digitGroup: 3)]
        case .qwen2: return [.llama3(digitGroup: 1)]
        case .starcoder: return [.pattern(.singleDigit), .gpt2]
        case .defaultBPE: return [.pattern(.defaultPunctuation), .gpt2, .pattern(.digitRuns), .pattern(.threeASCIIDigits)]
        case .falcon: return [.pattern(.falconPunctuation), .gpt2, .pattern(.threeASCIIDigits)]
        case .deepseekLLM:
            return [.pattern(.lineBreak), .pattern(.deepseekLetters), .pattern(.deepseekPunctuation),
                    .pattern(.trailingWhitespace), .pattern(.deepseekCJK), .pattern(.digitRuns)]
        case .deepseekCoder:
            return [.pattern(.lineBreak), .pattern(.spaceAndLetters), .pattern(.spaceAndPunctuation),
                    .pattern(.deepseekCJK), .pattern(.singleDigit)]
        }
    }

    /// Splits `text` (code points) into the pieces llama.cpp hands to BPE, as lengths in code points.
    func split(_ text: [UInt32]) -> [Int] {
        guard !text.isEmpty else { return [] }
        let classes = text.map(CodePointClass.init)
        var pieces = [text.count]
        var collapsed: [UInt32]?
        var raw: [UInt32]?
        for step in steps {
            switch step {
            case .gpt2:
                pieces = Self.scanGPT2(text, classes, pieces)
            case let .llama3(digitGroup):
                pieces = Self.scanLlama3(text, classes, pieces, digitGroup: digitGroup)
            case let .pattern(pattern):
                let symbols: [UInt32]
                switch pattern.alphabet {
                case .collapsed:
                    if collapsed == nil { collapsed = zip(text, classes).map(CollapsedPattern.collapsedSymbol) }
                    symbols = collapsed!
                case .codePoints:
                    if raw == nil { raw = zip(text, classes).map(CollapsedPattern.codePointSymbol) }
                    symbols = raw!
                }
                pieces = pattern.split(symbols, pieces)
            }
        }
        return pieces
    }

    // MARK: Hand-written scanners

    /// What the scanners need of one code point; `isInRange` is false past the end of a piece
    /// (llama.cpp's empty flags there make every test fail).
    struct CodePointClass: Sendable {
        var category: LlamaCppUnicode.Category
        var isWhitespace: Bool
        var isInRange = true

        init(_ value: UInt32) {
            category = LlamaCppUnicode.category(value)
            isWhitespace = LlamaCppUnicode.isWhitespace(value)
        }

        private init(outOfRange: Void) {
            category = .undefined
            isWhitespace = false
            isInRange = false
        }

        static let outOfRange = CodePointClass(outOfRange: ())

        var isLetter: Bool { isInRange && category == .letter }
        var isNumber: Bool { isInRange && category == .number }
        /// `[^\s\p{L}\p{N}]` as the scanners test it: any code point of the piece that is not
        /// whitespace, letter or number (unassigned ones included).
        var isOther: Bool { isInRange && !isWhitespace && category != .letter && category != .number }
    }

    private static let outOfRange: UInt32 = 0xFFFF_FFFF

    /// Runs `scan` over each piece with accessors that see nothing outside it, as llama.cpp does.
    private static func scanPieces(
        _ text: [UInt32], _ classes: [CodePointClass], _ pieces: [Int],
        _ scan: (_ start: Int, _ end: Int, _ codePoint: (Int) -> UInt32, _ flags: (Int) -> CodePointClass,
                 _ emit: (Int) -> Void) -> Void
    ) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(pieces.count * 2)
        var start = 0
        for length in pieces {
            let end = start + length
            var previousEnd = start
            scan(start, end,
                 { ($0 >= start && $0 < end) ? text[$0] : outOfRange },
                 { ($0 >= start && $0 < end) ? classes[$0] : .outOfRange },
                 { position in
                     if position > previousEnd { result.append(position - previousEnd) }
                     previousEnd = position
                 })
            start = end
        }
        return result
    }

    private static func isContractionTail(_ next: UInt32) -> Bool {
        next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64  // s t m d
    }

    private static func isLongContractionTail(_ first: UInt32, _ second: UInt32) -> Bool {
        (first == 0x72 && second == 0x65) || (first == 0x76 && second == 0x65) || (first == 0x6C && second == 0x6C)  // re ve ll
    }

    /// llama.cpp's GPT-2 scanner. The contractions are case-sensitive; the optional space is
    /// U+0020 only; a whitespace run before a non-space keeps its last character for the next
    /// word unless the run ends the piece.
    static func scanGPT2(_ text: [UInt32], _ classes: [CodePointClass], _ pieces: [Int]) -> [Int] {
        scanPieces(text, classes, pieces) { start, end, codePoint, flags, emit in
            var position = start
            while position < end {
                let current = codePoint(position)
                if current == 0x27 && position + 1 < end {  // '
                    let next = codePoint(position + 1)
                    if isContractionTail(next) {
                        position += 2; emit(position); continue
                    }
                    if position + 2 < end && isLongContractionTail(next, codePoint(position + 2)) {
                        position += 3; emit(position); continue
                    }
                }
                let isSpace = current == 0x20
                let lead = isSpace ? flags(position + 1) : flags(position)
                if lead.isLetter {
                    if isSpace { position += 1 }
                    while flags(position).isLetter { position += 1 }
                    emit(position); continue
                }
                if lead.isNumber {
                    if isSpace { position += 1 }
                    while flags(position).isNumber { position += 1 }
                    emit(position); continue
                }
                if lead.isOther {
                    if isSpace { position += 1 }
                    while flags(position).isOther { position += 1 }
                    emit(position); continue
                }
                var whitespace = 0
                while flags(position + whitespace).isWhitespace && flags(position + whitespace).isInRange { whitespace += 1 }
                if whitespace > 1 && codePoint(position + whitespace) != outOfRange {
                    position += whitespace - 1; emit(position); continue
                }
                if whitespace > 0 {
                    position += whitespace; emit(position); continue
                }
                position += 1
                emit(position)
            }
        }
    }

    /// llama.cpp's Llama 3 scanner (`digitGroup` 3) and Qwen2 scanner (`digitGroup` 1).
    /// Contractions ignore case; one character that is not a letter, number, CR or LF may lead a
    /// letter run; digits come in groups of `digitGroup` counted from the left; a punctuation run
    /// takes the CRs and LFs after it; a whitespace run containing CR or LF ends at its last one.
    static func scanLlama3(_ text: [UInt32], _ classes: [CodePointClass], _ pieces: [Int], digitGroup: Int) -> [Int] {
        scanPieces(text, classes, pieces) { start, end, codePoint, flags, emit in
            func isLineBreak(_ value: UInt32) -> Bool { value == 0x0D || value == 0x0A }
            var position = start
            while position < end {
                let current = codePoint(position)
                let currentFlags = flags(position)
                if current == 0x27 && position + 1 < end {
                    let next = LlamaCppUnicode.lowercase(codePoint(position + 1))
                    if isContractionTail(next) {
                        position += 2; emit(position); continue
                    }
                    if position + 2 < end && isLongContractionTail(next, LlamaCppUnicode.lowercase(codePoint(position + 2))) {
                        position += 3; emit(position); continue
                    }
                }
                if !(isLineBreak(current) || currentFlags.isNumber) {
                    if currentFlags.isLetter || flags(position + 1).isLetter {
                        position += 1
                        while flags(position).isLetter { position += 1 }
                        emit(position); continue
                    }
                }
                if currentFlags.isNumber {
                    var groupStart = position
                    while flags(position).isNumber {
                        position += 1
                        if position - groupStart >= digitGroup {
                            emit(position)
                            groupStart = position
                        }
                    }
                    emit(position); continue
                }
                let isSpace = current == 0x20
                let lead = isSpace ? flags(position + 1) : currentFlags
                // llama.cpp tests the class of the space itself here, not of what follows it: a
                // trailing space at the end of a piece takes this branch and ends up alone.
                if !(lead.isInRange && (lead.isWhitespace || lead.isLetter || lead.isNumber)) && currentFlags.isInRange {
                    if isSpace { position += 1 }
                    while flags(position).isOther { position += 1 }
                    while isLineBreak(codePoint(position)) { position += 1 }
                    emit(position); continue
                }
                var whitespace = 0
                var lastLineBreakEnd = 0
                while flags(position + whitespace).isWhitespace && flags(position + whitespace).isInRange {
                    if isLineBreak(codePoint(position + whitespace)) { lastLineBreakEnd = position + whitespace + 1 }
                    whitespace += 1
                }
                if lastLineBreakEnd > 0 {
                    position = lastLineBreakEnd; emit(position); continue
                }
                if whitespace > 1 && codePoint(position + whitespace) != outOfRange {
                    position += whitespace - 1; emit(position); continue
                }
                if whitespace > 0 {
                    position += whitespace; emit(position); continue
                }
                position += 1
                emit(position)
            }
        }
    }
}

/// One of llama.cpp's pre-tokenizer regexes that has no hand-written scanner, as the sequence of
/// single-symbol atoms it is made of (all of them are: a class with a repeat count, optionally
/// anchored at the end of the piece).
///
/// llama.cpp matches them with `std::regex` (ECMAScript: leftmost match, greedy counts with
/// backtracking) on one symbol per code point. A pattern that uses `\p{…}` sees the collapsed
/// alphabet: ASCII stays itself, non-ASCII whitespace becomes U+000B, a non-ASCII number, letter,
/// punctuation, mark or symbol becomes 0xD1…0xD5, anything else 0xD0; `\p{N}` then means
/// `[\xD1 0-9]` and so on. A pattern without `\p{…}` sees the code points, with non-ASCII
/// whitespace again replaced by U+000B (`std::wregex`'s `\s` knows only ASCII).
struct CollapsedPattern: Sendable, Equatable {
    enum Alphabet: Sendable { case collapsed, codePoints }

    /// A set of symbols: sorted, non-overlapping ranges, possibly negated.
    struct SymbolSet: Sendable, Equatable {
        var ranges: [ClosedRange<UInt32>]
        var negated = false

        /// Overlapping and adjacent ranges are merged, so a binary search finds the one candidate.
        init(_ ranges: [ClosedRange<UInt32>], negated: Bool = false) {
            var merged: [ClosedRange<UInt32>] = []
            for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                    merged[merged.count - 1] = last.lowerBound...Swift.max(last.upperBound, range.upperBound)
                } else {
                    merged.append(range)
                }
            }
            self.ranges = merged
            self.negated = negated
        }

        func contains(_ symbol: UInt32) -> Bool {
            var low = 0
            var high = ranges.count
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].upperBound < symbol { low = middle + 1 } else { high = middle }
            }
            let found = low < ranges.count && ranges[low].contains(symbol)
            return found != negated
        }

        static func + (left: SymbolSet, right: SymbolSet) -> SymbolSet {
            SymbolSet(left.ranges + right.ranges)
        }

        static func single(_ values: UInt32...) -> SymbolSet { SymbolSet(values.map { $0...$0 }) }

        /// `\s` of std::regex in the C locale.
        static let whitespace = SymbolSet([0x09...0x0D, 0x20...0x20])
        /// The collapsed `\p{N}`, `\p{L}`, `\p{P}`, `\p{S}` (llama.cpp's `k_ucat_map`).
        static let number = SymbolSet([0xD1...0xD1, 0x30...0x39])
        static let letter = SymbolSet([0xD2...0xD2, 0x41...0x5A, 0x61...0x7A])
        static let punctuation = SymbolSet([0xD3...0xD3, 0x21...0x23, 0x25...0x2A, 0x2C...0x2F, 0x3A...0x3B,
                                            0x3F...0x40, 0x5B...0x5D, 0x5F...0x5F, 0x7B...0x7B, 0x7D...0x7D])
    }

    struct Atom: Sendable, Equatable {
        var set: SymbolSet
        var minimum: Int
        /// nil: unbounded.
        var maximum: Int?
    }

    var alphabet: Alphabet
    var atoms: [Atom]
    /// The pattern ends with `$`: a match must reach the end of the piece.
    var anchoredAtEnd = false

    static func one(_ set: SymbolSet) -> Atom { Atom(set: set, minimum: 1, maximum: 1) }
    static func oneOrMore(_ set: SymbolSet) -> Atom { Atom(set: set, minimum: 1, maximum: nil) }
    static func optional(_ set: SymbolSet) -> Atom { Atom(set: set, minimum: 0, maximum: 1) }

    /// `\p{N}`
    static let singleDigit = CollapsedPattern(alphabet: .collapsed, atoms: [one(.number)])
    /// `\p{N}+`
    static let digitRuns = CollapsedPattern(alphabet: .collapsed, atoms: [oneOrMore(.number)])
    /// `[0-9][0-9][0-9]`
    static let threeASCIIDigits = CollapsedPattern(
        alphabet: .codePoints, atoms: Array(repeating: one(SymbolSet([0x30...0x39])), count: 3))
    /// `[\p{P}\$\+<=>\^~\|]+`
    static let defaultPunctuation = CollapsedPattern(
        alphabet: .collapsed, atoms: [oneOrMore(.punctuation + .single(0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C))])
    /// `[\p{P}\$\+<=>\^~\|`]+`
    static let falconPunctuation = CollapsedPattern(
        alphabet: .collapsed,
        atoms: [oneOrMore(.punctuation + .single(0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C, 0x60))])
    /// `[\r\n]`
    static let lineBreak = CollapsedPattern(alphabet: .codePoints, atoms: [one(.single(0x0D, 0x0A))])
    /// `\s?\p{L}+`
    static let spaceAndLetters = CollapsedPattern(alphabet: .collapsed, atoms: [optional(.whitespace), oneOrMore(.letter)])
    /// `\s?\p{P}+`
    static let spaceAndPunctuation = CollapsedPattern(
        alphabet: .collapsed, atoms: [optional(.whitespace), oneOrMore(.punctuation)])
    /// `\s+$`
    static let trailingWhitespace = CollapsedPattern(
        alphabet: .codePoints, atoms: [oneOrMore(.whitespace)], anchoredAtEnd: true)
    /// `[一-龥ࠀ-一가-퟿]+` (U+0800…U+4E00 is one of its ranges, so it covers far more than CJK).
    static let deepseekCJK = CollapsedPattern(
        alphabet: .codePoints, atoms: [oneOrMore(SymbolSet([0x4E00...0x9FA5, 0x0800...0x4E00, 0xAC00...0xD7FF]))])
    /// `\s?[!-/:-~！-／：-～‘-‟　-。]+` (U+3000 is whitespace, so it is U+000B here and the last
    /// range only matches 、 and 。).
    static let deepseekPunctuation = CollapsedPattern(
        alphabet: .codePoints,
        atoms: [optional(.whitespace),
                oneOrMore(SymbolSet([0x21...0x2F, 0x3A...0x7E, 0xFF01...0xFF0F, 0xFF1A...0xFF5E, 0x2018...0x201F,
                                     0x3000...0x3002]))])
    /// `\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓ…𞤀-𞥃]+`: deepseek-llm's hand-listed cased letters.
    static let deepseekLetters = CollapsedPattern(
        alphabet: .codePoints,
        atoms: [optional(.whitespace), oneOrMore(SymbolSet([
            0x0041...0x005A, 0x0061...0x007A, 0x00B5...0x00B5, 0x00C0...0x00D6, 0x00D8...0x00F6, 0x00F8...0x01BA,
            0x01BC...0x01BF, 0x01C4...0x0293, 0x0295...0x02AF, 0x0370...0x0373, 0x0376...0x0377, 0x037B...0x037D,
            0x037F...0x037F, 0x0386...0x0386, 0x0388...0x038A, 0x038C...0x038C, 0x038E...0x03A1, 0x03A3...0x03F5,
            0x03F7...0x0481, 0x048A...0x052F, 0x0531...0x0556, 0x10A0...0x10C5, 0x13A0...0x13F5, 0x13F8...0x13FD,
            0x1C90...0x1CBA, 0x1CBD...0x1CBF, 0x1D00...0x1D2B, 0x1D6B...0x1D77, 0x1D79...0x1D9A, 0x1E00...0x1F15,
            0x1F18...0x1F1D, 0x1F20...0x1F45, 0x1F48...0x1F4D, 0x1F50...0x1F57, 0x1F59...0x1F59, 0x1F5B...0x1F5B,
            0x1F5D...0x1F5D, 0x1F5F...0x1F7D, 0x1F80...0x1FB4, 0x1FB6...0x1FBC, 0x1FBE...0x1FBE, 0x1FC2...0x1FC4,
            0x1FC6...0x1FCC, 0x1FD0...0x1FD3, 0x1FD6...0x1FDB, 0x1FE0...0x1FEC, 0x1FF2...0x1FF4, 0x1FF6...0x1FFC,
            0x2102...0x2102, 0x2107...0x2107, 0x210A...0x2113, 0x2115...0x2115, 0x2119...0x211D, 0x2124...0x2124,
            0x2126...0x2126, 0x2128...0x2128, 0x212A...0x212D, 0x212F...0x2134, 0x2139...0x2139, 0x213C...0x213F,
            0x2145...0x2149, 0x214E...0x214E, 0x2183...0x2184, 0x2C00...0x2C7B, 0x2C7E...0x2CE4, 0x2CEB...0x2CEE,
            0x2CF2...0x2CF3, 0xA640...0xA66D, 0xA680...0xA69B, 0xA722...0xA76F, 0xA771...0xA787, 0xA78B...0xA78E,
            0xAB70...0xABBF, 0xFB00...0xFB06, 0xFB13...0xFB17, 0xFF21...0xFF3A, 0xFF41...0xFF5A, 0x10400...0x1044F,
            0x104B0...0x104D3, 0x104D8...0x104FB, 0x10C80...0x10CB2, 0x10CC0...0x10CF2, 0x118A0...0x118DF,
            0x1E900...0x1E943,
        ]))])

    /// The collapsed symbol of one code point (`unicode_regex_split`'s `text_collapsed`).
    static func collapsedSymbol(_ value: UInt32, _ flags: LlamaCppPreTokenizer.CodePointClass) -> UInt32 {
        if value < 128 { return value }
        if flags.isWhitespace { return 0x0B }
        switch flags.category {
        case .number: return 0xD1
        case .letter: return 0xD2
        case .punctuation: return 0xD3
        case .mark: return 0xD4
        case .symbol: return 0xD5
        default: return 0xD0
        }
    }

    /// The `std::wregex` symbol of one code point.
    static func codePointSymbol(_ value: UInt32, _ flags: LlamaCppPreTokenizer.CodePointClass) -> UInt32 {
        value > 0x7F && flags.isWhitespace ? 0x0B : value
    }

    /// Splits each piece: every match and every stretch between matches becomes a piece.
    func split(_ symbols: [UInt32], _ pieces: [Int]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(pieces.count * 2)
        // runs[a][i]: how many symbols of atom a's set start at piece position i (capped by the
        // piece end), so each match attempt costs O(atoms) however long the runs are.
        var runs = [[Int]](repeating: [], count: atoms.count)
        var start = 0
        for length in pieces {
            let end = start + length
            for (index, atom) in atoms.enumerated() {
                runs[index] = [Int](repeating: 0, count: length + 1)
                var position = end - 1
                while position >= start {
                    if atom.set.contains(symbols[position]) { runs[index][position - start] = runs[index][position - start + 1] + 1 }
                    position -= 1
                }
            }
            var searchFrom = start
            var pieceStart = start
            while searchFrom < end {
                guard let matchEnd = match(at: searchFrom, pieceStart: start, pieceEnd: end, runs: runs),
                      matchEnd > searchFrom
                else {
                    searchFrom += 1
                    continue
                }
                if searchFrom > pieceStart { result.append(searchFrom - pieceStart) }
                result.append(matchEnd - searchFrom)
                pieceStart = matchEnd
                searchFrom = matchEnd
            }
            if end > pieceStart { result.append(end - pieceStart) }
            start = end
        }
        return result
    }

    /// End of the match starting at `position`, trying the longest count of each atom first.
    private func match(at position: Int, pieceStart: Int, pieceEnd: Int, runs: [[Int]]) -> Int? {
        func attempt(_ atomIndex: Int, _ position: Int) -> Int? {
            if atomIndex == atoms.count {
                return !anchoredAtEnd || position == pieceEnd ? position : nil
            }
            let atom = atoms[atomIndex]
            var longest = runs[atomIndex][position - pieceStart]
            if let maximum = atom.maximum { longest = Swift.min(longest, maximum) }
            guard longest >= atom.minimum else { return nil }
            if atomIndex == atoms.count - 1 {
                // The last atom: the longest count wins unless `$` needs the exact end.
                if !anchoredAtEnd { return position + longest }
                let needed = pieceEnd - position
                return needed >= atom.minimum && needed <= longest ? pieceEnd : nil
            }
            var count = longest
            while count >= atom.minimum {
                if let end = attempt(atomIndex + 1, position + count) { return end }
                count -= 1
            }
            return nil
        }
        return attempt(0, position)
    }
}
