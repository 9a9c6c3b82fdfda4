// Shared by quants.c (portable kernels, dispatch) and quants_avx2.c; not part of the module.
#ifndef QKV_QUANTS_INTERNAL_H
#define QKV_QUANTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/// dst[blocks · block elements] = the values of `blocks` blocks at src (unaligned).
typedef void (*qkv_dequant_fn)(const uint8_t *src, ptrdiff_t blocks, float *dst);

/// The AVX2+F16C kernel for a type, or NULL (non-x86 builds, or a type without one). The caller
/// checks that the CPU has AVX2 and F16C.
qkv_dequant_fn qkv_dequant_avx2_kernel(int type);

/// The kernel qkv_ggml_dequantize runs for (isa, type), looked up once for many calls; NULL for a
/// type qkv does not dequantize. (qkv_isa is int-sized; passed as int to keep this header alone.)
qkv_dequant_fn qkv_ggml_dequantizer(int isa, int type);

/// IQ4_NL's 16 levels (ggml-common.h kvalues_iq4nl, gguf-py IQ4_NL.kvalues), also used by IQ4_XS.
extern const int8_t qkv_iq4nl_levels[16];

#endif
