import ArgumentParser
import Foundation
import QKVKit

/// The checkpoint argument every command takes.
struct CheckpointArgument: ParsableArguments {
    @Argument(help: "A QKV file, a .safetensors file or a Hugging Face model folder.")
    var path: String
}

/// `--tokens` or `--text`, exactly one.
struct TokenArguments: ParsableArguments {
    @Option(help: "Token ids or vocabulary strings, separated by commas or spaces.") var tokens: String?
    @Option(help: "Text to tokenize with the model's own tokenizer.") var text: String?

    func validate() throws {
        guard (tokens == nil) != (text == nil) else { throw ValidationError("Give exactly one of --tokens and --text.") }
    }

    var request: AttentionRequest.Input { tokens.map { .tokens($0) } ?? .text(text ?? "") }
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
    printError("qkv: error: \(message)")
    exit(1)
}

func printError(_ text: String, terminator: String = "\n") {
    FileHandle.standardError.write(Data((text + terminator).utf8))
}

func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
