import Foundation

/// A Hugging Face model: `config.json` for the blueprint, safetensors (one file or shards) for the
/// weights, and the tokenizer files beside them for `--text`.
public final class SafetensorsCheckpoint: Checkpoint, @unchecked Sendable {
    public let path: String
    public let formatName = "safetensors"
    public let compression = "none"
    public let metadata: Metadata
    public let tensors: [TensorInfo]
    public let config: ModelConfig
    /// The model folder (the folder given, or the one holding the file given).
    public let folder: String
    let archive: SafetensorsArchive
    /// Canonical name → stored name.
    let storedNames: [String: String]

    public init(path: String) throws {
        self.path = path
        folder = isDirectory(path) ? path : (path as NSString).deletingLastPathComponent
        let configPath = (folder.isEmpty ? "." : folder) + "/config.json"
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw LocatedError(path: configPath, error: .cannotOpen(reason: "config.json not found beside the safetensors weights"))
        }
        do {
            config = try HFConfig.load(path: configPath).modelConfig()
        } catch let error as QKVError {
            throw LocatedError(path: configPath, error: error)
        }
        archive = try SafetensorsArchive(path: path)
        let names = TensorNameMap.forArchitecture(config.architecture)
        var stored: [String: String] = [:]
        var infos = archive.tensors
        for index in infos.indices {
            if names.isBuffer(infos[index].name) { infos[index].isBuffer = true }
            guard let canonical = names.canonicalName(infos[index].name) else { continue }
            if let first = stored[canonical] {
                throw LocatedError(path: path, error: .duplicateName(field: "tensor \(canonical) (from \(first))", name: infos[index].name))
            }
            stored[canonical] = infos[index].name
        }
        Self.markTiedCopies(&infos, config: config, storedNames: stored)
        tensors = infos
        storedNames = stored
        var entries: [(String, MetadataValue)] = archive.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
        entries.insert(("config.model_type", .string(config.architecture.rawValue)), at: 0)
        metadata = Metadata(entries)
        let canonicalInfos = infos.compactMap { info -> TensorInfo? in
            guard let canonical = names.canonicalName(info.name) else { return nil }
            var renamed = info
            renamed.name = canonical
            return renamed
        }
        do throws(QKVError) {
            try ArchitectureRegistry.validate(config, tensors: canonicalInfos)
        } catch {
            throw LocatedError(path: path, error: error)
        }
    }

    private let lock = NSLock()
    private var loadedTokenizer: Result<(any TextTokenizer)?, any Error>?

    /// The folder's tokenizer (tokenizer.json, else vocab.txt), read once, on first use.
    public func textTokenizer() throws -> (any TextTokenizer)? {
        lock.lock()
        defer { lock.unlock() }
        if let loadedTokenizer { return try loadedTokenizer.get() }
        let result = Result { () throws -> (any TextTokenizer)? in
            try TokenizerLoader.load(folder: URL(fileURLWithPath: folder.isEmpty ? "." : folder))
        }
        loadedTokenizer = result
        return try result.get()
    }

    /// Token texts from the tokenizer, so `--tokens` accepts strings and output shows them.
    public var vocabulary: [String]? {
        guard let tokenizer = try? textTokenizer() else { return nil }
        return (0..<config.vocabSize).map(tokenizer.tokenText)
    }

    public func tokenizerJSONText() throws -> String? {
        let file = (folder.isEmpty ? "." : folder) + "/tokenizer.json"
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self)
    }

    /// transformers does not save tied weights, but older checkpoints do; PyTorch counts them once.
    static func markTiedCopies(_ infos: inout [TensorInfo], config: ModelConfig, storedNames: [String: String]) {
        var ties: [(copy: String, original: String?)] = [("cls.predictions.decoder.bias", "cls.predictions.bias")]
        if config.tiedEmbeddings {
            ties.append((storedNames["lm_head"] ?? "lm_head.weight", storedNames["embed"]))
            ties.append(("cls.predictions.decoder.weight", storedNames["embed"]))
        }
        let names = Set(infos.map(\.name))
        for (copy, original) in ties {
            guard let original, names.contains(original), let index = infos.firstIndex(where: { $0.name == copy }) else { continue }
            infos[index].tiedTo = original
        }
    }

    public func hasTensor(_ name: String) -> Bool { storedNames[name] != nil }

    public func floats(_ name: String, verify: Bool) throws -> FloatTensor {
        guard let stored = storedNames[name] ?? tensors.first(where: { $0.name == name })?.name else {
            throw LocatedError(path: path, error: .missingTensor(name))
        }
        return try archive.floats(stored)
    }

    /// safetensors has no checksums: verify decodes every weight and checks that it is finite.
    public func verifyAll() -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        for info in tensors where info.dtype.isWeightType {
            do {
                let values = try archive.floats(info.name)
                if let bad = values.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
                    problems.append(.init(file: info.file, error: .nonFiniteWeight(tensor: info.name, index: bad, value: values[bad])))
                }
            } catch let error as LocatedError {
                problems.append(.init(file: error.path, error: error.error))
            } catch {
                problems.append(.init(file: info.file, error: .other(String(describing: error))))
            }
        }
        return problems
    }
}
