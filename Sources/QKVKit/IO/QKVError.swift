/// Every way reading, validating or running a checkpoint can fail.
///
/// Each case carries what the reader expected and what it found, so the message names the field,
/// tensor or byte offset without a debugger. The file path is attached by `LocatedError`.
public enum QKVError: Error, Equatable, Sendable {
    // MARK: Bytes and structure
    /// A read of `needed` bytes at `offset` ran past the `available` bytes.
    case truncated(field: String, offset: Int, needed: Int, available: Int)
    case badMagic(found: [UInt8])
    case unsupportedVersion(found: UInt32)
    case reservedNotZero(field: String, found: UInt64)
    case headerChecksumMismatch(expected: UInt32, found: UInt32)
    case headerLengthMismatch(declared: UInt64, consumed: UInt64)
    /// A count read from the file cannot fit in the bytes that remain.
    case countTooLarge(field: String, count: UInt64, remainingBytes: Int)
    case emptyName(field: String)
    case duplicateName(field: String, name: String)
    case invalidUTF8(field: String, offset: Int)
    case nulInString(field: String, offset: Int)
    case unknownMetadataType(key: String, found: UInt8)
    case unknownDType(tensor: String, found: String)
    case unknownEncoding(tensor: String, found: UInt8)
    case invalidRank(tensor: String, found: Int)
    case zeroDimension(tensor: String, axis: Int)
    case sizeOverflow(tensor: String)
    case storedSizeMismatch(tensor: String, expected: UInt64, found: UInt64)
    case compressionRatioTooHigh(what: String, decodedBytes: UInt64, storedBytes: UInt64)
    case misplacedTensor(tensor: String, expectedOffset: UInt64, foundOffset: UInt64)
    case nonZeroPadding(offset: UInt64)
    case fileSizeMismatch(expected: UInt64, found: UInt64)

    // MARK: Compression and checksums
    case inflateFailed(what: String, reason: String)
    case inflateTruncated(what: String)
    case inflatedSizeMismatch(what: String, expected: UInt64, found: UInt64)
    case trailingBytesAfterStream(what: String, count: UInt64)
    case tensorChecksumMismatch(tensor: String, expected: UInt32, found: UInt32)
    case nonFiniteWeight(tensor: String, index: Int, value: Float)

    // MARK: Metadata and configuration
    case missingMetadata(key: String)
    case wrongMetadataType(key: String, expected: String, found: String)
    case invalidMetadataValue(key: String, expected: String, found: String)
    /// `run` needs an architecture qkv implements; `name` is what the file says (nil: nothing).
    case unsupportedArchitecture(name: String?, supported: [String])
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    case unsupportedTensorDType(tensor: String, dtype: String)
    /// A `config.json` key that is missing, of the wrong type, or a value qkv does not support.
    case invalidConfig(key: String, expected: String, found: String)

    // MARK: Tokens
    case emptyTokenList
    case invalidToken(String)
    case tokenOutOfRange(token: String, vocabSize: Int)
    case unknownTokenText(String)
    case tooManyTokens(count: Int, maximum: Int)
    /// Text was given, but the checkpoint has no tokenizer; `lookedFor` says where qkv looked.
    case noTokenizer(lookedFor: String)
    /// A tokenizer file was given with a checkpoint of a format that does not read one.
    case tokenizerNotApplicable(format: String)
    /// A llama2.c tokenizer.bin holds `tokens` whole tokens, the model's vocab_size says otherwise.
    case tokenizerVocabularyMismatch(tokens: Int, vocabSize: Int)
    /// A llama2.c tokenizer.bin has `count` bytes after its `vocabSize` tokens that are not whole tokens.
    case tokenizerTrailingBytes(count: Int, vocabSize: Int)

    // MARK: Running
    case nonFiniteAttention(layer: Int, head: Int)
    case selectionOutOfRange(what: String, value: Int, count: Int)
    case invalidSelection(what: String, value: String)

    // MARK: JSON (safetensors headers, shard indexes)
    /// The text at `offset` breaks the JSON grammar or a parser limit.
    case invalidJSON(what: String, offset: Int, reason: String)
    /// A key repeated in one object; `path` is the JSON pointer of that object ("" for the top level).
    case duplicateJSONKey(what: String, path: String, key: String, offset: Int)
    case wrongJSONType(what: String, expected: String, found: String)
    case fileTooLarge(what: String, size: UInt64, maximum: UInt64)

    // MARK: Safetensors
    case headerTooLarge(declared: UInt64, maximum: UInt64)
    case tooManyEntries(what: String, count: Int, maximum: Int)
    /// `__metadata__` is not an object of strings; `key` names the offending value, nil for the object itself.
    case invalidHeaderMetadata(key: String?, expected: String, found: String)
    case missingTensorField(tensor: String, field: String)
    case invalidTensorField(tensor: String, field: String, expected: String, found: String)
    case unsupportedSafetensorsDType(tensor: String, dtype: String)
    case tensorSizeMismatch(tensor: String, dtype: String, shape: [Int], expected: UInt64, found: UInt64)
    /// Sorted by offset, tensors must tile the data buffer from 0: `foundBegin` should equal the previous end.
    case tensorNotContiguous(tensor: String, expectedBegin: UInt64, foundBegin: UInt64)
    /// The tensors cover `covered` bytes of a data buffer that has `available` bytes.
    case dataSizeMismatch(covered: UInt64, available: UInt64)
    case unsafeShardName(String)
    case shardMissingTensor(tensor: String, shard: String)
    case tensorNotInWeightMap(tensor: String, shard: String, listedIn: String?)
    case tensorInTwoShards(tensor: String, first: String, second: String)

    // MARK: Files
    case cannotOpen(reason: String)
    /// A model qkv reads but whose forward pass needs something qkv does not implement yet.
    case unsupportedFeature(what: String)

    // MARK: GGUF
    case badGGUFMagic(found: [UInt8])
    /// A field at a byte offset holds a value outside what the format allows.
    case invalidField(field: String, offset: Int, expected: String, found: String)
    /// A tensor of a ggml type qkv cannot dequantize (IQ2, IQ3, TQ, MXFP4, …).
    case unsupportedQuantization(tensor: String, type: String, supported: String)
    /// Two tensors claim the same bytes of the data section.
    case tensorsOverlap(first: String, second: String, offset: UInt64)
    case unrecognizedFormat(found: [UInt8])
    /// A folder without Hugging Face weights; `found` lists the checkpoint files it does hold.
    case noCheckpointInFolder(found: [String])
    /// A config.json given where a checkpoint was expected.
    case configurationNotWeights
    /// `convert` met something QKV v1 cannot store (docs/FORMAT.md): a NUL in a string, an empty
    /// name, a rank outside 1...4, a dimension of 0.
    case cannotStoreInQKV(what: String, reason: String)
    case other(String)
}

extension QKVError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .truncated(field, offset, needed, available):
            return "\(field): truncated at byte \(offset): needs \(needed) bytes, only \(available) remain"
        case let .badMagic(found):
            return "magic: expected \"QKVC\" (51 4B 56 43), found \(hex(found))"
        case let .unsupportedVersion(found):
            return "version: expected 1, found \(found)"
        case let .reservedNotZero(field, found):
            return "\(field): reserved, expected 0, found \(found)"
        case let .headerChecksumMismatch(expected, found):
            return "header_crc32: expected \(hex32(expected)), computed \(hex32(found)) over the header block"
        case let .headerLengthMismatch(declared, consumed):
            return "header_bytes: declared \(declared), but the entries occupy \(consumed)"
        case let .countTooLarge(field, count, remaining):
            return "\(field): \(count) does not fit in the \(remaining) bytes that remain"
        case let .emptyName(field):
            return "\(field): expected a non-empty name, found an empty one"
        case let .duplicateName(field, name):
            return "\(field): duplicate name \"\(name)\""
        case let .invalidUTF8(field, offset):
            return "\(field): expected UTF-8, found invalid bytes at byte \(offset)"
        case let .nulInString(field, offset):
            return "\(field): NUL byte inside the string at byte \(offset)"
        case let .unknownMetadataType(key, found):
            return "metadata \"\(key)\": unknown value type \(found) (expected 1...5)"
        case let .unknownDType(tensor, found):
            return "tensor \"\(tensor)\": unknown dtype \(found)"
        case let .unknownEncoding(tensor, found):
            return "tensor \"\(tensor)\": unknown encoding \(found) (expected 0 raw, 1 zlib, 2 shuffle+zlib)"
        case let .invalidRank(tensor, found):
            return "tensor \"\(tensor)\": rank expected 1...4, found \(found)"
        case let .zeroDimension(tensor, axis):
            return "tensor \"\(tensor)\": dimension \(axis) expected >= 1, found 0"
        case let .sizeOverflow(tensor):
            return "tensor \"\(tensor)\": element count or byte size overflows 64 bits"
        case let .storedSizeMismatch(tensor, expected, found):
            return "tensor \"\(tensor)\": stored_bytes expected \(expected), found \(found)"
        case let .compressionRatioTooHigh(what, decoded, stored):
            return "\(what): declares \(decoded) decoded bytes from \(stored) stored bytes, over the 1032x deflate limit"
        case let .misplacedTensor(tensor, expected, found):
            return "tensor \"\(tensor)\": offset expected \(expected), found \(found)"
        case let .nonZeroPadding(offset):
            return "padding: expected zero bytes, found a non-zero byte at offset \(offset)"
        case let .fileSizeMismatch(expected, found):
            return "file size: the directory implies \(expected) bytes, found \(found)"
        case let .inflateFailed(what, reason):
            return "\(what): corrupt compressed data (\(reason))"
        case let .inflateTruncated(what):
            return "\(what): compressed stream ends before its end marker"
        case let .inflatedSizeMismatch(what, expected, found):
            return "\(what): expected to inflate to \(expected) bytes, found \(found)"
        case let .trailingBytesAfterStream(what, count):
            return "\(what): \(count) bytes of junk after the end of the compressed stream"
        case let .tensorChecksumMismatch(tensor, expected, found):
            return "tensor \"\(tensor)\": crc32 expected \(hex32(expected)), computed \(hex32(found))"
        case let .nonFiniteWeight(tensor, index, value):
            return "tensor \"\(tensor)\": element \(index) is \(value), expected a finite number"
        case let .missingMetadata(key):
            return "metadata \"\(key)\": required, not found"
        case let .wrongMetadataType(key, expected, found):
            return "metadata \"\(key)\": expected \(expected), found \(found)"
        case let .invalidMetadataValue(key, expected, found):
            return "metadata \"\(key)\": expected \(expected), found \(found)"
        case let .unsupportedArchitecture(name, supported):
            let list = supported.joined(separator: ", ")
            guard let name else {
                return "architecture: the checkpoint does not name one (no config.json with a model_type beside the weights?); "
                    + "run supports \(list)"
            }
            return "architecture: \(jsonQuoted(name)) is not supported for running (supported: \(list)); inspect and verify still work"
        case let .missingTensor(name):
            return "tensor \"\(name)\": required by the architecture, not found"
        case let .shapeMismatch(tensor, expected, found):
            return "tensor \"\(tensor)\": shape expected \(expected), found \(found)"
        case let .invalidConfig(key, expected, found):
            return "\(key): expected \(expected), found \(found)"
        case let .unsupportedTensorDType(tensor, dtype):
            return "tensor \"\(tensor)\": dtype \(dtype) is not supported for weights (expected a float or quantized type)"
        case .emptyTokenList:
            return "tokens: expected at least one token, found none"
        case let .invalidToken(token):
            return "tokens: \"\(token)\" is not a token id (expected a non-negative integer or a vocabulary entry)"
        case let .tokenOutOfRange(token, vocabSize):
            return "tokens: id \(token) is out of range (expected 0..<\(vocabSize))"
        case let .unknownTokenText(text):
            return "tokens: \"\(text)\" is not in the vocabulary (tokenizer.tokens)"
        case let .tooManyTokens(count, maximum):
            return "tokens: \(count) tokens, the model takes at most \(maximum) (truncating keeps the first \(maximum))"
        case let .noTokenizer(lookedFor):
            return "tokens: text needs a tokenizer, and the checkpoint has none (looked for \(lookedFor)); give the token ids instead"
        case let .tokenizerNotApplicable(format):
            return "tokenizer: a separate tokenizer file is read only for llama2.c checkpoints; this is a \(format) checkpoint, "
                + "which brings its own tokenizer or none"
        case let .tokenizerVocabularyMismatch(tokens, vocabSize):
            return "tokenizer: holds \(tokens) tokens, but the model's vocab_size is \(vocabSize) (a tokenizer.bin for another model?)"
        case let .tokenizerTrailingBytes(count, vocabSize):
            return "tokenizer: \(count) bytes follow the model's \(vocabSize) tokens and do not make whole tokens"
        case let .nonFiniteAttention(layer, head):
            return "layer \(layer) head \(head): attention scores are not finite (NaN or infinity)"
        case let .selectionOutOfRange(what, value, count):
            return "\(what) \(value) is out of range (expected 0..<\(count))"
        case let .invalidSelection(what, value):
            return "\(what) selection: expected a list of indices, found \(value)"
        case let .invalidJSON(what, offset, reason):
            return "\(what): invalid JSON at byte \(offset): \(reason)"
        case let .duplicateJSONKey(what, path, key, offset):
            let object = path.isEmpty ? "the top-level object" : "the object at \(path)"
            return "\(what): duplicate key \(jsonQuoted(key)) in \(object) at byte \(offset)"
        case let .wrongJSONType(what, expected, found):
            return "\(what): expected \(expected), found \(found)"
        case let .fileTooLarge(what, size, maximum):
            return "\(what): \(size) bytes, more than the \(maximum) allowed"
        case let .headerTooLarge(declared, maximum):
            return "header length: \(declared) bytes declared, more than the \(maximum) allowed"
        case let .tooManyEntries(what, count, maximum):
            return "\(what): \(count) entries, more than the \(maximum) allowed"
        case let .invalidHeaderMetadata(key, expected, found):
            let field = key.map { "__metadata__ \(jsonQuoted($0))" } ?? "__metadata__"
            return "\(field): expected \(expected), found \(found)"
        case let .missingTensorField(tensor, field):
            return "tensor \(jsonQuoted(tensor)): required field \"\(field)\" is missing"
        case let .invalidTensorField(tensor, field, expected, found):
            let subject = field.isEmpty ? "" : " \"\(field)\""
            return "tensor \(jsonQuoted(tensor)):\(subject) expected \(expected), found \(found)"
        case let .unsupportedSafetensorsDType(tensor, dtype):
            return "tensor \(jsonQuoted(tensor)): unsupported dtype \(jsonQuoted(dtype)) "
                + "(expected F32, F16, BF16, F64, I64, I32, I16, I8, U64, U32, U16, U8 or BOOL)"
        case let .tensorSizeMismatch(tensor, dtype, shape, expected, found):
            return "tensor \(jsonQuoted(tensor)): \(dtype) \(shape) needs \(expected) bytes, data_offsets span \(found)"
        case let .tensorNotContiguous(tensor, expected, found):
            if found > expected {
                return "tensor \(jsonQuoted(tensor)): data_offsets begin \(found) leaves a gap of \(found - expected) bytes "
                    + "after byte \(expected) of the data buffer (tensors must be contiguous from 0)"
            }
            return "tensor \(jsonQuoted(tensor)): data_offsets begin \(found) overlaps the bytes before \(expected), "
                + "already taken by the previous tensor"
        case let .dataSizeMismatch(covered, available):
            if covered < available {
                return "data buffer: the tensors cover \(covered) bytes, but \(available) follow the header "
                    + "(\(available - covered) trailing byte\(available - covered == 1 ? "" : "s"))"
            }
            return "data buffer: the tensors need \(covered) bytes, but only \(available) follow the header (truncated)"
        case let .unsafeShardName(name):
            return "weight_map: shard file \(jsonQuoted(name)) must be a plain file name in the index's folder "
                + "(not empty, \".\" or \"..\", no '/', '\\' or NUL)"
        case let .shardMissingTensor(tensor, shard):
            return "tensor \(jsonQuoted(tensor)): weight_map puts it in \(shard), which does not contain it"
        case let .tensorNotInWeightMap(tensor, shard, listedIn):
            let listed = listedIn.map { "weight_map puts it in \($0)" } ?? "weight_map does not list it"
            return "tensor \(jsonQuoted(tensor)): stored in \(shard), but \(listed)"
        case let .tensorInTwoShards(tensor, first, second):
            return "tensor \(jsonQuoted(tensor)): stored in both \(first) and \(second)"
        case let .badGGUFMagic(found):
            return "magic: expected \"GGUF\" (47 47 55 46), found \(hex(found))"
        case let .invalidField(field, offset, expected, found):
            return "\(field) (byte \(offset)): expected \(expected), found \(found)"
        case let .unsupportedQuantization(tensor, type, supported):
            return "tensor \(jsonQuoted(tensor)): type \(type) cannot be dequantized yet (supported: \(supported))"
        case let .tensorsOverlap(first, second, offset):
            return "tensor \(jsonQuoted(second)): data at offset \(offset) overlaps tensor \(jsonQuoted(first))"
        case let .unsupportedFeature(what):
            return "this model needs \(what), which qkv does not implement yet; inspect and verify still work"
        case let .cannotOpen(reason):
            return "cannot open: \(reason)"
        case let .unrecognizedFormat(found):
            if found.isEmpty { return "format: the file is empty" }
            return "format: not a QKV, GGUF, llama2.c, zlib, gzip or safetensors file (first bytes \(hex(found)))"
        case let .noCheckpointInFolder(found):
            let seen = found.isEmpty ? "it holds no file qkv reads"
                : "it holds \(found.prefix(3).joined(separator: ", "))\(found.count > 3 ? " …" : ""): pass one of them"
            return "no checkpoint: looked for model.safetensors and model.safetensors.index.json (a Hugging Face folder); \(seen)"
        case .configurationNotWeights:
            return "this is a model's config.json, not its weights: pass the folder that holds it"
        case let .cannotStoreInQKV(what, reason):
            return "\(what): QKV v1 cannot store \(reason)"
        case let .other(message):
            return message
        }
    }
}

/// An error together with the file it came from; this is what the command line prints.
public struct LocatedError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let error: QKVError

    public init(path: String, error: QKVError) {
        self.path = path
        self.error = error
    }

    public var description: String { "\(path): \(error)" }
}

/// Runs `body`, attaching `path` to its error.
func located<Result>(_ path: String, _ body: () throws(QKVError) -> Result) throws(LocatedError) -> Result {
    do {
        return try body()
    } catch {
        throw LocatedError(path: path, error: error)
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.isEmpty ? "no bytes" : bytes.map(format2).joined(separator: " ")
}

private func format2(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
}
