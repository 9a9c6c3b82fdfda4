#!/usr/bin/env python3
"""The Python + transformers version of `qkv run MODEL --text SENTENCE --format json`.

Usage: python_job.py MODEL_DIR SENTENCE OUTPUT

One process does the whole job, as a user would: import transformers, load the tokenizer and the
model (eager attention), tokenize the sentence, run the forward pass with output_attentions=True
and write the post-softmax matrices of every layer and head as JSON to OUTPUT (e.g. /dev/null).
benchmarks/bench.py times this process from fork to exit and reads its peak RSS.
"""

import json
import sys


def main():
    model_dir, sentence, output = sys.argv[1], sys.argv[2], sys.argv[3]
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager")
    model.eval()
    encoded = tokenizer(sentence, return_tensors="pt")
    with torch.inference_mode():
        out = model(**encoded, output_attentions=True)
    ids = encoded["input_ids"][0].tolist()
    # Same shape as `qkv run --format json`: tokens with id and text, then layers of heads of scores.
    report = dict(tokens=[dict(id=i, text=t) for i, t in zip(ids, tokenizer.convert_ids_to_tokens(ids))],
                  layers=[dict(layer=i, heads=[dict(head=h, scores=s.tolist()) for h, s in enumerate(a[0])])
                          for i, a in enumerate(out.attentions)])
    with open(output, "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
