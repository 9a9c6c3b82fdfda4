#!/usr/bin/env python3
"""numpy float32 `a @ b` timing, the counterpart of qkv-matmul-bench.

Usage: numpy_matmul.py [--threads 2] [--sizes 384,1024,2048] [--runs N]

Prints one JSON object: {"numpy": version, "blas": {...}, "results": [{"m","k","n","threads","runs",
"median_s","best_s","gflops"}]}. The run count per size follows qkv-matmul-bench's rule
(max(5, min(50, 2e10 / flops))) unless --runs is given; one untimed call comes first.
The caller sets OPENBLAS_NUM_THREADS too, so the pool has the right size even without threadpoolctl.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np


def blas_description():
    info = dict(numpy=np.__version__,
                env={k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")})
    try:
        import threadpoolctl
        info["threadpoolctl"] = threadpoolctl.threadpool_info()
    except ImportError:
        info["threadpoolctl"] = "not installed (pip install threadpoolctl)"
    try:
        config = np.show_config(mode="dicts")
        info["build_blas"] = config.get("Build Dependencies", {}).get("blas")
        info["simd"] = config.get("SIMD Extensions")
    except Exception as e:  # older numpy: no mode="dicts"
        info["build_blas"] = f"unavailable ({e})"
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="384,1024,2048")
    ap.add_argument("--runs", type=int, default=0)
    args = ap.parse_args()

    limiter = None
    try:
        import threadpoolctl
        limiter = threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:
        pass

    rng = np.random.default_rng(1)
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        c = np.empty((n, n), dtype=np.float32)
        flops = 2.0 * n * n * n
        runs = args.runs or max(5, min(50, int(2e10 / flops)))
        np.matmul(a, b, out=c)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        results.append(dict(m=n, k=n, n=n, threads=args.threads, runs=runs, median_s=median,
                            best_s=min(times), gflops=flops / median / 1e9))
    print(json.dumps(dict(blas=blas_description(), results=results)))
    del limiter
    return 0


if __name__ == "__main__":
    sys.exit(main())
