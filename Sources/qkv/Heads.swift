import ArgumentParser
import QKVKit

struct Heads: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise what each attention head does: entropy, attention sinks, previous-token and self attention.",
        discussion: """
            One row per selected layer and head, each a mean over the query rows q of the head's \
            post-softmax matrix p (T tokens), computed in float64:

              entropy         mean of -sum_k p[q][k] ln p[q][k], in nats (0 ln 0 = 0): 0 = each query looks \
            at one key, ln T = evenly spread
              first_token     mean of p[q][0] (attention sinks)
              previous_token  mean over q >= 1 of p[q][q-1] (null / "-" with one token)
              self            mean of p[q][q]
              top_key         the key k with the largest mean over all queries of p[q][k], and that mean; \
            for causal models the mean includes the zeros above the diagonal, which favours early keys

            --sort layer keeps layer/head order; --sort entropy puts the lowest entropy (most focused \
            heads) first; every other metric sorts highest first. Ties keep layer/head order.

            The table marks each column's highest value with ▲ and lowest with ▼, and shades the \
            cells by value on a colour terminal (not with NO_COLOR, TERM=dumb, -o or a pipe).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var checkpoint: CheckpointArgument
    @OptionGroup var input: TokenArguments
    @OptionGroup var tokenizer: TokenizerOption
    @Option(parsing: .unconditional, help: "Layers to summarise: all, or a list such as 0,2.") var layers = "all"
    @Option(parsing: .unconditional, help: "Heads to summarise: all, or a list such as 1,3.") var heads = "all"
    @Option(help: "Output format.") var format: Format = .table
    @Option(help: ArgumentHelp(
        "Order of the rows: \(HeadStatisticsReport.Metric.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "metric")) var sort: HeadStatisticsReport.Metric = .layer
    @Option(parsing: .unconditional, help: "Decimals per value (default: 3 for tables, full precision for json and csv).")
    var precision: Int?
    @OptionGroup var destination: OutputArguments
    @Flag(help: "Skip the CRC-32 check of each tensor (for very large raw files).") var noVerify = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if let precision, !(0...9).contains(precision) { throw ValidationError("--precision must be 0...9, found \(precision).") }
    }

    func run() throws {
        try reportingFailures(path: checkpoint.path) {
            let model = try CheckpointLoader.open(path: checkpoint.path, tokenizer: tokenizer.file)
            let (config, _) = try model.runnable()
            let report = try AttentionRunner.run(AttentionRequest(
                input: input.request, layers: indexSelection(layers, option: "--layers", count: config.layerCount, path: checkpoint.path),
                heads: indexSelection(heads, option: "--heads", count: config.headCount, path: checkpoint.path),
                verify: !noVerify, threads: threads.count, truncate: input.truncate), checkpoint: model)
            let statistics = HeadStatisticsReport(report).sorted(by: sort)
            switch format {
            case .table: destination.write(text: statistics.table(decimals: precision ?? 3, colour: destination.wantsColour))
            case .json: destination.write(text: statistics.json(decimals: precision).rendered())
            case .csv: destination.write(text: statistics.csv(decimals: precision))
            }
        }
    }
}

extension HeadStatisticsReport.Metric: ExpressibleByArgument {}
