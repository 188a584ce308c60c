#!/bin/bash
# test_store_faults - the state store failing under load. Store full: the
# LMDB store on a 1 MiB tmpfs (in a private mount namespace), filled while
# milterload runs: the daemon must not crash, no session may fail, an
# opportunistic plaintext recipient is accepted with reason=state_error as
# state.on_error = "accept" says (tlspolicyd.conf(5)), the write errors are
# logged, and once space is freed the store is written again. Store
# unwritable (a root-owned 0500 directory, the daemon running as nobody):
# LMDB keeps the files it opened, so the daemon meets this only when it
# opens the store, at start (it refuses to start) or at a reload that
# turns the fallback rules on (refused; the old configuration stays in
# force under load).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need unshare mount umount dd df
# The tmpfs is mounted in a namespace of this test's own, never the machine's.
if [ -z "${TP_LOAD_NS:-}" ]; then
    TP_LOAD_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
. "$top_srcdir/tests/load/lib.sh"
PORT=$(free_port)
trap 'kill -KILL $DPID 2>/dev/null; umount "$tmp/fs" 2>/dev/null; rm -rf "$tmp"' EXIT

mkdir "$tmp/fs"
mount -t tmpfs -o size=1m,mode=0755 tmpfs "$tmp/fs" || t_bad "a 1 MiB tmpfs mounts" ""
mkdir "$tmp/fs/state" && chown nobody:nogroup "$tmp/fs/state"
# fconf FILE STATEDIR - gdpr.example required, fallback learning on STATEDIR
fconf() {
    cat >"$1" <<CONF
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";
             max_deferrals = 2; defer_period = "6h"; then = "accept"; };
state = { backend = "lmdb"; path = "$2"; on_error = "accept"; };
CONF
}
fconf "$tmp/full.conf" "$tmp/fs/state"
# opp_plain FROM - decision records from line FROM on for opportunistic plaintext recipients
opp_plain() { tail -n +"$1" "$tmp/daemon.log" | grep '^event=decision .* rcpt_domain=other\.example .*tls_version=none '; }

daemon_start "$tmp/full.conf" || t_bad "daemon starts on the tmpfs store" "$(cat "$tmp/daemon.log")"
"$L" -p "$PORT" -c 4 -n 200 --name-tag warm >"$tmp/load.out" 2>&1
t_eq "before the fill: no failed session" "0 0" "$? $(load_field failed "$tmp/load.out")"
t_match "...and plaintext senders are learned" 'reason=plaintext_allowed' "$(opp_plain 1)"

dd if=/dev/zero of="$tmp/fs/fill" bs=4k 2>/dev/null
t_eq "the tmpfs is full" 0 "$(df -k "$tmp/fs" | awk 'NR == 2 { print $4 }')"
from=$(($(wc -l <"$tmp/daemon.log") + 1))
"$L" -p "$PORT" -c 8 -n 1500 --name-tag full >"$tmp/load.out" 2>"$tmp/load.err"
t_eq "store full: milterload's 1500 sessions, none failed" "0 1500 0" \
    "$? $(load_field sessions "$tmp/load.out") $(load_field failed "$tmp/load.out")"
kill -0 "$DPID" 2>/dev/null && t_ok "store full: the daemon is alive" ||
    t_bad "store full: the daemon is alive" "$(tail -5 "$tmp/daemon.log")"
t_match "store full: the write errors are logged" \
    '^event=notice message="state store: state store .*: write: No space left on device"' \
    "$(tail -n +"$from" "$tmp/daemon.log")"
t_match "store full: opportunistic plaintext is accepted with reason=state_error" \
    'action=accept would=- reason=state_error ' "$(opp_plain "$from")"
# LMDB may still find a free page for a write or two right after the fill
t_eq "store full: no other outcome for opportunistic plaintext" "" \
    "$(opp_plain "$from" | grep -vE 'action=accept would=- reason=(state_error|plaintext_allowed) ' | head -3)"
t_match "store full: TLS recipients are decided as usual" 'reason=tls_ok ' \
    "$(tail -n +"$from" "$tmp/daemon.log" | grep '^event=decision .*tls_version=TLSv1.3 ')"

rm -f "$tmp/fs/fill"
from=$(($(wc -l <"$tmp/daemon.log") + 1))
"$L" -p "$PORT" -c 4 -n 300 --name-tag freed >"$tmp/load.out" 2>&1
t_eq "space freed: no failed session" "0 0" "$? $(load_field failed "$tmp/load.out")"
t_eq "space freed: no state error any more" 0 "$(tail -n +"$from" "$tmp/daemon.log" | grep -c 'state_error\|^event=notice')"
t_match "space freed: plaintext senders are learned again" 'reason=plaintext_allowed' "$(opp_plain "$from")"
daemon_stop
t_eq "the daemon stops cleanly" 0 "$?"
seq_contiguous "seq is contiguous through the store errors" "$tmp/daemon.log"

# Unwritable at start: nobody cannot create the store in a root-owned 0500 directory.
mkdir "$tmp/ro" && chmod 0500 "$tmp/ro"
fconf "$tmp/ro.conf" "$tmp/ro"
: >"$tmp/daemon.log"
PORT=$(free_port "$PORT")
daemon_launch "$tmp/ro.conf" "$PORT" "$tmp/pid" "$tmp/daemon.log"
wait "$DPID"; rc=$?
t_eq "unwritable store at start: the daemon exits 1 (no crash)" 1 "$rc"
t_match "...and says why" '^event=notice message="cannot open state store .*/ro: .*Permission denied"' \
    "$(cat "$tmp/daemon.log")"

# Unwritable at a reload that turns learning on, under load.
printf '%s\n' 'policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );' \
    >"$tmp/t.conf"
h0=$(conf_hash "$tmp/t.conf")
: >"$tmp/daemon.log"
daemon_start "$tmp/t.conf" || t_bad "daemon starts without learning" "$(cat "$tmp/daemon.log")"
"$L" -p "$PORT" -c 4 -t 4 --name-tag ro >"$tmp/load.out" 2>"$tmp/load.err" &
LPID=$!
sleep 1
cp "$tmp/ro.conf" "$tmp/t.conf"
kill -HUP "$DPID"
wait "$LPID"
t_eq "unwritable store at reload: no failed session" "0 0" "$? $(load_field failed "$tmp/load.out")"
t_match "...the reload is refused and says why" 'reload refused: the fallback rules need their state store' \
    "$(cat "$tmp/daemon.log")"
t_eq "...every decision is under the old configuration" "config=$h0" \
    "$(grep '^event=decision' "$tmp/daemon.log" | grep -oE 'config=[0-9a-f]+' | sort -u)"
daemon_stop
t_eq "the daemon stops cleanly" 0 "$?"
t_done
