#!/bin/bash
# test_milter_pinning - cert_fingerprint through the milter: Sendmail's
# {cert_md5} (and {cert_fp}) reach the decision; Postfix's macros carry no
# fingerprint, so a pinned policy decides cert_mismatch there. miltertest
# speaks the milter protocol to a running tlspolicyd.
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

MD5_PIN="00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
SHA256_PIN="01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"
cat >"$tmp/t.conf" <<CONF
policies = (
  { name = "pinned"; recipient_domains = [ "pinned.example" ]; level = "verified";
    cert_fingerprint = [ "MD5:$MD5_PIN", "SHA256:$SHA256_PIN" ]; }
);
CONF
daemon_start "$tmp/t.conf" || t_bad "daemon starts" "$(cat "$tmp/daemon.log")"
t_match "start-up log warns: pinned policy, no policy_socket" "event=notice message=\"$tmp/t.conf:2: warning: policy pinned pins certificates \(cert_fingerprint\), but no policy_socket is configured" "$(cat "$tmp/daemon.log")"

# mta: the {v} macro; stage: where the TLS macros come (Sendmail: with MAIL)
LUA='
function session(mta, stage, tls, rcpt, want)
  local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
  assert(conn, "cannot connect")
  assert(mt.macro(conn, SMFIC_CONNECT, "v", mta) == nil)
  assert(mt.conninfo(conn, "mx.client.example", "192.0.2.40") == nil)
  if stage == "helo" then
    mt.macro(conn, SMFIC_HELO, table.unpack(tls))
  end
  assert(mt.helo(conn, "mx.client.example") == nil)
  if stage == "mail" then
    mt.macro(conn, SMFIC_MAIL, "i", "QID" .. math.random(100000), table.unpack(tls))
  end
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  assert(mt.rcptto(conn, rcpt) == nil)
  local got = mt.getreply(conn)
  assert(got == want, rcpt .. ": reply " .. tostring(got) .. ", expected " .. tostring(want))
  if got == SMFIR_CONTINUE then
    assert(mt.eom(conn) == nil)
  end
  mt.disconnect(conn)
end
function tls(extra)
  local t = { "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256" }
  for _, v in ipairs(extra) do table.insert(t, v) end
  return t
end
'

mt "Sendmail {cert_md5}: the pinned certificate passes without a trusted CA" "$LUA
session('8.17.1', 'mail', tls({ '{cert_subject}', '/CN=mx.self.example', '{cert_issuer}', '/CN=mx.self.example',
        '{verify}', 'FAIL', '{cert_md5}', '$MD5_PIN' }), '<md5ok@pinned.example>', SMFIR_CONTINUE)"
mt "Sendmail {cert_md5} at HELO: kept for the session" "$LUA
session('8.17.1', 'helo', tls({ '{verify}', 'FAIL', '{cert_md5}', '$MD5_PIN' }), '<helook@pinned.example>', SMFIR_CONTINUE)"
mt "Sendmail {cert_md5} of another certificate: refused" "$LUA
session('8.17.1', 'mail', tls({ '{verify}', 'OK', '{cert_subject}', '/CN=mx.other.example',
        '{cert_md5}', 'FF:EE:DD:CC:BB:AA:99:88:77:66:55:44:33:22:11:00' }), '<md5other@pinned.example>', SMFIR_REPLYCODE)"
mt "Sendmail without a client certificate ({cert_md5} empty): refused" "$LUA
session('8.17.1', 'mail', tls({ '{verify}', 'NO', '{cert_subject}', '', '{cert_md5}', '' }), '<nocert@pinned.example>', SMFIR_REPLYCODE)"
mt "Sendmail {cert_fp} (CertFingerprintAlgorithm sha256) matches a SHA256 pin" "$LUA
session('8.18.1', 'mail', tls({ '{verify}', 'FAIL', '{cert_fp}', '$SHA256_PIN' }), '<fpok@pinned.example>', SMFIR_CONTINUE)"
mt "Postfix milter: trusted certificate, no fingerprint macro: refused" "$LUA
session('Postfix 3.7.11', 'mail', tls({ '{cert_subject}', 'mx.partner.example', '{cert_issuer}', 'Partner CA' }),
        '<postfix@pinned.example>', SMFIR_REPLYCODE)"
vg_sleep 0.5

r=$(records)
t_match "{cert_md5} match: accepted, cert_verified=yes" ' action=accept would=- reason=tls_ok policy=pinned,default level=verified .* rcpt=md5ok@pinned.example .* cert_verified=yes ' "$r"
t_match "{cert_md5} at HELO: accepted" ' action=accept .* reason=tls_ok .* rcpt=helook@pinned.example .* cert_verified=yes ' "$r"
t_match "{cert_md5} of another certificate: cert_mismatch, 550 5.7.1" ' action=reject would=- reason=cert_mismatch policy=pinned .* rcpt=md5other@pinned.example .* reply="550 5\.7\.1 Verified client certificate required for mail to <md5other@pinned\.example> \(domain pinned\.example\): certificate fingerprint not accepted"$' "$r"
t_match "no client certificate: cert_mismatch" ' action=reject .* reason=cert_mismatch .* rcpt=nocert@pinned.example .* cert_verified=no ' "$r"
t_match "{cert_fp}: accepted" ' action=accept .* reason=tls_ok .* rcpt=fpok@pinned.example .* cert_verified=yes ' "$r"
t_match "Postfix's milter: cert_mismatch although its CA trusts the certificate" ' action=reject .* reason=cert_mismatch policy=pinned .* rcpt=postfix@pinned.example .* cert_verified=yes cert_subject=mx.partner.example ' "$r"

daemon_stop; rc=$?
t_eq "SIGTERM stops the daemon cleanly" 0 "$rc"

# Serving the policy service as well (-s): fingerprints can arrive, no warning.
PORT2=$(free_port "$PORT")
user_opt=""
[ "$(id -u)" = 0 ] && user_opt="-u nobody"
# shellcheck disable=SC2086
(exec unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' no_syslog \
    "$D" -f $user_opt -P "$tmp/pid2" -p "inet:$PORT@127.0.0.1" -s "inet:127.0.0.1:$PORT2" -c "$tmp/t.conf" \
    >"$tmp/daemon2.log" 2>&1) &
DPID=$!
i=0
while [ $i -lt 100 ] && ! grep -q 'message="starting: socket' "$tmp/daemon2.log" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
t_match "with -s the daemon serves both front ends" "message=\"starting: socket inet:$PORT@127.0.0.1, policy_socket inet:127.0.0.1:$PORT2, " "$(cat "$tmp/daemon2.log")"
t_nomatch "with -s no pinning warning at start-up" 'pins certificates' "$(cat "$tmp/daemon2.log")"
daemon_stop; rc=$?
t_eq "SIGTERM stops the second daemon cleanly" 0 "$rc"
t_done
