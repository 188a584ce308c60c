#!/bin/bash
# test_daemon - life cycle as an init system sees it: detach, pidfile, a unix
# socket the MTA's group can use, privileges dropped, a stale socket from a
# crashed run, SIGTERM.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need miltertest unshare
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
sock="$tmp/run/tlspolicyd.sock"
mkdir "$tmp/run"
trap '[ -f "$tmp/pid" ] && kill -KILL "$(cat "$tmp/pid")" 2>/dev/null; rm -rf "$tmp"' EXIT

cat >"$tmp/t.conf" <<CONF
socket = "unix:$sock";
pidfile = "$tmp/pid";
user = "nobody:nogroup";
log = { facility = "local7"; ident = "tlspolicyd-test"; };
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
CONF
cat >"$tmp/t.lua" <<'LUA'
conn = mt.connect("unix:" .. sock)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "mx.sender.example", "192.0.2.7") == nil)
assert(mt.helo(conn, "mx.sender.example") == nil)
assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
assert(mt.rcptto(conn, "<u@gdpr.example>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE)
mt.disconnect(conn)
LUA

# wait_for COND_CMD - poll up to 10 s (50 s under valgrind)
wait_for() { i=0; while [ $i -lt $((100 * vg_slow)) ]; do eval "$1" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }

no_syslog $(valgrind_cmd) "$D" -c "$tmp/t.conf"; rc=$?
t_eq "without -f the parent returns 0 after detaching" 0 "$rc"
wait_for '[ -S "$sock" ] && [ -s "$tmp/pid" ]'
pid=$(cat "$tmp/pid" 2>/dev/null)
t_match "pidfile holds the daemon's pid" '^[0-9]+$' "$pid"
# Under valgrind the process is valgrind's tool, which follows the fork.
comm=tlspolicyd
[ "${TP_VALGRIND:-0}" = 1 ] && comm=memcheck-amd64-
t_eq "the daemon runs detached" "$comm" "$(ps -o comm= -p "$pid" 2>/dev/null)"
if [ "$(id -u)" = 0 ]; then
    t_eq "privileges dropped to the configured user" "nobody" "$(ps -o user= -p "$pid" | tr -d ' ')"
    t_eq "socket belongs to USER:GROUP with mode 0660" "srw-rw---- nobody nogroup" \
        "$(stat -c '%A %U %G' "$sock")"
fi
out=$(miltertest -s "$tmp/t.lua" -D sock="$sock" 2>&1); rc=$?
t_eq "an MTA can use the unix socket" 0 "$rc"

# A crash leaves the socket behind; the next start must not trip over it.
kill -KILL "$pid"; vg_sleep 0.5
t_eq "a killed daemon leaves its socket" yes "$([ -S "$sock" ] && echo yes)"
rm -f "$tmp/pid"
no_syslog $(valgrind_cmd) "$D" -c "$tmp/t.conf"; rc=$?
t_eq "restart over a stale socket succeeds" 0 "$rc"
wait_for '[ -s "$tmp/pid" ]' && vg_sleep 0.3
pid=$(cat "$tmp/pid" 2>/dev/null)
out=$(miltertest -s "$tmp/t.lua" -D sock="$sock" 2>&1); rc=$?
t_eq "the restarted daemon answers" 0 "$rc"

kill -TERM "$pid"
wait_for '! kill -0 "$pid" 2>/dev/null'
t_eq "SIGTERM stops the detached daemon" no "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"

# A failure after detaching still reaches the caller: the parent waits.
if [ "$(id -u)" = 0 ]; then
    err=$(no_syslog $(valgrind_cmd) "$D" -c "$tmp/t.conf" -u no-such-user-tp 2>&1); rc=$?
    t_eq "start as an unknown user fails with status 1" 1 "$rc"
    t_match "and the reason is on the terminal" 'unknown user no-such-user-tp' "$err"
fi

# An invalid configuration never gets as far as detaching.
printf 'socket = "unix:%s";\nmode = "enforse";\n' "$sock" >"$tmp/bad.conf"
err=$(no_syslog $(valgrind_cmd) "$D" -c "$tmp/bad.conf" 2>&1); rc=$?
t_eq "start with an invalid configuration fails" 1 "$rc"
t_match "and says where" "^$tmp/bad.conf:2: " "$err"
t_done
