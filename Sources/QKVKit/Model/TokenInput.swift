/// Turns what the user typed into token ids, checking every one against the model.
public enum TokenInput {
    /// `list`: ids or vocabulary strings separated by commas and/or whitespace. A piece made of
    /// digits is an id; anything else is looked up in the vocabulary.
    public static func parse(_ list: String, vocabulary: [String]?, vocabSize: Int, maxLength: Int?) throws(QKVError) -> [Int] {
        let pieces = list.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        var ids: [Int] = []
        for piece in pieces {
            if isInteger(piece) {
                guard let id = Int(piece), (0..<vocabSize).contains(id) else {
                    throw .tokenOutOfRange(token: piece, vocabSize: vocabSize)
                }
                ids.append(id)
            } else if let vocabulary {
                guard let id = vocabulary.firstIndex(of: piece) else { throw .unknownTokenText(piece) }
                ids.append(id)
            } else {
                throw .invalidToken(piece)
            }
        }
        try check(ids, maxLength: maxLength)
        return ids
    }

    /// `--text` for models whose only tokenizer is the `tokenizer.tokens` list: whitespace-split words.
    public static func words(_ text: String, vocabulary: [String]?, maxLength: Int?, lookedFor: String) throws(QKVError) -> [Int] {
        guard let vocabulary else {
            throw .noTokenizer(lookedFor: lookedFor)
        }
        var ids: [Int] = []
        for word in text.split(whereSeparator: \.isWhitespace) {
            guard let id = vocabulary.firstIndex(of: String(word)) else { throw .unknownTokenText(String(word)) }
            ids.append(id)
        }
        try check(ids, maxLength: maxLength)
        return ids
    }

    public static func check(_ ids: [Int], maxLength: Int?) throws(QKVError) {
        guard !ids.isEmpty else { throw .emptyTokenList }
        if let maxLength, ids.count > maxLength { throw .tooManyTokens(count: ids.count, maximum: maxLength) }
    }
}

/// ASCII digits with an optional minus sign (so "-1" is reported as out of range, not unknown).
private func isInteger(_ piece: String) -> Bool {
    let digits = piece.first == "-" ? piece.dropFirst() : Substring(piece)
    return !digits.isEmpty && digits.allSatisfy { ("0"..."9").contains($0) }
}
