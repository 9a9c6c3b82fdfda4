import ArgumentParser
import Foundation
import QKVKit

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how the checkpoint's own tokenizer splits a text: the ids `run --text` would use.",
        discussion: """
            Reads only the tokenizer (a GGUF file's tokenizer.ggml.* keys, a Hugging Face folder's \
            tokenizer.json or vocab.txt, a converted QKV file's tokenizer, a llama2.c checkpoint's \
            tokenizer.bin given with --tokenizer), so vocab-only GGUF files work. \
            GGUF tokenizers give llama.cpp's ids; special-token texts such as <|im_start|> are read as \
            those tokens, as llama.cpp's tools and transformers do.

            The table shows each token's vocabulary string with a space as ␣, tabs and line breaks as \
            \\t \\n \\r and other invisible characters as \\u{…}; --format json gives the exact strings: \
            {"tokens":[{"id":…,"text":…}]}.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var checkpoint: CheckpointArgument
    @OptionGroup var tokenizer: TokenizerOption
    @Option(help: ArgumentHelp("The text to tokenize; - reads it from standard input.", valueName: "text"))
    var text: String?
    @Option(help: ArgumentHelp("A UTF-8 file whose whole content is the text (a final newline included).", valueName: "file"))
    var textFile: String?
    @Flag(help: "Add no special tokens around the text (no BOS/EOS, no [CLS]/[SEP]).") var noSpecial = false
    @Option(help: "Output format.") var format: Format = .table

    func validate() throws {
        guard (text == nil) != (textFile == nil) else { throw ValidationError("Give exactly one of --text and --text-file.") }
    }

    func run() throws {
        let input = readText()
        try reportingFailures(path: checkpoint.path) {
            let tokens: [TextTokenization.Token]
            do {
                tokens = try TextTokenization.tokens(
                    input, path: checkpoint.path, tokenizer: tokenizer.file, addSpecialTokens: !noSpecial)
            } catch let error as LocatedError {
                // The generic messages suggest giving token ids, which this command has no use for.
                if case let .noTokenizer(lookedFor) = error.error {
                    fail("\(error.path): has no tokenizer (looked for \(lookedFor))")
                }
                throw error
            } catch let error as TokenizerError {
                fail("\(checkpoint.path): " + String(describing: error).replacingOccurrences(of: "; " + tokenIDHint, with: ""))
            }
            switch format {
            case .table: printLine(TextTokenization.table(tokens))
            case .json: printLine(TextTokenization.json(tokens).rendered())
            }
        }
    }

    /// `--text`, standard input for `--text -`, or the file of `--text-file`, as exact UTF-8.
    private func readText() -> String {
        if let text, text != "-" { return text }
        let data: Data
        let source: String
        if let textFile {
            source = textFile
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: textFile))
            } catch {
                fail("\(textFile): cannot read: \(error.localizedDescription)")
            }
        } else {
            source = "standard input"
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        guard let decoded = String(validating: data, as: UTF8.self) else {
            let offset = data.withUnsafeBytes { firstInvalidUTF8($0) } ?? 0
            fail("\(source): not UTF-8 (invalid byte at offset \(offset))")
        }
        return decoded
    }
}
