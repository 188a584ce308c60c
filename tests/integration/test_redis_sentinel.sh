#!/bin/bash
# test_redis_sentinel - the daemon with its learned state in Redis found
# through Redis Sentinel (state.sentinels, state.master_name): a primary, a
# replica and one sentinel on loopback ports. Decisions write to the
# primary the sentinel names; a manual failover (SENTINEL FAILOVER) and a
# stalled primary (SIGSTOP, which the sentinel must detect) are followed:
# decisions resume on the new primary within a measured bound, decisions in
# the gap are reason=state_error (on_error = accept), the daemon keeps no
# connection to the demoted primary, and what is learned afterwards is on
# the new primary. bench/milterload runs concurrent sessions through both
# failovers (the daemon's threads follow it at once): none may fail.
# --state list goes through the sentinel too.
#
# The old primary of a manual failover stays writable until the sentinel
# demotes it, at least 8 s after the switch (4 x its publish period); the
# daemon asks the sentinels every second, so it must have left by then:
# the old primary saw no write refused as READONLY.
#
# The bound asserted, from the primary's failure to the first decision
# that reads and writes the new primary: down-after-milliseconds (the
# sentinel's detection) + failover-timeout (the sentinel's promotion, far
# less in practice) + timeout_ms + REDIS_SENTINEL_RECHECK_MS (the daemon
# notices), plus SLACK_MS for a loaded machine. The figures measured are
# printed as "# ..." lines.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/redis.sh"

t_need miltertest unshare
D="$top_builddir/src/tlspolicyd"
L="$top_builddir/bench/milterload"
[ -x "$L" ] || { echo "bench/milterload is not built (make check builds it)"; exit 1; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
PORT=$(free_port)
TIMEOUT_MS=$((300 * vg_slow)) # the daemon under valgrind is slower, Redis is not
DOWN_MS=1000
FAILOVER_MS=4000
RECHECK_MS=1000 # REDIS_SENTINEL_RECHECK_MS
SLACK_MS=$((4000 * vg_slow))
BOUND_MS=$((DOWN_MS + FAILOVER_MS + TIMEOUT_MS + RECHECK_MS + SLACK_MS))
trap 'kill -KILL ${LPID:-} $DPID 2>/dev/null; redis_stop_all; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
{ redis_find && redis_start a && redis_start b "" --replicaof 127.0.0.1 "$REDIS_PORT_a" &&
    sentinel_start s tp "$REDIS_PORT_a" "$DOWN_MS" "$FAILOVER_MS"; } || { t_done; exit 1; }
PA=$REDIS_PORT_a PB=$REDIS_PORT_b PS=$REDIS_PORT_s
DEAD=$(free_port "$PS") # a sentinel listed first that never answers: the next one is asked

ms() { date +%s%3N; }
rec() { grep "^event=decision .* rcpt=$1 " "$tmp/daemon.log" | tail -1; }
reason() { rec "$1" | sed -n 's/.* reason=\([a-z_]*\) .*/\1/p'; }

# until_true LIMIT-S CMD... - poll CMD every 0.2 s for at most LIMIT-S seconds
until_true() {
    ut_end=$(($(date +%s) + $1 * vg_slow))
    shift
    while ! "$@"; do
        [ "$(date +%s)" -lt "$ut_end" ] || return 1
        sleep 0.2
    done
}
# replica_of REPLICA-PORT PRIMARY-PORT - replicating, link up
replica_of() {
    redis-cli -p "$1" info replication 2>/dev/null | tr -d '\r' | grep -q "^master_port:$2\$" &&
        redis-cli -p "$1" info replication | tr -d '\r' | grep -q '^master_link_status:up$'
}
# sentinel_knows_replica PORT - the sentinel lists PORT as a sound replica
sentinel_knows_replica() {
    redis-cli -p "$PS" sentinel replicas tp 2>/dev/null | tr '\n' ' ' |
        grep -Eq "port $1 .*flags slave .*master-link-status ok"
}
# our_clients PORT - connections to PORT that are none of redis-cli, the sentinel, replication
our_clients() {
    redis-cli -p "$1" client list 2>/dev/null | grep -v -e 'name=sentinel-' -e 'flags=[A-Za-z]*[MS]' \
        -e 'cmd=client|list' -e 'cmd=NULL' -c
}

cat >"$tmp/t.conf" <<CONF
exempt = { clients = [ "127.0.0.0/8" ]; authenticated = true; };
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
fallback = { enabled = true; key = "client_domain"; window = "30d"; action = "tempfail";
             max_deferrals = 1000; defer_period = "6h"; then = "accept"; };
state = { backend = "redis"; sentinels = [ "127.0.0.1:$DEAD", "127.0.0.1:$PS" ]; master_name = "tp";
          timeout_ms = $TIMEOUT_MS; prefix = "sen:"; on_error = "accept"; };
CONF

LUA=$MT_SESSION_LUA

# plain RCPT - a plaintext session from mx.a.example (seen over TLS before):
# reason=downgrade when the state store answers, state_error when it does not
plain() {
    printf '%s\n' "$LUA one('192.0.2.10', 'mx.a.example', false, '<$1@other.example>', nil)" >"$tmp/p.lua"
    miltertest -s "$tmp/p.lua" -D port="$PORT" >/dev/null 2>&1 || echo "miltertest failed for $1" >>"$tmp/errors"
    reason "$1@other.example"
}

# follow NAME T0 NEW-PORT - plaintext decisions every 0.2 s until one reads
# and writes the new primary (reason=downgrade once the sentinel names
# NEW-PORT); sets RESUMED_MS (since T0), SWITCH_MS (when the sentinel was
# first seen naming NEW-PORT), REASONS (every reason in the gap, in order)
follow() {
    n=0 REASONS="" RESUMED_MS="" SWITCH_MS=""
    while [ $(($(ms) - $2)) -lt $((BOUND_MS + 10000 * vg_slow)) ]; do
        n=$((n + 1))
        named=$(sentinel_primary "$PS" tp)
        [ -z "$SWITCH_MS" ] && [ "$named" = "$3" ] && SWITCH_MS=$(($(ms) - $2))
        r=$(plain "$1$n")
        REASONS="$REASONS ${r:-none}"
        if [ -n "$SWITCH_MS" ] && [ "$r" = downgrade ]; then
            RESUMED_MS=$(($(ms) - $2))
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# load_start TAG - concurrent sessions (each a new sender) through a failover:
# the daemon's threads all follow it at once
load_start() {
    "$L" -p "$PORT" -c 4 -t $((8 * vg_slow)) --timeout $((20000 * vg_slow)) --name-tag "$1" >"$tmp/load-$1.out" 2>&1 &
    LPID=$!
}
# load_check TAG - every concurrent session got the reply it must get
load_check() {
    wait "$LPID"
    t_eq "...$(sed -n 's/^sessions //p' "$tmp/load-$1.out") concurrent sessions meanwhile, none failed" \
        "0 0" "$? $(sed -n 's/^failed //p' "$tmp/load-$1.out")"
}

daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"
until_true 20 replica_of "$PB" "$PA" || t_bad "b replicates a" "$(redis-cli -p "$PB" info replication)"
until_true 30 sentinel_knows_replica "$PB" ||
    t_bad "the sentinel knows the replica" "$(redis-cli -p "$PS" sentinel replicas tp)"

mt "primary a: TLS learned, plaintext deferred as a downgrade" "$LUA
one('192.0.2.10', 'mx.a.example', true, '<t1@other.example>', SMFIR_CONTINUE)
one('192.0.2.10', 'mx.a.example', false, '<d1@other.example>', SMFIR_REPLYCODE)"
t_match "...decided from the state on the primary" 'reason=downgrade .* fallback_key=client_domain:a.example deferrals=1 ' \
    "$(rec d1@other.example)"
t_eq "...the key is on the primary a" 1 "$(redis-cli -p "$PA" exists sen:client_domain:a.example)"
until_true 10 sh -c "[ \"\$(redis-cli -p $PB exists sen:client_domain:a.example)\" = 1 ]" ||
    t_bad "...and replicated to b" ""

out=$("$D" -c "$tmp/t.conf" --state list 2>&1)
t_match "--state list through the sentinel" 'client_domain:a\.example' "$out"
sed 's/master_name = "tp"/master_name = "nosuch"/' "$tmp/t.conf" >"$tmp/nosuch.conf"
out=$("$D" -c "$tmp/nosuch.conf" --state list 2>&1); rc=$?
t_eq "--state list with a master_name the sentinel does not know exits 1" 1 "$rc"
t_match "...and says why" "sentinel 127\.0\.0\.1:$PS: SENTINEL get-master-addr-by-name: no primary known by the name \"nosuch\"" "$out"

# 1. Manual failover: a keeps working until the sentinel turns it into a replica.
: >"$tmp/errors"
load_start m
t0=$(ms)
t_eq "SENTINEL FAILOVER accepted" OK "$(redis-cli -p "$PS" sentinel failover tp)"
follow m "$t0" "$PB" || t_bad "decisions resume on b after the manual failover" "reasons:$REASONS"
echo "# manual failover: sentinel named b after ${SWITCH_MS:-?} ms, decisions on b after ${RESUMED_MS:-?} ms; reasons:$REASONS"
t_eq "...within $BOUND_MS ms" yes "$([ "${RESUMED_MS:-999999}" -lt "$BOUND_MS" ] && echo yes || echo "no: ${RESUMED_MS:-?}")"
t_nomatch "...every decision meanwhile read the state or was a state error" ' (none|plaintext|plaintext_allowed|tls_ok)' "$REASONS"
t_eq "...no miltertest session failed" "" "$(cat "$tmp/errors")"
load_check m
mt "primary b: a new client's TLS learned" "$LUA
one('192.0.2.20', 'mx.b.example', true, '<t2@other.example>', SMFIR_CONTINUE)
one('192.0.2.20', 'mx.b.example', false, '<d2@other.example>', SMFIR_REPLYCODE)"
t_match "...and its plaintext deferred from it" 'reason=downgrade .* fallback_key=client_domain:b.example deferrals=1 ' \
    "$(rec d2@other.example)"
t_eq "...the key is on the new primary b" 1 "$(redis-cli -p "$PB" exists sen:client_domain:b.example)"
until_true 30 replica_of "$PA" "$PB" || t_bad "the sentinel turned a into a replica of b" \
    "$(redis-cli -p "$PA" info replication)"
plain after1 >/dev/null
t_eq "...the daemon holds no connection to the demoted a" 0 "$(our_clients "$PA")"
t_eq "...and has written nothing a refused (no READONLY on a)" "" \
    "$(redis-cli -p "$PA" info errorstats | tr -d '\r' | grep READONLY)"

# 2. b stalls (SIGSTOP): the sentinel detects it after DOWN_MS, then promotes a.
until_true 30 sentinel_knows_replica "$PA" ||
    t_bad "the sentinel knows a as a replica" "$(redis-cli -p "$PS" sentinel replicas tp)"
sleep $((2 * FAILOVER_MS / 1000)) # a sentinel starts no failover of tp sooner after the last one
: >"$tmp/errors"
sentinel_conns() { redis-cli -p "$PS" info stats | tr -d '\r' | sed -n 's/^total_connections_received://p'; }
c0=$(sentinel_conns)
load_start k
kill -STOP "$REDIS_PID_b"
t0=$(ms)
follow k "$t0" "$PA" || t_bad "decisions resume on a after b stalled" "reasons:$REASONS"
echo "# stalled primary (down-after ${DOWN_MS} ms, timeout_ms $TIMEOUT_MS): sentinel named a after ${SWITCH_MS:-?} ms, decisions on a after ${RESUMED_MS:-?} ms; reasons:$REASONS"
t_eq "...within $BOUND_MS ms" yes "$([ "${RESUMED_MS:-999999}" -lt "$BOUND_MS" ] && echo yes || echo "no: ${RESUMED_MS:-?}")"
t_eq "...and not before the sentinel could detect it" yes \
    "$([ "${RESUMED_MS:-0}" -ge "$DOWN_MS" ] && echo yes || echo "no: ${RESUMED_MS:-?}")"
t_match "...decisions in the gap were state errors" ' state_error' "$REASONS"
t_nomatch "...and nothing else but the downgrade" ' (none|plaintext|plaintext_allowed|tls_ok)' "$REASONS"
t_eq "...no miltertest session failed" "" "$(cat "$tmp/errors")"
load_check k
c1=$(sentinel_conns) el=$(($(ms) - t0))
echo "# connections to the sentinel in those $el ms (the test's own polls included): $((c1 - c0))"
t_eq "...the sentinel was not asked once per decision (at most every 100 ms, and once a second)" yes \
    "$([ $((c1 - c0)) -lt $((el * 30 / 1000 + 50)) ] && echo yes || echo "no: $((c1 - c0)) in $el ms")"
t_match "...the gap's records say state_error, action per on_error (accept)" \
    'action=accept would=- reason=state_error .* fallback_key=client_domain:a.example ' "$(cat "$tmp/daemon.log")"
mt "primary a again: a new client's TLS learned" "$LUA
one('192.0.2.30', 'mx.c.example', true, '<t3@other.example>', SMFIR_CONTINUE)
one('192.0.2.30', 'mx.c.example', false, '<d3@other.example>', SMFIR_REPLYCODE)"
t_match "...and its plaintext deferred from it" 'reason=downgrade .* fallback_key=client_domain:c.example deferrals=1 ' \
    "$(rec d3@other.example)"
t_eq "...the key is on the new primary a" 1 "$(redis-cli -p "$PA" exists sen:client_domain:c.example)"
t_eq "...what b learned before its failure is there too" 1 "$(redis-cli -p "$PA" exists sen:client_domain:b.example)"

# b resumes believing it is the primary until the sentinel demotes it.
kill -CONT "$REDIS_PID_b"
mt "b resumed: decisions stay on a" "$LUA
one('192.0.2.40', 'mx.d.example', true, '<t4@other.example>', SMFIR_CONTINUE)"
until_true 30 replica_of "$PB" "$PA" || t_bad "the sentinel turned b into a replica of a" \
    "$(redis-cli -p "$PB" info replication)"
t_eq "...the key learned while b was back is on a" 1 "$(redis-cli -p "$PA" exists sen:client_domain:d.example)"
t_eq "...the daemon holds no connection to the demoted b" 0 "$(our_clients "$PB")"
out=$("$D" -c "$tmp/t.conf" --state list 2>&1)
t_match "--state list through the sentinel after the failovers" 'client_domain:c\.example' "$out"

kill -0 "$DPID" 2>/dev/null
t_eq "the daemon ran through both failovers" 0 "$?"
sed 's/master_name = "tp"/master_name = "tp2"/' "$tmp/t.conf" >"$tmp/t2.conf" && cat "$tmp/t2.conf" >"$tmp/t.conf"
kill -HUP "$DPID"
until_true 10 grep -q 'master_name tp2 sentinels.*takes effect at restart' "$tmp/daemon.log"
t_match "a reload naming another master_name says it takes effect at restart" \
    "state store redis db 0 prefix [^ ]*sen:[^ ]* master_name tp2 sentinels 127\\.0\\.0\\.1:$DEAD 127\\.0\\.0\\.1:$PS takes effect at restart; still using .* master_name tp sentinels" \
    "$(grep -e 'takes effect' -e reload "$tmp/daemon.log")"
t_match "the failures were logged" 'state store redis' "$(cat "$tmp/daemon.log")"
daemon_stop
t_eq "the daemon stops cleanly" 0 "$?"
t_done
