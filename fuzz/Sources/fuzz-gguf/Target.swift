// Target gguf: one GGUF file (model.gguf), or, when the input holds Framing.separator
// ("\0\0NEXT\0\0"), the shards of a split model: up to 4 parts written as
// model-0000k-of-0000n.gguf, of which the first is opened (opening any shard opens them all).
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let parts = Framing.parts(bytes, maximum: 4)
        if parts.count == 1 {
            Workspace.shared.with([("model.gguf", bytes)]) {
                Pipeline.run(path: Workspace.shared.folder + "/model.gguf")
            }
            return
        }
        let names = parts.indices.map { "model-0000\($0 + 1)-of-0000\(parts.count).gguf" }
        Workspace.shared.with(Array(zip(names, parts))) {
            Pipeline.run(path: Workspace.shared.folder + "/" + names[0])
        }
    }
}
