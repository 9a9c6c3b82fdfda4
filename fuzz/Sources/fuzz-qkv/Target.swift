// Target qkv: the input is one file, opened as the command line opens a path (a QKV v1 file,
// plain or wrapped in zlib or gzip, recognised by content; anything else reaches the other
// readers' detection too). When the input's header CRC-32 is wrong it runs a second time with
// it repaired, so mutations of the header reach the checks behind the checksum.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        Workspace.shared.with([("model.qkv", bytes)]) {
            Pipeline.run(path: Workspace.shared.folder + "/model.qkv")
        }
        if let repaired = QKVRepair.headerChecksum(bytes) {
            Workspace.shared.with([("model.qkv", repaired)]) {
                Pipeline.run(path: Workspace.shared.folder + "/model.qkv")
            }
        }
    }
}
