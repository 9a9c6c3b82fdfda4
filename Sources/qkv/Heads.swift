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
    @Option(help: "Layers to summarise: all, or a list such as 0,2.") var layers = "all"
    @Option(help: "Heads to summarise: all, or a list such as 1,3.") var heads = "all"
    @Option(help: "Output format.") var format: Format = .table
    @Option(help: ArgumentHelp(
        "Order of the rows: \(HeadStatisticsReport.Metric.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "metric")) var sort: HeadStatisticsReport.Metric = .layer
    @Option(help: "Decimals per value (default: 3 for tables, full precision for json and csv).") var precision: Int?
    @OptionGroup var destination: OutputArguments
    @Flag(help: "Skip the CRC-32 check of each tensor (for very large raw files).") var noVerify = false

    func validate() throws {
        if let precision, !(0...9).contains(precision) { throw ValidationError("--precision must be 0...9.") }
    }

    func run() throws {
        try reportingFailures(path: checkpoint.path) {
            let model = try CheckpointLoader.open(path: checkpoint.path, tokenizer: tokenizer.file)
            let everything = try AttentionRunner.run(AttentionRequest(input: input.request, verify: !noVerify), checkpoint: model)
            let layerNumbers = selected(layers, option: "--layers", count: everything.layers.count)
            let headNumbers = selected(heads, option: "--heads", count: everything.layers.first?.heads.count ?? 0)
            let report = AttentionReport(
                tokens: everything.tokens, layers: everything.layers.filter { layerNumbers.contains($0.layer) }, heads: headNumbers)
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

extension Heads {
    /// `all`, or indices separated by commas or spaces, each in 0..<count; sorted, without repeats.
    /// A bad list is one error line naming the option.
    func selected(_ text: String, option: String, count: Int) -> [Int] {
        guard text.lowercased() != "all" else { return Array(0..<count) }
        let pieces = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        let numbers = pieces.compactMap { Int($0) }
        guard !pieces.isEmpty, numbers.count == pieces.count else {
            fail("\(checkpoint.path): \(option): expected \"all\" or a list of numbers, found \"\(text)\"")
        }
        if let bad = numbers.first(where: { !(0..<count).contains($0) }) {
            fail("\(checkpoint.path): \(option): \(bad) is out of range (expected 0..<\(count))")
        }
        return Set(numbers).sorted()
    }
}
