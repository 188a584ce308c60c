# lib.sh - start and stop tlspolicyd for the milter tests. Source after
# tests/cli/lib.sh. Needs: $D (the daemon binary), $tmp (a scratch dir).

# port_used PORT - some TCP socket (any state) has local port PORT
port_used() {
    hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hex" 'substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# free_port [NOT] - a TCP port no socket uses (and not NOT), below the
# kernel's ephemeral range: a port there can be taken at any moment as the
# local port of some outgoing connection, and a server's bind then fails
free_port() {
    lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ "${lo:-0}" -gt 12000 ] 2>/dev/null || lo=32768
    while :; do
        p=$(( ( $(od -An -N2 -tu2 /dev/urandom) % (lo - 10000) ) + 10000 ))
        [ "$p" = "${1:-}" ] && continue
        port_used "$p" && continue
        echo "$p"
        return
    done
}

# Under valgrind (TP_VALGRIND=1, tests/check-all.sh) the daemon runs about
# 20 times slower: only then are the waits for it longer.
vg_slow=1
[ "${TP_VALGRIND:-0}" = 1 ] && vg_slow=5

# vg_sleep SECONDS - sleep, vg_slow times longer under valgrind
vg_sleep() { sleep "$(awk -v s="$1" -v k="$vg_slow" 'BEGIN { print s * k }')"; }

# valgrind_cmd - what runs the daemon: valgrind memcheck when TP_VALGRIND=1.
# Every error, and a definite leak, counts; each process writes its own log
# into TP_VALGRIND_LOGS (default /tmp), which check-all.sh reads. Possible
# and reachable leaks do not count: libmilter's threads still hold their
# stacks and buffers when SIGTERM ends smfi_main().
valgrind_cmd() {
    [ "${TP_VALGRIND:-0}" = 1 ] || return 0
    echo "valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
        "--show-leak-kinds=definite --track-origins=yes --log-file=${TP_VALGRIND_LOGS:-/tmp}/vg.%p.log"
}

# wait_port PORT up|down - until the port is (not) accepting, at most 10 s
# (100 s under valgrind)
wait_port() {
    i=0
    while [ $i -lt $((100 * vg_slow)) ]; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            [ "$2" = up ] && return 0
        else
            [ "$2" = down ] && return 0
        fi
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# no_syslog CMD... - run CMD where syslog(3) reaches nothing of the machine's:
# in a private mount namespace, /dev/log (if the machine has one) is covered
# by /dev/null, so the test's records never land in the machine's own logs.
no_syslog() {
    unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' no_syslog "$@"
}

# daemon_launch_with CONF PIDFILE LOG SOCKET-OPTION... - tlspolicyd -f serving
# the sockets the options name (-p SOCKET, -s SOCKET) in the background,
# records appended to LOG, its syslog(3) reaching nothing (see no_syslog);
# sets DPID. exec at every step, so that $! is the daemon itself.
daemon_launch_with() {
    user_opt=""
    [ "$(id -u)" = 0 ] && user_opt="-u nobody"
    # The subshell's variables, not the caller's.
    # shellcheck disable=SC2086
    (dl_conf=$1 dl_pid=$2 dl_log=$3
     shift 3
     exec unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' no_syslog \
        $(valgrind_cmd) "$D" -f $user_opt -P "$dl_pid" "$@" -c "$dl_conf" >>"$dl_log" 2>&1) &
    DPID=$!
}

# daemon_launch CONF PORT PIDFILE LOG - the milter on 127.0.0.1:PORT (see daemon_launch_with)
daemon_launch() {
    daemon_launch_with "$1" "$3" "$4" -p "inet:$2@127.0.0.1"
}

# daemon_start CONF - start tlspolicyd in the foreground; records in
# $tmp/daemon.log. Ready means its "starting" notice, not the port: root
# binds the milter port before the state store is opened and checked as the
# daemon's user, so a test that acts as soon as the port answers races that
# check, and loses on a busy machine. 1 when the daemon exits first.
daemon_start() {
    n=$(grep -c 'message="starting: socket' "$tmp/daemon.log" 2>/dev/null)
    daemon_launch "$1" "$PORT" "$tmp/pid" "$tmp/daemon.log"
    i=0
    while [ $i -lt $((300 * vg_slow)) ] &&
        [ "$(grep -c 'message="starting: socket' "$tmp/daemon.log" 2>/dev/null)" -le "${n:-0}" ]; do
        kill -0 "$DPID" 2>/dev/null || return 1
        sleep 0.1; i=$((i + 1))
    done
    wait_port "$PORT" up
}

# daemon_stop - SIGTERM and wait; returns the daemon's exit status
daemon_stop() {
    kill -TERM "$DPID" 2>/dev/null
    wait "$DPID"
}

# mt NAME LUA - run a miltertest script; pass when it exits 0
mt() {
    printf '%s\n' "$2" >"$tmp/t.lua"
    if out=$(miltertest -s "$tmp/t.lua" -D port="$PORT" 2>&1); then
        t_ok "$1"
    else
        t_bad "$1" "$out"
    fi
}

# records - the decision records logged so far
records() { grep '^event=decision' "$tmp/daemon.log"; }

# MT_SESSION_LUA - the miltertest functions the fallback and store tests
# share: session(addr, name, tls) opens a session as Postfix does (TLS 1.2
# macros at MAIL when tls, queue id QIDTLS or QIDPLAIN) and returns it;
# expect(conn, rcpt, want) sends RCPT and checks the reply (want nil: any);
# finish(conn) ends the message and the session; one(...) all three.
# It connects to 127.0.0.1:port, or to milter_socket when defined (-D
# milter_socket=unix:PATH, as tests/package/test_deb.sh does).
MT_SESSION_LUA='
function session(addr, name, tls)
  local conn = mt.connect(milter_socket or ("inet:" .. port .. "@127.0.0.1"))
  assert(conn, "cannot connect")
  assert(mt.conninfo(conn, name, addr) == nil)
  assert(mt.helo(conn, name) == nil)
  if tls then
    mt.macro(conn, SMFIC_MAIL, "{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384",
             "{cipher_bits}", "256", "i", "QIDTLS")
  else
    mt.macro(conn, SMFIC_MAIL, "i", "QIDPLAIN")
  end
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  return conn
end
function expect(conn, rcpt, want)
  assert(mt.rcptto(conn, rcpt) == nil)
  local got = mt.getreply(conn)
  assert(want == nil or got == want, rcpt .. ": reply " .. tostring(got) .. ", expected " .. tostring(want))
end
function finish(conn)
  assert(mt.eom(conn) == nil)
  mt.disconnect(conn)
end
function one(addr, name, tls, rcpt, want)
  local c = session(addr, name, tls)
  expect(c, rcpt, want)
  finish(c)
end
'
