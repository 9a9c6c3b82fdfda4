/// `qkv run`'s output formats.
extension AttentionReport {
    /// One matrix per layer and head, rows = queries, columns = keys, labelled with `tokenLabels`.
    /// `colour` shades each score's cell with `ColorMap` (24-bit ANSI, for colour terminals). With a
    /// `width`, a matrix wider than that many terminal cells is printed in column blocks that each
    /// fit, every block repeating the query labels and saying which keys it holds.
    public func table(decimals: Int, colour: Bool = false, width: Int? = nil) -> String {
        tables(decimals: decimals).flatMap { layer, head, table -> [String] in
            // Room for the longest caption a part can get, so adding it keeps every part in the width.
            let caption = displayWidth(table.headers[0]) + displayWidth(" keys \(tokens.count)–\(tokens.count)")
            var parts = [(columns: 1..<table.headers.count, table: table)]
            if let width, table.columnWidths.reduce(0, +) + 2 * (table.headers.count - 1) > width {
                parts = table.splitColumns(toFit: width, firstColumnWidth: caption)
            }
            return parts.map { columns, part in
                var part = part
                if parts.count > 1 {
                    part.headers[0] += " keys \(columns.lowerBound - 1)–\(columns.upperBound - 2)"
                }
                guard colour else { return part.text() }
                return part.text(background: { row, column in
                    column == 0 ? nil : ColorMap.color(layer.score(head: head, query: row, key: columns.lowerBound + column - 2))
                })
            }
        }.joined(separator: "\n\n")
    }

    /// The same tables as GitHub-flavoured Markdown, separated by blank lines.
    public func markdown(decimals: Int) -> String {
        tables(decimals: decimals).map { $0.table.markdown() }.joined(separator: "\n\n")
    }

    private func tables(decimals: Int) -> [(layer: LayerAttention, head: Int, table: TextTable)] {
        let labels = tokenLabels
        var tables: [(layer: LayerAttention, head: Int, table: TextTable)] = []
        for layer in layers {
            for head in heads {
                var table = TextTable(
                    headers: ["layer \(layer.layer) head \(head)"] + labels,
                    alignments: [.left] + tokens.map { _ in .right })
                for (query, label) in labels.enumerated() {
                    table.append([label] + tokens.indices.map { key in
                        fixed(Double(layer.score(head: head, query: query, key: key)), decimals: decimals)
                    })
                }
                tables.append((layer, head, table))
            }
        }
        return tables
    }

    /// `{"tokens":[{"id":…,"text":…}],"layers":[{"layer":L,"heads":[{"head":H,"scores":[[…]]}]}]}`.
    public func json(decimals: Int?) -> String {
        var text = ""
        writeJSON(decimals: decimals, to: &text)
        return text
    }

    /// `json(decimals:)` written piece by piece to `out`: no document tree is built, so dumping every
    /// head of a deep model takes little memory beyond the attention itself.
    public func writeJSON(decimals: Int?, to out: inout some TextOutputStream) {
        // Swift's shortest round-trip form (0.9, 1e-05) is valid JSON, as JSONValue writes it.
        let number = { (value: Float) -> String in
            guard let decimals else { return value.isFinite ? value.description : "null" }
            let rounded = Double(fixed(Double(value), decimals: decimals)) ?? Double(value)
            return rounded.isFinite ? rounded.description : "null"
        }
        out.write("{\"tokens\":[")
        for (index, token) in tokens.enumerated() {
            out.write(index == 0 ? "" : ",")
            out.write("{\"id\":\(token.id),\"text\":\(jsonQuoted(token.text))}")
        }
        out.write("],\"layers\":[")
        var row = ""
        for (layerIndex, layer) in layers.enumerated() {
            out.write(layerIndex == 0 ? "{" : ",{")
            out.write("\"layer\":\(layer.layer),\"heads\":[")
            for (headIndex, head) in heads.enumerated() {
                out.write(headIndex == 0 ? "{" : ",{")
                out.write("\"head\":\(head),\"scores\":[")
                for query in tokens.indices {
                    row.removeAll(keepingCapacity: true)
                    row += query == 0 ? "[" : ",["
                    for key in tokens.indices {
                        if key > 0 { row += "," }
                        row += number(layer.score(head: head, query: query, key: key))
                    }
                    row += "]"
                    out.write(row)
                }
                out.write("]}")
            }
            out.write("]}")
        }
        out.write("]}")
    }

    /// One row per (layer, head, query, key), token texts last so the numeric columns come first.
    public func csv(decimals: Int?) -> String {
        var text = ""
        writeCSV(decimals: decimals, to: &text)
        return text
    }

    /// `csv(decimals:)` written line by line to `out` (no final newline, as `csv` has none).
    public func writeCSV(decimals: Int?, to out: inout some TextOutputStream) {
        out.write("layer,head,query,key,score,query_token,key_token")
        let texts = tokens.map { csvField($0.text) }
        var line = ""
        for layer in layers {
            for head in heads {
                for query in tokens.indices {
                    for key in tokens.indices {
                        let score = layer.score(head: head, query: query, key: key)
                        let shown = decimals.map { fixed(Double(score), decimals: $0) } ?? score.description
                        line.removeAll(keepingCapacity: true)
                        line += "\n\(layer.layer),\(head),\(query),\(key),\(shown),\(texts[query]),\(texts[key])"
                        out.write(line)
                    }
                }
            }
        }
    }
}

/// RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
