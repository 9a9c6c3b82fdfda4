// The byte un-shuffle of QKV's shuffle+zlib encoding. SSE2 is part of every x86-64 CPU and NEON of
// every arm64 one, so neither needs run-time dispatch; other CPUs run the portable loop (same
// bytes either way).

#include "CKernels.h"

#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

static void unshuffle_generic(const uint8_t *shuffled, ptrdiff_t n, ptrdiff_t s, ptrdiff_t first,
                              ptrdiff_t last, uint8_t *raw) {
    for (ptrdiff_t i = first; i < last; i++) {
        for (ptrdiff_t j = 0; j < s; j++) raw[i * s + j] = shuffled[j * n + i];
    }
}

void qkv_unshuffle(const uint8_t *shuffled, ptrdiff_t n, ptrdiff_t s, ptrdiff_t first, ptrdiff_t last,
                   uint8_t *raw) {
    ptrdiff_t i = first;
#if defined(__SSE2__)
    if (s == 4) {
        // 16 elements per step: interleave planes (0,1) and (2,3) byte-wise, then the pairs
        // 16-bit-wise, giving 64 bytes of whole little-endian words.
        const uint8_t *p0 = shuffled, *p1 = shuffled + n, *p2 = shuffled + 2 * n, *p3 = shuffled + 3 * n;
        for (; i + 16 <= last; i += 16) {
            __m128i b0 = _mm_loadu_si128((const __m128i *)(p0 + i));
            __m128i b1 = _mm_loadu_si128((const __m128i *)(p1 + i));
            __m128i b2 = _mm_loadu_si128((const __m128i *)(p2 + i));
            __m128i b3 = _mm_loadu_si128((const __m128i *)(p3 + i));
            __m128i lo01 = _mm_unpacklo_epi8(b0, b1), hi01 = _mm_unpackhi_epi8(b0, b1);
            __m128i lo23 = _mm_unpacklo_epi8(b2, b3), hi23 = _mm_unpackhi_epi8(b2, b3);
            __m128i *out = (__m128i *)(raw + 4 * i);
            _mm_storeu_si128(out + 0, _mm_unpacklo_epi16(lo01, lo23));
            _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(lo01, lo23));
            _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(hi01, hi23));
            _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(hi01, hi23));
        }
    } else if (s == 2) {
        const uint8_t *p0 = shuffled, *p1 = shuffled + n;
        for (; i + 16 <= last; i += 16) {
            __m128i b0 = _mm_loadu_si128((const __m128i *)(p0 + i));
            __m128i b1 = _mm_loadu_si128((const __m128i *)(p1 + i));
            __m128i *out = (__m128i *)(raw + 2 * i);
            _mm_storeu_si128(out + 0, _mm_unpacklo_epi8(b0, b1));
            _mm_storeu_si128(out + 1, _mm_unpackhi_epi8(b0, b1));
        }
    }
#elif defined(__ARM_NEON)
    // vst4/vst2 store their registers interleaved: exactly the un-shuffle of 16 elements.
    if (s == 4) {
        for (; i + 16 <= last; i += 16) {
            uint8x16x4_t planes = {{vld1q_u8(shuffled + i), vld1q_u8(shuffled + n + i), vld1q_u8(shuffled + 2 * n + i),
                                    vld1q_u8(shuffled + 3 * n + i)}};
            vst4q_u8(raw + 4 * i, planes);
        }
    } else if (s == 2) {
        for (; i + 16 <= last; i += 16) {
            uint8x16x2_t planes = {{vld1q_u8(shuffled + i), vld1q_u8(shuffled + n + i)}};
            vst2q_u8(raw + 2 * i, planes);
        }
    }
#endif
    unshuffle_generic(shuffled, n, s, i, last, raw);
}
