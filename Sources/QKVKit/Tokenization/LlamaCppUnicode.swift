import Foundation

/// Code point classes exactly as llama.cpp's `unicode.cpp` sees them.
///
/// llama.cpp does not ask the platform: `unicode-data.cpp` is generated from one UnicodeData.txt
/// (Unicode 15.1 in the llama.cpp that llama-cpp-python 0.3.36 vendors), so characters assigned
/// later (Unicode 16, 17) are "undefined" to it. Swift's tables are newer (17.0 in Swift 6.3), so
/// every answer here caps the character's age at 15.1. With that cap, Swift's general categories,
/// simple lowercase mappings and the first code point of each canonical decomposition equal
/// llama.cpp's tables for all 1,114,112 code points (checked against `unicode-data.cpp` by
/// `scripts/make_gguf_tokenizer_goldens.py`, which records them in
/// `fixtures/gguf/llamacpp_unicode.json` for the tests).
enum LlamaCppUnicode {
    /// The one category bit llama.cpp keeps per code point (`unicode_cpt_flags`).
    enum Category: UInt8, Sendable {
        /// Unassigned in Unicode 15.1 (Cn), or newer.
        case undefined
        case number, letter, separator, mark, punctuation, symbol
        /// Cc, Cf, Co and Cs.
        case control
    }

    static let tableVersion = (major: 15, minor: 1)

    /// Whether llama.cpp's tables know `scalar` (assigned in Unicode 15.1 or earlier).
    static func isKnown(_ properties: Unicode.Scalar.Properties) -> Bool {
        guard let age = properties.age else { return false }
        return age.major < tableVersion.major || (age.major == tableVersion.major && age.minor <= tableVersion.minor)
    }

    private static let asciiCategories: [Category] = (0..<128).map { computeCategory(UInt32($0)) }

    static func category(_ value: UInt32) -> Category {
        value < 128 ? asciiCategories[Int(value)] : computeCategory(value)
    }

    private static func computeCategory(_ value: UInt32) -> Category {
        // Surrogates cannot reach here from a Swift string; llama.cpp files them under Cs = control.
        guard let scalar = Unicode.Scalar(value) else { return value < 0x110000 ? .control : .undefined }
        let properties = scalar.properties
        switch properties.generalCategory {
        // Private use and surrogates are ranges of the oldest versions; no age check needed.
        case .privateUse, .surrogate: return .control
        case .unassigned: return .undefined
        default: break
        }
        guard isKnown(properties) else { return .undefined }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return .separator
        case .control, .format, .privateUse, .surrogate: return .control
        case .unassigned: return .undefined
        @unknown default: return .undefined
        }
    }

    /// llama.cpp's fixed whitespace list (PropList's White_Space): it matches `\s` of the
    /// pre-tokenizer regexes and splits words in WordPiece.
    static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `unicode_tolower`: UnicodeData's simple lowercase mapping (one code point), for characters
    /// of Unicode 15.1 or earlier. Swift exposes the full mapping; the two differ only for U+0130
    /// (İ → "i̇" in full, "i" in simple).
    static func lowercase(_ value: UInt32) -> UInt32 {
        if value < 128 {
            return (0x41...0x5A).contains(value) ? value + 32 : value
        }
        if value == 0x130 { return 0x69 }
        guard let scalar = Unicode.Scalar(value), isKnown(scalar.properties) else { return value }
        let mapped = scalar.properties.lowercaseMapping.unicodeScalars
        guard mapped.count == 1, let only = mapped.first else { return value }
        return only.value
    }

    /// `unicode_cpts_normalize_nfd`: llama.cpp keeps only the first code point of each canonical
    /// decomposition, so "é" becomes "e" with its accent dropped, not "e" + U+0301.
    static func decompositionBase(_ value: UInt32) -> UInt32 {
        guard value >= 0xC0, let scalar = Unicode.Scalar(value) else { return value }
        let decomposed = String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars
        return decomposed.first?.value ?? value
    }

    /// The code points of valid UTF-8 `bytes` (Swift strings are always valid).
    static func codePoints<C: Collection>(_ bytes: C) -> [UInt32] where C.Element == UInt8 {
        var result: [UInt32] = []
        result.reserveCapacity(bytes.count)
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): result.append(scalar.value)
            case .emptyInput: return result
            // Unreachable for Swift strings; llama.cpp substitutes U+FFFD too.
            case .error: result.append(0xFFFD)
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends the UTF-8 encoding of one code point (valid scalar values only).
    mutating func appendCodePoint(_ value: UInt32) {
        if let scalar = Unicode.Scalar(value) {
            UTF8.encode(scalar) { self.append($0) }
        } else {
            append(contentsOf: [0xEF, 0xBF, 0xBD])
        }
    }
}
