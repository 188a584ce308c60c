#!/bin/sh
# check-all.sh - build and run every test twice: `make distcheck` in
# build/normal (a -Werror build from the release tarball with its source
# tree read-only, make check, install, uninstall, dist and distclean
# checked; the tarball stays in build/normal), and an ASan+UBSan build
# whose tests must produce zero sanitizer reports; then build/normal built
# as it is (distcheck builds inside the tarball's tree and removes it) and,
# there, the unit and milter integration tests once more under valgrind
# memcheck (uninitialised reads ASan cannot see), which must report zero
# errors; then every libFuzzer harness for FUZZ_SECONDS (default 15) each
# (tests/fuzz.sh, a clang build). Builds live in build/normal,
# build/sanitizers and build/fuzz (out of tree).
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

# distcheck - configure build/normal and run make distcheck there, the
# normal build's make check: from the tarball, in
# build/normal/tlspolicyd-VERSION/_build/sub. Its output goes to
# build/normal/distcheck.log too (the closing count reads the summary).
distcheck() {
    dir="$top/build/normal"
    echo "=== normal build: configure --enable-werror, make distcheck"
    mkdir -p "$dir"
    # A failed distcheck leaves its tree, read-only: make it writable to remove it.
    for d in "$dir"/tlspolicyd-*/; do
        [ -d "$d" ] || continue
        chmod -R u+w "$d" && rm -rf "$d"
    done
    rm -f "$dir/distcheck.rc"
    # tee loses make's exit status: the left side writes it to distcheck.rc.
    {
        if (cd "$dir" && "$top/configure" -q --enable-werror &&
            make -s -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror) 2>&1
        then rc=0; else rc=$?; fi
        echo "$rc" >"$dir/distcheck.rc"
    } | tee "$dir/distcheck.log"
    [ "$(cat "$dir/distcheck.rc")" = 0 ] && return 0
    failed="$failed normal"
    logs=$(find "$dir"/tlspolicyd-*/_build/sub/tests -name '*.log' ! -name test-suite.log \
        -exec grep -l -E '^(FAIL|ERROR)|[1-9][0-9]* failed' {} + 2>/dev/null) || :
    for f in $logs; do echo "--- $f"; tail -40 "$f"; done
    # No test failed: a step after the tests did (install, dist, distclean).
    [ -n "$logs" ] || tail -n 20 "$dir/distcheck.log"
}

# valgrind_build - build/normal itself built, with the check programs, and
# no test run (distcheck built and tested a copy, which it removed)
valgrind_build() {
    echo "=== valgrind: make and the check programs in build/normal"
    (cd "$top/build/normal" && make -s -j"$jobs" && make -s -j"$jobs" check TESTS= >/dev/null) ||
        { failed="$failed valgrind-build"; return 1; }
}

# valgrind_run - unit tests and the integration tests of both front ends under memcheck
# in the normal build: any error or definite leak fails (see
# tests/integration/lib.sh for the daemon's options and why).
valgrind_run() {
    dir="$top/build/normal" logs="$top/build/normal/valgrind"
    echo "=== valgrind: unit tests and integration tests in build/normal"
    rm -rf "$logs" && mkdir -p "$logs" && chmod 777 "$logs" # the daemon writes as nobody
    # test_store_redis needs a redis-server: its wrapper script runs it (below).
    units=$(cd "$dir" && ls tests/unit | grep -E '^test_[a-z_]+$' | grep -v '^test_store_redis$' |
        sed 's|^|tests/unit/|' | tr '\n' ' ')
    # Own summary files, so that the normal build's test-suite.log (counted
    # below) stays the normal run's.
    (cd "$dir" && make -s -j"$jobs" check TEST_SUITE_LOG=valgrind-unit.log TESTS="$units" \
        LOG_COMPILER=valgrind AM_LOG_FLAGS="-q --vgdb=no --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite" \
        && TP_VALGRIND=1 TP_VALGRIND_LOGS="$logs" make -s check TEST_SUITE_LOG=valgrind-integration.log \
        TESTS="tests/integration/test_milter.sh tests/integration/test_store_redis.sh \
        tests/integration/test_fallback.sh tests/integration/test_fallback_redis.sh \
        tests/integration/test_daemon.sh tests/integration/test_policy.sh tests/integration/test_metrics.sh \
        tests/integration/test_redis_sentinel.sh") || failed="$failed valgrind"
    # With -q a log holds only what valgrind found.
    for f in "$logs"/vg.*.log; do
        [ -s "$f" ] || continue
        failed="$failed valgrind($f)"
        head -60 "$f"
    done
}

# timed NAME CMD... - run CMD, then say how long it took (the README quotes these)
times=""
timed() {
    t0=$(date +%s) part=$1
    shift
    rc=0
    "$@" || rc=$?
    times="$times $part $(( $(date +%s) - t0 ))s"
    return $rc
}

failed=""
timed normal distcheck
timed sanitizers run sanitizers --enable-sanitizers
if timed valgrind-build valgrind_build; then timed valgrind valgrind_run; fi
# 15 s per harness here (tests/fuzz.sh alone defaults to 30): valgrind and
# fuzzing together then add about 5 minutes on 2 cores.
timed fuzz sh -c '"$1/tests/fuzz.sh" "$2"' fuzz "$top" "${FUZZ_SECONDS:-15}" || failed="$failed fuzz"
# The Debian package from build/normal's tarball: make deb, lintian, install,
# the daemon as the unit runs it, purge (tests/package/test_deb.sh).
timed package sh "$top/tests/package/test_deb.sh" "$top/build/normal" || failed="$failed package"
echo "check-all: time per part:$times"

# One closing line over both builds, counted from automake's summaries: the
# normal build's as distcheck printed it (its test-suite.log went with its tree).
count() { cat "$top/build/normal/distcheck.log" "$top/build/sanitizers/test-suite.log" 2>/dev/null |
    sed -n "s/^# $1: *//p" | awk '{s += $1} END {print s + 0}'; }
if [ -n "$failed" ]; then
    echo "check-all: FAILED:$failed"
else
    echo "check-all: every test passed in the normal and the sanitizer build, under valgrind, and fuzzing found nothing"
fi
echo "$(count PASS) passed, $(( $(count FAIL) + $(count ERROR) )) failed"
[ -z "$failed" ]
