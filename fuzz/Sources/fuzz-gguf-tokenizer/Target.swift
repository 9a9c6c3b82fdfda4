// Target gguf-tokenizer: a GGUF file (usually vocabulary-only: tokenizer.ggml.* keys, no
// tensors) and, after Framing.separator ("\0\0NEXT\0\0"), the text to tokenize (at most 1 KiB;
// else Pipeline.texts). The text goes through `qkv tokenize` (TextTokenization.tokens, with and
// without special tokens, table and JSON), then through the tokenizer the file's
// tokenizerSource() loads (TokenizerLoader.tokenizer(source:), llama.cpp's SentencePiece,
// byte-level BPE with its pre-tokenizers, WordPiece): ids and token texts. Where target gguf
// runs a whole model with fixed texts, this one lets the fuzzer change the text too.
import FuzzSupport
import QKVKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        let parts = Framing.parts(bytes, maximum: 2)
        let texts = parts.count > 1 ? [Pipeline.text(parts[1])] : Pipeline.texts
        let path = Workspace.shared.folder + "/vocab.gguf"
        Workspace.shared.with([("vocab.gguf", parts[0])]) {
            for text in texts {
                for special in [true, false] {
                    do {
                        let tokens = try TextTokenization.tokens(text, path: path, addSpecialTokens: special)
                        _ = TextTokenization.table(Array(tokens.prefix(256)))
                        _ = TextTokenization.json(Array(tokens.prefix(256))).rendered()
                    } catch {
                        Pipeline.describe(error)
                    }
                }
            }
            do {
                if let source = try FormatDetection.open(path: path).tokenizerSource(),
                   let tokenizer = try TokenizerLoader.tokenizer(source: source) {
                    Pipeline.exercise(tokenizer, texts: texts)
                }
            } catch {
                Pipeline.describe(error)
            }
        }
    }
}
