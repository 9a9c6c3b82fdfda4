/// What `qkv inspect` shows: format, configuration, metadata and parameter counts, from the header alone.
public struct InspectReport {
    public let checkpoint: Checkpoint
    public let counts: ParameterCount

    public init(_ checkpoint: Checkpoint) {
        self.checkpoint = checkpoint
        counts = checkpoint.parameterCount
    }

    /// Stored types over all parameters, most parameters first.
    var totalTypes: [String] {
        var counts: [String: Int] = [:]
        for tensor in checkpoint.tensors where tensor.isParameter { counts[tensor.dtype.displayName, default: 0] += tensor.elementCount }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
    }

    /// How the tensors are encoded (`raw (all 4)`, or `raw 3, shuffle+zlib 1`): visible without --tensors.
    var encodingSummary: String {
        var counts: [String: Int] = [:]
        for tensor in checkpoint.tensors { counts[tensor.encoding.rawValue, default: 0] += 1 }
        if counts.count == 1, let only = counts.keys.first { return "\(only) (all \(checkpoint.tensors.count))" }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// The architecture's registry name, or `unknown (name)` for one qkv does not run.
    var architecture: String {
        if let config = checkpoint.config { return config.architecture }
        return checkpoint.architectureName.map { "unknown (\($0))" } ?? "unknown"
    }

    var configFields: [(String, JSONValue)] {
        guard let c = checkpoint.config else { return [("n_layers", .int(checkpoint.layerCount))] }
        var fields: [(String, JSONValue)] = [
            ("vocab_size", .int(c.vocabSize)), ("dim", .int(c.dim)), ("n_layers", .int(c.layerCount)),
            ("n_heads", .int(c.headCount)), ("n_kv_heads", .int(c.kvHeadCount)), ("head_dim", .int(c.headDim)),
            ("max_seq_len", c.maxSequenceLength.map { .int($0) } ?? .null), ("causal", .bool(c.isCausal)),
        ]
        if let hidden = c.hiddenDim { fields.append(("hidden_dim", .int(hidden))) }
        if let eps = c.normEpsilon { fields.append(("norm_eps", shortestNumber(eps))) }
        if let theta = c.ropeTheta { fields.append(("rope_theta", shortestNumber(theta))) }
        if let types = c.typeVocabSize { fields.append(("type_vocab_size", .int(types))) }
        if c.wiring != .attentionOnly { fields.append(("tied_embeddings", .bool(c.tiedEmbeddings))) }
        if c.wiring == .llama {
            fields.append(("rope_layout", .string(c.ropeLayout.rawValue)))
            if c.attentionBias { fields.append(("attention_bias", .bool(true))) }
            if c.outputBias { fields.append(("output_bias", .bool(true))) }
            if c.mlpBias { fields.append(("mlp_bias", .bool(true))) }
            if c.queryKeyNorm { fields.append(("qk_norm", .bool(true))) }
            if let window = c.slidingWindow { fields.append(("sliding_window", .int(window))) }
            switch c.ropeScaling {
            case nil: break
            case let .llama3(factor, low, high, original):
                fields.append(("rope_scaling", .object([
                    ("type", .string("llama3")), ("factor", shortestNumber(factor)), ("low_freq_factor", shortestNumber(low)),
                    ("high_freq_factor", shortestNumber(high)), ("original_max_seq_len", .int(original)),
                ])))
            case let .frequencyFactors(factors):
                fields.append(("rope_scaling", .object([
                    ("type", .string("frequency_factors")), ("factors", .array(factors.map { .float($0) })),
                ])))
            }
        }
        if let reason = c.unsupported { fields.append(("runnable", .string("no: \(reason)"))) }
        return fields
    }

    /// Metadata shown in a table: long arrays summarised, not dumped.
    var metadataSummary: [(String, String)] {
        checkpoint.metadata.entries.map { entry in
            let shown: String
            switch entry.value {
            case let .int(value): shown = String(value)
            case let .double(value): shown = shortestNumber(value).rendered()
            case let .string(value): shown = Self.summary(of: value, key: entry.key)
            case let .bool(value): shown = String(value)
            case let .ints(values): shown = "\(groupedThousands(values.count)) integers"
            case let .doubles(values): shown = "\(groupedThousands(values.count)) floats"
            case let .strings(values):
                shown = "\(groupedThousands(values.count)) strings"
                    + (values.isEmpty ? "" : ": " + values.prefix(5).joined(separator: " ") + (values.count > 5 ? " …" : ""))
            case let .floats(values): shown = "\(groupedThousands(values.count)) floats"
            }
            return (entry.key, shown)
        }
    }

    /// Text values longer than this many bytes, and arrays longer than `maximumJSONArray`, are
    /// replaced by a summary object in JSON unless `full` asks for everything.
    public static let maximumJSONString = 4096
    public static let maximumJSONArray = 256

    /// The report as JSON. Without `full`, a long value becomes `{"omitted_bytes": N, "summary": …}`
    /// (text) or `{"omitted_count": N, "first": […]}` (arrays), so a converted model's embedded
    /// tokenizer.json or a 150k-token vocabulary does not bury the rest.
    public func json(full: Bool = false) -> JSONValue {
        func array(_ items: [JSONValue]) -> JSONValue {
            guard !full, items.count > Self.maximumJSONArray else { return .array(items) }
            return .object([("omitted_count", .int(items.count)), ("first", .array(Array(items.prefix(8))))])
        }
        let metadata: [(String, JSONValue)] = checkpoint.metadata.entries.map { entry in
            switch entry.value {
            case let .int(value): (entry.key, .int(Int(value)))
            case let .double(value): (entry.key, shortestNumber(value))
            case let .string(value) where !full && value.utf8.count > Self.maximumJSONString:
                (entry.key, .object([("omitted_bytes", .int(value.utf8.count)),
                                     ("summary", .string(Self.summary(of: value, key: entry.key)))]))
            case let .string(value): (entry.key, .string(value))
            case let .strings(values): (entry.key, array(values.map { .string($0) }))
            case let .floats(values): (entry.key, array(values.map { .float($0) }))
            case let .bool(value): (entry.key, .bool(value))
            case let .ints(values): (entry.key, array(values.map { .int(Int($0)) }))
            case let .doubles(values): (entry.key, array(values.map { .double($0) }))
            }
        }
        let groups: [JSONValue] = counts.groups.map { group in
            .object([
                ("name", .string(group.name)), ("layer", group.layer.map { .int($0) } ?? .null),
                ("parameters", .int(group.parameters)), ("bytes", .int(Int(group.storedBytes))),
                ("decoded_bytes", .int(Int(group.decodedBytes))),
            ])
        }
        return .object([
            ("format", .string(checkpoint.format.name)),
            ("compression", .string(checkpoint.compression)),
            ("architecture", .string(architecture)),
            ("config", .object(configFields)),
            ("metadata", .object(metadata)),
            ("total_parameters", .int(counts.totalParameters)),
            ("embedding_parameters", .int(counts.embeddingParameters)),
            ("non_embedding_parameters", .int(counts.nonEmbeddingParameters)),
            ("groups", .array(groups)),
            ("tensors", .array(checkpoint.tensors.filter(\.isParameter).map(tensorJSON))),
            ("buffers", .array(counts.buffers.map(tensorJSON))),
        ])
    }

    private func tensorJSON(_ tensor: TensorInfo) -> JSONValue {
        .object([
            ("name", .string(tensor.storedName)), ("canonical", .string(tensor.name)), ("dtype", .string(tensor.dtype.displayName)),
            ("shape", .array(tensor.shape.map { .int($0) })), ("parameters", .int(tensor.isParameter ? tensor.elementCount : 0)),
            ("encoding", .string(tensor.encoding.rawValue)), ("stored_bytes", .int(Int(tensor.storedBytes))),
            ("crc32", tensor.crc32.map { .int(Int($0)) } ?? .null), ("layer", tensor.layer.map { .int($0) } ?? .null),
            ("tied_to", tensor.tiedTo.map { .string($0) } ?? .null),
        ])
    }

    /// The human-readable report; `markdown` renders the same tables as Markdown.
    public func text(showTensors: Bool, markdown: Bool) -> String {
        let render = { (table: TextTable) in markdown ? table.markdown() : table.text() }
        var summary = TextTable(headers: ["field", "value"], alignments: [.left, .left])
        summary.append(["format", checkpoint.format.description])
        summary.append(["compression", checkpoint.compression])
        summary.append(["tensor encodings", encodingSummary])
        summary.append(["architecture", architecture])
        for (key, value) in configFields {
            if case .null = value { continue }
            if case let .string(text) = value { summary.append([key, text]) } else { summary.append([key, value.rendered()]) }
        }
        var sections = [markdown ? "## Model\n\n" + render(summary) : render(summary)]

        if !checkpoint.metadata.entries.isEmpty {
            var table = TextTable(headers: ["metadata", "value"], alignments: [.left, .left])
            for (key, value) in metadataSummary { table.append([key, value]) }
            sections.append(markdown ? "## Metadata\n\n" + render(table) : render(table))
        }

        let total = counts.totalParameters
        var groups = TextTable(
            headers: ["group", "parameters", "types", "stored bytes", "bits/weight", "decoded bytes", "% of total"],
            alignments: [.left, .right, .left, .right, .right, .right, .right])
        for group in counts.groups {
            groups.append([
                group.name, groupedThousands(group.parameters), group.types.joined(separator: ", "),
                groupedThousands(group.storedBytes), group.bitsPerWeight.map { fixed($0, decimals: 2) } ?? "",
                groupedThousands(group.decodedBytes), percent(group.parameters, of: total),
            ])
        }
        let storedTotal = counts.groups.reduce(0) { $0 + $1.storedBytes }
        groups.append([
            "total", groupedThousands(total), totalTypes.joined(separator: ", "), groupedThousands(storedTotal),
            total > 0 ? fixed(Double(storedTotal) * 8 / Double(total), decimals: 2) : "",
            groupedThousands(counts.groups.reduce(0) { $0 + $1.decodedBytes }), percent(total, of: total),
        ])
        groups.append(["non-embedding", groupedThousands(counts.nonEmbeddingParameters), "", "", "", "", percent(counts.nonEmbeddingParameters, of: total)])
        sections.append(markdown ? "## Parameters\n\n" + render(groups) : render(groups))

        if !counts.buffers.isEmpty {
            var buffers = TextTable(
                headers: ["buffer", "dtype", "shape", "elements"], alignments: [.left, .left, .left, .right])
            // A note column only when some buffer has a note.
            let notes = counts.buffers.map { $0.tiedTo.map { "tied to \($0)" } }
            if notes.contains(where: { $0 != nil }) {
                buffers = TextTable(headers: buffers.headers + ["note"], alignments: buffers.alignments + [.left])
            }
            for (buffer, note) in zip(counts.buffers, notes) {
                let cells = [buffer.storedName, buffer.dtype.displayName, shapeText(buffer.shape), groupedThousands(buffer.elementCount)]
                buffers.append(buffers.headers.count > 4 ? cells + [note ?? ""] : cells)
            }
            sections.append(markdown ? "## Buffers (not parameters)\n\n" + render(buffers) : render(buffers))
        }

        if showTensors {
            var tensors = TextTable(
                headers: ["tensor", "dtype", "shape", "parameters", "encoding", "stored bytes", "bits/weight", "crc32"],
                alignments: [.left, .left, .left, .right, .left, .right, .right, .left])
            for tensor in checkpoint.tensors {
                tensors.append([
                    tensor.storedName, tensor.dtype.displayName, shapeText(tensor.shape),
                    groupedThousands(tensor.isParameter ? tensor.elementCount : 0), tensor.encoding.rawValue,
                    groupedThousands(tensor.storedBytes),
                    tensor.elementCount > 0 ? fixed(Double(tensor.storedBytes) * 8 / Double(tensor.elementCount), decimals: 2) : "",
                    tensor.crc32.map(hex32) ?? "-",
                ])
            }
            sections.append(markdown ? "## Tensors\n\n" + render(tensors) : render(tensors))
        }
        return sections.joined(separator: "\n\n")
    }
}

extension InspectReport {
    /// Long text values (chat templates, an embedded tokenizer.json) are summarised in tables.
    static func summary(of text: String, key: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard text.utf8.count > 120 || lines.count > 1 else { return text }
        let kind = key.hasSuffix(".json") ? "JSON" : "text"
        let first = String(lines.first ?? "").prefix(40)
        return "\(groupedThousands(text.utf8.count)) bytes of \(kind): \(first)…"
    }
}

/// A number as its shortest text: a value that is exactly a Float (GGUF stores f32) prints as
/// that Float (1e-05, not 9.999999747378752e-06).
func shortestNumber(_ value: Double) -> JSONValue {
    Double(Float(value)) == value ? .float(Float(value)) : .double(value)
}

func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
