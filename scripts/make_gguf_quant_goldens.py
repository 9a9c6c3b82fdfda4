#!/usr/bin/env python3
"""Goldens for qkv's ggml dequantization kernels (Sources/CKernels/quants*.c), made by gguf-py.

    python3 scripts/make_gguf_quant_goldens.py [--out fixtures/gguf/quants] [--keep-models DIR]

Writes, for every type qkv dequantizes, `TYPE.blocks` (raw ggml blocks, concatenated) and
`TYPE.f32` (gguf-py's float32 results, little-endian), plus `manifest.json` describing every case
(see scripts/README.md). Expected values always come from `gguf.quants.dequantize`, never from
qkv. Blocks come from three sources:

- random bytes with sane f16 scale fields;
- hand-made edge blocks: NaN (quiet, signaling, negative, with payloads), ±inf, subnormal, ±0,
  ±65504 scales, every byte field all 0x00 or 0xFF, sub-scales at their extremes;
- llama.cpp: a tiny random llama-architecture GGUF (write_tiny_llama_gguf, reusable) quantized
  by llama-cpp-python's llama_model_quantize to Q4_0 ... IQ4_XS and read back with GGUFReader.

Large cases (all 65536 f16 and bf16 patterns; whole llama.cpp tensors) store a CRC-32 of each
chunk of expected floats instead of the floats. Needs numpy, gguf (0.19.0) and llama-cpp-python
(0.3.36); not run in CI.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

SEED = 20240611
SIZE_LIMIT = 400_000  # bytes for the whole fixture directory

# MARK: - Block layouts
#
# Fields of each block type in order: (name, size in bytes, kind), kind "f16" for half-float scale
# fields, "bytes" for everything else. Offsets follow from the order (ggml-common.h).

LAYOUTS: dict[T, list[tuple[str, int, str]]] = {
    T.Q4_0: [("d", 2, "f16"), ("qs", 16, "bytes")],
    T.Q4_1: [("d", 2, "f16"), ("m", 2, "f16"), ("qs", 16, "bytes")],
    T.Q5_0: [("d", 2, "f16"), ("qh", 4, "bytes"), ("qs", 16, "bytes")],
    T.Q5_1: [("d", 2, "f16"), ("m", 2, "f16"), ("qh", 4, "bytes"), ("qs", 16, "bytes")],
    T.Q8_0: [("d", 2, "f16"), ("qs", 32, "bytes")],
    T.Q2_K: [("scales", 16, "bytes"), ("qs", 64, "bytes"), ("d", 2, "f16"), ("dmin", 2, "f16")],
    T.Q3_K: [("hmask", 32, "bytes"), ("qs", 64, "bytes"), ("scales", 12, "bytes"), ("d", 2, "f16")],
    T.Q4_K: [("d", 2, "f16"), ("dmin", 2, "f16"), ("scales", 12, "bytes"), ("qs", 128, "bytes")],
    T.Q5_K: [("d", 2, "f16"), ("dmin", 2, "f16"), ("scales", 12, "bytes"), ("qh", 32, "bytes"), ("qs", 128, "bytes")],
    T.Q6_K: [("ql", 128, "bytes"), ("qh", 64, "bytes"), ("scales", 16, "bytes"), ("d", 2, "f16")],
    T.IQ4_NL: [("d", 2, "f16"), ("qs", 16, "bytes")],
    T.IQ4_XS: [("d", 2, "f16"), ("scales_h", 2, "bytes"), ("scales_l", 4, "bytes"), ("qs", 128, "bytes")],
}
ELEMENT_TYPES = [T.F32, T.F16, T.BF16]
BLOCK_TYPES = list(LAYOUTS)

for _t, _fields in LAYOUTS.items():
    assert sum(size for _, size, _ in _fields) == gguf.GGML_QUANT_SIZES[_t][1], _t


def field_offsets(qtype: T) -> dict[str, tuple[int, int, str]]:
    out, offset = {}, 0
    for name, size, kind in LAYOUTS[qtype]:
        out[name] = (offset, size, kind)
        offset += size
    return out


# f16 bit patterns for scale edge cases.
F16_SPECIALS = {
    "qnan": 0x7E01, "snan": 0x7C01, "neg_qnan_payload": 0xFE2A, "neg_snan_payload": 0xFC3F,
    "inf": 0x7C00, "neg_inf": 0xFC00, "min_subnormal": 0x0001, "max_subnormal": 0x03FF,
    "neg_subnormal": 0x8155, "zero": 0x0000, "neg_zero": 0x8000, "max": 0x7BFF, "neg_max": 0xFBFF,
    "min_normal": 0x0400, "one": 0x3C00, "neg_half": 0xB800,
}
# A smaller set for a block's second scale (m or dmin).
F16_SECOND = ["qnan", "snan", "inf", "zero"]
# (first, second) scale pairs: which NaN wins, inf − inf, 0 · inf, both tiny.
F16_PAIRS = [
    ("qnan", "neg_qnan_payload"), ("snan", "qnan"), ("qnan", "snan"), ("inf", "qnan"), ("qnan", "inf"),
    ("inf", "inf"), ("zero", "snan"), ("min_subnormal", "max_subnormal"), ("neg_subnormal", "zero"),
]


def sane_f16(rng: np.random.Generator, count: int) -> np.ndarray:
    """Normal f16 values of either sign, magnitudes 2^-14 ... 2^1 (like real scales)."""
    mag = np.exp2(rng.uniform(-14, 1, count))
    sign = np.where(rng.random(count) < 0.5, -1.0, 1.0)
    return (sign * mag).astype(np.float16).view(np.uint16)


def set_f16(block: np.ndarray, qtype: T, field: str, bits: int) -> None:
    offset, _, _ = field_offsets(qtype)[field]
    block[offset:offset + 2] = np.array([bits], dtype="<u2").view(np.uint8)


def random_blocks(qtype: T, count: int, rng: np.random.Generator) -> np.ndarray:
    """Random bytes, with every f16 field a sane random scale."""
    size = gguf.GGML_QUANT_SIZES[qtype][1]
    blocks = rng.integers(0, 256, (count, size), dtype=np.uint8)
    for name, (offset, _, kind) in field_offsets(qtype).items():
        if kind == "f16":
            blocks[:, offset:offset + 2] = sane_f16(rng, count).astype("<u2").view(np.uint8).reshape(count, 2)
    return blocks


def quartered(qtype: T, rng: np.random.Generator) -> np.ndarray:
    """Random block whose byte fields start with a quarter of 0x00 and end with a quarter of 0xFF:
    zero and maximal quants and sub-scales (0 · inf, extreme signed scales) next to random ones."""
    block = random_blocks(qtype, 1, rng)[0]
    for name, (offset, size, kind) in field_offsets(qtype).items():
        if kind == "bytes":
            quarter = max(1, size // 4)
            block[offset:offset + quarter] = 0
            block[offset + size - quarter:offset + size] = 0xFF
    return block


def edge_blocks(qtype: T, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    fields = field_offsets(qtype)
    scales = [name for name, (_, _, kind) in fields.items() if kind == "f16"]
    first, second = scales[0] if len(scales) == 1 else "d", (scales[1] if len(scales) == 2 else None)
    blocks, labels = [], []

    def add(block: np.ndarray, label: str) -> None:
        blocks.append(block.copy())
        labels.append(label)

    small = gguf.GGML_QUANT_SIZES[qtype][0] == 32
    for special, bits in F16_SPECIALS.items():
        if not small and special in ("min_normal", "neg_half"):  # size: plain normal values, as random blocks
            continue
        block = quartered(qtype, rng)
        set_f16(block, qtype, first, bits)
        add(block, f"{first}={special} quartered")
    if second:
        for special in F16_SECOND:
            block = quartered(qtype, rng)
            set_f16(block, qtype, second, F16_SPECIALS[special])
            add(block, f"{second}={special} quartered")
        for a, b in F16_PAIRS:
            block = quartered(qtype, rng)
            set_f16(block, qtype, first, F16_SPECIALS[a])
            set_f16(block, qtype, second, F16_SPECIALS[b])
            add(block, f"{first}={a} {second}={b} quartered")
    for pattern in ["zeros", "ones"]:  # every byte field at its extreme, normal scales
        block = random_blocks(qtype, 1, rng)[0]
        for name, (offset, size, kind) in fields.items():
            if kind == "bytes":
                block[offset:offset + size] = 0 if pattern == "zeros" else 0xFF
        add(block, f"sane scales, byte fields all {pattern}")
    if qtype in (T.IQ4_NL, T.IQ4_XS):  # every level index in every nibble position (IQ4_XS: of a sub-block)
        for shift in range(16 if qtype == T.IQ4_NL else 2):
            block = random_blocks(qtype, 1, rng)[0]
            offset, size, _ = fields["qs"]
            j = np.arange(size)
            block[offset:offset + size] = ((j + shift) % 16) | (((j + shift + 7) % 16) << 4)
            add(block, f"index ramp {shift}")
    return np.stack(blocks), labels


# MARK: - gguf-py

def dequantize(raw: np.ndarray, qtype: T) -> np.ndarray:
    """gguf-py's float32 result for raw bytes (blocks as rows), flattened."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN/inf arithmetic is the point
        if qtype == T.F32:
            out = quants.dequantize(raw.reshape(-1).view(np.float32), qtype)
        elif qtype == T.F16:
            out = quants.dequantize(raw.reshape(-1).view(np.float16), qtype)
        else:
            out = quants.dequantize(raw.reshape(raw.shape[0], -1), qtype)
    out = np.ascontiguousarray(out, dtype=np.float32).reshape(-1)
    return out


def per_block_differences(raw: np.ndarray, qtype: T, batched: np.ndarray) -> int:
    """Elements where dequantizing each block alone gives other bits than the batched call.

    NumPy computes (d * qs) + m with the operands swapped when it broadcasts a single block, so
    with both terms NaN a lone Q4_1/Q5_1 block keeps m's payload, a batch d·q's. The goldens are
    batched calls (any real tensor has more than one block); this counts where that matters."""
    if qtype in ELEMENT_TYPES:
        return 0
    alone = np.concatenate([dequantize(raw[i:i + 1], qtype) for i in range(raw.shape[0])])
    return int(np.count_nonzero(alone.view(np.uint32) != batched.view(np.uint32)))


# MARK: - Tiny llama model (reusable)

def write_tiny_llama_gguf(path: str | os.PathLike, *, n_embd: int = 256, n_ff: int = 512, n_layer: int = 2,
                          n_head: int = 8, n_head_kv: int = 1, context_length: int = 128, seed: int = 0,
                          std: float = 0.02) -> dict[str, np.ndarray]:
    """Writes a small llama-architecture GGUF with float32 weights and returns them by GGUF name.

    Weights are seeded normal draws, each 32-column group scaled by exp(N(0, 0.5)) so quantizers
    see varied sub-block ranges; norms are ones. Shapes are PyTorch order ([rows, n_embd]; ne[0] is
    the row length), Q/K rows not permuted (random anyway). The SentencePiece vocabulary (<unk>,
    <s>, </s>, the 256 byte tokens, a few words) is enough for llama.cpp to load the file.
    Row lengths n_embd and n_ff should be multiples of 256 for the K-quants to apply."""
    rng = np.random.default_rng(seed)
    head_dim = n_embd // n_head
    words = ["▁the", "▁a", "▁of", "▁and", "▁to", "▁in", "▁is", "▁it", "▁that", "▁qkv"]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + words
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256 \
        + [gguf.TokenType.NORMAL] * len(words)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i + 1) for i in range(len(words))]
    n_vocab = len(tokens)

    def weight(rows: int, cols: int) -> np.ndarray:
        w = rng.normal(0.0, std, (rows, cols))
        w *= np.exp(rng.normal(0.0, 0.5, (rows, cols // 32, 1))).repeat(32, axis=2).reshape(rows, cols)
        return w.astype(np.float32)

    tensors: dict[str, np.ndarray] = {"token_embd.weight": weight(n_vocab, n_embd)}
    for i in range(n_layer):
        p = f"blk.{i}."
        tensors[p + "attn_norm.weight"] = np.ones(n_embd, dtype=np.float32)
        tensors[p + "attn_q.weight"] = weight(n_head * head_dim, n_embd)
        tensors[p + "attn_k.weight"] = weight(n_head_kv * head_dim, n_embd)
        tensors[p + "attn_v.weight"] = weight(n_head_kv * head_dim, n_embd)
        tensors[p + "attn_output.weight"] = weight(n_embd, n_head * head_dim)
        tensors[p + "ffn_norm.weight"] = np.ones(n_embd, dtype=np.float32)
        tensors[p + "ffn_gate.weight"] = weight(n_ff, n_embd)
        tensors[p + "ffn_up.weight"] = weight(n_ff, n_embd)
        tensors[p + "ffn_down.weight"] = weight(n_embd, n_ff)
    tensors["output_norm.weight"] = np.ones(n_embd, dtype=np.float32)
    tensors["output.weight"] = weight(n_vocab, n_embd)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return tensors


# llama.cpp file types to quantize to (llama_ftype names without LLAMA_FTYPE_MOSTLY_).
LLAMA_FTYPES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"]


_log_callback = None


def quiet_llama_logs() -> None:
    """Silences llama.cpp's per-tensor log lines (errors still come back as a status)."""
    global _log_callback
    import llama_cpp

    if _log_callback is None:
        _log_callback = llama_cpp.llama_log_callback(lambda level, text, user: None)
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


def llama_quantize(src: str, dst: str, ftype_name: str) -> str | None:
    """Quantizes with llama.cpp (no imatrix). Returns None, or why llama.cpp refused."""
    import llama_cpp

    quiet_llama_logs()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + ftype_name)
    params.nthread = 1
    status = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if status != 0 or not os.path.exists(dst):
        return f"llama_model_quantize returned {status}"
    return None


# MARK: - Fixture writer

class Fixtures:
    def __init__(self) -> None:
        self.blocks: dict[str, list[np.ndarray]] = {}
        self.expected: dict[str, list[np.ndarray]] = {}
        self.block_counts: dict[str, int] = {}
        self.float_counts: dict[str, int] = {}
        self.cases: list[dict] = []

    def add(self, qtype: T, name: str, source: str, raw: np.ndarray, expected: np.ndarray, *,
            labels: list[str] | None = None, crc_chunk: int | None = None, store_blocks: bool = True) -> None:
        key = qtype.name
        n_blocks = raw.shape[0]
        case = {"type": key, "name": name, "source": source, "blocks": n_blocks}
        if store_blocks:
            case["first_block"] = self.block_counts.get(key, 0)
            self.blocks.setdefault(key, []).append(raw.reshape(n_blocks, -1))
            self.block_counts[key] = case["first_block"] + n_blocks
        if crc_chunk is None:
            case["expected_first"] = self.float_counts.get(key, 0)
            self.expected.setdefault(key, []).append(expected)
            self.float_counts[key] = case["expected_first"] + expected.size
        else:
            assert expected.size % crc_chunk == 0
            case["crc32_chunk"] = crc_chunk
            case["crc32"] = [zlib.crc32(c.astype("<f4").tobytes()) for c in expected.reshape(-1, crc_chunk)]
        if labels:
            case["labels"] = labels
        self.cases.append(case)

    def write(self, out: Path, extra: dict) -> int:
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*"):
            old.unlink()
        files = {}
        for key in sorted({case["type"] for case in self.cases}):
            entry = {"id": int(T[key]), "block_elements": gguf.GGML_QUANT_SIZES[T[key]][0],
                     "block_bytes": gguf.GGML_QUANT_SIZES[T[key]][1]}
            if key in self.blocks:
                (out / f"{key}.blocks").write_bytes(np.concatenate(self.blocks[key]).tobytes())
                entry["blocks_file"] = f"{key}.blocks"
            if key in self.expected:
                (out / f"{key}.f32").write_bytes(np.concatenate(self.expected[key]).astype("<f4").tobytes())
                entry["expected_file"] = f"{key}.f32"
            files[key] = entry
        manifest = {
            "about": "ggml dequantization goldens: expected float32 from gguf-py's gguf.quants.dequantize "
                     "(see scripts/README.md, scripts/make_gguf_quant_goldens.py)",
            "versions": {"gguf": gguf_version(), "numpy": np.__version__, "llama_cpp_python": llama_version(),
                         "python": sys.version.split()[0]},
            "types": files,
            "cases": self.cases,
            **extra,
        }
        text = json.dumps(manifest, indent=1)
        for ftype, info in extra.get("llama_cpp", {}).items():  # one line per file type
            text = text.replace(json.dumps(info, indent=1).replace("\n", "\n  "), json.dumps(info), 1)
        for case in self.cases:  # one line per case
            text = text.replace(json.dumps(case, indent=1).replace("\n", "\n  "), json.dumps(case), 1)
        (out / "manifest.json").write_text(text + "\n")
        return sum(p.stat().st_size for p in out.iterdir())


def gguf_version() -> str:
    from importlib.metadata import version
    return version("gguf")


def llama_version() -> str:
    from importlib.metadata import version
    return version("llama_cpp_python")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "fixtures/gguf/quants"))
    parser.add_argument("--keep-models", help="also keep the tiny f32 GGUF and its quantizations in this directory")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    fx = Fixtures()
    notes: dict[str, object] = {}

    # Element types: every f16/bf16 pattern (CRC per 1024 floats; the test generates the input),
    # and float32 patterns including signaling NaNs (full floats).
    every16 = np.arange(65536, dtype="<u2").view(np.uint8).reshape(65536, 2)
    for qtype in (T.F16, T.BF16):
        fx.add(qtype, "every pattern", "all 65536 16-bit patterns, little-endian, in increasing order",
               every16, dequantize(every16, qtype), crc_chunk=1024, store_blocks=False)
    f32_bits = np.concatenate([
        np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFBFFFFF, 0x7FA12345,
                  0x00000001, 0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000], dtype=np.uint32),
        rng.integers(0, 2**32, 241, dtype=np.uint64).astype(np.uint32)])
    f32_raw = f32_bits.astype("<u4").view(np.uint8).reshape(-1, 4)
    fx.add(T.F32, "bit patterns", "specials (signaling NaNs, infinities, subnormals) and random bits", f32_raw,
           dequantize(f32_raw, T.F32))

    # Block types: random and edge blocks.
    per_block_note = {}
    for qtype in BLOCK_TYPES:
        small = gguf.GGML_QUANT_SIZES[qtype][0] == 32
        raw = random_blocks(qtype, 24 if small else 2, rng)
        fx.add(qtype, "random", "random bytes, sane f16 scales", raw, dequantize(raw, qtype))
        raw, labels = edge_blocks(qtype, rng)
        expected = dequantize(raw, qtype)
        fx.add(qtype, "edge", "hand-made edge blocks (labels per block)", raw, expected, labels=labels)
        differing = per_block_differences(raw, qtype, expected)
        if differing:
            per_block_note[qtype.name] = differing

    notes["gguf_py_single_block_differences"] = {
        "about": "elements of the edge cases where gguf-py dequantizing each block alone differs from the batched "
                 "golden (NumPy swaps the operands of (d * qs) + m for a lone block, so with both NaN it keeps m's "
                 "payload); qkv follows the batched result",
        "elements": per_block_note,
    }

    # llama.cpp-quantized blocks.
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep_models) if args.keep_models else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        base = workdir / "tiny-llama-f32.gguf"
        write_tiny_llama_gguf(base, seed=SEED)
        llama_notes = {}
        smallest: dict[str, tuple[int, str, str, np.ndarray, np.ndarray]] = {}
        seen_slices: set[tuple[T, bytes]] = set()
        for ftype in LLAMA_FTYPES:
            dst = workdir / f"tiny-llama-{ftype}.gguf"
            refused = llama_quantize(str(base), str(dst), ftype)
            if refused:
                llama_notes[ftype] = {"refused": refused}
                continue
            reader = gguf.GGUFReader(str(dst))
            tensor_types = {}
            for tensor in reader.tensors:
                qtype = T(tensor.tensor_type)
                tensor_types[tensor.name] = qtype.name
                if qtype not in LAYOUTS:
                    continue
                elements, size = gguf.GGML_QUANT_SIZES[qtype]
                raw = np.asarray(tensor.data).view(np.uint8).reshape(-1, size)
                full = dequantize(np.asarray(tensor.data), qtype)  # the whole tensor, as a user would
                n = 16 if elements == 32 else 2
                key = (qtype, raw[:n].tobytes())
                if key not in seen_slices and sum(k[0] == qtype for k in seen_slices) < 2:
                    # the first blocks of a tensor, full floats: up to 2 distinct slices per block type
                    seen_slices.add(key)
                    fx.add(qtype, f"llama.cpp {ftype} {tensor.name} blocks 0-{n - 1}",
                           f"llama.cpp {llama_version()} quantization of write_tiny_llama_gguf(seed={SEED})",
                           raw[:n], full[:n * elements])
                if qtype.name not in smallest or raw.shape[0] < smallest[qtype.name][0]:
                    smallest[qtype.name] = (raw.shape[0], ftype, tensor.name, raw, full)
            llama_notes[ftype] = {"tensor_types": tensor_types}
        for key, (n, ftype, name, raw, full) in sorted(smallest.items()):
            fx.add(T[key], f"llama.cpp {ftype} {name} whole tensor",
                   f"llama.cpp {llama_version()} quantization of write_tiny_llama_gguf(seed={SEED})",
                   raw, full, crc_chunk=256)  # a CRC per 256 floats (a row of most tensors)
        notes["llama_cpp"] = llama_notes

    size = fx.write(Path(args.out), notes)
    print(f"wrote {len(fx.cases)} cases, {size} bytes, to {args.out}")
    for ftype, info in notes["llama_cpp"].items():
        if "refused" in info:
            print(f"  llama.cpp refused {ftype}: {info['refused']}")
        else:
            counts: dict[str, int] = {}
            for t in info["tensor_types"].values():
                counts[t] = counts.get(t, 0) + 1
            print(f"  {ftype}: {counts}")
    print("  per-block vs batched gguf-py differences:", per_block_note)
    if size > SIZE_LIMIT:
        sys.exit(f"fixtures are {size} bytes, over the {SIZE_LIMIT} limit")


if __name__ == "__main__":
    main()
