import Foundation

/// A Hugging Face safetensors checkpoint: one file, or the shards a `model.safetensors.index.json` lists.
///
/// Opening reads and validates every header with positional reads (see `SafetensorsHeader`) and
/// cross-checks the shards against the index; payload pages are mapped on the first request for a
/// tensor and read only when touched. Every error is a `LocatedError` naming the file at fault.
public final class SafetensorsArchive: @unchecked Sendable {
    /// The path as given: a file, an index, or a folder.
    public let path: String
    /// Every tensor, names as stored: file order (by data offset) within a shard, shards in `files` order.
    /// `fileOffset` is absolute in `file`, the shard's path.
    public let tensors: [StoredTensor]
    /// `__metadata__` of the (first) file.
    public let metadata: [String: String]
    /// The safetensors files: one, or the shards sorted by name (model-00001-of-0000N first).
    public let files: [String]

    private let shards: [InputFile]
    /// For each entry of `tensors`, its index in `shards`.
    private let shardOfTensor: [Int]
    private let positionOfName: [String: Int]
    private let lock = NSLock()

    /// `path` is a .safetensors file, a model.safetensors.index.json (any name ending in .json), or a
    /// folder holding model.safetensors (preferred, as transformers does) or model.safetensors.index.json.
    public convenience init(path: String) throws {
        try self.init(path: path, limits: SafetensorsHeader.Limits())
    }

    init(path: String, limits: SafetensorsHeader.Limits) throws(LocatedError) {
        self.path = path
        var target = path
        if isDirectory(path) {
            let single = joinPath(path, "model.safetensors")
            let index = joinPath(path, "model.safetensors.index.json")
            if pathExists(single) {
                target = single
            } else if pathExists(index) {
                target = index
            } else {
                throw LocatedError(path: path, error: .cannotOpen(reason: "no model.safetensors or model.safetensors.index.json in this folder"))
            }
        }

        var opened: [(file: InputFile, header: SafetensorsHeader)] = []
        if target.hasSuffix(".json") {
            let index = try located(target) { () throws(QKVError) in try Self.readIndex(target, limits: limits) }
            let folder = parentFolder(of: target)
            for shard in index.shards {
                let shardPath = joinPath(folder, shard)
                opened.append(try located(shardPath) { () throws(QKVError) in try Self.open(shardPath, limits: limits) })
            }
            try Self.crossCheck(index, shardNames: index.shards, opened.map(\.header), folder: folder)
        } else {
            opened.append(try located(target) { () throws(QKVError) in try Self.open(target, limits: limits) })
        }

        files = opened.map(\.file.path)
        shards = opened.map(\.file)
        metadata = opened.first?.header.metadata ?? [:]
        tensors = opened.flatMap(\.header.tensors)
        shardOfTensor = opened.enumerated().flatMap { index, shard in Array(repeating: index, count: shard.header.tensors.count) }
        // Names are unique: within a file the JSON parser rejects repeated keys, across shards crossCheck does.
        positionOfName = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func open(_ path: String, limits: SafetensorsHeader.Limits) throws(QKVError) -> (file: InputFile, header: SafetensorsHeader) {
        let file = try InputFile(path: path)
        return (file, try SafetensorsHeader(file: file, limits: limits))
    }

    private static func readIndex(_ path: String, limits: SafetensorsHeader.Limits) throws(QKVError) -> SafetensorsIndex {
        let file = try InputFile(path: path)
        guard file.size <= limits.maximumHeaderBytes else {
            throw .fileTooLarge(what: "shard index", size: file.size, maximum: limits.maximumHeaderBytes)
        }
        let bytes = try file.read(at: 0, count: Int(file.size))
        return try bytes.withBytes { (raw) throws(QKVError) -> SafetensorsIndex in try SafetensorsIndex(json: raw, limits: limits) }
    }

    /// Each tensor is in exactly one shard, and that is the shard weight_map names for it.
    private static func crossCheck(
        _ index: SafetensorsIndex, shardNames: [String], _ headers: [SafetensorsHeader], folder: String
    ) throws(LocatedError) {
        let listed = Dictionary(index.entries.map { ($0.tensor, $0.shard) }, uniquingKeysWith: { first, _ in first })
        var storedIn: [String: String] = [:]
        for (shard, header) in zip(shardNames, headers) {
            let shardPath = joinPath(folder, shard)
            for tensor in header.tensors {
                if let first = storedIn[tensor.name] {
                    throw LocatedError(path: shardPath, error: .tensorInTwoShards(tensor: tensor.name, first: first, second: shard))
                }
                storedIn[tensor.name] = shard
                guard listed[tensor.name] == shard else {
                    throw LocatedError(path: shardPath, error: .tensorNotInWeightMap(tensor: tensor.name, shard: shard, listedIn: listed[tensor.name]))
                }
            }
        }
        for entry in index.entries where storedIn[entry.tensor] == nil {
            throw LocatedError(path: joinPath(folder, entry.shard), error: .shardMissingTensor(tensor: entry.tensor, shard: entry.shard))
        }
    }

    public func tensorInfo(_ name: String) -> StoredTensor? {
        positionOfName[name].map { tensors[$0] }
    }

    /// The stored bytes of one tensor, valid while the archive is alive.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        try payload(name).bytes
    }

    /// Float32 values: F32 borrowed from the map when 4-byte aligned (else copied), F16/BF16 widened.
    /// Other dtypes are buffers, not weights, and throw `unsupportedTensorDType`.
    public func floats(_ name: String) throws -> FloatTensor {
        let (info, bytes, file) = try payload(name)
        guard info.dtype.isWeightType else {
            throw LocatedError(path: info.file, error: .unsupportedTensorDType(tensor: name, dtype: info.dtype.safetensorsName))
        }
        let count = info.elementCount
        if info.dtype == .f32, count > 0, let base = bytes.baseAddress,
           Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return FloatTensor(name: name, shape: info.shape, borrowing: base.assumingMemoryBound(to: Float.self), owner: file)
        }
        let values = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        if count > 0, let base = bytes.baseAddress {
            decodeFloats(base, dtype: info.dtype, count: count, into: values)
        }
        return FloatTensor(name: name, shape: info.shape, taking: values)
    }

    /// The tensor's bytes in its mapped shard, and the shard that owns the mapping.
    private func payload(_ name: String) throws(LocatedError) -> (info: StoredTensor, bytes: UnsafeRawBufferPointer, file: InputFile) {
        guard let position = positionOfName[name] else { throw LocatedError(path: path, error: .missingTensor(name)) }
        let info = tensors[position]
        let file = shards[shardOfTensor[position]]
        let mapping = try located(info.file) { () throws(QKVError) -> UnsafeRawBufferPointer in
            lock.lock()
            defer { lock.unlock() }
            return try file.mapped()
        }
        // Opening checked that every span lies inside the file, whose size the map has.
        let start = Int(info.fileOffset)
        let end = start + Int(info.storedBytes)
        guard end <= mapping.count else {
            throw LocatedError(
                path: info.file, error: .truncated(field: "tensor \(jsonQuoted(name))", offset: start, needed: Int(info.storedBytes), available: mapping.count - start))
        }
        return (info, UnsafeRawBufferPointer(rebasing: mapping[start..<end]), file)
    }
}
