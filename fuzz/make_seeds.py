#!/usr/bin/env python3
"""Seeds for the fuzz targets, and the tiny models target config-json puts beside its inputs.

Writes fuzz/corpus/TARGET/* (the seed corpora, a few KB each) and fuzz/models/ARCH/* (config.json,
model.safetensors and tokenizer of a one-layer model of every Hugging Face architecture qkv runs),
from the fixtures: tiny models shrunk from fixtures/hf to width 8 and one layer, tokenizers shrunk
from fixtures/tokenizers to a few dozen tokens, GGUF and llama2.c models built here with the same
layouts as the fixtures, QKV files copied from fixtures/ and converted from the tiny models by the
qkv command line. Multi-file seeds are joined with the fuzz targets' separator (b"\\0\\0NEXT\\0\\0").

Deterministic, Python standard library only; run by hand after changing it (not in CI):

    python3 fuzz/make_seeds.py [--qkv PATH]

--qkv is the qkv executable for the QKV conversions and for checking that every seed model opens
(default .build/debug/qkv, built with `swift build --product qkv` when missing).
"""
import argparse
import gzip
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
MODELS = os.path.join(ROOT, "fuzz", "models")
SEPARATOR = b"\0\0NEXT\0\0"
TEXT = "Hello world, the cat sat. x1 x2 x3 t0 t1"


def join(*parts):
    return SEPARATOR.join(parts)


def read(*path):
    with open(os.path.join(FIXTURES, *path), "rb") as f:
        return f.read()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def seed(target, name, data):
    write(os.path.join(CORPUS, target, name), data)


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def pretty(obj):
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode()


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

def values(name, count, norm=False):
    """Deterministic values from the name: norms near 1, weights in (-0.5, 0.5)."""
    state = zlib.crc32(name.encode()) | 1
    out = []
    for _ in range(count):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        u = state / 0x7FFFFFFF - 0.5
        out.append(1 + 0.25 * u if norm else u)
    return out


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def f16(vals):
    return struct.pack("<%de" % len(vals), *vals)


def bf16(vals):
    return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in vals)


def encode(vals, dtype):
    return {"F32": f32, "F16": f16, "BF16": bf16}[dtype](vals)


def is_norm(name):
    return "norm" in name or "LayerNorm" in name or "ln_" in name


# ---------------------------------------------------------------------------
# Tokenizers, shrunk
# ---------------------------------------------------------------------------

def bytes_to_unicode():
    """GPT-2's byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def special_contents(tok):
    found = [a["content"] for a in tok.get("added_tokens", [])]
    post = tok.get("post_processor") or {}
    for key in ("cls", "sep"):
        if key in post:
            found.append(post[key][0])
    for name in (post.get("special_tokens") or {}):
        found.append(name)
    unk = tok["model"].get("unk_token")
    if unk:
        found.append(unk)
    return found


def shrink_tokenizer(tok, merges_kept=24):
    """The tokenizer with the tokens of its first merges (BPE) or of the seed text's words
    (WordPiece), the characters of the seed text, its special tokens, renumbered from 0."""
    tok = json.loads(json.dumps(tok))
    model = tok["model"]
    vocab = model["vocab"]
    keep = set(t for t in special_contents(tok) if t in vocab)
    text = TEXT
    if model["type"] == "BPE":
        pre = json.dumps(tok.get("pre_tokenizer"))
        if "ByteLevel" in pre:
            table = bytes_to_unicode()
            chars = set(table[b] for b in (" " + text).encode())
        else:
            chars = set(text.replace(" ", "")) | {"▁"}
        for c in chars:
            for form in (c, c.lower(), "##" + c, c + "</w>", "##" + c + "</w>"):
                if form in vocab:
                    keep.add(form)
        if model.get("byte_fallback"):
            keep.update(t for t in vocab if t.startswith("<0x") and int(t[3:5], 16) in b" .,Hx0123456789")
        merges = []
        for entry in model.get("merges", []):
            left, right = entry.split(" ", 1) if isinstance(entry, str) else entry
            if len(merges) >= merges_kept:
                break
            prefix = model.get("continuing_subword_prefix") or ""
            merged = left + (right[len(prefix):] if prefix and right.startswith(prefix) else right)
            if left in vocab and right in vocab and merged in vocab:
                keep.update((left, right, merged))
                merges.append(entry)
        model["merges"] = merges
    else:
        words = text.replace(",", " ,").replace(".", " .").split()
        for word in words:
            for form in (word, word.lower()):
                if form in vocab:
                    keep.add(form)
            for c in word:
                for form in (c, c.lower(), "##" + c, "##" + c.lower()):
                    if form in vocab:
                        keep.add(form)
    ordered = sorted(keep, key=lambda t: vocab[t])
    new_id = {t: i for i, t in enumerate(ordered)}
    model["vocab"] = {t: new_id[t] for t in ordered}
    # Added tokens outside the model vocabulary take the ids after it, as tokenizers assigns them.
    size = len(ordered)
    for entry in tok.get("added_tokens", []):
        if entry["content"] not in new_id:
            new_id[entry["content"]] = size
            size += 1
        entry["id"] = new_id[entry["content"]]
    post = tok.get("post_processor") or {}
    for key in ("cls", "sep"):
        if key in post:
            post[key][1] = new_id[post[key][0]]
    for name, special in (post.get("special_tokens") or {}).items():
        special["ids"] = [new_id[t] for t in special["tokens"]]
    return tok, size


def tokenizer_fixture(name):
    return json.loads(read("tokenizers", name, "tokenizer.json"))


def shrink_vocab_txt(data, keep_words):
    """The first 110 lines of a vocab.txt (specials and [unused] slots) and the seed text's words."""
    lines = data.decode("utf-8").splitlines(keepends=True)
    newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
    words = set(keep_words)
    kept = lines[:110] + [line for line in lines[110:] if line.strip() in words]
    return "".join(line.rstrip("\r\n") + newline for line in kept).encode()


# ---------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------

def safetensors_bytes(tensors, metadata=None):
    """tensors: [(name, dtype, shape, data bytes)], written sorted by name as save_pretrained does."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    data = b""
    for name, dtype, shape, payload in sorted(tensors):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(payload)]}
        data += payload
        offset += len(payload)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def read_safetensors(data):
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return header


# ---------------------------------------------------------------------------
# Tiny Hugging Face models: one layer, width 8
# ---------------------------------------------------------------------------

LAYER_MARKERS = (".layers.", ".h.", ".layer.", "layers.", "h.", "layer.")


def layer_of(name):
    for marker in LAYER_MARKERS:
        if marker in name:
            rest = name.split(marker, 1)[1]
            number = rest.split(".", 1)[0]
            if number.isdigit():
                return int(number)
    return None


# (fixture, tokenizer fixture or "vocab.txt", dtype, dimension map, config changes)
HF_MODELS = {
    "bert": ("tiny-bert", "minilm", "F32", {32: 8, 37: 12, 64: 16, 2: 2},
             dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=2, num_hidden_layers=1)),
    "bert-prefixed": ("tiny-bert-prefixed", "vocab.txt", "F16", {32: 8, 37: 12, 64: 16, 2: 2, 1: 1},
                      dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=2, num_hidden_layers=1)),
    "gpt2": ("tiny-gpt2", "bpe-byte-level", "F32", {32: 8, 96: 24, 64: 32},
             dict(n_embd=8, n_inner=32, n_positions=32, n_head=2, n_layer=1)),
    "gpt2-model": ("tiny-gpt2-model", "bpe-prefix-space", "BF16", {24: 6, 72: 18, 96: 24, 64: 16},
                   dict(n_embd=6, n_positions=16, n_head=3, n_layer=1)),
    "llama": ("tiny-llama", "bpe-byte-fallback", "F32", {32: 8, 16: 4, 48: 12},
              dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=2,
                   num_key_value_heads=1, head_dim=4, num_hidden_layers=1)),
    "llama-model": ("tiny-llama-model", "bpe-chars", "F16", {64: 16, 16: 8, 32: 8, 48: 12, 40: 12},
                    dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=4, num_key_value_heads=2,
                         head_dim=4, num_hidden_layers=1)),
    "mistral": ("tiny-mistral", "bpe-byte-fallback", "BF16", {32: 8, 8: 4, 48: 12},
                dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=2,
                     num_key_value_heads=1, head_dim=4, num_hidden_layers=1)),
    "qwen2": ("tiny-qwen2", "bpe-qwen2", "F32", {32: 8, 16: 4, 48: 12},
              dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=2,
                   num_key_value_heads=1, num_hidden_layers=1, layer_types=["full_attention"])),
    "qwen3": ("tiny-qwen3", "bpe-qwen2", "F32", {64: 16, 32: 8, 16: 4, 40: 12},
              dict(hidden_size=8, intermediate_size=12, max_position_embeddings=16, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=4, num_hidden_layers=1, layer_types=["full_attention"])),
}


def hf_model(key):
    """(config bytes, [(name, dtype, shape, payload)], {tokenizer file name: bytes}) of one tiny model."""
    fixture, tokenizer_name, dtype, dims, changes = HF_MODELS[key]
    config = json.loads(read("hf", fixture, "config.json"))
    files = {}
    if tokenizer_name == "vocab.txt":
        data = read("tokenizers", "vocab-cased", "vocab.txt")
        words = TEXT.replace(",", " ,").replace(".", " .").split() + list("Helowrdcats,.x123")
        vocab = shrink_vocab_txt(data, words)
        files["vocab.txt"] = vocab
        files["tokenizer_config.json"] = read("tokenizers", "vocab-cased", "tokenizer_config.json")
        size = vocab.count(b"\n")
    else:
        tok, size = shrink_tokenizer(tokenizer_fixture(tokenizer_name))
        files["tokenizer.json"] = compact(tok)
    vocab_size = config["vocab_size"]
    dims = dict(dims)
    dims[vocab_size] = size
    config.update(changes)
    config["vocab_size"] = size
    for drop in ("transformers_version",):
        config.pop(drop, None)
    tensors = []
    for name, info in read_safetensors(read("hf", fixture, "model.safetensors")).items():
        layer = layer_of(name)
        if layer is not None and layer > 0:
            continue
        shape = [dims.get(d, d) if i < len(info["shape"]) else d for i, d in enumerate(info["shape"])]
        count = math.prod(shape)
        if info["dtype"] == "I64":
            payload = struct.pack("<%dq" % count, *range(count))
            tensors.append((name, "I64", shape, payload))
            continue
        tensors.append((name, dtype, shape, encode(values(name, count, is_norm(name)), dtype)))
    return pretty(config), tensors, files


# ---------------------------------------------------------------------------
# GGUF (ggml docs/gguf.md)
# ---------------------------------------------------------------------------

GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20), "Q5_0": (6, 32, 22),
        "Q5_1": (7, 32, 24), "Q8_0": (8, 32, 34), "Q2_K": (10, 256, 84), "Q3_K": (11, 256, 110),
        "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210), "IQ4_NL": (20, 32, 18),
        "IQ4_XS": (23, 256, 136), "I8": (24, 1, 1), "I16": (25, 1, 2), "I32": (26, 1, 4), "I64": (27, 1, 8),
        "F64": (28, 1, 8), "BF16": (30, 1, 2)}

U8, I8, U16, I16, U32, I32, F32T, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32T: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gvalue(kind, value):
    if kind == STRING:
        return gstr(value)
    if isinstance(kind, tuple):  # (ARRAY, element kind)
        element = kind[1]
        code = ARRAY if isinstance(element, tuple) else element
        return struct.pack("<IQ", code, len(value)) + b"".join(gvalue(element, v) for v in value)
    return struct.pack(SCALAR[kind], value)


def gguf_bytes(metadata, tensors, alignment=32):
    """metadata: [(key, kind, value)]; tensors: [(name, ggml dims (ne0 first), type name, payload)]."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        out += gstr(key) + struct.pack("<I", ARRAY if isinstance(kind, tuple) else kind) + gvalue(kind, value)
    data = b""
    for name, dims, type_name, payload in tensors:
        data += b"\0" * (-len(data) % alignment)
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", GGML[type_name][0], len(data))
        data += payload
    out += b"\0" * (-len(out) % alignment)
    return out + data


def ggml_payload(name, dims, type_name):
    type_id, block_elements, block_bytes = GGML[type_name]
    count = math.prod(dims)
    if type_name in ("F32", "F16", "BF16"):
        return encode(values(name, count, "norm" in name), type_name)
    if type_name == "F64":
        return struct.pack("<%dd" % count, *values(name, count))
    if type_name in ("I8", "I16", "I32", "I64"):
        size = block_bytes
        fmt = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
        return struct.pack("<%d%s" % (count, fmt), *[i % 100 for i in range(count)])
    data = read("gguf", "quants", type_name + ".blocks")
    # The goldens include blocks with non-finite scales on purpose; seeds take finite ones (the
    # f16 scales sit in the first or the last 4 bytes of a block, depending on the type).
    blocks = [data[i:i + block_bytes] for i in range(0, len(data), block_bytes)]
    blocks = [b for b in blocks if all(math.isfinite(struct.unpack("<e", b[o:o + 2])[0]) for o in (0, 2, block_bytes - 4, block_bytes - 2))]
    need = count // block_elements
    start = zlib.crc32(name.encode()) % len(blocks)
    return b"".join(blocks[(start + i) % len(blocks)] for i in range(need))


def spm_vocabulary(count):
    """A SentencePiece-style vocabulary (llama.cpp tokenizer.ggml.model "llama") of `count` tokens."""
    pieces = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in (0x0A, 0x20, 0x2E)]
    words = ["▁", "H", "e", "l", "o", "w", "r", "d", "t", "h", "c", "a", "s", ",", ".", "x", "1", "▁t", "he", "▁the",
             "▁c", "at", "▁cat", "▁s", "▁sat", "▁H", "ello", "▁w", "or", "ld", "2", "3", "▁x", "T"]
    pieces += [w for w in words if w not in pieces]
    pieces = pieces[:count]
    types = [2, 3, 3] + [6] * 3 + [1] * (len(pieces) - 6)
    scores = [0.0] * 6 + [-float(i) for i in range(len(pieces) - 6)]
    return pieces, scores, types


def gpt2_vocabulary(count):
    """A byte-level BPE vocabulary (llama.cpp tokenizer.ggml.model "gpt2") of `count` tokens."""
    pieces = ["<|endoftext|>", "Ġ", "t", "h", "e", "Ġt", "he", "Ġthe", "c", "a", "Ġc", "at", "Ġcat", "s",
              "Ġs", "Ġsat", "H", "l", "o", "Ġw", "r", "d", "ll", "ello", "x", "1", ".", ","]
    merges = ["Ġ t", "h e", "Ġt he", "Ġ c", "a t", "Ġc at", "Ġ s", "Ġs at", "l l", "e ll", "ell o", "Ġ w"]
    pieces = pieces[:count]
    merges = [m for m in merges if all(p in pieces for p in m.split(" ")) and m.replace(" ", "") in pieces]
    return pieces, merges, [3] + [1] * (len(pieces) - 1)


def gguf_model(arch, types, dim=32, ff=32, heads=2, kv_heads=1, head_dim=None, vocab=40, tokenizer="llama",
               tied=True, extra=()):
    """A one-layer llama-family GGUF: `types` maps tensor roles to ggml type names."""
    head_dim = head_dim or dim // heads
    meta = [("general.architecture", STRING, arch), ("general.name", STRING, "tiny-" + arch),
            (arch + ".context_length", U32, 16), (arch + ".embedding_length", U32, dim),
            (arch + ".block_count", U32, 1), (arch + ".feed_forward_length", U32, ff),
            (arch + ".attention.head_count", U32, heads), (arch + ".attention.head_count_kv", U32, kv_heads),
            (arch + ".rope.freq_base", F32T, 10000.0), (arch + ".attention.layer_norm_rms_epsilon", F32T, 1e-5)]
    if head_dim != dim // heads:
        meta += [(arch + ".attention.key_length", U32, head_dim), (arch + ".attention.value_length", U32, head_dim)]
    meta += list(extra)
    if tokenizer == "llama":
        pieces, scores, kinds = spm_vocabulary(vocab)
        meta += [("tokenizer.ggml.model", STRING, "llama"), ("tokenizer.ggml.tokens", (ARRAY, STRING), pieces),
                 ("tokenizer.ggml.scores", (ARRAY, F32T), scores), ("tokenizer.ggml.token_type", (ARRAY, I32), kinds),
                 ("tokenizer.ggml.bos_token_id", U32, 1), ("tokenizer.ggml.eos_token_id", U32, 2),
                 ("tokenizer.ggml.unknown_token_id", U32, 0), ("tokenizer.ggml.add_bos_token", BOOL, True)]
    else:
        pieces, merges, kinds = gpt2_vocabulary(vocab)
        meta += [("tokenizer.ggml.model", STRING, "gpt2"), ("tokenizer.ggml.pre", STRING, "qwen2"),
                 ("tokenizer.ggml.tokens", (ARRAY, STRING), pieces), ("tokenizer.ggml.token_type", (ARRAY, I32), kinds),
                 ("tokenizer.ggml.merges", (ARRAY, STRING), merges), ("tokenizer.ggml.eos_token_id", U32, 0),
                 ("tokenizer.ggml.add_bos_token", BOOL, False)]
    vocab = len(pieces)
    q, k = heads * head_dim, kv_heads * head_dim
    shapes = [("token_embd.weight", [dim, vocab], "embed"), ("blk.0.attn_norm.weight", [dim], "norm"),
              ("blk.0.attn_q.weight", [dim, q], "q"), ("blk.0.attn_k.weight", [dim, k], "k"),
              ("blk.0.attn_v.weight", [dim, k], "v"), ("blk.0.attn_output.weight", [q, dim], "o"),
              ("blk.0.ffn_norm.weight", [dim], "norm"), ("blk.0.ffn_gate.weight", [dim, ff], "gate"),
              ("blk.0.ffn_up.weight", [dim, ff], "up"), ("blk.0.ffn_down.weight", [ff, dim], "down"),
              ("output_norm.weight", [dim], "norm")]
    if arch == "qwen2":
        shapes += [("blk.0.attn_q.bias", [q], "norm"), ("blk.0.attn_k.bias", [k], "norm"), ("blk.0.attn_v.bias", [k], "norm")]
    if arch == "qwen3":
        shapes += [("blk.0.attn_q_norm.weight", [head_dim], "norm"), ("blk.0.attn_k_norm.weight", [head_dim], "norm")]
    if not tied:
        shapes.append(("output.weight", [dim, vocab], "embed"))
    tensors = []
    for name, dims, role in shapes:
        type_name = "F32" if role == "norm" else types.get(role, "F32")
        tensors.append((name, dims, type_name, ggml_payload(name, dims, type_name)))
    return meta, tensors


def read_gguf_metadata(data):
    """The key/values of a GGUF file without tensors, as gguf_bytes takes them: [(key, kind, value)]."""
    offset = 24
    count = struct.unpack("<Q", data[16:24])[0]

    def string():
        nonlocal offset
        n = struct.unpack("<Q", data[offset:offset + 8])[0]
        offset += 8 + n
        return data[offset - n:offset].decode("utf-8", "surrogateescape")

    def value(kind):
        nonlocal offset
        if kind == STRING:
            return STRING, string()
        if kind == ARRAY:
            element, n = struct.unpack("<IQ", data[offset:offset + 12])
            offset += 12
            items = [value(element) for _ in range(n)]
            inner = items[0][0] if items else element
            return (ARRAY, inner), [v for _, v in items]
        fmt = SCALAR[kind]
        offset += struct.calcsize(fmt)
        return kind, struct.unpack(fmt, data[offset - struct.calcsize(fmt):offset])[0]

    entries = []
    for _ in range(count):
        key = string()
        kind = struct.unpack("<I", data[offset:offset + 4])[0]
        offset += 4
        kind, v = value(kind)
        entries.append((key, kind, v))
    return entries


def shrink_gguf_vocabulary(data, text):
    """A vocabulary-only GGUF with the tokens of `text`'s characters, the special and control tokens,
    the first merges (BPE) and the tokens they make, renumbered; every other key kept."""
    entries = read_gguf_metadata(data)
    meta = {k: v for k, _, v in entries}
    tokens, types = meta["tokenizer.ggml.tokens"], meta.get("tokenizer.ggml.token_type")
    model = meta["tokenizer.ggml.model"]
    index = {t: i for i, t in reversed(list(enumerate(tokens)))}
    keep = set(v for k, v in meta.items() if k.endswith("_token_id") and isinstance(v, int) and v < len(tokens))
    if types:
        keep.update(i for i, t in enumerate(types) if t not in (1, 6))
    chars = set(text) | set(text.lower())
    if model == "gpt2":
        table = bytes_to_unicode()
        chars = set(table[b] for b in text.encode())
    spelled = chars | {"▁" + c for c in chars} | {"##" + c for c in chars} | {"▁"}
    keep.update(index[t] for t in spelled if t in index)
    if model == "llama":
        keep.update(index["<0x%02X>" % b] for b in text.encode() if "<0x%02X>" % b in index)
    words = text.replace(",", " , ").replace(".", " . ").split()
    for word in words:
        for form in (word, word.lower(), "▁" + word, "Ġ" + word, "Ġ" + word.lower(), "▁" + word.lower()):
            if form in index:
                keep.add(index[form])
    merges = []
    for merge in meta.get("tokenizer.ggml.merges", [])[:40]:
        left, right = merge.split(" ", 1)
        if left in index and right in index and left + right in index:
            keep.update((index[left], index[right], index[left + right]))
            merges.append(merge)
    for i, t in enumerate(tokens):  # short pieces made of the text's characters (SentencePiece, WordPiece)
        if len(keep) >= 120:
            break
        piece = t[2:] if t.startswith("##") else t.lstrip("▁")
        if model != "gpt2" and 1 < len(piece) <= 4 and set(piece) <= chars:
            keep.add(i)
    old_ids = sorted(keep)
    new_id = {old: new for new, old in enumerate(old_ids)}
    out = []
    for key, kind, v in entries:
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.scores"):
            v = [v[i] for i in old_ids]
        elif key == "tokenizer.ggml.merges":
            v = merges
        elif key.endswith("_token_id") and isinstance(v, int):
            v = new_id.get(v, v)
        elif key.endswith(".vocab_size"):
            v = len(old_ids)
        out.append((key, kind, v))
    return gguf_bytes(out, [])


def gguf_split(meta, tensors, parts):
    """The shards of a split model (gguf-split): split.* keys, the metadata in the first shard only."""
    per = math.ceil(len(tensors) / parts)
    shards = []
    for number in range(parts):
        keys = [("split.no", U16, number), ("split.count", U16, parts), ("split.tensors.count", I32, len(tensors))]
        shard_meta = (meta if number == 0 else []) + keys
        shards.append(gguf_bytes(shard_meta, tensors[number * per:(number + 1) * per]))
    return shards


# ---------------------------------------------------------------------------
# llama2.c
# ---------------------------------------------------------------------------

def llama2c_tokenizer(count):
    """tokenizer.bin with the fixture's first `count` tokens (specials, bytes, then merges)."""
    data = read("llama2c", "tokenizer.bin")
    offset, tokens = 4, []
    while offset < len(data) and len(tokens) < count:
        score, length = struct.unpack("<fi", data[offset:offset + 8])
        tokens.append(data[offset:offset + 8 + length])
        offset += 8 + length
    return data[:4] + b"".join(tokens)


def llama2c_model(version, vocab, shared=True, dim=8, hidden=12, layers=1, heads=2, kv_heads=1, seq=16, group=4):
    head = dim // heads
    kv = kv_heads * head
    norms = [("rms_att", layers * dim), ("rms_ffn", layers * dim), ("rms_final", dim)]
    matrices = [("wq", layers * dim * dim), ("wk", layers * dim * kv), ("wv", layers * dim * kv),
                ("wo", layers * dim * dim), ("w1", layers * hidden * dim), ("w2", layers * dim * hidden),
                ("w3", layers * hidden * dim)]
    embed = ("tok_embeddings", vocab * dim)
    config = [dim, hidden, layers, heads, kv_heads, vocab, seq]
    if version == 0:
        config[5] = vocab if shared else -vocab
        body = f32(values("tok_embeddings", vocab * dim))
        body += f32(values("rms_att", layers * dim, True))
        for name, count in matrices[:4]:
            body += f32(values(name, count))
        body += f32(values("rms_ffn", layers * dim, True))
        for name, count in matrices[4:]:
            body += f32(values(name, count))
        body += f32(values("rms_final", dim, True))
        body += f32(values("freq_cis", seq * head))  # freq_cis_real and freq_cis_imag, seq x head/2 each
        if not shared:
            body += f32(values("wcls", vocab * dim))
        return struct.pack("<7i", *config) + body
    header = struct.pack("<4si7iB", b"24ka", version, *config, 1 if shared else 0)
    if version == 2:
        header += struct.pack("<i", group)
    header += b"\0" * (256 - len(header))
    body = b"".join(f32(values(name, count, True)) for name, count in norms)
    tensors = [embed] + matrices + ([] if shared else [("wcls", vocab * dim)])
    if version == 1:
        order = [embed] + matrices + ([] if shared else [("wcls", vocab * dim)])
        return header + body + b"".join(f32(values(name, count)) for name, count in order)
    out = b""
    for name, count in tensors:
        vals = values(name, count)
        out += bytes((int(v * 254) & 0xFF) for v in vals)
        out += f32([0.004] * (count // group))
    return header + body + out


# ---------------------------------------------------------------------------
# The corpora
# ---------------------------------------------------------------------------

def qkv_command(path):
    if path:
        return path
    default = os.path.join(ROOT, ".build", "debug", "qkv")
    if not os.path.exists(default):
        subprocess.run(["swift", "build", "--product", "qkv"], cwd=ROOT, check=True)
    return default


def check_opens(qkv, path, *extra):
    result = subprocess.run([qkv, "verify", path, *extra], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"make_seeds: {path} does not verify: {result.stderr.strip()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qkv", help="the qkv executable (default .build/debug/qkv)")
    args = parser.parse_args()
    qkv = qkv_command(args.qkv)
    for folder in (CORPUS, MODELS):
        shutil.rmtree(folder, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="qkv-seeds-")

    # Tiny Hugging Face models: folders for config-json, framed folders for safetensors-folder,
    # lone files for safetensors, QKV conversions for qkv and qkv-wrapped.
    folders = {}
    for key in HF_MODELS:
        config, tensors, files = hf_model(key)
        model = safetensors_bytes([(n, d, s, p) for n, d, s, p in tensors], {"format": "pt"})
        folder = os.path.join(work, key)
        write(os.path.join(folder, "config.json"), config)
        write(os.path.join(folder, "model.safetensors"), model)
        for name, data in files.items():
            write(os.path.join(folder, name), data)
        check_opens(qkv, folder)
        folders[key] = folder
        if "-" not in key:
            for name in ["config.json", "model.safetensors"] + sorted(files):
                write(os.path.join(MODELS, key, name), open(os.path.join(folder, name), "rb").read())
            seed("config-json", key + ".json", config)
        seed("safetensors", key + ".safetensors", model)
        slots = [config, model, files.get("tokenizer.json", b""), files.get("vocab.txt", b""),
                 files.get("tokenizer_config.json", b"")]
        seed("safetensors-folder", key, join(*slots))

    # A sharded folder (index + 3 shards) of the tiny llama.
    config, tensors, files = hf_model("llama")
    shards = [sorted(tensors)[i::3] for i in range(3)]
    names = ["model-%05d-of-00003.safetensors" % (i + 1) for i in range(3)]
    index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)},
             "weight_map": {t[0]: names[i] for i, shard in enumerate(shards) for t in sorted(shard)}}
    shard_bytes = [safetensors_bytes(shard, {"format": "pt"}) for shard in shards]
    seed("safetensors-folder", "llama-sharded",
         join(config, b"", files["tokenizer.json"], b"", b"", pretty(index), *shard_bytes))
    seed("safetensors", "no-metadata.safetensors", safetensors_bytes([("a", "F32", [2, 2], f32([1, 2, 3, 4]))]))
    seed("safetensors", "empty.safetensors", safetensors_bytes([], {"format": "pt"}))
    seed("safetensors", "dtypes.safetensors", safetensors_bytes(
        [("f64", "F64", [2], struct.pack("<2d", 1, 2)), ("i8", "I8", [2], b"\1\2"), ("u8", "U8", [1], b"\7"),
         ("i16", "I16", [1], b"\1\0"), ("i32", "I32", [1], b"\1\0\0\0"), ("i64", "I64", [1], b"\1" + b"\0" * 7),
         ("bool", "BOOL", [1], b"\1"), ("f16", "F16", [1, 1], f16([0.5])), ("bf16", "BF16", [1], bf16([2.0])),
         ("scalar", "F32", [], f32([3.0])), ("zero", "F32", [0, 4], b"")]))

    # config-json: also the fixtures' own configs (legacy keys, sharded llama's top-level rope_theta).
    for fixture in sorted(os.listdir(os.path.join(FIXTURES, "hf"))):
        path = os.path.join(FIXTURES, "hf", fixture, "config.json")
        if os.path.exists(path):
            seed("config-json", "fixture-" + fixture + ".json", read("hf", fixture, "config.json"))

    # Tokenizers: every tokenizer.json fixture, shrunk; vocab.txt fixtures, shrunk.
    words = TEXT.replace(",", " ,").replace(".", " .").split() + list("helowrdcats,.x123")
    for name in sorted(os.listdir(os.path.join(FIXTURES, "tokenizers"))):
        path = os.path.join(FIXTURES, "tokenizers", name, "tokenizer.json")
        if os.path.exists(path):
            tok, _ = shrink_tokenizer(tokenizer_fixture(name))
            seed("tokenizer-json", name + ".json", compact(tok))
            if name == "bpe-byte-level":
                seed("tokenizer-json", name + "-with-text", join(compact(tok), "The café, 12 ĠHello\t😀".encode()))
        vocab = os.path.join(FIXTURES, "tokenizers", name, "vocab.txt")
        if os.path.exists(vocab):
            data = shrink_vocab_txt(read("tokenizers", name, "vocab.txt"), words)
            config = read("tokenizers", name, "tokenizer_config.json")
            seed("vocab-txt", name, join(data, config))
            seed("vocab-txt", name + "-with-text", join(data, b"", "Hello WORLD, naïve 中文 x1".encode()))
    seed("vocab-txt", "no-config", b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n")

    # strict-json: small documents of every kind, and the JSON fixtures that are small.
    documents = [b'{"a":1,"b":[true,false,null],"c":{"d":"e\\u00e9\\ud83d\\ude00"},"n":-12.5e-3}',
                 b"[]", b"{}", b'"\\"\\\\\\/\\b\\f\\n\\r\\t"', b"-0", b"1E+400", b"[[[[[[[[1]]]]]]]]",
                 b'{"a":1,"a":2}', b" \t\r\n[0,9223372036854775807,-9223372036854775808,18446744073709551616]"]
    for number, document in enumerate(documents):
        seed("strict-json", "doc%02d.json" % number, document)
    seed("strict-json", "index.json", read("hf", "tiny-llama-sharded", "model.safetensors.index.json"))
    seed("strict-json", "config.json", read("hf", "tiny-bert", "config.json"))
    seed("strict-json", "tokenizer.json", compact(shrink_tokenizer(tokenizer_fixture("bpe-chars"))[0]))

    # GGUF: tiny models of each architecture and ggml type family, the types one tensor each,
    # a split model, and the vocabulary-only fixture.
    gguf_files = {
        "llama-f32": gguf_model("llama", {}, dim=8, ff=12),
        "llama-mixed": gguf_model("llama", {"embed": "Q8_0", "q": "Q4_0", "k": "Q4_1", "v": "Q5_0", "o": "Q5_1",
                                            "gate": "IQ4_NL", "up": "F16", "down": "BF16"}, tied=False),
        "qwen2-gpt2-vocab": gguf_model("qwen2", {"embed": "F16", "q": "Q8_0", "k": "Q8_0", "v": "Q8_0", "o": "F16",
                                                 "gate": "F16", "up": "F16", "down": "F16"}, tokenizer="gpt2"),
        "qwen3-head-dim": gguf_model("qwen3", {"embed": "F16", "q": "Q8_0", "k": "F16", "v": "F16", "o": "F16",
                                               "gate": "F16", "up": "F16", "down": "F16"},
                                     heads=4, kv_heads=2, head_dim=16, tokenizer="gpt2"),
        "llama-kquants": gguf_model("llama", {"embed": "Q4_K", "q": "Q2_K", "k": "Q3_K", "v": "Q5_K", "o": "F16",
                                              "gate": "Q6_K", "up": "IQ4_XS", "down": "F16"},
                                    dim=256, ff=8, heads=2, kv_heads=1, head_dim=4, vocab=16),
    }
    for name, (meta, tensors) in gguf_files.items():
        data = gguf_bytes(meta, tensors)
        path = os.path.join(work, name + ".gguf")
        write(path, data)
        check_opens(qkv, path)
        seed("gguf", name + ".gguf", data)
    types = [(t, [GGML[t][1] * (2 if GGML[t][1] == 1 else 1)], t) for t in GGML]
    seed("gguf", "types.gguf", gguf_bytes([("general.name", STRING, "types")],
                                          [(t.lower(), dims, t, ggml_payload(t, dims, t)) for t, dims, _ in types]))
    meta, tensors = gguf_files["llama-f32"]
    shards = gguf_split(meta, tensors, 2)
    for number, shard in enumerate(shards):
        write(os.path.join(work, "split", "model-%05d-of-00002.gguf" % (number + 1)), shard)
    check_opens(qkv, os.path.join(work, "split", "model-00001-of-00002.gguf"))
    seed("gguf", "llama-split", join(*shards))
    seed("gguf", "vocab-only.gguf", read("gguf", "tiny", "tiny-vocab-only.gguf"))
    # The GGUF tokenizer fixtures (llama.cpp's SentencePiece, byte-level BPE with each pre-tokenizer
    # family, WordPiece), shrunk; for gguf a few of them, for gguf-tokenizer all, each with a text.
    tokenizer_text = "Hello world, the cat sat.  x1\t<s>[CLS]<|im_start|> naïve 日本 123"
    vocab_dir = os.path.join(FIXTURES, "gguf", "vocab")
    for name in sorted(f for f in os.listdir(vocab_dir) if f.endswith(".gguf")):
        small = shrink_gguf_vocabulary(read("gguf", "vocab", name), tokenizer_text)
        path = os.path.join(work, "vocab-" + name)
        write(path, small)
        result = subprocess.run([qkv, "tokenize", path, "--text", "Hello world"], capture_output=True, text=True)
        if result.returncode != 0 and "is not a token" not in result.stderr:
            sys.exit(f"make_seeds: shrunk {name} does not tokenize: {result.stderr.strip()}")
        seed("gguf-tokenizer", name, join(small, tokenizer_text.encode()))
        if name in ("spm-unigram.gguf", "bpe-qwen2.gguf", "bpe-llama-bpe.gguf", "bert-cased.gguf"):
            seed("gguf", "vocab-" + name, small)
    metadata_kinds = [("k.u8", U8, 1), ("k.i8", I8, -1), ("k.u16", U16, 2), ("k.i16", I16, -2), ("k.u32", U32, 3),
                      ("k.i32", I32, -3), ("k.f32", F32T, 0.5), ("k.bool", BOOL, True), ("k.str", STRING, "s"),
                      ("k.u64", U64, 4), ("k.i64", I64, -4), ("k.f64", F64, 0.25), ("k.arr", (ARRAY, U8), [1, 2]),
                      ("general.alignment", U32, 64)]
    seed("gguf", "metadata-kinds.gguf", gguf_bytes(metadata_kinds, [("t", [4], "F32", f32([1, 2, 3, 4]))], alignment=64))

    # llama2.c: each version, shared and unshared classifiers, with and without tokenizer.bin.
    tokenizer = llama2c_tokenizer(270)
    cases = {"v0-shared": llama2c_model(0, 270), "v0-unshared": llama2c_model(0, 16, shared=False),
             "v1-shared": llama2c_model(1, 270), "v1-unshared": llama2c_model(1, 16, shared=False),
             "v2-shared": llama2c_model(2, 270), "v2-unshared": llama2c_model(2, 16, shared=False, group=8)}
    for name, model in cases.items():
        path = os.path.join(work, name + ".bin")
        write(path, model)
        vocab = 270 if name.endswith("-shared") else 16
        if vocab == 270:
            check_opens(qkv, path)
            seed("llama2c", name, join(model, tokenizer))
        else:
            check_opens(qkv, path)
            seed("llama2c", name + ".bin", model)

    # QKV: the fixture files (plain, per-tensor zlib and shuffle, whole-file zlib and gzip), and the
    # tiny models converted by qkv (architectures, dtypes, tokenizer.json kept in the metadata).
    fixture_qkv = [os.path.join(FIXTURES, f) for f in sorted(os.listdir(FIXTURES)) if f.endswith(".qkv")]
    fixture_qkv += [os.path.join(FIXTURES, "foreign", f) for f in sorted(os.listdir(os.path.join(FIXTURES, "foreign")))
                    if f.endswith(".qkv")]
    converted = []
    for key, options in [("bert", ["--encoding", "shuffle"]), ("gpt2", ["--dtype", "f16"]),
                         ("llama", ["--encoding", "zlib", "--dtype", "bf16"]), ("qwen3", []),
                         ("gpt2-model", ["--wrap", "gzip"]), ("mistral", ["--wrap", "zlib", "--encoding", "shuffle"])]:
        out = os.path.join(work, key + ".qkv")
        subprocess.run([qkv, "convert", folders[key], "-o", out, *options], check=True, capture_output=True)
        check_opens(qkv, out)
        converted.append(out)
    for path in fixture_qkv + converted:
        name = os.path.basename(path)
        data = open(path, "rb").read()
        seed("qkv", name, data)
        # qkv-wrapped takes a mode byte and the plain file.
        if data[:2] == b"\x1f\x8b":
            inner, mode = gzip.decompress(data), 1
        elif data[:4] != b"QKVC":
            inner, mode = zlib.decompress(data), 0
        else:
            inner, mode = data, 2 * 6 + (len(name) % 2)
        seed("qkv-wrapped", name, bytes([mode]) + inner)

    shutil.rmtree(work)
    total = 0
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        total += size
        print(f"{target:20} {len(files):3} seeds {size:8} bytes")
    models = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(MODELS) for f in fs)
    print(f"{'(all corpora)':20}     {total:8} bytes; fuzz/models {models} bytes")


if __name__ == "__main__":
    main()
