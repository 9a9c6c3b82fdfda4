import Foundation

/// A checkpoint of any format under one contract: every tensor has its canonical name (docs/
/// FORMAT.md), its stored name, its layer and whether it is a parameter; the architecture and
/// its resolved config are known when qkv knows the architecture. Opening reads headers only and
/// works for every architecture whose format qkv reads; only running needs a known one.
public final class Checkpoint: @unchecked Sendable {
    public let container: any TensorContainer
    /// The architecture as the file names it, known to qkv or not (nil when the file names none).
    public let architectureName: String?
    /// What qkv knows about the architecture; nil when it does not know it.
    public let definition: (any ArchitectureDefinition.Type)?
    /// The resolved settings; nil for an architecture qkv does not know.
    public let config: ModelConfig?
    /// Every tensor, parameters and buffers, in file order.
    public let tensors: [TensorInfo]
    private let positionOfName: [String: Int]

    public var path: String { container.path }
    public var format: CheckpointFormat { container.format }
    public var compression: String { container.compression }
    public var metadata: Metadata { container.metadata }

    public init(_ container: any TensorContainer) throws {
        self.container = container
        let source = container.model
        architectureName = source.architecture
        definition = source.architecture.flatMap(ArchitectureRegistry.definition(named:))
        let naming: TensorNaming = switch source.naming {
        case .canonical: .canonical
        case .huggingFace: definition?.huggingFaceNames ?? .huggingFaceGeneric
        case .gguf: .gguf
        }
        var infos: [TensorInfo] = []
        var positions: [String: Int] = [:]
        for stored in container.tensors {
            let resolved = naming.resolve(stored.name)
            let group: TensorGroup = if let layer = resolved.layer {
                .layer(layer)
            } else if Self.embeddingNames.contains(resolved.canonical) || (!resolved.isMapped && resolved.looksLikeEmbedding) {
                .embeddings
            } else {
                .other
            }
            if let first = positions[resolved.canonical] {
                throw LocatedError(path: container.path, error: .duplicateName(
                    field: "tensor \(resolved.canonical) (from \(infos[first].storedName))", name: stored.name))
            }
            positions[resolved.canonical] = infos.count
            infos.append(TensorInfo(stored: stored, name: resolved.canonical, layer: resolved.layer, group: group, isBuffer: resolved.isBuffer))
        }
        positionOfName = positions

        guard let definition else {
            config = nil
            tensors = infos
            try Self.checkNamesArchitecture(source, path: container.path)
            return
        }
        let settings = ConfigSettings(source.settings)
        let settingsPath = if case let .huggingFace(_, file) = source.settings { file } else { container.path }
        let shapes = Dictionary(infos.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
        let tokenCount: Int? = if case let .strings(tokens)? = container.metadata["tokenizer.ggml.tokens"] { tokens.count } else { nil }
        let described = infos
        var config = try located(settingsPath) { () throws(QKVError) in
            try definition.configuration(settings, context: ConfigContext(shapes: shapes, tokenCount: tokenCount) { name throws(QKVError) in
                guard let info = described.first(where: { $0.name == name }) else { throw .missingTensor(name) }
                do {
                    let tensor = try container.decode(info.stored, verify: true, threads: 1)
                    return Array(UnsafeBufferPointer(start: tensor.pointer, count: tensor.count))
                } catch let error as LocatedError {
                    throw error.error
                } catch let error as QKVError {
                    throw error
                } catch {
                    throw .other(String(describing: error))
                }
            })
        }
        Self.markTiedCopies(&infos, config: config)
        try located(container.path) { () throws(QKVError) in
            try Self.checkFormatRules(container, config: config)
            // A file without tensors (llama.cpp's vocabulary-only GGUF files) opens and inspects;
            // only running needs the weights.
            guard !infos.isEmpty else {
                var oneLayer = config
                oneLayer.layerCount = min(config.layerCount, 1)
                config.unsupported = config.unsupported ?? .missingTensor(
                    definition.expectedTensors(oneLayer).first(where: \.isRequired)?.name ?? "embed")
                return
            }
            try ArchitectureRegistry.validate(definition, config, tensors: infos)
        }
        self.config = config
        tensors = infos
    }

    /// Canonical names counted as embeddings (docs/FORMAT.md).
    static let embeddingNames: Set<String> = ["embed", "pos", "token_type", "embed_norm.weight", "embed_norm.bias"]

    /// A QKV file must name its architecture (docs/FORMAT.md); other formats may leave it out.
    private static func checkNamesArchitecture(_ source: ModelSource, path: String) throws {
        guard case let .qkv(metadata) = source.settings else { return }
        try located(path) { () throws(QKVError) in
            guard try metadata.string("qkv.architecture") != nil else { throw .missingMetadata(key: "qkv.architecture") }
        }
    }

    /// Rules of the format's own metadata that need the resolved config.
    private static func checkFormatRules(_ container: any TensorContainer, config: ModelConfig) throws(QKVError) {
        if container.format.name == "gguf", case let .strings(tokens)? = container.metadata["tokenizer.ggml.tokens"],
           tokens.count != config.vocabSize {
            // llama.cpp's vocabulary has one token per row of token_embd (its converter pads the list).
            let architecture = container.model.architecture ?? config.architecture
            throw .invalidMetadataValue(
                key: "tokenizer.ggml.tokens", expected: "\(config.vocabSize) entries (\(architecture).vocab_size)",
                found: "\(tokens.count) entries")
        }
        guard container.format.name == "qkv" else { return }
        if let tokens = try container.metadata.strings("tokenizer.tokens"), tokens.count != config.vocabSize {
            throw .invalidMetadataValue(
                key: "tokenizer.tokens", expected: "\(config.vocabSize) entries (qkv.vocab_size)", found: "\(tokens.count) entries")
        }
        _ = try container.metadata.string("general.name")
    }

    /// transformers does not save tied weights, but older checkpoints do; PyTorch counts them once.
    private static func markTiedCopies(_ infos: inout [TensorInfo], config: ModelConfig) {
        let storedName = Dictionary(infos.map { ($0.name, $0.storedName) }, uniquingKeysWith: { first, _ in first })
        var ties: [(copy: String, original: String)] = [("cls.predictions.decoder.bias", "cls.predictions.bias")]
        if config.tiedEmbeddings {
            ties.append(("lm_head", "embed"))
            ties.append(("cls.predictions.decoder.weight", "embed"))
        }
        for (copy, original) in ties {
            guard let originalStored = storedName[original], let index = infos.firstIndex(where: { $0.name == copy }) else { continue }
            infos[index].tiedTo = originalStored
        }
    }

    public func tensorInfo(_ name: String) -> TensorInfo? { positionOfName[name].map { tensors[$0] } }

    public func hasTensor(_ name: String) -> Bool { positionOfName[name] != nil }

    /// Decodes one tensor, named canonically, to Float32; with `verify`, checks its checksum first
    /// (where the format has one). `threads` bounds the threads decoding may use.
    public func floats(_ name: String, verify: Bool, threads: Int = ThreadCount.automatic) throws -> FloatTensor {
        guard let info = tensorInfo(name) else { throw LocatedError(path: path, error: .missingTensor(name)) }
        return try container.decode(info.stored, verify: verify, threads: threads)
    }

    /// A weight matrix as stored, for products that read it in place: its ggml type (F16, BF16
    /// or a block-quantized type qkv dequantizes) and bytes, when the tensor is a 2-D matrix of
    /// such a type that the format can hand over unconverted; nil otherwise (float32 weights, and
    /// compressed payloads, take the packed float32 path).
    public func storedMatrix(_ name: String, verify: Bool, threads: Int = ThreadCount.automatic) throws -> StoredMatrix? {
        guard let info = tensorInfo(name), info.shape.count == 2, let type = GGMLType(dtype: info.dtype),
              type != .f32, type.canDequantize, info.shape[1] % type.blockElements == 0,
              let stored = try container.storedBytes(info.stored, verify: verify, threads: threads)
        else { return nil }
        return StoredMatrix(type: type, rows: info.shape[0], columns: info.shape[1], storage: stored)
    }

    /// The config and definition of a model `run` can run, or the error saying why it cannot.
    public func runnable() throws -> (config: ModelConfig, definition: any ArchitectureDefinition.Type) {
        guard let definition, let config else {
            throw LocatedError(path: path, error: .unsupportedArchitecture(name: architectureName, supported: ArchitectureRegistry.names))
        }
        if let reason = config.unsupported { throw LocatedError(path: path, error: reason) }
        return (config, definition)
    }

    /// The number of layers: from the config, else one past the highest layer a tensor names.
    public var layerCount: Int {
        config?.layerCount ?? (tensors.compactMap(\.layer).max().map { $0 + 1 } ?? 0)
    }

    /// Parameter counts per group (embeddings, every layer, other).
    public var parameterCount: ParameterCount { ParameterCount(tensors: tensors, layerCount: layerCount) }

    // MARK: Verification

    /// What `verify` checked, and what it found wrong.
    public struct Verification: Sendable {
        public var tensorCount: Int
        public var problems: [VerificationProblem]
    }

    /// Decodes every float tensor, checking its checksum (where the format has one) and that every
    /// value is finite. `progress` receives (tensors done, tensors total).
    public func verifyAll(threads: Int = ThreadCount.automatic, progress: (Int, Int) -> Void = { _, _ in }) -> Verification {
        var problems = container.structuralProblems()
        guard problems.isEmpty else { return Verification(tensorCount: tensors.count, problems: problems) }
        let floats = tensors.filter { $0.dtype.isFloatingPoint }
        for (index, info) in floats.enumerated() {
            do {
                let values = try container.decode(info.stored, verify: true, threads: threads)
                if let bad = values.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
                    problems.append(.init(file: info.file, error: .nonFiniteWeight(tensor: info.storedName, index: bad, value: values[bad])))
                }
            } catch let error as LocatedError {
                problems.append(.init(file: error.path, error: error.error))
            } catch {
                problems.append(.init(file: info.file, error: .other(String(describing: error))))
            }
            progress(index + 1, floats.count)
        }
        return Verification(tensorCount: tensors.count, problems: problems)
    }

    // MARK: Tokenizer

    private let lock = NSLock()
    private var loadedTokenizer: Result<(any TextTokenizer)?, any Error>?

    /// The model's own text tokenizer, read once, on first use; nil when it has none (a QKV file
    /// with only `tokenizer.tokens` has none: `--text` then looks words up in that list).
    public func textTokenizer() throws -> (any TextTokenizer)? {
        lock.lock()
        defer { lock.unlock() }
        if let loadedTokenizer { return try loadedTokenizer.get() }
        let result = Result { () throws -> (any TextTokenizer)? in
            try container.tokenizerSource().flatMap(TokenizerLoader.tokenizer(source:))
        }
        loadedTokenizer = result
        return try result.get()
    }

    /// Text of each token id, when the checkpoint carries a vocabulary: what `--tokens` accepts
    /// besides ids, and what output shows.
    public var vocabulary: [String]? {
        if case let .tokenList(tokens)? = try? container.tokenizerSource() { return tokens }
        if case let .strings(tokens)? = metadata["tokenizer.ggml.tokens"] { return tokens }
        // Without tensors nothing backs the vocabulary size: a few bytes of config.json can claim
        // 2^31 ids. Such a file's vocabulary is only a list it stores (above).
        guard !tensors.isEmpty, let tokenizer = try? textTokenizer() else { return nil }
        let size = config?.vocabSize ?? tokenizer.vocabularySize
        return (0..<size).map(tokenizer.tokenText)
    }

    /// The Hugging Face `tokenizer.json` behind `textTokenizer()`, when there is one (kept by `convert`).
    public func tokenizerJSONText() throws -> String? {
        switch try container.tokenizerSource() {
        case let .huggingFaceJSONFile(url)?: String(decoding: try TokenizerLoader.readFile(url), as: UTF8.self)
        case let .huggingFaceJSON(bytes, _)?: String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }
}
