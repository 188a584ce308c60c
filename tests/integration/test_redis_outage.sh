#!/bin/bash
# test_redis_outage - the daemon with its learned state in Redis when
# Redis goes away: stopped, state.on_error decides (tempfail: 451 4.3.0,
# accept: accepted), both logged reason=state_error and counted in the
# session record; started again on the same port, shared decisions resume
# without a reload; stalled with SIGSTOP, a decision still completes within
# timeout_ms plus a small bound, and the next one fails at once (back-off).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/redis.sh"

t_need miltertest unshare
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
PORT=$(free_port)
TIMEOUT_MS=300
trap 'kill -KILL $DPID 2>/dev/null; redis_stop_all; rm -rf "$tmp"' EXIT
{ redis_find && redis_start r; } || { t_done; exit 1; }
RPORT=$REDIS_PORT_r

conf() {
    cat >"$tmp/t.conf" <<CONF
exempt = { clients = [ "127.0.0.0/8" ]; authenticated = true; };
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";
             max_deferrals = 5; defer_period = "6h"; then = "accept"; };
state = { backend = "redis"; servers = [ "127.0.0.1:$RPORT" ]; timeout_ms = $TIMEOUT_MS;
          prefix = "out:"; on_error = "$1"; };
CONF
}

LUA=$MT_SESSION_LUA
rec() { grep "^event=decision .* rcpt=$1 " "$tmp/daemon.log" | tail -1; }
ms() { date +%s%3N; }

conf tempfail
daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"
mt "Redis up: TLS learned, plaintext deferred as a downgrade" "$LUA
one('192.0.2.10', 'mx.a.example', true, '<t1@other.example>', SMFIR_CONTINUE)
one('192.0.2.10', 'mx.a.example', false, '<d1@other.example>', SMFIR_REPLYCODE)"
t_match "the downgrade was decided from Redis" 'reason=downgrade .* fallback_key=client_domain:a.example deferrals=1 ' "$(rec d1@other.example)"
t_eq "the key is in Redis under the prefix" 1 "$(redis-cli -p "$RPORT" exists out:client_domain:a.example)"
ttl=$(redis-cli -p "$RPORT" ttl out:client_domain:a.example)
t_eq "...expiring with the fallback window (30d)" yes "$([ "${ttl:-0}" -gt $((30 * 86400 - 60)) ] && [ "${ttl:-0}" -le $((30 * 86400)) ] && echo yes || echo "no: ttl $ttl")"

redis_stop r
mt "Redis stopped, on_error = tempfail: deferred" "$LUA
c = session('192.0.2.20', 'mx.b.example', false)
expect(c, '<e1@other.example>', SMFIR_REPLYCODE)
expect(c, '<e2@gdpr.example>', SMFIR_REPLYCODE)
finish(c)"
t_match "...451 4.3.0 with reason=state_error" 'action=tempfail would=- reason=state_error .* fallback_key=client_domain:b.example .* reply="451 4\.3\.0 Temporary policy state failure' "$(rec e1@other.example)"
t_match "...a required recipient still refused for plaintext" 'action=reject .* reason=plaintext policy=gdpr ' "$(rec e2@gdpr.example)"
t_match "...and the session record counts the deferral" '^event=session .* client_addr=192\.0\.2\.20 .* rcpt_accepted=0 rcpt_rejected=1 rcpt_tempfailed=1 ' "$(cat "$tmp/daemon.log")"
t_match "...the store error is logged" 'state store redis 127\.0\.0\.1:'"$RPORT"'.*(cannot connect|every server failed)' "$(cat "$tmp/daemon.log")"

out=$("$D" -c "$tmp/t.conf" --state list 2>&1); rc=$?
t_eq "--state list with Redis stopped exits 1" 1 "$rc"
t_match "...and says why" 'cannot connect: Connection refused' "$out"

redis_start r "$RPORT" || t_bad "redis-server restarts on port $RPORT" ""
sleep 1.2 # the back-off after the failure
mt "Redis back on the same port: decisions resume without a reload" "$LUA
one('192.0.2.20', 'mx.b.example', true, '<b1@other.example>', SMFIR_CONTINUE)
one('192.0.2.20', 'mx.b.example', false, '<b2@other.example>', SMFIR_REPLYCODE)"
t_match "...TLS learned again" 'reason=tls_ok .* fallback_key=client_domain:b.example ' "$(rec b1@other.example)"
t_match "...and plaintext is a downgrade again, not a state error" 'reason=downgrade .* fallback_key=client_domain:b.example deferrals=1 ' "$(rec b2@other.example)"
t_nomatch "no reload happened" 'reload' "$(cat "$tmp/daemon.log")"
sed "s/servers = \[ /servers = [ \"127.0.0.1:$(free_port "$RPORT")\", /" "$tmp/t.conf" >"$tmp/two.conf"
out=$("$D" -c "$tmp/two.conf" --state list 2>&1); rc=$?
t_eq "--state list with servers = [ a dead one, the live one ] exits 0" "0" "$rc"
t_match "...and lists what the live one holds" '^key=client_domain:b\.example ' "$out"

conf accept
kill -HUP "$DPID"; vg_sleep 1
t_match "reloaded with on_error = accept" 'message="configuration .* reloaded' "$(cat "$tmp/daemon.log")"
redis_stop r
mt "Redis stopped, on_error = accept: accepted" "$LUA
one('192.0.2.30', 'mx.c.example', false, '<a1@other.example>', SMFIR_CONTINUE)"
t_match "...action=accept with reason=state_error" 'action=accept would=- reason=state_error .* fallback_key=client_domain:c.example ' "$(rec a1@other.example)"
redis_start r "$RPORT" || t_bad "redis-server restarts on port $RPORT" ""
sleep 1.2

# Stalled: SIGSTOP. The kernel still accepts connections; nothing answers.
mt "warm-up: a decision on a pooled connection" "$LUA
one('192.0.2.40', 'mx.d.example', true, '<w1@other.example>', SMFIR_CONTINUE)"
kill -STOP "$REDIS_PID_r"
t0=$(ms)
mt "Redis stalled: the decision still completes" "$LUA
one('192.0.2.41', 'mx.d.example', false, '<s1@other.example>', SMFIR_CONTINUE)"
t1=$(ms)
mt "...and the next one fails at once (back-off)" "$LUA
one('192.0.2.42', 'mx.d.example', false, '<s2@other.example>', SMFIR_CONTINUE)"
t2=$(ms)
# The session records' duration_ms: the daemon's own measure, without miltertest's start-up.
d1=$(sed -n 's/^event=session .* client_addr=192\.0\.2\.41 .* duration_ms=\([0-9]*\).*/\1/p' "$tmp/daemon.log")
d2=$(sed -n 's/^event=session .* client_addr=192\.0\.2\.42 .* duration_ms=\([0-9]*\).*/\1/p' "$tmp/daemon.log")
echo "# stalled Redis, timeout_ms $TIMEOUT_MS: first session ${d1:-?} ms (miltertest $((t1 - t0)) ms), next ${d2:-?} ms (miltertest $((t2 - t1)) ms)"
t_match "...logged reason=state_error" 'action=accept would=- reason=state_error .* rcpt=s1@other\.example ' "$(rec s1@other.example)"
t_eq "...the session waited for Redis's timeout, within timeout_ms + 2 s" yes \
    "$([ "${d1:-0}" -ge $((TIMEOUT_MS - 20)) ] && [ "${d1:-0}" -lt $((TIMEOUT_MS + 2000)) ] && [ $((t1 - t0)) -lt $((TIMEOUT_MS + 2000)) ] && echo yes || echo "no: ${d1:-?} ms, $((t1 - t0)) ms")"
t_match "...the timeout is logged" 'state store redis 127\.0\.0\.1:'"$RPORT"'.*(Resource temporarily unavailable|timed out)' "$(cat "$tmp/daemon.log")"
t_eq "...the next session within the back-off does not wait for Redis" yes \
    "$([ "${d2:-99999}" -lt "$TIMEOUT_MS" ] && echo yes || echo "no: ${d2:-?} ms")"
t_match "...it is a state error too" 'action=accept would=- reason=state_error .* rcpt=s2@other\.example ' "$(rec s2@other.example)"
kill -CONT "$REDIS_PID_r"
sleep 1.2
mt "Redis resumed: decisions from Redis again" "$LUA
one('192.0.2.40', 'mx.d.example', false, '<c1@other.example>', SMFIR_REPLYCODE)"
t_match "...the TLS sighting from before the stall counts: a downgrade" 'reason=downgrade .* fallback_key=client_domain:d.example ' "$(rec c1@other.example)"

daemon_stop
t_eq "the daemon stops cleanly" 0 "$?"
t_done
