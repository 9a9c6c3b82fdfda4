import Foundation

/// Character classes as the Hugging Face `tokenizers` normalizers and pre-tokenizers define them.
///
/// `tokenizers` takes general categories from crates with old Unicode tables: controls,
/// punctuation and nonspacing marks from `unicode_categories` (Unicode 8.0), combining marks and
/// decompositions from `unicode-normalization-alignments` (9.0), letters and numbers from
/// Oniguruma (16.0). A character assigned later is unassigned (Cn) to them, so each test here
/// also asks whether the character existed in that version, and a few characters whose category
/// changed since are listed explicitly. `fixtures/tokenizers/unicode_classes.json` records what
/// `tokenizers` does for every code point and the tests compare all of them.
enum TokenizerCharacterClass {
    typealias Version = (major: Int, minor: Int)
    static let categoriesVersion: Version = (8, 0)
    static let normalizationVersion: Version = (9, 0)
    static let regexVersion: Version = (16, 0)

    /// Whether `scalar` was assigned in Unicode `version` or earlier.
    static func existed(_ scalar: Unicode.Scalar, in version: Version) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < version.major || (age.major == version.major && age.minor <= version.minor)
    }

    /// BERT whitespace: tab, newline, carriage return, or the Unicode `White_Space` property.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// BERT "control": general category Cc, Cf, Co or Cs, except tab, newline and carriage return
    /// (those count as whitespace). Unassigned code points (Cn) are kept, as `tokenizers` keeps them.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return existed(scalar, in: categoriesVersion)
        default: return false
        }
    }

    /// The CJK ideograph blocks that BERT surrounds with spaces (Hangul, kana are not among them).
    static func isCJKIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// BERT punctuation: every ASCII symbol (33–47, 58–64, 91–96, 123–126, so `$`, `+`, `^` too)
    /// plus the Unicode punctuation categories P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 33...47, 58...64, 91...96, 123...126: return true
        case 0..<128: return false
        // Punctuation in Unicode 8.0, since recategorized (Mn, So).
        case 0x111C9, 0x166D: return true
        default: break
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return existed(scalar, in: categoriesVersion)
        default:
            return false
        }
    }

    /// Nonspacing mark (Mn) as `BertNormalizer` strips it.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1734, 0x1171E: return true  // Mn in Unicode 8.0, Mc now
        case 0x1885, 0x1886, 0xA9BD, 0x111C9: return false  // not Mn in Unicode 8.0
        default: break
        }
        return scalar.properties.generalCategory == .nonspacingMark && existed(scalar, in: categoriesVersion)
    }

    /// Any mark (Mn, Mc, Me) as the `StripAccents` normalizer strips it.
    static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1CF2, 0x1CF3: return true  // Mc in Unicode 9.0, Lo now
        case 0x111C9: return false  // Po in Unicode 9.0
        default: break
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return existed(scalar, in: normalizationVersion)
        default: return false
        }
    }

    /// Whether canonical decomposition may touch `scalar` (it existed for the NFD tables).
    static func isDecomposable(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII || existed(scalar, in: normalizationVersion)
    }

    /// `\w` of the Rust `regex` crate: Alphabetic, marks, decimal digits, connector punctuation,
    /// join controls. Used only by the single-word rule of added tokens.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }
}

/// One step of a `tokenizers` normalizer, applied to a whole text piece.
enum NormalizerStep: Equatable, Sendable {
    /// BERT clean-up: drop NUL, U+FFFD and controls, then turn every whitespace into a space.
    case cleanText
    /// BERT: put a space on each side of every CJK ideograph so each becomes its own word.
    case isolateCJKIdeographs
    /// Canonical decomposition (NFD).
    case decompose
    /// Canonical composition (NFC).
    case compose
    /// Drop nonspacing marks (Mn), as `BertNormalizer` does. Strips accents only after `decompose`.
    case stripNonspacingMarks
    /// Drop every mark (Mn, Mc, Me), as the `StripAccents` normalizer does.
    case stripMarks
    /// Full per-scalar lowercase mapping, without context (final sigma stays σ, as in `tokenizers`).
    case lowercase
}

/// A `tokenizers` normalizer as a list of steps.
struct TextNormalizer: Equatable, Sendable {
    var steps: [NormalizerStep]

    /// The steps of `BertNormalizer`; `stripAccents` nil follows `lowercase`, as in BERT.
    static func bert(cleanText: Bool, handleChineseCharacters: Bool, stripAccents: Bool?, lowercase: Bool)
        -> TextNormalizer
    {
        var steps: [NormalizerStep] = []
        if cleanText { steps.append(.cleanText) }
        if handleChineseCharacters { steps.append(.isolateCJKIdeographs) }
        if stripAccents ?? lowercase { steps += [.decompose, .stripNonspacingMarks] }
        if lowercase { steps.append(.lowercase) }
        return TextNormalizer(steps: steps)
    }

    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var text = input
        for step in steps {
            text = Self.apply(step, to: text)
        }
        return text
    }

    private static func apply(_ step: NormalizerStep, to text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        switch step {
        case .cleanText:
            for scalar in text {
                if scalar.value == 0 || scalar.value == 0xFFFD || TokenizerCharacterClass.isControl(scalar) {
                    continue
                }
                out.append(TokenizerCharacterClass.isWhitespace(scalar) ? " " : scalar)
            }
        case .isolateCJKIdeographs:
            for scalar in text {
                if TokenizerCharacterClass.isCJKIdeograph(scalar) {
                    out += [" ", scalar, " "]
                } else {
                    out.append(scalar)
                }
            }
        case .decompose, .compose:
            // ASCII has no decompositions; skip the Foundation round trip for it.
            if text.allSatisfy({ $0.isASCII }) { return text }
            // Characters newer than the tables of `tokenizers` pass through unchanged.
            var start = 0
            while start < text.count {
                var end = start
                while end < text.count && TokenizerCharacterClass.isDecomposable(text[end]) { end += 1 }
                if end > start {
                    var run = String.UnicodeScalarView()
                    run.append(contentsOf: text[start..<end])
                    let normalized = step == .compose
                        ? String(run).precomposedStringWithCanonicalMapping : String(run).decomposedStringWithCanonicalMapping
                    out.append(contentsOf: normalized.unicodeScalars)
                }
                if end < text.count { out.append(text[end]) }
                start = end + 1
            }
        case .stripNonspacingMarks:
            out = text.filter { !TokenizerCharacterClass.isNonspacingMark($0) }
        case .stripMarks:
            out = text.filter { !TokenizerCharacterClass.isMark($0) }
        case .lowercase:
            for scalar in text {
                if scalar.isASCII {
                    let value = scalar.value
                    out.append((65...90).contains(value) ? Unicode.Scalar(UInt8(value + 32)) : scalar)
                } else {
                    out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
        }
        return out
    }
}
