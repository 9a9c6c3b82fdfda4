#!/usr/bin/env bash
# libFuzzer targets for qkv's readers (docs/RELIABILITY.md).
#
#   bash scripts/fuzz.sh --list                 the target names, one per line
#   bash scripts/fuzz.sh TARGET [SECONDS] [-- LIBFUZZER FLAGS...]
#                                               build (cached) and fuzz one target (default 60 s)
#   bash scripts/fuzz.sh --all [SECONDS]        every target in turn (CI: --all 30)
#   bash scripts/fuzz.sh --run TARGET FILE...   run inputs once (reproducers), printing each error
#   bash scripts/fuzz.sh --build                build every target
#
# Exits non-zero when a target crashes, traps, leaks, times out (10 s per input) or runs out of
# memory (2 GB); libFuzzer leaves the input in fuzz/crashes/TARGET-{crash,leak,timeout,oom}-SHA1.
# Seeds are read from fuzz/corpus/TARGET (never written); what a run learns goes to
# .build-fuzz/corpus/TARGET and is kept between runs. One process, one core: run one target at a
# time on a shared machine, and not while compiling.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${QKV_FUZZ_SCRATCH:-$root/.build-fuzz}"
binaries="$scratch/release"

targets() {
    for dir in "$root"/fuzz/Sources/fuzz-*/; do basename "$dir" | sed 's/^fuzz-//'; done
}

build() {
    # --sanitize=fuzzer makes SwiftPM compile the targets as libraries and link libFuzzer's main;
    # swiftc keeps only the last -sanitize flag it is given, so Swift code also gets both at once
    # (with only --sanitize=address after --sanitize=fuzzer, Swift would get no coverage). gold
    # fails on the sanitized objects; lld links them. SwiftPM's cached build plan misses source
    # files added to or removed from the qkv package (a dependency here): the plan is made afresh
    # when the list of source files changed (which rebuilds everything), else reused.
    local listing="$scratch/source-files.txt" caching=()
    mkdir -p "$scratch"
    if ! (cd "$root" && find Sources fuzz/Sources Package.swift fuzz/Package.swift -type f | sort) | cmp -s - "$listing"; then
        caching=(--disable-build-manifest-caching)
    fi
    swift build -c release --package-path "$root/fuzz" --scratch-path "$scratch" "${caching[@]}" \
        --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >&2
    (cd "$root" && find Sources fuzz/Sources Package.swift fuzz/Package.swift -type f | sort) >"$listing"
}

known() {
    targets | grep -x -- "$1" >/dev/null || { echo "fuzz.sh: unknown target '$1' (see --list)" >&2; exit 64; }
}

environment() {
    # Inputs become files in a private folder, in memory when /dev/shm is there.
    local base=/dev/shm
    [ -d "$base" ] && [ -w "$base" ] || base="${TMPDIR:-/tmp}"
    QKV_FUZZ_TMPDIR="$(mktemp -d "$base/qkv-fuzz.XXXXXX")"
    export QKV_FUZZ_TMPDIR
    # A trap goes to libFuzzer's handler at once (the Swift backtracer would add seconds per crash).
    export SWIFT_BACKTRACE=enable=no
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
}

# fuzz TARGET SECONDS [FLAGS...]: one campaign; prints a one-line summary on stdout, the log to
# .build-fuzz/logs/TARGET.log.
fuzz() {
    local target="$1" seconds="$2"
    shift 2
    local work="$scratch/corpus/$target" seeds="$root/fuzz/corpus/$target" dict="$root/fuzz/dict/$target.dict"
    local log="$scratch/logs/$target.log"
    mkdir -p "$work" "$root/fuzz/crashes" "$scratch/logs"
    local flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10
        -print_final_stats=1 -artifact_prefix="$root/fuzz/crashes/$target-")
    [ -f "$dict" ] && flags+=(-dict="$dict")
    local corpora=("$work")
    [ -d "$seeds" ] && corpora+=("$seeds")
    local status=0 started=$SECONDS
    environment
    "$binaries/fuzz-$target" "${flags[@]}" "$@" "${corpora[@]}" >"$log" 2>&1 || status=$?
    local elapsed=$((SECONDS - started))
    rm -rf "$QKV_FUZZ_TMPDIR"
    local done_line executions rate
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    local cov ft
    cov="$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' <<<"$done_line")"
    ft="$(sed -n 's/.* ft: \([0-9]*\) .*/\1/p' <<<"$done_line")"
    if [ "$status" -eq 0 ]; then
        printf '%-20s ok      %12s executions  %8s exec/s  %6s s  cov %6s  ft %7s\n' \
            "$target" "${executions:-?}" "${rate:-?}" "$elapsed" "${cov:-?}" "${ft:-?}"
    else
        printf '%-20s FAILED  (exit %s) after %s executions; log: %s\n' "$target" "$status" "${executions:-?}" "$log"
        grep -E 'ERROR|SUMMARY|Fatal error|Test unit written|artifact' "$log" | head -n 20 >&2 || true
        tail -n 40 "$log" >&2
    fi
    return "$status"
}

case "${1:-}" in
--list)
    targets
    ;;
--build)
    build
    ;;
--all)
    seconds="${2:-30}"
    build
    failed=0
    for target in $(targets); do
        fuzz "$target" "$seconds" || failed=1
    done
    exit "$failed"
    ;;
--run)
    [ $# -ge 3 ] || { echo "usage: bash scripts/fuzz.sh --run TARGET FILE..." >&2; exit 64; }
    target="$2"
    known "$target"
    shift 2
    build
    environment
    status=0
    QKV_FUZZ_VERBOSE=1 "$binaries/fuzz-$target" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 "$@" || status=$?
    rm -rf "$QKV_FUZZ_TMPDIR"
    exit "$status"
    ;;
"" | -h | --help)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    [ -n "${1:-}" ] || exit 64
    ;;
*)
    target="$1"
    known "$target"
    shift
    seconds=60
    if [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds="$1"; shift; fi
    if [ "${1:-}" = "--" ]; then shift; fi
    build
    fuzz "$target" "$seconds" "$@"
    ;;
esac
