#!/usr/bin/env python3
"""Renders benchmarks/results/latest.json as BENCHMARKS.md.

bench.py calls render() at the end of a run; to re-render without measuring again:
    python3 benchmarks/report.py benchmarks/results/latest.json > BENCHMARKS.md
"""

import json
import sys

MIB = 1024 * 1024
QUIET = 0.10  # as in bench.py: a measurement is quiet when other work took less than this share of the CPUs


def ms(x):
    return f"{x:.2f} ms" if x < 100 else f"{x:.0f} ms"


def sec(x):
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def mib(x):
    return f"{x / MIB:.0f} MiB" if x >= 10 * MIB else f"{x / MIB:.1f} MiB"


def ratio(x):
    return f"{x:.3f}×" if x < 0.1 else f"{x:.2f}×"


def pct(x):
    return "?" if x is None else f"{x:.0%}"


def paired(x):
    """The headline ratio: the median of per-round ratios (both sides ran back to back in each round)."""
    return x.get("paired_ratio") or x["ratio"]


def forward_verdict_ratio(r):
    """The forward ratio the target is judged on: the worse of full and equal-work PyTorch."""
    return max(paired(r), r.get("equal_paired_ratio") or 0)


def met(ok):
    return "**met**" if ok else "**not met**"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def basis(x, unit="rounds"):
    """Which rounds a median is over: the quiet ones, or all of them on a busy machine."""
    if "rounds_used" not in x:
        return "all"
    if x["quiet"]:
        return (f"{len(x['rounds_used'])} of {x['rounds']} {unit} quiet"
                + (" (one free CPU)" if x.get("single_threaded") else ""))
    return f"all {x['rounds']} {unit}, **machine busy**"


def section_notes(s):
    la = s.get("load_average") if s else None
    if not la:
        return ""
    line = (f"Load average (1 min) {la['start'][0]:.2f} at the start of this part, {la['end'][0]:.2f} at the end; "
            f"it took {s.get('seconds', 0):.0f} s.")
    before, during = s.get("other_cpu_use_before"), s.get("other_cpu_use_during")
    if before is not None and during is not None:
        line += (f" Other work used {before:.0%} of the CPUs just before it"
                 + (f" (after the benchmark waited {s['waited_for_quiet_s']:.0f} s for a quieter machine)"
                    if s.get("waited_for_quiet_s", 0) > 1 else "")
                 + f" and {during:.0%} on average while it ran.")
    return line + "\n"


def section_error(s):
    if s is None:
        return "Not run.\n"
    if "error" in s:
        tb = "\n".join(s.get("traceback", []))
        return f"**This part failed:** `{s['error']}`\n\n```\n{tb}\n```\n" if tb else f"**This part failed:** `{s['error']}`\n"
    return None


def ok(sections, name):
    x = sections.get(name)
    return x is not None and "error" not in x


def targets(results):
    """(comparison, measured, target, status, basis) rows for the summary table."""
    s = results["sections"]
    rows = []

    def missing(name, what, target):
        rows.append((what, "not run" if name not in s else "failed", target, met(False), ""))

    if ok(s, "forward"):
        for r in s["forward"]["rows"]:
            shown = ratio(paired(r)) + (f" (equal work: {ratio(r['equal_paired_ratio'])})" if r.get("equal_paired_ratio") else "")
            rows.append((f"forward, {r['tokens']} tokens: qkv / PyTorch eager", shown, "≤ 0.5×",
                         met(forward_verdict_ratio(r) <= 0.5), basis(r)))
    else:
        missing("forward", "forward: qkv / PyTorch eager", "≤ 0.5×")
    if ok(s, "e2e"):
        e = s["e2e"]
        rows.append(("`qkv run --text` / Python job, wall time", ratio(e["wall_ratio"]), "≤ 0.05× (aim 0.01×)",
                     met(e["wall_ratio"] <= 0.05), basis(e, "run pairs")))
        rows.append(("`qkv run --text` / Python job, peak memory", ratio(e["memory_ratio"]), "≤ 0.25×",
                     met(e["memory_ratio"] <= 0.25), basis(e, "run pairs")))
    else:
        missing("e2e", "end to end: qkv / Python job", "≤ 0.05× wall, ≤ 0.25× memory")
    if ok(s, "matmul"):
        for r in s["matmul"]["rows"]:
            if r["size"] == 1024:
                rows.append((f"matmul 1024³ (`{r['op']}`): qkv / numpy GFLOP/s", ratio(paired(r)), "≥ 0.5×",
                             met(paired(r) >= 0.5), basis(r)))
    else:
        missing("matmul", "matmul 1024³: qkv / numpy GFLOP/s", "≥ 0.5×")
    if ok(s, "inspect"):
        i = s["inspect"]
        rows.append(("`inspect` 2 GiB file / 1 KiB file, wall time", ratio(i["ratio"]), "≤ 1.5×", met(i["ratio"] <= 1.5),
                     basis(i, "run pairs")))
    else:
        missing("inspect", "`inspect` 2 GiB / 1 KiB", "≤ 1.5×")
    if ok(s, "decode") and "shuffle+zlib" in s["decode"]["ratios"]:
        d = s["decode"]
        r = d["encodings"]["shuffle+zlib"].get("paired_ratio") or d["ratios"]["shuffle+zlib"]
        rows.append(("shuffle+zlib decode: qkv / Python `zlib.decompress` throughput", ratio(r), "≥ 1.0×", met(r >= 1.0),
                     basis(d["encodings"]["shuffle+zlib"])))
    else:
        missing("decode", "shuffle+zlib decode vs Python zlib", "≥ 1.0×")
    if ok(s, "gguf"):
        g = s["gguf"]
        for r in g["rows"]:
            if "error" in r:
                rows.append((f"GGUF {r['model']}", "not run", "", met(False), r["error"]))
                continue
            target = 1.0 if r["tokens"] >= 128 else 1.5 if r["tokens"] >= 32 else None
            rows.append((f"forward, {r['model']}, {r['tokens']} tokens: qkv / llama.cpp", ratio(r["paired_ratio"]),
                         f"≤ {target}×" if target else "(reported)",
                         met(r["paired_ratio"] <= target) if target else "–", basis(r)))
            if r["tokens"] == 128 or (r["tokens"] == max(x["tokens"] for x in g["rows"] if x.get("model") == r["model"])):
                rows.append((f"peak RSS of `qkv run`, {r['model']}, {r['tokens']} tokens: qkv / llama.cpp job",
                             ratio(r["rss_ratio"]), "≤ 1.0×", met(r["rss_ratio"] <= 1.0), "one run each"))
        seven = g.get("seven_b", {})
        if "error" in seven:
            rows.append(("7B-shaped Q4_K_M: `qkv run` 32 tokens", "not run", "< 6 GiB peak RSS", met(False), seven["error"]))
        else:
            rows.append(("7B-shaped Q4_K_M: peak RSS of `qkv run`, 32 tokens", mib(seven["run_peak_rss_bytes"]),
                         "< 6 GiB", met(seven["run_peak_rss_bytes"] < 6 * 2 ** 30), "max of runs"))
        half = g.get("bf16", {})
        if "error" in half:
            rows.append(("bf16 safetensors: peak RSS / file size", "not run", "≤ 1.2×", met(False), half["error"]))
        else:
            rows.append(("bf16 safetensors (SmolLM2): peak RSS of `qkv run` / file size", ratio(half["rss_ratio"]),
                         "≤ 1.2×", met(half["rss_ratio"] <= 1.2), "max of runs"))
    else:
        missing("gguf", "GGUF: qkv / llama.cpp", "≤ 1.0× at 128 tokens, ≤ 1.5× at 32")
    return rows


def render(results):
    m = results["machine"]
    s = results["sections"]
    out = []
    w = out.append
    w("# Benchmarks\n")
    w("qkv measured side by side with PyTorch, numpy, Python's zlib and llama.cpp, in one run on one machine,\n"
      "by the committed benchmark (issues 4 and 11). It is not part of the tests or CI. Reproduce with:\n")
    w("```sh\nbash benchmarks/run.sh\n```\n")
    w("That builds qkv in release, fetches all-MiniLM-L6-v2 and SmolLM2 if needed, makes the LLaMA-shaped GGUF\n"
      "files once (the 7B-shaped one needs ~14 GB of disk while it is made, and tens of minutes), runs every part\n"
      "below and rewrites this file and `benchmarks/results/latest.json` (every raw measurement). With the models\n"
      "made, it takes about half an hour.\n"
      "All times are **medians**; a ratio is qkv's number divided by the other side's.\n")
    w("**Ratios are paired.** This machine's speed changes by up to 1.7× within seconds, for both sides\n"
      "alike (numpy's 1024³ product alone swings between 85 and 140 GFLOP/s from one run to the next, with no\n"
      "other process running: the virtual CPUs share their host). So a ratio is taken per round, between two\n"
      "measurements made back to back, and the median of those per-round ratios is the headline. The ratio of\n"
      "the two sides' medians is shown next to it.\n")
    w("**How a shared machine is handled.** The two sides of each comparison run in rounds, back to back, the\n"
      "first side swapping every round. For every single measurement the benchmark also records how much of\n"
      "the CPUs *other* work took meanwhile (all CPU time in `/proc/stat` minus the benchmark's own). A round\n"
      f"is *quiet* when other work took less than {QUIET:.0%} of the CPUs during both of its measurements; for the\n"
      "single-threaded measurements (`inspect`, Python's zlib, qkv's decoding with one thread) it is enough that\n"
      "one whole CPU stayed free. Medians are\n"
      "over the quiet rounds when there are at least two, else over all rounds, and the \"basis\" column says which.\n"
      "A multi-threaded measurement that shares the CPUs with other work can be many times slower, so busy rounds\n"
      "say little about either side; every round is listed, with its other-work shares, below each table.\n")
    if results.get("quick"):
        w("> **Quick run** (`--quick`): fewer rounds and iterations; a smoke test, not a measurement to quote.\n")

    w("## Targets\n")
    w(table(["comparison", "measured", "target", "status", "basis"], targets(results)))
    busy = [f"{name} ({x['other_cpu_use_during']:.0%})" for name, x in s.items()
            if (x.get("other_cpu_use_during") or 0) >= QUIET]
    if busy:
        w(f"Other work took at least {QUIET:.0%} of the CPUs on average during: {', '.join(busy)}; their medians "
          "use the quiet rounds only where the basis column says so.\n")

    w("## Machine\n")
    flags = ", ".join(m.get("simd_flags") or []) or "unknown"
    mem = f"{m['memory_bytes'] / 2 ** 30:.1f} GiB" if m.get("memory_bytes") else "unknown"
    w(table(["item", "value"], [
        ("date", m.get("date")), ("CPU", m.get("cpu")), ("logical CPUs", m.get("logical_cpus")),
        ("SIMD flags", flags), ("qkv matrix kernels", m.get("qkv_kernels") or "?"), ("memory", mem), ("OS", m.get("os")),
        ("virtualization", m.get("virtualization") or "none detected"),
        ("Swift", m.get("swift")), ("Python", m.get("python")), ("torch", m.get("torch")),
        ("transformers", m.get("transformers")), ("numpy", m.get("numpy")), ("safetensors", m.get("safetensors")),
        ("zlib (Python / system)", f"{m.get('python_zlib')} / {m.get('system_zlib')}"),
        ("qkv code measured", (m.get("qkv_sources_commit") or m.get("qkv_commit") or "?")
         + (" (with uncommitted changes)" if m.get("qkv_tree_dirty") else "")),
        ("load average (1/5/15 min) at start", " / ".join(f"{x:.2f}" for x in m.get("load_average_start", []))),
        ("load average at end", " / ".join(f"{x:.2f}" for x in m.get("load_average_end", [])))]))
    if results.get("setup_errors"):
        w("**Setup problems:**\n")
        for e in results["setup_errors"]:
            w(f"- {e}")
        w("")

    # Forward ---------------------------------------------------------------
    w("## Forward pass: qkv vs PyTorch eager (all-MiniLM-L6-v2)\n")
    f = s.get("forward")
    err = section_error(f)
    if err:
        w(err)
    else:
        w(f"Token ids {f['first_id']}…{f['first_id']}+T−1 for both, fed as they are (no [CLS]/[SEP] added). "
          f"One measurement = {f['warmup']} warm-up passes, then the median of {f['iterations']} timed passes. "
          f"{f['rounds']} rounds; in each, for each size, one qkv measurement (`qkv bench`, a fresh process) and "
          "one PyTorch measurement (the model stays loaded in one process). PyTorch: `torch.set_num_threads(2)`, "
          "`attn_implementation=\"eager\"`, `output_attentions=True`, `torch.inference_mode()`. qkv uses all cores "
          f"({m.get('logical_cpus')} here). \"min\" is the fastest single pass of all rounds.\n")
        w("qkv's forward is the job of `qkv run`: it stops after the last layer's attention, since the last "
          "layer's output projection, LayerNorms and MLP (and the pooler) cannot change any attention matrix. "
          "That is 12.5% of MiniLM's matrix work that a full PyTorch forward also does, so PyTorch is measured "
          "twice in every round: the full model, and an *equal-work* copy with those modules replaced by "
          "pass-throughs (its attentions are checked to be bit-identical to the full model's). The target "
          "holds only if it holds against both.\n")
        w(table(["tokens", "qkv median", "PyTorch median", "paired ratio qkv/PyTorch", "PyTorch equal-work median",
                 "paired ratio qkv/equal-work", "target ≤ 1.0×", "basis",
                 "ratio of medians", "ratio of medians, all rounds", "qkv min", "PyTorch min", "qkv GFLOP/s",
                 "qkv load", "qkv peak RSS"],
                [(r["tokens"], ms(r["qkv_median_ms"]), ms(r["torch_median_ms"]), ratio(paired(r)),
                  ms(r["equal_median_ms"]) if r.get("equal_median_ms") else "–",
                  ratio(r["equal_paired_ratio"]) if r.get("equal_paired_ratio") else "–",
                  met(forward_verdict_ratio(r) <= 1.0), basis(r), ratio(r["ratio"]),
                  ratio(r.get("ratio_all_rounds", r["ratio"])),
                  ms(r["qkv_min_ms"]), ms(r["torch_min_ms"]), f"{r['qkv_gflops']:.1f}",
                  ms(r["qkv_load_ms"]), mib(r["qkv_peak_rss_bytes"])) for r in f["rows"]]))
        w("Every round, median ms qkv / PyTorch / PyTorch equal-work (other work's CPU share during each), "
          "✓ = quiet round used:\n")
        for r in f["rows"]:
            used = set(r.get("rounds_used", []))
            cells = []
            for k, (a, b) in enumerate(zip(r["qkv_round_medians"], r["torch_round_medians"])):
                oa = r.get("qkv_round_other", [None] * len(r["qkv_round_medians"]))[k]
                ob = r.get("torch_round_other", [None] * len(r["qkv_round_medians"]))[k]
                mark = " ✓" if r.get("quiet") and k in used else ""
                e = (r.get("equal_round_medians") or [None] * (k + 1))[k]
                oe = (r.get("equal_round_other") or [None] * (k + 1))[k]
                if e is None:
                    cells.append(f"{a:.1f} / {b:.1f} ({pct(oa)}, {pct(ob)}){mark}")
                else:
                    cells.append(f"{a:.1f} / {b:.1f} / {e:.1f} ({pct(oa)}, {pct(ob)}, {pct(oe)}){mark}")
            w(f"- T={r['tokens']}: " + "; ".join(cells))
        w("")
        c = f.get("correctness")
        if c:
            w(f"Same-job check: the attention of `qkv run --tokens` for the 8-token input differs from PyTorch's by at "
              f"most {c['max_abs_diff']:.2e} (all {c['layers']} layers, all heads).\n")
        w(section_notes(f))
        w(f"```sh\n{f['commands']['qkv']}\n{f['commands']['torch']}\n```\n")

    # End to end ------------------------------------------------------------
    w("## End to end: `qkv run --text` vs one Python + transformers process\n")
    e = s.get("e2e")
    err = section_error(e)
    if err:
        w(err)
    else:
        w(f"The whole job, as a user runs it: load the model, tokenize \"{e['sentence']}\", forward with "
          "attention output, write every layer's and head's matrix as JSON. Wall time from spawn to exit and "
          f"peak RSS (`wait4` `ru_maxrss`) of each process; {e['runs']} runs of each, alternating, after one untimed "
          "run of each (warm page cache). Python runs with `HF_HUB_OFFLINE=1` and torch's default threads. "
          f"Basis: {basis(e, 'run pairs')}.\n")
        w(table(["", "qkv", "Python job", "ratio qkv/Python", "target", "status"], [
            ("wall time (median)", sec(e["qkv"]["wall_s"]["median"]), sec(e["python"]["wall_s"]["median"]),
             ratio(e["wall_ratio"]), "≤ 0.05× (aim 0.01×)", met(e["wall_ratio"] <= 0.05)),
            ("wall time (min–max)", f"{sec(e['qkv']['wall_s']['min'])} – {sec(e['qkv']['wall_s']['max'])}",
             f"{sec(e['python']['wall_s']['min'])} – {sec(e['python']['wall_s']['max'])}", "", "", ""),
            ("peak RSS (median)", mib(e["qkv"]["peak_rss_bytes"]["median"]), mib(e["python"]["peak_rss_bytes"]["median"]),
             ratio(e["memory_ratio"]), "≤ 0.25×", met(e["memory_ratio"] <= 0.25))]))
        c = e["correctness"]
        w(f"Same-job check: both tokenized the sentence to the same {len(c['qkv_tokens'])} ids "
          f"({'yes' if c['same_token_ids'] else '**no**'}: {' '.join(c['qkv_tokens'])}), and their JSON matrices differ "
          f"by at most {c['max_abs_diff']:.2e} over {c['layers']} layers.\n")
        w(section_notes(e))
        w(f"```sh\n{e['commands']['qkv']}\n{e['commands']['python']}\n```\n")

    # Matmul ----------------------------------------------------------------
    w("## Matrix multiply: qkv kernels vs numpy float32 `a @ b`\n")
    mm = s.get("matmul")
    err = section_error(mm)
    if err:
        w(err)
    else:
        w(f"Square float32 products, 2 threads on both sides, GFLOP/s = 2·n³ / median time (each tool's own "
          f"run count per size). {mm['rounds']} rounds; in each, for each size, qkv and numpy run back to back. "
          "`matmul` is x·W and `matmulTransposed` is x·Wᵀ (both are used by the forward pass); numpy computes `a @ b`.\n")
        w(table(["n", "qkv op", "qkv GFLOP/s", "numpy GFLOP/s", "paired ratio qkv/numpy", "target (n = 1024) ≥ 0.5×",
                 "basis", "ratio of medians", "every round, qkv / numpy GFLOP/s"],
                [(r["size"], f"`{r['op']}`", f"{r['qkv_gflops']:.1f}", f"{r['numpy_gflops']:.1f}", ratio(paired(r)),
                  met(paired(r) >= 0.5) if r["size"] == 1024 else "", basis(r), ratio(r["ratio"]),
                  ", ".join(f"{a:.0f}/{b:.0f}" if a is not None else f"–/{b:.0f}"
                            for a, b in zip(r["qkv_round_gflops"], r["numpy_round_gflops"]))) for r in mm["rows"]]))
        b = mm.get("blas") or {}
        pools = b.get("threadpoolctl")
        if isinstance(pools, list):
            desc = "; ".join(f"{p.get('internal_api')} {p.get('version')}, kernel `{p.get('architecture')}`, "
                             f"{p.get('num_threads')} threads, {p.get('threading_layer')}" for p in pools)
        else:
            desc = str(pools)
        env = results["machine"].get("openblas_env", {})
        w(f"numpy {b.get('numpy')} runs {desc} (from threadpoolctl). `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` "
          "are removed from numpy's environment so OpenBLAS picks its own kernel (in the benchmark's environment "
          f"they were {env.get('OPENBLAS_CORETYPE') or 'unset'} / {env.get('OPENBLAS_L2_SIZE') or 'unset'}).\n")
        w(section_notes(mm))
        w(f"```sh\n{mm['commands']['qkv']}\n{mm['commands']['numpy']}\n```\n")

    # Inspect ---------------------------------------------------------------
    w("## `inspect`: 1 KiB file vs 2 GiB file\n")
    i = s.get("inspect")
    err = section_error(i)
    if err:
        w(err)
    else:
        fs = i["files"]
        w(f"Two valid QKV files made by `benchmarks/qkv_files.py`: {fs['small']['bytes']:,} bytes "
          f"({fs['small']['parameters']:,} parameters) and {fs['large']['bytes']:,} bytes "
          f"({fs['large']['parameters']:,} parameters, all zero, a sparse file; the CRCs are right, so `qkv verify` "
          f"accepts it too). Whole-process wall time, {i['runs']} runs of each, alternating. "
          f"Basis: {basis(i, 'run pairs')}.\n")
        w(table(["file", "median", "min", "max"], [
            (f"{fs['small']['bytes']:,} B", sec(i["small_s"]["median"]), sec(i["small_s"]["min"]), sec(i["small_s"]["max"])),
            (f"{fs['large']['bytes'] / 2 ** 30:.2f} GiB", sec(i["large_s"]["median"]), sec(i["large_s"]["min"]),
             sec(i["large_s"]["max"]))]))
        w(f"Ratio 2 GiB / 1 KiB: **{ratio(i['ratio'])}** (target ≤ 1.5×: {met(i['ratio'] <= 1.5)}).\n")
        w(section_notes(i))
        w(f"```sh\n{i['commands']['make']}\n{i['commands']['qkv']}\n```\n")

    # Decode ----------------------------------------------------------------
    w("## Tensor decoding: qkv vs Python's `zlib.decompress` on the same payloads\n")
    d = s.get("decode")
    err = section_error(d)
    if err:
        w(err)
    else:
        w("all-MiniLM-L6-v2 converted to QKV three times (`--encoding raw`, `zlib`, `shuffle`). qkv side: "
          "`qkv-decode-bench`, which times `QKVCheckpoint.floats(name, verify: true)` per tensor (inflate, "
          "Adler-32, un-shuffle, CRC-32 check, Float32 buffer; zlib's inflate on one core, the other passes "
          "following it on the second core; \"qkv 1 thread\" is the same with `QKV_THREADS=1`). Python side, on the same payload bytes of the same file "
          "(located with `scripts/qkvref.py`'s header parser): `zlib.decompress(payload)` alone — the target's "
          "reference — and, for information, the whole job as qkv does it (decompress, un-shuffle with numpy, "
          f"CRC-32). Median of {d['runs']} runs per tensor; throughput = decoded bytes of the big tensors "
          f"(≥ {d['big_bytes'] // 1024} KiB decoded) / sum of their median times; {d.get('rounds', 1)} rounds "
          "alternating qkv and Python.\n")
        rows = []
        for name, x in d["encodings"].items():
            py, full = x["python_zlib_mb_per_s"], x.get("python_full_mb_per_s")
            r, rf = x.get("paired_ratio") or d["ratios"].get(name), d.get("full_ratios", {}).get(name)
            rows.append((name, f"{x['file_bytes'] / MIB:.1f} MiB", x["big_tensors"], f"{x['decoded_bytes'] / MIB:.1f} MiB",
                         f"{x['stored_bytes'] / MIB:.1f} MiB", f"{x['qkv_mb_per_s']:,.0f}",
                         f"{x['qkv_one_thread_mb_per_s']:,.0f}" if x.get("qkv_one_thread_mb_per_s") else "–",
                         f"{py:,.0f}" if py else "–", ratio(r) if r else "–",
                         (("≥ 1.0×: " + met(r >= 1.0)) if name == "shuffle+zlib" else "") if r else "",
                         f"{full:,.0f}" if full else "–", ratio(rf) if rf else "–", basis(x)))
        w(table(["encoding", "file", "big tensors", "decoded", "stored", "qkv MB/s", "qkv 1 thread MB/s",
                 "Python zlib.decompress MB/s",
                 "paired ratio qkv/Python", "target", "Python full decode MB/s", "ratio qkv/full", "basis"], rows))
        w("Every round, MB/s qkv / Python zlib.decompress:\n")
        for name, x in d["encodings"].items():
            q, p = x.get("qkv_round_mb_per_s", []), x.get("python_zlib_round_mb_per_s", [])
            w(f"- {name}: " + (", ".join(f"{a:,.0f} / {b:,.0f}" for a, b in zip(q, p)) if p
                               else "qkv " + ", ".join(f"{a:,.0f}" for a in q)))
        w("")
        w(section_notes(d))
        w(f"```sh\n{d['commands']['convert']}\n{d['commands']['qkv']}\n# Python: {d['commands']['python']}\n```\n")

    w("## Notes\n")
    w("- A benchmark, not a test: it never fails a build. A part that breaks records its error here and in the JSON.\n"
      "- Raw results, including every round, its other-work share and every tensor: `benchmarks/results/latest.json`.\n"
      "- `bash benchmarks/run.sh --quick` runs everything with fewer rounds as a smoke test.\n"
      "- Before each part the benchmark waits up to `QKV_BENCH_WAIT_IDLE` seconds (default 300) for other work to "
      "leave the CPUs.\n"
      f"- Total benchmark time: {results.get('total_seconds', 0) / 60:.1f} min.\n")
    # GGUF ------------------------------------------------------------------
    w("## GGUF: qkv vs llama.cpp\n")
    g = s.get("gguf")
    err = section_error(g)
    if err:
        w(err)
    else:
        w(f"The same token ids ({g['first_id']}, {g['first_id']}+1, …) as one prompt for both, 2 threads each. qkv: "
          "`qkv bench` (a fresh process per measurement; it stops after the last layer's attention). llama.cpp: "
          "llama-cpp-python's `Llama.eval` of the whole prompt with `n_batch = n_ubatch ≥` the tokens and an empty "
          f"KV cache every time. One measurement = {g['warmup']} warm-up passes, then the median of "
          f"{g['iterations']} timed passes; {g['rounds']} rounds, the first side swapping every round; the ratio is "
          "the median of per-round ratios. Peak memory: one whole `qkv run` process against one whole llama.cpp job "
          "(load, evaluate once; its Python interpreter included) on the same file and tokens. Both map the file, "
          "so touched weight pages count for both.\n")
        w(table(["model", "weights", "tokens", "qkv median", "llama.cpp median", "paired ratio", "basis", "qkv GFLOP/s",
                 "qkv load", "llama.cpp load", "qkv run peak RSS", "llama.cpp job peak RSS", "file"],
                [(r["model"], ", ".join(f"{k} {v / 1e6:.1f}M" for k, v in (r.get("weights") or {}).items()),
                  r["tokens"], ms(r["qkv_median_ms"]), ms(r["llama_median_ms"]), ratio(r["paired_ratio"]), basis(r),
                  f"{r['qkv_gflops']:.1f}", ms(r["qkv_load_ms"]), ms(r["llama_load_ms"]),
                  mib(r["qkv_run_peak_rss_bytes"]), mib(r["llama_job_peak_rss_bytes"]), mib(r["file_bytes"]))
                 for r in g["rows"] if "error" not in r]))
        for r in g["rows"]:
            if "error" in r:
                continue
            used = set(r.get("rounds_used", []))
            cells = [f"{a:.1f} / {b:.1f} ({pct(oa)}, {pct(ob)})" + (" ✓" if r.get("quiet") and k in used else "")
                     for k, (a, b, oa, ob) in enumerate(zip(r["qkv_round_medians"], r["llama_round_medians"],
                                                            r["qkv_round_other"], r["llama_round_other"]))]
            w(f"- {r['model']}, T={r['tokens']}, ms qkv / llama.cpp (other work's share): " + "; ".join(cells))
        w("")
        seven = g.get("seven_b", {})
        if "error" not in seven:
            w(f"7B-shaped Q4_K_M ({mib(seven['file_bytes'])} file): `qkv run --tokens <32 ids>` took "
              f"{seven['run_wall_s']['median']:.1f} s (median, load included) at {mib(seven['run_peak_rss_bytes'])} peak "
              f"RSS; its forward pass {ms(seven['qkv_forward_ms']['median'])} (llama.cpp: "
              f"{ms(seven['llama_forward_ms']['median'])}, {mib(seven['llama_peak_rss_bytes'])} peak RSS).\n")
        half = g.get("bf16", {})
        if "error" not in half:
            w(f"bf16 safetensors (SmolLM2 saved by transformers as bfloat16, {mib(half['file_bytes'])}): `qkv run` peaks at "
              f"{mib(half['run_peak_rss_bytes'])}, {ratio(half['rss_ratio'])} the file.\n")
        w(section_notes(g))
        w("```sh\n" + "\n".join(g["commands"].values()) + "\n```\n")

    return "\n".join(out)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        sys.stdout.write(render(json.load(f)))
