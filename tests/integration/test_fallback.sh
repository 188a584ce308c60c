#!/bin/bash
# test_fallback - the opportunistic-fallback rules through the milter
# protocol: a sender seen with TLS that comes back in plaintext is deferred
# max_deferrals times, then `then` applies; the state survives a reload and
# a kill -9; exempt clients teach nothing; --state lists, shows, forgets.
# TP_STATE_BACKEND=redis runs the same cases against a private
# redis-server on a unix socket (tests/integration/test_fallback_redis.sh).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

. "$top_srcdir/tests/integration/redis.sh"

t_need miltertest unshare
D="$top_builddir/src/tlspolicyd"
BACKEND=${TP_STATE_BACKEND:-lmdb}
tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir "$tmp/state"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$tmp/state"
PORT=$(free_port)
trap 'kill -KILL $DPID 2>/dev/null; redis_stop_all; rm -rf "$tmp"' EXIT
STATE="backend = \"lmdb\"; path = \"$tmp/state\";"
if [ "$BACKEND" = redis ]; then
    { redis_find && redis_start fb; } || { t_done; exit 1; }
    STATE="backend = \"redis\"; servers = [ \"unix:$REDIS_SOCK_fb\" ]; timeout_ms = 1000; prefix = \"fb:\";"
fi

cat >"$tmp/t.conf" <<CONF
exempt = { clients = [ "127.0.0.0/8" ]; authenticated = true; };
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";
             max_deferrals = 2; defer_period = "6h"; then = "accept"; };
state = { $STATE };
CONF
state() { "$D" -c "$tmp/t.conf" --state "$@"; }

LUA="$MT_SESSION_LUA"'P = "192.0.2.80"; PN = "mx1.partner.example"
'
rec() { grep "^event=decision .* rcpt=$1 " "$tmp/daemon.log" | tail -1; }

out=$(state list 2>&1); rc=$?
if [ "$BACKEND" = redis ]; then
    t_eq "--state list before the daemon learned anything lists nothing" "0 " "$rc $out"
else
    t_eq "--state before the daemon learned anything exits 1" 1 "$rc"
    t_match "...and says so" 'no state store in .*nothing learned yet' "$out"
    t_eq "...without creating the store as root" "" "$(ls "$tmp/state")"
fi
daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"
mt "TLS, then plaintext: deferred, deferred, then accepted" "$LUA
c = session(P, PN, true)
expect(c, '<t1@other.example>', SMFIR_CONTINUE)
finish(c)
c = session(P, PN, false)
expect(c, '<d1@other.example>', SMFIR_REPLYCODE)
finish(c)
c = session(P, PN, false)
expect(c, '<d2@other.example>', SMFIR_REPLYCODE)
expect(c, '<d2b@other.example>', SMFIR_REPLYCODE)
finish(c)
c = session(P, PN, false)
expect(c, '<a3@other.example>', SMFIR_CONTINUE)
expect(c, '<g3@gdpr.example>', SMFIR_REPLYCODE)
finish(c)"
t_match "TLS session learned under the registered domain" 'reason=tls_ok .* fallback_key=client_domain:partner.example deferrals=0 ' "$(rec t1@other.example)"
t_match "first plaintext session deferred 450 4.7.0" 'action=tempfail would=- reason=downgrade .* tls_version=none .* fallback_key=client_domain:partner.example deferrals=1 reply="450 4\.7\.0 TLS downgrade suspected: your servers used TLS before; retry with STARTTLS' "$(rec d1@other.example)"
t_match "second session deferred, counted once for two recipients" 'action=tempfail .* reason=downgrade .* deferrals=2 ' "$(rec d2@other.example)"
t_match "...the second recipient too" 'action=tempfail .* reason=downgrade .* deferrals=2 ' "$(rec d2b@other.example)"
t_match "after max_deferrals the then rule accepts" 'action=accept would=- reason=downgrade_accepted .* deferrals=2 ' "$(rec a3@other.example)"
t_match "a required recipient is refused for plaintext, not as a downgrade" 'action=reject .* reason=plaintext policy=gdpr ' "$(rec g3@gdpr.example)"

mt "exempt and never-TLS clients" "$LUA
c = session('127.0.0.1', 'mx.exempt.example', true)
expect(c, '<e1@other.example>', SMFIR_CONTINUE)
finish(c)
c = session('198.51.100.9', 'unknown', false)
expect(c, '<n1@other.example>', SMFIR_CONTINUE)
finish(c)"
t_match "a sender never seen with TLS is no downgrade" 'reason=plaintext_allowed .* fallback_key=client_net:198.51.100.0/24 deferrals=0 ' "$(rec n1@other.example)"
out=$(state show client_domain:exempt.example 2>&1); rc=$?
t_eq "an exempt client teaches nothing" 1 "$rc"
out=$(state list); rc=$?
t_eq "--state list exits 0" 0 "$rc"
t_match "--state list shows the partner's TLS history" '^key=client_domain:partner.example best_level=tls best_version=TLSv1.2 first_seen=[0-9T:-]+Z last_tls=[0-9T:-]+Z last_plain=[0-9T:-]+Z last_tls_failure=- deferrals=2 ' "$out"
t_match "--state list shows a plaintext-only client" '^key=client_net:198.51.100.0/24 best_level=none best_version=- .* last_tls=- ' "$out"

mt "failed STARTTLS, then plaintext" "$LUA
c = session('192.0.2.81', 'mx.broken.example', true)
expect(c, '<b1@other.example>', SMFIR_CONTINUE)
finish(c)
local conn = mt.connect('inet:' .. port .. '@127.0.0.1')
assert(mt.conninfo(conn, 'mx.broken.example', '192.0.2.81') == nil)
assert(mt.helo(conn, 'mx.broken.example') == nil)
mt.disconnect(conn)
c = session('192.0.2.81', 'mx.broken.example', false)
expect(c, '<b2@other.example>', SMFIR_REPLYCODE)
mt.disconnect(c)"
vg_sleep 0.5
t_match "the plaintext session after EHLO-and-close is flagged" '^event=session .* client_addr=192.0.2.81 .* messages=1 .* suspected_tls_failure=yes ' "$(cat "$tmp/daemon.log")"
t_match "--state shows the suspected TLS failure under the sender's key" '^key=client_domain:broken.example best_level=tls .* last_tls_failure=[0-9T:-]+Z deferrals=1 ' "$(state show client_domain:broken.example)"

kill -HUP "$DPID"; vg_sleep 1
mt "state survives a reload" "$LUA
c = session(P, PN, false)
expect(c, '<r1@other.example>', SMFIR_CONTINUE)
finish(c)"
t_match "after reload the deferrals are still counted" 'reason=downgrade_accepted .* deferrals=2 ' "$(rec r1@other.example)"
out=$(state forget client_domain:partner.example); rc=$?
t_eq "--state forget removes a key" "0 forgot client_domain:partner.example" "$rc $out"
mt "a forgotten sender starts afresh" "$LUA
c = session(P, PN, false)
expect(c, '<f1@other.example>', SMFIR_CONTINUE)
finish(c)"
t_match "no downgrade once forgotten" 'reason=plaintext_allowed .* rcpt=f1@other.example ' "$(rec f1@other.example)"
out=$(state show nosuch 2>&1); rc=$?
t_eq "--state show of an unknown key exits 1" 1 "$rc"
out=$(state frob 2>&1); rc=$?
t_eq "--state with a bad subcommand is a usage error" 2 "$rc"

# Crash: kill -9 while four clients are being decided; every key whose
# decision was logged was committed before, and must be there after.
for i in 1 2 3 4; do
    printf '%s\n' "$LUA
for n = 1, 40 do
  c = session('203.0.113.$i', 'mx' .. n .. '.crash$i-' .. n .. '.example', true)
  expect(c, '<k@other.example>', SMFIR_CONTINUE)
  finish(c)
end" >"$tmp/k$i.lua"
    miltertest -s "$tmp/k$i.lua" -D port="$PORT" >/dev/null 2>&1 &
done
vg_sleep 1.5
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
wait_port "$PORT" down
logged=$(grep -oE 'fallback_key=client_domain:crash[0-9-]+\.example' "$tmp/daemon.log" | sed 's/fallback_key=//' | sort -u)
n=$(printf '%s\n' "$logged" | grep -c .)
t_match "the kill came while deciding (some keys logged)" '^[1-9][0-9]*$' "$n"
missing=0
for k in $logged; do state show "$k" >/dev/null 2>&1 || missing=$((missing + 1)); done
t_eq "every key logged before kill -9 is in the store" 0 "$missing"
daemon_start "$tmp/t.conf"
mt "the restarted daemon still knows a crash-time sender" "$LUA
c = session('203.0.113.1', 'mx1.crash1-1.example', false)
expect(c, '<after@other.example>', SMFIR_REPLYCODE)
finish(c)"
daemon_stop
t_done
