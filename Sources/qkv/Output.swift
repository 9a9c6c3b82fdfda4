import ArgumentParser
import Foundation
import QKVKit

/// `-o/--output`, shared by every command that writes a result.
struct OutputArguments: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write the result to FILE instead of stdout: written to a temporary file in the same folder, then renamed over FILE.",
            valueName: "FILE"))
    var output: String?

    /// A text result: stdout, or FILE (both end with a newline).
    func write(text: String) {
        write(bytes: Array((text + "\n").utf8), binary: nil)
    }

    /// A large text result written as it is produced (`produce` writes to the stream it is given), in
    /// 1 MiB pieces: a JSON or CSV dump of every head never exists whole in memory. Ends with a newline.
    func write(streaming produce: (inout ChunkedOutput) -> Void) {
        var stream: ChunkedOutput
        var file: AtomicFileWriter?
        if let output, output != "-" {
            do {
                let writer = try AtomicFileWriter(path: output)
                file = writer
                stream = ChunkedOutput { bytes throws(FileWriteError) in try writer.write(bytes) }
            } catch {
                fail(error.description)
            }
        } else {
            stream = ChunkedOutput { bytes throws(FileWriteError) in
                if let failure = AtomicFile.writeAll(bytes, to: STDOUT_FILENO) {
                    throw FileWriteError(path: "stdout", reason: failure)
                }
            }
        }
        produce(&stream)
        stream.write("\n")
        do {
            try stream.flush()
            try file?.commit()
        } catch {
            fail(error.description)
        }
    }

    /// A binary result (`format` names it in errors). Refused on a terminal: it would only garble it.
    func write(binary: [UInt8], format: String) {
        write(bytes: binary, binary: format)
    }

    /// True when the text result goes to a terminal that shows colour: stdout is a TTY, `-o` is not
    /// given, `NO_COLOR` is unset or empty and `TERM` is not `dumb`.
    var wantsColour: Bool {
        guard output == nil || output == "-", isatty(STDOUT_FILENO) != 0 else { return false }
        let environment = ProcessInfo.processInfo.environment
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// Terminal cells a text table may take: `COLUMNS` when it holds a positive number, else the
    /// width of the terminal stdout is, else (a pipe, a file) none: scripts get whole rows.
    var tableWidth: Int? {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
        guard output == nil || output == "-", isatty(STDOUT_FILENO) != 0 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    private func write(bytes: [UInt8], binary format: String?) {
        guard let output, output != "-" else {
            if let format, isatty(STDOUT_FILENO) != 0 {
                fail("\(format) is binary and stdout is a terminal: pass -o FILE, or pipe it (| cat > FILE)")
            }
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        do {
            try AtomicFile.write(bytes, to: output)
        } catch {
            fail(error.description)
        }
    }
}

/// Text collected into 1 MiB pieces, each handed to `sink`; the first failure stops the writing
/// and is thrown by `flush()`.
struct ChunkedOutput: TextOutputStream {
    private var buffer: [UInt8] = []
    private let sink: (UnsafeRawBufferPointer) throws(FileWriteError) -> Void
    private var failure: FileWriteError?
    private static let pieceBytes = 1 << 20

    init(sink: @escaping (UnsafeRawBufferPointer) throws(FileWriteError) -> Void) {
        self.sink = sink
        buffer.reserveCapacity(Self.pieceBytes + 4096)
    }

    mutating func write(_ text: String) {
        guard failure == nil else { return }
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.pieceBytes { try? flush() }
    }

    mutating func flush() throws(FileWriteError) {
        if let failure { throw failure }
        let sink = self.sink
        failure = buffer.withUnsafeBytes { bytes -> FileWriteError? in
            do throws(FileWriteError) { try sink(bytes) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// What pictures are titled: the model folder's or file's name.
func checkpointTitle(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return trimmed.split(separator: "/").last.map(String.init) ?? String(trimmed)
}
