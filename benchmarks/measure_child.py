"""Runs one command and writes its wall seconds, exit status and peak RSS (KiB) as JSON to a file.

bench.py starts every process it measures through this small one. On Linux a child's peak RSS
(`ru_maxrss`) starts at its parent's high-water mark when it is forked, and keeps it across exec: a
child of bench.py (hundreds of MiB once it has read the JSON of every round) would report at least
that, whatever it used itself. Forked from this process, a child starts at this process's few MiB.

Usage: python3 -I -S measure_child.py RESULT.json COMMAND [ARGS...]; exits with the command's status.
"""
import json
import os
import sys
import time

result_path, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(command[0], command)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)  # negative: killed by that signal
with open(result_path, "w") as f:
    json.dump({"wall_seconds": wall, "exit_code": code, "maxrss_kib": usage.ru_maxrss}, f)
sys.exit(code if code >= 0 else 128 - code)
