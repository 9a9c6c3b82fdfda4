import Foundation

/// Opens any file or folder qkv reads, deciding the format by content, never by file name.
public enum FormatDetection {
    /// A QKV file (plain or wrapped), a GGUF file (or any shard of a split one), a llama2.c
    /// checkpoint (v1/v2 by their magic, v0 only when its size is exactly what its config
    /// implies), a `.safetensors` file, a `model.safetensors.index.json`, or a Hugging Face model
    /// folder. `tokenizer` is a tokenizer kept in a file of its own: only llama2.c checkpoints
    /// take one, any other format with one is an error (its tokenizer would silently go unused).
    public static func open(path: String, tokenizer: TokenizerFile? = nil) throws -> any TensorContainer {
        let container = try detect(path: path, tokenizer: tokenizer)
        if tokenizer != nil, !(container is Llama2cFile) {
            throw LocatedError(path: path, error: .tokenizerNotApplicable(format: container.format.description))
        }
        return container
    }

    private static func detect(path: String, tokenizer: TokenizerFile?) throws -> any TensorContainer {
        if isDirectory(path) {
            let single = joinPath(path, "model.safetensors"), index = joinPath(path, "model.safetensors.index.json")
            guard pathExists(single) || pathExists(index) else {
                throw LocatedError(path: path, error: .noCheckpointInFolder(found: checkpointFiles(in: path)))
            }
            return try SafetensorsFolder(path: path)
        }
        let (first, size) = try located(path) { () throws(QKVError) in
            let file = try InputFile(path: path)
            return (try file.read(at: 0, count: Llama2cHeader.legacyHeaderSize), file.size)
        }
        if first.starts(with: GGUFHeader.magic) { return try GGUFFile(path: path) }
        if first.starts(with: QKVHeader.magic) {
            return try located(path) { () throws(QKVError) in try QKVFile(path: path) }
        }
        // Before the zlib guess: a v0 config's first int (dim) can look like a zlib header, and
        // the exact-size rule makes a v0 match certain where two bytes of zlib header are not.
        if first.starts(with: Llama2cHeader.magic) || Llama2cHeader.legacy(first, fileSize: size) != nil {
            return try Llama2cFile(path: path, tokenizer: tokenizer?.path)
        }
        if detectDeflateContainer(first) != nil {
            return try located(path) { () throws(QKVError) in try QKVFile(path: path) }
        }
        if looksLikeJSONObject(first), try isModelConfiguration(path) {
            throw LocatedError(path: path, error: .configurationNotWeights)
        }
        if looksLikeSafetensors(first) || looksLikeJSONObject(first) { return try SafetensorsFolder(path: path) }
        throw LocatedError(path: path, error: .unrecognizedFormat(found: Array(first.prefix(8))))
    }

    /// Files in a folder whose content qkv would read (QKV, GGUF, llama2.c, safetensors), sorted.
    static func checkpointFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted().filter { name in
            let path = joinPath(folder, name)
            guard !isDirectory(path), let file = try? InputFile(path: path), let first = try? file.read(at: 0, count: 16) else {
                return false
            }
            return first.starts(with: GGUFHeader.magic) || first.starts(with: QKVHeader.magic)
                || first.starts(with: Llama2cHeader.magic) || looksLikeSafetensors(first)
        }
    }

    /// A JSON object with `model_type` or `architectures` and no `weight_map`: a config.json.
    static func isModelConfiguration(_ path: String) throws -> Bool {
        let file = try located(path) { () throws(QKVError) in try InputFile(path: path) }
        guard file.size <= 16 << 20, let bytes = try? file.read(at: 0, count: Int(file.size)),
              let json = try? StrictJSON.parse(bytes, what: "json", duplicateKeys: .keep)
        else { return false }
        return json["weight_map"] == nil && (json["model_type"] != nil || json["architectures"] != nil)
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
