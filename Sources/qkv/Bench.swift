import ArgumentParser
import QKVKit

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time loading and forward passes: min / median / max ms, tokens/s, GFLOP/s, peak memory.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var checkpoint: CheckpointArgument
    @OptionGroup var input: TokenArguments
    @OptionGroup var tokenizer: TokenizerOption
    @Option(parsing: .unconditional, help: "Timed forward passes.") var iterations = 20
    @Option(parsing: .unconditional, help: "Untimed forward passes first.") var warmup = 3
    @Option(help: "Output format.") var format: Format = .table
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1, found \(iterations).") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative, found \(warmup).") }
    }

    func run() throws {
        #if DEBUG
        printError("qkv: warning: this qkv is a debug build (swift run and swift build build debug), 30-50x slower "
            + "than a release build; time with `swift build -c release` and .build/release/qkv")
        #endif
        try reportingFailures(path: checkpoint.path) {
            let result = try Benchmark.run(
                path: checkpoint.path, tokenizer: tokenizer.file, input: input.request, iterations: iterations, warmup: warmup,
                threads: threads.count)
            printLine(format == .json ? result.json().rendered() : result.table())
        }
    }
}
