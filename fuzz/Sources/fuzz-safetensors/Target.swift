// Target safetensors: the input is one .safetensors file, alone in its folder (no config.json,
// so no architecture: open, inspect, decode), opened by its path.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        Workspace.shared.with([("model.safetensors", bytes)]) {
            Pipeline.run(path: Workspace.shared.folder + "/model.safetensors")
        }
    }
}
