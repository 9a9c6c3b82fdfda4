#!/usr/bin/env bash
# The tests under AddressSanitizer and LeakSanitizer, in a build folder of their own (.build-asan),
# so any out-of-bounds access, use after free or leak in qkv fails the run (CI runs this after the
# plain tests; docs/RELIABILITY.md). The tests that run the qkv executable find the sanitized one
# next to the test bundle. Leaks inside the toolchain's libraries are suppressed
# (scripts/lsan-suppressions.txt). Extra arguments go to swift test (--filter ...).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan-suppressions.txt:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# A trap reports at once instead of through the Swift backtracer (slow under ASan).
export SWIFT_BACKTRACE=enable=no
swift build --build-tests --sanitize=address --scratch-path .build-asan
swift test --skip-build --sanitize=address --scratch-path .build-asan "$@"
