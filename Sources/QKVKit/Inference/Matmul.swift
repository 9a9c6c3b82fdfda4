import CKernels
import Foundation

// Float32 GEMM: the packed micro-kernels are C (CKernels, AVX2+FMA chosen at run time, portable C
// elsewhere); Swift only splits the output into column blocks, one per thread.
//
// Reduction order: CKernels makes each element's summation order depend on the row count, the
// depth and the weight orientation only, and the split below never changes the row count a call
// sees, so results are bitwise independent of the thread count.

extension Kernels {
    /// out[T,n] = x[T,d] · w[d,n] (+ bias[n]) (+ out if accumulate); w row-major [d,n] (GPT-2 Conv1D, QKV)
    ///
    /// `rows` = T, `inner` = d, `cols` = n. `out` must not overlap `x`, `w` or `bias`.
    public static func matmul(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil,
                              into out: UnsafeMutablePointer<Float>, rows: Int, inner: Int, cols: Int,
                              accumulate: Bool = false, threads: Int) {
        gemm(GemmOperands(x: x, xStride: inner, w: w, wStride: cols, weightTransposed: false, bias: bias,
                          out: out, outStride: cols),
             rows: rows, inner: inner, cols: cols, accumulate: accumulate, threads: threads)
    }

    /// out[T,n] = x[T,d] · wᵀ (+ bias[n]) (+ out if accumulate); w row-major [n,d] (PyTorch nn.Linear)
    ///
    /// `rows` = T, `inner` = d, `cols` = n. `out` must not overlap `x`, `w` or `bias`.
    public static func matmulTransposed(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                        bias: UnsafePointer<Float>? = nil,
                                        into out: UnsafeMutablePointer<Float>, rows: Int, inner: Int, cols: Int,
                                        accumulate: Bool = false, threads: Int) {
        gemm(GemmOperands(x: x, xStride: inner, w: w, wStride: inner, weightTransposed: true, bias: bias,
                          out: out, outStride: cols),
             rows: rows, inner: inner, cols: cols, accumulate: accumulate, threads: threads)
    }

    /// The instruction set the matmul kernels use on this machine: "avx512" (AVX2 kernels with
    /// AVX-512 tiles, the same bits), "avx2-fma" or "generic".
    public static var matmulInstructionSet: String {
        qkv_best_isa() != QKV_ISA_AVX2_FMA ? "generic" : qkv_uses_avx512() ? "avx512" : "avx2-fma"
    }

    /// out (+)= x · B (+ bias) over strided operands; see `GemmOperands`. `portable` pins the
    /// portable C kernels (for tests), else the best the CPU supports run.
    static func gemm(_ o: GemmOperands, rows m: Int, inner k: Int, cols n: Int, accumulate: Bool,
                     threads: Int, portable: Bool = false) {
        let isa = portable ? QKV_ISA_GENERIC : qkv_best_isa()
        precondition(m >= 0 && k >= 0 && n >= 0, "negative matrix size")
        guard m > 0, n > 0 else { return }
        splitColumns(rows: m, inner: k, cols: n, threads: threads, x: o.x, xStride: o.xStride, isa: isa) { cols, rows in
            o.run(rows: m, inner: k, cols: cols, packedRows: rows, accumulate: accumulate, isa: isa)
        }
    }

    /// Runs `body` over the output columns [0, cols) of an m × k · k × cols product: on the calling
    /// thread alone when small, else in column blocks (whole 16-column panels, up to a few per
    /// thread, taken in turn so that a thread the OS preempts leaves its blocks to the others) with
    /// x packed once by the caller and handed to every block.
    /// `granule` is the block size of a weight left in its stored form: x is then packed in depth
    /// chunks of whole blocks (`qkv_pack_rows_granular`).
    static func splitColumns(rows m: Int, inner k: Int, cols n: Int, threads: Int, x: UnsafePointer<Float>,
                             xStride: Int, isa: qkv_isa, granule: Int = 1,
                             _ body: (_ cols: Range<Int>, _ packedRows: UnsafePointer<Float>?) -> Void) {
        let (mk, overflow1) = m.multipliedReportingOverflow(by: k)
        let (mkn, overflow2) = mk.multipliedReportingOverflow(by: n)
        let work = overflow1 || overflow2 ? Int.max : mkn
        let panels = (n + 15) / 16
        let threadCount = min(max(1, threads), panels, max(1, work / parallelWork))
        if threadCount == 1 {
            body(0..<n, nil)
            return
        }
        let rows = qkv_thread_buffer(qkv_packed_rows_count(m, k))
        qkv_pack_rows_granular(isa, m, k, granule, x, xStride, rows)
        let packedRows = UnsafePointer(rows)
        // Up to 4 blocks per thread, but no block under 8 panels: each block reads all of x again.
        let blocks = threadCount * max(1, min(blocksPerThread, panels / (8 * threadCount)))
        // Blocks write disjoint columns of the output.
        parallelFor(blocks, threads: threadCount) { c in
            let j0 = panels * c / blocks * 16, j1 = min(n, panels * (c + 1) / blocks * 16)
            body(j0..<j1, packedRows)
        }
    }

    /// Column blocks per thread in a parallel product.
    private static let blocksPerThread = 4

    /// Multiply-adds below which one thread beats waking others.
    private static let parallelWork = 1 << 19
}

/// Operands of out[m, n] (+)= x[m, k] · B (+ bias[n]) with explicit row strides (in elements):
/// B is w[k, n] or, when `weightTransposed`, w[n, k]ᵀ.
struct GemmOperands {
    var x: UnsafePointer<Float>
    var xStride: Int
    var w: UnsafePointer<Float>
    var wStride: Int
    var weightTransposed: Bool
    var bias: UnsafePointer<Float>?
    var out: UnsafeMutablePointer<Float>
    var outStride: Int

    /// The output columns `cols` on the calling thread, x read through `packedRows` if given.
    func run(rows m: Int, inner k: Int, cols: Range<Int>, packedRows: UnsafePointer<Float>?, accumulate: Bool,
             isa: qkv_isa) {
        let j0 = cols.lowerBound
        let wBlock = weightTransposed ? w + j0 * wStride : w + j0
        qkv_sgemm(isa, m, cols.count, k, x, xStride, packedRows, wBlock, wStride, weightTransposed,
                  bias.map { $0 + j0 }, out + j0, outStride, accumulate)
    }
}

/// A weight matrix packed once, at load, into the panel layout the GEMM kernels read: B[inner, cols]
/// of out = x · B, from w [cols, inner] (PyTorch nn.Linear, `transposed`) or w [inner, cols] (Conv1D).
///
/// Packing is a copy of the same floats (columns padded to a multiple of 16 with zeros), so it
/// takes the tensor's size; the source's mapped pages are given back to the OS afterwards.
final class PackedWeight: @unchecked Sendable {
    let inner: Int
    let cols: Int
    private let storage: UnsafeMutablePointer<Float>

    /// Packs `tensor` (shape [cols, inner] if `transposed`, else [inner, cols]).
    convenience init(_ tensor: FloatTensor, transposed: Bool) {
        precondition(tensor.shape.count == 2, "a weight matrix has two dimensions")
        let cols = transposed ? tensor.shape[0] : tensor.shape[1]
        let inner = transposed ? tensor.shape[1] : tensor.shape[0]
        self.init(inner: inner, cols: cols)
        tensor.withUnsafeBufferPointer { w in
            qkv_pack_weight(cols, inner, w.baseAddress!, transposed ? inner : cols, transposed, storage)
        }
    }

    /// Packs nn.Linear weights [n_i, inner] stacked along the output: one product gives
    /// [x·W_0ᵀ | x·W_1ᵀ | ...] (fused Q, K, V projections).
    convenience init(stackingTransposed tensors: [FloatTensor]) {
        precondition(!tensors.isEmpty && tensors.allSatisfy { $0.shape.count == 2 }, "weight matrices have two dimensions")
        let inner = tensors[0].shape[1]
        precondition(tensors.allSatisfy { $0.shape[1] == inner }, "stacked weights share the input width")
        let cols = tensors.reduce(0) { $0 + $1.shape[0] }
        self.init(inner: inner, cols: cols)
        let stacked = UnsafeMutablePointer<Float>.allocate(capacity: max(cols * inner, 1))
        defer { stacked.deallocate() }
        var offset = 0
        for tensor in tensors {
            tensor.withUnsafeBufferPointer { (stacked + offset).update(from: $0.baseAddress!, count: $0.count) }
            offset += tensor.count
        }
        qkv_pack_weight(cols, inner, stacked, inner, true, storage)
    }

    private init(inner: Int, cols: Int) {
        self.inner = inner
        self.cols = cols
        let count = qkv_packed_weight_count(cols, inner)
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { storage.deallocate() }

    /// out[rows, cols] (+)= x[rows, inner] · B (+ bias[cols]), columns split across `threads`
    /// (see `Kernels.splitColumns`).
    func apply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
               rows m: Int, accumulate: Bool = false, threads: Int) {
        precondition(m >= 0, "negative matrix size")
        guard m > 0, cols > 0 else { return }
        let isa = qkv_best_isa()
        withExtendedLifetime(self) {
            let o = PackedOperands(x: x, packed: storage, inner: inner, cols: cols, bias: bias, out: out)
            Kernels.splitColumns(rows: m, inner: inner, cols: cols, threads: threads, x: x, xStride: inner, isa: isa) {
                o.run(rows: m, cols: $0, packedRows: $1, accumulate: accumulate, isa: isa)
            }
        }
    }
}

/// out[m, cols] (+)= x[m, inner] · packed (+ bias), x and out with contiguous rows.
private struct PackedOperands {
    var x: UnsafePointer<Float>
    var packed: UnsafePointer<Float>
    var inner: Int
    var cols: Int
    var bias: UnsafePointer<Float>?
    var out: UnsafeMutablePointer<Float>

    /// The output columns `range` (starting on a 16-column panel) on the calling thread, x read
    /// through `packedRows` if given.
    func run(rows m: Int, cols range: Range<Int>, packedRows: UnsafePointer<Float>?, accumulate: Bool, isa: qkv_isa) {
        let j0 = range.lowerBound
        qkv_sgemm_packed(isa, m, range.count, inner, x, inner, packedRows, packed, cols, j0, bias.map { $0 + j0 },
                         out + j0, cols, accumulate)
    }
}

/// A weight applied as out = x · Wᵀ (W [cols, inner], PyTorch nn.Linear layout): float32 packed
/// once at load, or F16 / BF16 / quantized weights read where they are stored by every product,
/// so the model takes its file's footprint, not float32's.
enum LinearWeight {
    case packed(PackedWeight)
    case stored(StoredMatrix)

    var inner: Int {
        switch self {
        case let .packed(weight): weight.inner
        case let .stored(matrix): matrix.columns
        }
    }

    var cols: Int {
        switch self {
        case let .packed(weight): weight.cols
        case let .stored(matrix): matrix.rows
        }
    }

    /// out[rows, cols] (+)= x[rows, inner] · Wᵀ (+ bias[cols]), columns split across `threads`.
    func apply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
               rows m: Int, accumulate: Bool = false, threads: Int) {
        switch self {
        case let .packed(weight):
            weight.apply(x, bias: bias, into: out, rows: m, accumulate: accumulate, threads: threads)
        case let .stored(matrix):
            matrix.apply(x, bias: bias, into: out, outStride: matrix.rows, rows: m, accumulate: accumulate, threads: threads)
        }
    }
}

extension StoredMatrix {
    /// out[rows, self.rows] (+)= x[rows, columns] · selfᵀ (+ bias), out rows `outStride` apart,
    /// each panel dequantized just before use (`qkv_sgemm_stored`); columns split across `threads`.
    func apply(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
               outStride: Int, rows m: Int, accumulate: Bool = false, threads: Int) {
        precondition(m >= 0, "negative matrix size")
        guard m > 0, rows > 0 else { return }
        let isa = qkv_best_isa()
        let o = StoredOperands(
            x: x, inner: columns, type: Int32(type.rawValue), weights: storage.bytes.baseAddress!, rowBytes: rowBytes,
            bias: bias, out: out, outStride: outStride)
        withExtendedLifetime(storage.owner) {
            Kernels.splitColumns(
                rows: m, inner: columns, cols: rows, threads: threads, x: x, xStride: columns, isa: isa,
                granule: type.blockElements
            ) { range, packedRows in
                o.run(rows: m, cols: range, packedRows: packedRows, accumulate: accumulate, isa: isa)
            }
        }
    }

    /// x[dim] += row `index` (dequantized), for embeddings gathered a token at a time.
    func addRow(_ index: Int, into x: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        precondition((0..<rows).contains(index), "row index")
        withExtendedLifetime(storage.owner) {
            qkv_ggml_dequantize(
                qkv_best_isa(), Int32(type.rawValue), storage.bytes.baseAddress! + index * rowBytes,
                columns / type.blockElements, scratch)
        }
        Kernels.addInPlace(x, scratch, count: columns)
    }
}

/// out[m, ·] (+)= x[m, inner] · Wᵀ for W in its stored form; see `qkv_sgemm_stored`.
private struct StoredOperands {
    var x: UnsafePointer<Float>
    var inner: Int
    var type: Int32
    var weights: UnsafeRawPointer
    var rowBytes: Int
    var bias: UnsafePointer<Float>?
    var out: UnsafeMutablePointer<Float>
    var outStride: Int

    func run(rows m: Int, cols range: Range<Int>, packedRows: UnsafePointer<Float>?, accumulate: Bool, isa: qkv_isa) {
        let j0 = range.lowerBound
        qkv_sgemm_stored(isa, m, range.count, inner, x, inner, packedRows, type, weights + j0 * rowBytes, rowBytes,
                         bias.map { $0 + j0 }, out + j0, outStride, accumulate)
    }
}
