import CKernels
import Foundation

/// A GGUF model (llama.cpp's format): one file, or the shards of a split model
/// (`name-00001-of-00003.gguf`; opening any shard opens them all).
///
/// Opening maps each file and parses its header only; tensor payloads stay in the map and are
/// dequantized on request. Every error names the file at fault.
public final class GGUFFile: TensorContainer, @unchecked Sendable {
    public let path: String
    public let format: CheckpointFormat
    public let compression = "none"
    /// The header of the first shard (the only one that carries the model's metadata).
    public let header: GGUFHeader
    public let metadata: Metadata
    public let tensors: [StoredTensor]
    /// Every file of the model, first shard first.
    public let files: [String]
    private let inputs: [String: InputFile]

    public var model: ModelSource {
        let architecture: String? = if case let .string(name)? = metadata["general.architecture"] { name } else { nil }
        return ModelSource(architecture: architecture, settings: .gguf(metadata, architecture: architecture ?? ""), naming: .gguf)
    }

    public init(path: String) throws(LocatedError) {
        self.path = path
        let first = try located(path) { () throws(QKVError) in try Self.open(path) }
        var shards = [first]
        let count = try located(path) { () throws(QKVError) in try Self.splitValue("split.count", in: first.header) } ?? 1
        if count > 1 {
            let paths = try located(path) { () throws(QKVError) in try Self.shardPaths(of: path, count: count) }
            shards = []
            for (number, shardPath) in paths.enumerated() {
                let shard = shardPath == path ? first : try located(shardPath) { () throws(QKVError) in
                    guard pathExists(shardPath) else {
                        throw .cannotOpen(reason: "shard \(number + 1) of \(count) of \(path) is missing")
                    }
                    return try Self.open(shardPath)
                }
                try located(shardPath) { () throws(QKVError) in
                    let no = try Self.splitValue("split.no", in: shard.header)
                    guard no == number else {
                        throw .invalidMetadataValue(key: "split.no", expected: String(number), found: no.map(String.init) ?? "absent")
                    }
                    let shardCount = try Self.splitValue("split.count", in: shard.header)
                    guard shardCount == count else {
                        throw .invalidMetadataValue(key: "split.count", expected: String(count), found: shardCount.map(String.init) ?? "absent")
                    }
                }
                shards.append(shard)
            }
        }
        let header = shards[0].header
        self.header = header
        files = shards.map(\.file.path)
        inputs = Dictionary(shards.map { ($0.file.path, $0.file) }, uniquingKeysWith: { first, _ in first })
        var stored: [StoredTensor] = []
        var seen: [String: String] = [:]
        for shard in shards {
            for info in shard.header.tensors {
                if let other = seen[info.name] {
                    throw LocatedError(path: shard.file.path, error: .tensorInTwoShards(tensor: info.name, first: other, second: shard.file.path))
                }
                seen[info.name] = shard.file.path
                stored.append(StoredTensor(
                    name: info.name, dtype: DType(ggml: info.type), shape: info.shape,
                    fileOffset: shard.header.dataStart + info.dataOffset, storedBytes: info.byteCount, file: shard.file.path))
            }
        }
        if count > 1, let total = try located(path, { () throws(QKVError) in try Self.splitValue("split.tensors.count", in: header) }),
           total != stored.count {
            throw LocatedError(path: path, error: .invalidMetadataValue(
                key: "split.tensors.count", expected: "\(stored.count) (the tensors in the \(count) shards)", found: String(total)))
        }
        tensors = stored
        switch header.value("general.architecture") {
        case nil, .string?: break
        case let other?:
            // llama.cpp refuses it too; read as "no architecture" it would open as an unknown model.
            throw LocatedError(path: path, error: .wrongMetadataType(key: "general.architecture", expected: "string", found: other.typeName))
        }
        metadata = Metadata(header.entries.map { ($0.key, $0.value.metadataValue) })
        format = CheckpointFormat(name: "gguf", description: "gguf v\(header.version)", hasChecksums: false)
    }

    private struct Shard {
        var file: InputFile
        var header: GGUFHeader
    }

    private static func open(_ path: String) throws(QKVError) -> Shard {
        let file = try InputFile(path: path)
        return Shard(file: file, header: try GGUFHeader(try file.mapped()))
    }

    private static func splitValue(_ key: String, in header: GGUFHeader) throws(QKVError) -> Int? {
        guard let value = header.value(key) else { return nil }
        guard let number = value.integer, number >= 0, number <= Int64(Int32.max) else {
            throw .invalidMetadataValue(key: key, expected: "a non-negative integer", found: value.typeName)
        }
        return Int(number)
    }

    /// `name-00001-of-00003.gguf` … for a split model, from the name of any of its shards.
    private static func shardPaths(of path: String, count: Int) throws(QKVError) -> [String] {
        let folder = parentFolder(of: path)
        let name = String(path.dropFirst(folder.count))
        let suffix = String(format: "-of-%05d.gguf", count)
        guard count <= 99_999, name.hasSuffix(suffix), name.count > suffix.count + 6 else {
            throw .invalidMetadataValue(
                key: "split.count", expected: "a file named NAME-0000k\(suffix) for a model split in \(count)", found: name)
        }
        let stem = name.dropLast(suffix.count)
        guard stem.dropLast(5).last == "-", stem.suffix(5).allSatisfy(\.isASCII), Int(stem.suffix(5)) != nil else {
            throw .invalidMetadataValue(
                key: "split.count", expected: "a file named NAME-0000k\(suffix) for a model split in \(count)", found: name)
        }
        // The file opened must be one of the shards (not NAME-00003-of-00002.gguf beside two others).
        guard let number = Int(stem.suffix(5)), (1...count).contains(number) else {
            throw .invalidMetadataValue(key: "split.count", expected: "a shard number in 1...\(count) in the file name", found: name)
        }
        let prefix = stem.dropLast(6)
        return (1...count).map { joinPath(folder, String(prefix) + String(format: "-%05d", $0) + suffix) }
    }

    public func decode(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> FloatTensor {
        try located(tensor.file) { () throws(QKVError) in
            guard let input = inputs[tensor.file] else { throw .missingTensor(tensor.name) }
            let bytes = try input.mapped()
            let payload = UnsafeRawBufferPointer(rebasing: bytes[Int(tensor.fileOffset)..<Int(tensor.fileOffset + tensor.storedBytes)])
            let count = tensor.elementCount
            switch tensor.dtype {
            case .f32 where Int(bitPattern: payload.baseAddress) % MemoryLayout<Float>.alignment == 0 && isLittleEndianHost:
                return FloatTensor(
                    name: tensor.name, shape: tensor.shape,
                    borrowing: payload.baseAddress!.assumingMemoryBound(to: Float.self), owner: self)
            default:
                let type = GGMLType(dtype: tensor.dtype)
                guard let type, type.canDequantize else {
                    throw .unsupportedQuantization(tensor: tensor.name, type: tensor.dtype.displayName, supported: GGMLType.dequantizable)
                }
                let floats = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
                type.dequantize(payload, into: floats, threads: threads)
                return FloatTensor(name: tensor.name, shape: tensor.shape, taking: floats)
            }
        }
    }

    public var tokenizerLocations: String { "metadata tokenizer.ggml.model" }

    /// Every GGUF payload lies in the map as it is stored.
    public func storedBytes(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> StoredBytes? {
        try located(tensor.file) { () throws(QKVError) in
            guard let input = inputs[tensor.file] else { throw .missingTensor(tensor.name) }
            let bytes = try input.mapped()
            let payload = UnsafeRawBufferPointer(rebasing: bytes[Int(tensor.fileOffset)..<Int(tensor.fileOffset + tensor.storedBytes)])
            return StoredBytes(bytes: payload, owner: self)
        }
    }

    /// The tokenizer keys, when the file has them (`tokenizer.ggml.model`).
    public func tokenizerSource() -> TokenizerSource? {
        header.value("tokenizer.ggml.model") == nil ? nil : .gguf(header)
    }
}

extension GGUFFile: MappedPagesOwner {
    func releaseResidentPages(_ range: UnsafeRawBufferPointer) {
        for input in inputs.values { input.releaseResidentPages(range) }
    }
}

extension GGUFValue {
    /// The value as qkv's metadata types hold it: integers as i64 (a u64 beyond it as f64),
    /// floats as f64, bool arrays as integer arrays.
    var metadataValue: MetadataValue {
        switch self {
        case let .uint64(v) where v > UInt64(Int64.max): return .double(Double(v))
        case let .float32(v): return .double(Double(v))
        case let .float64(v): return .double(v)
        case let .bool(v): return .bool(v)
        case let .string(v): return .string(v)
        case let .array(array):
            switch array {
            case let .string(v): return .strings(v)
            case let .float32(v): return .floats(v)
            case let .float64(v): return .doubles(v)
            case let .bool(v): return .ints(v.map { $0 ? 1 : 0 })
            case let .uint64(v) where v.contains { $0 > UInt64(Int64.max) }: return .doubles(v.map(Double.init))
            default: return .ints(array.integers ?? [])
            }
        default: return .int(integer ?? 0)
        }
    }
}
