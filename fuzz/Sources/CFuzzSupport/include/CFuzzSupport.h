#ifndef QKV_FUZZ_SUPPORT_H
#define QKV_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's own driver (compiler-rt, LLVM 11 and later): parses the libFuzzer flags in argv and
/// fuzzes `callback`. The targets call it from their main, so SwiftPM's executable entry point
/// stays the program's entry point.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// Compresses `size` bytes into `output` (capacity `*output_size`, set to the bytes written) as a
/// zlib stream (`gzip` 0) or a gzip member (`gzip` 1) at `level` (0...9). Returns 0 on success.
int qkv_fuzz_deflate(const uint8_t *input, size_t size, uint8_t *output, size_t *output_size, int gzip, int level);

/// The largest output `qkv_fuzz_deflate` can produce for `size` input bytes.
size_t qkv_fuzz_deflate_bound(size_t size);

/// zlib's CRC-32 (the one QKV v1 stores).
uint32_t qkv_fuzz_crc32(const uint8_t *bytes, size_t size);

#endif
