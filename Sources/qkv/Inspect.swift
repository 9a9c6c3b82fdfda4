import ArgumentParser
import QKVKit

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show format, configuration and parameter counts (reads the header only).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, markdown }

    @OptionGroup var checkpoint: CheckpointArgument
    @Option(help: "Output format.") var format: Format = .table
    @Flag(help: "Add one row per tensor.") var tensors = false
    @Flag(help: ArgumentHelp(
        "JSON: keep every metadata value whole. Without it, text over 4 KiB and arrays over 256 entries are summarised as {\"omitted_bytes\": …} or {\"omitted_count\": …, \"first\": […]}."))
    var full = false

    func run() throws {
        try reportingFailures(path: checkpoint.path) {
            let report = InspectReport(try CheckpointLoader.open(path: checkpoint.path))
            switch format {
            case .json: printLine(report.json(full: full).rendered(indent: 2))
            case .table, .markdown: printLine(report.text(showTensors: tensors, markdown: format == .markdown))
            }
        }
    }
}
