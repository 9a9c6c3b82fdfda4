import Foundation

/// An opened checkpoint file (or folder) of one format, as its reader sees it: the tensor
/// directory with stored names, metadata, where the model's settings and tokenizer are. Known
/// after reading the header alone; payloads are decoded on request.
///
/// Readers know formats, not architectures: `Checkpoint` (Model) turns the stored names into
/// canonical ones and the settings into a `ModelConfig`.
public protocol TensorContainer: AnyObject, Sendable {
    /// The path the user gave (a file or a model folder).
    var path: String { get }
    var format: CheckpointFormat { get }
    /// "none", "zlib" or "gzip" (whole-file wrapper).
    var compression: String { get }
    var metadata: Metadata { get }
    /// Every tensor, parameters and buffers, in file order, under its stored name.
    var tensors: [StoredTensor] { get }
    /// The architecture the file names and where its settings are.
    var model: ModelSource { get }

    /// Decodes one tensor to Float32. With `verify`, checks its checksum first (where the format
    /// has one). `threads` bounds the threads decoding may use.
    func decode(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> FloatTensor
    /// The tensor's bytes exactly as stored, when they can be read in place (memory-mapped, not
    /// compressed), with the object that keeps them alive; nil otherwise. With `verify`, checks
    /// the checksum first (where the format has one).
    func storedBytes(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> StoredBytes?
    /// Problems with the file as a whole that `verify` reports before decoding tensors (padding).
    func structuralProblems() -> [VerificationProblem]
    /// Where the model's own tokenizer is, if it has one.
    func tokenizerSource() throws -> TokenizerSource?
    /// Where the reader looks for a tokenizer, for the message when there is none.
    var tokenizerLocations: String { get }
}

extension TensorContainer {
    public func structuralProblems() -> [VerificationProblem] { [] }
    public func storedBytes(_ tensor: StoredTensor, verify: Bool, threads: Int) throws -> StoredBytes? { nil }
}

/// A tensor's stored bytes, valid while `owner` lives (a file map, or an inflated file).
public struct StoredBytes: @unchecked Sendable {
    public var bytes: UnsafeRawBufferPointer
    public var owner: AnyObject

    public init(bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.bytes = bytes
        self.owner = owner
    }
}

/// A format qkv reads, with what `verify` can check in it.
public struct CheckpointFormat: Sendable, Equatable {
    /// "qkv", "safetensors", "gguf", "llama2c".
    public var name: String
    /// As inspect shows it: "qkv v1", "gguf v3".
    public var description: String
    /// Whether the format stores a checksum per tensor.
    public var hasChecksums: Bool

    public init(name: String, description: String, hasChecksums: Bool) {
        self.name = name
        self.description = description
        self.hasChecksums = hasChecksums
    }
}

/// What a file says about the model it holds.
public struct ModelSource: Sendable {
    /// The architecture as the file names it (`model_type`, `qkv.architecture`,
    /// `general.architecture`, …), or nil when it names none (a lone `.safetensors`).
    public var architecture: String?
    public var settings: SettingsSource
    public var naming: NamingScheme

    public init(architecture: String?, settings: SettingsSource, naming: NamingScheme) {
        self.architecture = architecture
        self.settings = settings
        self.naming = naming
    }
}

/// Where the model's settings are written.
public enum SettingsSource: Sendable {
    /// A Hugging Face `config.json`, parsed.
    case huggingFace(StrictJSON.Value, file: String)
    /// QKV's own `qkv.*` metadata keys.
    case qkv(Metadata)
    /// GGUF metadata, whose keys start with the architecture (`llama.block_count`).
    case gguf(Metadata, architecture: String)
    case none
}

/// How a format names its tensors.
public enum NamingScheme: Sendable, Equatable {
    /// qkv's canonical names (docs/FORMAT.md): QKV files, and readers that synthesize them.
    case canonical
    /// Hugging Face module paths, which differ per architecture.
    case huggingFace
    /// llama.cpp's GGUF names (`blk.N.attn_q.weight`).
    case gguf
}

/// Where a checkpoint's own tokenizer is.
public enum TokenizerSource: Sendable {
    /// A Hugging Face `tokenizer.json` file.
    case huggingFaceJSONFile(URL)
    /// The text of a Hugging Face `tokenizer.json` kept elsewhere; `file` names it in errors.
    case huggingFaceJSON([UInt8], file: String)
    /// A BERT `vocab.txt`, with its `tokenizer_config.json` when present.
    case wordPieceVocabulary(URL, config: URL?)
    /// The tokenizer keys of a GGUF header.
    case gguf(GGUFHeader)
    /// Only a list of token strings (`tokenizer.tokens`): `--text` splits on whitespace.
    case tokenList([String])
    /// A llama2.c `tokenizer.bin`, read and checked against the model's vocab_size.
    case llama2c(Llama2cVocabulary)
}

/// A tokenizer kept in a file of its own, given beside a checkpoint that holds none.
public enum TokenizerFile: Sendable, Equatable {
    /// A llama2.c `tokenizer.bin` (llama2.c's tokenizer.py `export`), for llama2.c checkpoints
    /// only: it must hold exactly the model's vocab_size tokens.
    case llama2c(path: String)

    public var path: String {
        switch self {
        case let .llama2c(path): path
        }
    }
}

/// One thing `verify` found wrong.
public struct VerificationProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var error: QKVError

    public init(file: String, error: QKVError) {
        self.file = file
        self.error = error
    }

    public var description: String { "\(file): \(error)" }
}
