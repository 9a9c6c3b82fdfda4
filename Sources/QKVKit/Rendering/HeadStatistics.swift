import Foundation

/// What one attention head does over the input, from its post-softmax matrix p (rows = queries q,
/// columns = keys k, T tokens). Computed in Float64 from the Float32 scores.
public struct HeadStatistics: Sendable, Equatable {
    public var layer: Int
    public var head: Int
    /// Mean over queries of −Σ_k p[q][k]·ln p[q][k], in nats (0·ln 0 = 0): 0 when every query looks
    /// at one key, ln T when it spreads evenly.
    public var entropy: Double
    /// Mean over queries of p[q][0]: how much the head parks on the first token ("attention sink").
    public var firstToken: Double
    /// Mean over queries q ≥ 1 of p[q][q−1]; nil with a single token.
    public var previousToken: Double?
    /// Mean over queries of p[q][q].
    public var selfAttention: Double
    /// The key with the largest mean over all queries of p[q][k] (the first such key on ties). For a
    /// causal model the mean counts the zeros above the diagonal, which favours early keys.
    public var topKey: Int
    /// That mean.
    public var topKeyMean: Double

    /// The statistics of one T × T row-major matrix.
    public init(layer: Int, head: Int, scores: [Float], tokenCount count: Int) {
        precondition(count >= 1 && scores.count == count * count)
        self.layer = layer
        self.head = head
        var entropy = 0.0, first = 0.0, previous = 0.0, diagonal = 0.0
        var columnSums = [Double](repeating: 0, count: count)
        scores.withUnsafeBufferPointer { p in
            for query in 0..<count {
                let row = p.baseAddress! + query * count
                var rowEntropy = 0.0
                for key in 0..<count {
                    let value = Double(row[key])
                    if value > 0 { rowEntropy -= value * log(value) }
                    columnSums[key] += value
                }
                entropy += rowEntropy
                first += Double(row[0])
                diagonal += Double(row[query])
                if query >= 1 { previous += Double(row[query - 1]) }
            }
        }
        let n = Double(count)
        self.entropy = entropy / n
        firstToken = first / n
        previousToken = count > 1 ? previous / Double(count - 1) : nil
        selfAttention = diagonal / n
        var best = 0
        for key in 1..<max(1, count) where columnSums[key] > columnSums[best] { best = key }
        topKey = best
        topKeyMean = columnSums[best] / n
    }
}

/// `qkv heads`: one row of `HeadStatistics` per selected layer and head.
public struct HeadStatisticsReport: Sendable {
    /// What `--sort` orders by. `layer` keeps layer/head order; `entropy` sorts ascending (the most
    /// focused heads first); every other metric descending (the strongest first). Ties and missing
    /// values (previous_token with one token, which go last) keep layer/head order.
    public enum Metric: String, CaseIterable, Sendable {
        case layer, entropy
        case firstToken = "first_token"
        case previousToken = "previous_token"
        case selfAttention = "self"
        case topKeyMean = "top_key_mean"
    }

    public var tokens: [AttentionReport.Token]
    public var heads: [HeadStatistics]

    public init(tokens: [AttentionReport.Token], heads: [HeadStatistics]) {
        self.tokens = tokens
        self.heads = heads
    }

    public init(_ report: AttentionReport) {
        tokens = report.tokens
        heads = report.layers.flatMap { layer in
            report.heads.map { head in
                HeadStatistics(layer: layer.layer, head: head, scores: layer.heads[head], tokenCount: layer.tokenCount)
            }
        }
    }

    public static func value(_ metric: Metric, of row: HeadStatistics) -> Double? {
        switch metric {
        case .layer: nil
        case .entropy: row.entropy
        case .firstToken: row.firstToken
        case .previousToken: row.previousToken
        case .selfAttention: row.selfAttention
        case .topKeyMean: row.topKeyMean
        }
    }

    public func sorted(by metric: Metric) -> HeadStatisticsReport {
        let ordered = heads.enumerated().sorted { lhs, rhs in
            let a = Self.value(metric, of: lhs.element), b = Self.value(metric, of: rhs.element)
            switch (a, b) {
            case let (a?, b?) where a != b: return metric == .entropy ? a < b : a > b
            case (_?, nil): return true
            case (nil, _?): return false
            default: return lhs.offset < rhs.offset
            }
        }
        return HeadStatisticsReport(tokens: tokens, heads: ordered.map(\.element))
    }

    private func number(_ value: Double, _ decimals: Int?) -> JSONValue {
        guard let decimals else { return .double(value) }
        return .double(Double(fixed(value, decimals: decimals)) ?? value)
    }

    /// `{"tokens":[{"id":…,"text":…}],"heads":[{"layer":L,"head":H,"entropy":…,"first_token":…,
    /// "previous_token":…|null,"self":…,"top_key":K,"top_key_token":…,"top_key_mean":…}]}`.
    public func json(decimals: Int? = nil) -> JSONValue {
        .object([
            ("tokens", .array(tokens.map { .object([("id", .int($0.id)), ("text", .string($0.text))]) })),
            ("heads", .array(heads.map { row in
                .object([
                    ("layer", .int(row.layer)), ("head", .int(row.head)),
                    ("entropy", number(row.entropy, decimals)),
                    ("first_token", number(row.firstToken, decimals)),
                    ("previous_token", row.previousToken.map { number($0, decimals) } ?? .null),
                    ("self", number(row.selfAttention, decimals)),
                    ("top_key", .int(row.topKey)),
                    ("top_key_token", .string(tokens[row.topKey].text)),
                    ("top_key_mean", number(row.topKeyMean, decimals)),
                ])
            })),
        ])
    }

    /// One row per head; previous_token is empty with one token; the token text comes last.
    public func csv(decimals: Int? = nil) -> String {
        let show = { (value: Double) in decimals.map { fixed(value, decimals: $0) } ?? value.description }
        var lines = ["layer,head,entropy,first_token,previous_token,self,top_key,top_key_mean,top_key_token"]
        for row in heads {
            lines.append([
                String(row.layer), String(row.head), show(row.entropy), show(row.firstToken),
                row.previousToken.map(show) ?? "", show(row.selfAttention), String(row.topKey), show(row.topKeyMean),
                csvField(tokens[row.topKey].text),
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }

    /// The metric columns whose extremes the table marks.
    static let marked: [Metric] = [.entropy, .firstToken, .previousToken, .selfAttention]

    /// A table with the highest value of each metric column marked ▲ and the lowest ▼ (all rows
    /// that tie), when the column has two different values. `colour` shades the metric cells with
    /// `ColorMap`: probabilities as they are, entropy divided by its maximum ln T.
    public func table(decimals: Int = 3, colour: Bool = false) -> String {
        var table = TextTable(
            headers: ["layer", "head", "entropy", "first_token", "previous_token", "self", "top_key", "top_key_mean"],
            alignments: [.right, .right, .right, .right, .right, .right, .left, .right])
        let extremes = Self.marked.map { metric -> (low: Double, high: Double)? in
            let values = heads.compactMap { Self.value(metric, of: $0) }
            guard let low = values.min(), let high = values.max(), low < high else { return nil }
            return (low, high)
        }
        let show = { (metric: Metric, row: HeadStatistics) -> String in
            guard let value = Self.value(metric, of: row) else { return "-  " }
            let index = Self.marked.firstIndex(of: metric)!
            var mark = "  "
            if let extreme = extremes[index] {
                if value == extreme.high { mark = " ▲" } else if value == extreme.low { mark = " ▼" }
            }
            return fixed(value, decimals: decimals) + mark
        }
        for row in heads {
            table.append([
                String(row.layer), String(row.head), show(.entropy, row), show(.firstToken, row),
                show(.previousToken, row), show(.selfAttention, row), "\(tokens[row.topKey].text) (\(row.topKey))",
                fixed(row.topKeyMean, decimals: decimals),
            ])
        }
        let maximumEntropy = log(Double(max(1, tokens.count)))
        var text = table.text(background: colour ? { line, column in
            let row = heads[line]
            switch column {
            case 2: return ColorMap.color(maximumEntropy > 0 ? Float(row.entropy / maximumEntropy) : 0)
            case 3: return ColorMap.color(Float(row.firstToken))
            case 4: return row.previousToken.map { ColorMap.color(Float($0)) }
            case 5: return ColorMap.color(Float(row.selfAttention))
            case 7: return ColorMap.color(Float(row.topKeyMean))
            default: return nil
            }
        } : nil)
        if extremes.contains(where: { $0 != nil }) { text += "\n▲ highest, ▼ lowest in the column" }
        return text
    }
}
