/// The contents of a llama2.c `tokenizer.bin` (written by llama2.c's tokenizer.py `export`, read
/// by run.c's `build_tokenizer`): the SentencePiece vocabulary with its scores.
///
/// Layout, little-endian: u32 `max_token_length`, then per token an f32 score, an i32 byte length
/// and that many bytes (the piece, with SentencePiece's `▁` written as a space; tokenizer.py writes
/// BOS and EOS as `"\n<s>\n"` and `"\n</s>\n"`). The file does not say how many tokens it holds:
/// run.c reads the model's `vocab_size` of them, so the model is needed to read it. Here the file
/// must hold exactly that many and nothing more; every length is checked against the bytes that
/// remain and against `max_token_length` (run.c's merge buffer is sized from it) before anything
/// is copied.
public struct Llama2cVocabulary: Sendable, Equatable {
    /// Where it was read from, for messages.
    public var file: String
    public var maxTokenLength: Int
    /// One per token; run.c compares them as they are (a NaN never wins a merge).
    public var scores: [Float]
    /// The bytes of each token as stored.
    public var pieces: [[UInt8]]

    public init(file: String, maxTokenLength: Int, scores: [Float], pieces: [[UInt8]]) {
        self.file = file
        self.maxTokenLength = maxTokenLength
        self.scores = scores
        self.pieces = pieces
    }

    /// Reads `path`, which must hold exactly `vocabSize` tokens (the model's `vocab_size`).
    public init(contentsOf path: String, vocabSize: Int) throws(LocatedError) {
        self = try located(path) { () throws(QKVError) in
            let file = try InputFile(path: path)
            return try Self.parse(try file.mapped(), vocabSize: vocabSize, file: path)
        }
    }

    /// Parses the bytes of a tokenizer.bin holding exactly `vocabSize` tokens.
    public static func parse(_ bytes: UnsafeRawBufferPointer, vocabSize: Int, file: String) throws(QKVError) -> Llama2cVocabulary {
        var reader = ByteReader(bytes)
        let maxLength = try reader.readLE(UInt32.self, field: "max_token_length")
        var scores: [Float] = []
        var pieces: [[UInt8]] = []
        // Every token takes at least 8 bytes, so the arrays grow only as the file backs them.
        for index in 0..<vocabSize {
            if reader.remaining == 0 {
                throw .tokenizerVocabularyMismatch(tokens: index, vocabSize: vocabSize)
            }
            let (score, piece) = try readToken(&reader, index: index, maxLength: maxLength)
            scores.append(score)
            pieces.append(Array(piece))
        }
        if reader.remaining > 0 {
            // Say how many tokens the file holds when the rest is whole tokens (a tokenizer made for
            // another model), else how many bytes are left over.
            let trailing = reader.remaining
            var extra = 0
            while reader.remaining > 0, (try? readToken(&reader, index: vocabSize + extra, maxLength: maxLength)) != nil { extra += 1 }
            if reader.remaining == 0 { throw .tokenizerVocabularyMismatch(tokens: vocabSize + extra, vocabSize: vocabSize) }
            throw .tokenizerTrailingBytes(count: trailing, vocabSize: vocabSize)
        }
        return Llama2cVocabulary(file: file, maxTokenLength: Int(maxLength), scores: scores, pieces: pieces)
    }

    private static func readToken(
        _ reader: inout ByteReader, index: Int, maxLength: UInt32
    ) throws(QKVError) -> (Float, UnsafeRawBufferPointer) {
        let score = try reader.readFloat32LE(field: "token \(index) score")
        let lengthOffset = reader.fileOffset
        let length = try reader.readLE(Int32.self, field: "token \(index) length")
        guard length >= 0, UInt32(length) <= maxLength else {
            throw .invalidField(
                field: "token \(index) length", offset: lengthOffset, expected: "0...\(maxLength) (max_token_length)", found: String(length))
        }
        return (score, try reader.readBytes(Int(length), field: "token \(index) bytes"))
    }
}
