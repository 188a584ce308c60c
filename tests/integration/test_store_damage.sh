#!/bin/bash
# test_store_damage - a damaged LMDB state store (issue 17): the daemon
# starts on a truncated or emptied data.mdb with the files moved aside and
# an error notice (state.on_damage = "reset", the default), refuses to
# start with on_damage = "refuse", exits cleanly with a message (not
# SIGBUS, status 135) when data.mdb is truncated while it runs, and
# decides an undecodable record as state_error under on_error.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need miltertest unshare perl
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir "$tmp/state"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$tmp/state"
PORT=$(free_port)
DPID=
trap 'kill -KILL $DPID 2>/dev/null; rm -rf "$tmp"' EXIT

# conf ON_DAMAGE ON_ERROR - the configuration under test
conf() {
    cat >"$tmp/t.conf" <<CONF
policies = ();
exempt = { clients = [ "127.0.0.0/8" ]; authenticated = true; };
fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";
             max_deferrals = 2; defer_period = "6h"; then = "accept"; };
state = { backend = "lmdb"; path = "$tmp/state"; on_damage = "$1"; on_error = "$2"; };
CONF
}

LUA=$MT_SESSION_LUA
rec() { grep "^event=decision .* rcpt=$1 " "$tmp/daemon.log" | tail -1; }

# learn - a daemon run that teaches the store one TLS sender, then stops
learn() {
    daemon_start "$tmp/t.conf" || t_bad "daemon starts to learn" "$(cat "$tmp/daemon.log")"
    mt "a TLS sender is learned" "$LUA
c = session('192.0.2.80', 'mx1.partner.example', true)
expect(c, '<t@other.example>', SMFIR_CONTINUE)
finish(c)"
    daemon_stop
}

# start_on_damage NAME - start on the damaged store: it serves, files moved, a notice
start_on_damage() {
    : >"$tmp/daemon.log"
    daemon_start "$tmp/t.conf"
    t_eq "$1: the daemon starts" 0 "$?"
    t_match "$1: an error notice says what was found and where the files went" \
        "^event=notice message=\"state store $tmp/state was damaged: .*moved data.mdb to data.mdb.damaged-[0-9]{8}T[0-9]{6}Z, lock.mdb to lock.mdb.damaged-.*empty store" \
        "$(cat "$tmp/daemon.log")"
    t_eq "$1: the damaged data.mdb is kept" 1 "$(ls "$tmp/state" | grep -c '^data\.mdb\.damaged-')"
    mt "$1: the fresh store decides" "$LUA
c = session('192.0.2.80', 'mx1.partner.example', false)
expect(c, '<p@other.example>', SMFIR_CONTINUE)
finish(c)"
    t_match "$1: nothing learned survives" 'reason=plaintext_allowed ' "$(rec p@other.example)"
    daemon_stop
    rm -f "$tmp/state"/*.damaged-*
}

conf reset accept
learn
truncate -s 8K "$tmp/state/data.mdb"
start_on_damage "truncated data.mdb"

learn
: >"$tmp/state/data.mdb"
start_on_damage "0-byte data.mdb"

conf refuse accept
learn
truncate -s 8K "$tmp/state/data.mdb"
: >"$tmp/daemon.log"
daemon_launch "$tmp/t.conf" "$PORT" "$tmp/pid" "$tmp/daemon.log"
wait "$DPID"; rc=$?
t_eq "on_damage = refuse: the daemon does not start" 1 "$rc"
t_match "...and says why" "cannot open state store $tmp/state \\(state.on_damage = \\\\\"refuse\\\\\"\\): state store $tmp/state is damaged: data.mdb is 8192 bytes, shorter than .*left as it is" "$(cat "$tmp/daemon.log")"
t_eq "...and leaves the files alone" "data.mdb lock.mdb" "$(ls "$tmp/state" | tr '\n' ' ' | sed 's/ $//')"
out=$("$D" -c "$tmp/t.conf" --state list 2>&1); rc=$?
t_eq "--state on a damaged store exits 1" 1 "$rc"
t_match "...saying so" "state store $tmp/state is damaged: data.mdb is 8192 bytes" "$out"
conf reset accept
out=$("$D" -c "$tmp/t.conf" --state list 2>&1); rc=$?
t_eq "--state never moves the files, whatever on_damage says" "1 data.mdb lock.mdb" "$rc $(ls "$tmp/state" | tr '\n' ' ' | sed 's/ $//')"
rm -f "$tmp/state"/*

# Truncated while the daemon runs: the next lookup faults in the map.
conf reset accept
learn
: >"$tmp/daemon.log"
daemon_start "$tmp/t.conf"
truncate -s 0 "$tmp/state/data.mdb"
printf '%s\n' "$LUA
c = session('192.0.2.80', 'mx1.partner.example', false)
mt.rcptto(c, '<x@other.example>')" >"$tmp/t.lua"
miltertest -s "$tmp/t.lua" -D port="$PORT" >/dev/null 2>&1
wait "$DPID"; rc=$?
t_eq "truncated while running: a clean exit with status 1, not SIGBUS (135)" 1 "$rc"
t_match "...with an error naming the store" "^event=notice message=\"state store $tmp/state: bus error reading data.mdb" "$(cat "$tmp/daemon.log")"
start_on_damage "after the fault, the restart"

# An undecodable record (format byte changed) with on_error = tempfail.
conf reset tempfail
learn
perl -0777 -pi -e 's/(client_domain:partner\.example)\x01/$1\x09/g' "$tmp/state/data.mdb"
: >"$tmp/daemon.log"
daemon_start "$tmp/t.conf"
t_eq "a store with an undecodable record is not damaged" "" "$(grep 'was damaged' "$tmp/daemon.log")"
mt "an undecodable record defers with 451" "$LUA
c = session('192.0.2.80', 'mx1.partner.example', false)
expect(c, '<u@other.example>', SMFIR_REPLYCODE)
finish(c)"
t_match "...logged as state_error with 451 4.3.0" 'action=tempfail would=- reason=state_error .* fallback_key=client_domain:partner.example .* reply="451 4\.3\.0 Temporary policy state failure' "$(rec u@other.example)"
t_match "...and the record is named in a notice" 'record \\"client_domain:partner.example\\" is unreadable' "$(cat "$tmp/daemon.log")"
daemon_stop
t_done
