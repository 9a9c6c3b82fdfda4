#include <zlib.h>

/// The CRC-32 of `count` consecutive pieces given their CRCs: every piece is `piece` bytes long
/// except the last, which is `last_piece`. zlib 1.2.12 and later compute the shift for one
/// length once (crc32_combine_gen); older ones pay a full crc32_combine per piece.
static inline uLong qkv_crc32_join(const unsigned int *crcs, long count, long piece, long last_piece) {
    if (count <= 0) return 0;
    uLong crc = crcs[0];
    if (count == 1) return crc;
#if ZLIB_VERNUM >= 0x12c0
    uLong op = crc32_combine_gen(piece);
    for (long i = 1; i < count - 1; i++) crc = crc32_combine_op(crc, crcs[i], op);
#else
    for (long i = 1; i < count - 1; i++) crc = crc32_combine(crc, crcs[i], piece);
#endif
    return crc32_combine(crc, crcs[count - 1], last_piece);
}
