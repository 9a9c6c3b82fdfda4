// Target qkv-wrapped: the input is byte 0, then a plain QKV v1 file; the target wraps the file
// (its header CRC-32 repaired) in a whole-file gzip member when bit 0 of byte 0 is set, else in
// a zlib stream, at compression level (byte 0 >> 1) % 10, and opens the wrapped file. So every
// mutation of the inner file goes through the inflating reader (a fuzzer rarely writes valid
// deflate data itself; target qkv covers broken wrappers).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        guard let mode = bytes.first else { return }
        let inner = Array(bytes.dropFirst())
        let file = QKVRepair.headerChecksum(inner) ?? inner
        let wrapped = Deflate.compress(file, container: mode & 1 == 1 ? .gzip : .zlib, level: Int(mode >> 1) % 10)
        Workspace.shared.with([("model.qkv", wrapped)]) {
            Pipeline.run(path: Workspace.shared.folder + "/model.qkv")
        }
    }
}
