#!/usr/bin/env python3
"""llama.cpp's side of the GGUF benchmark, through llama-cpp-python (which builds llama.cpp from source).

    python3 benchmarks/llama_forward.py MODEL.gguf --tokens 128 [--iterations 10] [--warmup 2] [--threads 2]

evaluates the same token ids qkv gets (FIRST_ID, FIRST_ID+1, ... modulo the vocabulary; --first-id) as one
prompt (n_batch = n_ubatch >= the tokens, so one eval is one forward pass over the whole prompt) and prints
one JSON line: {"forward_ms": {"min", "median", "max"}, "tokens", "iterations", "load_ms", "peak_rss_bytes"}.
With --iterations 0 it loads, evaluates once and exits: the peak RSS of the whole job, for the memory
comparison. Not part of the tests.
"""

import argparse
import json
import resource
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, required=True)
    ap.add_argument("--first-id", type=int, default=1000)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import llama_cpp

    start = time.perf_counter()
    n = args.tokens
    llm = llama_cpp.Llama(model_path=args.model, n_threads=args.threads, n_threads_batch=args.threads,
                          n_batch=max(512, n), n_ubatch=max(512, n), n_ctx=max(512, n + 16), logits_all=False,
                          verbose=False)
    load_ms = (time.perf_counter() - start) * 1000
    vocab = llm.n_vocab()
    ids = [(args.first_id + i) % vocab for i in range(n)]
    times = []
    for r in range(args.warmup + max(1, args.iterations)):
        llm.reset()  # the KV cache starts empty every time: one eval is one whole prompt
        begin = time.perf_counter()
        llm.eval(ids)
        elapsed = (time.perf_counter() - begin) * 1000
        if r >= args.warmup:
            times.append(elapsed)
    out = dict(tokens=n, iterations=len(times), load_ms=load_ms,
               forward_ms=dict(min=min(times), median=statistics.median(times), max=max(times)),
               peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
               llama_cpp_python=llama_cpp.__version__)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
