#!/usr/bin/env python3
"""Build tiny llama2.c checkpoints and tokenizer, with goldens that qkv must match.

Run by hand (not in CI) from the repository root, after scripts/make_hf_references.py:

    pip install -r scripts/requirements-reference.txt sentencepiece
    python3 scripts/make_llama2c_references.py          # writes fixtures/llama2c/

Checkpoints (the layouts of karpathy/llama2.c export.py, written here by our own code):

  tiny-v0.bin         legacy_export (v0): no magic, negative vocab_size = unshared classifier,
                      f32 in run.c's memory_map_weights order, the two freq_cis tables included
  tiny-v0-shared.bin  v0 with a shared classifier (positive vocab_size)
  tiny-v1.bin         version1_export: "ak42", version 1, 256-byte header, f32, unshared
  tiny-v2.bin         version2_export: version 2, int8 in groups of 16 (quantize_q80), unshared
  tiny-v2-shared.bin  version 2, group size 8, shared classifier

Weights: the unshared files hold fixtures/hf/tiny-llama (LLaMA, d 32, 4 query / 2 kv heads,
head_size 8 = 32 / 4 as llama2.c requires, hidden 48, vocab 60, untied lm_head). The shared files
hold the same layers and final norm with a seeded N(0, 0.5) embedding of the tokenizer's size,
tied. q and k rows go through export.py's `permute_reverse` (Hugging Face's rotate-half pairs
(i, i + h/2) become run.c's adjacent pairs (2i, 2i + 1)); for k with n_kv_heads rows per head.

Goldens (reference.json): transformers eager `output_attentions` of the same weights as a
LlamaForCausalLM with run.c's constants (rope_theta 10000, rms_norm_eps 1e-5; tiny-llama itself
uses 5e5). For v2 the model's quantized matrices are replaced by their dequantized values
(int8 · scale in float32, as runq.c's `dequantize`), so the golden is what the file holds, not
what it was made from; `int8_vs_f32_max_diff` records how far that is from the f32 model.
Every golden is recomputed by a float64 NumPy forward pass that reads the .bin file itself
(run.c's and runq.c's layouts, run.c's adjacent-pair RoPE); the script fails if they differ by
more than 2e-6.

Tokenizer: tokenizer.model, a SentencePiece BPE model trained here with llama2.c's settings
(tinystories.py `train_vocab`: byte_fallback, split_digits, identity normalization, ...) on the
CORPUS below; tokenizer.bin, its export as tokenizer.py does it (max_token_length, then per
token f32 score, i32 length, bytes; "▁" written as " ", BOS/EOS as "\\n<s>\\n" / "\\n</s>\\n").
tokenizer_goldens.json: `pieces` (SentencePiece's id_to_piece, what qkv shows per id) and
`cases`: ids for ~100 inputs from `runc_encode` below, a port of run.c's `encode` (bos=1, eos=0).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
from sentencepiece import sentencepiece_model_pb2 as sp_model_pb2  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "fixtures" / "hf" / "tiny-llama"
OUT = ROOT / "fixtures" / "llama2c"
MAGIC = 0x616B3432  # "ak42"
NUMPY_TOLERANCE = 2e-6
MAX_BYTES = 600_000

# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------

CORPUS = """\
Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
One day, she saw a big red ball under a tree. She ran to the ball and picked it up.
"Can I play with you?" asked a small dog. Lily smiled and said, "Yes, let's play together!"
They played all day until the sun went down. Then Lily went home and told her mom about the dog.
Her mom said, "That sounds like a wonderful day." Lily was happy and went to sleep.
Tom had a toy car. It was blue and fast. He liked to push it on the floor and make it go zoom.
His sister Sue wanted the car too. "Give me the car, Tom!" she said. Tom did not want to share.
Mom came and said, "You can take turns." So Tom and Sue took turns with the blue car.
The cat sat on the mat. The dog sat on the log. The bird sang a song in the warm spring sun.
In 2023 the old man counted 12345 apples, 678 pears and 9 plums at the market.
A café in Paris served crème brûlée to a naïve tourist from Zürich; über good, he said.
Москва and 日本 are far away, but the children read about them in a big book of maps.
She wrote: 3.14159 is pi, 2.71828 is e, and 1 + 1 = 2. The teacher was proud of her.
"Where are you going?" asked the owl. "To the river," said the frog, and hopped away.
The sky was gray and the wind was cold, so they stayed inside and baked cookies with dad.
Every morning Ben ate eggs and toast, drank milk, and walked to school with his friend Max.
"""

SPECIAL_PIECES = {1: "\n<s>\n", 2: "\n</s>\n"}  # what tokenizer.py writes for bos_id / eos_id


def train_tokenizer(folder: Path, vocab_size: int) -> spm.SentencePieceProcessor:
    """SentencePiece BPE with tinystories.py's train_vocab settings (one thread: deterministic)."""
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "corpus.txt"
        text.write_text(CORPUS, encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(text), model_prefix=str(Path(tmp) / "tokenizer"), model_type="bpe", vocab_size=vocab_size,
            input_format="text", character_coverage=1.0, num_threads=1,
            split_digits=True, allow_whitespace_only_pieces=True, byte_fallback=True,
            unk_surface=r" \342\201\207 ", normalization_rule_name="identity", minloglevel=2)
        # The trainer records its temporary paths in the model: name the files alone, so a rerun
        # writes the same bytes.
        model = sp_model_pb2.ModelProto()
        model.ParseFromString((Path(tmp) / "tokenizer.model").read_bytes())
        del model.trainer_spec.input[:]
        model.trainer_spec.input.append("corpus.txt")
        model.trainer_spec.model_prefix = "tokenizer"
        (folder / "tokenizer.model").write_bytes(model.SerializeToString())
    return spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))


def export_tokenizer(sp: spm.SentencePieceProcessor, path: Path) -> tuple[list[bytes], list[float]]:
    """tokenizer.py `Tokenizer.export`, line for line."""
    tokens, scores = [], []
    for i in range(sp.vocab_size()):
        t = sp.id_to_piece(i)
        s = sp.get_score(i)
        if i == sp.bos_id():
            t = "\n<s>\n"
        elif i == sp.eos_id():
            t = "\n</s>\n"
        t = t.replace("▁", " ")
        tokens.append(t.encode("utf-8"))
        scores.append(s)
    max_token_length = max(len(t) for t in tokens)
    with open(path, "wb") as f:
        f.write(struct.pack("I", max_token_length))
        for b, score in zip(tokens, scores):
            f.write(struct.pack("fI", score, len(b)))
            f.write(b)
    return tokens, [struct.unpack("f", struct.pack("f", s))[0] for s in scores]


def read_tokenizer_bin(path: Path, vocab_size: int) -> tuple[list[bytes], list[float]]:
    """run.c's build_tokenizer: vocab_size entries of (f32 score, i32 length, bytes)."""
    data = path.read_bytes()
    (max_len,) = struct.unpack_from("<I", data, 0)
    pos, tokens, scores = 4, [], []
    for _ in range(vocab_size):
        score, length = struct.unpack_from("<fi", data, pos)
        pos += 8
        assert 0 <= length <= max_len
        tokens.append(data[pos:pos + length])
        scores.append(score)
        pos += length
    assert pos == len(data)
    return tokens, scores


def runc_encode(tokens: list[bytes], scores: list[float], text: bytes, bos: bool = True, eos: bool = False) -> list[int]:
    """A port of run.c's `encode`, written from run.c (not from qkv).

    str_lookup is a bsearch over the vocabulary sorted by strcmp: an exact match of C strings
    (bytes before the first NUL). The text is a C string too."""
    cstr = [t.split(b"\0")[0] for t in tokens]
    lookup: dict[bytes, int] = {}
    for i, t in enumerate(cstr):
        lookup.setdefault(t, i)  # a piece listed twice: the lowest id (bsearch may find either)
    f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]  # noqa: E731  float arithmetic as in C
    text = text.split(b"\0")[0]
    out: list[int] = []
    if bos:
        out.append(1)
    if text:
        out.append(lookup[b" "])  # the dummy prefix
    buf = b""
    i = 0
    while i < len(text):
        c = text[i]
        if (c & 0xC0) != 0x80:
            buf = b""
        buf += bytes([c])
        nxt = text[i + 1] if i + 1 < len(text) else 0
        i += 1
        if (nxt & 0xC0) == 0x80 and len(buf) < 4:
            continue
        if buf in lookup:
            out.append(lookup[buf])
        else:
            out.extend(b + 3 for b in buf)  # byte fallback: <unk>, <s>, </s> come first
        buf = b""
    while True:
        best_score, best_id, best_idx = f32(-1e10), -1, -1
        for j in range(len(out) - 1):
            merged = cstr[out[j]] + cstr[out[j + 1]]
            k = lookup.get(merged, -1)
            if k != -1 and f32(scores[k]) > best_score:
                best_score, best_id, best_idx = f32(scores[k]), k, j
        if best_idx == -1:
            break
        out[best_idx] = best_id
        del out[best_idx + 1]
    if eos:
        out.append(2)
    return out


def tokenizer_cases(sp: spm.SentencePieceProcessor) -> list[bytes]:
    """~100 inputs: empty, whitespace, words in and out of the vocabulary, digits, punctuation,
    accents, other scripts, emoji (several code points), control bytes, and byte strings that are
    not UTF-8 (truncated sequences, stray and over-long continuation runs, a 5-byte lead)."""
    texts = [
        "", " ", "  ", "\t", "\n", "\n\n", "\r\n", " leading", "trailing ", "  two  spaces  ", "a", "I", ".",
        "Lily", "Once upon a time", "Once upon a time, there was a little girl named Lily.",
        "The cat sat on the mat.", "the cat sat on the mat", "THE CAT SAT ON THE MAT",
        "Hello world", "hello, world!", "Tom and Sue took turns with the blue car.", "zoom zoom zoom",
        "12345", "2023", "3.14159", "1 + 1 = 2", "007", "a1b2c3", "9,999.99", "-42",
        "don't", "let's", "\"Yes!\"", "(parentheses) [brackets] {braces}", "a\tb\tc", "line one\nline two",
        "café", "crème brûlée", "naïve", "Zürich", "über", "e\u0301", "Ångström",
        "Москва", "Привет, мир", "日本", "日本語のテキスト", "中文", "한국어", "ελληνικά", "עברית", "العربية", "हिन्दी",
        "😀", "😀😀", "👍🏽", "🇫🇷", "👨‍👩‍👧", "I ❤ tokens", "∑ x² ≠ ∞", "€100", "\ufffd", "\u00a0non-breaking",
        "\u0001\u0002\u0003", "\u007f", "\u200b", "<s>", "</s>", "<unk>", "<0x0A>", "\n<s>\n", "▁", "▁▁",
        "aaaaaaaaaaaaaaaa", "abababababab", "the the the the", "antidisestablishmentarianism",
        "ab\u0000cd", "\u0000",
    ]
    cases = [t.encode("utf-8") for t in texts]
    cases += [
        b"\xff", b"\xfe\xff", b"\xc3", b"abc\xe9def", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf0\x9f\x98",
        b"\xf0\x9f\x98\x80\x80", b"\x80", b"\x80\x80\x80\x80\x80\x80", b"x\x80\x80\x80\x80y", b"\xf8\x88\x80\x80\x80",
        b"\xe2\x82", b"The \xe2\x82 end",
    ]
    # Seeded sentences made of corpus words and odd spacing, to reach about a hundred.
    rng = np.random.default_rng(7)
    words = sorted(set(CORPUS.replace("\n", " ").split()))
    while len(cases) < 104:
        n = int(rng.integers(1, 9))
        sep = [" ", " ", " ", "  ", "\n"]
        text = "".join(words[int(rng.integers(len(words)))] + sep[int(rng.integers(len(sep)))] for _ in range(n))
        cases.append(text.encode("utf-8"))
    return cases


def case_entry(text: bytes, ids: list[int]) -> dict:
    try:
        return {"text": text.decode("utf-8"), "ids": ids}
    except UnicodeDecodeError:
        return {"bytes_hex": text.hex(), "ids": ids}


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def source_weights() -> tuple[dict, dict[str, torch.Tensor]]:
    cfg = json.loads((SOURCE / "config.json").read_text())
    weights = {}
    with safe_open(SOURCE / "model.safetensors", "pt") as f:
        for k in f.keys():
            weights[k] = f.get_tensor(k)
    return cfg, weights


def hf_model(cfg: dict, weights: dict[str, torch.Tensor], vocab: int, tied: bool) -> LlamaForCausalLM:
    """The weights as a LlamaForCausalLM with run.c's constants."""
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=cfg["hidden_size"], num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"], num_key_value_heads=cfg["num_key_value_heads"],
        intermediate_size=cfg["intermediate_size"], max_position_embeddings=cfg["max_position_embeddings"],
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=tied, attn_implementation="eager")
    model = LlamaForCausalLM(config)
    params = dict(model.named_parameters())
    assert set(params) == set(weights), (sorted(set(params) ^ set(weights)))
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(weights[name])
    if tied:
        assert model.lm_head.weight is model.model.embed_tokens.weight
    return model.eval()


def permute_reverse(w: torch.Tensor, n_heads: int, dim1: int, dim2: int) -> torch.Tensor:
    """export.py's load_hf_model: Hugging Face's q/k row order back to llama2.c's."""
    return w.view(n_heads, 2, dim1 // n_heads // 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def permute_original(w: torch.Tensor, n_heads: int, dim1: int, dim2: int) -> torch.Tensor:
    """export.py's hf_export: llama2.c's q/k row order to Hugging Face's (inverse of permute_reverse)."""
    return w.view(dim1, dim2).reshape(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


class Llama2cModel:
    """A model in llama2.c's terms (model.py names), from Hugging Face weights."""

    def __init__(self, model: LlamaForCausalLM, max_seq_len: int):
        c = model.config
        self.dim, self.n_layers, self.n_heads, self.n_kv_heads = c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads
        self.vocab_size, self.max_seq_len = c.vocab_size, max_seq_len
        head_size = self.dim // self.n_heads
        kv_dim = self.n_kv_heads * head_size
        sd = {k: v.detach().clone().float() for k, v in model.state_dict().items()}
        self.tok_embeddings = sd["model.embed_tokens.weight"]
        self.output = sd["lm_head.weight"]
        self.norm = sd["model.norm.weight"]
        self.layers = []
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            self.layers.append({
                "attention_norm": sd[p + "input_layernorm.weight"],
                "wq": permute_reverse(sd[p + "self_attn.q_proj.weight"], self.n_heads, self.dim, self.dim),
                "wk": permute_reverse(sd[p + "self_attn.k_proj.weight"], self.n_kv_heads, kv_dim, self.dim),
                "wv": sd[p + "self_attn.v_proj.weight"],
                "wo": sd[p + "self_attn.o_proj.weight"],
                "ffn_norm": sd[p + "post_attention_layernorm.weight"],
                "w1": sd[p + "mlp.gate_proj.weight"],
                "w2": sd[p + "mlp.down_proj.weight"],
                "w3": sd[p + "mlp.up_proj.weight"],
            })
        self.hidden_dim = self.layers[0]["w1"].shape[0]
        self.shared = torch.equal(self.tok_embeddings, self.output)
        # model.py's precompute_freqs_cis(head_size, max_seq_len * 2), cut to max_seq_len by legacy_export.
        freqs = 1.0 / (10000.0 ** (torch.arange(0, head_size, 2)[: head_size // 2].float() / head_size))
        t = torch.arange(max_seq_len * 2)
        freqs = torch.outer(t, freqs).float()
        self.freqs_cos, self.freqs_sin = torch.cos(freqs)[:max_seq_len], torch.sin(freqs)[:max_seq_len]

    def config_ints(self, vocab_size: int) -> bytes:
        return struct.pack("iiiiiii", self.dim, self.hidden_dim, self.n_layers, self.n_heads, self.n_kv_heads,
                           vocab_size, self.max_seq_len)


def fp32(t: torch.Tensor) -> bytes:
    return t.detach().reshape(-1).to(torch.float32).numpy().astype("<f4").tobytes()


def write_v0(m: Llama2cModel, path: Path) -> None:
    """export.py legacy_export."""
    out = [m.config_ints(m.vocab_size if m.shared else -m.vocab_size), fp32(m.tok_embeddings)]
    for key in ("attention_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w1", "w2", "w3"):
        out += [fp32(layer[key]) for layer in m.layers]
    out += [fp32(m.norm), fp32(m.freqs_cos), fp32(m.freqs_sin)]
    if not m.shared:
        out.append(fp32(m.output))
    path.write_bytes(b"".join(out))


def versioned_header(m: Llama2cModel, version: int, group_size: int | None) -> bytes:
    header = struct.pack("I", MAGIC) + struct.pack("i", version) + m.config_ints(m.vocab_size) + struct.pack("B", int(m.shared))
    if group_size is not None:
        header += struct.pack("i", group_size)
    return header + b"\0" * (256 - len(header))


def write_v1(m: Llama2cModel, path: Path) -> None:
    """export.py version1_export."""
    weights = [l["attention_norm"] for l in m.layers] + [l["ffn_norm"] for l in m.layers] + [m.norm, m.tok_embeddings]
    for key in ("wq", "wk", "wv", "wo", "w1", "w2", "w3"):
        weights += [l[key] for l in m.layers]
    if not m.shared:
        weights.append(m.output)
    path.write_bytes(versioned_header(m, 1, None) + b"".join(fp32(w) for w in weights))


def quantize_q80(w: torch.Tensor, group_size: int):
    """export.py quantize_q80: symmetric int8 per group, scale = max|w| / 127, torch.round."""
    assert w.numel() % group_size == 0
    w = w.float().reshape(-1, group_size)
    wmax = torch.abs(w).max(dim=1).values
    scale = wmax / 127.0
    quant = w / scale[:, None]
    int8val = torch.round(quant).to(torch.int8)
    return int8val, scale


def write_v2(m: Llama2cModel, path: Path, group_size: int) -> dict[str, torch.Tensor]:
    """export.py version2_export. Returns the dequantized values of every quantized tensor (by
    llama2.c name) as runq.c computes them: float(int8) * scale, one float32 product."""
    assert m.dim % group_size == 0
    named = [("tok_embeddings", m.tok_embeddings)]
    for key in ("wq", "wk", "wv", "wo", "w1", "w2", "w3"):
        named += [(f"layers.{i}.{key}", l[key]) for i, l in enumerate(m.layers)]
    if not m.shared:
        named.append(("output", m.output))
    out = [versioned_header(m, 2, group_size)]
    out += [fp32(l["attention_norm"]) for l in m.layers] + [fp32(l["ffn_norm"]) for l in m.layers] + [fp32(m.norm)]
    dequantized = {}
    for name, w in named:
        q, s = quantize_q80(w, group_size)
        out.append(q.reshape(-1).numpy().astype(np.int8).tobytes())
        out.append(fp32(s))
        dequantized[name] = (q.float() * s[:, None]).reshape(w.shape)
    path.write_bytes(b"".join(out))
    return dequantized


def dequantized_hf(cfg: dict, base: dict[str, torch.Tensor], m: Llama2cModel, deq: dict[str, torch.Tensor],
                   tied: bool) -> LlamaForCausalLM:
    """The Hugging Face model holding what a v2 file holds (q and k back in Hugging Face's order)."""
    head_size = m.dim // m.n_heads
    kv_dim = m.n_kv_heads * head_size
    w = dict(base)
    w["model.embed_tokens.weight"] = deq["tok_embeddings"]
    if not tied:
        w["lm_head.weight"] = deq["output"]
    hf_names = {"wq": "self_attn.q_proj", "wk": "self_attn.k_proj", "wv": "self_attn.v_proj", "wo": "self_attn.o_proj",
                "w1": "mlp.gate_proj", "w2": "mlp.down_proj", "w3": "mlp.up_proj"}
    for i in range(m.n_layers):
        for key, hf in hf_names.items():
            value = deq[f"layers.{i}.{key}"]
            if key == "wq":
                value = permute_original(value, m.n_heads, m.dim, m.dim)
            elif key == "wk":
                value = permute_original(value, m.n_kv_heads, kv_dim, m.dim)
            w[f"model.layers.{i}.{hf}.weight"] = value
    return hf_model(cfg, w, m.vocab_size, tied)


# ---------------------------------------------------------------------------------------------
# Independent float64 NumPy forward pass over the .bin file (run.c / runq.c layouts)
# ---------------------------------------------------------------------------------------------


def read_llama2c(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Reads a .bin as run.c's read_checkpoint / memory_map_weights (v0) or runq.c's (v2) and
    export.py's version1_export (v1) lay it out; every value as float64."""
    data = path.read_bytes()
    (magic,) = struct.unpack_from("<I", data, 0)
    if magic == MAGIC:
        version, dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("<iiiiiiii", data, 4)
        shared = data[36] == 1
        group_size = struct.unpack_from("<i", data, 37)[0] if version == 2 else None
        pos = 256
    else:
        version, group_size = 0, None
        dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("<iiiiiii", data, 0)
        shared, vocab = vocab > 0, abs(vocab)
        pos = 28
    hs = dim // n_heads
    kv_dim = n_kv * hs
    h = dict(version=version, dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab,
             seq_len=seq_len, shared=shared, group_size=group_size)

    def floats(count: int, shape) -> np.ndarray:
        nonlocal pos
        a = np.frombuffer(data, dtype="<f4", count=count, offset=pos).astype(np.float64).reshape(shape)
        pos += 4 * count
        return a

    def quantized(count: int, shape) -> np.ndarray:  # runq.c init_quantized_tensors + dequantize
        nonlocal pos
        q = np.frombuffer(data, dtype=np.int8, count=count, offset=pos).astype(np.float32)
        pos += count
        s = np.frombuffer(data, dtype="<f4", count=count // group_size, offset=pos)
        pos += 4 * (count // group_size)
        return (q * np.repeat(s, group_size)).astype(np.float64).reshape(shape)

    w: dict[str, np.ndarray] = {}
    shapes = {"wq": (dim, dim), "wk": (kv_dim, dim), "wv": (kv_dim, dim), "wo": (dim, dim),
              "w1": (hidden, dim), "w2": (dim, hidden), "w3": (hidden, dim)}
    matrix = quantized if version == 2 else floats

    def per_layer(key: str, shape, read) -> None:
        for i in range(n_layers):
            w[f"{i}.{key}"] = read(int(np.prod(shape)), shape)

    if version == 0:
        w["embed"] = floats(vocab * dim, (vocab, dim))
        per_layer("attention_norm", (dim,), floats)
        for key in ("wq", "wk", "wv", "wo"):
            per_layer(key, shapes[key], floats)
        per_layer("ffn_norm", (dim,), floats)
        for key in ("w1", "w2", "w3"):
            per_layer(key, shapes[key], floats)
        w["norm"] = floats(dim, (dim,))
        pos += 4 * (seq_len * hs // 2) * 2  # run.c skips freq_cis_real and freq_cis_imag
    else:
        per_layer("attention_norm", (dim,), floats)
        per_layer("ffn_norm", (dim,), floats)
        w["norm"] = floats(dim, (dim,))
        w["embed"] = matrix(vocab * dim, (vocab, dim))
        for key in ("wq", "wk", "wv", "wo", "w1", "w2", "w3"):
            per_layer(key, shapes[key], matrix)
    w["output"] = w["embed"] if shared else matrix(vocab * dim, (vocab, dim))
    assert pos == len(data), (path, pos, len(data))
    return h, w


def np_attentions(path: Path, ids: list[int]) -> list[np.ndarray]:
    """run.c's forward in float64 over all positions at once: RMSNorm (eps 1e-5), RoPE on pairs
    (2i, 2i + 1) at angle pos · 10000^(-2i/head_size), causal GQA (head h reads kv head
    h / (n_heads / n_kv_heads)), SwiGLU w2(silu(w1 x) * w3 x)."""
    h, w = read_llama2c(path)
    dim, n_heads, n_kv = h["dim"], h["n_heads"], h["n_kv"]
    hs = dim // n_heads
    T = len(ids)

    def rms(x, weight):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * weight

    freq = 1.0 / 10000.0 ** (np.arange(0, hs, 2, dtype=np.float64) / hs)  # [hs/2]
    ang = np.arange(T, dtype=np.float64)[:, None] * freq[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def rope(v):  # v: [T, heads, hs]
        a, b = v[..., 0::2], v[..., 1::2]
        out = np.empty_like(v)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    x = w["embed"][ids]
    causal = np.tril(np.ones((T, T), dtype=bool))
    result = []
    for i in range(h["n_layers"]):
        xb = rms(x, w[f"{i}.attention_norm"])
        q = rope((xb @ w[f"{i}.wq"].T).reshape(T, n_heads, hs)).transpose(1, 0, 2)
        k = rope((xb @ w[f"{i}.wk"].T).reshape(T, n_kv, hs)).transpose(1, 0, 2)
        v = (xb @ w[f"{i}.wv"].T).reshape(T, n_kv, hs).transpose(1, 0, 2)
        kv_mul = n_heads // n_kv
        k, v = np.repeat(k, kv_mul, axis=0), np.repeat(v, kv_mul, axis=0)
        s = np.where(causal, q @ k.transpose(0, 2, 1) / math.sqrt(hs), -np.inf)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = s / s.sum(-1, keepdims=True)
        result.append(a)
        x = x + (a @ v).transpose(1, 0, 2).reshape(T, dim) @ w[f"{i}.wo"].T
        xb = rms(x, w[f"{i}.ffn_norm"])
        g = xb @ w[f"{i}.w1"].T
        x = x + (g / (1.0 + np.exp(-g)) * (xb @ w[f"{i}.w3"].T)) @ w[f"{i}.w2"].T
    return result


# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def sig8(x: float) -> float:
    return float(f"{x:.8g}")


def attentions(model: LlamaForCausalLM, ids: list[int]) -> list[np.ndarray]:
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                    output_attentions=True)
    return [a[0].double().numpy() for a in out.attentions]


def parameter_groups(model: LlamaForCausalLM) -> dict[str, int]:
    groups: dict[str, int] = {}
    for name, p in model.named_parameters():  # tied weights once
        g = "embeddings" if "embed_tokens" in name else (
            f"layer {int(name.split('.')[2])}" if name.startswith("model.layers.") else "other")
        groups[g] = groups.get(g, 0) + p.numel()
    return groups


def reference(path: Path, model: LlamaForCausalLM, token_lists: list[list[int]], notes: str, **extra) -> dict:
    entry = {"file": path.name, "notes": notes, "token_ids": token_lists, "attentions": [],
             "num_parameters": sum(p.numel() for p in model.parameters()), "num_parameters_per_group": parameter_groups(model)}
    worst = 0.0
    for ids in token_lists:
        ours = attentions(model, ids)
        check = np_attentions(path, ids)
        worst = max(worst, max(float(np.abs(a - b).max()) for a, b in zip(ours, check)))
        entry["attentions"].append([[[[sig8(v) for v in row] for row in head] for head in layer] for layer in ours])
    assert worst < NUMPY_TOLERANCE, (path.name, worst)
    entry["numpy_max_diff"] = float(f"{worst:.3g}")
    entry.update(extra)
    print(f"  {path.name}: {path.stat().st_size} bytes, max |transformers - numpy float64 from the .bin| = {worst:.2e}")
    return entry


def main() -> int:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)

    # Tokenizer.
    sp = train_tokenizer(OUT, vocab_size=400)
    vocab = sp.vocab_size()
    pieces, scores = export_tokenizer(sp, OUT / "tokenizer.bin")
    assert read_tokenizer_bin(OUT / "tokenizer.bin", vocab) == (pieces, scores)
    cases = tokenizer_cases(sp)
    entries = [case_entry(t, runc_encode(pieces, scores, t)) for t in cases]
    same_as_sp = sum(1 for t, e in zip(cases, entries) if b"\0" not in t and t.isascii() and
                     e["ids"] == [1] + sp.encode(t.decode("utf-8")))
    goldens = {"vocab_size": vocab, "bos": True, "eos": False,
               "pieces": [sp.id_to_piece(i) for i in range(vocab)], "cases": entries}
    (OUT / "tokenizer_goldens.json").write_text(json.dumps(goldens, ensure_ascii=False, indent=0) + "\n")
    print(f"tokenizer: vocab {vocab}, {len(entries)} cases ({same_as_sp} ASCII ones equal to SentencePiece's own encode)")

    # Checkpoints.
    cfg, base = source_weights()
    gen = torch.Generator().manual_seed(51)
    shared_weights = {k: v for k, v in base.items() if k not in ("model.embed_tokens.weight", "lm_head.weight")}
    shared_weights["model.embed_tokens.weight"] = 0.5 * torch.randn((vocab, cfg["hidden_size"]), generator=gen)
    unshared_hf = hf_model(cfg, base, cfg["vocab_size"], tied=False)
    shared_hf = hf_model(cfg, shared_weights, vocab, tied=True)
    seq_len = cfg["max_position_embeddings"]
    unshared = Llama2cModel(unshared_hf, seq_len)
    shared = Llama2cModel(shared_hf, seq_len)
    assert not unshared.shared and shared.shared

    gen = torch.Generator().manual_seed(52)
    small_lists = [torch.randint(0, cfg["vocab_size"], (n,), generator=gen).tolist() for n in (1, 7, 13)]
    text = "Once upon a time, Lily saw a café."
    text_ids = runc_encode(pieces, scores, text.encode())
    vocab_lists = [torch.randint(0, vocab, (n,), generator=gen).tolist() for n in (1, 7, 13)] + [text_ids]

    refs = {}
    write_v0(unshared, OUT / "tiny-v0.bin")
    refs["tiny-v0.bin"] = reference(
        OUT / "tiny-v0.bin", unshared_hf, small_lists, "v0 (legacy_export), negative vocab_size: unshared classifier after "
        "the freq_cis tables; fixtures/hf/tiny-llama's weights", version=0, shared_classifier=False)
    write_v0(shared, OUT / "tiny-v0-shared.bin")
    refs["tiny-v0-shared.bin"] = reference(
        OUT / "tiny-v0-shared.bin", shared_hf, vocab_lists, "v0, shared classifier; tiny-llama's layers with a "
        f"{vocab}-token embedding for tokenizer.bin; the last token list is run.c's encode of {json.dumps(text)}",
        version=0, shared_classifier=True, text=text)
    write_v1(unshared, OUT / "tiny-v1.bin")
    refs["tiny-v1.bin"] = reference(
        OUT / "tiny-v1.bin", unshared_hf, small_lists, "v1 (version1_export), f32, unshared", version=1,
        shared_classifier=False)
    # Group sizes that divide dim and hidden_dim: runq.c quantizes activations in the same groups
    # and drops the remainder otherwise (export.py checks dim only, so it would pick 32 here).
    for name, m, hf, lists, group, tied in (("tiny-v2.bin", unshared, unshared_hf, small_lists, 16, False),
                                             ("tiny-v2-shared.bin", shared, shared_hf, vocab_lists, 8, True)):
        deq = write_v2(m, OUT / name, group)
        model = dequantized_hf(cfg, dict(shared_weights if tied else base), m, deq, tied)
        int8_error = max(float(np.abs(a - b).max()) for ids in lists for a, b in zip(attentions(model, ids), attentions(hf, ids)))
        refs[name] = reference(
            OUT / name, model, lists, f"v2 (version2_export), int8 groups of {group}, "
            f"{'shared' if tied else 'unshared'} classifier; goldens of the dequantized weights",
            version=2, shared_classifier=tied, group_size=group, int8_vs_f32_max_diff=float(f"{int8_error:.3g}"))
        print(f"    int8 vs the f32 model: max attention difference {int8_error:.3g}")

    (OUT / "reference.json").write_text(json.dumps({
        "transformers_version": __import__("transformers").__version__, "torch_version": torch.__version__.split("+")[0],
        "sentencepiece_version": spm.__version__, "files": refs}, separators=(",", ":")) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"fixtures/llama2c total: {total} bytes")
    assert total <= MAX_BYTES, total
    return 0


if __name__ == "__main__":
    sys.exit(main())
