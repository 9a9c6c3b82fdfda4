/// `qkv bench`'s output formats.
extension BenchmarkResult {
    public func json() -> JSONValue {
        .object([
            ("load_ms", .double(rounded(loadMilliseconds))),
            ("forward_ms", .object([("min", .double(rounded(minimum))), ("median", .double(rounded(median))), ("max", .double(rounded(maximum)))])),
            ("tokens", .int(tokens)), ("iterations", .int(forwardMilliseconds.count)),
            ("tokens_per_second", .double(rounded(tokensPerSecond))), ("gflops", .double(rounded(gigaflops))),
            ("peak_rss_bytes", .int(peakResidentBytes)),
            ("weights", .object(weightFormats.map { ($0.type, .int($0.parameters)) })),
            ("kernels", .string(kernels)),
        ])
    }

    public func table() -> String {
        var table = TextTable(headers: ["measure", "value"], alignments: [.left, .right])
        let total = max(1, weightFormats.reduce(0) { $0 + $1.parameters })
        table.append(["weights", weightFormats.map { "\($0.type) \(percent($0.parameters, of: total))" }.joined(separator: ", ")])
        table.append(["kernels", kernels])
        table.append(["load", fixed(loadMilliseconds, decimals: 2) + " ms"])
        table.append(["forward min", fixed(minimum, decimals: 3) + " ms"])
        table.append(["forward median", fixed(median, decimals: 3) + " ms"])
        table.append(["forward max", fixed(maximum, decimals: 3) + " ms"])
        table.append(["tokens", String(tokens)])
        table.append(["iterations", String(forwardMilliseconds.count)])
        table.append(["tokens/s", groupedThousands(Int(tokensPerSecond.rounded()))])
        table.append(["GFLOP/s", fixed(gigaflops, decimals: 1)])
        table.append(["peak RSS", groupedThousands(peakResidentBytes / 1024) + " KiB"])
        return table.text()
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
