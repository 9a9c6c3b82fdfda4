#include "CFuzzSupport.h"

#include <string.h>
#include <zlib.h>

int qkv_fuzz_deflate(const uint8_t *input, size_t size, uint8_t *output, size_t *output_size, int gzip, int level) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // 15 window bits: a zlib stream; + 16: a gzip member.
    if (deflateInit2(&stream, level, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    stream.next_in = (Bytef *)input;
    stream.avail_in = (uInt)size;
    stream.next_out = output;
    stream.avail_out = (uInt)*output_size;
    int status = deflate(&stream, Z_FINISH);
    *output_size = stream.total_out;
    deflateEnd(&stream);
    return status == Z_STREAM_END ? 0 : -1;
}

size_t qkv_fuzz_deflate_bound(size_t size) {
    // deflateBound plus the gzip header and trailer beyond zlib's.
    return compressBound((uLong)size) + 32;
}

uint32_t qkv_fuzz_crc32(const uint8_t *bytes, size_t size) {
    return (uint32_t)crc32(crc32(0, Z_NULL, 0), bytes, (uInt)size);
}
