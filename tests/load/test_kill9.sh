#!/bin/bash
# test_kill9 - kill -9 under load with the fallback rules on (LMDB store):
# milterload keeps 8 connections of TLS sessions busy, each from a sender
# of its own, so every session learns one key with one committed write.
# The daemon logs a decision only after its learning committed, so every
# key logged before the kill must be listed by --state after it, and the
# restarted daemon must serve the same store under load without a failure.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need unshare comm
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
. "$top_srcdir/tests/load/lib.sh"
mkdir "$tmp/state"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$tmp/state"
PORT=$(free_port)
trap 'kill -KILL $DPID $LPID 2>/dev/null; rm -rf "$tmp"' EXIT

cat >"$tmp/t.conf" <<CONF
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";
             max_deferrals = 2; defer_period = "6h"; then = "accept"; };
state = { backend = "lmdb"; path = "$tmp/state"; on_error = "accept"; };
CONF

daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"
"$L" -p "$PORT" -c 8 -t 20 -r 3 --tls-share 100 --name-tag k9 --timeout 2000 \
    >"$tmp/load1.out" 2>"$tmp/load1.err" &
LPID=$!
sleep 4
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
wait_port "$PORT" down || t_bad "the killed daemon's port closes" ""
# milterload now fails its sessions (refused connections) and ends early
# only when its time is up; it is not what this test measures.
kill -TERM "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null

grep -oE 'fallback_key=client_domain:s[0-9]+-k9\.example' "$tmp/daemon.log" | sed 's/fallback_key=//' |
    sort -u >"$tmp/logged"
n=$(grep -c . "$tmp/logged")
echo "# $n keys logged before the kill"
t_match "the kill came under load (100 or more keys logged)" '^[1-9][0-9]{2,}$' "$n"
"$D" -c "$tmp/t.conf" --state list >"$tmp/list" 2>"$tmp/list.err"; rc=$?
t_eq "--state list reads the store after kill -9" 0 "$rc"
sed -n 's/^key=\([^ ]*\) .*/\1/p' "$tmp/list" | sort -u >"$tmp/stored"
t_eq "every key logged before kill -9 is in the store" "" "$(comm -23 "$tmp/logged" "$tmp/stored" | head -5)"

mv "$tmp/daemon.log" "$tmp/daemon1.log"
daemon_start "$tmp/t.conf" || t_bad "the daemon restarts on the store" "$(cat "$tmp/daemon.log")"
"$L" -p "$PORT" -c 8 -n 400 -r 3 --tls-share 50 --name-tag after >"$tmp/load2.out" 2>"$tmp/load2.err"
t_eq "after the restart: 400 sessions, none failed" "0 400 0" \
    "$? $(load_field sessions "$tmp/load2.out") $(load_field failed "$tmp/load2.out")"
t_eq "...and no state error" 0 "$(grep -c 'reason=state_error' "$tmp/daemon.log")"
daemon_stop
t_eq "the restarted daemon stops cleanly" 0 "$?"
seq_contiguous "seq is contiguous after the restart" "$tmp/daemon.log"
t_done
