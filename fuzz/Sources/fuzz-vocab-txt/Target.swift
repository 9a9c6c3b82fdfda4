// Target vocab-txt: a BERT vocab.txt and, after Framing.separator ("\0\0NEXT\0\0"), its
// tokenizer_config.json (absent when empty or missing), then optionally, after a second
// separator, the text to tokenize (else Pipeline.texts). Read as a model folder without
// tokenizer.json is (TokenizerLoader.load(wordPieceVocabulary:config:)).
import FuzzSupport
import Foundation
import QKVKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let parts = Framing.parts(bytes, maximum: 3)
        let texts = parts.count > 2 ? [Pipeline.text(parts[2])] : Pipeline.texts
        let hasConfig = parts.count > 1 && !parts[1].isEmpty
        let folder = Workspace.shared.folder
        Workspace.shared.with([("vocab.txt", parts[0])] + (hasConfig ? [("tokenizer_config.json", parts[1])] : [])) {
            do {
                let tokenizer = try TokenizerLoader.load(
                    wordPieceVocabulary: URL(fileURLWithPath: folder + "/vocab.txt"),
                    config: hasConfig ? URL(fileURLWithPath: folder + "/tokenizer_config.json") : nil)
                Pipeline.exercise(tokenizer, texts: texts)
            } catch {
                Pipeline.describe(error)
            }
        }
    }
}
