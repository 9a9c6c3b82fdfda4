import CKernels

/// The element types a GGUF tensor may have (ggml's `ggml_type`), with their block layouts as
/// table data: a tensor's row (ne[0]) is a whole number of blocks of `blockElements` values,
/// each stored in `blockBytes` bytes. Ids 4, 5 and 31–33, 36–38 were removed from ggml and are
/// rejected. Sources: ggml.h, ggml.c `type_traits`, gguf-py `GGML_QUANT_SIZES` (0.19).
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22, iq4_XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41

    /// (elements per block, bytes per block).
    private var layout: (elements: Int, bytes: Int) {
        switch self {
        case .f32: (1, 4)
        case .f16, .bf16: (1, 2)
        case .q4_0: (32, 18)
        case .q4_1: (32, 20)
        case .q5_0: (32, 22)
        case .q5_1: (32, 24)
        case .q8_0: (32, 34)
        case .q8_1: (32, 40)
        case .q2_K: (256, 84)
        case .q3_K: (256, 110)
        case .q4_K: (256, 144)
        case .q5_K: (256, 176)
        case .q6_K: (256, 210)
        case .q8_K: (256, 292)
        case .iq2_XXS: (256, 66)
        case .iq2_XS: (256, 74)
        case .iq3_XXS: (256, 98)
        case .iq1_S: (256, 50)
        case .iq4_NL: (32, 18)
        case .iq3_S: (256, 110)
        case .iq2_S: (256, 82)
        case .iq4_XS: (256, 136)
        case .i8: (1, 1)
        case .i16: (1, 2)
        case .i32: (1, 4)
        case .i64, .f64: (1, 8)
        case .iq1_M: (256, 56)
        case .tq1_0: (256, 54)
        case .tq2_0: (256, 66)
        case .mxfp4: (32, 17)
        case .nvfp4: (64, 36)
        case .q1_0: (128, 18)
        }
    }

    public var blockElements: Int { layout.elements }
    public var blockBytes: Int { layout.bytes }

    /// The name llama.cpp and gguf-py print (`Q4_K`, `IQ4_XS`, `BF16`).
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .f64: "F64"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        default: String(describing: self).uppercased()
        }
    }

    /// Integer types hold buffers (token ids, positions), never parameters.
    public var isInteger: Bool { self == .i8 || self == .i16 || self == .i32 || self == .i64 }

    /// Stored bits per weight: 8 · block bytes / block elements (4.5 for Q4_0, 6.5625 for Q6_K).
    public var bitsPerWeight: Double { Double(8 * blockBytes) / Double(blockElements) }

    /// The ggml type of a dtype read from a GGUF file.
    public init?(dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default:
            guard let type = dtype.ggmlType else { return nil }
            self = type
        }
    }

    /// Whether qkv's kernels dequantize this type (bit-exact with gguf-py).
    public var canDequantize: Bool { qkv_ggml_can_dequantize(Int32(rawValue)) }

    /// The names of every type qkv dequantizes, for messages.
    public static var dequantizable: String {
        allCases.filter(\.canDequantize).map(\.name).joined(separator: ", ")
    }

    /// Dequantizes a whole number of blocks (`source.count` / `blockBytes`) into `destination`,
    /// split in block ranges over up to `threads` threads; each block is converted on its own, so
    /// the bits do not depend on the split.
    func dequantize(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(canDequantize && source.count % blockBytes == 0, "whole blocks of a dequantizable type")
        let blocks = source.count / blockBytes
        guard blocks > 0, let base = source.baseAddress else { return }
        let isa = qkv_best_isa()
        let id = Int32(rawValue)
        // Chunks of at least 64 Ki values: below that a second thread costs more than it saves.
        let chunks = min(max(1, threads), max(1, blocks * blockElements / (1 << 16)))
        let (blockBytes, blockElements) = (self.blockBytes, self.blockElements)
        parallelFor(chunks, threads: chunks) { chunk in
            let first = blocks * chunk / chunks, last = blocks * (chunk + 1) / chunks
            qkv_ggml_dequantize(isa, id, base + first * blockBytes, last - first, destination + first * blockElements)
        }
    }

    /// Every known id, for error messages.
    static var knownIDs: String { allCases.map { String($0.rawValue) }.joined(separator: ", ") }

    /// Elements and stored bytes of a tensor with these ggml-order dims, with overflow checks
    /// (llama.cpp's CVE-2025-53630 was an unchecked product of dims). `dims[0]` must already be
    /// a multiple of the block size.
    public func byteCount(dims: [UInt64], tensor: String) throws(QKVError) -> (elements: UInt64, bytes: UInt64) {
        // The product of the dimensions other than zero must fit, not only the product in file
        // order: the shape is used reversed (row-major), and any partial product of it, in any
        // order, must not trap. (Found by fuzzing: ne = [0, 2^42.5, 2^55] is 0 elements in file
        // order, an overflow in the shape's.)
        var nonZero: UInt64 = 1
        for dim in dims where dim != 0 {
            let (product, overflow) = nonZero.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .sizeOverflow(tensor: tensor) }
            nonZero = product
        }
        let (nonZeroBytes, overflow) = (nonZero / UInt64(blockElements)).multipliedReportingOverflow(by: UInt64(blockBytes))
        // Sizes must also fit an Int so that later Int arithmetic cannot trap.
        guard !overflow, nonZeroBytes <= UInt64(Int.max) / 2, nonZero <= UInt64(Int.max) / 8 else {
            throw .sizeOverflow(tensor: tensor)
        }
        return dims.contains(0) ? (0, 0) : (nonZero, nonZeroBytes)
    }
}
