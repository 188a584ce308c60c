#!/bin/sh
#++
# NAME
#	milter.sh 1
# SUMMARY
#	sessions/s and per-RCPT latency of the daemon, through the milter protocol
# SYNOPSIS
#	sh bench/milter.sh BUILDDIR
# DESCRIPTION
#	Starts BUILDDIR's tlspolicyd on a free loopback port (as root with
#	-u nobody; its syslog(3) reaching nothing of the machine's, as the
#	tests do) and runs bench/milterload against it: CONC connections
#	(default 20) for RUN_SECONDS (default 10), half the sessions TLS, 1-5
#	recipients each, half of them in the required domain. Twice: learning
#	off, then the fallback rules on over an LMDB store in TMPDIR (one
#	fsync'd write per new sender, and every session is a new sender: the
#	worst case). Prints milterload's figures and the daemon's VmRSS.
# ENVIRONMENT
#	CONC, RUN_SECONDS, TMPDIR
#--

set -eu
[ $# -eq 1 ] || { echo "usage: sh bench/milter.sh BUILDDIR" >&2; exit 2; }
builddir=$(cd "$1" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
D=$builddir/src/tlspolicyd
L=$builddir/bench/milterload
conc=${CONC:-20}
secs=${RUN_SECONDS:-10}
for f in "$D" "$L"; do [ -x "$f" ] || { echo "milter.sh: $f: not built" >&2; exit 1; }; done
. "$srcdir/tests/integration/lib.sh" # free_port
. "$srcdir/tests/e2e/lib.sh"         # wait_listen: from /proc/net/tcp, in any sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicyd-milter.XXXXXX")
tmp=$(cd "$tmp" && pwd) # the state path must be absolute
chmod 755 "$tmp"
mkdir "$tmp/state"
user_opt=""
if [ "$(id -u)" = 0 ]; then user_opt="-u nobody"; chown nobody "$tmp/state"; fi
dpid=""
trap '[ -z "$dpid" ] || kill -TERM "$dpid" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

printf '%s\n' 'default = { level = "opportunistic"; };' \
    'policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required";' \
    '               min_tls_version = "TLSv1.2"; } );' >"$tmp/off.conf"
cp "$tmp/off.conf" "$tmp/on.conf"
printf '%s\n' 'fallback = { enabled = true; key = "client_domain"; };' \
    "state = { backend = \"lmdb\"; path = \"$tmp/state\"; on_error = \"accept\"; };" >>"$tmp/on.conf"

# run NAME - one daemon on NAME.conf, one milterload run against it
run() {
    port=$(free_port)
    # shellcheck disable=SC2086
    (exec unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' x \
        "$D" -f $user_opt -P "$tmp/pid" -p "inet:$port@127.0.0.1" -c "$tmp/$1.conf" >"$tmp/$1.log" 2>&1) &
    dpid=$!
    wait_listen "$port" up || { cat "$tmp/$1.log" >&2; exit 1; }
    echo "### learning $1: milterload -p PORT -c $conc -t $secs -r 5 --tls-share 50"
    rc=0
    "$L" -p "$port" -c "$conc" -t "$secs" -r 5 --tls-share 50 || rc=$?
    echo "daemon_vmrss_kb $(awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status")"
    kill -TERM "$dpid"
    wait "$dpid" || true
    dpid=""
    [ "$rc" = 0 ] || { echo "milter.sh: milterload reported failed sessions" >&2; exit 1; }
}

echo "## tlspolicyd through the milter protocol"
echo "cpu $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc)"
echo "load_average_at_start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "source $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)"
run off
run on
