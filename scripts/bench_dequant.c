// Dequantization speed, portable vs AVX2, per ggml type (run by hand; not a test). Two numbers per
// type and ISA, best of several runs, single-threaded:
//   tensor: a 4096 × 4096 tensor into a 64 MiB float buffer (includes writing the output to memory);
//   row:    one 4096-float row (16 KiB, stays in L1/L2) dequantized over and over, all rows in turn,
//           like a GEMM that dequantizes a panel at a time.
//
//   clang -O2 -ISources/CKernels/include scripts/bench_dequant.c Sources/CKernels/quants.c \
//       Sources/CKernels/quants_avx2.c Sources/CKernels/sgemm.c Sources/CKernels/elementwise.c \
//       -lm -lpthread -o /tmp/bench_dequant && /tmp/bench_dequant

#include "CKernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
    const struct {
        const char *name;
        int type;
    } types[] = {
        {"F32", QKV_GGML_F32},   {"F16", QKV_GGML_F16},   {"BF16", QKV_GGML_BF16},     {"Q4_0", QKV_GGML_Q4_0},
        {"Q4_1", QKV_GGML_Q4_1}, {"Q5_0", QKV_GGML_Q5_0}, {"Q5_1", QKV_GGML_Q5_1},     {"Q8_0", QKV_GGML_Q8_0},
        {"Q2_K", QKV_GGML_Q2_K}, {"Q3_K", QKV_GGML_Q3_K}, {"Q4_K", QKV_GGML_Q4_K},     {"Q5_K", QKV_GGML_Q5_K},
        {"Q6_K", QKV_GGML_Q6_K}, {"IQ4_NL", QKV_GGML_IQ4_NL}, {"IQ4_XS", QKV_GGML_IQ4_XS},
    };
    const ptrdiff_t rows = 4096, cols = 4096, n = rows * cols;
    float *out = aligned_alloc(64, (size_t)n * sizeof(float));
    memset(out, 0, (size_t)n * sizeof(float));
    printf("best isa: %s\n", qkv_best_isa() == QKV_ISA_AVX2_FMA ? "AVX2" : "portable");
    printf("%-7s %-9s %14s %14s\n", "type", "isa", "tensor GFl/s", "row GFl/s");
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const int type = types[t].type;
        const ptrdiff_t per_row = cols / qkv_ggml_block_elements(type), row_bytes = per_row * qkv_ggml_block_bytes(type);
        uint8_t *src = malloc((size_t)(rows * row_bytes));
        uint64_t s = 12345;
        for (ptrdiff_t i = 0; i < rows * row_bytes; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            src[i] = (uint8_t)(s >> 56);
        }
        // sane scales matter little for speed, but keep NaN-scale slow paths (Q4_1/Q5_1) rare like real
        // data: random bytes give NaN m about once in 32 blocks, so clear the top exponent bit of every
        // f16 field's high byte for those types
        if (type == QKV_GGML_Q4_1 || type == QKV_GGML_Q5_1)
            for (ptrdiff_t b = 0; b < rows * per_row; b++) src[b * qkv_ggml_block_bytes(type) + 3] &= 0x3F;
        for (int i = 0; i < 2; i++) {
            const qkv_isa isa = i ? QKV_ISA_AVX2_FMA : QKV_ISA_GENERIC;
            double best_tensor = 1e9, best_row = 1e9;
            for (int rep = 0; rep < 5; rep++) {
                double t0 = now();
                qkv_ggml_dequantize(isa, type, src, rows * per_row, out);
                best_tensor = fmin(best_tensor, now() - t0);
                t0 = now();
                for (ptrdiff_t r = 0; r < rows; r++) qkv_ggml_dequantize(isa, type, src + r * row_bytes, per_row, out);
                best_row = fmin(best_row, now() - t0);
            }
            printf("%-7s %-9s %14.2f %14.2f\n", types[t].name, i ? "AVX2" : "portable", 1e-9 * (double)n / best_tensor,
                   1e-9 * (double)n / best_row);
        }
        free(src);
    }
    free(out);
    return 0;
}
