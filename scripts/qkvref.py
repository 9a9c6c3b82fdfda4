#!/usr/bin/env python3
"""qkvref: an independent float64 reference for the QKV v1 checkpoint format.

Written from the format specification alone (docs/FORMAT.md), in plain Python
and NumPy, so that the Swift implementation (QKVKit) can be checked against
something that shares none of its code.

Library use:
    meta, tensors, info = read_qkv("model.qkv")        # validates every rule
    write_qkv("out.qkv", meta, tensors, dtype="f16", encoding="zlib", wrap="gzip")
    scores = attention_reference(meta, tensors, [0, 1, 2])   # [n_heads, T, T] per layer

Command line:
    python3 scripts/qkvref.py attention FILE --tokens 0,1,2   # JSON like `qkv run --format json`
    python3 scripts/qkvref.py inspect FILE                    # JSON parameter groups
    python3 scripts/qkvref.py make-foreign OUTDIR             # foreign files + float64 goldens
    python3 scripts/qkvref.py selftest                        # round trips and corruption checks

Only the standard library and NumPy are used.
"""

import argparse
import gzip
import json
import math
import os
import re
import struct
import sys
import zlib

import numpy as np

MAGIC = b"QKVC"
VERSION = 1
PREAMBLE_BYTES = 32
ALIGNMENT = 64
# Deflate cannot expand data by more than about 1032:1, so a payload (or a
# wrapped file) that claims more than this is hostile or corrupt.
MAX_INFLATE_RATIO = 1032
U64_MAX = (1 << 64) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

DTYPE_NAMES = {0: "f32", 1: "f16", 2: "bf16"}
DTYPE_CODES = {v: k for k, v in DTYPE_NAMES.items()}
DTYPE_SIZES = {0: 4, 1: 2, 2: 2}

ENCODING_NAMES = {0: "raw", 1: "zlib", 2: "shuffle+zlib"}
ENCODING_CODES = {v: k for k, v in ENCODING_NAMES.items()}

META_I64, META_F64, META_STRING, META_STRING_ARRAY, META_F32_ARRAY = 1, 2, 3, 4, 5
META_TYPE_NAMES = {1: "i64", 2: "f64", 3: "string", 4: "string array", 5: "f32 array"}

LAYER_NAME = re.compile(r"^layers\.(0|[1-9][0-9]*)\.(.+)$", re.DOTALL)


class QKVError(ValueError):
    """Any violation of the QKV v1 spec or of the attention architecture."""


def align_up(n, a=ALIGNMENT):
    return (n + a - 1) // a * a


# ---------------------------------------------------------------------------
# Element codecs
# ---------------------------------------------------------------------------

def shuffle_bytes(raw, size):
    """raw element bytes -> shuffled: out[j*n + i] = raw[i*size + j]."""
    if len(raw) % size:
        raise QKVError(f"shuffle: {len(raw)} bytes is not a multiple of element size {size}")
    a = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size)
    return a.T.tobytes()


def unshuffle_bytes(shuffled, size):
    """Inverse of shuffle_bytes: raw[i*size + j] = shuffled[j*n + i]."""
    if len(shuffled) % size:
        raise QKVError(f"unshuffle: {len(shuffled)} bytes is not a multiple of element size {size}")
    a = np.frombuffer(shuffled, dtype=np.uint8).reshape(size, -1)
    return a.T.tobytes()


def _f64_to_bf16_bits(values):
    """Round float64 -> float32 -> bfloat16 (round to nearest, ties to even)."""
    f32 = np.asarray(values, dtype=np.float64).astype(np.float32)
    bits = f32.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(f32)
    rounded[nan] = (bits[nan] >> 16) | 0x40  # keep NaN a (quiet) NaN
    return rounded.astype("<u2")


def encode_elements(values, dtype):
    """float array -> little-endian element bytes of dtype ('f32'|'f16'|'bf16')."""
    a = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    if dtype == "f32":
        return a.astype("<f4").tobytes()
    if dtype == "f16":
        return a.astype("<f2").tobytes()
    if dtype == "bf16":
        return _f64_to_bf16_bits(a).tobytes()
    raise QKVError(f"unknown dtype {dtype!r}")


def decode_elements(raw, dtype_code):
    """little-endian element bytes -> float64 array holding the exact stored values."""
    if dtype_code == 0:
        return np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if dtype_code == 1:
        return np.frombuffer(raw, dtype="<f2").astype(np.float64)
    if dtype_code == 2:
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64)
    raise QKVError(f"unknown dtype code {dtype_code}")


def quantize(values, dtype):
    """The float64 values a tensor holds after being stored as dtype."""
    return decode_elements(encode_elements(values, dtype), DTYPE_CODES[dtype]).reshape(np.shape(values))


# ---------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------

class _Cursor:
    """Bounds-checked little-endian reader over buf[pos:end]; offsets are absolute."""

    def __init__(self, buf, pos, end):
        self.buf, self.pos, self.end = buf, pos, end

    def take(self, n, what):
        if n > self.end - self.pos:
            raise QKVError(f"{what} at byte {self.pos}: needs {n} bytes, only {self.end - self.pos} remain")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return bytes(b)

    def u8(self, what):
        return self.take(1, what)[0]

    def u32(self, what):
        return struct.unpack("<I", self.take(4, what))[0]

    def u64(self, what):
        return struct.unpack("<Q", self.take(8, what))[0]

    def i64(self, what):
        return struct.unpack("<q", self.take(8, what))[0]

    def f64(self, what):
        return struct.unpack("<d", self.take(8, what))[0]

    def string(self, what):
        at = self.pos
        n = self.u32(f"{what} length")
        raw = self.take(n, what)
        if b"\x00" in raw:
            raise QKVError(f"{what} at byte {at}: contains a NUL byte")
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            raise QKVError(f"{what} at byte {at}: not valid UTF-8 ({e.reason})") from None


def _parse_preamble(buf):
    if len(buf) < PREAMBLE_BYTES:
        raise QKVError(f"preamble: expected {PREAMBLE_BYTES} bytes, found {len(buf)}")
    magic, version, meta_count, tensor_count, header_bytes, header_crc, reserved = struct.unpack(
        "<4sIIIQII", bytes(buf[:PREAMBLE_BYTES]))
    if magic != MAGIC:
        raise QKVError(f"magic at byte 0: expected {MAGIC.hex()}, found {magic.hex()}")
    if version != VERSION:
        raise QKVError(f"version at byte 4: expected {VERSION}, found {version}")
    if reserved != 0:
        raise QKVError(f"reserved at byte 28: expected 0, found {reserved}")
    return dict(meta_count=meta_count, tensor_count=tensor_count,
                header_bytes=header_bytes, header_crc32=header_crc)


def _parse_header(buf, pre):
    """Parse the header block; buf must hold at least 32 + header_bytes bytes."""
    header_bytes = pre["header_bytes"]
    if header_bytes > len(buf) - PREAMBLE_BYTES:
        raise QKVError(f"header_bytes at byte 16: {header_bytes} but only "
                       f"{len(buf) - PREAMBLE_BYTES} bytes follow the preamble")
    end = PREAMBLE_BYTES + header_bytes
    crc = zlib.crc32(bytes(buf[PREAMBLE_BYTES:end])) & 0xFFFFFFFF
    if crc != pre["header_crc32"]:
        raise QKVError(f"header_crc32 at byte 24: expected {pre['header_crc32']:08x}, computed {crc:08x}")
    cur = _Cursor(buf, PREAMBLE_BYTES, end)

    metadata, meta_types = {}, {}
    for k in range(pre["meta_count"]):
        at = cur.pos
        key = cur.string(f"metadata {k} key")
        if not key:
            raise QKVError(f"metadata {k} key at byte {at}: empty")
        if key in metadata:
            raise QKVError(f"metadata {k} key {key!r} at byte {at}: duplicate")
        t = cur.u8(f"metadata {key!r} type")
        if t == META_I64:
            v = cur.i64(f"metadata {key!r} value")
        elif t == META_F64:
            v = cur.f64(f"metadata {key!r} value")
        elif t == META_STRING:
            v = cur.string(f"metadata {key!r} value")
        elif t == META_STRING_ARRAY:
            n = cur.u32(f"metadata {key!r} count")
            if n * 4 > cur.end - cur.pos:  # every string needs at least its length prefix
                raise QKVError(f"metadata {key!r} count {n}: needs at least {n * 4} bytes, "
                               f"only {cur.end - cur.pos} remain in the header")
            v = [cur.string(f"metadata {key!r} item {i}") for i in range(n)]
        elif t == META_F32_ARRAY:
            n = cur.u32(f"metadata {key!r} count")
            v = np.frombuffer(cur.take(4 * n, f"metadata {key!r} values"), dtype="<f4").copy()
        else:
            raise QKVError(f"metadata {key!r} type at byte {cur.pos - 1}: expected 1..5, found {t}")
        metadata[key], meta_types[key] = v, t

    entries, names = [], set()
    for k in range(pre["tensor_count"]):
        at = cur.pos
        name = cur.string(f"tensor {k} name")
        if not name:
            raise QKVError(f"tensor {k} name at byte {at}: empty")
        if name in names:
            raise QKVError(f"tensor {k} name {name!r} at byte {at}: duplicate")
        names.add(name)
        dtype = cur.u8(f"tensor {name!r} dtype")
        if dtype not in DTYPE_NAMES:
            raise QKVError(f"tensor {name!r} dtype at byte {cur.pos - 1}: expected 0..2, found {dtype}")
        encoding = cur.u8(f"tensor {name!r} encoding")
        if encoding not in ENCODING_NAMES:
            raise QKVError(f"tensor {name!r} encoding at byte {cur.pos - 1}: expected 0..2, found {encoding}")
        rank = cur.u8(f"tensor {name!r} rank")
        if not 1 <= rank <= 4:
            raise QKVError(f"tensor {name!r} rank at byte {cur.pos - 1}: expected 1..4, found {rank}")
        reserved = cur.u8(f"tensor {name!r} reserved")
        if reserved != 0:
            raise QKVError(f"tensor {name!r} reserved at byte {cur.pos - 1}: expected 0, found {reserved}")
        dims = []
        for d in range(rank):
            v = cur.u64(f"tensor {name!r} dim {d}")
            if v == 0:
                raise QKVError(f"tensor {name!r} dim {d} at byte {cur.pos - 8}: expected >= 1, found 0")
            dims.append(v)
        offset = cur.u64(f"tensor {name!r} offset")
        stored = cur.u64(f"tensor {name!r} stored_bytes")
        crc = cur.u32(f"tensor {name!r} crc32")
        count = math.prod(dims)
        decoded = count * DTYPE_SIZES[dtype]
        if decoded > U64_MAX:
            raise QKVError(f"tensor {name!r} shape {dims}: byte size {decoded} overflows u64")
        if encoding == 0 and stored != decoded:
            raise QKVError(f"tensor {name!r} stored_bytes: raw needs {decoded}, found {stored}")
        if encoding != 0 and decoded > MAX_INFLATE_RATIO * stored:
            raise QKVError(f"tensor {name!r} stored_bytes: {stored} bytes cannot inflate to {decoded} "
                           f"(more than {MAX_INFLATE_RATIO}x)")
        entries.append(dict(name=name, dtype=DTYPE_NAMES[dtype], dtype_code=dtype,
                            encoding=ENCODING_NAMES[encoding], encoding_code=encoding,
                            shape=dims, parameters=count, offset=offset, stored_bytes=stored,
                            decoded_bytes=decoded, crc32=crc))
    if cur.pos != end:
        raise QKVError(f"header block: entries end at byte {cur.pos}, header_bytes says {end}")
    return metadata, meta_types, entries


def _implied_length(header_bytes, entries):
    data_start = align_up(PREAMBLE_BYTES + header_bytes)
    if not entries:
        return data_start
    return data_start + entries[-1]["offset"] + entries[-1]["stored_bytes"]


def _inflate_exact(payload, expected, what, wbits=15):
    """Inflate one complete stream that must produce exactly `expected` bytes."""
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(payload, expected) if expected else b""
        extra = d.decompress(d.unconsumed_tail if expected else payload, 1)
    except zlib.error as e:
        raise QKVError(f"{what}: corrupt stream ({e})") from None
    if extra:
        raise QKVError(f"{what}: inflates to more than the expected {expected} bytes")
    if not d.eof:
        if len(out) < expected:
            raise QKVError(f"{what}: stream truncated after {len(out)} of {expected} bytes")
        raise QKVError(f"{what}: stream truncated (no end of stream)")
    if len(out) != expected:
        raise QKVError(f"{what}: inflates to {len(out)} bytes, expected {expected}")
    if d.unused_data:
        raise QKVError(f"{what}: {len(d.unused_data)} junk bytes after the end of the stream")
    return out


def _sniff(buf):
    if len(buf) >= 4 and bytes(buf[:4]) == MAGIC:
        return "none"
    if len(buf) >= 2 and buf[0] == 0x1F and buf[1] == 0x8B:
        return "gzip"
    if len(buf) >= 2 and (buf[0] & 0x0F) == 8 and ((buf[0] << 8) | buf[1]) % 31 == 0:
        return "zlib"
    return None


def _unwrap(data, kind):
    """Inflate a whole-file wrapper, stopping as soon as the inner header is known."""
    limit = MAX_INFLATE_RATIO * len(data)
    d = zlib.decompressobj(31 if kind == "gzip" else 15)
    out = bytearray()
    tail = data

    def pull(n):
        nonlocal tail
        try:
            while len(out) < n:
                chunk = d.decompress(tail, n - len(out))
                tail = d.unconsumed_tail
                if not chunk:
                    break
                out.extend(chunk)
        except zlib.error as e:
            raise QKVError(f"{kind} wrapper: corrupt stream ({e})") from None

    pull(PREAMBLE_BYTES)
    if len(out) < PREAMBLE_BYTES:
        raise QKVError(f"{kind} wrapper: inflated stream ends after {len(out)} bytes, before the preamble")
    pre = _parse_preamble(out)
    if PREAMBLE_BYTES + pre["header_bytes"] > limit:
        raise QKVError(f"{kind} wrapper: header_bytes {pre['header_bytes']} exceeds {MAX_INFLATE_RATIO}x "
                       f"the {len(data)}-byte file")
    pull(PREAMBLE_BYTES + pre["header_bytes"])
    if len(out) < PREAMBLE_BYTES + pre["header_bytes"]:
        raise QKVError(f"{kind} wrapper: inflated stream ends at {len(out)}, inside the header")
    _, _, entries = _parse_header(out, pre)
    total = _implied_length(pre["header_bytes"], entries)
    if total > limit:
        raise QKVError(f"{kind} wrapper: header implies {total} bytes, more than {MAX_INFLATE_RATIO}x "
                       f"the {len(data)}-byte file")
    pull(total)
    if len(out) < total:
        raise QKVError(f"{kind} wrapper: inflated {len(out)} bytes, header implies {total}")
    try:
        extra = d.decompress(tail, 1)
    except zlib.error as e:
        raise QKVError(f"{kind} wrapper: corrupt stream ({e})") from None
    if extra:
        raise QKVError(f"{kind} wrapper: inflates to more than the {total} bytes the header implies")
    if not d.eof:
        raise QKVError(f"{kind} wrapper: stream truncated (no end of stream / missing check value)")
    if d.unused_data:
        raise QKVError(f"{kind} wrapper: {len(d.unused_data)} bytes after the end of the stream")
    return bytes(out)


def decode_qkv(data, verify=True):
    """Validate and decode a complete QKV v1 file given as bytes."""
    kind = _sniff(data)
    if kind is None:
        head = bytes(data[:4]).hex()
        raise QKVError(f"magic at byte 0: expected {MAGIC.hex()} (or a zlib/gzip wrapper), found {head}")
    buf = data if kind == "none" else _unwrap(data, kind)
    pre = _parse_preamble(buf)
    metadata, meta_types, entries = _parse_header(buf, pre)
    header_end = PREAMBLE_BYTES + pre["header_bytes"]
    data_start = align_up(header_end)
    if len(buf) < data_start:
        raise QKVError(f"file length: {len(buf)} bytes, the data section starts at {data_start}")
    if any(buf[header_end:data_start]):
        raise QKVError(f"padding at bytes {header_end}..{data_start}: not zero")

    expected = 0
    for t in entries:
        if t["offset"] != expected:
            why = "misaligned" if t["offset"] % ALIGNMENT else ("overlaps" if t["offset"] < expected else "leaves a gap")
            raise QKVError(f"tensor {t['name']!r} offset: expected {expected}, found {t['offset']} ({why})")
        start = data_start + t["offset"]
        stop = start + t["stored_bytes"]
        if stop > len(buf):
            raise QKVError(f"tensor {t['name']!r}: payload ends at byte {stop}, past the end of the "
                           f"{len(buf)}-byte file")
        t["payload_range"] = (start, stop)
        expected = align_up(t["offset"] + t["stored_bytes"])
        pad_end = min(data_start + expected, len(buf))
        if t is not entries[-1] and any(buf[stop:pad_end]):
            raise QKVError(f"padding after tensor {t['name']!r} at bytes {stop}..{pad_end}: not zero")
    implied = _implied_length(pre["header_bytes"], entries)
    if len(buf) != implied:
        raise QKVError(f"file length: expected {implied} bytes, found {len(buf)}")

    tensors = {}
    for t in entries:
        start, stop = t.pop("payload_range")
        payload = bytes(buf[start:stop])
        size = DTYPE_SIZES[t["dtype_code"]]
        if t["encoding_code"] == 0:
            raw = payload
        else:
            raw = _inflate_exact(payload, t["decoded_bytes"], f"tensor {t['name']!r} payload")
            if t["encoding_code"] == 2:
                raw = unshuffle_bytes(raw, size)
        crc = zlib.crc32(raw) & 0xFFFFFFFF
        if verify and crc != t["crc32"]:
            raise QKVError(f"tensor {t['name']!r} crc32: expected {t['crc32']:08x}, computed {crc:08x}")
        tensors[t["name"]] = decode_elements(raw, t["dtype_code"]).reshape(t["shape"])

    info = dict(compression=kind, file_bytes=len(data), inner_bytes=len(buf),
                header_bytes=pre["header_bytes"], data_start=data_start,
                meta_types={k: META_TYPE_NAMES[v] for k, v in meta_types.items()},
                tensors=entries)
    return metadata, tensors, info


def read_qkv(path, verify=True):
    """Read a QKV v1 file -> (metadata dict, {name: float64 ndarray}, directory info).

    Metadata values: i64 -> int, f64 -> float, string -> str,
    string array -> list[str], f32 array -> float32 ndarray.
    Raises QKVError on any violation of the spec.
    """
    with open(path, "rb") as f:
        data = f.read()
    return decode_qkv(data, verify=verify)


# ---------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------

def _str_bytes(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<I", len(b)) + b


def _meta_entry(key, value):
    """Encode one metadata entry; the type follows the Python type of value.

    int -> i64, float -> f64, str -> string, list/tuple of str -> string array,
    numpy float array or ("f32[]", values) -> f32 array; (type_code, raw_value_bytes)
    with an int type code writes that code and bytes verbatim (for corruption tests).
    """
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], bytes):
        return _str_bytes(key) + bytes([value[0]]) + value[1]
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "f32[]":
        value = np.asarray(value[1], dtype=np.float32)
    if isinstance(value, bool):
        raise QKVError(f"metadata {key!r}: bool is not a QKV type")
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if not I64_MIN <= value <= I64_MAX:
            raise QKVError(f"metadata {key!r}: {value} does not fit i64")
        return _str_bytes(key) + bytes([META_I64]) + struct.pack("<q", value)
    if isinstance(value, (float, np.floating)):
        return _str_bytes(key) + bytes([META_F64]) + struct.pack("<d", float(value))
    if isinstance(value, str):
        return _str_bytes(key) + bytes([META_STRING]) + _str_bytes(value)
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value.reshape(-1), dtype="<f4")
        return _str_bytes(key) + bytes([META_F32_ARRAY]) + struct.pack("<I", a.size) + a.tobytes()
    if isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
        return (_str_bytes(key) + bytes([META_STRING_ARRAY]) + struct.pack("<I", len(value))
                + b"".join(_str_bytes(s) for s in value))
    raise QKVError(f"metadata {key!r}: cannot store a {type(value).__name__}")


def _pick(choice, name, default):
    if isinstance(choice, dict):
        return choice.get(name, default)
    return choice if choice is not None else default


def plan_qkv(metadata, tensors, dtype="f32", encoding="raw", level=9, allow_nonfinite=False):
    """Build the parts of a file (for write_qkv, and for tests that break them)."""
    meta_entries = [_meta_entry(k, v) for k, v in metadata.items()]
    plan_tensors = []
    for name, values in tensors.items():
        dt = _pick(dtype, name, "f32")
        enc = _pick(encoding, name, "raw")
        if dt not in DTYPE_CODES:
            raise QKVError(f"tensor {name!r}: unknown dtype {dt!r}")
        if enc not in ENCODING_CODES:
            raise QKVError(f"tensor {name!r}: unknown encoding {enc!r}")
        a = np.asarray(values, dtype=np.float64)
        if a.ndim == 0 or a.ndim > 4:
            raise QKVError(f"tensor {name!r}: rank {a.ndim} is outside 1..4")
        if a.size == 0:
            raise QKVError(f"tensor {name!r}: zero-sized dimension in {a.shape}")
        raw = encode_elements(a, dt)
        if not allow_nonfinite and not np.all(np.isfinite(decode_elements(raw, DTYPE_CODES[dt]))):
            raise QKVError(f"tensor {name!r}: values are not finite once stored as {dt}")
        if enc == "raw":
            payload = raw
        elif enc == "zlib":
            payload = zlib.compress(raw, level)
        else:
            payload = zlib.compress(shuffle_bytes(raw, DTYPE_SIZES[DTYPE_CODES[dt]]), level)
        plan_tensors.append(dict(name=name, dtype=DTYPE_CODES[dt], encoding=ENCODING_CODES[enc],
                                 dims=list(a.shape), reserved=0, payload=payload,
                                 crc=zlib.crc32(raw) & 0xFFFFFFFF))
    return dict(magic=MAGIC, version=VERSION, reserved=0, meta=meta_entries, tensors=plan_tensors)


def assemble_qkv(plan):
    """Lay out a plan: offsets follow the spec unless a tensor sets 'offset'/'stored'/'rank'."""
    entries, data = [], bytearray()
    for t in plan["tensors"]:
        offset = t.get("offset", align_up(len(data)))
        if offset > len(data):
            data.extend(b"\x00" * (offset - len(data)))
        else:
            del data[offset:]
        data.extend(t["payload"])
        stored = t.get("stored", len(t["payload"]))
        dims = t["dims"]
        rank = t.get("rank", len(dims))
        name = t["name"].encode("utf-8") if isinstance(t["name"], str) else t["name"]
        entries.append(_str_bytes(name) + struct.pack("<BBBB", t["dtype"], t["encoding"], rank, t["reserved"])
                       + b"".join(struct.pack("<Q", d) for d in dims)
                       + struct.pack("<QQI", offset, stored, t["crc"]))
    header = b"".join(plan["meta"]) + b"".join(entries)
    header_bytes = plan.get("header_bytes", len(header))
    header_crc = plan.get("header_crc", zlib.crc32(header[:header_bytes]) & 0xFFFFFFFF)
    pre = struct.pack("<4sIIIQII", plan["magic"], plan["version"],
                      plan.get("meta_count", len(plan["meta"])),
                      plan.get("tensor_count", len(plan["tensors"])),
                      header_bytes, header_crc, plan["reserved"])
    head = pre + header
    return head + b"\x00" * (align_up(len(head)) - len(head)) + bytes(data)


def wrap_bytes(data, wrap, level=9):
    if wrap is None or wrap == "none":
        return data
    if wrap == "zlib":
        return zlib.compress(data, level)
    if wrap == "gzip":
        return gzip.compress(data, compresslevel=level, mtime=0)
    raise QKVError(f"unknown wrapper {wrap!r}")


def encode_qkv(metadata, tensors, dtype="f32", encoding="raw", wrap=None, level=9, allow_nonfinite=False):
    plan = plan_qkv(metadata, tensors, dtype, encoding, level, allow_nonfinite)
    return wrap_bytes(assemble_qkv(plan), wrap, level)


def write_qkv(path, metadata, tensors, dtype="f32", encoding="raw", wrap=None, level=9):
    """Write a spec-exact QKV v1 file.

    metadata: dict in file order (see _meta_entry for the type mapping).
    tensors:  dict name -> float array, in directory order.
    dtype / encoding: one value for all tensors, or a dict name -> value
                      ('f32'|'f16'|'bf16', 'raw'|'zlib'|'shuffle+zlib'; missing -> f32/raw).
    wrap: None, 'zlib' or 'gzip' for whole-file compression.
    """
    data = encode_qkv(metadata, tensors, dtype, encoding, wrap, level)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


# ---------------------------------------------------------------------------
# Architecture "attention"
# ---------------------------------------------------------------------------

def _meta_int(metadata, key, default=None):
    if key not in metadata:
        if default is None:
            raise QKVError(f"metadata {key!r}: required i64 is missing")
        return default
    v = metadata[key]
    if not isinstance(v, int) or isinstance(v, bool):
        raise QKVError(f"metadata {key!r}: expected i64, found {type(v).__name__}")
    return v


def layer_index(name):
    m = LAYER_NAME.match(name)
    return int(m.group(1)) if m else None


def attention_config(metadata, shapes):
    """Validate the 'attention' architecture against tensor shapes; return the config."""
    arch = metadata.get("qkv.architecture")
    if arch is None:
        raise QKVError("metadata 'qkv.architecture': required string is missing")
    if not isinstance(arch, str):
        raise QKVError(f"metadata 'qkv.architecture': expected string, found {type(arch).__name__}")
    if arch != "attention":
        raise QKVError(f"metadata 'qkv.architecture': expected 'attention', found {arch!r}")
    c = {}
    for key in ("vocab_size", "dim", "n_layers", "n_heads"):
        c[key] = _meta_int(metadata, "qkv." + key)
        if c[key] < 1:
            raise QKVError(f"metadata 'qkv.{key}': expected >= 1, found {c[key]}")
    c["n_kv_heads"] = _meta_int(metadata, "qkv.n_kv_heads", c["n_heads"])
    if c["n_kv_heads"] < 1 or c["n_heads"] % c["n_kv_heads"]:
        raise QKVError(f"metadata 'qkv.n_kv_heads': {c['n_kv_heads']} does not divide n_heads {c['n_heads']}")
    if "qkv.head_dim" in metadata:
        c["head_dim"] = _meta_int(metadata, "qkv.head_dim")
        if c["head_dim"] < 1:
            raise QKVError(f"metadata 'qkv.head_dim': expected >= 1, found {c['head_dim']}")
    else:
        if c["dim"] % c["n_heads"]:
            raise QKVError(f"metadata 'qkv.head_dim': missing and dim {c['dim']} is not a multiple of "
                           f"n_heads {c['n_heads']}")
        c["head_dim"] = c["dim"] // c["n_heads"]
    c["max_seq_len"] = None
    if "qkv.max_seq_len" in metadata:
        c["max_seq_len"] = _meta_int(metadata, "qkv.max_seq_len")
        if c["max_seq_len"] < 1:
            raise QKVError(f"metadata 'qkv.max_seq_len': expected >= 1, found {c['max_seq_len']}")
    c["causal"] = _meta_int(metadata, "qkv.causal", 0)
    if c["causal"] not in (0, 1):
        raise QKVError(f"metadata 'qkv.causal': expected 0 or 1, found {c['causal']}")
    toks = metadata.get("tokenizer.tokens")
    if toks is not None:
        if not isinstance(toks, list):
            raise QKVError(f"metadata 'tokenizer.tokens': expected string array, found {type(toks).__name__}")
        if len(toks) != c["vocab_size"]:
            raise QKVError(f"metadata 'tokenizer.tokens': expected {c['vocab_size']} entries, found {len(toks)}")
    if "general.name" in metadata and not isinstance(metadata["general.name"], str):
        raise QKVError("metadata 'general.name': expected string")

    d, H, G, hd = c["dim"], c["n_heads"], c["n_kv_heads"], c["head_dim"]

    def expect(name, shape, required=True):
        if name not in shapes:
            if required:
                raise QKVError(f"tensor {name!r}: required by the attention architecture, missing")
            return False
        if list(shapes[name]) != list(shape):
            raise QKVError(f"tensor {name!r} shape: expected {list(shape)}, found {list(shapes[name])}")
        return True

    expect("embed", [c["vocab_size"], d])
    c["has_pos"] = "pos" in shapes
    if c["has_pos"]:
        if c["max_seq_len"] is None:
            raise QKVError("metadata 'qkv.max_seq_len': required when tensor 'pos' exists, missing")
        expect("pos", [c["max_seq_len"], d])
    c["has_wo"] = []
    for i in range(c["n_layers"]):
        expect(f"layers.{i}.wq", [d, H * hd])
        expect(f"layers.{i}.wk", [d, G * hd])
        expect(f"layers.{i}.wv", [d, G * hd])
        has_wo = expect(f"layers.{i}.wo", [H * hd, d], required=False)
        if not has_wo and H * hd != d:
            raise QKVError(f"tensor 'layers.{i}.wo': required because n_heads*head_dim = {H * hd} "
                           f"differs from dim {d}, missing")
        c["has_wo"].append(has_wo)
    for name in shapes:
        i = layer_index(name)
        if i is not None and i >= c["n_layers"]:
            raise QKVError(f"tensor {name!r}: layer {i} but n_layers is {c['n_layers']}")
    return c


def _forward(metadata, tensors, token_ids, dt=np.float64):
    """The spec's forward pass computed in dtype dt; returns scores [H, T, T] per layer."""
    c = attention_config(metadata, {k: v.shape for k, v in tensors.items()})
    ids = [int(t) for t in token_ids]
    T = len(ids)
    if T == 0:
        raise QKVError("tokens: empty list")
    for p, t in enumerate(ids):
        if not 0 <= t < c["vocab_size"]:
            raise QKVError(f"token {p}: id {t} outside 0..{c['vocab_size'] - 1}")
    if c["has_pos"] and T > c["max_seq_len"]:
        raise QKVError(f"tokens: {T} tokens but max_seq_len is {c['max_seq_len']}")
    W = {k: np.asarray(v, dtype=dt) for k, v in tensors.items()}
    X = W["embed"][ids, :].copy()
    if c["has_pos"]:
        X = X + W["pos"][:T, :]
    layers = []
    # Overflow is detected by the finiteness checks below, not by NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(c["n_layers"]):
            A, O = _layer(c, W, X, i, dt)
            X = X + O
            if not np.all(np.isfinite(X)):
                raise QKVError(f"layer {i}: residual stream is not finite")
            layers.append(A)
    return layers


def _layer(c, W, X, i, dt):
    """One attention layer on X [T, dim]: returns (scores [H, T, T], output O [T, dim])."""
    H, G, hd = c["n_heads"], c["n_kv_heads"], c["head_dim"]
    group = H // G
    T = X.shape[0]
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    Q = X @ W[f"layers.{i}.wq"]
    K = X @ W[f"layers.{i}.wk"]
    V = X @ W[f"layers.{i}.wv"]
    A_all = np.empty((H, T, T), dtype=dt)
    O = np.empty((T, H * hd), dtype=dt)
    for h in range(H):
        g = h // group
        Qh = Q[:, h * hd:(h + 1) * hd]
        Kg = K[:, g * hd:(g + 1) * hd]
        Vg = V[:, g * hd:(g + 1) * hd]
        S = (Qh @ Kg.T) / np.sqrt(dt(hd))
        if c["causal"]:
            S = np.where(future, dt(-np.inf), S)
        E = np.exp(S - S.max(axis=1, keepdims=True))
        A = E / E.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(A)):
            raise QKVError(f"layer {i} head {h}: attention scores are not finite")
        A_all[h] = A
        O[:, h * hd:(h + 1) * hd] = A @ Vg
    if c["has_wo"][i]:
        O = O @ W[f"layers.{i}.wo"]
    return A_all, O


def attention_reference(metadata, tensors, token_ids):
    """Post-softmax attention for every layer: a list of float64 arrays [n_heads, T, T]."""
    return _forward(metadata, tensors, token_ids, np.float64)


def attention_loops(metadata, tensors, token_ids):
    """Same forward pass written as plain Python loops (a cross-check of the NumPy one)."""
    c = attention_config(metadata, {k: v.shape for k, v in tensors.items()})
    H, G, hd, d = c["n_heads"], c["n_kv_heads"], c["head_dim"], c["dim"]
    T = len(token_ids)
    W = {k: np.asarray(v, dtype=np.float64).tolist() for k, v in tensors.items()}

    def matmul(A, B):
        return [[math.fsum(A[r][k] * B[k][col] for k in range(len(B))) for col in range(len(B[0]))]
                for r in range(len(A))]

    X = [list(W["embed"][t]) for t in token_ids]
    if c["has_pos"]:
        X = [[X[p][k] + W["pos"][p][k] for k in range(d)] for p in range(T)]
    out = []
    for i in range(c["n_layers"]):
        Q, K, V = (matmul(X, W[f"layers.{i}.{w}"]) for w in ("wq", "wk", "wv"))
        heads, O = [], [[0.0] * (H * hd) for _ in range(T)]
        for h in range(H):
            g = h // (H // G)
            A = []
            for p in range(T):
                keys = range(p + 1) if c["causal"] else range(T)
                s = {j: math.fsum(Q[p][h * hd + k] * K[j][g * hd + k] for k in range(hd)) / math.sqrt(hd)
                     for j in keys}
                m = max(s.values())
                e = {j: math.exp(v - m) for j, v in s.items()}
                z = math.fsum(e.values())
                A.append([e[j] / z if j in e else 0.0 for j in range(T)])
                for k in range(hd):
                    O[p][h * hd + k] = math.fsum(A[p][j] * V[j][g * hd + k] for j in range(T))
            heads.append(A)
        if c["has_wo"][i]:
            O = matmul(O, W[f"layers.{i}.wo"])
        X = [[X[p][k] + O[p][k] for k in range(d)] for p in range(T)]
        out.append(np.array(heads))
    return out


# ---------------------------------------------------------------------------
# Reports (the JSON shapes of `qkv run --format json` and `qkv inspect --format json`)
# ---------------------------------------------------------------------------

def token_texts(metadata, ids):
    toks = metadata.get("tokenizer.tokens")
    return [toks[i] if isinstance(toks, list) else str(i) for i in ids]


def attention_json(metadata, tensors, ids):
    layers = attention_reference(metadata, tensors, ids)
    return {
        "tokens": [{"id": i, "text": s} for i, s in zip(ids, token_texts(metadata, ids))],
        "layers": [{"layer": li, "heads": [{"head": h, "scores": A[h].tolist()} for h in range(A.shape[0])]}
                   for li, A in enumerate(layers)],
    }


def inspect_json(metadata, info):
    shapes = {t["name"]: t["shape"] for t in info["tensors"]}
    if metadata.get("qkv.architecture") == "attention":
        n_layers = attention_config(metadata, shapes)["n_layers"]
    else:
        idx = [layer_index(n) for n in shapes]
        n_layers = max([i for i in idx if i is not None], default=-1) + 1
    emb, other, per_layer = 0, 0, [0] * n_layers
    for t in info["tensors"]:
        i = layer_index(t["name"])
        if t["name"] in ("embed", "pos"):
            emb += t["parameters"]
        elif i is not None:
            per_layer[i] += t["parameters"]
        else:
            other += t["parameters"]
    groups = [{"name": "embeddings", "layer": None, "parameters": emb}]
    groups += [{"name": f"layer {i}", "layer": i, "parameters": n} for i, n in enumerate(per_layer)]
    groups.append({"name": "other", "layer": None, "parameters": other})
    return {"total_parameters": emb + other + sum(per_layer), "groups": groups}


def parse_tokens(metadata, text):
    items = [s for s in re.split(r"[,\s]+", text.strip()) if s]
    if not items:
        raise QKVError("tokens: empty list")
    toks = metadata.get("tokenizer.tokens")
    ids = []
    for s in items:
        if re.fullmatch(r"-?[0-9]+", s):
            ids.append(int(s))
        elif isinstance(toks, list) and toks.count(s) == 1:
            ids.append(toks.index(s))
        else:
            raise QKVError(f"token {s!r}: not a number and not a unique entry of tokenizer.tokens")
    return ids


# ---------------------------------------------------------------------------
# Foreign fixtures
# ---------------------------------------------------------------------------

def _w(rng, shape, scale):
    return rng.standard_normal(shape) * scale


def _attention_model(rng, vocab, dim, n_layers, n_heads, n_kv_heads=None, head_dim=None, wo="auto",
                     pos_len=None, causal=None, tokens=None, write_defaults=True, embed_scale=1.0,
                     proj_gain=1.2, extra_meta=None):
    """Random attention model; wo = 'auto' (only when needed) | 'all' | 'none' | list of layers."""
    G = n_kv_heads or n_heads
    hd = head_dim or dim // n_heads
    meta = {"qkv.architecture": "attention", "qkv.vocab_size": vocab, "qkv.dim": dim,
            "qkv.n_layers": n_layers, "qkv.n_heads": n_heads}
    if write_defaults or n_kv_heads is not None:
        meta["qkv.n_kv_heads"] = G
    if write_defaults or head_dim is not None:
        meta["qkv.head_dim"] = hd
    if pos_len:
        meta["qkv.max_seq_len"] = pos_len
    if causal is not None:
        meta["qkv.causal"] = causal
    if tokens is not None:
        meta["tokenizer.tokens"] = tokens
    meta.update(extra_meta or {})
    ten = {"embed": _w(rng, (vocab, dim), embed_scale)}
    if pos_len:
        ten["pos"] = _w(rng, (pos_len, dim), 0.5 * embed_scale)
    s = proj_gain / math.sqrt(dim)
    for i in range(n_layers):
        ten[f"layers.{i}.wq"] = _w(rng, (dim, n_heads * hd), s)
        ten[f"layers.{i}.wk"] = _w(rng, (dim, G * hd), s)
        ten[f"layers.{i}.wv"] = _w(rng, (dim, G * hd), s)
        need = n_heads * hd != dim
        has = (wo == "all" or need or (isinstance(wo, list) and i in wo))
        if wo == "none" and need:
            raise ValueError("wo is required here")
        if has:
            ten[f"layers.{i}.wo"] = _w(rng, (n_heads * hd, dim), 1.0 / math.sqrt(n_heads * hd))
    return meta, ten


def foreign_specs():
    """Every kind of file the spec allows, each small and reproducible."""
    specs = []

    def add(name, seed, kinds, ids, builder, dtype="f32", encoding="raw", wrap=None, order=None):
        rng = np.random.default_rng(seed)
        meta, ten = builder(rng)
        if order is not None:
            ten = {k: ten[k] for k in order(list(ten))}
        specs.append(dict(name=name, kinds=kinds, tokens=ids, metadata=meta, tensors=ten,
                          dtype=dtype, encoding=encoding, wrap=wrap))

    add("f32_raw_defaults", 101,
        ["f32", "raw", "defaults for n_kv_heads/head_dim/causal", "no tokenizer", "no wo", "no pos",
         "non-causal", "repeated tokens"],
        [0, 3, 5, 1, 3, 2],
        lambda r: _attention_model(r, 6, 8, 1, 2, write_defaults=False))

    add("f16_zlib_causal_pos", 102,
        ["f16", "zlib", "causal", "pos", "T == max_seq_len", "tokenizer (UTF-8 tokens)", "no wo", "2 layers"],
        [1, 0, 7, 2, 2, 5, 6, 3],
        lambda r: _attention_model(r, 8, 8, 2, 2, pos_len=8, causal=1,
                                   tokens=["the", "cat", "sat", "on", "mat", "café", "日本", "<s>"]),
        dtype="f16", encoding="zlib")

    add("bf16_shuffle_gqa_wo", 103,
        ["bf16", "shuffle+zlib", "GQA 4/2", "wo", "tokenizer", "causal=0 explicit", "2 layers"],
        [9, 0, 4, 4, 7, 1, 2],
        lambda r: _attention_model(r, 10, 16, 2, 4, n_kv_heads=2, head_dim=4, wo="all", causal=0,
                                   tokens=[f"w{i}" for i in range(10)]),
        dtype="bf16", encoding="shuffle+zlib")

    def mixed(r):
        meta, ten = _attention_model(
            r, 12, 8, 3, 2, n_kv_heads=1, head_dim=6, pos_len=10, causal=1,
            tokens=["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"],
            extra_meta={"general.name": "mixed foreign model", "train.learning_rate": 0.0003,
                        "train.loss": ("f32[]", [2.5, 1.25, 0.875]), "train.tags": ["foreign", "qkvref"],
                        "train.note": "", "train.step": -7, "train.empty_tags": []})
        ten["layers.1.norm"] = r.standard_normal(8)
        ten["extra.scale"] = r.standard_normal(5)
        ten["extra.table"] = r.standard_normal((2, 1, 3, 2))
        ten["extra.cube"] = r.standard_normal((3, 2, 2))
        return meta, ten

    combos = [(d, e) for d in ("f32", "f16", "bf16") for e in ("raw", "zlib", "shuffle+zlib")]
    mixed_names = ["extra.table", "layers.2.wv", "embed", "layers.0.wq", "layers.0.wk", "layers.0.wv",
                   "layers.0.wo", "pos", "layers.1.wq", "layers.1.wk", "layers.1.wv", "layers.1.wo",
                   "layers.1.norm", "layers.2.wq", "layers.2.wk", "extra.scale", "layers.2.wo", "extra.cube"]
    add("mixed_mqa_headdim6", 104,
        ["all 9 dtype x encoding pairs in one file", "MQA (n_kv_heads=1)", "head_dim 6 > dim/n_heads",
         "wo required", "pos", "causal", "3 layers", "extra tensors (other, rank 1/3/4)",
         "non-architecture tensor inside a layer", "directory not in canonical order",
         "metadata of all 5 types incl. empty string and empty arrays"],
        [11, 0, 5, 5, 2, 9, 3, 10, 1],
        mixed,
        dtype={n: combos[k % 9][0] for k, n in enumerate(mixed_names)},
        encoding={n: combos[k % 9][1] for k, n in enumerate(mixed_names)},
        order=lambda names: mixed_names)

    add("gqa_headdim2_f32_zlib", 105,
        ["f32", "zlib", "GQA 4/2", "head_dim 2 < dim/n_heads", "wo required", "non-causal", "tokenizer"],
        [3, 1, 4, 1, 5, 9, 2, 6],
        lambda r: _attention_model(r, 10, 16, 1, 4, n_kv_heads=2, head_dim=2,
                                   tokens=[str(100 + i) for i in range(10)], proj_gain=2.0),
        dtype="f32", encoding="zlib")

    add("wrapped_zlib", 106,
        ["whole-file zlib", "f32 shuffle+zlib (4-byte shuffle) and f16 raw inside", "causal", "pos",
         "tokenizer", "no wo", "2 layers"],
        [0, 1, 2, 3, 4, 5, 6],
        lambda r: _attention_model(r, 7, 8, 2, 2, pos_len=7, causal=1,
                                   tokens=["x1", "x2", "x3", "x4", "x5", "x6", "x7"]),
        dtype={"embed": "f16", "layers.1.wk": "f16"},
        encoding={"embed": "raw", "layers.1.wk": "raw", "pos": "shuffle+zlib",
                  **{f"layers.{i}.{w}": "shuffle+zlib" for i in range(2) for w in ("wq", "wv")},
                  "layers.0.wk": "shuffle+zlib"},
        wrap="zlib")

    add("wrapped_gzip", 107,
        ["whole-file gzip", "bf16 raw and f16 zlib inside", "GQA 4/1", "head_dim explicit = dim/n_heads",
         "no wo", "no tokenizer", "2 layers"],
        [7, 7, 2, 0, 1],
        lambda r: _attention_model(r, 8, 8, 2, 4, n_kv_heads=1, head_dim=2, proj_gain=2.0),
        dtype={"embed": "bf16", "layers.0.wq": "bf16", "layers.0.wk": "f16", "layers.0.wv": "f16",
               "layers.1.wq": "f16", "layers.1.wk": "bf16", "layers.1.wv": "bf16"},
        encoding={"layers.0.wk": "zlib", "layers.0.wv": "zlib", "layers.1.wq": "zlib"},
        wrap="gzip")

    add("deep4_f16_shuffle_partial_wo", 108,
        ["f16", "shuffle+zlib", "4 layers", "wo in layers 0 and 2 only", "causal", "tokenizer"],
        [4, 2, 8, 2, 0, 11, 6],
        lambda r: _attention_model(r, 12, 16, 4, 4, n_kv_heads=4, head_dim=4, wo=[0, 2], causal=1,
                                   tokens=[f"t{i}" for i in range(12)], proj_gain=0.8),
        dtype="f16", encoding="shuffle+zlib")

    add("extreme_f32", 109,
        ["extreme-but-finite weights (embed ~1e4, logits ~1e8)", "f32", "raw", "causal", "wo", "2 layers"],
        [0, 1, 2, 3, 4, 5],
        lambda r: _attention_model(r, 6, 8, 2, 2, wo="all", causal=1, embed_scale=1e4))

    add("extreme_f16_zlib", 110,
        ["extreme-but-finite weights (f16 embed ~3e4, near f16 max)", "f16", "zlib", "non-causal", "pos"],
        [5, 4, 3, 2, 1, 0],
        lambda r: (lambda m, t: (m, {**t, "embed": np.clip(t["embed"], -65000, 65000)}))(
            *_attention_model(r, 6, 8, 1, 2, pos_len=6, embed_scale=3e4)),
        dtype="f16", encoding="zlib")

    add("extreme_bf16_gzip", 111,
        ["extreme-but-finite weights (bf16 embed ~1e15, logits ~1e30)", "bf16", "shuffle+zlib",
         "whole-file gzip", "GQA 2/1", "pos", "non-causal"],
        [2, 0, 1, 3],
        lambda r: _attention_model(r, 4, 8, 1, 2, n_kv_heads=1, pos_len=4, embed_scale=1e15),
        dtype="bf16", encoding="shuffle+zlib", wrap="gzip")

    add("tiny_dim1", 112,
        ["smallest shapes (dim 1, 1 head, head_dim 1)", "f32", "raw", "tokenizer with empty string"],
        [1, 0, 1],
        lambda r: _attention_model(r, 2, 1, 1, 1, tokens=["", "one"], proj_gain=1.5))
    return specs


def _perturbed(tensors, rng, rel):
    return {k: v * (1.0 + rel * rng.uniform(-1.0, 1.0, v.shape)) for k, v in tensors.items()}


def conditioning(metadata, tensors, ids):
    """Largest change of any score under (a) a Float32 forward pass and (b) weights
    perturbed by up to 2^-22 relative (a few Float32 roundings), to show a golden is
    not fragile for a Float32 reader that must match within 2e-5."""
    ref = attention_reference(metadata, tensors, ids)
    f32 = _forward(metadata, tensors, ids, np.float32)
    worst_f32 = max(float(np.max(np.abs(a - b.astype(np.float64)))) for a, b in zip(ref, f32))
    rng = np.random.default_rng(7)
    worst_p = 0.0
    for _ in range(3):
        p = attention_reference(metadata, _perturbed(tensors, rng, 2.0 ** -22), ids)
        worst_p = max(worst_p, max(float(np.max(np.abs(a - b))) for a, b in zip(ref, p)))
    return worst_f32, worst_p


def make_foreign(outdir):
    os.makedirs(outdir, exist_ok=True)
    manifest, total = [], 0
    for s in foreign_specs():
        path = os.path.join(outdir, s["name"] + ".qkv")
        size = write_qkv(path, s["metadata"], s["tensors"], s["dtype"], s["encoding"], s["wrap"])
        # Goldens come from reading the file back, so they use the values actually stored.
        meta, tensors, info = read_qkv(path)
        for k, v in s["tensors"].items():
            want = quantize(v, _pick(s["dtype"], k, "f32"))
            if not np.array_equal(tensors[k], want):
                raise AssertionError(f"{s['name']}: tensor {k} did not round-trip")
        att = attention_json(meta, tensors, s["tokens"])
        ins = inspect_json(meta, info)
        f32_dev, pert_dev = conditioning(meta, tensors, s["tokens"])
        if f32_dev > 2e-6 or pert_dev > 4e-6:
            raise AssertionError(f"{s['name']}: golden too sensitive (float32 {f32_dev:.2e}, "
                                 f"perturbed {pert_dev:.2e})")
        for suffix, obj in (("attention", att), ("inspect", ins)):
            p = os.path.join(outdir, f"{s['name']}.{suffix}.json")
            with open(p, "w", encoding="utf-8") as f:
                json.dump(obj, f, ensure_ascii=False)
                f.write("\n")
            total += os.path.getsize(p)
        total += size
        manifest.append({"file": s["name"] + ".qkv", "bytes": size, "compression": info["compression"],
                         "kinds": s["kinds"], "tokens": s["tokens"],
                         "dtypes": sorted({t["dtype"] for t in info["tensors"]}),
                         "encodings": sorted({t["encoding"] for t in info["tensors"]}),
                         "float32_max_deviation": f32_dev, "perturbation_max_deviation": pert_dev})
        print(f"{s['name']:32s} {size:6d} bytes  {info['compression']:4s}  "
              f"params {ins['total_parameters']:5d}  f32 dev {f32_dev:.1e}  perturb dev {pert_dev:.1e}")
    with open(os.path.join(outdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "python3 scripts/qkvref.py make-foreign fixtures/foreign",
                   "tolerance_note": "scores are float64; a Float32 reader should match within 2e-5",
                   "files": manifest}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    total += os.path.getsize(os.path.join(outdir, "manifest.json"))
    print(f"total {total} bytes in {outdir}")
    if total >= 300_000:
        raise AssertionError(f"foreign set is {total} bytes, over the 300 KB budget")


# ---------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------

def selftest(verbose=False):
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    # Codec unit checks.
    raw = bytes(range(12))
    check(shuffle_bytes(raw, 4) == bytes([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]), "shuffle formula")
    check(unshuffle_bytes(shuffle_bytes(raw, 2), 2) == raw, "unshuffle inverts shuffle")
    check(encode_elements([1.0, -2.0], "bf16") == bytes([0x80, 0x3F, 0x00, 0xC0]), "bf16 encoding")
    check(encode_elements([1.0], "f16") == bytes([0x00, 0x3C]), "f16 encoding")
    check(decode_elements(bytes([0x01, 0x00]), 1)[0] == 2.0 ** -24, "f16 subnormal decodes exactly")
    check(decode_elements(bytes([0x81, 0x3F]), 2)[0] == 1.0078125, "bf16 decodes exactly")
    check(_f64_to_bf16_bits([1.0 + 2 ** -8])[0] == 0x3F80, "bf16 ties round to even")
    check(_f64_to_bf16_bits([1.0 + 3 * 2 ** -8])[0] == 0x3F82, "bf16 ties round to even (odd)")

    # Round trips of every foreign kind, plus the loop cross-check of the forward pass.
    for s in foreign_specs():
        data = encode_qkv(s["metadata"], s["tensors"], s["dtype"], s["encoding"], s["wrap"])
        meta, ten, info = decode_qkv(data)
        check(info["compression"] == (s["wrap"] or "none"), f"{s['name']}: compression detected")
        check(list(ten) == list(s["tensors"]), f"{s['name']}: tensor order")
        for k, v in s["tensors"].items():
            check(np.array_equal(ten[k], quantize(v, _pick(s["dtype"], k, "f32"))), f"{s['name']}: {k} values")
        for k, v in s["metadata"].items():
            got = meta[k]
            if isinstance(v, tuple):
                check(np.array_equal(got, np.asarray(v[1], dtype=np.float32)), f"{s['name']}: meta {k}")
            else:
                check(got == v and type(got) is type(v), f"{s['name']}: meta {k}")
        ref = attention_reference(meta, ten, s["tokens"])
        loops = attention_loops(meta, ten, s["tokens"])
        dev = max(float(np.max(np.abs(a - b))) for a, b in zip(ref, loops))
        check(dev < 1e-12, f"{s['name']}: numpy vs loops forward pass differ by {dev:.2e}")
        for A in ref:
            check(np.allclose(A.sum(axis=2), 1.0, rtol=0, atol=1e-12), f"{s['name']}: rows sum to 1")
            if meta.get("qkv.causal") == 1:
                check(np.all(np.triu(A, 1) == 0), f"{s['name']}: causal mask")

    # Corruptions: each must raise QKVError.
    base_meta, base_ten = _attention_model(np.random.default_rng(1), 4, 4, 1, 2, causal=1, pos_len=4,
                                           tokens=["a", "b", "c", "d"])

    def base_plan(enc="raw", dtype="f32"):
        return plan_qkv(base_meta, base_ten, dtype, enc)

    def expect_error(what, data, needle=None, arch_tokens=None):
        try:
            meta, ten, _ = decode_qkv(data)
            if arch_tokens is not None:
                attention_reference(meta, ten, arch_tokens)
        except QKVError as e:
            if verbose:
                print(f"  {what:32s} -> {e}")
            if needle and needle not in str(e):
                failures.append(f"corruption '{what}': error {e!s} lacks {needle!r}")
            return
        failures.append(f"corruption '{what}' was accepted")

    good = assemble_qkv(base_plan())
    check(decode_qkv(good)[2]["compression"] == "none", "base file reads")

    def mutate(fn, enc="raw", dtype="f32"):
        p = base_plan(enc, dtype)
        fn(p)
        return assemble_qkv(p)

    b = bytearray(good); b[0:4] = b"QKVD"
    expect_error("bad magic", bytes(b), "magic")
    expect_error("version 2", mutate(lambda p: p.update(version=2)), "version")
    expect_error("preamble reserved", mutate(lambda p: p.update(reserved=1)), "reserved")
    b = bytearray(good); b[40] ^= 0x01
    expect_error("header byte flipped", bytes(b), "header_crc32")
    expect_error("header_bytes past end", mutate(lambda p: p.update(header_bytes=10 ** 6)), "header_bytes")
    expect_error("header_bytes too small", mutate(lambda p: p.update(header_bytes=len(b"".join(p["meta"])))))
    expect_error("meta_count too large", mutate(lambda p: p.update(meta_count=len(p["meta"]) + 1)))
    expect_error("tensor_count 10^9", mutate(lambda p: p.update(tensor_count=10 ** 9)))
    expect_error("tensor reserved", mutate(lambda p: p["tensors"][0].update(reserved=3)), "reserved")
    expect_error("unknown dtype", mutate(lambda p: p["tensors"][0].update(dtype=3)), "dtype")
    expect_error("unknown encoding", mutate(lambda p: p["tensors"][0].update(encoding=3)), "encoding")
    expect_error("rank 0", mutate(lambda p: p["tensors"][0].update(dims=[], rank=0)), "rank")
    expect_error("rank 5", mutate(lambda p: p["tensors"][0].update(dims=[1, 1, 1, 1, 16], rank=5)), "rank")
    expect_error("zero dim", mutate(lambda p: p["tensors"][0].update(dims=[0, 4])), "dim")
    expect_error("dims overflow", mutate(lambda p: p["tensors"][0].update(dims=[2 ** 63, 2 ** 62])), "overflow")
    expect_error("duplicate name", mutate(lambda p: p["tensors"][1].update(name="embed")), "duplicate")
    expect_error("empty name", mutate(lambda p: p["tensors"][1].update(name=b"")), "empty")
    expect_error("non-UTF-8 name", mutate(lambda p: p["tensors"][1].update(name=b"\xff\xfe")), "UTF-8")
    expect_error("NUL in name", mutate(lambda p: p["tensors"][1].update(name=b"po\x00s")), "NUL")
    expect_error("duplicate key", mutate(lambda p: p["meta"].append(_meta_entry("qkv.dim", 4))), "duplicate")
    expect_error("empty key", mutate(lambda p: p["meta"].append(_meta_entry("", 4))), "empty")
    expect_error("unknown meta type", mutate(lambda p: p["meta"].append(_meta_entry("x", (9, b"")))), "type")
    expect_error("string array count huge",
                 mutate(lambda p: p["meta"].append(_meta_entry("x", (4, struct.pack("<I", 2 ** 31))))), "count")
    expect_error("misaligned offset", mutate(lambda p: p["tensors"][1].update(offset=65)), "offset")
    expect_error("gap", mutate(lambda p: p["tensors"][1].update(offset=128)), "offset")
    expect_error("overlap", mutate(lambda p: p["tensors"][2].update(offset=0)), "offset")
    expect_error("raw stored_bytes wrong", mutate(lambda p: p["tensors"][0].update(stored=60)), "stored_bytes")
    expect_error("trailing byte", good + b"\x00", "file length")
    expect_error("truncated", good[:-1])
    b = bytearray(good); b[align_up(32 + struct.unpack("<Q", good[16:24])[0]) - 1] = 1
    expect_error("nonzero header padding", bytes(b), "padding")
    b = bytearray(good); b[-1] ^= 0x40
    expect_error("payload flipped (CRC)", bytes(b), "crc32")
    expect_error("crc field wrong", mutate(lambda p: p["tensors"][0].update(crc=p["tensors"][0]["crc"] ^ 1)), "crc32")
    zgood = assemble_qkv(base_plan("zlib"))
    first = decode_qkv(zgood)[2]
    pad_at = first["data_start"] + first["tensors"][0]["stored_bytes"]
    check(first["tensors"][0]["stored_bytes"] % ALIGNMENT != 0, "zlib base file has tensor padding")
    b = bytearray(zgood); b[pad_at] = 0xAA
    expect_error("nonzero tensor padding", bytes(b), "padding")
    expect_error("zlib junk after stream",
                 mutate(lambda p: p["tensors"][0].update(payload=p["tensors"][0]["payload"] + b"\x00"), "zlib"),
                 "junk")
    expect_error("zlib truncated",
                 mutate(lambda p: p["tensors"][0].update(payload=p["tensors"][0]["payload"][:-6]), "zlib"),
                 "truncated")
    expect_error("zlib inflates short", mutate(lambda p: p["tensors"][0].update(
        payload=zlib.compress(b"\x00" * 60)), "zlib"), "inflates")
    expect_error("zlib inflates long", mutate(lambda p: p["tensors"][0].update(
        payload=zlib.compress(b"\x00" * 65)), "zlib"), "more than")
    expect_error("zlib corrupt", mutate(lambda p: p["tensors"][0].update(
        payload=b"\x78\x9c\xff\xff\xff\xff\xff\xff"), "zlib"), "corrupt")
    expect_error("1032x bound", mutate(lambda p: p["tensors"][0].update(
        dims=[1 << 20, 1 << 10], payload=zlib.compress(b"\x00" * 64)), "zlib"), "1032")
    expect_error("shuffle CRC (not unshuffled)", mutate(lambda p: p["tensors"][0].update(
        crc=zlib.crc32(shuffle_bytes(encode_elements(base_ten["embed"], "f32"), 4))), "shuffle+zlib"), "crc32")

    gz, zl = wrap_bytes(good, "gzip"), wrap_bytes(good, "zlib")
    check(decode_qkv(gz)[2]["compression"] == "gzip", "gzip wrapper reads")
    check(decode_qkv(zl)[2]["compression"] == "zlib", "zlib wrapper reads")
    expect_error("gzip truncated", gz[:-3])
    expect_error("gzip trailer crc wrong", gz[:-8] + bytes([gz[-8] ^ 1]) + gz[-7:])
    expect_error("gzip trailing junk", gz + b"junk")
    expect_error("gzip second member", gz + gz)
    expect_error("zlib wrapper adler wrong", zl[:-1] + bytes([zl[-1] ^ 1]))
    expect_error("zlib wrapper inflates long", wrap_bytes(good + b"\x00" * 64, "zlib"), "more than")
    expect_error("zlib wrapper inflates short", wrap_bytes(good[:-4], "zlib"))
    expect_error("zlib wrapper of a wrapper", wrap_bytes(zl, "zlib"), "magic")
    # The inner header claims a 1 GiB raw tensor while the wrapper is a few hundred bytes:
    # rejected from the header alone, before inflating (or allocating) the payload.
    expect_error("wrapper ratio bomb", wrap_bytes(assemble_qkv(dict(
        magic=MAGIC, version=1, reserved=0, meta=[],
        tensors=[dict(name="z", dtype=0, encoding=0, dims=[1 << 28], reserved=0,
                      payload=b"\x00" * 64, stored=1 << 30, crc=0)])), "zlib"), "1032")
    expect_error("not a qkv file", b"hello world", "magic")
    expect_error("empty file", b"", "magic")

    # Architecture checks (file is valid, model is not).
    def arch(what, meta_patch=None, drop=None, ten_patch=None, tokens=(0, 1, 2), needle=None):
        m = dict(base_meta); m.update(meta_patch or {})
        for k in [k for k, v in m.items() if v is None]:
            del m[k]
        t = {k: v for k, v in base_ten.items() if k != drop}
        t.update(ten_patch or {})
        expect_error(what, encode_qkv(m, t), needle, arch_tokens=list(tokens))

    arch("missing vocab_size", {"qkv.vocab_size": None}, needle="vocab_size")
    arch("vocab_size as f64", {"qkv.vocab_size": 4.0}, needle="i64")
    arch("architecture unknown", {"qkv.architecture": "bert2"}, needle="architecture")
    arch("heads not dividing", {"qkv.n_kv_heads": 3}, needle="n_kv_heads")
    arch("embed rows != vocab", {"qkv.vocab_size": 5, "tokenizer.tokens": list("abcde")}, needle="embed")
    arch("tokenizer size", {"tokenizer.tokens": ["a", "b"]}, needle="tokenizer")
    arch("layer count not backed", {"qkv.n_layers": 2}, needle="layers.1")
    arch("stray layer", ten_patch={"layers.3.x": np.ones(2)}, needle="layer 3")
    arch("wo needed", {"qkv.head_dim": 3}, ten_patch={"layers.0.wq": np.ones((4, 6)),
                                                      "layers.0.wk": np.ones((4, 6)),
                                                      "layers.0.wv": np.ones((4, 6))}, needle="wo")
    arch("pos without max_seq_len", {"qkv.max_seq_len": None}, needle="max_seq_len")
    arch("causal 2", {"qkv.causal": 2}, needle="causal")
    arch("token out of range", tokens=(0, 4), needle="token")
    arch("negative token", tokens=(-1,), needle="token")
    arch("too many tokens for pos", tokens=(0, 1, 2, 3, 0), needle="max_seq_len")
    arch("no tokens", tokens=(), needle="empty")

    # Huge-but-finite logits stay finite; overflow to infinity is reported, never printed.
    m, t = _attention_model(np.random.default_rng(3), 4, 4, 1, 1, embed_scale=1e4)
    A = attention_reference(m, t, [0, 1, 2])[0]
    check(np.all(np.isfinite(A)) and np.allclose(A.sum(axis=-1), 1.0), "extreme logits stay finite")
    try:
        attention_reference(m, {**t, "embed": t["embed"] * 1e300}, [0, 1])
        failures.append("overflowing forward pass was accepted")
    except QKVError:
        pass

    if failures:
        print("SELFTEST FAILED:")
        for f in failures:
            print("  -", f)
        return 1
    print("selftest: all checks passed")
    return 0


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Independent float64 reference for QKV v1 files.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("attention", help="post-softmax attention as JSON (like `qkv run --format json`)")
    a.add_argument("file")
    a.add_argument("--tokens", required=True, help="comma/space separated ids or tokenizer strings")
    i = sub.add_parser("inspect", help="parameter counts as JSON")
    i.add_argument("file")
    m = sub.add_parser("make-foreign", help="write foreign files and float64 goldens")
    m.add_argument("outdir")
    t = sub.add_parser("selftest", help="round trips and corruption checks")
    t.add_argument("--verbose", action="store_true", help="print the error each corruption raises")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "attention":
            meta, ten, _ = read_qkv(args.file)
            ids = parse_tokens(meta, args.tokens)
            print(json.dumps(attention_json(meta, ten, ids), ensure_ascii=False))
        elif args.cmd == "inspect":
            meta, _, info = read_qkv(args.file)
            print(json.dumps(inspect_json(meta, info), ensure_ascii=False))
        elif args.cmd == "make-foreign":
            make_foreign(args.outdir)
        else:
            return selftest(args.verbose)
    except (QKVError, OSError) as e:
        print(f"qkvref: {getattr(args, 'file', '')}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
