import ArgumentParser
import QKVKit

@main
struct QKVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qkv",
        abstract: "Inspect transformer checkpoints and dump their attention.",
        discussion: """
            Reads QKV v1 files (plain or zlib/gzip-wrapped), GGUF files, llama2.c checkpoints, safetensors \
            files and Hugging Face model folders, recognised by their content. Results go to stdout, \
            diagnostics to stderr. NO_COLOR turns off shaded tables; QKV_THREADS caps the threads.

            Exit status: 0 success; 1 bad file, bad tokens or a failed check; 64 bad command-line usage.
            """,
        version: QKVKit.version,
        subcommands: [Inspect.self, Run.self, Heads.self, Tokenize.self, Verify.self, Convert.self, Bench.self]
    )

    /// Bare `qkv` is a usage error: the help on stderr, exit status 64.
    func run() throws {
        printError(Self.helpMessage())
        throw ExitCode(64)
    }
}
