import ArgumentParser
import QKVKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the forward pass and print post-softmax attention (rows = queries, columns = keys).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var checkpoint: CheckpointArgument
    @Option(help: "Token ids or vocabulary strings, separated by commas or spaces.") var tokens: String?
    @Option(help: "Text to tokenize with the model's own tokenizer.") var text: String?
    @Option(help: "Layers to print: all, or a list such as 0,2.") var layers = "all"
    @Option(help: "Heads to print: all, or a list such as 1,3.") var heads = "all"
    @Option(help: "Output format.") var format: Format = .table
    @Option(help: "Decimals per score (default: 2 for tables, full precision for json and csv).") var precision: Int?
    @Flag(help: "Skip the CRC-32 check of each tensor (for very large raw files).") var noVerify = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (tokens == nil) != (text == nil) else { throw ValidationError("Give exactly one of --tokens and --text.") }
        if let precision, !(0...9).contains(precision) { throw ValidationError("--precision must be 0...9.") }
    }

    func run() throws {
        try reportingFailures(path: checkpoint.path) {
            let model = try CheckpointLoader.open(path: checkpoint.path)
            let (config, _) = try model.runnable()
            let input: AttentionRequest.Input = tokens.map { .tokens($0) } ?? .text(text ?? "")
            let request = AttentionRequest(
                input: input, layers: indexSelection(layers, option: "--layers", count: config.layerCount, path: checkpoint.path),
                heads: indexSelection(heads, option: "--heads", count: config.headCount, path: checkpoint.path),
                verify: !noVerify, threads: threads.count)
            let report = try AttentionRunner.run(request, checkpoint: model)
            switch format {
            case .table: printLine(report.table(decimals: precision ?? 2))
            case .json: printLine(report.json(decimals: precision).rendered())
            case .csv: printLine(report.csv(decimals: precision))
            }
        }
    }
}
