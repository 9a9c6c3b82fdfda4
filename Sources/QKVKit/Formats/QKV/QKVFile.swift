import Foundation

/// A QKV v1 file, plain or inside a whole-file zlib/gzip stream.
///
/// Opening reads only the preamble and header block (for a wrapped file, inflates only that far);
/// payloads are mapped or inflated on the first request for a tensor.
public final class QKVFile: TensorContainer, @unchecked Sendable {
    public let path: String
    public let format = CheckpointFormat(name: "qkv", description: "qkv v1", hasChecksums: true)
    public let header: QKVHeader
    /// The whole-file wrapper, if any.
    public let wrapper: DeflateContainer?
    private let file: InputFile
    private let lock = NSLock()
    private var contents: UnsafeRawBufferPointer?
    private var ownedContents: UnsafeMutableRawBufferPointer?
    /// Where shuffled payloads inflate before un-shuffling; kept between tensors so its pages are
    /// faulted in once, not once per tensor.
    private let staging = StagingBuffer()

    public var compression: String {
        switch wrapper {
        case nil: "none"
        case .zlib?: "zlib"
        case .gzip?: "gzip"
        }
    }

    /// Metadata key holding a Hugging Face `tokenizer.json`, so converted models keep `--text`.
    public static let tokenizerJSONKey = "tokenizer.huggingface.json"

    public var metadata: Metadata { header.metadata }
    public var tensors: [StoredTensor] { header.tensors }

    /// The architecture is `qkv.architecture`; settings are the `qkv.*` keys; names are canonical.
    public var model: ModelSource {
        // A wrong type is reported when the settings are read.
        let architecture: String? = if case let .string(name)? = metadata["qkv.architecture"] { name } else { nil }
        return ModelSource(architecture: architecture, settings: .qkv(metadata), naming: .canonical)
    }

    public init(path: String) throws(QKVError) {
        self.path = path
        file = try InputFile(path: path)
        let first = try file.read(at: 0, count: QKVHeader.preambleSize)
        wrapper = detectDeflateContainer(first)
        if let wrapper {
            header = try Self.readWrappedHeader(file, container: wrapper)
        } else {
            header = try Self.readPlainHeader(file, first: first)
        }
    }

    deinit { ownedContents?.deallocate() }

    private static func readPlainHeader(_ file: InputFile, first: [UInt8]) throws(QKVError) -> QKVHeader {
        let preamble = try QKVHeader.Preamble(first)
        let available = file.size - UInt64(QKVHeader.preambleSize)
        guard preamble.headerBytes <= available else {
            throw .truncated(
                field: "header block", offset: QKVHeader.preambleSize,
                needed: Int(clamping: preamble.headerBytes), available: Int(available))
        }
        let block = try file.read(at: UInt64(QKVHeader.preambleSize), count: Int(preamble.headerBytes))
        let header = try block.withBytes { (raw) throws(QKVError) -> QKVHeader in
            try QKVHeader(preamble: preamble, block: raw, path: file.path)
        }
        guard header.fileSize == file.size else {
            throw .fileSizeMismatch(expected: header.fileSize, found: file.size)
        }
        let headerEnd = UInt64(QKVHeader.preambleSize) + header.headerBytes
        let padding = try file.read(at: headerEnd, count: Int(header.dataStart - headerEnd))
        if let bad = padding.firstIndex(where: { $0 != 0 }) {
            throw .nonZeroPadding(offset: headerEnd + UInt64(bad))
        }
        return header
    }

    private static func readWrappedHeader(_ file: InputFile, container: DeflateContainer) throws(QKVError) -> QKVHeader {
        let what = container == .gzip ? "whole-file gzip stream" : "whole-file zlib stream"
        let inflater = try Inflater(container: container, what: what, nextInput: file.chunkReader(chunkSize: 1 << 16))
        let preambleBytes = try inflateGrowing(inflater, count: UInt64(QKVHeader.preambleSize), what: what, field: "preamble")
        let preamble = try QKVHeader.Preamble(preambleBytes)
        let limit = file.size.multipliedReportingOverflow(by: maximumDeflateRatio)
        let dataStart = try preamble.dataStart
        guard !limit.overflow, dataStart <= limit.partialValue else {
            throw .compressionRatioTooHigh(what: what, decodedBytes: dataStart, storedBytes: file.size)
        }
        let block = try inflateGrowing(inflater, count: preamble.headerBytes, what: what, field: "header block")
        let header = try block.withBytes { (raw) throws(QKVError) -> QKVHeader in
            try QKVHeader(preamble: preamble, block: raw, path: file.path)
        }
        guard header.fileSize <= limit.partialValue else {
            throw .compressionRatioTooHigh(what: what, decodedBytes: header.fileSize, storedBytes: file.size)
        }
        let headerEnd = UInt64(QKVHeader.preambleSize) + header.headerBytes
        let padding = try inflateGrowing(inflater, count: header.dataStart - headerEnd, what: what, field: "header padding")
        if let bad = padding.firstIndex(where: { $0 != 0 }) {
            throw .nonZeroPadding(offset: headerEnd + UInt64(bad))
        }
        return header
    }

    /// Inflates `count` bytes, growing the buffer only as the stream actually delivers them.
    private static func inflateGrowing(_ inflater: Inflater, count: UInt64, what: String, field: String) throws(QKVError) -> [UInt8] {
        var result: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while UInt64(result.count) < count {
            let want = Int(min(UInt64(chunk.count), count - UInt64(result.count)))
            let got = try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]))
            result.append(contentsOf: chunk[0..<got])
            if got < want {
                throw .truncated(
                    field: field, offset: Int(inflater.totalOut), needed: Int(clamping: count) - result.count + got,
                    available: got)
            }
        }
        return result
    }

    /// The whole (inflated) file: mapped when plain, inflated once when wrapped. Checks the padding.
    public func fileContents() throws(QKVError) -> UnsafeRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        if let contents { return contents }
        let bytes: UnsafeRawBufferPointer
        if let wrapper {
            let what = wrapper == .gzip ? "whole-file gzip stream" : "whole-file zlib stream"
            let inflater = try Inflater(container: wrapper, what: what, nextInput: file.chunkReader())
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(header.fileSize), alignment: 64)
            do throws(QKVError) {
                let got = try inflater.read(into: buffer)
                guard got == buffer.count else {
                    throw QKVError.inflatedSizeMismatch(what: what, expected: header.fileSize, found: UInt64(got))
                }
                try inflater.finish(expectedTotal: header.fileSize)
                // Before the buffer is kept: a failed check leaves nothing behind, and the next
                // request inflates afresh.
                try checkPadding(UnsafeRawBufferPointer(buffer))
            } catch {
                buffer.deallocate()
                throw error
            }
            ownedContents = buffer
            bytes = UnsafeRawBufferPointer(buffer)
        } else {
            bytes = try file.mapped()
            try checkPadding(bytes)
        }
        contents = bytes
        return bytes
    }

    /// Padding between payloads must be zero; only the few bytes between tensors are touched.
    private func checkPadding(_ bytes: UnsafeRawBufferPointer) throws(QKVError) {
        for (index, tensor) in tensors.enumerated() {
            let end = Int(tensor.fileOffset + tensor.storedBytes)
            let next = index + 1 < tensors.count ? Int(tensors[index + 1].fileOffset) : end
            if let bad = bytes[end..<next].firstIndex(where: { $0 != 0 }) {
                throw .nonZeroPadding(offset: UInt64(bad))
            }
        }
    }

    public func decode(_ info: StoredTensor, verify: Bool, threads: Int) throws -> FloatTensor {
        do throws(QKVError) {
            return try decodeTensor(info, verify: verify, threads: threads)
        } catch {
            throw LocatedError(path: path, error: error)
        }
    }

    /// Raw payloads lie in the (mapped or inflated) file as stored; compressed ones do not.
    public func storedBytes(_ info: StoredTensor, verify: Bool, threads: Int) throws -> StoredBytes? {
        guard info.encoding == .raw else { return nil }
        return try located(path) { () throws(QKVError) in
            let bytes = try fileContents()
            let payload = UnsafeRawBufferPointer(rebasing: bytes[Int(info.fileOffset)..<Int(info.fileOffset + info.storedBytes)])
            if verify { try checkCRC(info, computed: CRC32.parallelChecksum(payload, threads: threads)) }
            return StoredBytes(bytes: payload, owner: self)
        }
    }

    func decodeTensor(_ info: StoredTensor, verify: Bool, threads: Int) throws(QKVError) -> FloatTensor {
        let bytes = try fileContents()
        let payload = UnsafeRawBufferPointer(rebasing: bytes[Int(info.fileOffset)..<Int(info.fileOffset + info.storedBytes)])
        let count = info.elementCount
        let decodedBytes = info.decodedBytes
        switch info.encoding {
        case .raw:
            if verify { try checkCRC(info, computed: CRC32.parallelChecksum(payload, threads: threads)) }
            if info.dtype == .f32, let base = payload.baseAddress,
               Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
                // Raw f32 is used straight from the map: no copy.
                return FloatTensor(name: info.name, shape: info.shape, borrowing: base.assumingMemoryBound(to: Float.self), owner: self)
            }
            let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
            decodeFloats(payload.baseAddress!, dtype: info.dtype, count: count, into: floats)
            return FloatTensor(name: info.name, shape: info.shape, taking: floats)
        case .zlib, .shuffleZlib:
            // Inflate straight into the memory that ends up holding the element bytes: for f32 that
            // is the returned tensor itself; only shuffling and half types need one staging buffer.
            let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
            let isF32 = info.dtype == .f32 && isLittleEndianHost
            let elements = isF32
                ? UnsafeMutableRawBufferPointer(start: floats, count: decodedBytes)
                : UnsafeMutableRawBufferPointer.allocate(byteCount: decodedBytes, alignment: 64)
            defer { if !isF32 { elements.deallocate() } }
            do throws(QKVError) {
                let compressed = CompressedPayload(
                    stream: payload, elementSize: info.dtype.byteSize, isShuffled: info.encoding == .shuffleZlib,
                    what: "tensor \"\(info.name)\"")
                let crc = if compressed.isShuffled {
                    try staging.withBuffer(byteCount: decodedBytes) { (planes) throws(QKVError) in
                        try compressed.decode(into: elements, planes: planes, computeCRC: verify, threads: threads)
                    }
                } else {
                    try compressed.decode(into: elements, planes: nil, computeCRC: verify, threads: threads)
                }
                if let crc { try checkCRC(info, computed: crc) }
            } catch {
                floats.deallocate()
                throw error
            }
            if !isF32 { decodeFloats(elements.baseAddress!, dtype: info.dtype, count: count, into: floats) }
            return FloatTensor(name: info.name, shape: info.shape, taking: floats)
        }
    }

    private func checkCRC(_ info: StoredTensor, computed: UInt32) throws(QKVError) {
        if let expected = info.crc32, computed != expected {
            throw .tensorChecksumMismatch(tensor: info.name, expected: expected, found: computed)
        }
    }

    /// The Hugging Face `tokenizer.json` a converted model carries, else the token list.
    public func tokenizerSource() throws -> TokenizerSource? {
        do throws(QKVError) {
            if let json = try metadata.string(Self.tokenizerJSONKey) {
                return .huggingFaceJSON(Array(json.utf8), file: Self.tokenizerJSONKey)
            }
            return try metadata.strings("tokenizer.tokens").map { .tokenList($0) }
        } catch {
            throw LocatedError(path: path, error: error)
        }
    }

    public var tokenizerLocations: String { "metadata \(Self.tokenizerJSONKey) and tokenizer.tokens" }

    /// The padding between payloads, checked once before `verify` decodes every tensor.
    public func structuralProblems() -> [VerificationProblem] {
        do {
            _ = try fileContents()
            return []
        } catch {
            return [VerificationProblem(file: path, error: error)]
        }
    }
}

/// QKV stores little-endian elements; on such hosts f32 payloads need no conversion.
let isLittleEndianHost = 1.littleEndian == 1

/// Recognises a whole-file wrapper by its first two bytes (RFC 1952 magic, RFC 1950 header check).
public func detectDeflateContainer(_ bytes: [UInt8]) -> DeflateContainer? {
    guard bytes.count >= 2 else { return nil }
    if bytes[0] == 0x1F && bytes[1] == 0x8B { return .gzip }
    if bytes[0] & 0x0F == 8 && (UInt16(bytes[0]) << 8 | UInt16(bytes[1])) % 31 == 0 { return .zlib }
    return nil
}

/// Scratch memory reused across calls, one user at a time.
final class StagingBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: UnsafeMutableRawBufferPointer?

    func withBuffer<Result>(
        byteCount: Int, _ body: (UnsafeMutableRawBufferPointer) throws(QKVError) -> Result
    ) throws(QKVError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        if (storage?.count ?? -1) < byteCount {
            storage?.deallocate()
            storage = .allocate(byteCount: max(byteCount, 1), alignment: 64)
        }
        return try body(UnsafeMutableRawBufferPointer(rebasing: storage![0..<byteCount]))
    }

    deinit { storage?.deallocate() }
}

/// Applies the byte shuffle: shuffled[j*n + i] = raw[i*s + j].
func shuffle(_ raw: UnsafeRawBufferPointer, elementSize s: Int) -> [UInt8] {
    let n = raw.count / s
    var shuffled = [UInt8](repeating: 0, count: raw.count)
    for i in 0..<n {
        for j in 0..<s { shuffled[j * n + i] = raw[i * s + j] }
    }
    return shuffled
}

extension QKVFile: MappedPagesOwner {
    func releaseResidentPages(_ range: UnsafeRawBufferPointer) { file.releaseResidentPages(range) }
}
