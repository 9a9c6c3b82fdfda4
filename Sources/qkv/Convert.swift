import ArgumentParser
import Foundation
import QKVKit

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write any readable checkpoint as a QKV v1 file.",
        discussion: """
            Tensors get canonical names (docs/FORMAT.md), the config becomes qkv.* metadata and the \
            vocabulary tokenizer.tokens. Integer buffers such as position_ids are not parameters and are left out.
            """)

    enum Encoding: String, ExpressibleByArgument, CaseIterable { case raw, zlib, shuffle }
    enum Wrap: String, ExpressibleByArgument, CaseIterable { case zlib, gzip }
    enum StoredType: String, ExpressibleByArgument, CaseIterable { case f32, f16, bf16 }

    @OptionGroup var checkpoint: CheckpointArgument
    @Option(name: .shortAndLong, help: "The QKV file to write.") var output: String
    @OptionGroup var tokenizer: TokenizerOption
    @Option(help: "Element type of the stored weights.") var dtype: StoredType = .f32
    @Option(help: "Per-tensor encoding.") var encoding: Encoding = .raw
    @Option(help: "Wrap the whole file in a zlib or gzip stream.") var wrap: Wrap?
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try reportingFailures(path: checkpoint.path) {
            let source = try CheckpointLoader.open(path: checkpoint.path, tokenizer: tokenizer.file)
            let converter = QKVConverter(
                dtype: DType(rawValue: dtype.rawValue)!,
                encoding: encoding == .raw ? .raw : encoding == .zlib ? .zlib : .shuffleZlib,
                wrap: wrap.map { $0 == .zlib ? DeflateContainer.zlib : .gzip })
            let progress = Progress(label: "converting")
            let (bytes, summary) = try converter.convert(source, threads: threads.count) { done, total in
                progress.update(done, of: total)
            }
            progress.finish()
            do throws(FileWriteError) {
                try AtomicFile.write(bytes, to: output)
            } catch {
                fail(error.description)
            }
            var line = "wrote \(output): \(summary.tensorCount) tensors, \(groupedThousands(summary.parameters)) parameters, "
                + "\(groupedThousands(summary.bytes)) bytes"
            if !summary.skippedBuffers.isEmpty { line += " (left out buffers: \(summary.skippedBuffers.joined(separator: ", ")))" }
            printLine(line)
            if let tokenizer = summary.tokenizerNotKept {
                printError("qkv: note: \(tokenizer) is not kept (QKV v1 holds a Hugging Face tokenizer.json only): "
                    + "the vocabulary is, as tokenizer.tokens, so --text on \(output) splits on whitespace; "
                    + "give --tokens, or run the original file")
            }
        }
    }
}

/// A one-line progress indicator on stderr, shown only when stderr is a terminal and only after
/// the work has taken a moment; pipes and logs stay quiet.
final class Progress {
    private let label: String
    private let start = Date()
    private var shown = false

    init(label: String) { self.label = label }

    private let isTerminal = isatty(STDERR_FILENO) != 0

    func update(_ done: Int, of total: Int) {
        guard isTerminal, Date().timeIntervalSince(start) > 0.5 else { return }
        shown = true
        let percent = total > 0 ? done * 100 / total : 100
        printError("\r\(label): \(done)/\(total) tensors (\(percent)%)", terminator: "")
    }

    func finish() {
        if shown { printError("") }
    }
}
