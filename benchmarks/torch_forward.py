#!/usr/bin/env python3
"""PyTorch eager forward timing on a BERT-style model folder, the counterpart of `qkv bench`.

Usage: torch_forward.py MODEL_DIR --tokens 8,32,128 [--first-id 1000] [--iterations 20] [--warmup 3]
       [--threads 2] [--dump-attention T] [--serve]

Prints one JSON object: {"torch": version, "threads": n, "results": [{"tokens": T, "forward_ms":
{"min", "median", "max"}, "iterations", "warmup"}], "peak_rss_bytes": ..., "attention": {...}}.
Token ids are FIRST_ID .. FIRST_ID+T-1, fed as they are (no [CLS]/[SEP] added), exactly like
`qkv bench --tokens`. Each forward is timed alone with time.perf_counter under inference_mode.
With --serve it keeps the model loaded and answers lines read from stdin: "T" -> one timing result,
"equal T" -> the same for the equal-work model, "attention T" -> {"tokens", "layers"}; one JSON line each.

The equal-work model does what `qkv run` and `qkv bench` do: it stops after the last layer's attention.
It is a copy of the model whose last layer's attention output projection + LayerNorm, intermediate
and output blocks are pass-throughs and whose pooler is gone; none of those can change an attention
matrix, and the copy's attentions are checked to be bit-identical to the full model's.
"""

import argparse
import copy
import json
import resource
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", default="8,32,128")
    ap.add_argument("--first-id", type=int, default=1000)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dump-attention", type=int, default=0,
                    help="also return the attention of this many tokens (for a correctness check)")
    ap.add_argument("--serve", action="store_true",
                    help="keep the model loaded; read token counts from stdin, answer one JSON line each")
    args = ap.parse_args()

    import torch
    from transformers import AutoModel

    torch.set_num_threads(args.threads)
    model = AutoModel.from_pretrained(args.model, attn_implementation="eager")
    model.eval()

    class PassThrough(torch.nn.Module):
        def forward(self, hidden_states, input_tensor=None):
            return hidden_states

    def equal_work_copy():
        """The model without what follows the last layer's attention (BERT family only), or None."""
        encoder = getattr(model, "encoder", None)
        if encoder is None or not hasattr(encoder, "layer"):
            return None
        trimmed = copy.deepcopy(model)
        last = trimmed.encoder.layer[-1]
        last.attention.output, last.intermediate, last.output = PassThrough(), PassThrough(), PassThrough()
        trimmed.pooler = None
        ids = torch.arange(args.first_id, args.first_id + 16, dtype=torch.long).unsqueeze(0)
        with torch.inference_mode():
            full = model(input_ids=ids, output_attentions=True).attentions
            cut = trimmed(input_ids=ids, output_attentions=True).attentions
        if not all(torch.equal(a, b) for a, b in zip(full, cut)):
            raise RuntimeError("the equal-work model changed the attention")
        return trimmed

    equal = equal_work_copy() if args.serve else None

    def measure(t, model=model):
        ids = torch.arange(args.first_id, args.first_id + t, dtype=torch.long).unsqueeze(0)
        for _ in range(args.warmup):
            model(input_ids=ids, output_attentions=True)
        times = []
        for _ in range(args.iterations):
            start = time.perf_counter()
            out = model(input_ids=ids, output_attentions=True)
            times.append((time.perf_counter() - start) * 1e3)
            assert len(out.attentions) == model.config.num_hidden_layers
        return dict(tokens=t, iterations=args.iterations, warmup=args.warmup,
                    forward_ms=dict(min=min(times), median=statistics.median(times), max=max(times)))

    def attention_of(t):
        ids = torch.arange(args.first_id, args.first_id + t, dtype=torch.long).unsqueeze(0)
        out = model(input_ids=ids, output_attentions=True)
        return dict(tokens=t, layers=[a[0].double().tolist() for a in out.attentions])

    results, attention = [], None
    with torch.inference_mode():
        if args.serve:
            # One line per request on stdin (a token count), one JSON line back: the model stays loaded
            # so bench.py can alternate qkv and PyTorch every few seconds.
            print(json.dumps(dict(ready=True, torch=torch.__version__, threads=torch.get_num_threads())), flush=True)
            for line in sys.stdin:
                words = line.split()
                if words[:1] == ["attention"]:
                    print(json.dumps(attention_of(int(words[1]))), flush=True)
                elif words[:1] == ["equal"]:
                    print(json.dumps(measure(int(words[1]), equal) if equal is not None else dict(error="not BERT")),
                          flush=True)
                elif words:
                    print(json.dumps(measure(int(words[0]))), flush=True)
            return 0
        for t in [int(x) for x in args.tokens.split(",")]:
            results.append(measure(t))
        if args.dump_attention:
            attention = attention_of(args.dump_attention)

    print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads(), results=results,
                          peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                          attention=attention)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
