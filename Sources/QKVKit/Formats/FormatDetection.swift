/// Opens any file or folder qkv reads, deciding the format by content, never by file name.
public enum FormatDetection {
    /// A QKV file (plain or wrapped), a GGUF file (or any shard of a split one), a `.safetensors`
    /// file, a `model.safetensors.index.json`, or a Hugging Face model folder.
    public static func open(path: String) throws -> any TensorContainer {
        if isDirectory(path) { return try SafetensorsFolder(path: path) }
        let first = try located(path) { () throws(QKVError) in try InputFile(path: path).read(at: 0, count: 16) }
        if first.starts(with: GGUFHeader.magic) { return try GGUFFile(path: path) }
        if first.starts(with: QKVHeader.magic) || detectDeflateContainer(first) != nil {
            return try located(path) { () throws(QKVError) in try QKVFile(path: path) }
        }
        if looksLikeSafetensors(first) || looksLikeJSONObject(first) { return try SafetensorsFolder(path: path) }
        throw LocatedError(path: path, error: .unrecognizedFormat(found: Array(first.prefix(8))))
    }

    /// safetensors: a little-endian u64 header length, then a JSON object (possibly after spaces).
    static func looksLikeSafetensors(_ first: [UInt8]) -> Bool {
        guard first.count > 8 else { return false }
        let length = first.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return length > 0 && first[8...].first(where: { $0 != 0x20 }) == UInt8(ascii: "{")
    }

    /// A sharded checkpoint's index file.
    static func looksLikeJSONObject(_ first: [UInt8]) -> Bool {
        first.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{")
    }
}
