#!/usr/bin/env bash
# The qkv benchmark (issue 4): builds qkv in release, makes sure all-MiniLM-L6-v2 is present, measures
# qkv against PyTorch, numpy and Python's zlib side by side, and writes BENCHMARKS.md and
# benchmarks/results/latest.json. Not part of CI. Takes a few minutes.
#
# Usage: bash benchmarks/run.sh [--quick] [--only forward,e2e,matmul,inspect,decode]
# Environment: QKV_SCRATCH_PATH  SwiftPM scratch folder (default .build)
#              QKV_MODELS        model cache (default ~/.cache/qkv-models)
#              QKV_BENCH_WAIT_IDLE  seconds to wait, before each part, for other work to leave the CPUs
#                                (default 300; the report records how busy the machine was)
#
# A part that fails (build, model download, a missing Python package, one comparison) is recorded in
# the report and the rest still runs.
set -uo pipefail
cd "$(dirname "$0")/.."

scratch="${QKV_SCRATCH_PATH:-.build}"
models="${QKV_MODELS:-$HOME/.cache/qkv-models}"
model="$models/all-MiniLM-L6-v2"
errors=""
note() { echo "[run.sh] $*" >&2; }
problem() { note "PROBLEM: $*"; errors+="$*"$'\n'; }

if ! command -v python3 >/dev/null; then
    echo "benchmarks/run.sh: python3 is required (it drives the benchmark and is one side of it)." >&2
    exit 1
fi

missing=()
for package in torch transformers numpy safetensors; do
    python3 -c "import $package" 2>/dev/null || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    problem "missing Python packages: ${missing[*]} (install with: python3 -m pip install ${missing[*]}); the parts that need them will fail"
fi
python3 -c "import threadpoolctl" 2>/dev/null \
    || note "threadpoolctl is not installed; numpy's BLAS kernel will not be recorded (python3 -m pip install threadpoolctl)"

note "building qkv in release (swift build -c release --scratch-path $scratch)"
if swift build -c release --scratch-path "$scratch" >&2; then
    bin_dir="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
else
    problem "swift build -c release failed; the qkv side of every part is missing"
    bin_dir="$scratch/release"
fi

note "making sure all-MiniLM-L6-v2 is in $model"
if ! bash scripts/fetch_minilm.sh "$models" >&2 || [ ! -f "$model/model.safetensors" ]; then
    problem "could not fetch all-MiniLM-L6-v2 into $model (bash scripts/fetch_minilm.sh $models)"
fi

python3 benchmarks/bench.py --bin-dir "$bin_dir" --model "$model" --wait-idle "${QKV_BENCH_WAIT_IDLE:-300}" \
    --setup-errors "$errors" "$@"
