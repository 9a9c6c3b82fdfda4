import Foundation

/// A Hugging Face model: safetensors weights (one file or shards), with `config.json` for the
/// settings and the tokenizer files beside them when they are there. A lone `.safetensors` file
/// opens too: it names no architecture, but its tensors can still be inspected and verified.
public final class SafetensorsFolder: TensorContainer, @unchecked Sendable {
    public let path: String
    public let format = CheckpointFormat(name: "safetensors", description: "safetensors", hasChecksums: false)
    public let compression = "none"
    public let metadata: Metadata
    public var tensors: [StoredTensor] { archive.tensors }
    public let model: ModelSource
    /// The model folder (the folder given, or the one holding the file given).
    public let folder: String
    let archive: SafetensorsArchive

    /// Larger than any real config.json (they are a few KiB), small enough to read whole.
    static let maximumConfigBytes = 16 << 20

    public init(path: String) throws {
        self.path = path
        folder = isDirectory(path) ? path : parentFolder(of: path)
        archive = try SafetensorsArchive(path: path)
        let configPath = joinPath(folder, "config.json")
        var entries: [(String, MetadataValue)] = archive.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
        if pathExists(configPath) {
            let config = try located(configPath) { () throws(QKVError) in try Self.readConfig(configPath) }
            let modelType = config["model_type"]
            if let name = modelType?.string { entries.insert(("config.model_type", .string(name)), at: 0) }
            model = ModelSource(architecture: modelType?.string, settings: .huggingFace(config, file: configPath), naming: .huggingFace)
        } else {
            model = ModelSource(architecture: nil, settings: .none, naming: .huggingFace)
        }
        metadata = Metadata(entries)
    }

    /// Parses config.json strictly (duplicate keys are an error), with byte offsets in errors.
    static func readConfig(_ path: String) throws(QKVError) -> StrictJSON.Value {
        let file = try InputFile(path: path)
        guard file.size <= UInt64(maximumConfigBytes) else {
            throw .fileTooLarge(what: "config.json", size: file.size, maximum: UInt64(maximumConfigBytes))
        }
        let json = try StrictJSON.parse(try file.read(at: 0, count: Int(file.size)), what: "config.json")
        guard json.members != nil else { throw .wrongJSONType(what: "config.json", expected: "an object", found: json.kindName) }
        return json
    }

    /// safetensors has no checksums: `verify` only asks every value to be finite.
    public func decode(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> FloatTensor {
        try archive.floats(tensor.name)
    }

    public var tokenizerLocations: String { "tokenizer.json and vocab.txt in \(folder.isEmpty ? "." : folder)" }

    /// safetensors payloads are stored raw, in the map.
    public func storedBytes(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> StoredBytes? {
        StoredBytes(bytes: try archive.rawBytes(tensor.name), owner: archive)
    }

    /// tokenizer.json, else vocab.txt (with tokenizer_config.json when present), in the folder.
    public func tokenizerSource() -> TokenizerSource? {
        let folderURL = URL(fileURLWithPath: folder.isEmpty ? "." : folder)
        let json = folderURL.appendingPathComponent("tokenizer.json")
        if pathExists(json.path) {
            return .huggingFaceJSONFile(json)
        }
        let vocabulary = folderURL.appendingPathComponent("vocab.txt")
        if pathExists(vocabulary.path) {
            let config = folderURL.appendingPathComponent("tokenizer_config.json")
            return .wordPieceVocabulary(vocabulary, config: pathExists(config.path) ? config : nil)
        }
        return nil
    }
}
