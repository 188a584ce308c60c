#!/bin/bash
# test_probe_servers - tlspolicy-probe --connect against small SMTP servers
# on loopback that misbehave (tests/probe/misbehave.py): a greeting that
# drips a byte a second, a bare "250" to EHLO after a greeting that says
# STARTTLS, a reply whose lines carry different codes, a server silent in
# the handshake, and one that resets the connection right after it.
# Needs python3 and openssl; no root, no MTA.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

P="$top_builddir/src/probe/tlspolicy-probe"
PROFILES="$top_srcdir/etc/tlspolicy-profiles.conf"

t_need python3 openssl jq
[ -x "$P" ] || t_bad "tlspolicy-probe is built" "no $P"
[ "$t_fail" -eq 0 ] || { t_done; exit; }
tmp=$(mktemp -d) || exit 1
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=misbehave.test -keyout "$tmp/rsa.key" \
    -out "$tmp/rsa.pem" >"$tmp/certs.log" 2>&1 || { t_bad "test certificate" "$(cat "$tmp/certs.log")"; t_done; exit; }

# serve MODE - start misbehave.py in MODE on a free port; sets port and srv
serve() {
    [ -n "$srv" ] && { kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; }
    port=$(free_port)
    python3 "$top_srcdir/tests/probe/misbehave.py" "$1" "$port" "$tmp/rsa.pem" "$tmp/rsa.key" \
        2>"$tmp/$1.srv" &
    srv=$!
    wait_port "$port" up || t_bad "$1: the server listens" "$(cat "$tmp/$1.srv")"
}

# probe NAME TIMEOUT [PROFILE] - one profile (modern-tls13) against the server,
# json; sets out, rc, secs (wall clock), err (stderr)
probe() {
    start=$(date +%s%N)
    out=$("$P" --profiles "$PROFILES" --connect "127.0.0.1:$port" --starttls smtp --timeout "$2" \
        --profile "${3:-modern-tls13}" -f json 2>"$tmp/$1.err")
    rc=$?
    secs=$((($(date +%s%N) - start) / 1000000000))
    err=$(cat "$tmp/$1.err")
}

# field KEY - one key of the result in $out
field() { printf '%s\n' "$out" | jq -r --arg k "$1" '.[0][$k] | tostring'; }

# ---- 1. a greeting dripped a byte a second: --timeout is for the whole profile
serve drip
probe drip 2
t_eq "drip: exit 2 (no handshake reached)" 2 "$rc"
t_eq "drip: done within the timeout + 2 s, not one timeout per byte" yes "$([ "$secs" -le 4 ] && echo yes)"
t_eq "drip: result error" "error null" "$(field result) $(field ok)"
t_eq "drip: why" "greeting: timed out" "$(field error)"
t_eq "drip: nothing on stderr" "" "$err"

# ---- 2. a bare "250" to EHLO is not an offer of STARTTLS
serve bare
probe bare 5
t_eq "bare 250: exit 2" 2 "$rc"
t_eq "bare 250: the server does not offer STARTTLS" "error: the server does not offer STARTTLS" \
    "$(field result): $(field error)"

# ---- 3. a reply's lines must carry one code
serve mixed
probe mixed 5
t_eq "554 then 220: exit 2" 2 "$rc"
t_eq "554 then 220: not a greeting" "greeting: the lines of one reply carry different codes" "$(field error)"

# ---- 4. silence in the handshake: a failure within the deadline
serve stall
probe stall 2
t_eq "stalled handshake: exit 1 (a must_pass profile failed)" 1 "$rc"
t_eq "stalled handshake: done within the timeout + 2 s" yes "$([ "$secs" -le 4 ] && echo yes)"
t_eq "stalled handshake: result fail" "fail false" "$(field result) $(field ok)"
t_eq "stalled handshake: why" "timed out after 2 s" "$(field error)"

# ---- 5. a reset right after the handshake: no SIGPIPE, the result is printed.
# Over TLS 1.2 the server's Finished comes last, with the reset on its
# heels: the probe's QUIT is written to a connection already reset.
serve reset
for i in 1 2 3; do
    probe reset 5 rsa-only-tls12
    t_eq "reset after the handshake ($i): exit 0, not killed by SIGPIPE (141)" 0 "$rc"
    t_eq "reset after the handshake ($i): the handshake's result" "ok TLSv1.2" "$(field result) $(field version)"
done

t_done
