#!/bin/sh
#++
# NAME
#	state.sh 1
# SUMMARY
#	decisions/s, latency and Redis commands per decision of the learned state
# SYNOPSIS
#	sh bench/state.sh BUILDDIR
#	make bench-state
# DESCRIPTION
#	Runs BUILDDIR's bench/statebench (fallback_decide() with the
#	fallback rules on, over the store a configuration file names) for
#	every store and thread count of the matrix: LMDB in a new directory
#	under TMPDIR (durable commits, as the daemon writes them), Redis on
#	loopback TCP, Redis on a unix socket; 1 and 16 threads (THREADS);
#	RUN_SECONDS each (default 10). Redis is a private redis-server
#	started here as the tests start theirs (tests/integration/redis.sh:
#	redis-tools' binary under the name redis-server, a free port, a unix
#	socket, nothing on disk), emptied before every run, stopped at the
#	end. Every run starts from the same learned state: SENDERS known
#	senders (default 10,000), preloaded untimed. statebench's workload
#	(printed above the table) and its checks are described in
#	bench/statebench.c; a store error or a wrong decision fails the run.
#	state.timeout_ms is 1000 here, not the default 50, so that a busy
#	shared machine measures slow decisions instead of failing them.
#	Prints the figures as markdown tables, ready to paste.
# ENVIRONMENT
#	THREADS ("1 16"), RUN_SECONDS (10), SENDERS (10000), TMPDIR
#--

set -eu
[ $# -eq 1 ] || { echo "usage: sh bench/state.sh BUILDDIR" >&2; exit 2; }
builddir=$(cd "$1" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
S=$builddir/bench/statebench
threads=${THREADS:-1 16}
secs=${RUN_SECONDS:-10}
senders=${SENDERS:-10000}
[ -x "$S" ] || { echo "state.sh: $S: not built (make bench/statebench)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicyd-state.XXXXXX")
tmp=$(cd "$tmp" && pwd) # state.path must be absolute
# t_bad WHAT WHY - redis.sh's way of saying what failed
# shellcheck disable=SC2317 # called from redis.sh
t_bad() { echo "state.sh: not ok: $1${2:+: $2}" >&2; }
# shellcheck source=tests/integration/lib.sh
. "$srcdir/tests/integration/lib.sh" # free_port
# shellcheck source=tests/integration/redis.sh
. "$srcdir/tests/integration/redis.sh" # redis_find, redis_start, redis_stop_all
trap 'redis_stop_all; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

redis_find || exit 1
redis_start bench || exit 1
# shellcheck disable=SC2154 # set by redis_start, through eval
port=$REDIS_PORT_bench sock=$REDIS_SOCK_bench

# conf NAME STATE - a configuration with the fallback rules on and STATE as its state group
conf() {
    printf '%s\n' '# bench/state.sh: the fallback rules on, the etc/tlspolicyd.conf values' \
        'default = { level = "opportunistic"; };' \
        'policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required";' \
        '               min_tls_version = "TLSv1.2"; } );' \
        'fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";' \
        '             max_deferrals = 3; defer_period = "6h"; then = "accept"; };' \
        "state = { $2 on_error = \"accept\"; };" >"$tmp/$1.conf"
}
conf tcp "backend = \"redis\"; servers = [ \"127.0.0.1:$port\" ]; timeout_ms = 1000; prefix = \"bench:\";"
conf unix "backend = \"redis\"; servers = [ \"unix:$sock\" ]; timeout_ms = 1000; prefix = \"bench:\";"

# field KEY FILE - the value of one "key value" line of statebench's output
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# field0 KEY FILE - the value, 0 when the line is missing (a run that failed early)
field0() { v=$(field "$1" "$2"); echo "${v:-0}"; }

# per_command FILE - "get 1.00, set 0.25, ..." from redis_calls_per_decision_NAME lines
per_command() {
    sed -n 's/^redis_calls_per_decision_//p' "$1" | sort -k2,2gr -k1,1 |
        awk '{ s = s (s == "" ? "" : ", ") $1 " " ($2 < 0.0005 ? "<0.001" : $2) } END { print (s == "" ? "-" : s) }'
}

rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$srcdir" status --porcelain 2>/dev/null)" ] || rev="$rev (modified)"
echo "## The learned state: fallback_decide() over LMDB and Redis"
echo
echo "| | |"
echo "|---|---|"
echo "| CPU | $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc) |"
echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
echo "| source | $rev |"
echo "| LMDB | a new directory under ${TMPDIR:-/tmp} ($(df -PT "$tmp" | awk 'NR == 2 { print $2 " on " $1 }')) |"
echo "| Redis | $(redis-cli -p "$port" info server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')," \
    "private, no persistence, on the same cores |"
echo "| command | \`THREADS=\"$threads\" RUN_SECONDS=$secs SENDERS=$senders sh bench/state.sh BUILDDIR\`;" \
    "each run \`statebench -c CONF -j THREADS -t $secs --senders $senders\` |"
echo

failed=0
first=1
for store in lmdb tcp unix; do
    for t in $threads; do
        o=$tmp/out.$store.$t
        if [ "$store" = lmdb ]; then
            conf lmdb "backend = \"lmdb\"; path = \"$tmp/lmdb.$t\";"
        else
            [ "$(redis-cli -p "$port" flushall)" = OK ] || { echo "state.sh: FLUSHALL failed" >&2; exit 1; }
        fi
        rc=0
        "$S" -c "$tmp/$store.conf" -j "$t" -t "$secs" --senders "$senders" >"$o" 2>"$tmp/err" || rc=$?
        if [ "$first" = 1 ]; then
            echo "Workload: $senders sender keys; $(sed -n 's/^workload //p' "$o")."
            echo
            echo "| store | threads | decisions/s | decisions | latency p50 / p90 / p99 / max (us) | Redis commands per decision | per command | failed |"
            echo "|---|---|---|---|---|---|---|---|"
            first=0
        fi
        case $store in
        lmdb) name="LMDB" ;;
        tcp) name="Redis, loopback TCP" ;;
        unix) name="Redis, unix socket" ;;
        esac
        calls=$(field redis_calls_per_decision "$o")
        cmds=-
        [ "$store" = lmdb ] || cmds=$(per_command "$o")
        nfail=$(($(field0 errors "$o") + $(field0 unexpected "$o")))
        printf '| %s | %s | %s | %s | %s / %s / %s / %s | %s | %s | %s |\n' "$name" "$t" \
            "$(field decisions_per_s "$o")" "$(field decisions "$o")" "$(field latency_us_p50 "$o")" \
            "$(field latency_us_p90 "$o")" "$(field latency_us_p99 "$o")" "$(field latency_us_max "$o")" \
            "${calls:--}" "$cmds" "$nfail"
        if [ "$rc" != 0 ]; then
            cat "$tmp/err" >&2
            echo "state.sh: statebench failed on $name, $t threads (status $rc)" >&2
            failed=1
        fi
        cat "$o" >>"$tmp/all"
    done
done
echo
echo "Decisions by reason over all runs: tls_ok $(awk '$1 == "reason_tls_ok" { s += $2 } END { print s }' "$tmp/all")," \
    "downgrade (deferred) $(awk '$1 == "reason_downgrade" { s += $2 } END { print s }' "$tmp/all")," \
    "downgrade_accepted $(awk '$1 == "reason_downgrade_accepted" { s += $2 } END { print s }' "$tmp/all"),"
echo "plaintext_allowed (a thread's clock a second behind another's: see bench/statebench.c)" \
    "$(awk '$1 == "reason_plaintext_allowed" { s += $2 } END { print s }' "$tmp/all")."
exit "$failed"
