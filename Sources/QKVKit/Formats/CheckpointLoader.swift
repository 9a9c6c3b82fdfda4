#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens any checkpoint qkv reads, deciding the format by content, never by file name.
public enum CheckpointLoader {
    /// Formats that can open a single file, tried in order on its first bytes.
    public static func open(path: String) throws -> any Checkpoint {
        if isDirectory(path) {
            throw LocatedError(path: path, error: .cannotOpen(reason: "is a directory (model folders need the safetensors reader)"))
        }
        do {
            let file = try InputFile(path: path)
            let first = try file.read(at: 0, count: 16)
            if first.starts(with: QKVHeader.magic) || detectDeflateContainer(first) != nil {
                return try QKVCheckpoint(path: path)
            }
            throw QKVError.unrecognizedFormat(found: Array(first.prefix(8)))
        } catch let error as QKVError {
            throw LocatedError(path: path, error: error)
        }
    }
}

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
