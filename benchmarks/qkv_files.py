#!/usr/bin/env python3
"""Test files for the `inspect` benchmark: a 1 KiB QKV file and a 2 GiB one.

Usage: qkv_files.py OUTDIR   -> writes OUTDIR/small.qkv and OUTDIR/large.qkv, prints a JSON summary.

Both are valid QKV v1 files of the "attention" architecture, built with scripts/qkvref.py (the
independent Python implementation of docs/FORMAT.md). The large one has zero weights: its header
is written normally, the 2 GiB data section is a sparse hole made with truncate (so it costs no
disk space), and each tensor's CRC-32 is the CRC of its zero bytes, so even `qkv verify` accepts it.
"""

import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import numpy as np  # noqa: E402
import qkvref  # noqa: E402

# 2 GiB data section: dim 8192, 64 query heads of 128, one shared key/value head (grouped-query
# attention keeps wk/wv small) and an embedding table sized so the payloads add up to exactly 2^31.
LARGE_DIM, LARGE_HEADS, LARGE_KV_HEADS = 8192, 64, 1
LARGE_HEAD_DIM = LARGE_DIM // LARGE_HEADS
LARGE_LAYER_PARAMS = LARGE_DIM * LARGE_DIM + 2 * LARGE_DIM * LARGE_KV_HEADS * LARGE_HEAD_DIM
LARGE_VOCAB = (2 ** 31 // 4 - LARGE_LAYER_PARAMS) // LARGE_DIM
assert LARGE_VOCAB * LARGE_DIM + LARGE_LAYER_PARAMS == 2 ** 31 // 4


def zero_crc(nbytes, chunk=64 << 20):
    zeros = bytes(min(chunk, nbytes))
    crc = 0
    while nbytes:
        n = min(nbytes, len(zeros))
        crc = zlib.crc32(zeros[:n] if n < len(zeros) else zeros, crc)
        nbytes -= n
    return crc & 0xFFFFFFFF


def write_small(path):
    # The smallest sensible attention model: its file is about 1 KiB, most of it header.
    rng = np.random.default_rng(7)
    vocab, dim = 4, 6
    meta = {"qkv.architecture": "attention", "qkv.vocab_size": vocab, "qkv.dim": dim, "qkv.n_layers": 1,
            "qkv.n_heads": 2}
    tensors = {"embed": rng.standard_normal((vocab, dim)),
               "layers.0.wq": rng.standard_normal((dim, dim)),
               "layers.0.wk": rng.standard_normal((dim, dim)),
               "layers.0.wv": rng.standard_normal((dim, dim))}
    qkvref.write_qkv(path, meta, tensors)
    return sum(int(np.prod(v.shape)) for v in tensors.values())


def write_large(path):
    meta = {"general.name": "inspect-large", "qkv.architecture": "attention", "qkv.vocab_size": LARGE_VOCAB,
            "qkv.dim": LARGE_DIM, "qkv.n_layers": 1, "qkv.n_heads": LARGE_HEADS,
            "qkv.n_kv_heads": LARGE_KV_HEADS}
    kv = LARGE_KV_HEADS * LARGE_HEAD_DIM
    shapes = [("embed", [LARGE_VOCAB, LARGE_DIM]), ("layers.0.wq", [LARGE_DIM, LARGE_DIM]),
              ("layers.0.wk", [LARGE_DIM, kv]), ("layers.0.wv", [LARGE_DIM, kv])]
    crcs = {}
    entries, offset = [], 0
    for name, dims in shapes:
        nbytes = 4 * int(np.prod(dims))
        if nbytes not in crcs:
            crcs[nbytes] = zero_crc(nbytes)
        name_bytes = qkvref._str_bytes(name)
        entries.append(name_bytes + struct.pack("<BBBB", 0, 0, len(dims), 0)
                            + b"".join(struct.pack("<Q", d) for d in dims)
                            + struct.pack("<QQI", offset, nbytes, crcs[nbytes]))
        end = offset + nbytes
        offset = qkvref.align_up(end)
    # Laid out by hand (as in docs/FORMAT.md) because qkvref.assemble_qkv would build the 2 GiB
    # data section in memory; the data bytes here are all holes.
    header = b"".join(qkvref._meta_entry(k, v) for k, v in meta.items()) + b"".join(entries)
    preamble = struct.pack("<4sIIIQII", qkvref.MAGIC, qkvref.VERSION, len(meta), len(shapes), len(header),
                           zlib.crc32(header) & 0xFFFFFFFF, 0)
    data_start = qkvref.align_up(qkvref.PREAMBLE_BYTES + len(header))
    total = data_start + end
    head = preamble + header
    with open(path, "wb") as f:
        f.write(head + bytes(data_start - len(head)))
        f.truncate(total)
    return sum(int(np.prod(d)) for _, d in shapes), data_start


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    small, large = os.path.join(outdir, "small.qkv"), os.path.join(outdir, "large.qkv")
    small_params = write_small(small)
    large_params, large_data_start = write_large(large)
    print(json.dumps(dict(small=dict(path=small, bytes=os.path.getsize(small), parameters=small_params),
                          large=dict(path=large, bytes=os.path.getsize(large), parameters=large_params,
                                     data_section_bytes=os.path.getsize(large) - large_data_start,
                                     allocated_bytes=os.stat(large).st_blocks * 512))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
