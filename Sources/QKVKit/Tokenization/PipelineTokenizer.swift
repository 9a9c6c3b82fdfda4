/// The model at the end of the pipeline.
enum TokenizerModel: Sendable {
    case wordPiece(WordPieceModel)
    case bpe(BPEModel)
}

/// The `tokenizers` encoding pipeline for one sequence:
/// added tokens in raw text → normalizer → added tokens in normalized text → pre-tokenizer →
/// model → post-processor ids around the result.
struct PipelineTokenizer: TextTokenizer {
    let rawAddedTokens: AddedTokenSplitter
    let normalizedAddedTokens: AddedTokenSplitter
    let normalizer: TextNormalizer
    let preTokenizer: PreTokenizer
    let model: TokenizerModel
    /// Ids the post-processor puts before and after the sequence (`[CLS]`, `[SEP]`).
    let prefixIDs: [Int]
    let suffixIDs: [Int]
    let tokenTexts: [Int: String]
    let vocabularySize: Int

    func encode(_ text: String, addSpecialTokens: Bool) throws -> [Int] {
        var ids = addSpecialTokens ? prefixIDs : []
        var cache: [TokenBytes: [Int]] = [:]
        var words: [[Unicode.Scalar]] = []
        for segment in rawAddedTokens.split(Array(text.unicodeScalars)) {
            guard case let .text(raw) = segment else {
                if case let .token(id) = segment { ids.append(id) }
                continue
            }
            let normalized = normalizer.normalize(raw)
            for piece in normalizedAddedTokens.split(normalized) {
                switch piece {
                case let .token(id):
                    ids.append(id)
                case let .text(scalars):
                    words.removeAll(keepingCapacity: true)
                    preTokenizer.split(scalars, into: &words)
                    for word in words where !word.isEmpty {
                        switch model {
                        case let .wordPiece(wordPiece):
                            wordPiece.tokenize(word, into: &ids)
                        case let .bpe(bpe):
                            try bpe.tokenize(word, cache: &cache, into: &ids)
                        }
                    }
                }
            }
        }
        if addSpecialTokens { ids += suffixIDs }
        return ids
    }

    func tokenText(_ id: Int) -> String {
        tokenTexts[id] ?? "<id \(id)>"
    }
}
