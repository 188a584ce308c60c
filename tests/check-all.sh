#!/bin/sh
# check-all.sh - build and run every test twice: a normal -Werror build, and
# an ASan+UBSan build whose tests must produce zero sanitizer reports.
# Builds live in build/normal and build/sanitizers (out of tree).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)

# Any sanitizer report fails the test that caused it.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

run() { # run NAME CONFIGURE-ARGS...
    name=$1; shift
    dir="$top/build/$name"
    echo "=== $name build: configure $*"
    mkdir -p "$dir"
    (cd "$dir" && "$top/configure" -q --enable-werror "$@" && make -s -j"$jobs" \
        && make -s -j"$jobs" check) || { failed="$failed $name"; find "$dir/tests" -name '*.log' \
        ! -name test-suite.log -exec grep -l -E '^(FAIL|ERROR)|[1-9][0-9]* failed|runtime error|Sanitizer' {} + \
        | while read -r f; do echo "--- $f"; tail -40 "$f"; done; }
    # A sanitizer report in any log is a failure even if the test passed.
    if grep -rl -E 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$dir/tests" --include='*.log' 2>/dev/null; then
        failed="$failed $name(sanitizer-report)"
    fi
}

failed=""
run normal
run sanitizers --enable-sanitizers

# One closing line over both builds, counted from automake's summaries.
count() { cat "$top"/build/*/test-suite.log 2>/dev/null | sed -n "s/^# $1: *//p" | awk '{s += $1} END {print s + 0}'; }
if [ -n "$failed" ]; then
    echo "check-all: FAILED:$failed"
else
    echo "check-all: every test passed in the normal and the sanitizer build"
fi
echo "$(count PASS) passed, $(( $(count FAIL) + $(count ERROR) )) failed"
[ -z "$failed" ]
