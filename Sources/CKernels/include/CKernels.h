// Kernels for QKVKit (Float32 GEMM, attention, elementwise, byte un-shuffle, ggml dequantization), in C because Swift
// library targets compile for the baseline ISA (SSE2 on x86-64) and may not pass -m flags. AVX2+FMA
// code lives in functions with a target attribute and is chosen at run time; every other CPU (and
// arm64) runs portable C.
#ifndef QKV_CKERNELS_H
#define QKV_CKERNELS_H

#include <stdbool.h>
#include <stddef.h>

#pragma clang assume_nonnull begin

/// Instruction sets qkv_sgemm can use; higher values need more CPU features.
typedef enum {
    /// Portable C (clang vector extensions): any CPU.
    QKV_ISA_GENERIC = 0,
    /// x86-64 with AVX2 and FMA (Haswell, Zen and later).
    QKV_ISA_AVX2_FMA = 1,
} qkv_isa;

/// The best qkv_isa this CPU and OS support (checked once, then cached).
qkv_isa qkv_best_isa(void);

/// Whether the AVX2 matrix products run AVX-512 tiles (same bits, more per cycle): the CPU has
/// AVX-512F and the environment does not say QKV_ISA=avx2.
bool qkv_uses_avx512(void);

/// out[m, n] (+)= x[m, k] · B (+ bias[n]), single-threaded.
///
/// B[k, n] is w[k, n] when !transposed, and w[n, k]ᵀ when transposed (PyTorch nn.Linear).
/// ldx, ldw, ldo are row strides in elements (≥ the row length). x is read through packed_rows
/// (qkv_pack_rows of the same x, m and k) when given, else packed here (threads splitting one
/// product's columns can pack x once between them). bias may be NULL. With accumulate the
/// product is added to the old out, else out is overwritten (never read). out must not overlap
/// x, w or bias. m, n, k ≥ 0; k == 0 gives out = (old out or 0) + bias.
///
/// Summation order of each element depends only on m, k, transposed and isa, never on n or on
/// the element's column, so splitting the columns across threads gives identical bits.
/// An isa the CPU lacks falls back to QKV_ISA_GENERIC.
void qkv_sgemm(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
               const float *x, ptrdiff_t ldx, const float *_Nullable packed_rows,
               const float *w, ptrdiff_t ldw, bool transposed,
               const float *_Nullable bias,
               float *out, ptrdiff_t ldo, bool accumulate);

/// Floats that qkv_pack_weight writes for B[k, n]: k · ⌈n / 16⌉ · 16 (0 if n or k is 0).
ptrdiff_t qkv_packed_weight_count(ptrdiff_t n, ptrdiff_t k);

/// packed[qkv_packed_weight_count(n, k)] = B[k, n] (B as in qkv_sgemm) in the panel layout the
/// kernels read, so a weight used many times is packed once (at load) instead of on every call.
void qkv_pack_weight(ptrdiff_t n, ptrdiff_t k, const float *w, ptrdiff_t ldw, bool transposed, float *packed);

/// Floats that qkv_pack_rows writes for x[m, k] (m rounded up per 6-row panel, times k).
ptrdiff_t qkv_packed_rows_count(ptrdiff_t m, ptrdiff_t k);

/// packed_rows[qkv_packed_rows_count(m, k)] = x[m, k] (row stride ldx) in the panel layout the
/// kernels read, so threads sharing one product pack x once between them.
void qkv_pack_rows(qkv_isa isa, ptrdiff_t m, ptrdiff_t k, const float *x, ptrdiff_t ldx,
                   float *packed_rows);

/// qkv_pack_rows with depth chunks that start at multiples of `granule` (k a multiple of it), the
/// layout qkv_sgemm_stored reads for a weight of that block size; granule 1 is qkv_pack_rows.
void qkv_pack_rows_granular(qkv_isa isa, ptrdiff_t m, ptrdiff_t k, ptrdiff_t granule, const float *x,
                            ptrdiff_t ldx, float *packed_rows);

/// out[m, n] (+)= x[m, k] · Wᵀ (+ bias[n]) with W's n rows left in their stored form: row j is
/// k elements of ggml `type` (qkv_ggml_can_dequantize; F16 and BF16 included) at w + j·row_bytes,
/// k a multiple of the type's block size. Each depth chunk of NR rows is dequantized and packed
/// into one panel per thread just before use (no float32 copy of W exists), so the product costs
/// W's bytes in memory. x is read through packed_rows (qkv_pack_rows_granular with the block
/// size) when given, else packed here into the calling thread's qkv_thread_buffer.
/// As in qkv_sgemm, the summation order of an element depends only on m, k and the type, so
/// splitting the columns across threads gives identical bits.
void qkv_sgemm_stored(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx,
                      const float *_Nullable packed_rows, int type, const void *w, ptrdiff_t row_bytes,
                      const float *_Nullable bias, float *out, ptrdiff_t ldo, bool accumulate);

/// As qkv_sgemm, with B = columns [first_col, first_col + n) of a weight that qkv_pack_weight
/// packed with packed_cols columns and the same k. first_col must be a multiple of 16. x is read
/// through packed_rows (qkv_pack_rows of the same x, m and k) when given, else packed here.
/// The summation order of each element is that of qkv_sgemm with m > 8 (any m here).
void qkv_sgemm_packed(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      const float *x, ptrdiff_t ldx, const float *_Nullable packed_rows,
                      const float *packed, ptrdiff_t packed_cols, ptrdiff_t first_col,
                      const float *_Nullable bias,
                      float *out, ptrdiff_t ldo, bool accumulate);

/// A buffer of at least `count` floats owned by the calling thread, reused by its later calls
/// (contents not kept when it grows) and freed when the thread exits. Lets a thread hand packed
/// rows to the helpers of one parallel product without allocating per call.
float *qkv_thread_buffer(ptrdiff_t count);

/// One attention head, single-threaded: probs[t, t] = softmax(q·kᵀ · scale) row by row (with
/// `causal`, row i sees keys 0...i and later probabilities are exactly 0; a `window` > 0 further
/// keeps only the last `window` of those, Mistral's sliding window), out = probs · v.
/// q, k, v are [t, d] with row strides ldq, ldk, ldv (heads read in place from wider rows);
/// probs is contiguous; out [t, d] has row stride ldo. Scores and context are computed six query
/// rows at a time, so each row's scores, softmax and context stay in L1.
void qkv_attention_head(qkv_isa isa, ptrdiff_t t, ptrdiff_t d, const float *q, ptrdiff_t ldq,
                        const float *k, ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float scale,
                        bool causal, ptrdiff_t window, float *probs, float *out, ptrdiff_t ldo);

/// x[count] = 0.5·x·(1 + erf(x/√2)) in place (exact GELU). AVX2: erf by piecewise polynomials
/// with absolute error ≤ 1.1·2⁻²⁴; portable: libm erff.
void qkv_gelu_erf(qkv_isa isa, float *x, ptrdiff_t count);

/// row[count] = softmax(row · scale) in place, max-subtracted. Any NaN (or a row whose maximum is
/// ±inf) makes the whole row NaN. AVX2: exp by polynomial (≤ 1 ulp); portable: libm expf.
void qkv_softmax_row(qkv_isa isa, float *row, ptrdiff_t count, float scale);

/// out[count] = (v − mean) / √(var + eps) · gamma + beta with v = x + residual (or x), PyTorch
/// LayerNorm: mean and biased variance reduced in float64, the affine part in float32. out may
/// equal x or residual (each element is read before it is written, in the last pass).
void qkv_layer_norm_row(qkv_isa isa, const float *x, const float *_Nullable residual, ptrdiff_t count,
                        const float *_Nullable gamma, const float *_Nullable beta, float eps, float *out);

/// x[count] = x · sigmoid(x) in place (SiLU). AVX2: x / (1 + e^(−x)) with the softmax's
/// polynomial exp (≤ 1 ulp), a few ulps in all; portable: libm expf.
void qkv_silu(qkv_isa isa, float *x, ptrdiff_t count);

/// x[count] = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in place (GELU, tanh form). AVX2 as the
/// equal x · sigmoid(2·√(2/π)·(x + 0.044715·x³)); portable: libm tanhf in transformers' order.
void qkv_gelu_tanh(qkv_isa isa, float *x, ptrdiff_t count);

/// out[count] = x / √(mean(x²) + eps) · weight (or without weight), LLaMA RMSNorm: the mean of
/// squares in float64, rounded to float32 before eps. out may equal x.
void qkv_rms_norm_row(qkv_isa isa, const float *x, ptrdiff_t count, const float *_Nullable weight, float eps,
                      float *out);

/// raw[i·s + j] = shuffled[j·n + i] for first ≤ i < last and 0 ≤ j < s: elements [first, last) of
/// n elements of s bytes, un-shuffled from their s byte planes (QKV's shuffle+zlib encoding).
void qkv_unshuffle(const unsigned char *shuffled, ptrdiff_t n, ptrdiff_t s, ptrdiff_t first, ptrdiff_t last,
                   unsigned char *raw);

#pragma clang assume_nonnull end

// ggml (GGUF) block dequantization.
#include "qkv_quants.h"

#endif
