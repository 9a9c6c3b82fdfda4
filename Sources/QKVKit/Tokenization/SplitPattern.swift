/// The `Split` pre-tokenizer regexes of the tokenizers qkv reads, each as a hand-written scanner
/// with the regex's leftmost-first alternation and backtracking results (no regex engine, so the
/// Unicode classes are exactly those of `RegexCharacterKind`).
enum SplitPattern: Equatable, Sendable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Llama 3 and Qwen2, which differ only in how many digits one piece takes (3 and 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3(maximumDigits: Int)

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    init?(regex: String) {
        switch regex {
        case Self.gpt2Regex: self = .gpt2
        case Self.llama3Regex: self = .llama3(maximumDigits: 3)
        case Self.qwen2Regex: self = .llama3(maximumDigits: 1)
        default: return nil
        }
    }

    /// Calls `emit` with each match, in order; the matches tile `text` (every alternative ends
    /// in one that matches any single character).
    func split(_ text: [Unicode.Scalar], emit: (Range<Int>) -> Void) {
        switch self {
        case .gpt2:
            GPT2Splitter.split(text, emit: emit)
        case let .llama3(maximumDigits):
            let kinds = text.map(RegexCharacterKind.init)
            var start = 0
            while start < text.count {
                let end = Self.llama3MatchEnd(text, kinds, from: start, maximumDigits: maximumDigits)
                emit(start..<end)
                start = end
            }
        }
    }

    private static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool { scalar == "\r" || scalar == "\n" }

    /// Case-insensitive as Oniguruma folds: ſ (U+017F) folds to s.
    private static func folded(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar == "\u{17F}" { return "s" }
        return scalar.isASCII ? Unicode.Scalar(UInt8(scalar.value) | (scalar.value >= 65 && scalar.value <= 90 ? 0x20 : 0)) : scalar
    }

    /// End of the match that starts at `start` (always past `start`).
    private static func llama3MatchEnd(
        _ text: [Unicode.Scalar], _ kinds: [RegexCharacterKind], from start: Int, maximumDigits: Int
    ) -> Int {
        let count = text.count
        func run(of kind: RegexCharacterKind, from index: Int) -> Int {
            var end = index
            while end < count && kinds[end] == kind { end += 1 }
            return end
        }
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if text[start] == "'" && start + 1 < count {
            let next = folded(text[start + 1])
            switch next {
            case "s", "t", "m", "d":
                return start + 2
            case "r", "v":
                if start + 2 < count && folded(text[start + 2]) == "e" { return start + 3 }
            case "l":
                if start + 2 < count && folded(text[start + 2]) == "l" { return start + 3 }
            default:
                break
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if kinds[start] == .letter { return run(of: .letter, from: start) }
        if kinds[start] != .number && !isLineBreak(text[start]) && start + 1 < count && kinds[start + 1] == .letter {
            return run(of: .letter, from: start + 1)
        }
        // \p{N}{1,n}
        if kinds[start] == .number { return min(run(of: .number, from: start), start + maximumDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var symbols = start
        if text[start] == " " && start + 1 < count && kinds[start + 1] == .other { symbols = start + 1 }
        if kinds[symbols] == .other {
            var end = run(of: .other, from: symbols)
            while end < count && isLineBreak(text[end]) { end += 1 }
            return end
        }
        // From here text[start] is whitespace.
        let spaceEnd = run(of: .space, from: start)
        // \s*[\r\n]+ : up to the last line break of the whitespace run.
        if let lastBreak = (start..<spaceEnd).last(where: { isLineBreak(text[$0]) }) { return lastBreak + 1 }
        // \s+(?!\S) : the run, or all but its last character when a word follows.
        if spaceEnd == count { return spaceEnd }
        if spaceEnd - start >= 2 { return spaceEnd - 1 }
        // \s+
        return spaceEnd
    }
}
