// Packed float32 GEMM (BLIS loop order) with one micro-kernel set per instruction set.
//
// Per depth chunk (≤ KC, sizes depend on k only): pack B for up to NC columns into KC×NR column
// panels, pack up to MC rows of x into KC×MR row panels, then sweep MR×NR tiles with B's panel in
// L1 and the packed rows in L2. Model weights are packed once at load (qkv_pack_weight), so
// their products only pack x. Few rows (m ≤ SMALL_M) of an unpacked B skip its packing: x·W
// reads W's rows in place, x·Wᵀ takes dot products of whole rows instead.
//
// Each output element is Σ_k in increasing k within a chunk (one FMA chain per element), chunks
// added in order, then the bias; the dot-product path uses 8 interleaved partial sums reduced in a
// fixed tree. Neither depends on the column, so a column split never changes the bits.

#include "CKernels.h"
#include "quants_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum {
    MR = 6,         // micro-tile rows
    NR = 16,        // micro-tile columns (two AVX2 vectors)
    KC = 256,       // depth of one packed chunk: a KC×NR B panel (16 KiB) stays in L1
    MC = 192,       // rows packed at once: MC×KC of x (192 KiB) stays in L2
    NC = 2048,      // columns packed at once (2 MiB, in L3)
    SMALL_M = 8,    // up to this many rows: no B packing
};

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ptrdiff_t min_pd(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }

// MARK: - Kernel table

/// c[rows ≤ MR, cols ≤ NR] = (load_c ? c : 0) + a[kc][MR] · b[kc][ldb](first NR) (+ bias[cols])
typedef void (*tile_fn)(int rows, int cols, ptrdiff_t kc, const float *a, const float *b, ptrdiff_t ldb,
                        float *c, ptrdiff_t ldc, bool load_c, const float *bias);
/// dst[kc][NR] = w[j, p0 + p] for j < cols (w row stride ldw), zero for cols ≤ j < NR
typedef void (*pack_bt_fn)(int cols, ptrdiff_t kc, const float *w, ptrdiff_t ldw, float *dst);
/// dst[kc][MR] = x[r, p] for r < rows (row stride ldx), zero for rows ≤ r < MR
typedef void (*pack_a_fn)(int rows, ptrdiff_t kc, const float *x, ptrdiff_t ldx, float *dst);
/// out[m, n] = (accumulate ? out : 0) + x[m, k] · w[n, k]ᵀ (+ bias), by dot products
typedef void (*dot_fn)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx, const float *w,
                       ptrdiff_t ldw, const float *bias, float *out, ptrdiff_t ldo, bool accumulate);

/// c[rows ≤ MR, cols ≤ 2·NR] = tile() of two neighbouring B panels at once (b1 = columns NR...),
/// each element by the same FMA chain as tile(), so the bits are tile()'s.
typedef void (*tile_wide_fn)(int rows, int cols, ptrdiff_t kc, const float *a, const float *b0, const float *b1,
                             ptrdiff_t ldb, float *c, ptrdiff_t ldc, bool load_c, const float *bias);

typedef struct {
    tile_fn tile;
    pack_a_fn pack_a;
    pack_bt_fn pack_bt;
    dot_fn dot;
    tile_wide_fn tile_wide;  // NULL: pairs of panels go through tile() one by one
} kernel_set;

// MARK: - Portable kernels

typedef float v4 __attribute__((vector_size(16)));

static ALWAYS_INLINE v4 load4(const float *p) {
    v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void tile_generic(int rows, int cols, ptrdiff_t kc, const float *a, const float *b, ptrdiff_t ldb,
                         float *c, ptrdiff_t ldc, bool load_c, const float *bias) {
    v4 acc[MR][NR / 4] = {{0}};
    for (ptrdiff_t p = 0; p < kc; p++) {
        v4 bv[NR / 4];
        for (int q = 0; q < NR / 4; q++) bv[q] = load4(b + 4 * q);
        for (int r = 0; r < MR; r++) {
            v4 av = {a[r], a[r], a[r], a[r]};
            for (int q = 0; q < NR / 4; q++) acc[r][q] += av * bv[q];
        }
        a += MR;
        b += ldb;
    }
    float tile[MR][NR];
    memcpy(tile, acc, sizeof tile);
    for (int r = 0; r < rows; r++) {
        float *dst = c + r * ldc;
        for (int j = 0; j < cols; j++) {
            float v = tile[r][j];
            if (load_c) v = dst[j] + v;
            if (bias) v += bias[j];
            dst[j] = v;
        }
    }
}

static void pack_a_generic(int rows, ptrdiff_t kc, const float *x, ptrdiff_t ldx, float *dst) {
    for (int r = 0; r < MR; r++) {
        const float *src = x + (r < rows ? r : 0) * ldx;
        for (ptrdiff_t p = 0; p < kc; p++) dst[p * MR + r] = r < rows ? src[p] : 0;
    }
}

static void pack_bt_generic(int cols, ptrdiff_t kc, const float *w, ptrdiff_t ldw, float *dst) {
    for (int j = 0; j < NR; j++) {
        const float *src = w + (j < cols ? j : 0) * ldw;
        for (ptrdiff_t p = 0; p < kc; p++) dst[p * NR + j] = j < cols ? src[p] : 0;
    }
}

/// Σ of 8 lanes in the tree the AVX2 code uses: (i + i+4), then (i + i+2), then (0 + 1).
static ALWAYS_INLINE float reduce8(const float l[8]) {
    float s0 = l[0] + l[4], s1 = l[1] + l[5], s2 = l[2] + l[6], s3 = l[3] + l[7];
    return (s0 + s2) + (s1 + s3);
}

static void dot_generic(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx, const float *w,
                        ptrdiff_t ldw, const float *bias, float *out, ptrdiff_t ldo, bool accumulate) {
    for (ptrdiff_t r = 0; r < m; r++) {
        const float *xr = x + r * ldx;
        for (ptrdiff_t j = 0; j < n; j++) {
            const float *wj = w + j * ldw;
            v4 lo = {0}, hi = {0};
            ptrdiff_t p = 0;
            for (; p + 8 <= k; p += 8) {
                lo += load4(xr + p) * load4(wj + p);
                hi += load4(xr + p + 4) * load4(wj + p + 4);
            }
            float lanes[8];
            memcpy(lanes, &lo, 16);
            memcpy(lanes + 4, &hi, 16);
            for (; p < k; p++) lanes[p % 8] += xr[p] * wj[p];
            float v = reduce8(lanes);
            float *dst = out + r * ldo + j;
            if (accumulate) v = *dst + v;
            if (bias) v += bias[j];
            *dst = v;
        }
    }
}

static const kernel_set generic_kernels = {tile_generic, pack_a_generic, pack_bt_generic, dot_generic, NULL};

// MARK: - AVX2 + FMA kernels

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))

/// Lane masks for the first `count` (0...8) floats of a vector.
AVX2 static ALWAYS_INLINE __m256i first_lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Specialized per row count by the dispatcher below (rows is a constant after inlining).
AVX2 static ALWAYS_INLINE void tile_avx2_rows(const int rows, int cols, ptrdiff_t kc, const float *a,
                                              const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                              bool load_c, const float *bias) {
    __m256 acc[MR][2];
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    // The C tile is read or written only after the loop: start fetching it now (it is often in L3).
    for (int r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);
    }
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        // Weights streamed from memory (packed panels follow each other): fetch 2 KiB ahead.
        _mm_prefetch((const char *)(b + 32 * NR), _MM_HINT_T0);
        for (int r = 0; r < rows; r++) {
            __m256 av = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
        a += MR;
        b += ldb;
    }
    if (cols == NR) {
        __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
        if (bias) {
            bias0 = _mm256_loadu_ps(bias);
            bias1 = _mm256_loadu_ps(bias + 8);
        }
        for (int r = 0; r < rows; r++) {
            float *dst = c + r * ldc;
            __m256 v0 = acc[r][0], v1 = acc[r][1];
            if (load_c) {
                v0 = _mm256_add_ps(_mm256_loadu_ps(dst), v0);
                v1 = _mm256_add_ps(_mm256_loadu_ps(dst + 8), v1);
            }
            if (bias) {
                v0 = _mm256_add_ps(v0, bias0);
                v1 = _mm256_add_ps(v1, bias1);
            }
            _mm256_storeu_ps(dst, v0);
            _mm256_storeu_ps(dst + 8, v1);
        }
    } else {
        // Masked loads never touch the lanes past cols, so no read or write leaves the matrix.
        __m256i m0 = first_lanes(cols < 8 ? cols : 8), m1 = first_lanes(cols > 8 ? cols - 8 : 0);
        __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
        if (bias) {
            bias0 = _mm256_maskload_ps(bias, m0);
            bias1 = _mm256_maskload_ps(bias + 8, m1);
        }
        for (int r = 0; r < rows; r++) {
            float *dst = c + r * ldc;
            __m256 v0 = acc[r][0], v1 = acc[r][1];
            if (load_c) {
                v0 = _mm256_add_ps(_mm256_maskload_ps(dst, m0), v0);
                v1 = _mm256_add_ps(_mm256_maskload_ps(dst + 8, m1), v1);
            }
            if (bias) {
                v0 = _mm256_add_ps(v0, bias0);
                v1 = _mm256_add_ps(v1, bias1);
            }
            _mm256_maskstore_ps(dst, m0, v0);
            _mm256_maskstore_ps(dst + 8, m1, v1);
        }
    }
}

AVX2 static void tile_avx2(int rows, int cols, ptrdiff_t kc, const float *a, const float *b, ptrdiff_t ldb,
                           float *c, ptrdiff_t ldc, bool load_c, const float *bias) {
    switch (rows) {
    case 6: tile_avx2_rows(6, cols, kc, a, b, ldb, c, ldc, load_c, bias); break;
    case 5: tile_avx2_rows(5, cols, kc, a, b, ldb, c, ldc, load_c, bias); break;
    case 4: tile_avx2_rows(4, cols, kc, a, b, ldb, c, ldc, load_c, bias); break;
    case 3: tile_avx2_rows(3, cols, kc, a, b, ldb, c, ldc, load_c, bias); break;
    case 2: tile_avx2_rows(2, cols, kc, a, b, ldb, c, ldc, load_c, bias); break;
    default: tile_avx2_rows(1, cols, kc, a, b, ldb, c, ldc, load_c, bias); break;
    }
}

/// In-register 8×8 transpose: r[i] holds row i on entry and column i on return.
AVX2 static ALWAYS_INLINE void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

AVX2 static void pack_a_avx2(int rows, ptrdiff_t kc, const float *x, ptrdiff_t ldx, float *dst) {
    ptrdiff_t p = 0;
    // 8 depths at a time: transpose the rows (zeros below them), then store each 6-float column
    // with an 8-wide store whose 2 extra lanes the next store overwrites; the last one as 4 + 2.
    for (; p + 8 <= kc; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(x + i * ldx + p) : _mm256_setzero_ps();
        transpose8(r);
        for (int i = 0; i < 7; i++) _mm256_storeu_ps(dst + (p + i) * MR, r[i]);
        float *last = dst + (p + 7) * MR;
        _mm_storeu_ps(last, _mm256_castps256_ps128(r[7]));
        _mm_storel_pi((__m64 *)(last + 4), _mm256_extractf128_ps(r[7], 1));
    }
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + i] = i < rows ? x[i * ldx + p] : 0;
}

AVX2 static void pack_bt_avx2(int cols, ptrdiff_t kc, const float *w, ptrdiff_t ldw, float *dst) {
    if (cols < NR) {
        pack_bt_generic(cols, kc, w, ldw, dst);
        return;
    }
    ptrdiff_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int half = 0; half < 2; half++) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(w + (half * 8 + i) * ldw + p);
            transpose8(r);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + (p + i) * NR + half * 8, r[i]);
        }
    }
    for (; p < kc; p++)
        for (int j = 0; j < NR; j++) dst[p * NR + j] = w[j * ldw + p];
}

/// reduce8's tree on a vector.
AVX2 static ALWAYS_INLINE float reduce8_avx(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

enum { DOT_ROWS = 4, DOT_COLS = 3 };

/// out[rows, cols] (+)= x[rows, k] · w[cols, k]ᵀ (+ bias), rows ≤ DOT_ROWS, cols ≤ DOT_COLS constants.
AVX2 static ALWAYS_INLINE void dot_avx2_block(const int rows, const int cols, ptrdiff_t k, const float *x,
                                              ptrdiff_t ldx, const float *w, ptrdiff_t ldw, const float *bias,
                                              float *out, ptrdiff_t ldo, bool accumulate) {
    __m256 acc[DOT_ROWS][DOT_COLS];
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) acc[r][j] = _mm256_setzero_ps();
    ptrdiff_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 wv[DOT_COLS];
        for (int j = 0; j < cols; j++) wv[j] = _mm256_loadu_ps(w + j * ldw + p);
        for (int r = 0; r < rows; r++) {
            __m256 xv = _mm256_loadu_ps(x + r * ldx + p);
            for (int j = 0; j < cols; j++) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
        }
    }
    if (p < k) {
        __m256i mask = first_lanes((int)(k - p));
        __m256 wv[DOT_COLS];
        for (int j = 0; j < cols; j++) wv[j] = _mm256_maskload_ps(w + j * ldw + p, mask);
        for (int r = 0; r < rows; r++) {
            __m256 xv = _mm256_maskload_ps(x + r * ldx + p, mask);
            for (int j = 0; j < cols; j++) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) {
            float v = reduce8_avx(acc[r][j]);
            float *dst = out + r * ldo + j;
            if (accumulate) v = *dst + v;
            if (bias) v += bias[j];
            *dst = v;
        }
    }
}

#define DOT_CASE(R, C) \
    case (R) * 4 + (C): dot_avx2_block(R, C, k, xb, ldx, wb, ldw, bb, ob, ldo, accumulate); break;

AVX2 static void dot_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx, const float *w,
                          ptrdiff_t ldw, const float *bias, float *out, ptrdiff_t ldo, bool accumulate) {
    // Columns outer: DOT_COLS rows of w stay in L1 while every row of x passes by.
    for (ptrdiff_t j = 0; j < n; j += DOT_COLS) {
        const int cols = (int)min_pd(DOT_COLS, n - j);
        for (ptrdiff_t r = 0; r < m; r += DOT_ROWS) {
            const int rows = (int)min_pd(DOT_ROWS, m - r);
            const float *xb = x + r * ldx, *wb = w + j * ldw, *bb = bias ? bias + j : NULL;
            float *ob = out + r * ldo + j;
            switch (rows * 4 + cols) {
                DOT_CASE(4, 3) DOT_CASE(4, 2) DOT_CASE(4, 1)
                DOT_CASE(3, 3) DOT_CASE(3, 2) DOT_CASE(3, 1)
                DOT_CASE(2, 3) DOT_CASE(2, 2) DOT_CASE(2, 1)
                DOT_CASE(1, 3) DOT_CASE(1, 2) DOT_CASE(1, 1)
            default: break;
            }
        }
    }
}
#undef DOT_CASE

static const kernel_set avx2_kernels = {tile_avx2, pack_a_avx2, pack_bt_avx2, dot_avx2, NULL};

// MARK: - AVX-512 wide tiles

// An MR×2NR tile: one 16-float register per row and panel, 12 accumulators, which keeps both FMA
// pipes busy (6 accumulators of one panel would wait on FMA latency). The packing layouts are
// AVX2's, and each element is the same FMA chain in the same order, so results are bit-identical
// to the AVX2 kernels: a CPU with AVX-512 only computes the same numbers faster.
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

AVX512 static ALWAYS_INLINE __mmask16 lane_mask(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

AVX512 static ALWAYS_INLINE void tile_wide_avx512_rows(const int rows, int cols, ptrdiff_t kc, const float *a,
                                                       const float *b0, const float *b1, ptrdiff_t ldb, float *c,
                                                       ptrdiff_t ldc, bool load_c, const float *bias) {
    __m512 acc[MR][2];
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 2 * NR - 1), _MM_HINT_T0);
    }
    for (ptrdiff_t p = 0; p < kc; p++) {
        __m512 v0 = _mm512_loadu_ps(b0), v1 = _mm512_loadu_ps(b1);
        _mm_prefetch((const char *)(b0 + 32 * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(b1 + 32 * NR), _MM_HINT_T0);
        for (int r = 0; r < rows; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(av, v0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, v1, acc[r][1]);
        }
        a += MR;
        b0 += ldb;
        b1 += ldb;
    }
    // Masked loads and stores never touch lanes past cols.
    const __mmask16 m0 = lane_mask(cols), m1 = lane_mask(cols - NR);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias) {
        bias0 = _mm512_maskz_loadu_ps(m0, bias);
        bias1 = _mm512_maskz_loadu_ps(m1, bias + NR);
    }
    for (int r = 0; r < rows; r++) {
        float *dst = c + r * ldc;
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (load_c) {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, dst), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, dst + NR), v1);
        }
        if (bias) {
            v0 = _mm512_add_ps(v0, bias0);
            v1 = _mm512_add_ps(v1, bias1);
        }
        _mm512_mask_storeu_ps(dst, m0, v0);
        _mm512_mask_storeu_ps(dst + NR, m1, v1);
    }
}

AVX512 static void tile_wide_avx512(int rows, int cols, ptrdiff_t kc, const float *a, const float *b0, const float *b1,
                                    ptrdiff_t ldb, float *c, ptrdiff_t ldc, bool load_c, const float *bias) {
    switch (rows) {
    case 6: tile_wide_avx512_rows(6, cols, kc, a, b0, b1, ldb, c, ldc, load_c, bias); break;
    case 5: tile_wide_avx512_rows(5, cols, kc, a, b0, b1, ldb, c, ldc, load_c, bias); break;
    case 4: tile_wide_avx512_rows(4, cols, kc, a, b0, b1, ldb, c, ldc, load_c, bias); break;
    case 3: tile_wide_avx512_rows(3, cols, kc, a, b0, b1, ldb, c, ldc, load_c, bias); break;
    case 2: tile_wide_avx512_rows(2, cols, kc, a, b0, b1, ldb, c, ldc, load_c, bias); break;
    default: tile_wide_avx512_rows(1, cols, kc, a, b0, b1, ldb, c, ldc, load_c, bias); break;
    }
}

static const kernel_set avx512_kernels = {tile_avx2, pack_a_avx2, pack_bt_avx2, dot_avx2, tile_wide_avx512};
#endif

// MARK: - Dispatch

static qkv_isa detect_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the YMM registers (XCR0).
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return QKV_ISA_AVX2_FMA;
#endif
    return QKV_ISA_GENERIC;
}

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static qkv_isa best_isa = QKV_ISA_GENERIC;

static void init_isa(void) { best_isa = detect_isa(); }

qkv_isa qkv_best_isa(void) {
    pthread_once(&isa_once, init_isa);
    return best_isa;
}

/// AVX-512 wide tiles under the AVX2 isa (they give the same bits), unless QKV_ISA=avx2 asks for
/// the AVX2 tiles alone (to compare the two).
static bool wide_tiles = false;

static void init_wide_tiles(void) {
#if defined(__x86_64__)
    const char *forced = getenv("QKV_ISA");
    // __builtin_cpu_supports("avx512f") also checks that the OS saves the ZMM registers.
    wide_tiles = __builtin_cpu_supports("avx512f") && !(forced && strcmp(forced, "avx2") == 0);
#endif
}

static pthread_once_t wide_once = PTHREAD_ONCE_INIT;

bool qkv_uses_avx512(void) {
    pthread_once(&wide_once, init_wide_tiles);
    return wide_tiles && qkv_best_isa() == QKV_ISA_AVX2_FMA;
}

static const kernel_set *kernels_for(qkv_isa isa) {
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) return qkv_uses_avx512() ? &avx512_kernels : &avx2_kernels;
#endif
    (void)isa;
    return &generic_kernels;
}

// MARK: - Workspace

// Packing buffers, one set per thread, reused across calls (allocating them per call would fault
// fresh pages every time) and freed when the thread exits.
enum {
    WS_A = MC * KC,
    WS_B = KC * NC,
    WS_EDGE = KC * NR,
    WS_FLOATS = WS_A + WS_B + WS_EDGE,
};

static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;

static void init_workspace_key(void) {
    if (pthread_key_create(&workspace_key, free) != 0) abort();
}

static float *workspace(void) {
    pthread_once(&workspace_once, init_workspace_key);
    float *ws = pthread_getspecific(workspace_key);
    if (ws) return ws;
    void *p = NULL;
    if (posix_memalign(&p, 64, WS_FLOATS * sizeof(float)) != 0) abort();
    if (pthread_setspecific(workspace_key, p) != 0) abort();
    return p;
}

// A second per-thread buffer, grown on demand, for rows packed once and shared by the threads of
// one product (see qkv_thread_buffer).
typedef struct {
    float *data;
    ptrdiff_t capacity;
} growable;

static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;

static void free_growable(void *p) {
    growable *g = p;
    free(g->data);
    free(g);
}

static void init_buffer_key(void) {
    if (pthread_key_create(&buffer_key, free_growable) != 0) abort();
}

float *qkv_thread_buffer(ptrdiff_t count) {
    pthread_once(&buffer_once, init_buffer_key);
    growable *g = pthread_getspecific(buffer_key);
    if (!g) {
        g = calloc(1, sizeof *g);
        if (!g || pthread_setspecific(buffer_key, g) != 0) abort();
    }
    if (count > g->capacity) {
        free(g->data);
        void *p = NULL;
        if (posix_memalign(&p, 64, (size_t)count * sizeof(float)) != 0) abort();
        g->data = p;
        g->capacity = count;
    }
    return g->data;
}

// MARK: - Packing

/// dst[kc][NR] = w[p, j] for j < cols (row stride ldw), zero for cols ≤ j < NR
static void pack_b(int cols, ptrdiff_t kc, const float *w, ptrdiff_t ldw, float *dst) {
    for (ptrdiff_t p = 0; p < kc; p++) {
        const float *src = w + p * ldw;
        float *d = dst + p * NR;
        if (cols == NR) {
            memcpy(d, src, NR * sizeof(float));
        } else {
            for (int j = 0; j < NR; j++) d[j] = j < cols ? src[j] : 0;
        }
    }
}

// MARK: - Driver

/// Where the KC×NR panels of B come from.
typedef struct {
    const float *w;        // unpacked B: w [k, n] or w [n, k]ᵀ, row stride ldw
    ptrdiff_t ldw;
    bool transposed;
    const float *packed;   // or a whole weight packed by qkv_pack_weight (NULL if none) ...
    ptrdiff_t all_panels;  // ... with this many panels in all,
    ptrdiff_t first_panel; // of which this call's columns start at this one
} b_source;

/// Depth chunk q of k: [start(q), start(q + 1)), a function of k (and the granule) alone.
static ptrdiff_t chunk_count(ptrdiff_t k) { return (k + KC - 1) / KC; }

/// Where depth chunk q of `chunks` starts: k·q/chunks rounded down to a multiple of `granule`
/// (k is a multiple of it), so a chunk of quantized weights holds whole blocks. Granule 1 is
/// the plain split the float32 products use.
static ptrdiff_t chunk_start(ptrdiff_t k, ptrdiff_t granule, ptrdiff_t q, ptrdiff_t chunks) {
    return k / granule * q / chunks * granule;
}

// Rows of x go in balanced blocks of ≤ MC rows, each in balanced panels of ≤ MR rows (8 rows run
// as 4 + 4, not 6 + 2). Packed once for all threads (qkv_pack_rows), a depth chunk starting at p0
// holds every block's panels from p0 · padded_rows(m) on.
static ptrdiff_t row_block_count(ptrdiff_t m) { return (m + MC - 1) / MC; }
static ptrdiff_t panel_count(ptrdiff_t rows) { return (rows + MR - 1) / MR; }

static ptrdiff_t padded_rows(ptrdiff_t m) {
    ptrdiff_t total = 0, blocks = row_block_count(m);
    for (ptrdiff_t rb = 0; rb < blocks; rb++) total += panel_count(m * (rb + 1) / blocks - m * rb / blocks) * MR;
    return total;
}

/// Packs rows [i0, i0 + mc) of x over depths [p0, p0 + kc) as panel_count(mc) panels [kc][MR].
static void pack_row_block(const kernel_set *ks, ptrdiff_t i0, ptrdiff_t mc, ptrdiff_t p0, ptrdiff_t kc,
                           const float *x, ptrdiff_t ldx, float *dst) {
    const ptrdiff_t panels = panel_count(mc);
    for (ptrdiff_t ip = 0; ip < panels; ip++) {
        const ptrdiff_t r0 = mc * ip / panels, r1 = mc * (ip + 1) / panels;
        ks->pack_a((int)(r1 - r0), kc, x + (i0 + r0) * ldx + p0, ldx, dst + ip * kc * MR);
    }
}

ptrdiff_t qkv_packed_rows_count(ptrdiff_t m, ptrdiff_t k) {
    if (m <= 0 || k <= 0) return 0;
    return padded_rows(m) * k;
}

void qkv_pack_rows(qkv_isa isa, ptrdiff_t m, ptrdiff_t k, const float *x, ptrdiff_t ldx, float *packed) {
    qkv_pack_rows_granular(isa, m, k, 1, x, ldx, packed);
}

void qkv_pack_rows_granular(qkv_isa isa, ptrdiff_t m, ptrdiff_t k, ptrdiff_t granule, const float *x, ptrdiff_t ldx,
                            float *packed) {
    if (m <= 0 || k <= 0 || granule <= 0 || k % granule != 0) return;
    const kernel_set *ks = kernels_for(isa);
    const ptrdiff_t chunks = chunk_count(k), blocks = row_block_count(m), all = padded_rows(m);
    for (ptrdiff_t q = 0; q < chunks; q++) {
        const ptrdiff_t p0 = chunk_start(k, granule, q, chunks), kc = chunk_start(k, granule, q + 1, chunks) - p0;
        float *dst = packed + p0 * all;
        for (ptrdiff_t rb = 0; rb < blocks; rb++) {
            const ptrdiff_t i0 = m * rb / blocks, mc = m * (rb + 1) / blocks - i0;
            pack_row_block(ks, i0, mc, p0, kc, x, ldx, dst);
            dst += panel_count(mc) * MR * kc;
        }
    }
}

static void run_packed_path(const kernel_set *ks, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x,
                            ptrdiff_t ldx, const float *packed_rows, b_source src, const float *bias, float *out,
                            ptrdiff_t ldo, bool accumulate) {
    float *ws = workspace();
    float *apack = ws, *bpack = ws + WS_A, *edge = ws + WS_A + WS_B;
    const bool stream_b = !src.packed && !src.transposed && m <= SMALL_M;
    const ptrdiff_t chunks = chunk_count(k);
    const ptrdiff_t panels = (n + NR - 1) / NR;
    // Prepacked weights need no packing room, so no column blocking either.
    const ptrdiff_t col_blocks = src.packed ? 1 : (panels * NR + NC - 1) / NC;
    const ptrdiff_t row_blocks = row_block_count(m), all_rows = padded_rows(m);
    for (ptrdiff_t q = 0; q < chunks; q++) {
        const ptrdiff_t p0 = k * q / chunks, kc = k * (q + 1) / chunks - p0;
        const bool load_c = accumulate || q > 0;
        const float *chunk_bias = q == chunks - 1 ? bias : NULL;
        for (ptrdiff_t cb = 0; cb < col_blocks; cb++) {
            const ptrdiff_t j0 = panels * cb / col_blocks * NR;
            const ptrdiff_t j1 = min_pd(n, panels * (cb + 1) / col_blocks * NR);
            const float *block_b = bpack;  // panel (j - j0) / NR at block_b + (j - j0) * kc
            if (src.packed) {
                block_b = src.packed + p0 * src.all_panels * NR + src.first_panel * kc * NR;
            } else if (!stream_b) {
                for (ptrdiff_t j = j0; j < j1; j += NR) {
                    int cols = (int)min_pd(NR, j1 - j);
                    float *dst = bpack + (j - j0) * kc;
                    if (src.transposed)
                        ks->pack_bt(cols, kc, src.w + j * src.ldw + p0, src.ldw, dst);
                    else
                        pack_b(cols, kc, src.w + p0 * src.ldw + j, src.ldw, dst);
                }
            } else if ((j1 - j0) % NR != 0) {
                ptrdiff_t j = j1 - (j1 - j0) % NR;
                pack_b((int)(j1 - j), kc, src.w + p0 * src.ldw + j, src.ldw, edge);
            }
            const float *block_a = packed_rows ? packed_rows + p0 * all_rows : apack;
            for (ptrdiff_t rb = 0; rb < row_blocks; rb++) {
                const ptrdiff_t i0 = m * rb / row_blocks, mc = m * (rb + 1) / row_blocks - i0;
                const ptrdiff_t row_panels = panel_count(mc);
                const float *a_panels = block_a;
                if (packed_rows)
                    block_a += row_panels * MR * kc;
                else
                    pack_row_block(ks, i0, mc, p0, kc, x, ldx, apack);
                for (ptrdiff_t j = j0; j < j1; j += NR) {
                    if (ks->tile_wide && !stream_b && j + NR < j1) {
                        // Two panels at once; the second starts kc·NR floats after the first.
                        const int cols = (int)min_pd(2 * NR, j1 - j);
                        const float *b = block_b + (j - j0) * kc;
                        for (ptrdiff_t ip = 0; ip < row_panels; ip++) {
                            const ptrdiff_t r0 = mc * ip / row_panels, r1 = mc * (ip + 1) / row_panels;
                            ks->tile_wide((int)(r1 - r0), cols, kc, a_panels + ip * kc * MR, b, b + kc * NR, NR,
                                          out + (i0 + r0) * ldo + j, ldo, load_c, chunk_bias ? chunk_bias + j : NULL);
                        }
                        j += NR;
                        continue;
                    }
                    const int cols = (int)min_pd(NR, j1 - j);
                    const float *b = block_b + (j - j0) * kc;
                    ptrdiff_t ldb = NR;
                    if (stream_b) {
                        if (cols == NR) {
                            b = src.w + p0 * src.ldw + j;
                            ldb = src.ldw;
                        } else {
                            b = edge;
                        }
                    }
                    for (ptrdiff_t ip = 0; ip < row_panels; ip++) {
                        const ptrdiff_t r0 = mc * ip / row_panels, r1 = mc * (ip + 1) / row_panels;
                        ks->tile((int)(r1 - r0), cols, kc, a_panels + ip * kc * MR, b, ldb, out + (i0 + r0) * ldo + j,
                                 ldo, load_c, chunk_bias ? chunk_bias + j : NULL);
                    }
                }
            }
        }
    }
}

/// out = (accumulate ? out : 0) + bias, for k == 0.
static void bias_only(ptrdiff_t m, ptrdiff_t n, const float *bias, float *out, ptrdiff_t ldo, bool accumulate) {
    for (ptrdiff_t r = 0; r < m; r++)
        for (ptrdiff_t j = 0; j < n; j++) {
            float v = accumulate ? out[r * ldo + j] : 0;
            out[r * ldo + j] = bias ? v + bias[j] : v;
        }
}

void qkv_sgemm(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx,
               const float *packed_rows, const float *w, ptrdiff_t ldw, bool transposed, const float *bias,
               float *out, ptrdiff_t ldo, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    const kernel_set *ks = kernels_for(isa);
    if (k <= 0) {
        bias_only(m, n, bias, out, ldo, accumulate);
    } else if (transposed && m <= SMALL_M) {
        ks->dot(m, n, k, x, ldx, w, ldw, bias, out, ldo, accumulate);
    } else {
        b_source src = {w, ldw, transposed, NULL, 0, 0};
        run_packed_path(ks, m, n, k, x, ldx, packed_rows, src, bias, out, ldo, accumulate);
    }
}

// MARK: - Prepacked weights

ptrdiff_t qkv_packed_weight_count(ptrdiff_t n, ptrdiff_t k) {
    if (n <= 0 || k <= 0) return 0;
    return (n + NR - 1) / NR * NR * k;
}

void qkv_pack_weight(ptrdiff_t n, ptrdiff_t k, const float *w, ptrdiff_t ldw, bool transposed, float *packed) {
    if (n <= 0 || k <= 0) return;
    const kernel_set *ks = kernels_for(qkv_best_isa());
    const ptrdiff_t chunks = chunk_count(k), panels = (n + NR - 1) / NR;
    for (ptrdiff_t q = 0; q < chunks; q++) {
        const ptrdiff_t p0 = k * q / chunks, kc = k * (q + 1) / chunks - p0;
        for (ptrdiff_t p = 0; p < panels; p++) {
            const ptrdiff_t j = p * NR;
            const int cols = (int)min_pd(NR, n - j);
            float *dst = packed + p0 * panels * NR + p * kc * NR;
            if (transposed)
                ks->pack_bt(cols, kc, w + j * ldw + p0, ldw, dst);
            else
                pack_b(cols, kc, w + p0 * ldw + j, ldw, dst);
        }
    }
}

void qkv_sgemm_packed(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx,
                      const float *packed_rows, const float *packed, ptrdiff_t packed_cols, ptrdiff_t first_col,
                      const float *bias, float *out, ptrdiff_t ldo, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    const kernel_set *ks = kernels_for(isa);
    if (k <= 0) {
        bias_only(m, n, bias, out, ldo, accumulate);
        return;
    }
    b_source src = {NULL, 0, false, packed, (packed_cols + NR - 1) / NR, first_col / NR};
    run_packed_path(ks, m, n, k, x, ldx, packed_rows, src, bias, out, ldo, accumulate);
}

// MARK: - Weights in their stored form

void qkv_sgemm_stored(qkv_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *x, ptrdiff_t ldx,
                      const float *packed_rows, int type, const void *w, ptrdiff_t row_bytes, const float *bias,
                      float *out, ptrdiff_t ldo, bool accumulate) {
    if (m <= 0 || n <= 0) return;
    const kernel_set *ks = kernels_for(isa);
    const ptrdiff_t granule = qkv_ggml_block_elements(type), block_bytes = qkv_ggml_block_bytes(type);
    if (k <= 0 || granule <= 0 || k % granule != 0) {
        bias_only(m, n, bias, out, ldo, accumulate);
        return;
    }
    const ptrdiff_t chunks = chunk_count(k), row_blocks = row_block_count(m), all_rows = padded_rows(m);
    if (!packed_rows) {
        float *rows = qkv_thread_buffer(qkv_packed_rows_count(m, k));
        qkv_pack_rows_granular(isa, m, k, granule, x, ldx, rows);
        packed_rows = rows;
    }
    // Per thread: NR (2·NR with wide tiles) weight rows of one chunk dequantized (16 KiB per NR),
    // then packed as the panels the micro-kernels read (in L1 while every row panel of x passes by).
    float *ws = workspace();
    float *rows = ws, *panel = ws + WS_A;
    const qkv_dequant_fn dequantize = qkv_ggml_dequantizer(isa, type);  // once, not per row
    for (ptrdiff_t q = 0; q < chunks; q++) {
        const ptrdiff_t p0 = chunk_start(k, granule, q, chunks), kc = chunk_start(k, granule, q + 1, chunks) - p0;
        const bool load_c = accumulate || q > 0;
        const float *chunk_bias = q == chunks - 1 ? bias : NULL;
        const float *chunk_rows = packed_rows + p0 * all_rows;
        // With wide tiles, two panels (32 weight rows) at a time.
        const ptrdiff_t step = ks->tile_wide ? 2 * NR : NR;
        for (ptrdiff_t j = 0; j < n; j += step) {
            const int cols = (int)min_pd(step, n - j);
            const unsigned char *first = (const unsigned char *)w + j * row_bytes + p0 / granule * block_bytes;
            for (int c = 0; c < cols; c++) dequantize(first + c * row_bytes, kc / granule, rows + c * kc);
            ks->pack_bt((int)min_pd(NR, cols), kc, rows, kc, panel);
            if (cols > NR) ks->pack_bt(cols - NR, kc, rows + NR * kc, kc, panel + kc * NR);
            const float *block_a = chunk_rows;
            for (ptrdiff_t rb = 0; rb < row_blocks; rb++) {
                const ptrdiff_t i0 = m * rb / row_blocks, mc = m * (rb + 1) / row_blocks - i0;
                const ptrdiff_t row_panels = panel_count(mc);
                for (ptrdiff_t ip = 0; ip < row_panels; ip++) {
                    const ptrdiff_t r0 = mc * ip / row_panels, r1 = mc * (ip + 1) / row_panels;
                    float *c = out + (i0 + r0) * ldo + j;
                    const float *tile_bias = chunk_bias ? chunk_bias + j : NULL;
                    if (cols > NR)
                        ks->tile_wide((int)(r1 - r0), cols, kc, block_a + ip * kc * MR, panel, panel + kc * NR, NR, c, ldo,
                                      load_c, tile_bias);
                    else
                        ks->tile((int)(r1 - r0), cols, kc, block_a + ip * kc * MR, panel, NR, c, ldo, load_c, tile_bias);
                }
                block_a += row_panels * MR * kc;
            }
        }
    }
}

// MARK: - Attention head

// Softmax of query row r over the keys it sees, exact zeros elsewhere: all t keys, or with
// `causal` keys 0...r, and with a sliding `window` > 0 only the last `window` of those.
static void softmax_visible(qkv_isa isa, float *row, ptrdiff_t t, ptrdiff_t r, bool causal, ptrdiff_t window,
                            float scale) {
    const ptrdiff_t end = causal ? r + 1 : t;
    const ptrdiff_t first = (window > 0 && end > window) ? end - window : 0;
    memset(row, 0, (size_t)first * sizeof(float));
    qkv_softmax_row(isa, row + first, end - first, scale);
    memset(row + end, 0, (size_t)(t - end) * sizeof(float));
}

void qkv_attention_head(qkv_isa isa, ptrdiff_t t, ptrdiff_t d, const float *q, ptrdiff_t ldq, const float *k,
                        ptrdiff_t ldk, const float *v, ptrdiff_t ldv, float scale, bool causal, ptrdiff_t window,
                        float *probs, float *out, ptrdiff_t ldo) {
    if (t <= 0 || d <= 0) return;
    const kernel_set *ks = kernels_for(isa);
    const ptrdiff_t key_panels = (t + NR - 1) / NR, out_panels = (d + NR - 1) / NR;
    const ptrdiff_t kpack_size = key_panels * NR * d, vpack_size = out_panels * NR * t;
    if (d > KC || kpack_size + vpack_size > WS_B) {
        // Too large for the packing room: the general products, one after the other.
        qkv_sgemm(isa, t, t, d, q, ldq, NULL, k, ldk, true, NULL, probs, t, false);
        for (ptrdiff_t r = 0; r < t; r++) softmax_visible(isa, probs + r * t, t, r, causal, window, scale);
        qkv_sgemm(isa, t, d, t, probs, t, NULL, v, ldv, false, NULL, out, ldo, false);
        return;
    }
    float *ws = workspace();
    float *apack = ws, *kpack = ws + WS_A, *vpack = kpack + kpack_size;
    // Kᵀ as B[d, t] (one depth chunk, d ≤ KC) and V as B[t, d] in qkv_pack_weight's chunked layout.
    for (ptrdiff_t p = 0; p < key_panels; p++)
        ks->pack_bt((int)min_pd(NR, t - p * NR), d, k + p * NR * ldk, ldk, kpack + p * d * NR);
    const ptrdiff_t chunks = chunk_count(t);
    for (ptrdiff_t c = 0; c < chunks; c++) {
        const ptrdiff_t p0 = t * c / chunks, kc = t * (c + 1) / chunks - p0;
        for (ptrdiff_t p = 0; p < out_panels; p++)
            pack_b((int)min_pd(NR, d - p * NR), kc, v + p0 * ldv + p * NR, ldv, vpack + p0 * out_panels * NR + p * kc * NR);
    }
    // Six query rows at a time: their scores, softmax and context while the rows are in L1.
    const ptrdiff_t row_panels = (t + MR - 1) / MR;
    for (ptrdiff_t ip = 0; ip < row_panels; ip++) {
        const ptrdiff_t r0 = t * ip / row_panels, r1 = t * (ip + 1) / row_panels;
        const int rows = (int)(r1 - r0);
        // Causal rows r0..r1-1 see keys 0..r1-1 at most; later probabilities are exact zeros.
        const ptrdiff_t keys = causal ? r1 : t;
        ks->pack_a(rows, d, q + r0 * ldq, ldq, apack);
        for (ptrdiff_t p = 0; p * NR < keys; p++) {
            if (ks->tile_wide && (p + 1) * NR < keys) {
                ks->tile_wide(rows, (int)min_pd(2 * NR, t - p * NR), d, apack, kpack + p * d * NR, kpack + (p + 1) * d * NR,
                              NR, probs + r0 * t + p * NR, t, false, NULL);
                p++;
                continue;
            }
            ks->tile(rows, (int)min_pd(NR, t - p * NR), d, apack, kpack + p * d * NR, NR, probs + r0 * t + p * NR, t,
                     false, NULL);
        }
        for (ptrdiff_t r = r0; r < r1; r++) softmax_visible(isa, probs + r * t, t, r, causal, window, scale);
        for (ptrdiff_t c = 0; c < chunks; c++) {
            const ptrdiff_t p0 = t * c / chunks, kc = t * (c + 1) / chunks - p0;
            if (p0 >= keys) break;
            ks->pack_a(rows, kc, probs + r0 * t + p0, t, apack);
            for (ptrdiff_t p = 0; p < out_panels; p++) {
                const float *panel = vpack + p0 * out_panels * NR + p * kc * NR;
                if (ks->tile_wide && p + 1 < out_panels) {
                    ks->tile_wide(rows, (int)min_pd(2 * NR, d - p * NR), kc, apack, panel, panel + kc * NR, NR,
                                  out + r0 * ldo + p * NR, ldo, c > 0, NULL);
                    p++;
                    continue;
                }
                ks->tile(rows, (int)min_pd(NR, d - p * NR), kc, apack, panel, NR, out + r0 * ldo + p * NR, ldo, c > 0, NULL);
            }
        }
    }
}
