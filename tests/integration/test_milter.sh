#!/bin/bash
# test_milter - the daemon as an MTA sees it: miltertest (OpenDKIM's
# Lua-scripted milter client) speaks the milter protocol to a running
# tlspolicyd; each case asserts the milter's answer and the record logged.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

t_need miltertest unshare
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
chmod 755 "$tmp"
PORT=$(free_port)
trap 'kill -TERM $DPID 2>/dev/null; rm -rf "$tmp"' EXIT

write_conf() { # write_conf EXTRA_POLICY
cat >"$tmp/t.conf" <<CONF
exempt = { clients = [ "127.0.0.0/8", "::1" ]; authenticated = true; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example", ".gdpr.example" ];
    level = "required"; min_tls_version = "TLSv1.2";
    ciphers = "HIGH:!aNULL:!kRSA"; min_cipher_bits = 128; },
  { name = "partner"; sender_domains = [ "partner.example" ]; level = "verified";
    cert_subject = "mx.partner.example"; action = "tempfail"; },
  { name = "watch"; recipient_domains = [ "watch.example" ]; level = "required"; mode = "monitor"; }
  $1
);
CONF
}

# Lua preamble: a session from 192.0.2.7, TLS facts sent with MAIL as Postfix does.
LUA='
function session(addr, tls, from, extra)
  local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
  assert(conn, "cannot connect")
  assert(mt.conninfo(conn, "mx.sender.example", addr or "192.0.2.7") == nil)
  assert(mt.helo(conn, "mx.sender.example") == nil)
  if tls then
    mt.macro(conn, SMFIC_MAIL, "{tls_version}", tls[1], "{cipher}", tls[2], "{cipher_bits}", tls[3],
             "{cert_subject}", tls[4] or "", "{cert_issuer}", tls[5] or "", "{verify}", tls[6] or "NO",
             "i", "QID" .. math.random(100000))
  elseif extra then
    mt.macro(conn, SMFIC_MAIL, "{auth_type}", extra, "i", "QIDAUTH")
  else
    mt.macro(conn, SMFIC_MAIL, "i", "QIDPLAIN")
  end
  assert(mt.mailfrom(conn, from or "<a@sender.example>") == nil)
  return conn
end
function expect(conn, rcpt, want)
  assert(mt.rcptto(conn, rcpt) == nil)
  local got = mt.getreply(conn)
  assert(got == want, rcpt .. ": reply " .. tostring(got) .. ", expected " .. tostring(want))
end
function finish(conn)
  assert(mt.eom(conn) == nil)
  mt.disconnect(conn)
end
T12 = { "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256" }
'

write_conf ""
daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"

mt "plaintext: required recipient refused, other accepted" "$LUA
c = session(nil, nil)
expect(c, '<u@gdpr.example>', SMFIR_REPLYCODE)
expect(c, '<v@other.example>', SMFIR_CONTINUE)
finish(c)"
r=$(records)
t_match "plaintext refusal logged with 530" ' action=reject would=- reason=plaintext policy=gdpr .* rcpt=u@gdpr.example .* tls_version=none .* reply="530 5\.7\.0 Must issue a STARTTLS command first: mail for <u@gdpr.example> \(domain gdpr.example\) requires TLS"$' "$r"
t_match "accepted recipient logged at end of message with its qid" ' qid=QIDPLAIN action=accept would=- reason=plaintext_allowed policy=default .* rcpt=v@other.example ' "$r"

mt "TLS versions and ciphers" "$LUA
c = session(nil, T12)
expect(c, '<ok12@gdpr.example>', SMFIR_CONTINUE)
finish(c)
c = session(nil, { 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', '256' })
expect(c, '<ok13@gdpr.example>', SMFIR_CONTINUE)
finish(c)
c = session(nil, { 'TLSv1', 'ECDHE-RSA-AES256-SHA', '256' })
expect(c, '<old@gdpr.example>', SMFIR_REPLYCODE)
finish(c)
c = session(nil, { 'TLSv1.2', 'AES256-GCM-SHA384', '256' })
expect(c, '<rsa@gdpr.example>', SMFIR_REPLYCODE)
finish(c)
c = session(nil, { 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', '64' })
expect(c, '<bits@gdpr.example>', SMFIR_REPLYCODE)
finish(c)"
r=$(records)
t_match "TLS 1.2 ECDHE accepted" ' action=accept .* reason=tls_ok .* rcpt=ok12@gdpr.example .* tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256 ' "$r"
t_match "TLS 1.3 accepted" ' reason=tls_ok .* rcpt=ok13@gdpr.example .* tls_version=TLSv1.3 ' "$r"
t_match "TLS 1.0 refused for its version" ' action=reject .* reason=tls_version .* rcpt=old@gdpr.example .* reply="550 5\.7\.0 TLS protocol or cipher too weak: .*requires TLSv1.2 or newer, negotiated TLSv1"' "$r"
t_match "static RSA refused for its cipher" ' action=reject .* reason=cipher .* rcpt=rsa@gdpr.example .* reply="550 5\.7\.0 ' "$r"
t_match "too few cipher bits refused" ' action=reject .* reason=cipher_bits .* rcpt=bits@gdpr.example .* cipher_bits=64 .* reply="550 5\.7\.0 .*requires at least 128-bit ciphers' "$r"

mt "client certificates (Sendmail macros)" "$LUA
c = session(nil, { 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', '256', '/O=Partner+20GmbH/CN=mx.partner.example', '/CN=Partner+20CA', 'OK' }, '<a@partner.example>')
expect(c, '<p1@other.example>', SMFIR_CONTINUE)
finish(c)
c = session(nil, { 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', '256', '/CN=mx.partner.example', '/CN=Evil', 'FAIL' }, '<a@partner.example>')
expect(c, '<p2@other.example>', SMFIR_REPLYCODE)
finish(c)
c = session(nil, { 'TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', '256', '/CN=mx.impostor.example', '/CN=Partner+20CA', 'OK' }, '<a@partner.example>')
expect(c, '<p3@other.example>', SMFIR_REPLYCODE)
finish(c)"
r=$(records)
t_match "verified partner accepted" ' reason=tls_ok policy=partner,default level=verified .* rcpt=p1@other.example .* cert_verified=yes cert_subject="/O=Partner GmbH/CN=mx.partner.example" ' "$r"
t_match "wrong certificate name deferred with 450 4.7.1" ' action=tempfail .* reason=cert_mismatch policy=partner .* rcpt=p3@other.example .* cert_verified=yes .* reply="450 4\.7\.1 ' "$r"
t_match "unverified partner deferred with 450 4.7.1" ' action=tempfail .* reason=cert_unverified policy=partner .* rcpt=p2@other.example .* cert_verified=no .* reply="450 4\.7\.1 ' "$r"

mt "exemptions and monitor mode" "$LUA
c = session('127.0.0.1', nil)
expect(c, '<e1@gdpr.example>', SMFIR_CONTINUE)
finish(c)
c = session(nil, nil, nil, 'PLAIN')
expect(c, '<e2@gdpr.example>', SMFIR_CONTINUE)
finish(c)
c = session(nil, nil)
expect(c, '<m@watch.example>', SMFIR_CONTINUE)
finish(c)"
r=$(records)
t_match "exempt client" ' action=accept would=- reason=exempt policy=- level=- .* rcpt=e1@gdpr.example .* client_addr=127.0.0.1 ' "$r"
t_match "authenticated session exempt" ' reason=exempt .* rcpt=e2@gdpr.example ' "$r"
t_match "monitor mode would reject" ' action=accept would=reject reason=plaintext policy=watch level=required mode=monitor rcpt=m@watch.example ' "$r"

mt "hostile HELO" "$LUA
local conn = mt.connect('inet:' .. port .. '@127.0.0.1')
assert(mt.conninfo(conn, 'evil', '192.0.2.66') == nil)
assert(mt.helo(conn, 'x\nevent=decision action=accept reason=tls_ok') == nil)
assert(mt.mailfrom(conn, '<a@sender.example>') == nil)
expect(conn, '<h@gdpr.example>', SMFIR_REPLYCODE)
mt.disconnect(conn)"
t_eq "a newline in HELO cannot forge a record" 0 "$(grep -c '^action=accept' "$tmp/daemon.log")"
t_match "hostile HELO quoted in the record" ' helo="x\\nevent=decision action=accept reason=tls_ok" ' "$(records)"

# Concurrency: four clients at once; seq stays contiguous and unique.
for i in 1 2 3 4; do
    printf '%s\n' "$LUA
for n = 1, 25 do
  c = session(nil, nil)
  expect(c, '<c$i-' .. n .. '@gdpr.example>', SMFIR_REPLYCODE)
  expect(c, '<c$i-' .. n .. '@other.example>', SMFIR_CONTINUE)
  finish(c)
end" >"$tmp/c$i.lua"
    miltertest -s "$tmp/c$i.lua" -D port="$PORT" >"$tmp/c$i.out" 2>&1 &
    cpids="${cpids:-} $!"
done
cfail=0; for j in $cpids; do wait "$j" || cfail=1; done
t_eq "four concurrent clients complete" 0 "$cfail"
vg_sleep 0.5
t_eq "200 concurrent decisions logged" 200 "$(records | grep -c ' rcpt=c[1-4]-')"
seqs=$(grep -oE '^event=(decision|session) seq=[0-9]+' "$tmp/daemon.log" | sed 's/.*seq=//' | sort -n)
n=$(printf '%s\n' "$seqs" | wc -l)
t_eq "seq is contiguous from 1 and unique" "$(seq 1 "$n" | tr '\n' ' ')" "$(printf '%s\n' "$seqs" | tr '\n' ' ')"
t_match "session records count recipients" '^event=session .* messages=1 rcpt_accepted=1 rcpt_rejected=1 rcpt_tempfailed=0 ' "$(cat "$tmp/daemon.log")"

# A failed STARTTLS reaches a milter as connect, EHLO, close; the plaintext
# session that follows from the same client is flagged.
mt "failed-STARTTLS pattern, then plaintext" "$LUA
local conn = mt.connect('inet:' .. port .. '@127.0.0.1')
assert(mt.conninfo(conn, 'mx.fallback.example', '192.0.2.50') == nil)
assert(mt.helo(conn, 'mx.fallback.example') == nil)
mt.disconnect(conn)
c = session('192.0.2.50', nil)
expect(c, '<fb@other.example>', SMFIR_CONTINUE)
finish(c)
c = session('192.0.2.51', nil)
expect(c, '<nofb@other.example>', SMFIR_CONTINUE)
finish(c)"
t_match "plaintext after EHLO-and-close is a suspected TLS failure" '^event=session .* client_addr=192.0.2.50 .* messages=1 .* suspected_tls_failure=yes ' "$(cat "$tmp/daemon.log")"
t_match "the EHLO-and-close session itself is not flagged" '^event=session .* client_addr=192.0.2.50 .* messages=0 .* suspected_tls_failure=no ' "$(cat "$tmp/daemon.log")"
t_match "another client is not flagged" '^event=session .* client_addr=192.0.2.51 .* suspected_tls_failure=no ' "$(cat "$tmp/daemon.log")"

# Reload: a valid configuration takes over; a broken one is refused.
write_conf ', { name = "more"; recipient_domains = [ "other.example" ]; level = "required"; }'
kill -HUP "$DPID"; vg_sleep 1
t_match "SIGHUP reloads a valid configuration" 'event=notice message=".*reloaded, hash [0-9a-f]{12}"' "$(cat "$tmp/daemon.log")"
# Under valgrind the burst is spaced: valgrind keeps signals blocked in a
# thread while it runs that thread's code, so a SIGHUP that arrives while
# the main thread is busy reloading can go to libmilter's sigwait()
# thread, which stops. On Linux without valgrind the main thread, which
# never blocks SIGHUP, always takes it (tlspolicyd(8), SIGNALS).
for i in $(seq 1 20); do
    kill -HUP "$DPID"
    [ "$vg_slow" = 1 ] || vg_sleep 0.2
done
vg_sleep 2
t_match "a burst of 20 SIGHUPs reloads and never stops the daemon" '^[0-9]+$' "$(kill -0 "$DPID" && echo "$DPID")"
mt "after reload the new policy applies" "$LUA
c = session(nil, nil)
expect(c, '<r1@other.example>', SMFIR_REPLYCODE)
finish(c)"
printf 'policies = ( { name = "broken"; level = "requried"; } );\n' >"$tmp/t.conf"
kill -HUP "$DPID"; vg_sleep 1
t_match "SIGHUP refuses a broken configuration with FILE:LINE" "event=notice message=\"reload refused: $tmp/t.conf:1: " "$(cat "$tmp/daemon.log")"
mt "after a refused reload the old policy stays in force" "$LUA
c = session(nil, nil)
expect(c, '<r2@other.example>', SMFIR_REPLYCODE)
expect(c, '<r3@gdpr.example>', SMFIR_REPLYCODE)
finish(c)"
t_match "daemon still running after refused reload" '^[0-9]+$' "$(kill -0 "$DPID" && echo "$DPID")"

# Reload into json records with hashed addresses.
head -c 32 /dev/urandom >"$tmp/log.key"
write_conf ''
sed -i "1i log = { format = \"json\"; addresses = \"hash\"; hash_key_file = \"$tmp/log.key\"; };" "$tmp/t.conf"
kill -HUP "$DPID"; vg_sleep 1
mt "json records after reload" "$LUA
c = session(nil, nil)
expect(c, '<Secret.Person@gdpr.example>', SMFIR_REPLYCODE)
finish(c)"
j=$(grep '^{"event":"decision"' "$tmp/daemon.log" | tail -1)
t_match "json decision record with the SPEC keys in order" '^\{"event":"decision","seq":[0-9]+,"instance":"[0-9a-f]{12}","config":"[0-9a-f]{12}","qid":"QIDPLAIN","action":"reject","would":null,"reason":"plaintext","policy":"gdpr","level":"required","mode":"enforce","rcpt":"[0-9a-f]{16}@gdpr.example","rcpt_domain":"gdpr.example",' "$j"
t_nomatch "hashed addresses hide the local part" 'Secret' "$j"

daemon_stop; rc=$?
t_eq "SIGTERM stops the daemon cleanly" 0 "$rc"
t_match "stop is logged" 'event=notice message=stopped' "$(cat "$tmp/daemon.log")"
t_done
