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

# A second instance must not take the socket (and pidfile) of a live one.
err=$(no_syslog "$D" -c "$tmp/t.conf" -P "$tmp/pid2" 2>&1); rc=$?
t_eq "a second instance on a live unix socket is refused" 1 "$rc"
t_match "and says the socket is in use" "milter socket unix:$sock is in use" "$err"
t_eq "the second instance writes no pidfile" no "$([ -e "$tmp/pid2" ] && echo yes || echo no)"
t_eq "the pidfile still names the first" "$pid" "$(cat "$tmp/pid" 2>/dev/null)"
out=$(miltertest -s "$tmp/t.lua" -D sock="$sock" 2>&1); rc=$?
t_eq "the first instance still answers" 0 "$rc"
port=$(free_port)
(exec 3<&-; exec python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(30)' "$port") &
lpid=$!
wait_port "$port" up
err=$(no_syslog "$D" -f -c "$tmp/t.conf" -p "inet:$port@127.0.0.1" -P "$tmp/pid2" 2>&1); rc=$?
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
t_eq "an inet socket someone listens on is refused" 1 "$rc"
t_match "and says the address is in use" "milter socket inet:$port@127.0.0.1 is in use" "$err"

kill -TERM "$pid"
wait_for '! kill -0 "$pid" 2>/dev/null'
t_eq "SIGTERM stops the detached daemon" no "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"

# The pidfile is written as root in a directory its user may own: a
# planted symbolic link must not make root overwrite the link's target.
echo "precious" >"$tmp/target"
ln -s "$tmp/target" "$tmp/pidlink"
err=$(no_syslog "$D" -c "$tmp/t.conf" -P "$tmp/pidlink" 2>&1); rc=$?
t_eq "a symlinked pidfile is refused" 1 "$rc"
t_match "and says it is a symbolic link" "pidfile $tmp/pidlink: it is a symbolic link" "$err"
t_eq "the link's target is untouched" precious "$(cat "$tmp/target")"
mkfifo "$tmp/pidfifo"
err=$(no_syslog "$D" -c "$tmp/t.conf" -P "$tmp/pidfifo" 2>&1); rc=$?
t_eq "a FIFO as pidfile is refused" 1 "$rc"
t_match "and says it is not a regular file" "pidfile $tmp/pidfifo: it is not a regular file" "$err"
rm -f "$tmp/pidfifo" "$tmp/pidlink"
echo 99999 >"$tmp/pid"
no_syslog "$D" -c "$tmp/t.conf"; rc=$?
wait_for '[ "$(cat "$tmp/pid")" != 99999 ]'
pid=$(cat "$tmp/pid" 2>/dev/null)
t_eq "a stale regular pidfile is replaced" tlspolicyd "$(ps -o comm= -p "$pid" 2>/dev/null)"
kill -TERM "$pid"
wait_for '! kill -0 "$pid" 2>/dev/null'

# SIGHUP: an empty file is refused and the old policy stays in force; a
# reload that weakens a policy is named in one notice.
PORT=$(free_port)
rconf="$tmp/r.conf"
write_rconf() { # write_rconf LEVEL
    printf 'policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example", ".gdpr.example" ]; level = "%s"; } );\n' \
        "$1" >"$rconf"
}
write_rconf required
sed 's/"unix:" .. sock/"inet:" .. port .. "@127.0.0.1"/' "$tmp/t.lua" >"$tmp/inet.lua"
chmod 0666 "$rconf"
# In the foreground a refused pidfile is reported, and the daemon runs.
echo "precious" >"$tmp/target2"
ln -s "$tmp/target2" "$tmp/rpid"
daemon_launch "$rconf" "$PORT" "$tmp/rpid" "$tmp/daemon.log"
wait_port "$PORT" up
t_match "start logs a notice about a world-writable configuration" \
    "message=\"$rconf: warning: the configuration file is writable by others" "$(cat "$tmp/daemon.log")"
: >"$rconf"
kill -HUP "$DPID"
wait_for 'grep -q "reload refused" "$tmp/daemon.log"'
t_match "SIGHUP with an empty file is refused, at line 1" "reload refused: $rconf:1: the file is empty" "$(cat "$tmp/daemon.log")"
out=$(miltertest -s "$tmp/inet.lua" -D port="$PORT" 2>&1); rc=$?
t_eq "after the refused reload plaintext to gdpr.example is still refused" 0 "$rc"
write_rconf opportunistic
kill -HUP "$DPID"
wait_for 'grep -q "reloaded" "$tmp/daemon.log"'
t_match "a weakening reload names the domains that lose required" \
    'reload weakens the policy .*policy gdpr: level required -> opportunistic; recipient domains losing their level: gdpr.example \(required -> opportunistic\), .gdpr.example \(required -> opportunistic\)' \
    "$(cat "$tmp/daemon.log")"
t_eq "the weakening is one notice" 1 "$(grep -c 'reload weakens' "$tmp/daemon.log")"
write_rconf verified
kill -HUP "$DPID"
wait_for '[ "$(grep -c reloaded "$tmp/daemon.log")" = 2 ]'
t_eq "a tightening reload is not called a weakening" 1 "$(grep -c 'reload weakens' "$tmp/daemon.log")"
daemon_stop
t_match "-f: a symlinked pidfile is reported" "cannot write pidfile $tmp/rpid: it is a symbolic link" "$(cat "$tmp/daemon.log")"
t_eq "-f: the link's target is untouched" precious "$(cat "$tmp/target2")"
t_eq "-f: a pidfile it did not write is not removed at exit" yes "$([ -L "$tmp/rpid" ] && echo yes)"

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
