/// A checkpoint of any format: its directory and configuration are known after opening, without
/// reading any weights; weights are decoded on request.
public protocol Checkpoint: AnyObject, Sendable {
    /// The path the user gave (a file or a model folder).
    var path: String { get }
    /// "qkv" or "safetensors".
    var formatName: String { get }
    /// "none", "zlib" or "gzip" (whole-file wrapper).
    var compression: String { get }
    var metadata: Metadata { get }
    /// Every tensor in the checkpoint, parameters and buffers, in file order.
    var tensors: [TensorInfo] { get }
    var config: ModelConfig { get }
    /// Text of each token id, when the checkpoint carries a vocabulary.
    var vocabulary: [String]? { get }

    /// Decodes one tensor, named canonically (docs/FORMAT.md), to Float32. With `verify`, checks its
    /// checksum first (where the format has one).
    func floats(_ name: String, verify: Bool) throws -> FloatTensor
    /// Whether a tensor with this canonical name exists.
    func hasTensor(_ name: String) -> Bool
    /// Decodes every tensor and reports each problem (checksum, non-finite values, padding).
    func verifyAll() -> [VerificationProblem]
    /// The model's own text tokenizer for `--text`, read on first use; nil when it has none.
    func textTokenizer() throws -> (any TextTokenizer)?
    /// The Hugging Face `tokenizer.json` behind `textTokenizer()`, when there is one (kept by `convert`).
    func tokenizerJSONText() throws -> String?
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

extension Checkpoint {
    public func tensorInfo(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }
    public func hasTensor(_ name: String) -> Bool { tensorInfo(name) != nil }
}
