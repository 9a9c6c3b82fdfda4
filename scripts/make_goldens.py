#!/usr/bin/env python3
"""Golden attention and parameter counts for fixtures/*.qkv, from the independent float64 reference.

The fixtures are written by QKVKit (`swift run qkv-fixtures fixtures`); this script reads them with
scripts/qkvref.py, a separate implementation of the spec, so the goldens never come from qkv itself.

    python3 scripts/make_goldens.py        # writes fixtures/golden/NAME.attention.json / NAME.inspect.json
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qkvref  # noqa: E402

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
with open(os.path.join(root, "fixtures.json")) as f:
    manifest = json.load(f)
os.makedirs(os.path.join(root, "golden"), exist_ok=True)
for name, entry in manifest.items():
    metadata, tensors, info = qkvref.read_qkv(os.path.join(root, name + ".qkv"))
    with open(os.path.join(root, "golden", name + ".attention.json"), "w") as f:
        json.dump(qkvref.attention_json(metadata, tensors, entry["tokens"]), f)
    with open(os.path.join(root, "golden", name + ".inspect.json"), "w") as f:
        json.dump(qkvref.inspect_json(metadata, info), f)
    print("golden", name)
