#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens any checkpoint qkv reads, deciding the format by content, never by file name.
public enum CheckpointLoader {
    /// A QKV file (plain or wrapped), a `.safetensors` file, a `model.safetensors.index.json`, or a
    /// Hugging Face model folder. Files are recognised by their first bytes, never by their name.
    public static func open(path: String) throws -> any Checkpoint {
        if isDirectory(path) { return try SafetensorsCheckpoint(path: path) }
        do {
            let file = try InputFile(path: path)
            let first = try file.read(at: 0, count: 16)
            if first.starts(with: QKVHeader.magic) || detectDeflateContainer(first) != nil {
                return try QKVCheckpoint(path: path)
            }
            if looksLikeSafetensors(first) || looksLikeJSONObject(first) {
                return try SafetensorsCheckpoint(path: path)
            }
            throw QKVError.unrecognizedFormat(found: Array(first.prefix(8)))
        } catch let error as QKVError {
            throw LocatedError(path: path, error: error)
        }
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

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
