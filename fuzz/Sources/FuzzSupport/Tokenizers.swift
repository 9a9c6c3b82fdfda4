import QKVKit

extension Pipeline {
    /// A tokenizer on each text: the ids, and the text of each id, of the ids just outside the
    /// vocabulary too.
    public static func exercise(_ tokenizer: any TextTokenizer, texts: [String]) {
        for text in texts {
            for special in [true, false] {
                do {
                    for id in try tokenizer.encode(text, addSpecialTokens: special).prefix(256) { _ = tokenizer.tokenText(id) }
                } catch {
                    describe(error)
                }
            }
        }
        _ = tokenizer.tokenText(-1)
        _ = tokenizer.tokenText(0)
        _ = tokenizer.tokenText(tokenizer.vocabularySize)
    }

    /// The text to tokenize from the bytes of an input part: at most 1 KiB, invalid UTF-8 repaired
    /// (the command line takes text as a Swift string).
    public static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(1024), as: UTF8.self)
    }
}
