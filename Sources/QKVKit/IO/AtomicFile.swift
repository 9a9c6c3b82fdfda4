#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be written: `path: cannot write: reason`.
public struct FileWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    public let reason: String

    public var description: String { "\(path): cannot write: \(reason)" }
}

/// Whole-file writes that never leave a half-written destination.
public enum AtomicFile {
    /// Writes `bytes` to a new temporary file in the destination's folder, flushes it to disk and
    /// renames it over `path`. On any failure the temporary file is removed and `path` is untouched.
    /// A destination that exists and is not a regular file (a terminal, a pipe, /dev/null) is
    /// written in place instead: renaming over it would replace the device. A folder is an error.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        var status = stat()
        if stat(path, &status) == 0 {
            let type = status.st_mode & S_IFMT
            if type == S_IFDIR { throw FileWriteError(path: path, reason: "is a folder") }
            if type != S_IFREG {
                let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
                guard descriptor >= 0 else { throw FileWriteError(path: path, reason: systemError()) }
                let failure = writeAll(bytes, to: descriptor)
                close(descriptor)
                if let failure { throw FileWriteError(path: path, reason: failure) }
                return
            }
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw FileWriteError(path: path, reason: "not a file name") }
        let temporary = (folder == "/" ? "" : folder) + "/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: systemError()) }
        var failure = writeAll(bytes, to: descriptor)
        if failure == nil && fsync(descriptor) != 0 { failure = systemError() }
        if close(descriptor) != 0 && failure == nil { failure = systemError() }
        if failure == nil && rename(temporary, path) != 0 { failure = systemError() }
        if let failure {
            unlink(temporary)
            throw FileWriteError(path: path, reason: failure)
        }
    }

    /// Writes every byte, retrying after signals; the error text on failure.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> String? {
        bytes.withUnsafeBytes { raw -> String? in
            var offset = 0
            while offset < raw.count {
                let written = Glibc_write(descriptor, raw.baseAddress! + offset, min(raw.count - offset, 1 << 30))
                if written < 0 {
                    if errno == EINTR { continue }
                    return systemError()
                }
                offset += written
            }
            return nil
        }
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}

/// `write(2)`, named apart from `AtomicFile.write`.
@inline(__always)
private func Glibc_write(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
    #elseif canImport(Musl)
    Musl.write(descriptor, buffer, count)
    #else
    Darwin.write(descriptor, buffer, count)
    #endif
}
