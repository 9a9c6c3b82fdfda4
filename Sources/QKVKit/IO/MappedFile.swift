#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Something whose memory may be a read-only file map, whose pages can be given back to the OS.
protocol MappedPagesOwner: AnyObject {
    /// Drops the resident pages lying wholly inside `range`, if `range` is inside a read-only file
    /// map (the pages are re-read from the file when touched again); otherwise does nothing.
    func releaseResidentPages(_ range: UnsafeRawBufferPointer)
}

/// A read-only file: positional reads for headers, and a memory map for payloads.
///
/// `inspect` uses only `read(at:count:)`, so it never touches the pages of the weights.
public final class InputFile: @unchecked Sendable {
    public let path: String
    public let size: UInt64
    private let descriptor: Int32
    private var mapping: UnsafeRawBufferPointer?

    public init(path: String) throws(QKVError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotOpen(reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .cannotOpen(reason: (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "not a regular file")
        }
        descriptor = fd
        size = UInt64(info.st_size)
    }

    deinit {
        if let mapping, let base = mapping.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), mapping.count)
        }
        close(descriptor)
    }

    /// Up to `count` bytes starting at `offset` (fewer only at the end of the file).
    public func read(at offset: UInt64, count: Int) throws(QKVError) -> [UInt8] {
        guard offset < size, count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: Int(min(UInt64(count), size - offset)))
        let done = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(QKVError) -> Int in try read(at: offset, into: raw) }
        }.get()
        if done < buffer.count { buffer.removeSubrange(done...) }
        return buffer
    }

    /// Fills `buffer` from `offset` on; returns how many bytes there were.
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(QKVError) -> Int {
        guard offset < size, let base = buffer.baseAddress else { return 0 }
        let wanted = Int(min(UInt64(buffer.count), size - offset))
        var done = 0
        while done < wanted {
            let got = pread(descriptor, base + done, wanted - done, off_t(offset) + off_t(done))
            if got < 0 {
                if errno == EINTR { continue }
                throw .cannotOpen(reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// The whole file mapped read-only; pages are read only when touched.
    public func mapped() throws(QKVError) -> UnsafeRawBufferPointer {
        if let mapping { return mapping }
        guard size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard size <= UInt64(Int.max) else { throw .cannotOpen(reason: "file too large to map") }
        let pointer = mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw .cannotOpen(reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let buffer = UnsafeRawBufferPointer(start: pointer, count: Int(size))
        mapping = buffer
        return buffer
    }

    /// Reads the file front to back in chunks, for streaming decompression without a map.
    public func chunkReader(from start: UInt64 = 0, chunkSize: Int = 1 << 20) -> () throws(QKVError) -> UnsafeRawBufferPointer? {
        let chunk = ChunkBuffer(byteCount: chunkSize)
        var position = start
        return { [self] () throws(QKVError) -> UnsafeRawBufferPointer? in
            let got = try read(at: position, into: chunk.storage)
            guard got > 0 else { return nil }
            position += UInt64(got)
            return UnsafeRawBufferPointer(rebasing: chunk.storage[0..<got])
        }
    }
}

/// Memory that stays at one address while zlib reads from it between calls.
private final class ChunkBuffer {
    let storage: UnsafeMutableRawBufferPointer

    init(byteCount: Int) {
        storage = .allocate(byteCount: byteCount, alignment: 16)
    }

    deinit { storage.deallocate() }
}

extension InputFile: MappedPagesOwner {
    func releaseResidentPages(_ range: UnsafeRawBufferPointer) {
        guard let mapping, let base = mapping.baseAddress, let start = range.baseAddress else { return }
        let mapStart = UInt(bitPattern: base), mapEnd = mapStart + UInt(mapping.count)
        let first = UInt(bitPattern: start), last = first + UInt(range.count)
        guard first >= mapStart, last <= mapEnd else { return }
        // Only pages wholly inside the range: the neighbours' bytes on shared pages stay put.
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let lower = (first + page - 1) / page * page, upper = last / page * page
        guard upper > lower, let pointer = UnsafeMutableRawPointer(bitPattern: lower) else { return }
        _ = madvise(pointer, Int(upper - lower), Int32(MADV_DONTNEED))
    }
}
