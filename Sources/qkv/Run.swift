import ArgumentParser
import Foundation
import QKVKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the forward pass and print post-softmax attention (rows = queries, columns = keys).")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv, markdown, html, svg, png, npz }

    @OptionGroup var checkpoint: CheckpointArgument
    @OptionGroup var input: TokenArguments
    @OptionGroup var tokenizer: TokenizerOption
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Layers to print: all, or a list such as 0,2. Default: all, except that a table or markdown of a model with more than one layer shows its last layer (a hint on a terminal says so).",
        valueName: "layers")) var layers: String?
    @Option(parsing: .unconditional, help: "Heads to print: all, or a list such as 1,3.") var heads = "all"
    @Option(help: ArgumentHelp(
        "Output format: table, json, csv or markdown (text); html (a self-contained viewer), svg or png (a grid of heatmaps); npz (NumPy). png and npz are binary: use -o FILE or a pipe. Tables are shaded on a colour terminal unless NO_COLOR is set, and split into blocks of keys that fit COLUMNS (else the terminal's width; a pipe gets whole rows). A token that occurs twice is labelled with its position (the#4).",
        valueName: "format")) var format: Format = .table
    @OptionGroup var destination: OutputArguments
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Size of one attention cell in pixels, png and svg only (default: 16, smaller for long inputs; at least 1 pixel per token).",
        valueName: "N")) var cell: Int?
    @Option(parsing: .unconditional, help: "Decimals per score (default: 2 for tables, full precision for json and csv).")
    var precision: Int?
    @Flag(help: "Skip the CRC-32 check of each tensor (for very large raw files).") var noVerify = false
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if let precision, !(0...9).contains(precision) { throw ValidationError("--precision must be 0...9, found \(precision).") }
        if let cell {
            guard format == .png || format == .svg else { throw ValidationError("--cell applies to --format png and svg only.") }
            guard (1...64).contains(cell) else { throw ValidationError("--cell must be 1...64, found \(cell).") }
        }
    }

    func run() throws {
        try reportingFailures(path: checkpoint.path) {
            let model = try CheckpointLoader.open(path: checkpoint.path, tokenizer: tokenizer.file)
            let (config, _) = try model.runnable()
            let request = AttentionRequest(
                input: input.request,
                layers: indexSelection(layers ?? defaultLayers(config.layerCount), option: "--layers", count: config.layerCount, path: checkpoint.path),
                heads: indexSelection(heads, option: "--heads", count: config.headCount, path: checkpoint.path),
                verify: !noVerify, threads: threads.count, truncate: input.truncate)
            let report = try AttentionRunner.run(request, checkpoint: model)
            try write(report)
        }
    }
}

extension Run {
    /// A table of every layer of a real model is dozens of screens: text formats show the last
    /// layer unless --layers says otherwise, and say so on a terminal.
    func defaultLayers(_ count: Int) -> String {
        guard count > 1, format == .table || format == .markdown else { return "all" }
        if isatty(STDERR_FILENO) != 0 {
            printError("qkv: showing layer \(count - 1), the last of \(count); --layers all (or a list) for others")
        }
        return String(count - 1)
    }

    /// Renders the report in the chosen format to stdout or `-o FILE`.
    func write(_ report: AttentionReport) throws {
        let title = checkpointTitle(checkpoint.path)
        switch format {
        case .table:
            destination.write(text: report.table(decimals: precision ?? 2, colour: destination.wantsColour, width: destination.tableWidth))
        case .markdown: destination.write(text: report.markdown(decimals: precision ?? 2))
        case .json: destination.write { report.writeJSON(decimals: precision, to: &$0) }
        case .csv: destination.write { report.writeCSV(decimals: precision, to: &$0) }
        case .html: destination.write(text: try HTMLViewer.render(report, title: title))
        case .svg: destination.write(text: try HeatmapSVG.render(report, cell: cell, title: title))
        case .png: destination.write(binary: try HeatmapPNG.render(report, cell: cell, title: title), format: "png")
        case .npz: destination.write(binary: try NPZArchive.attention(report), format: "npz")
        }
    }
}
