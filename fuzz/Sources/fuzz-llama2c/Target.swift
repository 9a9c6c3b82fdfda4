// Target llama2c: a llama2.c checkpoint (model.bin), and when the input holds Framing.separator
// ("\0\0NEXT\0\0") the bytes after it are the tokenizer.bin given with --tokenizer.
import FuzzSupport
import QKVKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let parts = Framing.parts(bytes, maximum: 2)
        let folder = Workspace.shared.folder
        let files = [("model.bin", parts[0])] + (parts.count > 1 ? [("tokenizer.bin", parts[1])] : [])
        Workspace.shared.with(files) {
            Pipeline.run(path: folder + "/model.bin", tokenizer: parts.count > 1 ? .llama2c(path: folder + "/tokenizer.bin") : nil)
        }
    }
}
