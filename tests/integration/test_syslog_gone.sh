#!/bin/bash
# test_syslog_gone - the syslog daemon goes away and comes back (issue 17).
# tlspolicyd logs to log.socket, here a datagram socket served by a tiny
# python receiver. While the receiver is gone, decisions go on with the
# right replies; the records it missed are a gap in seq, exactly the range
# the "syslog delivery resumed, N records lost (seq A-B)" notice names once
# it is back; the lines that arrive are RFC 3164 as glibc's syslog(3) writes.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need miltertest unshare python3
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
PORT=$(free_port)
RPID=""
trap 'kill -TERM $DPID $RPID 2>/dev/null; rm -rf "$tmp"' EXIT

# receiver_start - bind $tmp/log.sock, append each datagram as a line to
# $tmp/received; world-writable, as /dev/log is, for the daemon as nobody
receiver_start() {
    rm -f "$tmp/log.sock"
    python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0") + b"\n")
' "$tmp/log.sock" "$tmp/received" &
    RPID=$!
    i=0
    while [ ! -S "$tmp/log.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

# receiver_stop - the syslog daemon stops: its socket is gone
receiver_stop() {
    kill -TERM "$RPID"; wait "$RPID" 2>/dev/null; RPID=""
    rm -f "$tmp/log.sock"
}

# wait_sessions N - until the daemon wrote N session records (to stderr)
wait_sessions() {
    i=0
    while [ "$(grep -c '^event=session' "$tmp/daemon.log")" -lt "$1" ] && [ $i -lt $((100 * vg_slow)) ]; do
        sleep 0.1; i=$((i + 1))
    done
}

cat >"$tmp/t.conf" <<CONF
log = { socket = "$tmp/log.sock"; };
exempt = { clients = [ "::1" ]; authenticated = true; };
policies = ( { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; } );
CONF

LUA='
function one(tls, rcpt, want)
  local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
  assert(conn, "cannot connect")
  assert(mt.conninfo(conn, "mx.sender.example", "192.0.2.7") == nil)
  assert(mt.helo(conn, "mx.sender.example") == nil)
  if tls then
    mt.macro(conn, SMFIC_MAIL, "{tls_version}", "TLSv1.2", "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384",
             "{cipher_bits}", "256", "i", "QIDTLS")
  else
    mt.macro(conn, SMFIC_MAIL, "i", "QIDPLAIN")
  end
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.rcptto(conn, rcpt) == nil)
  local got = mt.getreply(conn)
  assert(got == want, rcpt .. ": reply " .. tostring(got) .. ", expected " .. tostring(want))
  assert(mt.eom(conn) == nil)
  mt.disconnect(conn)
end
'
DECIDE="$LUA
one(false, '<u@gdpr.example>', SMFIR_REPLYCODE)
one(true, '<v@gdpr.example>', SMFIR_CONTINUE)"

receiver_start
daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"
mt "decisions while syslog runs" "$DECIDE"
wait_sessions 2
receiver_stop
mt "decisions go on while syslog is gone" "$DECIDE"
wait_sessions 4
receiver_start
mt "decisions after syslog is back" "$DECIDE"
wait_sessions 6
vg_sleep 0.5

got=$(cat "$tmp/received")
t_match "lines as glibc writes them: <PRI>Mmm dd hh:mm:ss ident[pid]: record" \
    "^<22>[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] tlspolicyd\[$DPID\]: event=decision seq=[0-9]+ " "$got"
t_match "notices at their priority" "^<22>.* tlspolicyd\[$DPID\]: event=notice message=\"starting: " "$got"

# Every record is on stderr (the foreground); syslog missed a range of them.
all=$(grep -Eo '^event=(decision|session) seq=[0-9]+' "$tmp/daemon.log" | sed 's/.*seq=//')
rcvd=$(grep -Eo ': event=(decision|session) seq=[0-9]+' "$tmp/received" | sed 's/.*seq=//')
missing=$(comm -23 <(printf '%s\n' "$all" | sort) <(printf '%s\n' "$rcvd" | sort) | sort -n)
t_eq "stderr has every seq, 1 to 12" "$(seq 1 12 | tr '\n' ' ')" "$(printf '%s\n' "$all" | tr '\n' ' ')"
n=$(printf '%s\n' "$missing" | grep -c .)
first=$(printf '%s\n' "$missing" | head -1)
last=$(printf '%s\n' "$missing" | tail -1)
t_eq "the records of the two sessions while syslog was gone are missing" 4 "$n"
t_eq "the gap is one range" "$n" "$((last - first + 1))"
t_match "the notice names the number and the range" \
    "tlspolicyd\[$DPID\]: event=notice message=\"syslog delivery resumed, $n records lost \(seq $first-$last\); last error: " "$got"
t_eq "the notice comes before the first record after the gap" "$((last + 1))" \
    "$(grep -A1 'delivery resumed' "$tmp/received" | grep -Eo 'seq=[0-9]+' | sed 's/seq=//')"
t_match "records after the gap arrive" "event=session seq=12 " "$got"

daemon_stop; rc=$?
t_eq "the daemon carried on and stops cleanly" 0 "$rc"
t_done
