// AVX2 (+F16C) ggml block dequantization: the float32 operations of quants.c, in the same order,
// eight lanes at a time. Quantized integers are widened to 32-bit lanes straight from memory
// (vpmovzxbd/vpmovsxbd of 8 bytes), unpacked with shifts and masks, converted exactly to float and
// scaled. Per-sub-block factors are computed once per block into small arrays and broadcast.
//
// The target attribute omits "fma" on purpose: with no FMA instructions available the compiler
// cannot fuse gguf-py's separately rounded d·q and ± m (contraction is also off).
//
// F16C converts the f16 scales. It quiets signaling NaNs, which is harmless for scales: each one
// is multiplied or added before it reaches the output, and that quiets it the same way. The F16
// tensor type, where the bits are the output, repairs that case (f16_row).

#include "quants_internal.h"

#include "qkv_quants.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#define AVX2 __attribute__((target("avx2,f16c")))
#define ALWAYS_INLINE inline __attribute__((always_inline))

// MARK: - Helpers

/// The f16 at p (unaligned) in all 8 lanes: vpbroadcastw from memory, then vcvtph2ps. (Converting
/// one half with _mm_cvtsi32_si128 made clang insert the 16 bits into a live register, so every
/// block waited for the previous block's last multiply.)
AVX2 static ALWAYS_INLINE __m256 half8(const uint8_t *p) {
    int16_t h;
    memcpy(&h, p, sizeof h);
    return _mm256_cvtph_ps(_mm_set1_epi16(h));
}

AVX2 static ALWAYS_INLINE float half(const uint8_t *p) { return _mm256_cvtss_f32(half8(p)); }

/// 8 bytes at p, zero- or sign-extended to eight 32-bit lanes.
AVX2 static ALWAYS_INLINE __m256i u8x8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadu_si64(p)); }
AVX2 static ALWAYS_INLINE __m256i i8x8(const uint8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadu_si64(p)); }

AVX2 static ALWAYS_INLINE __m256 to_float(__m256i v) { return _mm256_cvtepi32_ps(v); }
AVX2 static ALWAYS_INLINE __m256i set1(int v) { return _mm256_set1_epi32(v); }
AVX2 static ALWAYS_INLINE __m256i and_(__m256i a, int mask) { return _mm256_and_si256(a, set1(mask)); }
AVX2 static ALWAYS_INLINE __m256i or_(__m256i a, __m256i b) { return _mm256_or_si256(a, b); }
AVX2 static ALWAYS_INLINE __m256i srl(__m256i a, int count) { return _mm256_srli_epi32(a, count); }
AVX2 static ALWAYS_INLINE __m256i sll(__m256i a, int count) { return _mm256_slli_epi32(a, count); }
AVX2 static ALWAYS_INLINE __m256i sub_(__m256i a, int b) { return _mm256_sub_epi32(a, set1(b)); }

/// (d · q) + m with d·q's NaN when both are NaN (quants.c add_m). Only a NaN m can make the two
/// operand orders differ, so the blend runs for those blocks alone.
AVX2 static ALWAYS_INLINE __m256 add_m(__m256 p, __m256 m, bool m_is_nan) {
    __m256 r = _mm256_add_ps(p, m);
    if (m_is_nan) r = _mm256_blendv_ps(r, p, _mm256_cmp_ps(p, p, _CMP_UNORD_Q));
    return r;
}

/// Lanes whose bit k + lane of a u32 is set: (1 << k, 2 << k, ..., 128 << k), k = 0, 8, 16, 24.
AVX2 static ALWAYS_INLINE __m256i bits_from(int k) {
    return _mm256_sllv_epi32(set1(1), _mm256_setr_epi32(k, k + 1, k + 2, k + 3, k + 4, k + 5, k + 6, k + 7));
}

/// 16 for each lane whose bit of qh (broadcast) is in `bits`, else 0: Q5_0/Q5_1's fifth bit.
AVX2 static ALWAYS_INLINE __m256i high_bit16(__m256i qh, __m256i bits) {
    return and_(_mm256_cmpeq_epi32(_mm256_and_si256(qh, bits), bits), 16);
}

// MARK: - Element types

AVX2 static void f32_row(const uint8_t *src, ptrdiff_t n, float *dst) { memcpy(dst, src, (size_t)n * sizeof(float)); }

/// vcvtph2ps converts every half exactly except signaling NaNs, where it sets the quiet bit (bit 22)
/// that NumPy leaves clear. So for NaN lanes whose half had its quiet bit (bit 9) clear, clear bit 22
/// again: branch-free, since random or hostile data can put NaNs anywhere.
AVX2 static void f16_row(const uint8_t *src, ptrdiff_t n, float *dst) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128((const __m128i *)(src + 2 * i));
        const __m256 v = _mm256_cvtph_ps(h);
        const __m256i nan_quiet_bit = and_(_mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)), 0x00400000);
        const __m256i added = _mm256_andnot_si256(sll(_mm256_cvtepu16_epi32(h), 13), nan_quiet_bit);
        _mm256_storeu_ps(dst + i, _mm256_xor_ps(v, _mm256_castsi256_ps(added)));
    }
    for (; i < n; i++) {  // tail: one half at a time, same repair
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        float v = half(src + 2 * i);
        if (v != v && !(h & 0x200)) {
            uint32_t bits;
            memcpy(&bits, &v, 4);
            bits &= ~0x00400000u;
            memcpy(&v, &bits, 4);
        }
        dst[i] = v;
    }
}

AVX2 static void bf16_row(const uint8_t *src, ptrdiff_t n, float *dst) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(sll(h, 16)));
    }
    for (; i < n; i++) {
        const uint32_t bits = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;
        memcpy(dst + i, &bits, 4);
    }
}

// MARK: - 32-element blocks

AVX2 static void q4_0_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 18, dst += 32) {
        const __m256 d = half8(src);
        for (int g = 0; g < 2; g++) {  // elements 8g.. (low nibbles) and 16 + 8g.. (high)
            const __m256i q = u8x8(src + 2 + 8 * g);
            _mm256_storeu_ps(dst + 8 * g, _mm256_mul_ps(d, to_float(sub_(and_(q, 0xF), 8))));
            _mm256_storeu_ps(dst + 16 + 8 * g, _mm256_mul_ps(d, to_float(sub_(srl(q, 4), 8))));
        }
    }
}

AVX2 static void q4_1_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 20, dst += 32) {
        const __m256 d = half8(src), m = half8(src + 2);
        const bool m_is_nan = !_mm256_testz_ps(_mm256_cmp_ps(m, m, _CMP_UNORD_Q), _mm256_set1_ps(-0.0f));
        for (int g = 0; g < 2; g++) {
            const __m256i q = u8x8(src + 4 + 8 * g);
            _mm256_storeu_ps(dst + 8 * g, add_m(_mm256_mul_ps(d, to_float(and_(q, 0xF))), m, m_is_nan));
            _mm256_storeu_ps(dst + 16 + 8 * g, add_m(_mm256_mul_ps(d, to_float(srl(q, 4))), m, m_is_nan));
        }
    }
}

AVX2 static void q5_0_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    const __m256i bits[4] = {bits_from(0), bits_from(8), bits_from(16), bits_from(24)};
    for (ptrdiff_t i = 0; i < blocks; i++, src += 22, dst += 32) {
        const __m256 d = half8(src);
        uint32_t qh32;
        memcpy(&qh32, src + 2, 4);
        const __m256i qh = set1((int)qh32);
        for (int g = 0; g < 2; g++) {
            const __m256i q = u8x8(src + 6 + 8 * g);
            const __m256i lo = or_(and_(q, 0xF), high_bit16(qh, bits[g])), hi = or_(srl(q, 4), high_bit16(qh, bits[g + 2]));
            _mm256_storeu_ps(dst + 8 * g, _mm256_mul_ps(d, to_float(sub_(lo, 16))));
            _mm256_storeu_ps(dst + 16 + 8 * g, _mm256_mul_ps(d, to_float(sub_(hi, 16))));
        }
    }
}

AVX2 static void q5_1_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    const __m256i bits[4] = {bits_from(0), bits_from(8), bits_from(16), bits_from(24)};
    for (ptrdiff_t i = 0; i < blocks; i++, src += 24, dst += 32) {
        const __m256 d = half8(src), m = half8(src + 2);
        const bool m_is_nan = !_mm256_testz_ps(_mm256_cmp_ps(m, m, _CMP_UNORD_Q), _mm256_set1_ps(-0.0f));
        uint32_t qh32;
        memcpy(&qh32, src + 4, 4);
        const __m256i qh = set1((int)qh32);
        for (int g = 0; g < 2; g++) {
            const __m256i q = u8x8(src + 8 + 8 * g);
            const __m256i lo = or_(and_(q, 0xF), high_bit16(qh, bits[g])), hi = or_(srl(q, 4), high_bit16(qh, bits[g + 2]));
            _mm256_storeu_ps(dst + 8 * g, add_m(_mm256_mul_ps(d, to_float(lo)), m, m_is_nan));
            _mm256_storeu_ps(dst + 16 + 8 * g, add_m(_mm256_mul_ps(d, to_float(hi)), m, m_is_nan));
        }
    }
}

AVX2 static void q8_0_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 34, dst += 32) {
        const __m256 d = half8(src);
        for (int g = 0; g < 4; g++) _mm256_storeu_ps(dst + 8 * g, _mm256_mul_ps(to_float(i8x8(src + 2 + 8 * g)), d));
    }
}

/// IQ4_NL's levels as bytes for vpshufb, which looks up 16 nibbles at once.
AVX2 static ALWAYS_INLINE __m128i iq4_levels(void) { return _mm_loadu_si128((const __m128i *)qkv_iq4nl_levels); }

/// y[32] = scale · level for 16 bytes of IQ4 nibbles (low nibbles are y[0..15], high y[16..31]).
AVX2 static ALWAYS_INLINE void iq4_32(const uint8_t *qs, __m256 scale, __m128i levels, float *y) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)qs), low4 = _mm_set1_epi8(0xF);
    const __m128i lo = _mm_shuffle_epi8(levels, _mm_and_si128(raw, low4));
    const __m128i hi = _mm_shuffle_epi8(levels, _mm_and_si128(_mm_srli_epi16(raw, 4), low4));
    _mm256_storeu_ps(y, _mm256_mul_ps(scale, to_float(_mm256_cvtepi8_epi32(lo))));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(scale, to_float(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(scale, to_float(_mm256_cvtepi8_epi32(hi))));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(scale, to_float(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
}

AVX2 static void iq4_nl_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    const __m128i levels = iq4_levels();
    for (ptrdiff_t i = 0; i < blocks; i++, src += 18, dst += 32) iq4_32(src + 2, half8(src), levels, dst);
}

// MARK: - 256-element blocks

/// out[8k ... 8k + 7] = scale · float(bytes 8k.. as unsigned, or signed) for out[16]: the 16
/// per-sub-block products d · scale, rounded once each, as gguf-py's d * scales.
AVX2 static ALWAYS_INLINE void scale16(__m128i bytes, bool is_signed, __m256 scale, float out[16]) {
    for (int k = 0; k < 2; k++) {
        const __m128i b = k ? _mm_srli_si128(bytes, 8) : bytes;
        const __m256i v = is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
        _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(scale, to_float(v)));
    }
}

AVX2 static void q2_K_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 84, dst += 256) {
        const __m128i scales = _mm_loadu_si128((const __m128i *)src), low4 = _mm_set1_epi8(0xF);
        float dl[16], ml[16];
        scale16(_mm_and_si128(scales, low4), false, half8(src + 80), dl);
        scale16(_mm_and_si128(_mm_srli_epi16(scales, 4), low4), false, half8(src + 82), ml);
        for (int h = 0; h < 2; h++) {
            for (int g = 0; g < 4; g++) {  // l = 8g ... 8g + 7
                const __m256i q = u8x8(src + 16 + 32 * h + 8 * g);
                for (int s = 0; s < 4; s++) {
                    const int e = 128 * h + 32 * s + 8 * g;
                    const __m256 v = _mm256_mul_ps(_mm256_broadcast_ss(&dl[e / 16]), to_float(and_(srl(q, 2 * s), 3)));
                    _mm256_storeu_ps(dst + e, _mm256_sub_ps(v, _mm256_broadcast_ss(&ml[e / 16])));
                }
            }
        }
    }
}

/// Q3_K's 16 six-bit scales minus 32, as int8 in sub-block order: low nibbles of bytes 0-7, then
/// their high nibbles; bits 4-5 from bytes 8-11, two bits per sub-block, sub-block i taking
/// bits 2(i / 4) of byte 8 + i % 4 (lane k of the 32-bit shift below holds the 4 bytes >> 2k).
AVX2 static ALWAYS_INLINE __m128i q3_K_scales(const uint8_t *s) {
    const __m128i low4 = _mm_set1_epi8(0xF), lows = _mm_loadu_si64(s);
    const __m128i low = _mm_unpacklo_epi64(_mm_and_si128(lows, low4), _mm_and_si128(_mm_srli_epi16(lows, 4), low4));
    uint32_t h32;
    memcpy(&h32, s + 8, 4);
    const __m128i high = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32((int)h32), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32));
}

AVX2 static void q3_K_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 110, dst += 256) {
        float dl[16];
        scale16(q3_K_scales(src + 96), true, half8(src + 108), dl);
        for (int g = 0; g < 4; g++) {  // l = 8g ... 8g + 7
            const __m256i hmask = u8x8(src + 8 * g);
            for (int h = 0; h < 2; h++) {
                const __m256i q = u8x8(src + 32 + 32 * h + 8 * g);
                for (int s = 0; s < 4; s++) {
                    const int e = 128 * h + 32 * s + 8 * g;
                    // low 2 bits | 4 if the hmask bit is set, − 4: q − 4 unless the bit is set
                    const __m256i high = sll(and_(srl(hmask, 4 * h + s), 1), 2);
                    const __m256i v = sub_(or_(and_(srl(q, 2 * s), 3), high), 4);
                    _mm256_storeu_ps(dst + e, _mm256_mul_ps(_mm256_broadcast_ss(&dl[e / 16]), to_float(v)));
                }
            }
        }
    }
}

/// Q4_K/Q5_K: dl[j] = d · scale_j, ml[j] = dmin · min_j for the 8 sub-blocks. The 12 packed bytes
/// are three little-endian words A (bytes 0-3), B (4-7), C (8-11); byte-wise, scales 0-3 are
/// A & 63, scales 4-7 are (C & 15) | (A >> 6) << 4, mins 0-3 are B & 63, mins 4-7 are
/// (C >> 4) | (B >> 6) << 4 (quants.c scale_min_k4).
AVX2 static ALWAYS_INLINE void k4_scales(const uint8_t *b, float dl[8], float ml[8]) {
    uint32_t a, bw, c;
    memcpy(&a, b + 4, 4);
    memcpy(&bw, b + 8, 4);
    memcpy(&c, b + 12, 4);
    const uint32_t sc_lo = a & 0x3F3F3F3F, sc_hi = (c & 0x0F0F0F0F) | ((a >> 2) & 0x30303030);
    const uint32_t mn_lo = bw & 0x3F3F3F3F, mn_hi = ((c >> 4) & 0x0F0F0F0F) | ((bw >> 2) & 0x30303030);
    const __m256i sc = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)((uint64_t)sc_hi << 32 | sc_lo)));
    const __m256i mn = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)((uint64_t)mn_hi << 32 | mn_lo)));
    _mm256_storeu_ps(dl, _mm256_mul_ps(half8(b), to_float(sc)));
    _mm256_storeu_ps(ml, _mm256_mul_ps(half8(b + 2), to_float(mn)));
}

AVX2 static void q4_K_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 144, dst += 256) {
        float dl[8], ml[8];
        k4_scales(src, dl, ml);
        for (int c = 0; c < 4; c++) {  // sub-blocks 2c (low nibbles) and 2c + 1 (high)
            const __m256 d0 = _mm256_broadcast_ss(&dl[2 * c]), m0 = _mm256_broadcast_ss(&ml[2 * c]);
            const __m256 d1 = _mm256_broadcast_ss(&dl[2 * c + 1]), m1 = _mm256_broadcast_ss(&ml[2 * c + 1]);
            for (int g = 0; g < 4; g++) {
                const __m256i q = u8x8(src + 16 + 32 * c + 8 * g);
                float *y = dst + 64 * c + 8 * g;
                _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(d0, to_float(and_(q, 0xF))), m0));
                _mm256_storeu_ps(y + 32, _mm256_sub_ps(_mm256_mul_ps(d1, to_float(srl(q, 4))), m1));
            }
        }
    }
}

AVX2 static void q5_K_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 176, dst += 256) {
        float dl[8], ml[8];
        k4_scales(src, dl, ml);
        for (int g = 0; g < 4; g++) {  // l = 8g ... 8g + 7
            const __m256i qh = sll(u8x8(src + 16 + 8 * g), 4);  // bit j of qh[l] moved to bit 4 + j
            for (int c = 0; c < 4; c++) {
                const __m256i q = u8x8(src + 48 + 32 * c + 8 * g);
                const int j = 2 * c;
                const __m256i lo = or_(and_(q, 0xF), and_(srl(qh, j), 16));
                const __m256i hi = or_(srl(q, 4), and_(srl(qh, j + 1), 16));
                float *y = dst + 64 * c + 8 * g;
                _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(_mm256_broadcast_ss(&dl[j]), to_float(lo)),
                                                  _mm256_broadcast_ss(&ml[j])));
                _mm256_storeu_ps(y + 32, _mm256_sub_ps(_mm256_mul_ps(_mm256_broadcast_ss(&dl[j + 1]), to_float(hi)),
                                                       _mm256_broadcast_ss(&ml[j + 1])));
            }
        }
    }
}

AVX2 static void q6_K_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    for (ptrdiff_t i = 0; i < blocks; i++, src += 210, dst += 256) {
        float dl[16];
        scale16(_mm_loadu_si128((const __m128i *)(src + 192)), true, half8(src + 208), dl);
        for (int h = 0; h < 2; h++) {
            for (int g = 0; g < 4; g++) {  // l = 8g ... 8g + 7
                const __m256i a = u8x8(src + 64 * h + 8 * g), b = u8x8(src + 64 * h + 32 + 8 * g);
                const __m256i qh = sll(u8x8(src + 128 + 32 * h + 8 * g), 4);  // bits 2s.. moved to 4 + 2s..
                const __m256i q[4] = {
                    or_(and_(a, 0xF), and_(qh, 0x30)),
                    or_(and_(b, 0xF), and_(srl(qh, 2), 0x30)),
                    or_(srl(a, 4), and_(srl(qh, 4), 0x30)),
                    or_(srl(b, 4), and_(srl(qh, 6), 0x30)),
                };
                for (int s = 0; s < 4; s++) {
                    const int e = 128 * h + 32 * s + 8 * g;
                    _mm256_storeu_ps(dst + e, _mm256_mul_ps(_mm256_broadcast_ss(&dl[e / 16]), to_float(sub_(q[s], 32))));
                }
            }
        }
    }
}

AVX2 static void iq4_xs_row(const uint8_t *src, ptrdiff_t blocks, float *dst) {
    const __m128i levels = iq4_levels();
    for (ptrdiff_t i = 0; i < blocks; i++, src += 136, dst += 256) {
        // 8 scales: nibble j % 2 of scales_l[j / 2], bits 2j.. of scales_h on top, minus 32
        const uint16_t scales_h = (uint16_t)(src[2] | src[3] << 8);
        float dl[8];
        const float d = half(src);
        for (int j = 0; j < 8; j++) {
            const int scale = (src[4 + j / 2] >> (4 * (j % 2)) & 0xF) | (scales_h >> (2 * j) & 3) << 4;
            dl[j] = d * (float)(scale - 32);
        }
        for (int j = 0; j < 8; j++) iq4_32(src + 8 + 16 * j, _mm256_set1_ps(dl[j]), levels, dst + 32 * j);
    }
}

qkv_dequant_fn qkv_dequant_avx2_kernel(int type) {
    switch (type) {
    case QKV_GGML_F32: return f32_row;
    case QKV_GGML_F16: return f16_row;
    case QKV_GGML_BF16: return bf16_row;
    case QKV_GGML_Q4_0: return q4_0_row;
    case QKV_GGML_Q4_1: return q4_1_row;
    case QKV_GGML_Q5_0: return q5_0_row;
    case QKV_GGML_Q5_1: return q5_1_row;
    case QKV_GGML_Q8_0: return q8_0_row;
    case QKV_GGML_Q2_K: return q2_K_row;
    case QKV_GGML_Q3_K: return q3_K_row;
    case QKV_GGML_Q4_K: return q4_K_row;
    case QKV_GGML_Q5_K: return q5_K_row;
    case QKV_GGML_Q6_K: return q6_K_row;
    case QKV_GGML_IQ4_NL: return iq4_nl_row;
    case QKV_GGML_IQ4_XS: return iq4_xs_row;
    default: return NULL;
    }
}

#else

qkv_dequant_fn qkv_dequant_avx2_kernel(int type) {
    (void)type;
    return NULL;
}

#endif
