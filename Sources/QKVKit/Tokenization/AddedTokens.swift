/// A token matched in the text before any model sees it (`[MASK]`, `<|endoftext|>`, …).
struct AddedToken: Equatable, Sendable {
    var id: Int
    var content: String
    var singleWord = false
    var leftStrip = false
    var rightStrip = false
    /// Matched in normalized text (after the normalizer) rather than in the raw input.
    var normalized = false
}

/// One piece of split text: either plain text for the next stage or an added token's id.
enum TextSegment: Equatable {
    case text([Unicode.Scalar])
    case token(Int)
}

/// Finds added tokens the way `tokenizers` does: leftmost-longest, non-overlapping matches, with
/// the single-word and whitespace-stripping rules applied to each match.
struct AddedTokenSplitter: Sendable {
    private struct Pattern: Sendable {
        var scalars: [Unicode.Scalar]
        var token: AddedToken
    }

    /// Candidate patterns by first scalar, longest first.
    private let patternsByFirst: [Unicode.Scalar: [Pattern]]

    var isEmpty: Bool { patternsByFirst.isEmpty }

    /// `patterns` pairs each token with the text it must match; empty patterns never match.
    init(_ patterns: [(match: [Unicode.Scalar], token: AddedToken)]) {
        var byFirst: [Unicode.Scalar: [Pattern]] = [:]
        for (match, token) in patterns {
            guard let first = match.first else { continue }
            byFirst[first, default: []].append(Pattern(scalars: match, token: token))
        }
        for key in byFirst.keys {
            byFirst[key]!.sort { $0.scalars.count > $1.scalars.count }
        }
        patternsByFirst = byFirst
    }

    private func longestMatch(in text: [Unicode.Scalar], at start: Int) -> Pattern? {
        guard let candidates = patternsByFirst[text[start]] else { return nil }
        for pattern in candidates where pattern.scalars.count <= text.count - start {
            if text[start..<(start + pattern.scalars.count)].elementsEqual(pattern.scalars) {
                return pattern
            }
        }
        return nil
    }

    /// Splits `text` into text and token segments; empty text segments are dropped.
    func split(_ text: [Unicode.Scalar]) -> [TextSegment] {
        if isEmpty { return text.isEmpty ? [] : [.text(text)] }
        var segments: [TextSegment] = []
        var emitted = 0  // end of the last emitted segment
        var searchFrom = 0
        while searchFrom < text.count {
            guard let pattern = longestMatch(in: text, at: searchFrom) else {
                searchFrom += 1
                continue
            }
            var start = searchFrom
            var stop = searchFrom + pattern.scalars.count
            // The next search starts after the match even if the match is then discarded.
            searchFrom = stop
            let token = pattern.token
            if token.singleWord {
                let wordBefore = start > 0 && TokenizerCharacterClass.isWordCharacter(text[start - 1])
                let wordAfter = stop < text.count && TokenizerCharacterClass.isWordCharacter(text[stop])
                if wordBefore || wordAfter { continue }
            }
            if token.leftStrip {
                var newStart = start
                while newStart > 0 && TokenizerCharacterClass.isWhitespace(text[newStart - 1]) { newStart -= 1 }
                start = Swift.max(newStart, emitted)
            }
            if token.rightStrip {
                while stop < text.count && TokenizerCharacterClass.isWhitespace(text[stop]) { stop += 1 }
            }
            if emitted < start {
                segments.append(.text(Array(text[emitted..<start])))
            }
            segments.append(.token(token.id))
            emitted = stop
        }
        if emitted < text.count {
            segments.append(.text(Array(text[emitted...])))
        }
        return segments
    }
}
