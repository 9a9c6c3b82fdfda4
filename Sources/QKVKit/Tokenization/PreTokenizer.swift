/// How a normalized text piece is cut into words before the model sees them.
enum PreTokenizer: Equatable, Sendable {
    /// The whole piece is one word.
    case none
    /// `BertPreTokenizer`: split on whitespace (dropped), then isolate every punctuation character.
    case bert
    /// `ByteLevel`: optional leading space, the GPT-2 split, then each UTF-8 byte becomes one
    /// printable character of the byte-to-unicode table.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// `Split` with `Isolated` behaviour: each match of a known pattern is a word, and so is each
    /// stretch between matches (the GPT-2 family of patterns matches every character, so there is none).
    case split(SplitPattern)
    /// Each pre-tokenizer splits the words of the one before.
    indirect case sequence([PreTokenizer])

    /// Appends the words of `piece` (non-empty) to `words`.
    func split(_ piece: [Unicode.Scalar], into words: inout [[Unicode.Scalar]]) {
        switch self {
        case .none:
            words.append(piece)
        case .bert:
            Self.splitBert(piece, into: &words)
        case let .byteLevel(addPrefixSpace, useRegex):
            var text = piece
            if addPrefixSpace && text.first != " " {
                text.insert(" ", at: 0)
            }
            if useRegex {
                GPT2Splitter.split(text) { range in
                    words.append(ByteLevelAlphabet.map(text[range]))
                }
            } else {
                words.append(ByteLevelAlphabet.map(text[...]))
            }
        case let .split(pattern):
            pattern.split(piece) { words.append(Array(piece[$0])) }
        case let .sequence(steps):
            var current = [piece]
            for step in steps {
                var next: [[Unicode.Scalar]] = []
                for word in current where !word.isEmpty { step.split(word, into: &next) }
                current = next
            }
            words += current
        }
    }

    private static func splitBert(_ piece: [Unicode.Scalar], into words: inout [[Unicode.Scalar]]) {
        var word: [Unicode.Scalar] = []
        for scalar in piece {
            if TokenizerCharacterClass.isWhitespace(scalar) {
                if !word.isEmpty { words.append(word); word.removeAll(keepingCapacity: true) }
            } else if TokenizerCharacterClass.isPunctuation(scalar) {
                if !word.isEmpty { words.append(word); word.removeAll(keepingCapacity: true) }
                words.append([scalar])
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { words.append(word) }
    }
}

/// GPT-2's byte-to-unicode table: printable Latin-1 bytes map to themselves, the other 68 bytes
/// to U+0100… in byte order, so every byte has a visible, non-whitespace character.
enum ByteLevelAlphabet {
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                // 256 + at most 68 stays far below the surrogate range, so the scalar exists.
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte-level characters of the UTF-8 encoding of `text`.
    static func map(_ text: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            UTF8.encode(scalar) { out.append(characters[Int($0)]) }
        }
        return out
    }
}

/// What the pre-tokenizer regexes (Oniguruma, as `tokenizers` builds it) see in a character.
enum RegexCharacterKind: Equatable {
    case letter, number, space, other

    init(_ scalar: Unicode.Scalar) { self = Self.kind(scalar) }

    private static func kind(_ scalar: Unicode.Scalar) -> RegexCharacterKind {
        if scalar.isASCII {
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        // Oniguruma's tables stop at Unicode 16.0; later letters and digits are "other" to it.
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return TokenizerCharacterClass.existed(scalar, in: TokenizerCharacterClass.regexVersion) ? .letter : .other
        case .decimalNumber, .letterNumber, .otherNumber:
            return TokenizerCharacterClass.existed(scalar, in: TokenizerCharacterClass.regexVersion) ? .number : .other
        default:
            return .other
        }
    }
}

/// The GPT-2 pre-tokenizer pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// as a hand-written scanner with the same leftmost-first alternation and backtracking results.
enum GPT2Splitter {
    private typealias Kind = RegexCharacterKind

    /// Calls `emit` with each match, in order; the matches tile `text`.
    static func split(_ text: [Unicode.Scalar], emit: (Range<Int>) -> Void) {
        let kinds = text.map(Kind.init)
        let count = text.count
        var start = 0
        while start < count {
            let end = matchEnd(text, kinds, from: start)
            emit(start..<end)
            start = end
        }
    }

    /// End of the match that starts at `start` (always past `start`).
    private static func matchEnd(_ text: [Unicode.Scalar], _ kinds: [Kind], from start: Int) -> Int {
        let count = text.count
        func run(of kind: Kind, from index: Int) -> Int {
            var end = index
            while end < count && kinds[end] == kind { end += 1 }
            return end
        }
        // Contractions come first in the alternation and are case-sensitive.
        if text[start] == "'" && start + 1 < count {
            switch text[start + 1] {
            case "s", "t", "m", "d":
                return start + 2
            case "r", "v":
                if start + 2 < count && text[start + 2] == "e" { return start + 3 }
            case "l":
                if start + 2 < count && text[start + 2] == "l" { return start + 3 }
            default:
                break
            }
        }
        // ` ?X+` for letters, numbers and other symbols: a single U+0020 joins the run after it.
        if text[start] == " " && start + 1 < count && kinds[start + 1] != .space {
            return run(of: kinds[start + 1], from: start + 1)
        }
        if kinds[start] != .space {
            return run(of: kinds[start], from: start)
        }
        // `\s+(?!\S)`: a whitespace run keeps its last character for the next word, unless the
        // run ends the text; a lone whitespace before a word falls through to `\s+`.
        let end = run(of: .space, from: start)
        if end == count { return end }
        if end - start >= 2 { return end - 1 }
        return end
    }
}
