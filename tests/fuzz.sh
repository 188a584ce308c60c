#!/bin/sh
# fuzz.sh [SECONDS] - build the libFuzzer harnesses of fuzz/ with clang in
# build/fuzz (configure --enable-fuzzers: ASan, UBSan and coverage) and run
# each for SECONDS (default 30) on a copy of its seed corpus, so that the
# committed corpus stays what was committed. Fails on any crash, leak,
# timeout or out-of-memory report; the input that caused it is kept in
# build/fuzz/fuzz-out/NAME/ (add it to fuzz/corpus/NAME/ with the fix).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-30}
jobs=${JOBS:-2}
dir=$top/build/fuzz
names="config session record logline mtafail fromrec policy"
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
command -v clang >/dev/null || { echo "fuzz.sh: clang not found (install the Debian package clang)" >&2; exit 2; }

echo "=== fuzz build: CC=clang configure --enable-fuzzers"
mkdir -p "$dir"
# No --enable-werror: clang's -Wformat=2 flags the vsnprintf wrappers that
# gcc's does not; the gcc builds of check-all.sh keep -Werror.
(cd "$dir" && { [ -f Makefile ] || CC=clang "$top/configure" -q --enable-fuzzers; } && make -s -j"$jobs" fuzzers)

# libFuzzer's own ASan defaults: a leak fails the run; a slow input
# (-timeout) and a memory hog (-rss_limit_mb) count as failures too.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
LSAN_OPTIONS=suppressions=$top/fuzz/lsan.supp
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
failed=""
for n in $names; do
    work=$dir/fuzz-work/$n out=$dir/fuzz-out/$n
    rm -rf "$work" "$out" && mkdir -p "$work" "$out"
    cp "$top/fuzz/corpus/$n/"* "$work/"
    log=$dir/fuzz-$n.log
    if (cd "$out" && "$dir/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 "$work" </dev/null >"$log" 2>&1); then
        echo "fuzz_$n: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") runs, $(ls "$work" | wc -l) corpus inputs, no report"
    else
        failed="$failed $n"
        echo "fuzz_$n: FAILED; the input is in $out, the log $log:"
        grep -E -A25 '^==[0-9]+==ERROR|runtime error|deadly signal|Test unit written' "$log" | head -60
    fi
done
[ -z "$failed" ] || { echo "fuzz.sh: FAILED:$failed"; exit 1; }
echo "fuzz.sh: every harness ran ${secs} s without a report"
