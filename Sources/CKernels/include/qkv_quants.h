// Dequantization of ggml (GGUF) tensor blocks to float32, bit-exact with gguf-py 0.19.0's
// `gguf.quants.dequantize` on x86-64 (NaN payloads included). Included by CKernels.h.
#ifndef QKV_QUANTS_H
#define QKV_QUANTS_H

#include "CKernels.h"

#include <stdbool.h>
#include <stddef.h>

#pragma clang assume_nonnull begin

/// ggml tensor type ids as stored in GGUF tensor infos (ggml.h's enum ggml_type). Only the types
/// qkv_ggml_can_dequantize accepts can be dequantized; the others are listed so callers can name
/// them in errors.
typedef enum {
    QKV_GGML_F32 = 0,
    QKV_GGML_F16 = 1,
    QKV_GGML_Q4_0 = 2,
    QKV_GGML_Q4_1 = 3,
    QKV_GGML_Q5_0 = 6,
    QKV_GGML_Q5_1 = 7,
    QKV_GGML_Q8_0 = 8,
    QKV_GGML_Q8_1 = 9,
    QKV_GGML_Q2_K = 10,
    QKV_GGML_Q3_K = 11,
    QKV_GGML_Q4_K = 12,
    QKV_GGML_Q5_K = 13,
    QKV_GGML_Q6_K = 14,
    QKV_GGML_Q8_K = 15,
    QKV_GGML_IQ2_XXS = 16,
    QKV_GGML_IQ2_XS = 17,
    QKV_GGML_IQ3_XXS = 18,
    QKV_GGML_IQ1_S = 19,
    QKV_GGML_IQ4_NL = 20,
    QKV_GGML_IQ3_S = 21,
    QKV_GGML_IQ2_S = 22,
    QKV_GGML_IQ4_XS = 23,
    QKV_GGML_I8 = 24,
    QKV_GGML_I16 = 25,
    QKV_GGML_I32 = 26,
    QKV_GGML_I64 = 27,
    QKV_GGML_F64 = 28,
    QKV_GGML_IQ1_M = 29,
    QKV_GGML_BF16 = 30,
    QKV_GGML_TQ1_0 = 34,
    QKV_GGML_TQ2_0 = 35,
    QKV_GGML_MXFP4 = 39,
} qkv_ggml_type;

/// True for the types qkv_ggml_dequantize handles: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
/// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS.
bool qkv_ggml_can_dequantize(int type);

/// Elements per block of a dequantizable type (1 for F32/F16/BF16, 32 or 256 otherwise), 0 for
/// any other type.
ptrdiff_t qkv_ggml_block_elements(int type);

/// Bytes per block of a dequantizable type, 0 for any other type.
ptrdiff_t qkv_ggml_block_bytes(int type);

/// dst[blocks · qkv_ggml_block_elements(type)] = the float32 values of `blocks` consecutive
/// blocks at src (blocks · qkv_ggml_block_bytes(type) bytes), single-threaded.
///
/// src needs no alignment. Exactly that many bytes are read and floats written, whatever the
/// bytes hold (NaN or infinite scales, any quant or index value). Each block is converted on
/// its own, so splitting a tensor into block ranges (threads, panels) gives identical bits.
/// Results are bit-identical to gguf-py's dequantize, same float32 operations in the same order
/// (no fused multiply-add), for both ISAs; NaN payloads match on x86-64, where both follow the
/// SSE rules. blocks ≤ 0 or a type qkv_ggml_can_dequantize rejects writes nothing.
/// An isa the CPU lacks (or an AVX2 CPU without F16C) falls back to QKV_ISA_GENERIC.
void qkv_ggml_dequantize(qkv_isa isa, int type, const void *src, ptrdiff_t blocks, float *dst);

#pragma clang assume_nonnull end

#endif
