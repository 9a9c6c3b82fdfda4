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

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): cannot write: \(reason)" }
}

/// Whole-file writes that never leave a half-written destination.
public enum AtomicFile {
    /// Writes `bytes` to a new temporary file in the destination's folder, flushes it to disk and
    /// renames it over `path`. On any failure the temporary file is removed and `path` is untouched.
    /// A destination that exists and is not a regular file (a terminal, a pipe, /dev/null) is
    /// written in place instead: renaming over it would replace the device. A folder is an error.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        let writer = try AtomicFileWriter(path: path)
        let failure = bytes.withUnsafeBytes { raw -> FileWriteError? in
            do throws(FileWriteError) { try writer.write(raw) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        try writer.commit()
    }
}

/// `AtomicFile.write` in pieces, for results too large to hold whole (a JSON dump of every head):
/// bytes go to the temporary file as they come, and `commit()` renames it over the destination.
/// A writer dropped before `commit()` removes its temporary file and leaves the destination alone.
public final class AtomicFileWriter {
    public let path: String
    private var descriptor: Int32
    /// The temporary file renamed over `path` on commit; nil when writing a device in place.
    private let temporary: String?
    private var finished = false

    public init(path: String) throws(FileWriteError) {
        self.path = path
        var status = stat()
        if stat(path, &status) == 0 {
            let type = status.st_mode & S_IFMT
            if type == S_IFDIR { throw FileWriteError(path: path, reason: "is a folder") }
            if type != S_IFREG {
                descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
                guard descriptor >= 0 else { throw FileWriteError(path: path, reason: systemError()) }
                temporary = nil
                return
            }
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw FileWriteError(path: path, reason: "not a file name") }
        guard isDirectory(folder) else { throw FileWriteError(path: path, reason: "the folder \(folder) does not exist") }
        let temporary = (folder == "/" ? "" : folder) + "/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).partial"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: systemError()) }
        self.temporary = temporary
    }

    /// Appends every byte, retrying after signals. A failure abandons the file.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        precondition(!finished, "write after commit")
        if let failure = AtomicFile.writeAll(bytes, to: descriptor) {
            abandon()
            throw FileWriteError(path: path, reason: failure)
        }
    }

    /// Flushes the temporary file to disk and renames it over `path`.
    public func commit() throws(FileWriteError) {
        precondition(!finished, "commit twice")
        finished = true
        var failure: String?
        if temporary != nil && fsync(descriptor) != 0 { failure = systemError() }
        if close(descriptor) != 0 && failure == nil { failure = systemError() }
        if let temporary, failure == nil && rename(temporary, path) != 0 { failure = systemError() }
        if let failure {
            if let temporary { unlink(temporary) }
            throw FileWriteError(path: path, reason: failure)
        }
    }

    private func abandon() {
        guard !finished else { return }
        finished = true
        close(descriptor)
        if let temporary { unlink(temporary) }
    }

    deinit { abandon() }
}

extension AtomicFile {
    /// Writes every byte to `descriptor` (a file, stdout), retrying after signals and short writes;
    /// the error text on failure.
    public static func writeAll(_ raw: UnsafeRawBufferPointer, to descriptor: Int32) -> String? {
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

private func systemError() -> String { String(cString: strerror(errno)) }

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
