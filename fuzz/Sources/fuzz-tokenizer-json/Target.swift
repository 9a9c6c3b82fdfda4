// Target tokenizer-json: a Hugging Face tokenizer.json, read as a model folder's tokenizer is
// (TokenizerLoader.load(tokenizerJSON:), what Checkpoint.textTokenizer() calls), then used on
// Pipeline.texts; when the input holds Framing.separator ("\0\0NEXT\0\0") the bytes after it
// are the text to tokenize instead (at most 1 KiB).
import FuzzSupport
import Foundation
import QKVKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let parts = Framing.parts(bytes, maximum: 2)
        let texts = parts.count > 1 ? [Pipeline.text(parts[1])] : Pipeline.texts
        Workspace.shared.with([("tokenizer.json", parts[0])]) {
            do {
                let tokenizer = try TokenizerLoader.load(tokenizerJSON: URL(fileURLWithPath: Workspace.shared.folder + "/tokenizer.json"))
                Pipeline.exercise(tokenizer, texts: texts)
            } catch {
                Pipeline.describe(error)
            }
        }
    }
}
