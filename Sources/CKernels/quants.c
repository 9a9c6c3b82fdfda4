// ggml block dequantization, portable reference kernels and the dispatcher.
//
// The golden is gguf-py 0.19.0's `gguf.quants.dequantize` (NumPy, float32 throughout). Each
// function below is written from that code and ggml-common.h's block layouts, one block at a
// time, evaluating the same float32 operations in the same order:
//
// - no fused multiply-add: gguf-py rounds d·q and then the ± m, so contraction is off for the
//   whole file (most products here are exact, f16 × small integer, so FMA would only change NaN
//   payload propagation, but that is part of bit-exactness too);
// - products are associated as gguf-py writes them: K-quants and IQ4_XS multiply d by the
//   sub-block scale first, then by q;
// - NaNs: on x86-64 an SSE/AVX operation with one NaN operand returns it quieted, with two NaNs
//   the first operand's, and 0·∞ gives the default NaN 0xFFC00000. NumPy uses the same
//   instructions, so we match its payloads by keeping its operand order. The only place a compiler
//   may legally swap NaN operands is a commutative add of two NaNs (Q4_1/Q5_1's d·q + m), where we
//   choose the first operand explicitly (see add_m). Other architectures follow their own NaN rules.
//
// llama.cpp's dequantize_row_* (ggml-quants.c) evaluate the same formulas in the same order, and
// every product here is exact (f16 × small integers), so for finite data the two agree bit for bit
// with or without the FMA contraction llama.cpp builds may apply. Where they differ, gguf-py is the
// golden: llama.cpp's f16 → f32 (F16C's vcvtph2ps, or its portable multiply by 2⁻¹¹²) quiets
// signaling NaNs, which changes F16 tensors' outputs; and a fused d·q + m may propagate another
// NaN payload than gguf-py's two roundings.
//
// The AVX2 kernels (quants_avx2.c) compute the same operations on 8 lanes; tests compare both
// with goldens made by gguf-py (fixtures/gguf/quants) and with each other.

#include "qkv_quants.h"
#include "quants_internal.h"

#include <string.h>

#pragma STDC FP_CONTRACT OFF

const int8_t qkv_iq4nl_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// MARK: - Scalars

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline float from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// IEEE binary16 → binary32, exact for every pattern. NaNs keep sign and payload and are not
/// quieted (a signaling f16 NaN stays signaling), as NumPy's float16 → float32 cast does.
static inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    if (exponent == 0x1F) return from_bits(sign | 0x7F800000 | mantissa << 13);  // ±inf, NaN
    if (exponent != 0) return from_bits(sign | (exponent + 112) << 23 | mantissa << 13);
    const float magnitude = (float)mantissa * 0x1p-24f;  // zero or subnormal: exact
    return sign ? -magnitude : magnitude;
}

static inline float f16_at(const uint8_t *p) { return f16_to_f32(le16(p)); }

/// p + m with p's NaN when both are NaN: the first operand, as x86 and gguf-py's (d * qs) + m on
/// more than one block give. (NumPy on a single block computes m + p and keeps m's NaN; we follow
/// the multi-block result, which is what any real tensor gets.) Spelled out because the compiler
/// may commute the add.
static inline float add_m(float p, float m) { return p != p ? p : p + m; }

// MARK: - Per-block kernels
//
// In the layouts, f16 fields are little-endian IEEE half floats; "q" is the quantized integer.

// F32: the stored float's bits (gguf-py views the bytes as float32).
static void block_f32(const uint8_t *b, float *y) { memcpy(y, b, 4); }

// F16: one half float.
static void block_f16(const uint8_t *b, float *y) { *y = f16_at(b); }

// BF16: the 16 bits are the top half of a float32 (gguf-py: int16 << 16).
static void block_bf16(const uint8_t *b, float *y) { *y = from_bits((uint32_t)le16(b) << 16); }

// Q4_0, 32 elements in 18 bytes: f16 d | qs[16]. Element j < 16 is the low nibble of qs[j],
// element j + 16 its high nibble. y = d · (q − 8).
static void block_q4_0(const uint8_t *b, float *y) {
    const float d = f16_at(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)((qs[j] & 0xF) - 8);
        y[j + 16] = d * (float)((qs[j] >> 4) - 8);
    }
}

// Q4_1, 32 elements in 20 bytes: f16 d | f16 m | qs[16], nibbles as Q4_0. y = (d · q) + m.
static void block_q4_1(const uint8_t *b, float *y) {
    const float d = f16_at(b), m = f16_at(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = add_m(d * (float)(qs[j] & 0xF), m);
        y[j + 16] = add_m(d * (float)(qs[j] >> 4), m);
    }
}

// Q5_0, 32 elements in 22 bytes: f16 d | qh (u32 LE) | qs[16]. q = nibble as Q4_0, plus 16 if
// bit j of qh is set (element j). y = d · (q − 16).
static void block_q5_0(const uint8_t *b, float *y) {
    const float d = f16_at(b);
    const uint32_t qh = le32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        const int lo = (qs[j] & 0xF) | (qh >> j & 1) << 4, hi = (qs[j] >> 4) | (qh >> (j + 16) & 1) << 4;
        y[j] = d * (float)(lo - 16);
        y[j + 16] = d * (float)(hi - 16);
    }
}

// Q5_1, 32 elements in 24 bytes: f16 d | f16 m | qh (u32 LE) | qs[16], q as Q5_0. y = (d · q) + m.
static void block_q5_1(const uint8_t *b, float *y) {
    const float d = f16_at(b), m = f16_at(b + 2);
    const uint32_t qh = le32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        const int lo = (qs[j] & 0xF) | (qh >> j & 1) << 4, hi = (qs[j] >> 4) | (qh >> (j + 16) & 1) << 4;
        y[j] = add_m(d * (float)lo, m);
        y[j + 16] = add_m(d * (float)hi, m);
    }
}

// Q8_0, 32 elements in 34 bytes: f16 d | int8 qs[32]. y = q · d.
static void block_q8_0(const uint8_t *b, float *y) {
    const float d = f16_at(b);
    for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
}

// Q2_K, 256 elements in 84 bytes: scales[16] | qs[64] | f16 d | f16 dmin. Element
// e = 128h + 32s + l (h < 2, s < 4, l < 32) is bits 2s..2s+1 of qs[32h + l]; sub-block i = e / 16
// has scale scales[i] & 15 and min scales[i] >> 4. y = (d · scale) · q − (dmin · min).
static void block_q2_K(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *qs = b + 16;
    const float d = f16_at(b + 80), dmin = f16_at(b + 82);
    for (int i = 0; i < 16; i++) {  // sub-block i: e = 16i + k = 128h + 32s + l
        const int h = i / 8, s = i / 2 % 4;
        const float dl = d * (float)(scales[i] & 0xF), ml = dmin * (float)(scales[i] >> 4);
        for (int l = 16 * (i % 2); l < 16 * (i % 2) + 16; l++)
            y[128 * h + 32 * s + l] = dl * (float)(qs[32 * h + l] >> (2 * s) & 3) - ml;
    }
}

// Q3_K, 256 elements in 110 bytes: hmask[32] | qs[64] | scales[12] | f16 d. Element
// e = 128h + 32s + l takes its 2 low bits as Q2_K (qs[32h + l] >> 2s) and q = low − 4 unless bit
// e / 32 of hmask[l] is set. Sub-block i = e / 16 has the 6-bit scale (low nibble of
// scales[i % 8], the high one for i ≥ 8) | (bits 2(i / 4).. of scales[8 + i % 4]) << 4, stored + 32.
// y = (d · (scale − 32)) · q.
static void block_q3_K(const uint8_t *b, float *y) {
    const uint8_t *hmask = b, *qs = b + 32, *scales = b + 96;
    const float d = f16_at(b + 108);
    for (int i = 0; i < 16; i++) {  // sub-block i: e = 16i + k = 128h + 32s + l
        const int h = i / 8, s = i / 2 % 4;
        const int scale = (scales[i % 8] >> (4 * (i / 8)) & 0xF) | (scales[8 + i % 4] >> (2 * (i / 4)) & 3) << 4;
        const float dl = d * (float)(scale - 32);
        for (int l = 16 * (i % 2); l < 16 * (i % 2) + 16; l++) {
            const int q = (qs[32 * h + l] >> (2 * s) & 3) - (hmask[l] >> (4 * h + s) & 1 ? 0 : 4);
            y[128 * h + 32 * s + l] = dl * (float)q;
        }
    }
}

/// Q4_K/Q5_K's 6-bit scale and min of sub-block j < 8 from the 12 packed bytes (get_scale_min_k4):
/// j < 4: low 6 bits of bytes j and j + 4; j ≥ 4: a nibble of byte j + 4 below the top 2 bits of
/// bytes j − 4 and j.
static inline void scale_min_k4(const uint8_t *s, int j, int *scale, int *min) {
    if (j < 4) {
        *scale = s[j] & 63;
        *min = s[j + 4] & 63;
    } else {
        *scale = (s[j + 4] & 0xF) | (s[j - 4] >> 6) << 4;
        *min = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

// Q4_K, 256 elements in 144 bytes: f16 d | f16 dmin | scales[12] | qs[128]. Sub-block j = e / 32
// reads the low (even j) or high (odd j) nibbles of qs[32(j / 2) ... + 31].
// y = (d · scale) · q − (dmin · min).
static void block_q4_K(const uint8_t *b, float *y) {
    const float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *qs = b + 16;
    for (int j = 0; j < 8; j++) {
        int scale, min;
        scale_min_k4(b + 4, j, &scale, &min);
        const float dl = d * (float)scale, ml = dmin * (float)min;
        for (int l = 0; l < 32; l++) y[32 * j + l] = dl * (float)(qs[32 * (j / 2) + l] >> (4 * (j % 2)) & 0xF) - ml;
    }
}

// Q5_K, 256 elements in 176 bytes: f16 d | f16 dmin | scales[12] | qh[32] | qs[128]. As Q4_K,
// plus 16 when bit j of qh[l] is set. y = (d · scale) · q − (dmin · min).
static void block_q5_K(const uint8_t *b, float *y) {
    const float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *qh = b + 16, *qs = b + 48;
    for (int j = 0; j < 8; j++) {
        int scale, min;
        scale_min_k4(b + 4, j, &scale, &min);
        const float dl = d * (float)scale, ml = dmin * (float)min;
        for (int l = 0; l < 32; l++) {
            const int q = (qs[32 * (j / 2) + l] >> (4 * (j % 2)) & 0xF) | (qh[l] >> j & 1) << 4;
            y[32 * j + l] = dl * (float)q - ml;
        }
    }
}

// Q6_K, 256 elements in 210 bytes: ql[128] | qh[64] | int8 scales[16] | f16 d. Element
// e = 128h + 32s + l: low 4 bits from nibble s / 2 of ql[64h + 32(s % 2) + l], high 2 bits from
// bits 2s.. of qh[32h + l], q = that − 32; signed scale scales[e / 16]. y = (d · scale) · q.
static void block_q6_K(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    const float d = f16_at(b + 208);
    for (int i = 0; i < 16; i++) {  // sub-block i: e = 16i + k = 128h + 32s + l
        const int h = i / 8, s = i / 2 % 4;
        const float dl = d * (float)scales[i];
        for (int l = 16 * (i % 2); l < 16 * (i % 2) + 16; l++) {
            const int low = ql[64 * h + 32 * (s % 2) + l] >> (4 * (s / 2)) & 0xF, high = qh[32 * h + l] >> (2 * s) & 3;
            y[128 * h + 32 * s + l] = dl * (float)((low | high << 4) - 32);
        }
    }
}

// IQ4_NL, 32 elements in 18 bytes: f16 d | qs[16], nibbles as Q4_0 index a 16-level table.
// y = d · level.
static void block_iq4_nl(const uint8_t *b, float *y) {
    const float d = f16_at(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)qkv_iq4nl_levels[qs[j] & 0xF];
        y[j + 16] = d * (float)qkv_iq4nl_levels[qs[j] >> 4];
    }
}

// IQ4_XS, 256 elements in 136 bytes: f16 d | u16 scales_h (LE) | scales_l[4] | qs[128]. Sub-block
// j < 8 has scale (nibble j % 2 of scales_l[j / 2]) | (bits 2j.. of scales_h) << 4, stored + 32,
// and its 32 elements are IQ4_NL nibbles of qs[16j ... + 15]. y = (d · (scale − 32)) · level.
static void block_iq4_xs(const uint8_t *b, float *y) {
    const float d = f16_at(b);
    const uint16_t scales_h = le16(b + 2);
    const uint8_t *scales_l = b + 4, *qs = b + 8;
    for (int j = 0; j < 8; j++) {
        const int scale = (scales_l[j / 2] >> (4 * (j % 2)) & 0xF) | (scales_h >> (2 * j) & 3) << 4;
        const float dl = d * (float)(scale - 32);
        for (int l = 0; l < 16; l++) {
            y[32 * j + l] = dl * (float)qkv_iq4nl_levels[qs[16 * j + l] & 0xF];
            y[32 * j + l + 16] = dl * (float)qkv_iq4nl_levels[qs[16 * j + l] >> 4];
        }
    }
}

// MARK: - Rows and dispatch

#define ROW_KERNEL(name, bytes, elements)                                          \
    static void row_##name(const uint8_t *src, ptrdiff_t blocks, float *dst) {    \
        for (ptrdiff_t i = 0; i < blocks; i++) block_##name(src + i * (bytes), dst + i * (elements)); \
    }

ROW_KERNEL(f16, 2, 1)
ROW_KERNEL(bf16, 2, 1)
ROW_KERNEL(q4_0, 18, 32)
ROW_KERNEL(q4_1, 20, 32)
ROW_KERNEL(q5_0, 22, 32)
ROW_KERNEL(q5_1, 24, 32)
ROW_KERNEL(q8_0, 34, 32)
ROW_KERNEL(q2_K, 84, 256)
ROW_KERNEL(q3_K, 110, 256)
ROW_KERNEL(q4_K, 144, 256)
ROW_KERNEL(q5_K, 176, 256)
ROW_KERNEL(q6_K, 210, 256)
ROW_KERNEL(iq4_nl, 18, 32)
ROW_KERNEL(iq4_xs, 136, 256)

// F32 is a copy for every ISA (block_f32 documents the layout).
static void row_f32(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    (void)block_f32;
    memcpy(dst, src, (size_t)blocks * sizeof(float));
}

typedef struct {
    ptrdiff_t elements, bytes;
    qkv_dequant_fn portable;
} type_traits;

static const type_traits *traits(int type) {
    static const type_traits f32 = {1, 4, row_f32}, f16 = {1, 2, row_f16}, bf16 = {1, 2, row_bf16},
                             q4_0 = {32, 18, row_q4_0}, q4_1 = {32, 20, row_q4_1}, q5_0 = {32, 22, row_q5_0},
                             q5_1 = {32, 24, row_q5_1}, q8_0 = {32, 34, row_q8_0}, q2_K = {256, 84, row_q2_K},
                             q3_K = {256, 110, row_q3_K}, q4_K = {256, 144, row_q4_K}, q5_K = {256, 176, row_q5_K},
                             q6_K = {256, 210, row_q6_K}, iq4_nl = {32, 18, row_iq4_nl},
                             iq4_xs = {256, 136, row_iq4_xs};
    switch (type) {
    case QKV_GGML_F32: return &f32;
    case QKV_GGML_F16: return &f16;
    case QKV_GGML_BF16: return &bf16;
    case QKV_GGML_Q4_0: return &q4_0;
    case QKV_GGML_Q4_1: return &q4_1;
    case QKV_GGML_Q5_0: return &q5_0;
    case QKV_GGML_Q5_1: return &q5_1;
    case QKV_GGML_Q8_0: return &q8_0;
    case QKV_GGML_Q2_K: return &q2_K;
    case QKV_GGML_Q3_K: return &q3_K;
    case QKV_GGML_Q4_K: return &q4_K;
    case QKV_GGML_Q5_K: return &q5_K;
    case QKV_GGML_Q6_K: return &q6_K;
    case QKV_GGML_IQ4_NL: return &iq4_nl;
    case QKV_GGML_IQ4_XS: return &iq4_xs;
    default: return NULL;
    }
}

bool qkv_ggml_can_dequantize(int type) { return traits(type) != NULL; }

ptrdiff_t qkv_ggml_block_elements(int type) {
    const type_traits *t = traits(type);
    return t ? t->elements : 0;
}

ptrdiff_t qkv_ggml_block_bytes(int type) {
    const type_traits *t = traits(type);
    return t ? t->bytes : 0;
}

/// The AVX2 kernels also use F16C (half → float for the scales), present on every AVX2 CPU made
/// so far but a separate CPUID bit, so it is checked too.
static bool use_avx2(qkv_isa isa) {
#if defined(__x86_64__)
    return isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA && __builtin_cpu_supports("f16c");
#else
    (void)isa;
    return false;
#endif
}

qkv_dequant_fn qkv_ggml_dequantizer(int isa, int type) {
    const type_traits *t = traits(type);
    if (!t) return NULL;
    qkv_dequant_fn kernel = use_avx2((qkv_isa)isa) ? qkv_dequant_avx2_kernel(type) : NULL;
    return kernel ? kernel : t->portable;
}

void qkv_ggml_dequantize(qkv_isa isa, int type, const void *src, ptrdiff_t blocks, float *dst) {
    qkv_dequant_fn kernel = qkv_ggml_dequantizer(isa, type);
    if (kernel && blocks > 0) kernel((const uint8_t *)src, blocks, dst);
}
