#!/usr/bin/env python3
"""Build tiny random Hugging Face checkpoints and golden attention references.

Run by hand (not in CI) from the repository root:

    pip install -r scripts/requirements-reference.txt
    python scripts/make_hf_references.py            # writes fixtures/hf/
    python scripts/make_hf_references.py qwen2 qwen3 mistral   # only those families
    python scripts/make_hf_references.py llama3                # Llama 3.1 rotary scaling

Every folder under fixtures/hf/ is written by `save_pretrained(..., safe_serialization=True)`
of a transformers model built from a config (no download), float32, eager attention.
The weights come from our own seeded torch.Generator, not from transformers' initialiser,
so a rerun reproduces the same bytes as long as parameter names and shapes stay the same:

  * norm weights (LayerNorm / RMSNorm) = 1 + N(0, 0.3)   -- so the affine part matters
  * every bias (incl. norm biases)     =     N(0, 0.3)
  * embedding tables                   =     N(0, 0.5)
  * every other matrix                 =     N(0, 0.2)   -- logits of std ~1-3: peaked, not one-hot

reference.json, per folder:
  model_class, token_ids (lists of length 1, 7, 13), attentions (per token list: [layer][head][T][T],
  eager, output_attentions=True, batch 1, all-ones attention_mask, token_type_ids zeros for BERT),
  num_parameters (sum of numel over model.parameters(), tied tensors once),
  num_parameters_per_group (embeddings / layer N / other, see `group_of`),
  buffers ({name: [shape, dtype]} for non-parameter tensors present in the safetensors file),
  safetensors_tensors (sorted names over all shards), safetensors_files (file -> names).
Floats are rounded to 8 significant digits.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertForMaskedLM,
    BertModel,
    GPT2Config,
    GPT2LMHeadModel,
    GPT2Model,
    LlamaConfig,
    LlamaForCausalLM,
    LlamaModel,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "hf"
TOKEN_LENGTHS = (1, 7, 13)
VOCAB = 60

NORM_STD, BIAS_STD, EMBED_STD, MATRIX_STD = 0.3, 0.3, 0.5, 0.2
EMBED_MARKERS = ("embeddings", "wte", "wpe", "embed_tokens")
NORM_MARKERS = ("LayerNorm", "layernorm", "ln_", "norm")


def sig8(x: float) -> float:
    return float(f"{x:.8g}")


def round_nested(t: torch.Tensor):
    if t.dim() == 0:
        return sig8(t.item())
    return [round_nested(s) for s in t]


def fill_parameters(model: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter deterministically (sorted by name, tied tensors once)."""
    gen = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())  # remove_duplicate=True: tied weights appear once
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            leaf = name.rsplit(".", 1)[-1]
            is_norm = any(m in name for m in NORM_MARKERS) and p.dim() == 1
            if is_norm and leaf == "weight":
                value = 1.0 + NORM_STD * noise
            elif p.dim() == 1:
                value = BIAS_STD * noise
            elif any(m in name for m in EMBED_MARKERS):
                value = EMBED_STD * noise
            else:
                value = MATRIX_STD * noise
            p.copy_(value)


LAYER_RE = re.compile(r"(?:^|\.)(?:encoder\.layer|h|layers)\.(\d+)\.")


def group_of(name: str) -> str:
    if any(m in name for m in EMBED_MARKERS):
        return "embeddings"
    m = LAYER_RE.search(name)
    if m:
        return f"layer {int(m.group(1))}"
    return "other"


def parameter_groups(model: torch.nn.Module) -> dict[str, int]:
    groups: dict[str, int] = {}
    for name, p in model.named_parameters():
        g = group_of(name)
        groups[g] = groups.get(g, 0) + p.numel()

    def key(g: str):
        if g == "embeddings":
            return (0, 0)
        if g.startswith("layer "):
            return (1, int(g.split()[1]))
        return (2, 0)

    return {g: groups[g] for g in sorted(groups, key=key)}


def token_lists(seed: int) -> list[list[int]]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, VOCAB, (n,), generator=gen).tolist() for n in TOKEN_LENGTHS]


def attentions_for(model, ids: list[int], is_bert: bool):
    input_ids = torch.tensor([ids], dtype=torch.long)
    kwargs = dict(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), output_attentions=True)
    if is_bert:
        kwargs["token_type_ids"] = torch.zeros_like(input_ids)
    with torch.no_grad():
        out = model(**kwargs)
    atts = out.attentions
    assert atts is not None and len(atts) == model.config.num_hidden_layers
    for a in atts:
        assert a.dtype == torch.float32 and a.shape[0] == 1
        assert torch.allclose(a.sum(-1), torch.ones(()), atol=1e-5)
    return [a[0] for a in atts]


def safetensors_listing(folder: Path) -> dict[str, dict[str, tuple[list[int], str]]]:
    files = sorted(p.name for p in folder.glob("*.safetensors"))
    listing = {}
    for fname in files:
        with safe_open(folder / fname, "pt") as f:
            entries = {}
            for k in f.keys():
                sl = f.get_slice(k)
                entries[k] = (list(sl.get_shape()), sl.get_dtype())
            listing[fname] = entries
    return listing


def describe_attention(label: str, atts_per_list) -> None:
    maxes, ents = [], []
    for atts in atts_per_list:
        for a in atts:
            T = a.shape[-1]
            if T < 2:
                continue
            maxes.append(a.max(-1).values.mean().item())
            ent = -(a.clamp_min(1e-30) * a.clamp_min(1e-30).log()).sum(-1)
            ents.append(ent.mean().item())
    if maxes:
        print(f"  {label}: mean row max {sum(maxes) / len(maxes):.3f}, mean row entropy {sum(ents) / len(ents):.3f} nats")


def write_reference(folder: Path, model, *, is_bert: bool, seed: int, notes: str | None = None) -> dict:
    model.eval()
    ids = token_lists(seed + 1000)
    atts = [attentions_for(model, t, is_bert) for t in ids]
    describe_attention(folder.name, atts)
    listing = safetensors_listing(folder)
    names = sorted(n for entries in listing.values() for n in entries)
    buffer_names = {n for n, _ in model.named_buffers()}
    param_names = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    buffers = {}
    for entries in listing.values():
        for n, (shape, dtype) in entries.items():
            if n not in param_names:
                # Present in the file but not a parameter: a persistent buffer (or a legacy one).
                buffers[n] = [shape, dtype]
    for n in buffers:
        if n not in buffer_names:
            assert notes, f"{n} in file is neither parameter nor buffer"
    num = sum(p.numel() for p in model.parameters())
    groups = parameter_groups(model)
    assert sum(groups.values()) == num
    ref = {
        "model_class": type(model).__name__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__.split("+")[0],
        "token_ids": ids,
        "attentions": [[round_nested(layer) for layer in per_list] for per_list in atts],
        "num_parameters": num,
        "num_parameters_per_group": groups,
        "buffers": buffers,
        "safetensors_tensors": names,
        "safetensors_files": {f: sorted(e) for f, e in listing.items()},
    }
    if notes:
        ref["notes"] = notes
    (folder / "reference.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")
    return ref


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def save(model, folder: Path, **kw) -> None:
    model.save_pretrained(folder, safe_serialization=True, **kw)


def reload_check(cls, folder: Path, model, ref: dict, is_bert: bool) -> None:
    """Load the saved folder back with transformers and check the attentions are bit-identical."""
    again = cls.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    for ids in ref["token_ids"]:
        got = attentions_for(again, ids, is_bert)
        expected = attentions_for(model, ids, is_bert)
        for g, e in zip(got, expected):
            assert torch.equal(g, e), folder
    orig = dict(model.state_dict())
    for k, v in again.state_dict().items():
        if k in orig:
            assert torch.equal(v, orig[k]), (folder, k)


def add_legacy_position_ids(folder: Path, prefix: str, max_positions: int) -> None:
    """Mimic checkpoints saved by transformers < 4.31, where BertEmbeddings.position_ids was persistent."""
    path = folder / "model.safetensors"
    tensors = {}
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
        for k in f.keys():
            tensors[k] = f.get_tensor(k)
    tensors[f"{prefix}embeddings.position_ids"] = torch.arange(max_positions, dtype=torch.int64).unsqueeze(0)
    save_file(tensors, str(path), metadata=metadata)


# ---------------------------------------------------------------------------------------------
# Independent float64 NumPy forward pass, read straight from the saved files (config.json +
# *.safetensors). It shares no code with transformers and pins down the math NOTES.md describes.
# ---------------------------------------------------------------------------------------------


def load_numpy_weights(folder: Path) -> dict[str, np.ndarray]:
    weights = {}
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(path, "np") as f:
            for k in f.keys():
                weights[k] = f.get_tensor(k).astype(np.float64)
    return weights


def np_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def np_layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)  # biased variance
    return (x - mu) / np.sqrt(var + eps) * w + b


def np_rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def np_gelu_erf(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def np_gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def strip_prefix(w: dict, prefix: str) -> dict:
    if any(k.startswith(prefix) for k in w):
        return {k[len(prefix):]: v for k, v in w.items() if k.startswith(prefix)}
    return w


def np_bert_attentions(folder: Path, ids: list[int]) -> list[np.ndarray]:
    cfg = json.loads((folder / "config.json").read_text())
    w = strip_prefix(load_numpy_weights(folder), "bert.")
    H, eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]
    T = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = np_layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    out = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda v, n: v @ w[p + n + ".weight"].T + w[p + n + ".bias"]  # noqa: E731
        q, k, v = (lin(x, f"attention.self.{n}") for n in ("query", "key", "value"))
        d = q.shape[-1] // H
        q, k, v = (t.reshape(T, H, d).transpose(1, 0, 2) for t in (q, k, v))
        a = np_softmax(q @ k.transpose(0, 2, 1) / math.sqrt(d))
        out.append(a)
        ctx = (a @ v).transpose(1, 0, 2).reshape(T, H * d)
        x = np_layer_norm(lin(ctx, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"],
                          w[p + "attention.output.LayerNorm.bias"], eps)
        h = np_gelu_erf(lin(x, "intermediate.dense"))
        x = np_layer_norm(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                          w[p + "output.LayerNorm.bias"], eps)
    return out


def causal(scores: np.ndarray) -> np.ndarray:
    T = scores.shape[-1]
    return np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)


def np_gpt2_attentions(folder: Path, ids: list[int]) -> list[np.ndarray]:
    cfg = json.loads((folder / "config.json").read_text())
    w = strip_prefix(load_numpy_weights(folder), "transformer.")
    H, eps, E = cfg["n_head"], cfg["layer_norm_epsilon"], cfg["n_embd"]
    assert cfg["activation_function"] == "gelu_new" and cfg["scale_attn_weights"]
    inverse = cfg.get("scale_attn_by_inverse_layer_idx", False)
    T, d = len(ids), E // H
    x = w["wte.weight"][ids] + w["wpe.weight"][:T]
    out = []
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        conv = lambda v, n: v @ w[p + n + ".weight"] + w[p + n + ".bias"]  # noqa: E731  Conv1D: [in, out]
        h = np_layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = conv(h, "attn.c_attn")
        q, k, v = (qkv[:, j * E:(j + 1) * E].reshape(T, H, d).transpose(1, 0, 2) for j in range(3))
        a = np_softmax(causal(q @ k.transpose(0, 2, 1) / math.sqrt(d) / ((i + 1) if inverse else 1)))
        out.append(a)
        x = x + conv((a @ v).transpose(1, 0, 2).reshape(T, E), "attn.c_proj")
        h = np_layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        x = x + conv(np_gelu_tanh(conv(h, "mlp.c_fc")), "mlp.c_proj")
    return out


def np_llama_attentions(folder: Path, ids: list[int]) -> list[np.ndarray]:
    """The LLaMA family: LLaMA, Mistral (sliding window), Qwen2 (q/k/v bias), Qwen3 (q/k RMSNorm)."""
    cfg = json.loads((folder / "config.json").read_text())
    w = strip_prefix(load_numpy_weights(folder), "model.")
    H, KV, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["rms_norm_eps"]
    d = cfg.get("head_dim") or cfg["hidden_size"] // H
    rope = cfg.get("rope_parameters") or dict(cfg.get("rope_scaling") or {}, rope_theta=cfg.get("rope_theta", 10000.0))
    theta = rope["rope_theta"]
    assert cfg["hidden_act"] == "silu" and rope.get("rope_type", "default") in ("default", "llama3")
    assert not cfg.get("use_sliding_window", False)
    window = cfg.get("sliding_window") if cfg["model_type"] == "mistral" else None
    T = len(ids)
    inv_freq = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)  # [d/2]
    if rope.get("rope_type") == "llama3":  # Llama 3.1: the paper's piecewise rule, in float64
        factor, low, high = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
        original = rope["original_max_position_embeddings"]
        wavelength = 2 * math.pi / inv_freq
        smooth = (original / wavelength - low) / (high - low)
        inv_freq = np.where(wavelength < original / high, inv_freq,
                            np.where(wavelength > original / low, inv_freq / factor,
                                     (1 - smooth) * inv_freq / factor + smooth * inv_freq))
    ang = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]  # [T, d/2]
    cos, sin = np.cos(ang), np.sin(ang)

    def rotate(t):  # t: [heads, T, d]; pairs are (j, j + d/2), "rotate_half" layout
        a, b = t[..., : d // 2], t[..., d // 2:]
        return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)

    def mask(scores):  # causal, and with a window only keys j > i - window
        i, j = np.arange(T)[:, None], np.arange(T)[None, :]
        visible = (j <= i) & ((j > i - window) if window else True)
        return np.where(visible, scores, -np.inf)

    x = w["embed_tokens.weight"][ids]
    out = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"layers.{i}."

        def lin(v, n):  # nn.Linear, with its bias when the checkpoint has one (Qwen2's q/k/v)
            y = v @ w[p + n + ".weight"].T
            return y + w[p + n + ".bias"] if p + n + ".bias" in w else y

        h = np_rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(h, "self_attn.q_proj").reshape(T, H, d)
        k = lin(h, "self_attn.k_proj").reshape(T, KV, d)
        v = lin(h, "self_attn.v_proj").reshape(T, KV, d).transpose(1, 0, 2)
        if p + "self_attn.q_norm.weight" in w:  # Qwen3: RMSNorm over each head's q and k
            q = np_rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = np_rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = rotate(q.transpose(1, 0, 2)), rotate(k.transpose(1, 0, 2))
        group = H // KV
        k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)  # query head j uses kv head j // group
        a = np_softmax(mask(q @ k.transpose(0, 2, 1) / math.sqrt(d)))
        out.append(a)
        x = x + lin((a @ v).transpose(1, 0, 2).reshape(T, H * d), "self_attn.o_proj")
        h = np_rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = lin(h, "mlp.gate_proj")
        x = x + lin(g / (1.0 + np.exp(-g)) * lin(h, "mlp.up_proj"), "mlp.down_proj")
    return out


NUMPY_TOLERANCE = 2e-6  # float32 transformers vs float64 NumPy, absolute, on probabilities


def numpy_check(folder: Path, kind: str) -> float:
    ref = json.loads((folder / "reference.json").read_text())
    fn = {"bert": np_bert_attentions, "gpt2": np_gpt2_attentions, "llama": np_llama_attentions, "llama3": np_llama_attentions,
          "mistral": np_llama_attentions, "qwen2": np_llama_attentions, "qwen3": np_llama_attentions}[kind]
    worst = 0.0
    for ids, expected in zip(ref["token_ids"], ref["attentions"]):
        got = fn(folder, ids)
        for g, e in zip(got, expected):
            worst = max(worst, float(np.abs(g - np.asarray(e, dtype=np.float64)).max()))
    assert worst < NUMPY_TOLERANCE, (folder.name, worst)
    print(f"  {folder.name}: max |transformers - numpy float64| = {worst:.2e}")
    return worst


def build_bert() -> None:
    common = dict(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
        attn_implementation="eager",
    )
    torch.manual_seed(11)
    model = BertModel(BertConfig(**common))
    fill_parameters(model, seed=11)
    folder = fresh(OUT / "tiny-bert")
    save(model, folder)
    ref = write_reference(folder, model, is_bert=True, seed=11)
    reload_check(BertModel, folder, model, ref, True)

    torch.manual_seed(12)
    mlm = BertForMaskedLM(BertConfig(**common))
    assert mlm.cls.predictions.decoder.weight is mlm.bert.embeddings.word_embeddings.weight
    fill_parameters(mlm, seed=12)
    folder = fresh(OUT / "tiny-bert-prefixed")
    save(mlm, folder)
    add_legacy_position_ids(folder, "bert.", common["max_position_embeddings"])
    ref = write_reference(
        folder, mlm, is_bert=True, seed=12,
        notes="BertForMaskedLM: tensors carry the 'bert.' prefix, no pooler, cls.predictions.* head; "
              "decoder.weight is tied to bert.embeddings.word_embeddings.weight and decoder.bias to "
              "cls.predictions.bias, so neither decoder tensor is in the file. "
              "bert.embeddings.position_ids (int64 [1, 64] = arange) was added to the file after saving to "
              "mimic checkpoints written by transformers < 4.31; it is not a parameter.",
    )
    reload_check(BertForMaskedLM, folder, mlm, ref, True)


def build_gpt2() -> None:
    common = dict(
        vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=VOCAB - 1,
        eos_token_id=VOCAB - 1, attn_implementation="eager",
    )
    torch.manual_seed(21)
    lm = GPT2LMHeadModel(GPT2Config(n_inner=64, **common))
    assert lm.lm_head.weight is lm.transformer.wte.weight
    fill_parameters(lm, seed=21)
    folder = fresh(OUT / "tiny-gpt2")
    save(lm, folder)
    ref = write_reference(
        folder, lm, is_bert=False, seed=21,
        notes="GPT2LMHeadModel with n_inner=64 (not 4*n_embd); lm_head.weight is tied to transformer.wte.weight "
              "and is not in the file.",
    )
    reload_check(GPT2LMHeadModel, folder, lm, ref, False)

    torch.manual_seed(22)
    base_cfg = dict(common, n_embd=24, n_head=3)
    base = GPT2Model(GPT2Config(n_inner=None, layer_norm_epsilon=1e-6, **base_cfg))
    fill_parameters(base, seed=22)
    folder = fresh(OUT / "tiny-gpt2-model")
    save(base, folder)
    ref = write_reference(
        folder, base, is_bert=False, seed=22,
        notes="Plain GPT2Model: no 'transformer.' prefix; n_embd 24, 3 heads (head_dim 8); n_inner=null so "
              "the MLP width is 4*n_embd=96; layer_norm_epsilon=1e-6.",
    )
    reload_check(GPT2Model, folder, base, ref, False)

    torch.manual_seed(23)
    scaled_cfg = dict(common, n_layer=3, tie_word_embeddings=False)
    scaled = GPT2LMHeadModel(GPT2Config(n_inner=48, scale_attn_by_inverse_layer_idx=True, **scaled_cfg))
    assert scaled.lm_head.weight is not scaled.transformer.wte.weight
    fill_parameters(scaled, seed=23)
    folder = fresh(OUT / "tiny-gpt2-inverse-scale")
    save(scaled, folder)
    ref = write_reference(
        folder, scaled, is_bert=False, seed=23,
        notes="GPT2LMHeadModel with scale_attn_by_inverse_layer_idx=True (layer i's scores also divided by i+1), "
              "3 layers, untied lm_head (stored in the file, counted in 'other').",
    )
    reload_check(GPT2LMHeadModel, folder, scaled, ref, False)


def legacy_llama_config(path: Path) -> None:
    """Rewrite a transformers-5 LLaMA config.json in the layout of pre-v5 hub checkpoints: top-level
    rope_theta, and rope_scaling null (default RoPE) or the scaling parameters without rope_theta
    (as Llama 3.1+ hub configs have them)."""
    cfg = json.loads(path.read_text())
    rope = cfg.pop("rope_parameters")
    scaling = {k: v for k, v in rope.items() if k != "rope_theta"}
    if rope["rope_type"] == "default":
        assert rope == {"rope_theta": rope["rope_theta"], "rope_type": "default"}, rope
        scaling = None
    legacy = {}
    for k, v in cfg.items():
        if k == "dtype":
            legacy["torch_dtype"] = v
        else:
            legacy[k] = v
        if k == "rms_norm_eps":
            legacy["rope_scaling"] = scaling
            legacy["rope_theta"] = rope["rope_theta"]
    path.write_text(json.dumps(legacy, indent=2, sort_keys=True) + "\n")


def build_llama() -> None:
    torch.manual_seed(31)
    cfg = LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=48, max_position_embeddings=64, rope_theta=500000.0, rms_norm_eps=1e-5,
        tie_word_embeddings=False, attn_implementation="eager",
    )
    lm = LlamaForCausalLM(cfg)
    assert lm.lm_head.weight is not lm.model.embed_tokens.weight
    fill_parameters(lm, seed=31)
    folder = fresh(OUT / "tiny-llama")
    save(lm, folder)
    ref = write_reference(
        folder, lm, is_bert=False, seed=31,
        notes="LlamaForCausalLM, GQA 4 query heads / 2 kv heads, head_dim 8, untied lm_head (counted in 'other').",
    )
    reload_check(LlamaForCausalLM, folder, lm, ref, False)

    # Same weights, same reference, sharded into several files plus model.safetensors.index.json.
    folder = fresh(OUT / "tiny-llama-sharded")
    save(lm, folder, max_shard_size="30KB")
    legacy_llama_config(folder / "config.json")
    ref = write_reference(
        folder, lm, is_bert=False, seed=31,
        notes="Same weights and attentions as tiny-llama, saved with max_shard_size='30KB'. config.json is "
              "rewritten in the pre-v5 layout real hub checkpoints use: top-level rope_theta and "
              "rope_scaling=null instead of rope_parameters, torch_dtype instead of dtype "
              "(transformers reloads it to bit-identical attentions).",
    )
    assert len(ref["safetensors_files"]) >= 2, ref["safetensors_files"].keys()
    assert (folder / "model.safetensors.index.json").exists()
    reload_check(LlamaForCausalLM, folder, lm, ref, False)

    torch.manual_seed(32)
    cfg = LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
        head_dim=8, intermediate_size=40, max_position_embeddings=64, rope_theta=25000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=True, attn_implementation="eager",
    )
    base = LlamaModel(cfg)
    fill_parameters(base, seed=32)
    folder = fresh(OUT / "tiny-llama-model")
    save(base, folder)
    ref = write_reference(
        folder, base, is_bert=False, seed=32,
        notes="Plain LlamaModel: no 'model.' prefix; 8 query heads / 2 kv heads with explicit head_dim=8 "
              "(so q_proj is [64, 32] and o_proj [32, 64], head_dim != hidden_size/heads); rope_theta 25000, "
              "rms_norm_eps 1e-6, intermediate 40.",
    )
    reload_check(LlamaModel, folder, base, ref, False)


# Llama 3.1's rotary scaling on a tiny model: head_dim 16, theta 1e4, original context 64, so the 8
# rotary pairs have wavelengths 6.3, 20, 63, 199, 628, ...: pair 0 is kept (< 64/4), pairs 1 and 2 are
# interpolated, pairs 3-7 are divided by the factor (> 64/1) -- every branch of the formula is used.
LLAMA3_ROPE = {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}


def build_llama3() -> None:
    torch.manual_seed(35)
    cfg = LlamaConfig(
        vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=96, max_position_embeddings=512, rope_parameters=dict(LLAMA3_ROPE), rms_norm_eps=1e-5,
        tie_word_embeddings=True, attn_implementation="eager",
    )
    lm = LlamaForCausalLM(cfg)
    assert lm.model.rotary_emb.rope_type == "llama3"
    fill_parameters(lm, seed=35)
    folder = fresh(OUT / "tiny-llama3")
    save(lm, folder)
    legacy_llama_config(folder / "config.json")
    ref = write_reference(
        folder, lm, is_bert=False, seed=35,
        notes="LlamaForCausalLM with Llama 3.1 rotary scaling (rope_type llama3, factor 8, low_freq_factor 1, "
              "high_freq_factor 4, original_max_position_embeddings 64, rope_theta 1e4, head_dim 16: pair 0 kept, "
              "pairs 1-2 interpolated, 3-7 divided by 8); config.json in the hub layout of Llama 3.1+ "
              "(top-level rope_theta, rope_scaling without it); tied embeddings, GQA 4/2.",
    )
    reload_check(LlamaForCausalLM, folder, lm, ref, False)


def build_qwen2() -> None:
    torch.manual_seed(41)
    cfg = Qwen2Config(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=48, max_position_embeddings=64, rope_theta=1000000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=True, attn_implementation="eager",
    )
    lm = Qwen2ForCausalLM(cfg)
    assert lm.lm_head.weight is lm.model.embed_tokens.weight
    assert lm.model.layers[0].self_attn.q_proj.bias is not None and lm.model.layers[0].self_attn.o_proj.bias is None
    fill_parameters(lm, seed=41)
    folder = fresh(OUT / "tiny-qwen2")
    save(lm, folder)
    ref = write_reference(
        folder, lm, is_bert=False, seed=41,
        notes="Qwen2ForCausalLM: LLaMA wiring with biases on q/k/v (none on o_proj), GQA 4/2, rope_theta 1e6, "
              "tied embeddings (lm_head not in the file).",
    )
    reload_check(Qwen2ForCausalLM, folder, lm, ref, False)


def build_qwen3() -> None:
    torch.manual_seed(42)
    cfg = Qwen3Config(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        head_dim=16, intermediate_size=40, max_position_embeddings=64, rope_theta=1000000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=False, attn_implementation="eager",
    )
    lm = Qwen3ForCausalLM(cfg)
    fill_parameters(lm, seed=42)
    folder = fresh(OUT / "tiny-qwen3")
    save(lm, folder)
    ref = write_reference(
        folder, lm, is_bert=False, seed=42,
        notes="Qwen3ForCausalLM: q_norm/k_norm (RMSNorm over head_dim) before RoPE, no biases, head_dim 16 != "
              "hidden_size/heads (q_proj [64, 32]), GQA 4/2, untied lm_head.",
    )
    reload_check(Qwen3ForCausalLM, folder, lm, ref, False)


def build_mistral() -> None:
    torch.manual_seed(43)
    cfg = MistralConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
        intermediate_size=48, max_position_embeddings=64, rope_theta=10000.0, rms_norm_eps=1e-5, sliding_window=4,
        tie_word_embeddings=False, attn_implementation="eager",
    )
    lm = MistralForCausalLM(cfg)
    fill_parameters(lm, seed=43)
    folder = fresh(OUT / "tiny-mistral")
    save(lm, folder)
    ref = write_reference(
        folder, lm, is_bert=False, seed=43,
        notes="MistralForCausalLM with sliding_window 4: query i sees keys i-3...i (13-token list masks older keys); "
              "multi-query attention (4 heads, 1 kv head).",
    )
    reload_check(MistralForCausalLM, folder, lm, ref, False)


BUILDERS = {"bert": build_bert, "gpt2": build_gpt2, "llama": build_llama, "llama3": build_llama3, "qwen2": build_qwen2,
            "qwen3": build_qwen3, "mistral": build_mistral}


def main() -> int:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    chosen = sys.argv[1:] or list(BUILDERS)
    for name in chosen:
        BUILDERS[name]()
    print("independent float64 NumPy check:")
    for name in sorted(p.name for p in OUT.iterdir() if p.is_dir()):
        numpy_check(OUT / name, name.split("-")[1])
    total = 0
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
    print(f"fixtures/hf total: {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
