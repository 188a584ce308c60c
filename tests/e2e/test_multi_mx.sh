#!/bin/bash
# test_multi_mx - end to end, two MX hosts sharing one memory (issue 19):
# one private redis-server, two tlspolicyd daemons A and B (each its own
# configuration: backend redis, the same prefix, on_error tempfail; A
# reaches Redis over TCP, B over its unix socket), each the milter of its
# own real Postfix on loopback. swaks is the sender's server:
#   - TLS through A, then plaintext through B: B defers it as a downgrade
#     (450 4.7.0, reason=downgrade) although B never saw that sender;
#   - plaintext alternating B, A, B: the deferrals are counted once for
#     both hosts (deferrals=1, 2, 3 across the two daemons' records), so
#     with max_deferrals = 3 the fourth plaintext attempt, at A, is let
#     through by then = accept (reason=downgrade_accepted), and at B too.
#     Counted per host, A would have deferred it (its second deferral);
#   - `tlspolicyd --state list|show` with either host's configuration
#     shows the same key and count, and the key is in Redis under the
#     prefix, expiring with the window;
#   - Redis stalled with SIGSTOP: a session through A still completes,
#     451 4.3.0 with reason=state_error (on_error = tempfail), within
#     timeout_ms plus a bound; after SIGCONT, without a reload, a TLS
#     sighting through B makes plaintext through A a downgrade again.
# The fallback key is client_net: swaks connects from 127.0.0.1, which
# Postfix names "localhost" (or whatever the machine's resolver says), so
# client_domain would fall back to client_net:127.0.0.0/24 anyway, or key
# on a name this test does not control (test_postfix_fallback.sh explains).
# Configured as client_net, the key is client_net:127.0.0.0/24 on any
# machine: the sender's servers' /24, the same at both MX hosts, as a
# client_domain key of a verified name would be.
# Same setup as test_postfix.sh (root, postfix, swaks, openssl) plus
# redis-server and redis-cli (tests/integration/redis.sh).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/redis.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"
start=$(date +%s)
TIMEOUT_MS=1000   # generous: other processes share the CPU, and a slow Redis reply must not be a state error
KEY="client_net:127.0.0.0/24"
PREFIX="mx:"

# The test's scratch dir: Redis's files, and each instance's under A/ and B/.
e2e_tmp || { t_bad "scratch dir" "mktemp failed"; t_done; exit; }
E2E_BASE=$tmp
trap 'redis_stop_all; e2e_cleanup' EXIT
trap 'exit 1' INT TERM HUP
t_need redis-cli
{ redis_find && redis_start mx; } || { t_done; exit; }
# shellcheck disable=SC2154 # set by redis_start's eval
{ RPORT=$REDIS_PORT_mx; RSOCK=$REDIS_SOCK_mx; RPID=$REDIS_PID_mx; }

# conf NAME SERVER - the configuration of host NAME, reaching Redis at SERVER
conf() {
    cat <<EOF
log = { ident = "tlspolicyd-mx$1"; format = "kv"; addresses = "full"; };
exempt = { clients = [ "192.0.2.255/32" ]; authenticated = true; };
default = { level = "opportunistic"; };
policies = ();
fallback = { enabled = true; key = "client_net"; window = "30d"; action = "tempfail";
             max_deferrals = 3; defer_period = "6h"; then = "accept"; };
state = { backend = "redis"; servers = [ "$2" ]; prefix = "$PREFIX"; timeout_ms = $TIMEOUT_MS;
          on_error = "tempfail"; };
EOF
}
e2e_instance A
e2e_start "$(conf A "127.0.0.1:$RPORT")" "other.example" || { t_done; exit; }
smtp_A=$SMTP_PORT
e2e_instance B
e2e_start "$(conf B "unix:$RSOCK")" "other.example" || { t_done; exit; }
t_eq "two Postfix instances, two ports, two directories" yes \
    "$([ "$smtp_A" != "$SMTP_PORT" ] && [ "$tmp" = "$E2E_BASE/B" ] && [ -f "$E2E_BASE/A/pf/main.cf" ] && echo yes)"

# at NAME - the following sends and checks go to host NAME
at() { e2e_instance "$1"; }
# state NAME ARGS... - tlspolicyd --state with host NAME's configuration
state() { h=$1; shift; "$D" -c "$E2E_BASE/$h/td.conf" --state "$@"; }
ms() { date +%s%3N; }

# count NAME N RCPT - the decision record for RCPT says deferrals=N
count() {
    t_eq "$1: record deferrals=$2" "$2" "$(field deferrals "$(decision_for "$3")")"
}

# ---- 1. TLS through A: accepted, learned in Redis
at A
send a1 --tls --to a1@other.example
accepted "A, TLS" a1@other.example tls_ok
rec=$(decision_for a1@other.example)
t_match "A, TLS: record tls_version=TLSv1.3" ' tls_version=TLSv1\.3 ' "$rec"
t_eq "A, TLS: record fallback_key" "$KEY" "$(field fallback_key "$rec")"
count "A, TLS" 0 a1@other.example

# ---- 2. plaintext through B, which never saw the sender: a downgrade
at B
t_eq "B has made no decision yet" 0 "$(grep -c '^event=decision ' "$tmp/td.log")"
send b2 --to b2@other.example
deferred "B, plaintext after TLS at A" b2@other.example "$KEY"
count "B, plaintext after TLS at A" 1 b2@other.example
t_match "B, plaintext: record tls_version=none" ' tls_version=none cipher=- ' "$(decision_for b2@other.example)"

# ---- 3. plaintext alternating A, B: one count for both hosts
at A
send a3 --to a3@other.example
deferred "A, second plaintext" a3@other.example "$KEY"
count "A, second plaintext" 2 a3@other.example
at B
send b4 --to b4@other.example
deferred "B, third plaintext" b4@other.example "$KEY"
count "B, third plaintext" 3 b4@other.example

# ---- 4. max_deferrals (3) reached across the hosts: then = accept, at either
at A
send a5 --to a5@other.example
accepted "A, fourth plaintext" a5@other.example downgrade_accepted
count "A, fourth plaintext" 3 a5@other.example
at B
send b6 --to b6@other.example
accepted "B, fifth plaintext" b6@other.example downgrade_accepted
count "B, fifth plaintext" 3 b6@other.example

# ---- 5. one record, whichever host's configuration reads it, in Redis under the prefix
listA=$(state A list 2>&1); rc=$?
t_eq "--state list (A's configuration) exits 0" 0 "$rc"
t_match "--state list (A): $KEY best_level=tls best_version=TLSv1.3 deferrals=3" \
    "^key=$KEY best_level=tls best_version=TLSv1\\.3 first_seen=[0-9T:-]+Z last_tls=[0-9T:-]+Z last_plain=[0-9T:-]+Z last_tls_failure=- deferrals=3( |\$)" \
    "$listA"
t_eq "--state list (A): one key" 1 "$(printf '%s\n' "$listA" | grep -c '^key=')"
listB=$(state B list 2>&1); rc=$?
t_eq "--state list (B's configuration) exits 0" 0 "$rc"
t_eq "--state list (B) lists what A's lists" "$listA" "$listB"
out=$(state B show "$KEY" 2>&1); rc=$?
t_eq "--state show $KEY (B) exits 0" 0 "$rc"
t_eq "--state show $KEY (B): the same record" "$listA" "$out"
t_eq "Redis holds the one key under the prefix $PREFIX" "$PREFIX$KEY" \
    "$(redis-cli -p "$RPORT" --scan --pattern '*' 2>&1)"
ttl=$(redis-cli -p "$RPORT" ttl "$PREFIX$KEY")
t_eq "...expiring with the fallback window (30d)" yes \
    "$([ "${ttl:-0}" -gt $((30 * 86400 - 300)) ] && [ "${ttl:-0}" -le $((30 * 86400)) ] && echo yes || echo "no: ttl $ttl")"

# ---- 6. Redis stalled (SIGSTOP): the SMTP session through A still completes.
# A's pooled connection was used above; the kernel still accepts what A
# writes, and nothing answers. The daemon's own measure is the session
# record's duration_ms; swaks's wall time adds its start-up and smtpd's
# (2 s seen under load), and would reach Postfix's milter_command_timeout
# (10 s, then milter_default_action) if the milter hung.
kill -STOP "$RPID"
at A
t0=$(ms)
send a7 --to a7@other.example
t1=$(ms)
kill -CONT "$RPID"
decisions=$((decisions + 1))
got=$(reply_to_rcpt a7@other.example)
t_match "A, Redis stalled: RCPT deferred with 451 4.3.0 (on_error = tempfail)" \
    '^451 4\.3\.0 Temporary policy state failure' "$got"
t_eq "A, Redis stalled: nothing queued" "" "$(queued_id)"
rec=$(decision_for a7@other.example)
t_match "A, Redis stalled: record action=tempfail reason=state_error" \
    "^event=decision .* action=tempfail would=- reason=state_error .* fallback_key=$KEY " "$rec"
t_eq "A, Redis stalled: record reply is the reply Postfix sent" "$got" \
    "$(printf '%s\n' "$rec" | sed -n 's/.* reply="\(.*\)"$/\1/p')"
srec=$(session_for a7)
t_match "A, Redis stalled: the session record counts the deferral" \
    ' rcpt_accepted=0 rcpt_rejected=0 rcpt_tempfailed=1 ' "$srec"
d=$(field duration_ms "$srec")
echo "# stalled Redis, timeout_ms $TIMEOUT_MS: session ${d:-?} ms in tlspolicyd, SMTP transaction $((t1 - t0)) ms in swaks"
t_eq "A, Redis stalled: the session waited for Redis's timeout, within timeout_ms + 2 s" yes \
    "$([ "${d:-0}" -ge $((TIMEOUT_MS - 20)) ] && [ "${d:-0}" -lt $((TIMEOUT_MS + 2000)) ] && echo yes || echo "no: ${d:-?} ms")"
t_eq "A, Redis stalled: swaks's SMTP transaction ended within timeout_ms + 6 s" yes \
    "$([ $((t1 - t0)) -lt $((TIMEOUT_MS + 6000)) ] && echo yes || echo "no: $((t1 - t0)) ms")"
t_match "A, Redis stalled: the timeout is logged" \
    "state store redis 127\\.0\\.0\\.1:$RPORT.*(Resource temporarily unavailable|timed out)" "$(cat "$tmp/td.log")"

# ---- 7. Redis resumed: shared decisions again, without a reload. Forget
# the key (B's configuration), learn TLS through B, plaintext through A is
# a downgrade with a fresh count.
sleep 1.2   # the back-off after A's failure (one second)
out=$(state B forget "$KEY" 2>&1); rc=$?
t_eq "--state forget $KEY (B)" "0 forgot $KEY" "$rc $out"
t_eq "...gone from Redis" 0 "$(redis-cli -p "$RPORT" exists "$PREFIX$KEY")"
at B
send b8 --tls --to b8@other.example
accepted "B, TLS after the stall" b8@other.example tls_ok
count "B, TLS after the stall" 0 b8@other.example
at A
send a9 --to a9@other.example
deferred "A, plaintext after TLS at B" a9@other.example "$KEY"
count "A, plaintext after TLS at B" 1 a9@other.example
t_match "--state show $KEY (A): learned through B, one deferral through A" \
    "^key=$KEY best_level=tls best_version=TLSv1\\.3 .* deferrals=1( |\$)" "$(state A show "$KEY" 2>&1)"

# ---- records and Postfix agree, on each host
for h in A B; do
    at $h
    nsess=$(printf '%s' "$sessions" | wc -w)
    i=0; while [ $i -lt 50 ] && [ "$(grep -c '^event=session ' "$tmp/td.log")" -lt "$nsess" ]; do sleep 0.1; i=$((i + 1)); done
    t_eq "$h: one session record per connection ($nsess)" "$nsess" "$(grep -c '^event=session ' "$tmp/td.log")"
    t_eq "$h: one decision record per recipient ($decisions)" "$decisions" "$(grep -c '^event=decision ' "$tmp/td.log")"
    t_nomatch "$h: Postfix reported no milter trouble" 'warning: .*[Mm]ilter|milter.*(timeout|error)' "$(cat "$tmp/maillog")"
    t_nomatch "$h: no reload happened" 'reload' "$(cat "$tmp/td.log")"
done
t_eq "A: the stalled session is the only state error" 1 "$(grep -c 'reason=state_error' "$E2E_BASE/A/td.log")"
t_eq "B: no state error" 0 "$(grep -c 'reason=state_error' "$E2E_BASE/B/td.log")"

for h in A B; do
    at $h
    td_stop; rc=$?
    t_eq "$h: tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
    t_nomatch "$h: no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
done
echo "# run time $(( $(date +%s) - start )) s"
t_done
