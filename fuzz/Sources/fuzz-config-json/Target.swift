// Target config-json: the input is a config.json, put in a model folder beside the weights and
// tokenizer of a tiny model (fuzz/models/ARCH, made by fuzz/make_seeds.py) of the architecture
// its bytes name first among qwen3, qwen2, mistral, gpt2, bert, attention, else llama; the
// folder goes through Pipeline.run. The weights stay valid, so every input reaches the settings.
import FuzzSupport
import Foundation

/// fuzz/models, found from this file's path (the fuzzers run from a checkout).
let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("models").path

let architectures = ["qwen3", "qwen2", "mistral", "gpt2", "bert", "llama"]

/// Each architecture's files other than config.json, read once.
let companions: [String: [(String, [UInt8])]] = Dictionary(uniqueKeysWithValues: architectures.map { name in
    let folder = models + "/" + name
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().filter { $0 != "config.json" }
    precondition(files.contains("model.safetensors"), "no \(folder)/model.safetensors: run python3 fuzz/make_seeds.py")
    return (name, files.map { ("model/" + $0, [UInt8](FileManager.default.contents(atPath: folder + "/" + $0)!)) })
})

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let architecture = architectures.first { text.contains($0) } ?? "llama"
        let folder = Workspace.shared.makeFolder("model")
        Workspace.shared.with([("model/config.json", bytes)] + companions[architecture]!) {
            Pipeline.run(path: folder)
        }
    }
}
