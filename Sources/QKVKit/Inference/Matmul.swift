import Foundation

// Cache-blocked, packed, multithreaded float32 GEMM in portable Swift.
//
// Layout follows the BLIS scheme: the weight is packed into KC×NR column panels (either weight
// orientation packs to the same format, so one micro-kernel serves both), the activations into
// MR-row panels whose elements are pre-broadcast to a full SIMD4 (x86-64 without AVX has no
// broadcast load, and shuffles would compete with the multiply/add ports). The micro-kernel keeps
// an MR×NR tile of accumulators in registers.
//
// Reduction order: every output element is Σ over k in increasing order within each KC block,
// blocks added to the output in increasing order (then the bias). Which thread computes which
// tile never changes that order, so results are bitwise independent of the thread count.
//
// Accuracy: float32 products and sums, so |error| ≤ γ(d+2)·(Σ|x_i·w_i| + |bias| + |out|) with
// γ(j) = j·u/(1 − j·u), u = 2⁻²⁴ (the tests check exactly this bound against float64). Blocked
// summation keeps the typical error far below it. On arm64 the micro-kernel fuses multiply-adds
// (FMA is baseline there), so arm64 and x86-64 results differ in the last bits. Rows < 3 take an
// unpacked path with a different (also fixed) summation order.
//
// Speed: Swift on Linux x86-64 targets baseline x86-64 (SSE2, no AVX/FMA), and each SIMD4
// multiply-add costs three SSE instructions (copy, mulps, addps), which caps this kernel at about
// 1⅓ vector multiply-adds per cycle: roughly a third of what AVX2+FMA code (OpenBLAS) reaches.

extension Kernels {
    /// Number of threads the matmul kernels use by default: the active processor count.
    public static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// out[T,n] = x[T,d] · w[d,n] (+ bias[n]) (+ out if accumulate); w row-major [d,n] (GPT-2 Conv1D, QKV)
    ///
    /// `rows` = T, `inner` = d, `cols` = n. `out` must not overlap `x`, `w` or `bias`.
    public static func matmul(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil,
                              into out: UnsafeMutablePointer<Float>, rows: Int, inner: Int, cols: Int,
                              accumulate: Bool = false, threads: Int = defaultThreadCount) {
        let problem = GemmProblem(x: x, w: w, bias: bias, out: out, m: rows, k: inner, n: cols,
                                  accumulate: accumulate, weightTransposed: false)
        problem.run(threads: threads)
    }

    /// out[T,n] = x[T,d] · wᵀ (+ bias[n]) (+ out if accumulate); w row-major [n,d] (PyTorch nn.Linear)
    ///
    /// `rows` = T, `inner` = d, `cols` = n. `out` must not overlap `x`, `w` or `bias`.
    public static func matmulTransposed(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                        bias: UnsafePointer<Float>? = nil,
                                        into out: UnsafeMutablePointer<Float>, rows: Int, inner: Int, cols: Int,
                                        accumulate: Bool = false, threads: Int = defaultThreadCount) {
        let problem = GemmProblem(x: x, w: w, bias: bias, out: out, m: rows, k: inner, n: cols,
                                  accumulate: accumulate, weightTransposed: true)
        problem.run(threads: threads)
    }
}

private typealias Vec = SIMD4<Float>

/// acc + a·b, fused where the baseline ISA has FMA (arm64); plain multiply-add on x86-64, whose
/// baseline lacks FMA (there `addingProduct` would become a libm call per lane).
@inline(__always)
private func madd(_ acc: Vec, _ a: Vec, _ b: Vec) -> Vec {
    #if arch(arm64)
    return acc.addingProduct(a, b)
    #else
    return acc + a * b
    #endif
}

private enum Blocking {
    /// Micro-tile rows (pre-broadcast activation rows).
    static let mr = 6
    /// Micro-tile columns: two SIMD4 vectors.
    static let nr = 8
    /// Depth of a packed block: the pre-broadcast 6×KC activation panel (12 KiB) stays in L1
    /// while weight panels stream past it.
    static let kc = 128
    /// Rows of activations packed at once (multiple of mr); each panel is read once per sweep,
    /// so this only bounds the packing buffer.
    static let mc = 144
    /// Widest column chunk one task owns: the KC×NC packed weights (256 KiB) stay in L2 and are
    /// reused by every activation panel.
    static let nc = 512
    /// Below this many multiply-adds one thread beats waking others.
    static let parallelWork = 1 << 20
    /// Row counts below this take the unpacked matrix-vector path.
    static let directRows = 3
}

private struct GemmProblem: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let w: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?
    let out: UnsafeMutablePointer<Float>
    let m: Int
    let k: Int
    let n: Int
    let accumulate: Bool
    /// false: w is [k, n]; true: w is [n, k].
    let weightTransposed: Bool

    func run(threads: Int) {
        precondition(m >= 0 && k >= 0 && n >= 0, "negative matrix size")
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for r in 0..<m {
                let row = out + r * n
                if !accumulate { row.update(repeating: 0, count: n) }
                if let bias { Kernels.addInPlace(row, bias, count: n) }
            }
            return
        }
        let (mk, overflow1) = m.multipliedReportingOverflow(by: k)
        let (mkn, overflow2) = mk.multipliedReportingOverflow(by: n)
        let parallel = overflow1 || overflow2 || mkn >= Blocking.parallelWork
        let threadCount = parallel ? max(1, threads) : 1

        if m < Blocking.directRows {
            runDirect(threads: threadCount)
            return
        }

        let panelsN = (n + Blocking.nr - 1) / Blocking.nr
        let panelsM = (m + Blocking.mr - 1) / Blocking.mr
        var colChunks = max((n + Blocking.nc - 1) / Blocking.nc, 1)
        if threadCount > 1 {
            colChunks = (colChunks + threadCount - 1) / threadCount * threadCount
        }
        colChunks = min(colChunks, panelsN)
        var rowChunks = 1
        if colChunks < threadCount {
            rowChunks = min(panelsM, (threadCount + colChunks - 1) / colChunks)
        }
        let tasks = rowChunks * colChunks
        let body: @Sendable (Int) -> Void = { [colChunks, rowChunks] task in
            let rc = task / colChunks, cc = task % colChunks
            let p0 = cc * panelsN / colChunks, p1 = (cc + 1) * panelsN / colChunks
            let q0 = rc * panelsM / rowChunks, q1 = (rc + 1) * panelsM / rowChunks
            self.runBlock(rows: (q0 * Blocking.mr)..<min(m, q1 * Blocking.mr),
                          cols: (p0 * Blocking.nr)..<min(n, p1 * Blocking.nr))
        }
        if threadCount == 1 || tasks == 1 {
            for t in 0..<tasks { body(t) }
        } else {
            DispatchQueue.concurrentPerform(iterations: tasks, execute: body)
        }
    }

    /// Packed GEMM of the output block out[rows, cols].
    private func runBlock(rows: Range<Int>, cols: Range<Int>) {
        if rows.isEmpty || cols.isEmpty { return }
        let nr = Blocking.nr, mr = Blocking.mr
        let width = cols.count
        let panelsN = (width + nr - 1) / nr
        let kcMax = min(Blocking.kc, k)
        let mcMax = min(Blocking.mc, (rows.count + mr - 1) / mr * mr)
        let packedB = UnsafeMutableRawPointer.allocate(byteCount: kcMax * panelsN * nr * 4, alignment: 64)
        let packedA = UnsafeMutableRawPointer.allocate(byteCount: kcMax * mcMax * 16, alignment: 64)
        defer {
            packedB.deallocate()
            packedA.deallocate()
        }
        var pc = 0
        while pc < k {
            let kc = min(Blocking.kc, k - pc)
            let first = pc == 0, last = pc + kc == k
            packWeights(into: packedB.assumingMemoryBound(to: Float.self), depth: pc..<(pc + kc), cols: cols)
            var ic = rows.lowerBound
            while ic < rows.upperBound {
                let mc = min(mcMax, rows.upperBound - ic)
                packActivations(into: packedA.assumingMemoryBound(to: Float.self), rows: ic..<(ic + mc),
                                depth: pc..<(pc + kc))
                var q = 0
                while q * mr < mc {
                    let aPanel = UnsafeRawPointer(packedA + q * kc * mr * 16)
                    let r0 = ic + q * mr
                    for p in 0..<panelsN {
                        let c0 = cols.lowerBound + p * nr
                        microKernel(kc: kc, a: aPanel, b: UnsafeRawPointer(packedB + p * kc * nr * 4),
                                    c: out + r0 * n + c0, ldc: n,
                                    rows: min(mr, rows.upperBound - r0), cols: min(nr, cols.upperBound - c0),
                                    loadC: accumulate || !first, bias: last ? bias.map { $0 + c0 } : nil)
                    }
                    q += 1
                }
                ic += mc
            }
            pc += kc
        }
    }

    /// dst = weight[depth, cols] as NR-wide column panels, each depth.count × NR, zero padded.
    private func packWeights(into dst: UnsafeMutablePointer<Float>, depth: Range<Int>, cols: Range<Int>) {
        let nr = Blocking.nr
        let kc = depth.count
        var panel = dst
        var c0 = cols.lowerBound
        while c0 < cols.upperBound {
            let valid = min(nr, cols.upperBound - c0)
            if !weightTransposed {
                var src = w + depth.lowerBound * n + c0
                if valid == nr {
                    for kk in 0..<kc {
                        let s = UnsafeRawPointer(src)
                        let d = UnsafeMutableRawPointer(panel + kk * nr)
                        d.storeBytes(of: s.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                        src += n
                    }
                } else {
                    for kk in 0..<kc {
                        for j in 0..<nr { panel[kk * nr + j] = j < valid ? src[j] : 0 }
                        src += n
                    }
                }
            } else {
                // Transposed source: gather NR rows of w in lockstep, each read sequentially.
                for j in 0..<nr {
                    if j < valid {
                        let src = w + (c0 + j) * k + depth.lowerBound
                        for kk in 0..<kc { panel[kk * nr + j] = src[kk] }
                    } else {
                        for kk in 0..<kc { panel[kk * nr + j] = 0 }
                    }
                }
            }
            panel += kc * nr
            c0 += nr
        }
    }

    /// dst = x[rows, depth] as MR-row panels, each element repeated 4× (one SIMD4), zero padded.
    private func packActivations(into dst: UnsafeMutablePointer<Float>, rows: Range<Int>, depth: Range<Int>) {
        let mr = Blocking.mr
        let kc = depth.count
        var panel = UnsafeMutableRawPointer(dst)
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let valid = min(mr, rows.upperBound - r0)
            for r in 0..<mr {
                var d = panel + r * 16
                if r < valid {
                    let src = x + (r0 + r) * k + depth.lowerBound
                    for kk in 0..<kc {
                        d.storeBytes(of: Vec(repeating: src[kk]), as: Vec.self)
                        d += mr * 16
                    }
                } else {
                    for _ in 0..<kc {
                        d.storeBytes(of: Vec(), as: Vec.self)
                        d += mr * 16
                    }
                }
            }
            panel += kc * mr * 16
            r0 += mr
        }
    }

    /// c[rows ≤ 6, cols ≤ 8] (+)= a-panel[6, kc] · b-panel[kc, 8] (+ bias)
    @inline(__always)
    private func microKernel(kc: Int, a: UnsafeRawPointer, b: UnsafeRawPointer,
                             c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                             loadC: Bool, bias: UnsafePointer<Float>?) {
        var c00 = Vec(), c01 = Vec(), c10 = Vec(), c11 = Vec(), c20 = Vec(), c21 = Vec()
        var c30 = Vec(), c31 = Vec(), c40 = Vec(), c41 = Vec(), c50 = Vec(), c51 = Vec()
        var pa = a, pb = b
        for _ in 0..<kc {
            let b0 = pb.load(as: Vec.self), b1 = pb.load(fromByteOffset: 16, as: Vec.self)
            var av = pa.load(as: Vec.self)
            c00 = madd(c00, av, b0); c01 = madd(c01, av, b1)
            av = pa.load(fromByteOffset: 16, as: Vec.self)
            c10 = madd(c10, av, b0); c11 = madd(c11, av, b1)
            av = pa.load(fromByteOffset: 32, as: Vec.self)
            c20 = madd(c20, av, b0); c21 = madd(c21, av, b1)
            av = pa.load(fromByteOffset: 48, as: Vec.self)
            c30 = madd(c30, av, b0); c31 = madd(c31, av, b1)
            av = pa.load(fromByteOffset: 64, as: Vec.self)
            c40 = madd(c40, av, b0); c41 = madd(c41, av, b1)
            av = pa.load(fromByteOffset: 80, as: Vec.self)
            c50 = madd(c50, av, b0); c51 = madd(c51, av, b1)
            pa += 96
            pb += 32
        }
        if rows == 6 && cols == 8 {
            var b0 = Vec(), b1 = Vec()
            if let bias {
                b0 = UnsafeRawPointer(bias).loadUnaligned(as: Vec.self)
                b1 = UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 16, as: Vec.self)
            }
            let hasBias = bias != nil
            @inline(__always) func store(_ row: Int, _ v0: Vec, _ v1: Vec) {
                let p = UnsafeMutableRawPointer(c + row * ldc)
                var s0 = v0, s1 = v1
                if loadC {
                    s0 = p.loadUnaligned(as: Vec.self) + s0
                    s1 = p.loadUnaligned(fromByteOffset: 16, as: Vec.self) + s1
                }
                if hasBias {
                    s0 += b0
                    s1 += b1
                }
                p.storeBytes(of: s0, as: Vec.self)
                p.storeBytes(of: s1, toByteOffset: 16, as: Vec.self)
            }
            store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
            store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
        } else {
            withUnsafeTemporaryAllocation(of: Vec.self, capacity: 12) { tile in
                tile[0] = c00; tile[1] = c01; tile[2] = c10; tile[3] = c11; tile[4] = c20; tile[5] = c21
                tile[6] = c30; tile[7] = c31; tile[8] = c40; tile[9] = c41; tile[10] = c50; tile[11] = c51
                let acc = UnsafeRawPointer(tile.baseAddress!).assumingMemoryBound(to: Float.self)
                for r in 0..<rows {
                    let dst = c + r * ldc
                    for j in 0..<cols {
                        var v = acc[r * 8 + j]
                        if loadC { v = dst[j] + v }
                        if let bias { v += bias[j] }
                        dst[j] = v
                    }
                }
            }
        }
    }

    /// Unpacked path for a handful of rows, where packing would cost more than it saves.
    private func runDirect(threads: Int) {
        // Chunks of 16 columns keep each column's arithmetic identical whatever the split.
        let blocks = (n + 15) / 16
        let chunks = min(threads, blocks)
        let body: @Sendable (Int) -> Void = { chunk in
            let j0 = chunk * blocks / chunks * 16
            let j1 = min(n, (chunk + 1) * blocks / chunks * 16)
            for r in 0..<self.m {
                if self.weightTransposed {
                    self.directRowTransposed(r, cols: j0..<j1)
                } else {
                    self.directRow(r, cols: j0..<j1)
                }
            }
        }
        if chunks <= 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// out[r, cols] (+)= x[r, :] · w[:, cols] (+ bias) with w [k, n]
    private func directRow(_ r: Int, cols: Range<Int>) {
        let xr = x + r * k
        let dst = out + r * n
        var j = cols.lowerBound
        while j + 16 <= cols.upperBound {
            var acc = SIMD16<Float>()
            var src = UnsafeRawPointer(w + j)
            for kk in 0..<k {
                acc += SIMD16(repeating: xr[kk]) * src.loadUnaligned(as: SIMD16<Float>.self)
                src += n * 4
            }
            let p = UnsafeMutableRawPointer(dst + j)
            if accumulate { acc = p.loadUnaligned(as: SIMD16<Float>.self) + acc }
            if let bias { acc += UnsafeRawPointer(bias + j).loadUnaligned(as: SIMD16<Float>.self) }
            p.storeBytes(of: acc, as: SIMD16<Float>.self)
            j += 16
        }
        while j < cols.upperBound {
            var acc: Float = 0
            for kk in 0..<k { acc += xr[kk] * w[kk * n + j] }
            if accumulate { acc = dst[j] + acc }
            if let bias { acc += bias[j] }
            dst[j] = acc
            j += 1
        }
    }

    /// out[r, cols] (+)= x[r, :] · w[cols, :]ᵀ (+ bias) with w [n, k]
    private func directRowTransposed(_ r: Int, cols: Range<Int>) {
        let xr = x + r * k
        let dst = out + r * n
        for j in cols {
            let wr = w + j * k
            var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
            var kk = 0
            while kk + 32 <= k {
                let xp = UnsafeRawPointer(xr + kk), wp = UnsafeRawPointer(wr + kk)
                acc0 += xp.loadUnaligned(as: SIMD16<Float>.self) * wp.loadUnaligned(as: SIMD16<Float>.self)
                acc1 += xp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                    * wp.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                kk += 32
            }
            var tail: Float = 0
            while kk < k {
                tail += xr[kk] * wr[kk]
                kk += 1
            }
            var v = (acc0 + acc1).sum() + tail
            if accumulate { v = dst[j] + v }
            if let bias { v += bias[j] }
            dst[j] = v
        }
    }
}
