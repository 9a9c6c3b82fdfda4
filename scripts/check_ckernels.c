// Exhaustive float32 checks of the AVX2 approximations in Sources/CKernels/elementwise.c
// against float64 libm, over every float32 bit pattern (a few minutes on one core):
//   GELU: |got − ref| ≤ 4·2⁻²⁴·(|x| + |ref|) + 2⁻¹⁴⁹ (the KernelTests tolerance, plus one
//         subnormal step), and the worst error in units of 2⁻²⁴·(|x| + |ref|) for normal x;
//   exp:  the worst error in ulps of the result for x ≥ −104, exactly 0 below, +inf on
//         overflow, NaN kept.
// Build and run from the package root on an x86-64 machine with AVX2 and FMA:
//   clang -O2 -ISources/CKernels/include scripts/check_ckernels.c Sources/CKernels/sgemm.c \
//       -lm -lpthread -o /tmp/check_ckernels && /tmp/check_ckernels
#include "../Sources/CKernels/elementwise.c"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if !defined(__x86_64__)
int main(void) {
    puts("nothing to check: the AVX2 kernels exist on x86-64 only");
    return 0;
}
#else
static float from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int check_gelu(void) {
    enum { BLOCK = 1 << 16 };
    static float in[BLOCK], out[BLOCK];
    long long bad = 0;
    double worst = 0;
    float worst_x = 0;
    for (uint64_t base = 0; base < (1ull << 32); base += BLOCK) {
        for (int i = 0; i < BLOCK; i++) in[i] = out[i] = from_bits((uint32_t)(base + i));
        qkv_gelu_erf(QKV_ISA_AVX2_FMA, out, BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            double x = in[i];
            if (isnan(x)) {
                if (!isnan(out[i])) bad++;
                continue;
            }
            if (isinf(x)) continue;
            double ref = 0.5 * x * (1 + erf(x / sqrt(2.0)));
            double scale = fabs(x) + fabs(ref), err = fabs(out[i] - ref);
            if (!(err <= 4 * 0x1p-24 * scale + 0x1p-149)) {
                if (bad < 5) printf("gelu(%a) = %a, float64 %a\n", x, out[i], ref);
                bad++;
            }
            if (fabs(x) >= 0x1p-126 && err / scale > worst) {
                worst = err / scale;
                worst_x = in[i];
            }
        }
    }
    printf("gelu: %lld failures; worst %.3f·2^-24·(|x|+|gelu|) at x = %a\n", bad, worst * 0x1p24, worst_x);
    return bad != 0;
}

AVX2 static int check_exp(void) {
    long long bad = 0;
    double worst = 0;
    float worst_x = 0;
    for (uint64_t base = 0; base < (1ull << 32); base += 8) {
        float in[8], out[8];
        for (int i = 0; i < 8; i++) in[i] = from_bits((uint32_t)(base + i));
        _mm256_storeu_ps(out, exp_avx2(_mm256_loadu_ps(in)));
        for (int i = 0; i < 8; i++) {
            float x = in[i];
            double ref = exp((double)x);
            if (isnan(x)) {
                bad += !isnan(out[i]);
            } else if (x < -104) {
                bad += out[i] != 0;
            } else if (ref > 0x1.fffffep127) {
                bad += !isinf(out[i]);
            } else {
                int e;
                frexp(ref, &e);
                double ulp = fmax(ldexp(1.0, e - 24), 0x1p-149);
                double err = fabs(out[i] - ref) / ulp;
                if (err > worst) {
                    worst = err;
                    worst_x = x;
                }
            }
        }
    }
    printf("exp: %lld failures; worst %.3f ulp at x = %a\n", bad, worst, worst_x);
    return bad != 0 || worst > 2;
}

int main(void) {
    if (qkv_best_isa() != QKV_ISA_AVX2_FMA) {
        puts("this CPU lacks AVX2+FMA: nothing to check");
        return 0;
    }
    int failed = check_gelu();
    failed |= check_exp();
    return failed;
}
#endif
