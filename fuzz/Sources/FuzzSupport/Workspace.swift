import Foundation

/// A private folder of this process where a target writes the files an input describes, so the
/// readers see them through the path the command line gives them. Files are removed after
/// every input.
public final class Workspace: @unchecked Sendable {
    public static let shared = Workspace()

    /// `$QKV_FUZZ_TMPDIR` (scripts/fuzz.sh points it to a folder in /dev/shm), else the system's
    /// temporary folder; one subfolder per process.
    public let folder: String
    private var written: [String] = []
    private var madeFolders: [String] = []

    private init() {
        let base = ProcessInfo.processInfo.environment["QKV_FUZZ_TMPDIR"] ?? NSTemporaryDirectory()
        folder = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/qkv-fuzz-\(getpid())"
        mkdir(folder, 0o700)
    }

    /// Writes `bytes` to `name` (a path relative to the folder) and returns its full path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = folder + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(descriptor >= 0, "cannot create \(path): errno \(errno)")
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let done = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                precondition(done > 0, "cannot write \(path): errno \(errno)")
                offset += done
            }
        }
        close(descriptor)
        written.append(path)
        return path
    }

    /// Makes the subfolder `name` and returns its full path.
    public func makeFolder(_ name: String) -> String {
        let path = folder + "/" + name
        mkdir(path, 0o700)
        madeFolders.append(path)
        return path
    }

    /// Removes every file and subfolder written since the last call.
    public func clear() {
        for path in written { unlink(path) }
        for path in madeFolders.reversed() { rmdir(path) }
        written.removeAll(keepingCapacity: true)
        madeFolders.removeAll(keepingCapacity: true)
    }

    /// Runs `body` with `files` (name, bytes) written; removes them afterwards.
    public func with<T>(_ files: [(String, [UInt8])], _ body: () -> T) -> T {
        for (name, bytes) in files { write(name, bytes) }
        defer { clear() }
        return body()
    }

    func remove() {
        clear()
        rmdir(folder)
    }
}
