// Float32 GEMM micro-kernels for QKVKit, in C because Swift library targets compile for the
// baseline ISA (SSE2 on x86-64) and may not pass -m flags. AVX2+FMA code lives in functions with
// a target attribute and is chosen at run time; every other CPU (and arm64) runs portable C.
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

/// out[m, n] (+)= x[m, k] · B (+ bias[n]), single-threaded.
///
/// B[k, n] is w[k, n] when !transposed, and w[n, k]ᵀ when transposed (PyTorch nn.Linear).
/// ldx, ldw, ldo are row strides in elements (≥ the row length). bias may be NULL. With
/// accumulate the product is added to the old out, else out is overwritten (never read).
/// out must not overlap x, w or bias. m, n, k ≥ 0; k == 0 gives out = (old out or 0) + bias.
///
/// Summation order of each element depends only on m, k, transposed and isa, never on n or on
/// the element's column, so splitting the columns across threads gives identical bits.
/// An isa the CPU lacks falls back to QKV_ISA_GENERIC.
void qkv_sgemm(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
               const float *x, ptrdiff_t ldx,
               const float *w, ptrdiff_t ldw, bool transposed,
               const float *_Nullable bias,
               float *out, ptrdiff_t ldo, bool accumulate);

#pragma clang assume_nonnull end

#endif
