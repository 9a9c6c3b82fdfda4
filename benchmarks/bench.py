#!/usr/bin/env python3
"""Side-by-side benchmark of qkv against PyTorch, numpy and Python's zlib (issue 4).

Run it through `bash benchmarks/run.sh`, which builds qkv in release and fetches the model first.
Direct use: bench.py --bin-dir DIR --model MODEL_DIR [--only forward,e2e,...] [--quick]

Each section runs both sides in the same process tree on the same machine, alternating them where
it is cheap, and keeps every raw measurement. A section that fails records its error and the others
still run. Results go to benchmarks/results/latest.json and BENCHMARKS.md (via report.py).
Only the standard library is imported here; numpy, torch and transformers are used in child
processes (and numpy in the in-process decode timing), so a missing package fails one section only.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import report  # noqa: E402

SECTIONS = ["forward", "e2e", "matmul", "inspect", "decode", "gguf"]
SENTENCE = "The quick brown fox jumps over the lazy dog."
FIRST_ID = 1000
PYTHON_ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_json(cmd, env=None, timeout=1800):
    """Run cmd, return the parsed JSON objects it printed (one per line, other lines ignored)."""
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited with {proc.returncode}: {' | '.join(tail)}")
    objects = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    if not objects:
        try:  # a pretty-printed object over several lines
            objects.append(json.loads(proc.stdout))
        except json.JSONDecodeError:
            raise RuntimeError(f"{' '.join(cmd[:3])} ... printed no JSON: {proc.stdout[:200]!r}") from None
    return objects


def timed_process(cmd, env=None, stdout=subprocess.DEVNULL):
    """Wall seconds from spawn to exit and peak RSS (bytes) of one child process, via wait4."""
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty child cannot block on it
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            stderr.seek(0)
            err = stderr.read().decode(errors="replace").strip()
            raise RuntimeError(f"{' '.join(cmd[:3])} ... exited with {proc.returncode}: {err[-300:]}")
    return wall, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over `seconds` (from /proc/stat), while this benchmark itself is idle."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait, total (without guest time)
    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
        return 1.0 - (idle1 - idle0) / max(1, total1 - total0)
    except (OSError, ValueError, IndexError):
        return None


class OtherWork:
    """CPU time used by everything except this benchmark and its children, over a stretch of wall time.

    /proc/stat counts all CPU time on the machine; getrusage counts ours (children once they are waited
    for, which every section does). The difference, divided by wall time × CPUs, is the share of the
    machine that other work took while a part ran.
    """

    def __init__(self, pids=()):
        self.pids = pids  # children still running (the PyTorch server) whose CPU time is ours too
        self.start = self.sample()

    def sample(self):
        tick = os.sysconf("SC_CLK_TCK")
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
            busy = (sum(fields[:8]) - fields[3] - fields[4]) / tick
            ours = 0.0
            for pid in self.pids:
                with open(f"/proc/{pid}/stat") as f:
                    after_name = f.read().rsplit(")", 1)[1].split()
                ours += (int(after_name[11]) + int(after_name[12])) / tick  # utime, stime
        except (OSError, ValueError, IndexError):
            return None
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            ours += usage.ru_utime + usage.ru_stime
        return time.perf_counter(), busy, ours

    def share(self):
        end = self.sample()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        other = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, other / (wall * (os.cpu_count() or 1))) if wall > 0 else None


QUIET = report.QUIET  # a measurement is quiet when other work took less than this share of the CPUs


def watched(fn, pids=()):
    """(fn(), share of the CPUs other work took while fn ran)."""
    other = OtherWork(pids)
    result = fn()
    return result, other.share()


def quiet_rounds(*shares, single_threaded=False):
    """Rounds in which every measurement was quiet, if there are at least two; else all rounds.

    Returns (indices, True if they are the quiet ones). Medians over quiet rounds compare the two sides
    as they run on an idle machine; a busy machine is reported as such instead of silently averaged in.
    A single-threaded measurement only needs one whole CPU to itself, so other work may take the rest.
    """
    n = len(shares[0])
    cpus = os.cpu_count() or 1
    limit = (cpus - 1 + QUIET) / cpus if single_threaded else QUIET
    idx = [i for i in range(n) if all(s[i] is not None and s[i] < limit for s in shares)]
    return (idx, True) if len(idx) >= 2 else (list(range(n)), False)


def basis(idx, quiet, n, single_threaded=False):
    return dict(rounds_used=idx, quiet=quiet, rounds=n, single_threaded=single_threaded)


def wait_until_quiet(limit_s, threshold=0.25):
    """Wait up to limit_s for other work to leave the CPUs (busy < threshold); returns what was seen."""
    start = time.perf_counter()
    busy = cpu_busy()
    warned = False
    while busy is not None and busy >= threshold and time.perf_counter() - start < limit_s:
        if not warned:
            log(f"other work keeps {busy:.0%} of the CPUs busy; waiting up to {limit_s:.0f} s for it to drop "
                f"below {threshold:.0%}")
            warned = True
        time.sleep(4)
        busy = cpu_busy()
    return dict(busy_before=busy, waited_s=time.perf_counter() - start - 1.0)


def summary(values):
    return dict(median=statistics.median(values), min=min(values), max=max(values), n=len(values))


def version_of(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine_description():
    cpu, flags = None, []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu is None:
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
    except OSError:
        cpu = platform.processor()
    interesting = [f for f in flags if f in ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "bmi2")
                   or f.startswith("avx512") or f.startswith("amx")]
    os_name = platform.platform()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"') + f", Linux {platform.release()}"
    except OSError:
        pass
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        pass
    swift = command_output(["swift", "--version"])
    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=cpu, logical_cpus=os.cpu_count(), simd_flags=interesting, memory_bytes=memory, os=os_name,
        virtualization=command_output(["systemd-detect-virt"]) or None,
        swift=(swift or "").splitlines()[0] if swift else None,
        python=platform.python_version(),
        torch=version_of("torch"), transformers=version_of("transformers"), numpy=version_of("numpy"),
        safetensors=version_of("safetensors"), threadpoolctl=version_of("threadpoolctl"),
        python_zlib=zlib.ZLIB_RUNTIME_VERSION,
        system_zlib=command_output(["pkg-config", "--modversion", "zlib"]),
        qkv_commit=command_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        qkv_sources_commit=command_output(["git", "-C", ROOT, "log", "-1", "--format=%h %s", "--", "Sources",
                                           "Package.swift"]),
        qkv_tree_dirty=bool(command_output(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift"])),
        openblas_env={k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                                     "OMP_NUM_THREADS")},
        load_average_start=os.getloadavg(),
    )


# ---------------------------------------------------------------------------
# Sections. Each returns a dict of raw data and derived numbers; report.py renders it.
# ---------------------------------------------------------------------------

class TorchServer:
    """torch_forward.py --serve: PyTorch loaded once, asked for one measurement at a time."""

    def __init__(self, model, iterations, warmup):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "torch_forward.py"), model, "--serve", "--first-id", str(FIRST_ID),
             "--iterations", str(iterations), "--warmup", str(warmup), "--threads", "2"],
            env=PYTHON_ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.info = self.ask(None)

    def ask(self, request):
        if request is not None:
            self.proc.stdin.write(f"{request}\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.stderr.seek(0)
            tail = self.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"torch_forward.py exited with {self.proc.returncode}: {' | '.join(tail)}")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        self.stderr.close()


def bench_forward(ctx):
    qkv, model = ctx.binary("qkv"), ctx.model
    sizes, iterations, warmup = [8, 32, 128], ctx.scale(20, 5), 3
    rounds = ctx.scale(7, 1)
    ids = {t: ",".join(str(i) for i in range(FIRST_ID, FIRST_ID + t)) for t in sizes}
    qkv_runs, torch_runs = {t: [] for t in sizes}, {t: [] for t in sizes}
    qkv_other, torch_other = {t: [] for t in sizes}, {t: [] for t in sizes}
    equal_runs, equal_other = {t: [] for t in sizes}, {t: [] for t in sizes}
    log("forward: loading PyTorch")
    torch = TorchServer(model, iterations, warmup)
    try:
        # Rounds of (qkv, PyTorch) per size, a few seconds apart, the first side swapping every round,
        # so both meet the same machine conditions.
        for r in range(rounds):
            log(f"forward round {r + 1}/{rounds}")
            for t in sizes:
                sides = ["qkv", "torch", "equal"] if r % 2 == 0 else ["equal", "torch", "qkv"]
                for side in sides:
                    # A pause first, so PyTorch's worker threads, which spin a while after a forward pass,
                    # are asleep before qkv starts (while qkv runs they would count as other work).
                    time.sleep(0.5)
                    if side == "qkv":
                        out, share = watched(lambda: run_json(
                            [qkv, "bench", model, "--tokens", ids[t], "--iterations", str(iterations),
                             "--warmup", str(warmup), "--format", "json"])[-1])
                        qkv_runs[t].append(out)
                        qkv_other[t].append(share)
                    elif side == "torch":
                        out, share = watched(lambda: torch.ask(t), pids=[torch.proc.pid])
                        torch_runs[t].append(out)
                        torch_other[t].append(share)
                    else:  # PyTorch doing only what qkv does: stop after the last layer's attention
                        out, share = watched(lambda: torch.ask(f"equal {t}"), pids=[torch.proc.pid])
                        equal_runs[t].append(out if "forward_ms" in out else None)
                        equal_other[t].append(share)
        attention = torch.ask("attention 8")
    finally:
        torch.close()

    # Same-job check: the same 8 token ids through `qkv run`, compared with PyTorch's attention.
    got = run_json([qkv, "run", model, "--tokens", ids[8], "--format", "json"])[-1]
    worst = 0.0
    for ours, theirs in zip(got["layers"], attention["layers"]):
        for head, expected in zip(ours["heads"], theirs):
            for row_a, row_b in zip(head["scores"], expected):
                worst = max(worst, max(abs(a - b) for a, b in zip(row_a, row_b)))
    check = dict(tokens=8, layers=len(got["layers"]), torch_layers=len(attention["layers"]), max_abs_diff=worst)

    rows = []
    for t in sizes:
        q = [run["forward_ms"]["median"] for run in qkv_runs[t]]
        p = [run["forward_ms"]["median"] for run in torch_runs[t]]
        e = [run["forward_ms"]["median"] if run else None for run in equal_runs[t]]
        have_equal = all(x is not None for x in e)
        idx, quiet = quiet_rounds(qkv_other[t], torch_other[t], *([equal_other[t]] if have_equal else []))
        qm, pm = statistics.median(q[i] for i in idx), statistics.median(p[i] for i in idx)
        equal = dict(equal_median_ms=statistics.median(e[i] for i in idx),
                     equal_paired_ratio=statistics.median(q[i] / e[i] for i in idx),
                     equal_round_medians=e, equal_round_other=equal_other[t]) if have_equal else {}
        q_min = min(run["forward_ms"]["min"] for run in qkv_runs[t])
        p_min = min(run["forward_ms"]["min"] for run in torch_runs[t])
        rows.append(dict(tokens=t, qkv_median_ms=qm, torch_median_ms=pm, ratio=qm / pm, **basis(idx, quiet, len(q)),
                         paired_ratio=statistics.median(q[i] / p[i] for i in idx), **equal,
                         ratio_all_rounds=statistics.median(q) / statistics.median(p),
                         round_ratios=[a / b for a, b in zip(q, p)],
                         qkv_round_medians=q, torch_round_medians=p,
                         qkv_round_other=qkv_other[t], torch_round_other=torch_other[t],
                         qkv_min_ms=q_min, torch_min_ms=p_min, min_ratio=q_min / p_min,
                         qkv_gflops=statistics.median(run.get("gflops", float("nan")) for run in qkv_runs[t]),
                         qkv_load_ms=statistics.median(run.get("load_ms", float("nan")) for run in qkv_runs[t]),
                         qkv_peak_rss_bytes=max(run.get("peak_rss_bytes", 0) for run in qkv_runs[t])))
    return dict(rows=rows, rounds=rounds, iterations=iterations, warmup=warmup, first_id=FIRST_ID,
                torch=torch.info, correctness=check,
                raw=dict(qkv={str(t): v for t, v in qkv_runs.items()}, torch={str(t): v for t, v in torch_runs.items()}),
                commands=dict(
                    qkv=f"{ctx.show(qkv)} bench MODEL --tokens {FIRST_ID},...,{FIRST_ID}+T-1 --iterations {iterations} "
                        f"--warmup {warmup} --format json",
                    torch=f"python3 benchmarks/torch_forward.py MODEL --tokens 8,32,128 --first-id {FIRST_ID} "
                          f"--iterations {iterations} --warmup {warmup} --threads 2   "
                          "# bench.py keeps it loaded with --serve"))


def bench_e2e(ctx):
    qkv, model = ctx.binary("qkv"), ctx.model
    runs = ctx.scale(5, 2)
    qkv_cmd = [qkv, "run", model, "--text", SENTENCE, "--format", "json"]
    py_cmd = [sys.executable, os.path.join(HERE, "python_job.py"), model, SENTENCE]
    # One untimed run of each fills the page cache, and its output shows both did the same job.
    tmp = tempfile.mkdtemp(prefix="qkv-bench-e2e-")
    try:
        with open(os.path.join(tmp, "qkv.json"), "w") as f:
            timed_process(qkv_cmd, stdout=f)
        timed_process(py_cmd + [os.path.join(tmp, "python.json")], env=PYTHON_ENV)
        with open(os.path.join(tmp, "qkv.json")) as f:
            ours = json.load(f)
        with open(os.path.join(tmp, "python.json")) as f:
            theirs = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    worst = max(abs(a - b)
                for la, lb in zip(ours["layers"], theirs["layers"])
                for ha, hb in zip(la["heads"], lb["heads"])
                for ra, rb in zip(ha["scores"], hb["scores"])
                for a, b in zip(ra, rb))
    check = dict(qkv_tokens=[t["text"] for t in ours["tokens"]], python_tokens=[t["text"] for t in theirs["tokens"]],
                 same_token_ids=[t["id"] for t in ours["tokens"]] == [t["id"] for t in theirs["tokens"]],
                 layers=len(ours["layers"]), max_abs_diff=worst)
    qkv_wall, qkv_rss, py_wall, py_rss, qkv_other, py_other = [], [], [], [], [], []
    for i in range(runs):
        log(f"end to end run {i + 1}/{runs}")
        (w, m), share = watched(lambda: timed_process(qkv_cmd))
        qkv_wall.append(w)
        qkv_rss.append(m)
        qkv_other.append(share)
        (w, m), share = watched(lambda: timed_process(py_cmd + [os.devnull], env=PYTHON_ENV))
        py_wall.append(w)
        py_rss.append(m)
        py_other.append(share)
    idx, quiet = quiet_rounds(qkv_other, py_other)

    def pick(values):
        return [values[i] for i in idx]
    q_w, p_w = statistics.median(pick(qkv_wall)), statistics.median(pick(py_wall))
    q_m, p_m = statistics.median(pick(qkv_rss)), statistics.median(pick(py_rss))
    return dict(runs=runs, sentence=SENTENCE, correctness=check, **basis(idx, quiet, runs),
                qkv=dict(wall_s=summary(pick(qkv_wall)), peak_rss_bytes=summary(pick(qkv_rss)), other=qkv_other,
                         all_wall_s=qkv_wall, all_peak_rss_bytes=qkv_rss),
                python=dict(wall_s=summary(pick(py_wall)), peak_rss_bytes=summary(pick(py_rss)), other=py_other,
                            all_wall_s=py_wall, all_peak_rss_bytes=py_rss),
                wall_ratio=q_w / p_w, memory_ratio=q_m / p_m,
                wall_ratio_all_runs=statistics.median(qkv_wall) / statistics.median(py_wall),
                commands=dict(qkv=f'{ctx.show(qkv)} run MODEL --text "{SENTENCE}" --format json > /dev/null',
                              python=f'HF_HUB_OFFLINE=1 python3 benchmarks/python_job.py MODEL "{SENTENCE}" /dev/null'))


def bench_matmul(ctx):
    binary = ctx.binary("qkv-matmul-bench")
    rounds = ctx.scale(9, 1)
    sizes = [384, 1024, 2048]
    try:
        source = open(os.path.join(ROOT, "Sources", "qkv-matmul-bench", "main.swift")).read()
    except OSError:
        source = ""
    threads = ["--threads", "2"] if "--threads" in source or not source else []
    # OpenBLAS kernel overrides in the environment would slow numpy down; numpy gets its defaults.
    np_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    np_env["OPENBLAS_NUM_THREADS"] = "2"

    def qkv_side(n):
        def square(x):
            return x.get("m") == x.get("k") == x.get("n") == n and "gflops" in x
        try:
            lines = [x for x in run_json([binary] + threads + [f"{n}x{n}x{n}"]) if square(x)]
        except RuntimeError:
            lines = []
        if not lines:  # an older or newer binary without shape arguments: run its defaults, keep size n
            lines = [x for x in run_json([binary] + threads) if square(x)]
        return lines

    def numpy_side(n):
        out = run_json([sys.executable, os.path.join(HERE, "numpy_matmul.py"), "--threads", "2", "--sizes", str(n)],
                       env=np_env)[-1]
        return out["blas"], out["results"][0]

    qkv_rounds, np_rounds, blas = {n: [] for n in sizes}, {n: [] for n in sizes}, None
    qkv_other, np_other = {n: [] for n in sizes}, {n: [] for n in sizes}
    for r in range(rounds):
        log(f"matmul round {r + 1}/{rounds}")
        for n in sizes:
            for side in (["qkv", "numpy"] if r % 2 == 0 else ["numpy", "qkv"]):
                if side == "qkv":
                    lines, share = watched(lambda: qkv_side(n))
                    qkv_rounds[n].append(lines)
                    qkv_other[n].append(share)
                else:
                    (blas, result), share = watched(lambda: numpy_side(n))
                    np_rounds[n].append(result)
                    np_other[n].append(share)
    rows = []
    for n in sizes:
        idx, quiet = quiet_rounds(qkv_other[n], np_other[n])
        numpy_vals = [x["gflops"] for x in np_rounds[n]]
        numpy_g = statistics.median(numpy_vals[i] for i in idx)
        for op in sorted({x.get("op", "matmul") for rnd in qkv_rounds[n] for x in rnd}):
            per_round = [next((x["gflops"] for x in rnd if x.get("op", "matmul") == op), None) for rnd in qkv_rounds[n]]
            used = [per_round[i] for i in idx if per_round[i] is not None]
            qkv_g = statistics.median(used)
            pairs = [per_round[i] / numpy_vals[i] for i in idx if per_round[i] is not None]
            rows.append(dict(size=n, op=op, qkv_gflops=qkv_g, numpy_gflops=numpy_g, ratio=qkv_g / numpy_g,
                             paired_ratio=statistics.median(pairs), round_ratios=pairs,
                             **basis(idx, quiet, len(numpy_vals)),
                             qkv_round_gflops=per_round, numpy_round_gflops=numpy_vals,
                             qkv_round_other=qkv_other[n], numpy_round_other=np_other[n]))
    return dict(rows=rows, rounds=rounds, blas=blas,
                raw=dict(qkv={str(n): v for n, v in qkv_rounds.items()}, numpy={str(n): v for n, v in np_rounds.items()}),
                commands=dict(qkv=" ".join([ctx.show(binary)] + threads + ["NxNxN"]),
                              numpy="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 "
                                    "python3 benchmarks/numpy_matmul.py --threads 2 --sizes N"))


def bench_inspect(ctx):
    qkv = ctx.binary("qkv")
    runs = ctx.scale(30, 5)
    tmp = tempfile.mkdtemp(prefix="qkv-bench-inspect-")
    try:
        files = run_json([sys.executable, os.path.join(HERE, "qkv_files.py"), tmp])[-1]
        for key in ("small", "large"):  # both must be accepted, with the parameter count we wrote
            got = run_json([qkv, "inspect", files[key]["path"], "--format", "json"])[-1]
            if got.get("total_parameters") != files[key]["parameters"]:
                raise RuntimeError(f"inspect {key}: total_parameters {got.get('total_parameters')}, "
                                   f"expected {files[key]['parameters']}")
        times, others = {"small": [], "large": []}, {"small": [], "large": []}
        for r in range(runs):
            for key in (("small", "large") if r % 2 == 0 else ("large", "small")):
                (w, _), share = watched(lambda: timed_process([qkv, "inspect", files[key]["path"], "--format", "json"]))
                times[key].append(w)
                others[key].append(share)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    idx, quiet = quiet_rounds(others["small"], others["large"], single_threaded=True)
    small = [times["small"][i] for i in idx]
    large = [times["large"][i] for i in idx]
    return dict(runs=runs, files={k: {x: v for x, v in f.items() if x != "path"} for k, f in files.items()},
                **basis(idx, quiet, runs, single_threaded=True), all_times=times, other=others,
                small_s=summary(small), large_s=summary(large), ratio=statistics.median(large) / statistics.median(small),
                commands=dict(make="python3 benchmarks/qkv_files.py DIR",
                              qkv=f"{ctx.show(qkv)} inspect DIR/small.qkv|DIR/large.qkv --format json > /dev/null"))


def bench_decode(ctx):
    qkv, decoder = ctx.binary("qkv"), ctx.binary("qkv-decode-bench")
    runs, rounds = ctx.scale(5, 3), ctx.scale(5, 1)
    big = 512 * 1024  # tensors of at least this many decoded bytes count as "big"
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import qkvref  # needs numpy

    def python_side(data, data_start, entries, full):
        """Median seconds per big tensor of zlib.decompress (full: + un-shuffle + CRC-32, qkv's whole job)."""
        medians = {}
        for e in entries:
            payload = data[data_start + e["offset"]:data_start + e["offset"] + e["stored_bytes"]]
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                out = zlib.decompress(payload)
                if full:
                    if e["encoding"] == "shuffle+zlib":
                        out = qkvref.unshuffle_bytes(out, qkvref.DTYPE_SIZES[e["dtype_code"]])
                    if zlib.crc32(out) & 0xFFFFFFFF != e["crc32"]:
                        raise RuntimeError(f"{e['name']}: CRC-32 mismatch after Python's decode")
                times.append(time.perf_counter() - start)
            if len(out) != e["decoded_bytes"]:
                raise RuntimeError(f"{e['name']}: Python inflated {len(out)} bytes, header says {e['decoded_bytes']}")
            medians[e["name"]] = statistics.median(times)
        return medians

    tmp = tempfile.mkdtemp(prefix="qkv-bench-decode-")
    per_encoding = {}
    try:
        for flag, name in {"raw": "raw", "zlib": "zlib", "shuffle": "shuffle+zlib"}.items():
            path = os.path.join(tmp, f"{flag}.qkv")
            log(f"decode: qkv convert --encoding {flag}")
            subprocess.run([qkv, "convert", ctx.model, "-o", path, "--encoding", flag], check=True,
                           capture_output=True, timeout=1800)
            with open(path, "rb") as f:
                data = f.read()
            pre = qkvref._parse_preamble(data)
            _, _, entries = qkvref._parse_header(data, pre)
            data_start = qkvref.align_up(qkvref.PREAMBLE_BYTES + pre["header_bytes"])
            big_entries = [e for e in entries if e["decoded_bytes"] >= big]
            decoded = sum(e["decoded_bytes"] for e in big_entries)
            qkv_rounds, one_rounds, py_rounds, full_rounds, lines = [], [], [], [], []
            qkv_other, one_other, py_other = [], [], []
            one_thread = dict(os.environ, QKV_THREADS="1")

            def qkv_mb_per_s(env=None):
                lines = [o for o in run_json([decoder, path, str(runs)], env=env) if "tensor" in o]
                got = {x["tensor"]: x for x in lines if x["decoded_bytes"] >= big}
                if set(got) != {e["name"] for e in big_entries}:
                    raise RuntimeError("qkv-decode-bench and the Python parser disagree on the big tensors: "
                                       f"{sorted(set(got) ^ {e['name'] for e in big_entries})[:5]}")
                return decoded / sum(x["median_s"] for x in got.values()) / 1e6, lines
            for r in range(rounds):
                log(f"decode {name}: round {r + 1}/{rounds}")
                sides = ["qkv", "python"] if r % 2 == 0 else ["python", "qkv"]
                for side in sides:
                    if side == "qkv":
                        (speed, lines), share = watched(qkv_mb_per_s)
                        qkv_rounds.append(speed)
                        qkv_other.append(share)
                        (speed, _), share = watched(lambda: qkv_mb_per_s(one_thread))
                        one_rounds.append(speed)
                        one_other.append(share)
                    elif name != "raw":
                        def both():
                            return (sum(python_side(data, data_start, big_entries, False).values()),
                                    sum(python_side(data, data_start, big_entries, True).values()))
                        (zlib_s, full_s), share = watched(both)
                        py_rounds.append(decoded / zlib_s / 1e6)
                        full_rounds.append(decoded / full_s / 1e6)
                        py_other.append(share)
            # qkv inflates on one core and checks/un-shuffles on the other, so its rounds need the whole
            # machine; its one-thread run and zlib.decompress need one CPU.
            both, both_quiet = quiet_rounds(qkv_other)
            single, single_quiet = quiet_rounds(*([one_other, py_other] if py_other else [one_other]),
                                                single_threaded=True)
            idx = sorted(set(both) & set(single))
            idx, quiet = (idx, True) if both_quiet and single_quiet and len(idx) >= 2 else (list(range(rounds)), False)

            def pick(values):
                return statistics.median(values[i] for i in idx) if values else None
            per_encoding[name] = dict(
                file_bytes=len(data), tensors=len(entries), big_tensors=len(big_entries), decoded_bytes=decoded,
                stored_bytes=sum(e["stored_bytes"] for e in big_entries),
                **basis(idx, quiet, rounds), qkv_round_other=qkv_other, qkv_one_thread_round_other=one_other,
                python_round_other=py_other,
                qkv_mb_per_s=pick(qkv_rounds), qkv_round_mb_per_s=qkv_rounds,
                qkv_one_thread_mb_per_s=pick(one_rounds), qkv_one_thread_round_mb_per_s=one_rounds,
                python_zlib_mb_per_s=pick(py_rounds), python_zlib_round_mb_per_s=py_rounds,
                paired_ratio=pick([a / b for a, b in zip(qkv_rounds, py_rounds)]) if py_rounds else None,
                python_full_mb_per_s=pick(full_rounds),
                python_full_round_mb_per_s=full_rounds,
                qkv_last_round=lines)
            os.remove(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratios = {name: e["qkv_mb_per_s"] / e["python_zlib_mb_per_s"]
              for name, e in per_encoding.items() if e["python_zlib_mb_per_s"]}
    full_ratios = {name: e["qkv_mb_per_s"] / e["python_full_mb_per_s"]
                   for name, e in per_encoding.items() if e["python_full_mb_per_s"]}
    return dict(runs=runs, rounds=rounds, big_bytes=big, encodings=per_encoding, ratios=ratios,
                full_ratios=full_ratios,
                commands=dict(convert=f"{ctx.show(qkv)} convert MODEL -o X.qkv --encoding raw|zlib|shuffle",
                              qkv=f"{ctx.show(decoder)} X.qkv {runs}",
                              python=f"zlib.decompress(payload), {runs} runs per tensor, in benchmarks/bench.py"))


def bench_gguf(ctx):
    """qkv against llama.cpp (llama-cpp-python) on GGUF files: forward time per prompt length, peak memory
    of a whole `qkv run` against a whole llama.cpp job on the same file and tokens, the 7B-shaped file, and
    a bf16 safetensors model's peak memory against its file size."""
    qkv = ctx.binary("qkv")
    models = ctx.gguf_models
    iterations, warmup, rounds = ctx.scale(10, 2), 2, ctx.scale(5, 1)
    cases = [(name, models.get(name), sizes) for name, sizes in
             (("smollm2-135m-q4_1", [8, 32, 128]), ("tinyllama-shape-q4_k_m", [32, 128]))]
    llama_script = os.path.join(HERE, "llama_forward.py")

    def ids_for(t):
        return ",".join(str(FIRST_ID + i) for i in range(t))

    rows, raw = [], {}
    for name, path, sizes in cases:
        if not path or not os.path.exists(path):
            rows.append(dict(model=name, error=f"missing {path}"))
            continue
        for t in sizes:
            q, l, q_other, l_other, q_runs, l_runs = [], [], [], [], [], []
            for r in range(rounds):
                log(f"gguf {name} {t} tokens, round {r + 1}/{rounds}")
                for side in (["qkv", "llama"] if r % 2 == 0 else ["llama", "qkv"]):
                    time.sleep(0.5)
                    if side == "qkv":
                        out, share = watched(lambda: run_json(
                            [qkv, "bench", path, "--tokens", ids_for(t), "--iterations", str(iterations),
                             "--warmup", str(warmup), "--threads", "2", "--format", "json"])[-1])
                        q.append(out["forward_ms"]["median"])
                        q_other.append(share)
                        q_runs.append(out)
                    else:
                        out, share = watched(lambda: run_json(
                            [sys.executable, llama_script, path, "--tokens", str(t), "--first-id", str(FIRST_ID),
                             "--iterations", str(iterations), "--warmup", str(warmup), "--threads", "2"])[-1])
                        l.append(out["forward_ms"]["median"])
                        l_other.append(share)
                        l_runs.append(out)
            idx, quiet = quiet_rounds(q_other, l_other)
            # Peak memory of the whole job: `qkv run` against llama.cpp loading and evaluating once.
            _, qkv_rss = timed_process([qkv, "run", path, "--tokens", ids_for(t), "--threads", "2", "--format", "json"])
            _, llama_rss = timed_process([sys.executable, llama_script, path, "--tokens", str(t), "--first-id",
                                          str(FIRST_ID), "--iterations", "1", "--warmup", "0", "--threads", "2"])
            rows.append(dict(
                model=name, tokens=t, qkv_median_ms=statistics.median(q[i] for i in idx),
                llama_median_ms=statistics.median(l[i] for i in idx),
                paired_ratio=statistics.median(q[i] / l[i] for i in idx), **basis(idx, quiet, len(q)),
                qkv_round_medians=q, llama_round_medians=l, qkv_round_other=q_other, llama_round_other=l_other,
                qkv_gflops=statistics.median(run.get("gflops", float("nan")) for run in q_runs),
                qkv_load_ms=statistics.median(run["load_ms"] for run in q_runs),
                llama_load_ms=statistics.median(run["load_ms"] for run in l_runs),
                qkv_run_peak_rss_bytes=qkv_rss, llama_job_peak_rss_bytes=llama_rss, rss_ratio=qkv_rss / llama_rss,
                file_bytes=os.path.getsize(path), weights=q_runs[0].get("weights")))
            raw[f"{name}/{t}"] = dict(qkv=q_runs, llama=l_runs)

    big = models.get("7b-shape-q4_k_m")
    seven = dict(error=f"missing {big}")
    if big and os.path.exists(big):
        log("gguf: the 7B-shaped file, 32 tokens")
        ids = ids_for(32)
        walls, rsses = [], []
        for _ in range(ctx.scale(3, 1)):
            wall, rss = timed_process([qkv, "run", big, "--tokens", ids, "--threads", "2", "--format", "json"])
            walls.append(wall)
            rsses.append(rss)
        bench = run_json([qkv, "bench", big, "--tokens", ids, "--iterations", "3", "--warmup", "1", "--threads", "2",
                          "--format", "json"])[-1]
        llama = run_json([sys.executable, llama_script, big, "--tokens", "32", "--first-id", str(FIRST_ID),
                          "--iterations", "3", "--warmup", "1", "--threads", "2"])[-1]
        seven = dict(file_bytes=os.path.getsize(big), run_wall_s=summary(walls), run_peak_rss_bytes=max(rsses),
                     qkv_forward_ms=bench["forward_ms"], qkv_load_ms=bench["load_ms"],
                     llama_forward_ms=llama["forward_ms"], llama_peak_rss_bytes=llama["peak_rss_bytes"],
                     weights=bench.get("weights"))

    bf16 = models.get("smollm2-bf16")
    half = dict(error=f"missing {bf16}")
    if bf16 and os.path.exists(bf16):
        log("gguf: bf16 safetensors peak memory")
        files = [os.path.join(bf16, f) for f in os.listdir(bf16) if f.endswith(".safetensors")]
        size = sum(os.path.getsize(f) for f in files)
        rss = [timed_process([qkv, "run", bf16, "--tokens", ids_for(128), "--threads", "2", "--format", "json"])[1]
               for _ in range(ctx.scale(3, 1))]
        half = dict(file_bytes=size, run_peak_rss_bytes=max(rss), rss_ratio=max(rss) / size)

    return dict(rows=rows, seven_b=seven, bf16=half, rounds=rounds, iterations=iterations, warmup=warmup,
                first_id=FIRST_ID, raw=raw,
                commands=dict(
                    qkv=f"{ctx.show(qkv)} bench MODEL.gguf --tokens {FIRST_ID},...,{FIRST_ID}+T-1 --iterations "
                        f"{iterations} --warmup {warmup} --threads 2 --format json",
                    llama=f"python3 benchmarks/llama_forward.py MODEL.gguf --tokens T --first-id {FIRST_ID} "
                          f"--iterations {iterations} --warmup {warmup} --threads 2",
                    memory=f"{ctx.show(qkv)} run MODEL --tokens ... --threads 2 --format json  vs  "
                           "llama_forward.py --iterations 1 --warmup 0 (peak RSS of each process, wait4)",
                    models="benchmarks/make_llama_shaped_gguf.py, benchmarks/make_bf16_smollm2.py"))


# ---------------------------------------------------------------------------

class Context:
    def __init__(self, args):
        self.bin_dir, self.model, self.quick = args.bin_dir, args.model, args.quick
        self.gguf_models = dict(item.split("=", 1) for item in args.gguf_models.split(",") if "=" in item)

    def binary(self, name):
        path = os.path.join(self.bin_dir, name)
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"{path} is missing (did the release build succeed?)")
        return path

    def scale(self, full, quick):
        return quick if self.quick else full

    def show(self, path):
        rel = os.path.relpath(path, ROOT)
        return rel if not rel.startswith("..") else path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", required=True, help="folder with qkv, qkv-matmul-bench, qkv-decode-bench")
    ap.add_argument("--model", required=True, help="the all-MiniLM-L6-v2 folder")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections to run")
    ap.add_argument("--quick", action="store_true", help="fewer rounds and runs (a smoke test, not for BENCHMARKS.md)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="before each part, wait up to this long for other work to use < 25%% of the CPUs")
    ap.add_argument("--setup-errors", default="", help="errors from run.sh (build, model fetch, Python packages)")
    ap.add_argument("--gguf-models", default="", help="NAME=PATH,... for the gguf section (run.sh fills it in)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"))
    ap.add_argument("--markdown", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()

    ctx = Context(args)
    machine = machine_description()
    kernels = command_output([os.path.join(args.bin_dir, "qkv"), "bench", os.path.join(ROOT, "fixtures", "seed.qkv"),
                              "--tokens", "0", "--iterations", "1", "--warmup", "0", "--format", "json"])
    try:
        machine["qkv_kernels"] = json.loads(kernels)["kernels"] if kernels else None
    except (ValueError, KeyError):
        machine["qkv_kernels"] = None
    results = dict(machine=machine, quick=args.quick, model=os.path.basename(args.model.rstrip("/")),
                   setup_errors=[e for e in args.setup_errors.split("\n") if e.strip()], sections={})
    started = time.perf_counter()
    for name in args.only.split(","):
        name = name.strip()
        fn = globals().get(f"bench_{name}")
        if fn is None:
            results["sections"][name] = dict(error=f"unknown section {name!r}")
            continue
        quiet = wait_until_quiet(args.wait_idle)
        log(f"section {name} (other work: {quiet['busy_before']:.0%} of the CPUs)" if quiet["busy_before"] is not None
            else f"section {name}")
        t0, load0, other = time.perf_counter(), os.getloadavg(), OtherWork()
        try:
            results["sections"][name] = fn(ctx)
        except Exception as e:  # record and go on: one broken side must not lose the others
            results["sections"][name] = dict(error=f"{type(e).__name__}: {e}",
                                             traceback=traceback.format_exc().splitlines()[-6:])
            log(f"section {name} failed: {e}")
        results["sections"][name]["seconds"] = time.perf_counter() - t0
        results["sections"][name]["load_average"] = dict(start=load0, end=os.getloadavg())
        results["sections"][name]["other_cpu_use_before"] = quiet["busy_before"]
        results["sections"][name]["waited_for_quiet_s"] = quiet["waited_s"]
        results["sections"][name]["other_cpu_use_during"] = other.share()
    results["machine"]["load_average_end"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - started

    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    with open(args.markdown, "w") as f:
        f.write(report.render(results))
    log(f"wrote {os.path.relpath(args.json, ROOT)} and {os.path.relpath(args.markdown, ROOT)}")
    failed = [n for n, s in results["sections"].items() if "error" in s]
    if failed:
        log(f"sections with errors (recorded in the report): {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
