import ArgumentParser
import Foundation
import QKVKit

/// The checkpoint argument every command takes.
struct CheckpointArgument: ParsableArguments {
    @Argument(help: "A QKV file, a GGUF file, a llama2.c .bin, a .safetensors file or a Hugging Face model folder.")
    var path: String
}

/// `--tokenizer PATH`, for checkpoints whose tokenizer is a file of its own.
struct TokenizerOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A llama2.c tokenizer.bin for a llama2.c checkpoint, which holds no vocabulary (--text then tokenizes as run.c). Other formats carry their own tokenizer: with them this option is an error.",
        valueName: "path")) var tokenizer: String?

    var file: TokenizerFile? { tokenizer.map { .llama2c(path: $0) } }
}

/// `--tokens`, `--text` or `--text-file`, exactly one.
struct TokenArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Token ids or vocabulary strings, separated by commas or spaces.")
    var tokens: String?
    @Option(parsing: .unconditional, help: "Text to tokenize with the model's own tokenizer; - reads it from stdin.")
    var text: String?
    @Option(name: .customLong("text-file"), help: ArgumentHelp("A UTF-8 file holding the text to tokenize.", valueName: "file"))
    var textFile: String?
    @Flag(help: "An input longer than the model takes keeps its first tokens (the special tokens the tokenizer adds stay), instead of being an error.")
    var truncate = false

    func validate() throws {
        guard [tokens != nil, text != nil, textFile != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("Give exactly one of --tokens, --text and --text-file.")
        }
    }

    /// The input, the text read from stdin or the file when asked; a file that cannot be read (or
    /// is not UTF-8) is one error line.
    var request: AttentionRequest.Input {
        if let tokens { return .tokens(tokens) }
        if let textFile {
            guard let data = FileManager.default.contents(atPath: textFile) else { fail("\(textFile): cannot read the text file") }
            guard let text = String(data: data, encoding: .utf8) else { fail("\(textFile): the text file is not UTF-8") }
            return .text(text)
        }
        if text == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let text = String(data: data, encoding: .utf8) else { fail("stdin: the text is not UTF-8") }
            return .text(text)
        }
        return .text(text ?? "")
    }
}

/// Runs `body`; any failure becomes one line on stderr naming the file, and exit status 1.
func reportingFailures(path: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as LocatedError {
        fail(error.description)
    } catch let error as QKVError {
        fail("\(path): \(error)")
    } catch let error as ExitCode {
        throw error
    } catch {
        fail("\(path): \(error)")
    }
}

func fail(_ message: String) -> Never {
    // The library says "give the token ids instead"; here that is an option.
    let message = message.replacingOccurrences(of: tokenIDHint, with: "give the token ids with --tokens instead")
        .replacingOccurrences(of: "(truncating keeps the first", with: "(--truncate keeps the first")
        .replacingOccurrences(of: Llama2cFile.separateTokenizer, with: "a llama2.c tokenizer.bin given with --tokenizer")
    printError("qkv: error: \(message)")
    exit(1)
}

func printError(_ text: String, terminator: String = "\n") {
    FileHandle.standardError.write(Data((text + terminator).utf8))
}

func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// `--threads`, shared by the commands that compute.
struct ThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads to use (default: QKV_THREADS, else every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, found \(threads).") }
    }

    var count: Int { threads ?? ThreadCount.automatic }
}

/// `all`, or indices separated by commas or spaces (`0,2`, `"1 3"`), checked against a model:
/// nil for all; a bad list is one error line naming the option.
func indexSelection(_ text: String, option: String, count: Int, path: String) -> [Int]? {
    guard text.lowercased() != "all" else { return nil }
    let pieces = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
    let numbers = pieces.compactMap { Int($0) }
    guard !pieces.isEmpty, numbers.count == pieces.count else {
        fail("\(path): \(option): expected \"all\" or a list of numbers, found \"\(text)\"")
    }
    if let bad = numbers.first(where: { !(0..<count).contains($0) }) {
        fail("\(path): \(option): \(bad) is out of range (expected 0..<\(count))")
    }
    return numbers
}
