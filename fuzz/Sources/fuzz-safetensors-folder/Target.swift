// Target safetensors-folder: a Hugging Face model folder, opened by its path. The input is up to
// nine files separated by Framing.separator ("\0\0NEXT\0\0"), in this order; an empty (or
// missing) part means the file is absent:
//   0 config.json   1 model.safetensors   2 tokenizer.json   3 vocab.txt   4 tokenizer_config.json
//   5 model.safetensors.index.json   6-8 model-0000{1,2,3}-of-00003.safetensors
// (model.safetensors wins over the index when both are there, as in transformers).
import FuzzSupport

let names = [
    "config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
    "model.safetensors.index.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let parts = Framing.parts(bytes, maximum: names.count)
        let folder = Workspace.shared.makeFolder("model")
        let files = zip(names, parts).filter { !$0.1.isEmpty }.map { ("model/" + $0.0, $0.1) }
        Workspace.shared.with(files) {
            Pipeline.run(path: folder)
        }
    }
}
