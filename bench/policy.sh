#!/bin/sh
#++
# NAME
#	policy.sh 1
# SUMMARY
#	requests/s and latency of the daemon, through the policy delegation protocol
# SYNOPSIS
#	sh bench/policy.sh BUILDDIR
#	make bench-policy
# DESCRIPTION
#	Starts BUILDDIR's tlspolicyd as a policy service only (a
#	configuration without "socket", -s inet:127.0.0.1:PORT on a free
#	port; as root with -u nobody and a state directory nobody can
#	write; its syslog(3) reaching nothing of the machine's, as the tests
#	do), and runs bench/policyload against it with 1, 16 and 256
#	persistent connections (CONNS), RUN_SECONDS each (default 10): each
#	connection walks SMTP sessions as Postfix's smtpd would send them
#	(a new client port per session, a new instance per message, 1-5
#	RCPT requests and an END-OF-MESSAGE request per message, half the
#	sessions TLS, half the recipients in the required domain), and
#	every reply is checked. The configuration: one "required" policy
#	for gdpr.example, opportunistic default, the fallback rules off.
#	Prints the figures as a markdown table, with the daemon's VmRSS
#	after the runs.
# ENVIRONMENT
#	CONNS ("1 16 256"), RUN_SECONDS (10), TMPDIR
#--

set -eu
[ $# -eq 1 ] || { echo "usage: sh bench/policy.sh BUILDDIR" >&2; exit 2; }
builddir=$(cd "$1" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
D=$builddir/src/tlspolicyd
L=$builddir/bench/policyload
conns=${CONNS:-1 16 256}
secs=${RUN_SECONDS:-10}
for f in "$D" "$L"; do [ -x "$f" ] || { echo "policy.sh: $f: not built" >&2; exit 1; }; done
. "$srcdir/tests/integration/lib.sh" # free_port
. "$srcdir/tests/e2e/lib.sh"         # wait_listen: from /proc/net/tcp, in any sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicyd-policy.XXXXXX")
chmod 755 "$tmp"
user_opt=""
[ "$(id -u)" != 0 ] || user_opt="-u nobody" # $tmp is root's: nobody cannot write it
dpid=""
trap '[ -z "$dpid" ] || { kill -TERM "$dpid" 2>/dev/null; wait "$dpid"; }; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

printf '%s\n' '# bench/policy.sh: no socket: the policy service alone (-s)' \
    'default = { level = "opportunistic"; };' \
    'policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required";' \
    '               min_tls_version = "TLSv1.2"; } );' >"$tmp/td.conf"

port=$(free_port)
# shellcheck disable=SC2086
(exec unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' x \
    "$D" -f $user_opt -P "$tmp/pid" -s "inet:127.0.0.1:$port" -c "$tmp/td.conf" >"$tmp/td.log" 2>&1) &
dpid=$!
i=0
until grep -q 'message="starting' "$tmp/td.log" 2>/dev/null; do
    kill -0 "$dpid" 2>/dev/null && [ $i -lt 300 ] || { cat "$tmp/td.log" >&2; exit 1; }
    sleep 0.1
    i=$((i + 1))
done
wait_listen "$port" up || { cat "$tmp/td.log" >&2; exit 1; }

# field KEY FILE - the value of one "key value" line of policyload's output
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# ms MICROSECONDS - as milliseconds, two decimals
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

echo "## tlspolicyd through the policy delegation protocol"
echo
echo "| | |"
echo "|---|---|"
echo "| CPU | $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc) |"
echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$srcdir" status --porcelain 2>/dev/null)" ] || rev="$rev (modified)"
echo "| source | $rev |"
echo "| command | \`CONNS=\"$conns\" RUN_SECONDS=$secs sh bench/policy.sh BUILDDIR\`;" \
    "each run \`policyload -p PORT -c CONNS -t $secs\` |"
echo
echo "| connections | requests/s | requests | latency p50 / p90 / p99 / max (ms) | sessions | failed |"
echo "|---|---|---|---|---|---|"
for c in $conns; do
    rc=0
    "$L" -p "$port" -c "$c" -t "$secs" >"$tmp/out.$c" 2>"$tmp/err.$c" || rc=$?
    o=$tmp/out.$c
    printf '| %s | %s | %s | %s / %s / %s / %s | %s | %s |\n' "$c" "$(field requests_per_s "$o")" \
        "$(field requests "$o")" "$(ms "$(field latency_us_p50 "$o")")" "$(ms "$(field latency_us_p90 "$o")")" \
        "$(ms "$(field latency_us_p99 "$o")")" "$(ms "$(field latency_us_max "$o")")" \
        "$(field sessions "$o")" "$(field failed "$o")"
    [ "$rc" = 0 ] || { cat "$tmp/err.$c" >&2; echo "policy.sh: policyload failed at $c connections" >&2; exit 1; }
done
echo
echo "daemon VmRSS after the runs: $(awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status") KiB;" \
    "decision records: $(grep -c '^event=decision ' "$tmp/td.log" || true)"
