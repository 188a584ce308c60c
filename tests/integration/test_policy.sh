#!/bin/bash
# test_policy - the Postfix policy delegation service as a client meets it:
# tlspolicyd -s alone (no milter socket), run as root with -u nobody, talked
# to by tests/integration/policy_client.py. Valid requests and the records
# they leave; malformed and oversized requests (refused with
# DEFER_IF_PERMIT, the connection closed, a notice, the daemon unharmed); a
# slow client; an abandoned half request (no record); 1,000 idle persistent
# connections; a client that reads no reply (throttled, memory bounded,
# nobody else blocked); SIGHUP; SIGTERM with an open session (its record
# before "stopped"); a unix socket for nobody with mode 0660; -p and -s in
# one daemon.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need python3 unshare miltertest
D="$top_builddir/src/tlspolicyd"
client="$top_srcdir/tests/integration/policy_client.py"
tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir "$tmp/run"
chmod 755 "$tmp/run"
trap '[ -n "${DPID:-}" ] && kill -KILL "$DPID" 2>/dev/null; [ -n "${hpid:-}" ] && kill "$hpid" 2>/dev/null; rm -rf "$tmp"' EXIT

# 8,192 connections and then some: the daemon inherits this limit.
ulimit -n 10000 || t_bad "ulimit -n 10000" "cannot raise RLIMIT_NOFILE"

cat >"$tmp/t.conf" <<CONF
log = { facility = "local7"; ident = "tlspolicyd-test"; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; },
  { name = "soft"; recipient_domains = [ "soft.example" ]; level = "required"; action = "tempfail"; }
);
CONF

# started LOG - how many starting notices LOG has
started() { st_n=$(grep -c 'message="starting: ' "$1" 2>/dev/null); echo "${st_n:-0}"; }

# policy_start LOG SOCKET-OPTION... - start the daemon and wait for its
# starting notice (written once every socket is open and the privileges
# dropped); 1 when it exits first
policy_start() {
    ps_log=$1
    shift
    ps_n=$(started "$ps_log")
    daemon_launch_with "$tmp/t.conf" "$tmp/pid" "$ps_log" "$@"
    i=0
    while [ $i -lt $((300 * vg_slow)) ] && [ "$(started "$ps_log")" -le "${ps_n:-0}" ]; do
        kill -0 "$DPID" 2>/dev/null || return 1
        sleep 0.1; i=$((i + 1))
    done
    [ "$(started "$ps_log")" -gt "${ps_n:-0}" ]
}

# pc SCENARIO ARGS... - run a client scenario; its ok/FAIL lines count here
pc() {
    pc_out=$(python3 "$client" "$@" 2>&1)
    printf '%s\n' "$pc_out"
    t_pass=$((t_pass + $(printf '%s\n' "$pc_out" | grep -c '^ok - ')))
    t_fail=$((t_fail + $(printf '%s\n' "$pc_out" | grep -c '^FAIL - ')))
    printf '%s\n' "$pc_out" | grep -Eq '^(ok|FAIL) - ' || t_bad "policy_client.py $1 ran" "$pc_out"
}

# seq_gapless LOG - every record of each instance in LOG numbered 1, 2, 3 ...
seq_gapless() {
    awk '/^event=(decision|session) / {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        if (f["seq"] != ++n[f["instance"]]) { print "instance " f["instance"] ": seq " f["seq"] " where " n[f["instance"]] " was due"; bad = 1 }
        delete f
    } END { exit bad }' "$1"
}

slow="--slow $vg_slow"

# ---- the policy service alone, on TCP
PORT=$(free_port)
addr="inet:127.0.0.1:$PORT"
log="$tmp/daemon.log"
policy_start "$log" -s "$addr"
t_eq "tlspolicyd -s alone starts (no socket in the configuration, no -p)" 0 "$?"
notice=$(grep 'message="starting: ' "$log")
t_match "the readiness notice names the policy socket only" "message=\"starting: policy_socket $addr, configuration " "$notice"
t_nomatch "no milter socket is served" 'starting: socket' "$notice"
t_eq "the daemon runs as nobody" nobody "$(ps -o user= -p "$DPID" | tr -d ' ')"

pc valid --addr "$addr" --log "$log" $slow
pc malformed --addr "$addr" --log "$log" $slow
pc slow --addr "$addr" $slow
pc half --addr "$addr" --log "$log" $slow
pc idle --addr "$addr" --pid "$DPID" --n 1000 $slow
# POLICY_CONN_MAX (src/policy/server.h) connections, and one more; not
# under valgrind (it alone takes 1.5 min there).
over=0
if [ "${TP_VALGRIND:-0}" != 1 ]; then
    pc limit --addr "$addr" --pid "$DPID" --log "$log" --n 8192 $slow
    over=1
fi
# Under ASan freed memory waits in a quarantine of 256 MiB, under valgrind
# in one of 20 MB with shadow memory besides: the bound allows for them.
rss_mb=64
ldd "$D" 2>/dev/null | grep -q libasan && rss_mb=320
[ "${TP_VALGRIND:-0}" = 1 ] && rss_mb=160
pc flood --addr "$addr" --pid "$DPID" --n 50000000 --rss-mb $rss_mb $slow
pc reload --addr "$addr" --log "$log" --pid "$DPID" --conf "$tmp/t.conf" $slow
t_eq "only the limit test's connection was refused over the limit, no accept() failed" $over \
    "$(grep -c -E 'more than [0-9]+ connections|accept:' "$log")"

# SIGTERM with a session open: its record is written before "stopped".
python3 "$client" hold --addr "$addr" $slow >"$tmp/hold.out" 2>&1 &
hpid=$!
i=0
while [ $i -lt $((100 * vg_slow)) ] && ! grep -q '^ready' "$tmp/hold.out"; do sleep 0.1; i=$((i + 1)); done
t_match "a client holds an open session" '^ready' "$(cat "$tmp/hold.out")"
kill -TERM "$DPID"
wait "$DPID"
t_eq "SIGTERM: the daemon exits 0" 0 "$?"
wait "$hpid"
t_eq "the holding client saw its session answered and the connection closed" 0 "$?"
hpid=""
t_eq "SIGTERM: the open session's record is written, before \"stopped\"" \
    "event=session client_addr=192.0.2.39 messages=1 rcpt_accepted=1
event=notice message=stopped" \
    "$(grep -E '^event=session .*client_addr=192\.0\.2\.39 |message=stopped' "$log" |
        sed -E 's/^(event=session) .*(client_addr=[^ ]*) .*(messages=[0-9]+ rcpt_accepted=[0-9]+) .*/\1 \2 \3/')"
t_match "and the accepted recipient's decision record before it" \
    '^event=decision .*rcpt=v@other.example .*client_addr=192\.0\.2\.39 ' "$(grep -B1 '^event=session .*192\.0\.2\.39 ' "$log")"
out=$(seq_gapless "$log")
t_eq "every record's seq runs 1, 2, 3 ... without a gap" "" "$out"
t_match "records were written (the seq check is not vacuous)" '^event=session ' "$(cat "$log")"

# ---- a unix policy socket, handed to nobody with mode 0660
sock="$tmp/run/policy.sock"
ulog="$tmp/unix.log"
policy_start "$ulog" -s "unix:$sock"
t_eq "tlspolicyd -s unix:PATH starts" 0 "$?"
t_eq "the policy socket belongs to nobody with mode 0660" "srw-rw---- nobody nogroup" \
    "$(stat -c '%A %U %G' "$sock" 2>&1)"
t_eq "it answers over the unix socket" \
    "action=530 5.7.0 Must issue a STARTTLS command first: mail for <u@gdpr.example> (domain gdpr.example) requires TLS" \
    "$(python3 "$client" ask --addr "unix:$sock" recipient=u@gdpr.example 2>&1)"
kill -TERM "$DPID"
wait "$DPID"
t_eq "it stops with status 0" 0 "$?"

# ---- the milter and the policy service in one daemon
MPORT=$(free_port "$PORT")
blog="$tmp/both.log"
policy_start "$blog" -p "inet:$MPORT@127.0.0.1" -s "$addr"
t_eq "tlspolicyd -p and -s starts" 0 "$?"
wait_port "$MPORT" up
t_match "the readiness notice names both sockets" \
    "message=\"starting: socket inet:$MPORT@127.0.0.1, policy_socket $addr, configuration " \
    "$(grep 'message="starting: ' "$blog")"
t_eq "the policy socket answers" \
    "action=450 4.7.0 Must issue a STARTTLS command first: mail for <s@soft.example> (domain soft.example) requires TLS" \
    "$(python3 "$client" ask --addr "$addr" recipient=s@soft.example client_address=192.0.2.41 2>&1)"
cat >"$tmp/both.lua" <<'LUA'
conn = mt.connect("inet:" .. port .. "@127.0.0.1")
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "mx.sender.example", "192.0.2.42") == nil)
assert(mt.helo(conn, "mx.sender.example") == nil)
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.rcptto(conn, "<u@gdpr.example>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE)
mt.disconnect(conn)
LUA
out=$(miltertest -s "$tmp/both.lua" -D port="$MPORT" 2>&1)
t_eq "the milter socket answers (530 for a required domain)" 0 "$?"
kill -TERM "$DPID"
wait "$DPID"
t_eq "it stops with status 0" 0 "$?"
DPID=""
t_match "both front ends logged into one record sequence" \
    '^event=decision seq=[0-9]+ .*client_addr=192\.0\.2\.41 ' "$(cat "$blog")"
t_match "(the milter's record among them)" '^event=decision seq=[0-9]+ .*client_addr=192\.0\.2\.42 ' "$(cat "$blog")"
t_eq "without a gap" "" "$(seq_gapless "$blog")"
# The daemons' own output (ASan, UBSan, LeakSanitizer at exit in the sanitizer build).
t_nomatch "no sanitizer report in any daemon's output" 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' \
    "$(cat "$log" "$ulog" "$blog")"

t_done
