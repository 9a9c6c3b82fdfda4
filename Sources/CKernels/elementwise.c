// Elementwise kernels of the forward pass that libm would otherwise run one call per element:
// exact-erf GELU and the row softmax. AVX2+FMA versions use polynomial approximations that are
// checked against float64 (KernelTests) and exhaustively over float32 (scripts/check_ckernels.c);
// the portable versions call libm.

#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// MARK: - Portable

static void gelu_erf_generic(float *x, ptrdiff_t count) {
    const float inv_sqrt2 = 0.7071067811865476f;
    for (ptrdiff_t i = 0; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1 + erff(v * inv_sqrt2));
    }
}

static void softmax_row_generic(float *row, ptrdiff_t count, float scale) {
    // NaN never wins `>`, but exp(NaN − m) then poisons the sum, so NaN rows stay NaN.
    float m = -INFINITY;
    for (ptrdiff_t i = 0; i < count; i++) {
        float v = row[i] * scale;
        row[i] = v;
        if (v > m) m = v;
    }
    float sum = 0;
    for (ptrdiff_t i = 0; i < count; i++) {
        row[i] = expf(row[i] - m);
        sum += row[i];
    }
    float inverse = 1 / sum;
    for (ptrdiff_t i = 0; i < count; i++) row[i] *= inverse;
}

static void layer_norm_row_generic(const float *x, const float *residual, ptrdiff_t count, const float *gamma,
                                   const float *beta, float eps, float *out) {
    double sum = 0;
    for (ptrdiff_t i = 0; i < count; i++) sum += residual ? x[i] + residual[i] : x[i];
    double mean = sum / (double)count, sq = 0;
    for (ptrdiff_t i = 0; i < count; i++) {
        double d = (residual ? x[i] + residual[i] : x[i]) - mean;
        sq += d * d;
    }
    float rstd = 1 / sqrtf((float)(sq / (double)count) + eps), mean_f = (float)mean;
    for (ptrdiff_t i = 0; i < count; i++) {
        float v = residual ? x[i] + residual[i] : x[i];
        v = (v - mean_f) * rstd;
        if (gamma) v = v * gamma[i];
        if (beta) v = v + beta[i];
        out[i] = v;
    }
}

static void silu_generic(float *x, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i++) x[i] = x[i] / (1 + expf(-x[i]));
}

static void gelu_tanh_generic(float *x, ptrdiff_t count) {
    const float k = 0.7978845608028654f, c = 0.044715f;  // √(2/π), as transformers' NewGELUActivation
    for (ptrdiff_t i = 0; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1 + tanhf(k * (v + c * (v * v * v))));
    }
}

static void rms_norm_row_generic(const float *x, ptrdiff_t count, const float *weight, float eps, float *out) {
    double sq = 0;
    for (ptrdiff_t i = 0; i < count; i++) sq += (double)x[i] * (double)x[i];
    float rinv = 1 / sqrtf((float)(sq / (double)count) + eps);
    for (ptrdiff_t i = 0; i < count; i++) out[i] = weight ? weight[i] * (x[i] * rinv) : x[i] * rinv;
}

// MARK: - AVX2 + FMA

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
#define ALWAYS_INLINE inline __attribute__((always_inline))

/// erf on [0, 4) as 8 degree-7 polynomials in t = |z| − (0.25 + 0.5·i) on the intervals
/// [0.5·i, 0.5·i + 0.5), Chebyshev fits (scripts/erf_coefficients.py). Row d holds the t^d
/// coefficients of the 8 intervals, so one permute picks every lane's coefficient. Absolute
/// error ≤ 1.1·2⁻²⁴ (float32 evaluation included); erf(|z| ≥ 4) rounds to 1.
static const float erf_table[8][8] = {
    {0x1.1af54ep-2f, 0x1.6c1c98p-1f, 0x1.d8865ep-1f, 0x1.f92d08p-1f, 0x1.ff4048p-1f, 0x1.fff2dp-1f, 0x1.ffff7p-1f, 0x1.fffffcp-1f},
    {0x1.0f5d16p+0f, 0x1.492e42p-1f, 0x1.e4653p-3f, 0x1.b0553p-5f, 0x1.d4143ap-8f, 0x1.3360cep-11f, 0x1.e9b5e6p-16f, 0x1.d93704p-21f},
    {-0x1.0f5cfp-2f, -0x1.edc55ap-2f, -0x1.2ebf54p-2f, -0x1.7a4a8p-4f, -0x1.074b2p-6f, -0x1.a6a57p-10f, -0x1.8de92cp-14f, -0x1.bbbbbp-19f},
    {-0x1.3c973ap-2f, 0x1.b6e75ap-6f, 0x1.571d08p-3f, 0x1.7148d2p-4f, 0x1.63ef4ap-6f, 0x1.69cf2p-9f, 0x1.9aa56p-13f, 0x1.0b6dbap-17f},
    {0x1.03f64p-3f, 0x1.34956ep-3f, -0x1.91de2cp-8f, -0x1.8a149ep-5f, -0x1.38bdf4p-6f, -0x1.aafe94p-9f, -0x1.2c1208p-12f, -0x1.ce904p-17f},
    {0x1.47d8acp-4f, -0x1.b4022cp-5f, -0x1.828a6cp-5f, 0x1.b1d928p-8f, 0x1.5d49ecp-7f, 0x1.69418cp-9f, 0x1.48e8c4p-12f, 0x1.33b4ep-16f},
    {-0x1.4246b4p-5f, -0x1.b388a4p-6f, 0x1.51785ep-6f, 0x1.28898cp-7f, -0x1.6c529ap-9f, -0x1.b53876p-10f, -0x1.1f0e5ap-12f, -0x1.5b26b2p-16f},
    {-0x1.039306p-6f, 0x1.260656p-6f, 0x1.e9319p-9f, -0x1.85bef6p-8f, -0x1.775a8p-11f, 0x1.4df4a8p-11f, 0x1.6b39cp-13f, 0x1.1e008p-16f},
};

/// erf(z) per lane; NaN stays NaN, ±inf gives ±1.
AVX2 static ALWAYS_INLINE __m256 erf_avx2(__m256 z) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(sign_bit, z);
    // Interval index min(⌊2|z|⌋, 7); NaN converts to INT_MIN, whose low 3 bits pick some row, and t stays NaN.
    __m256i idx = _mm256_min_epi32(_mm256_cvttps_epi32(_mm256_mul_ps(a, _mm256_set1_ps(2))), _mm256_set1_epi32(7));
    __m256 center = _mm256_fmadd_ps(_mm256_cvtepi32_ps(idx), _mm256_set1_ps(0.5f), _mm256_set1_ps(0.25f));
    __m256 t = _mm256_sub_ps(a, center);
    __m256 p = _mm256_permutevar8x32_ps(_mm256_loadu_ps(erf_table[7]), idx);
    for (int d = 6; d >= 0; d--)
        p = _mm256_fmadd_ps(p, t, _mm256_permutevar8x32_ps(_mm256_loadu_ps(erf_table[d]), idx));
    p = _mm256_blendv_ps(p, _mm256_set1_ps(1), _mm256_cmp_ps(a, _mm256_set1_ps(4), _CMP_GE_OQ));
    return _mm256_or_ps(p, _mm256_and_ps(z, sign_bit));
}

AVX2 static void gelu_erf_avx2(float *x, ptrdiff_t count) {
    const __m256 inv_sqrt2 = _mm256_set1_ps(0.7071067811865476f), half = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = erf_avx2(_mm256_mul_ps(v, inv_sqrt2));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
    }
    if (i < count) {
        float tail[8] = {0};
        for (ptrdiff_t j = i; j < count; j++) tail[j - i] = x[j];
        __m256 v = _mm256_loadu_ps(tail);
        __m256 e = erf_avx2(_mm256_mul_ps(v, inv_sqrt2));
        _mm256_storeu_ps(tail, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
        for (ptrdiff_t j = i; j < count; j++) x[j] = tail[j - i];
    }
}

/// e^x per lane, ≤ 1 ulp: x = n·ln2 + r with |r| ≤ ln2/2 (FMA makes n·ln2_hi exact), e^r by a
/// degree-6 Chebyshev fit (relative error 0.62·2⁻²³), then ·2^n in two halves so results down to
/// the subnormals round correctly. x < −104 gives 0 (e^x < 2⁻¹⁵⁰), x > 89 gives +inf, NaN stays NaN.
AVX2 static ALWAYS_INLINE __m256 exp_avx2(__m256 x) {
    // max/min return their second operand for NaN, so NaN passes through the clamps.
    __m256 c = _mm256_min_ps(_mm256_set1_ps(89), _mm256_max_ps(_mm256_set1_ps(-104), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(0x1.715476p+0f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e43p-1f), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-0x1.05c61p-29f), r);
    __m256 p = _mm256_set1_ps(0x1.6d7532p-10f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.126fa6p-7f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.5554acp-5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555404p-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1p-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-104), _CMP_LT_OQ), y);
}

AVX2 static void softmax_row_avx2(float *row, ptrdiff_t count, float scale) {
    const __m256 s = _mm256_set1_ps(scale);
    // Lanes past the end (masked loads give 0) must not win the maximum nor add to the sum.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256 m = _mm256_set1_ps(-INFINITY), any_nan = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + i), s);
        _mm256_storeu_ps(row + i, v);
        any_nan = _mm256_or_ps(any_nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, v);
    }
    if (i < count) {
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - i)), lane);
        __m256 v = _mm256_mul_ps(_mm256_maskload_ps(row + i, mask), s);
        _mm256_maskstore_ps(row + i, mask, v);
        v = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), v, _mm256_castsi256_ps(mask));
        any_nan = _mm256_or_ps(any_nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, v);
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float maximum = _mm_cvtss_f32(h);
    if (_mm256_movemask_ps(any_nan)) maximum = NAN;
    const __m256 mv = _mm256_set1_ps(maximum);
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= count; i += 16) {
        __m256 e0 = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + i), mv));
        __m256 e1 = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + i + 8), mv));
        _mm256_storeu_ps(row + i, e0);
        _mm256_storeu_ps(row + i + 8, e1);
        sum0 = _mm256_add_ps(sum0, e0);
        sum1 = _mm256_add_ps(sum1, e1);
    }
    for (; i < count; i += 8) {
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - i < 8 ? count - i : 8)), lane);
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_maskload_ps(row + i, mask), mv));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
        _mm256_maskstore_ps(row + i, mask, e);
        sum0 = _mm256_add_ps(sum0, e);
    }
    __m256 sv = _mm256_add_ps(sum0, sum1);
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(sv), _mm256_extractf128_ps(sv, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    const __m256 inverse = _mm256_set1_ps(1 / _mm_cvtss_f32(t));
    for (i = 0; i + 8 <= count; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inverse));
    for (; i < count; i++) row[i] *= _mm256_cvtss_f32(inverse);
}

/// (x + residual)[i..i+8) as a vector; with a mask (the row's tail), lanes past the end are 0.
AVX2 static ALWAYS_INLINE __m256 load_sum(const float *x, const float *residual, ptrdiff_t i, bool tail,
                                          __m256i mask) {
    __m256 v = tail ? _mm256_maskload_ps(x + i, mask) : _mm256_loadu_ps(x + i);
    if (!residual) return v;
    return _mm256_add_ps(v, tail ? _mm256_maskload_ps(residual + i, mask) : _mm256_loadu_ps(residual + i));
}

AVX2 static void layer_norm_row_avx2(const float *x, const float *residual, ptrdiff_t count, const float *gamma,
                                     const float *beta, float eps, float *out) {
    // Full vectors unmasked (masked stores are slow on some CPUs), the tail masked.
    const ptrdiff_t full = count / 8 * 8;
    const __m256i tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - full)),
                                                 _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    // Mean and variance in float64 over 8 lanes (two 4-wide halves), as the portable code does serially.
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (ptrdiff_t i = 0; i < count; i += 8) {
        __m256 v = load_sum(x, residual, i, i == full, tail_mask);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    const double mean = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) / (double)count;
    const __m256d mv = _mm256_set1_pd(mean);
    // Masked-off lanes hold 0 − mean: the tail's squares are masked away.
    const __m256d tail_lo = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(tail_mask)));
    const __m256d tail_hi = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(tail_mask, 1)));
    __m256d q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();
    for (ptrdiff_t i = 0; i < count; i += 8) {
        __m256 v = load_sum(x, residual, i, i == full, tail_mask);
        __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), mv);
        __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), mv);
        if (i == full) {
            d0 = _mm256_and_pd(d0, tail_lo);
            d1 = _mm256_and_pd(d1, tail_hi);
        }
        q0 = _mm256_fmadd_pd(d0, d0, q0);
        q1 = _mm256_fmadd_pd(d1, d1, q1);
    }
    _mm256_storeu_pd(lanes, _mm256_add_pd(q0, q1));
    const double sq = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    const __m256 rstd = _mm256_set1_ps(1 / sqrtf((float)(sq / (double)count) + eps));
    const __m256 mean_f = _mm256_set1_ps((float)mean);
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const bool tail = i == full;
        __m256 v = _mm256_mul_ps(_mm256_sub_ps(load_sum(x, residual, i, tail, tail_mask), mean_f), rstd);
        if (gamma) v = _mm256_mul_ps(v, tail ? _mm256_maskload_ps(gamma + i, tail_mask) : _mm256_loadu_ps(gamma + i));
        if (beta) v = _mm256_add_ps(v, tail ? _mm256_maskload_ps(beta + i, tail_mask) : _mm256_loadu_ps(beta + i));
        if (tail)
            _mm256_maskstore_ps(out + i, tail_mask, v);
        else
            _mm256_storeu_ps(out + i, v);
    }
}

/// v · sigmoid(z) = v / (1 + e^(−z)) per lane: exact limits at both ends (−0 or 0 when e^(−z)
/// overflows, v when it underflows), NaN kept. A few float32 ulps of the result.
AVX2 static ALWAYS_INLINE __m256 times_sigmoid_avx2(__m256 v, __m256 z) {
    __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), z));
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1), e));
}

/// z for GELU-tanh: 0.5·v·(1 + tanh(u)) = v · sigmoid(2u), u = √(2/π)·(v + 0.044715·v³). The
/// sigmoid form has no cancellation where 1 + tanh(u) → 0.
AVX2 static ALWAYS_INLINE __m256 gelu_tanh_argument_avx2(__m256 v) {
    __m256 v3 = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
    __m256 inner = _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), v3, v);
    return _mm256_mul_ps(_mm256_set1_ps(2 * 0.7978845608028654f), inner);
}

AVX2 static void gated_avx2(float *x, ptrdiff_t count, bool gelu) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const bool tail = count - i < 8;
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(tail ? count - i : 8)), lane);
        __m256 v = tail ? _mm256_maskload_ps(x + i, mask) : _mm256_loadu_ps(x + i);
        __m256 y = times_sigmoid_avx2(v, gelu ? gelu_tanh_argument_avx2(v) : v);
        if (tail)
            _mm256_maskstore_ps(x + i, mask, y);
        else
            _mm256_storeu_ps(x + i, y);
    }
}

AVX2 static void rms_norm_row_avx2(const float *x, ptrdiff_t count, const float *weight, float eps, float *out) {
    const ptrdiff_t full = count / 8 * 8;
    const __m256i tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count - full)),
                                                 _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    // Mean of squares in float64 (masked-off lanes load as 0), as the portable code.
    __m256d q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();
    for (ptrdiff_t i = 0; i < count; i += 8) {
        __m256 v = i == full ? _mm256_maskload_ps(x + i, tail_mask) : _mm256_loadu_ps(x + i);
        __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        q0 = _mm256_fmadd_pd(d0, d0, q0);
        q1 = _mm256_fmadd_pd(d1, d1, q1);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(q0, q1));
    const double sq = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    const __m256 rinv = _mm256_set1_ps(1 / sqrtf((float)(sq / (double)count) + eps));
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const bool tail = i == full;
        __m256 v = _mm256_mul_ps(tail ? _mm256_maskload_ps(x + i, tail_mask) : _mm256_loadu_ps(x + i), rinv);
        if (weight) v = _mm256_mul_ps(tail ? _mm256_maskload_ps(weight + i, tail_mask) : _mm256_loadu_ps(weight + i), v);
        if (tail)
            _mm256_maskstore_ps(out + i, tail_mask, v);
        else
            _mm256_storeu_ps(out + i, v);
    }
}
#endif

// MARK: - Dispatch

void qkv_gelu_erf(qkv_isa isa, float *x, ptrdiff_t count) {
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) {
        gelu_erf_avx2(x, count);
        return;
    }
#endif
    (void)isa;
    gelu_erf_generic(x, count);
}

void qkv_softmax_row(qkv_isa isa, float *row, ptrdiff_t count, float scale) {
    if (count <= 0) return;
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) {
        softmax_row_avx2(row, count, scale);
        return;
    }
#endif
    (void)isa;
    softmax_row_generic(row, count, scale);
}

void qkv_layer_norm_row(qkv_isa isa, const float *x, const float *residual, ptrdiff_t count, const float *gamma,
                        const float *beta, float eps, float *out) {
    if (count <= 0) return;
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) {
        layer_norm_row_avx2(x, residual, count, gamma, beta, eps, out);
        return;
    }
#endif
    (void)isa;
    layer_norm_row_generic(x, residual, count, gamma, beta, eps, out);
}

void qkv_silu(qkv_isa isa, float *x, ptrdiff_t count) {
    if (count <= 0) return;
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) {
        gated_avx2(x, count, false);
        return;
    }
#endif
    (void)isa;
    silu_generic(x, count);
}

void qkv_gelu_tanh(qkv_isa isa, float *x, ptrdiff_t count) {
    if (count <= 0) return;
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) {
        gated_avx2(x, count, true);
        return;
    }
#endif
    (void)isa;
    gelu_tanh_generic(x, count);
}

void qkv_rms_norm_row(qkv_isa isa, const float *x, ptrdiff_t count, const float *weight, float eps, float *out) {
    if (count <= 0) return;
#if defined(__x86_64__)
    if (isa == QKV_ISA_AVX2_FMA && qkv_best_isa() == QKV_ISA_AVX2_FMA) {
        rms_norm_row_avx2(x, count, weight, eps, out);
        return;
    }
#endif
    (void)isa;
    rms_norm_row_generic(x, count, weight, eps, out);
}
