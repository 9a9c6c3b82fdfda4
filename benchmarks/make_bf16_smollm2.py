#!/usr/bin/env python3
"""Writes SmolLM2-135M-Instruct as a bf16 Hugging Face safetensors folder, for the memory benchmark.

    python3 benchmarks/make_bf16_smollm2.py SMOLLM2.gguf OUT_DIR

transformers' GGUF loader dequantizes the Q4_1 file; the weights are cast to bfloat16 and written with
safetensors' save_file (tied embeddings stored once), beside config.json and the tokenizer.
(save_pretrained refuses a model that came from a GGUF file.) Needs torch,
transformers, gguf and accelerate. Idempotent. Not part of the tests.
"""

import json
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
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = os.path.dirname(os.path.abspath(source)), os.path.basename(source)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    state = {key: value.to(torch.bfloat16).contiguous() for key, value in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    partial = out + ".partial"
    os.makedirs(partial, exist_ok=True)
    save_file(state, os.path.join(partial, "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    config["torch_dtype"] = "bfloat16"
    with open(os.path.join(partial, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tokenizer.save_pretrained(partial)
    if os.path.exists(out):
        import shutil
        shutil.rmtree(out)
    os.replace(partial, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
