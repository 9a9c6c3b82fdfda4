import Foundation
import QKVKit

/// What the command line does with a checkpoint, in its order, with every error swallowed (an
/// error is the right answer to a bad file; a crash, trap, leak, hang or runaway allocation is
/// not): open (`CheckpointLoader.open`, the path every command starts with), inspect (the text,
/// Markdown and JSON reports), decode every tensor (`verify`), tokenize short texts (`run --text`
/// and `run --tokens`), run the forward pass (`run`) on the tokens found, and convert to QKV
/// (`convert`), which must give a file that opens and verifies.
///
/// Work per input is bounded so that libFuzzer's limits (2 GB, 10 s per input) measure bugs, not
/// legal files that describe large models: tensors are decoded only while their float32 total
/// stays within `maximumDecodedBytes`, and the forward pass runs only on models whose weights
/// fit `maximumForwardBytes`. Every header is still read and checked whatever it describes.
public enum Pipeline {
    /// Float32 bytes decoded per input (the values of every floating-point tensor).
    public static let maximumDecodedBytes = 64 << 20
    /// Float32 bytes of weights a model may have for the forward pass to run.
    public static let maximumForwardBytes = 16 << 20
    /// Float32 bytes of tensors a checkpoint may have for `convert` to run.
    public static let maximumConvertBytes = 4 << 20
    /// Tokens the forward pass runs on.
    public static let maximumTokens = 8

    /// Short texts for `--text`: ASCII words, the seed vocabulary, punctuation and digits,
    /// accents, CJK, emoji, control and special-token text.
    public static let texts = [
        "Hello world, the cat sat.",
        "x1 x2 x3",
        "t0 t1 t2 t3",
        "naïve café 12345 ÀÉ 日本語 🙂\u{0}\t\r\n [CLS] <s></s> <unk>",
    ]

    /// Opens `path` as the command line does (with `tokenizer`, `--tokenizer`) and takes the
    /// checkpoint through every step.
    public static func run(path: String, tokenizer: TokenizerFile? = nil, texts: [String] = texts) {
        tokenizeOnly(path: path, tokenizer: tokenizer, texts: texts)
        let checkpoint: Checkpoint
        do {
            checkpoint = try CheckpointLoader.open(path: path, tokenizer: tokenizer)
        } catch {
            describe(error)
            return
        }
        inspect(checkpoint)
        decode(checkpoint)
        let ids = tokenize(checkpoint, texts: texts)
        forward(checkpoint, ids: ids)
        convert(checkpoint)
    }

    /// Prints each error when set (`QKV_FUZZ_VERBOSE=1 fuzz-NAME FILE` shows what a reproducer does).
    static let verbose = ProcessInfo.processInfo.environment["QKV_FUZZ_VERBOSE"] != nil

    /// The error's message, as the command line prints it.
    public static func describe(_ error: any Error) {
        let message = String(describing: error)
        if verbose { FileHandle.standardError.write(Data("error: \(message)\n".utf8)) }
    }

    /// `qkv tokenize` (with and without special tokens, as a table and as JSON): the file's own
    /// tokenizer without its model settings, so files whose model does not open still get here.
    static func tokenizeOnly(path: String, tokenizer: TokenizerFile?, texts: [String]) {
        for (index, text) in texts.prefix(2).enumerated() {
            do {
                let tokens = try TextTokenization.tokens(text, path: path, tokenizer: tokenizer, addSpecialTokens: index == 0)
                _ = TextTokenization.table(Array(tokens.prefix(256)))
                _ = TextTokenization.json(Array(tokens.prefix(256))).rendered()
            } catch {
                describe(error)
            }
        }
    }

    /// `qkv inspect` in each format, with and without the tensor rows.
    static func inspect(_ checkpoint: Checkpoint) {
        let report = InspectReport(checkpoint)
        _ = report.text(showTensors: true, markdown: false)
        _ = report.text(showTensors: false, markdown: true)
        _ = report.json().rendered(indent: 2)
        _ = report.json(full: true).rendered()
    }

    /// Float32 bytes of these tensors, saturating.
    static func floatBytes(_ tensors: [TensorInfo]) -> Int {
        var total = 0
        for tensor in tensors {
            let (bytes, overflow) = tensor.elementCount.multipliedReportingOverflow(by: 4)
            let (sum, overflowSum) = total.addingReportingOverflow(bytes)
            if overflow || overflowSum { return .max }
            total = sum
        }
        return total
    }

    /// `qkv verify` when the decoded total is within bounds; else each tensor that fits what is
    /// left of the bound, as `run` would load them. Integer buffers are asked for too (an error).
    static func decode(_ checkpoint: Checkpoint) {
        let floating = checkpoint.tensors.filter { $0.dtype.isFloatingPoint }
        if floatBytes(floating) <= maximumDecodedBytes {
            let verification = checkpoint.verifyAll(threads: 1)
            for problem in verification.problems { _ = problem.description }
        } else {
            for problem in checkpoint.container.structuralProblems() { _ = problem.description }
            var budget = maximumDecodedBytes
            for tensor in floating {
                let bytes = floatBytes([tensor])
                guard bytes <= budget else { continue }
                budget -= bytes
                do { _ = try checkpoint.floats(tensor.name, verify: true, threads: 1) } catch { describe(error) }
            }
        }
        for tensor in checkpoint.tensors where !tensor.dtype.isFloatingPoint {
            do { _ = try checkpoint.floats(tensor.name, verify: true, threads: 1) } catch { describe(error) }
        }
    }

    /// The model's tokenizer on each text, then `run --text` and `run --tokens`' token choice.
    /// Returns the ids of the first input the model accepts, for the forward pass.
    static func tokenize(_ checkpoint: Checkpoint, texts: [String]) -> [Int]? {
        var accepted: [Int]?
        do {
            if let tokenizer = try checkpoint.textTokenizer() {
                exercise(tokenizer, texts: texts)
            }
        } catch {
            describe(error)
        }
        for input in texts.map(AttentionRequest.Input.text) + [.tokens("0,1 2"), .tokens("x1 t1 -1"), .tokens("0")] {
            do {
                let tokens = try AttentionRunner.tokens(for: input, checkpoint: checkpoint)
                if accepted == nil { accepted = tokens.map(\.id) }
            } catch {
                describe(error)
            }
        }
        return accepted
    }

    /// `qkv run` with unchecked payloads (`--no-verify`, so a changed checksum does not stop the
    /// weights from reaching the kernels), on models small enough.
    static func forward(_ checkpoint: Checkpoint, ids: [Int]?) {
        guard let ids, !ids.isEmpty, let (config, _) = try? checkpoint.runnable(),
              floatBytes(checkpoint.tensors) <= maximumForwardBytes
        else { return }
        do {
            let model = try ModelLoader.load(checkpoint, verify: false, threads: 1)
            let layers = Array(0 ..< config.layerCount)
            for attention in try model.attention(tokens: Array(ids.prefix(maximumTokens)), layers: layers) {
                _ = attention.heads.count
            }
        } catch {
            describe(error)
        }
    }

    /// `qkv convert` (f32, raw) on checkpoints small enough; whatever convert writes must open
    /// again: a converted file qkv cannot read is a bug, reported as a crash.
    static func convert(_ checkpoint: Checkpoint) {
        guard floatBytes(checkpoint.tensors) <= maximumConvertBytes else { return }
        let bytes: [UInt8]
        do {
            bytes = try QKVConverter().convert(checkpoint, threads: 1).bytes
        } catch {
            describe(error)
            return
        }
        let path = Workspace.shared.write("converted.qkv", bytes)
        do {
            let converted = try CheckpointLoader.open(path: path)
            for problem in converted.verifyAll(threads: 1).problems {
                guard case .nonFiniteWeight = problem.error else {
                    fatalError("qkv convert wrote a file that fails verify: \(problem)")
                }
            }
        } catch {
            fatalError("qkv convert wrote a file qkv cannot open: \(error)")
        }
    }
}
