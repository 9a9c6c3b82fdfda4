#!/usr/bin/env python3
"""Writes SmolLM2-135M-Instruct as a bf16 Hugging Face safetensors folder, for the memory benchmark.

    python3 benchmarks/make_bf16_smollm2.py SMOLLM2.gguf OUT_DIR

transformers' GGUF loader dequantizes the Q4_1 file; the model is cast to bfloat16 and saved with
save_pretrained (config.json + model.safetensors, tied embeddings stored once). Needs torch,
transformers, gguf and accelerate. Idempotent. Not part of the tests.
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, out = sys.argv[1], sys.argv[2]
    if os.path.exists(os.path.join(out, "model.safetensors")):
        print(out)
        return 0
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(source)),
                                                 gguf_file=os.path.basename(source), dtype=torch.float32)
    model = model.to(torch.bfloat16)
    model.save_pretrained(out + ".partial", safe_serialization=True)
    os.replace(out + ".partial", out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
