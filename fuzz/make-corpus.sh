#!/bin/sh
# make-corpus.sh - regenerate the seed corpora of fuzz/corpus/ from the
# test data already in the repository (report logs, the example
# configuration) and a few hand-written inputs. Run from anywhere; the
# committed corpora are its output plus the crashing inputs found since
# (fuzz/corpus/NAME/crash-*), which it leaves alone.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
c=$top/fuzz/corpus
data=$top/tests/report/data
mkdir -p "$c/config" "$c/session" "$c/record" "$c/logline" "$c/mtafail" "$c/fromrec" "$c/policy"

# logline: each report log, and its lines in files of up to 8.
for f in "$data"/*.log; do
    b=$(basename "$f" .log)
    split -l 8 -d "$f" "$c/logline/$b."
done
# mtafail: the MTA failure logs, whole.
for f in "$data"/diagnose-*.log; do cp "$f" "$c/mtafail/$(basename "$f" .log)"; done
# fromrec: single record lines of every shape, and bare fields.
n=0
for f in "$data"/trad.log "$data"/rfc5424.log "$data"/cat.log "$data"/hostile.log "$data"/diagnose-mx1.log; do
    grep -m 6 'event=\|"event"' "$f" | while IFS= read -r l; do
        n=$((n + 1)); printf '%s\n' "$l" >"$c/fromrec/$(basename "$f" .log).$n"
    done
done
printf 'tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 client_name=mx.partner.example client_addr=192.0.2.7\n' >"$c/fromrec/bare-tls12"
printf 'tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 client_addr=2001:db8::1\n' >"$c/fromrec/bare-tls13"
printf 'tls_version=TLSv1 cipher=TLS_RSA_WITH_AES_128_CBC_SHA\n' >"$c/fromrec/bare-iana"
# config: the example configuration without its paths (the harness skips
# any input with a '/'), and a policy over a domain file after a NUL.
grep -v / "$top/etc/tlspolicyd.conf" >"$c/config/example"
printf 'policies = ( { name = "big"; recipient_domains_file = "@DIR@domains"; level = "required"; },\n  { name = "s"; sender_domains_file = "@DIR@domains"; level = "verified"; cert_subject = "mx.example"; } );\n\0gdpr.example\n.sub.example\n# comment\nxn--bcher-kva.example\nb\303\274cher.example\n' >"$c/config/domains-file"
printf 'policies = ( { name = "p"; sender_domains = [ "p.example" ]; level = "verified";\n  cert_fingerprint = [ "SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "md5:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", "SHA1:00", "AB:CD", "SHA512:xy" ]; } );\n' >"$c/config/pins"
printf 'log = { format = "json"; addresses = "hash"; hash_key_file = "@DIR@domains"; };\n\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n' >"$c/config/hash-key"
printf 'fallback = { enabled = true; key = "client_net"; window = "30d"; action = "tempfail"; max_deferrals = 2; defer_period = "6h"; then = "accept"; };\nstate = { backend = "lmdb"; path = "@DIR@state"; on_error = "accept"; };\nexempt = { clients = [ "127.0.0.0/8", "::1" ]; authenticated = true; };\n' >"$c/config/fallback"
# session: scripts of calls (see fuzz/fuzz_session.c).
T=$(printf '\t')
printf 'open 192.0.2.7%smx.sender.example%s\\0%sPostfix 3.7.11\nhelo mx.sender.example\nmail <a@sender.example>\nqid Q1\nrcpt <u@gdpr.example>\nrcpt <v@other.example>\neom\nclose\n' "$T" "$T" "$T" >"$c/session/plaintext"
printf 'open 192.0.2.8%smx.partner.example%sOK%s8.17.1\nhelo mx\ntls TLSv1.2%sECDHE-RSA-AES256-GCM-SHA384%s256%s/CN=mx.partner.example%s/CN=Partner+20CA%sOK\nmail <b@partner.example>%sb@partner.example\nrcpt <a@gdpr.example>%sa@gdpr.example\nrcpt <x@sub.gdpr.example>\nqid Q2\neom\nmail <>\nrcpt <c@soft.example>\nabort\nclose\n' "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" >"$c/session/tls-verified"
printf 'open 192.0.2.9%smx.pinned.example%sOK%s8.17.1\nhelo mx\ntls TLSv1.3%sTLS_AES_256_GCM_SHA384%s256%s/CN=mx.self%s/CN=mx.self%sFAIL%s\\0%s00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF%s\nmail <a@sender.example>\nrcpt <u@pinned.example>\ntls \\0%s\\0%s\\0%s\\0%s\\0%s\\0%s\\0%s0011:2233%s\nrcpt <v@pinned.example>\neom\nclose\n' "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" "$T" >"$c/session/pinned"
printf 'reload 1\nopen 198.51.100.9%sunknown\nhelo x\nclose\nopen 198.51.100.9%sunknown\ntls TLSv1%sAES256-SHA%s256\nmail <a@b>\nrcpt <"q\\" r"@gdpr.example>%s\\0\nreload 2\nrcpt <u@soft.example>\nqid LATE\neom\nclose\n' "$T" "$T" "$T" "$T" "$T" >"$c/session/reload"
printf 'open 127.0.0.1%slocalhost\ntls \\0%s\\0%s\\0%s\\0%s\\0%s\\0%sPLAIN\nmail <a@b.example>\nrcpt <u@gdpr.example>\nclose\n' "$T" "$T" "$T" "$T" "$T" "$T" "$T" >"$c/session/exempt"
# record: control bytes, then NUL-separated values (see fuzz/fuzz_record.c).
python3 - "$c/record" <<'PY'
import sys, os
d = sys.argv[1]
vals = [b"i-1", b"e036a8334980", b"26703A745B7", b"gdpr", b"192.0.2.7", b"mx.partner.example", b"helo",
        b"TLSv1.3", b"TLS_AES_256_GCM_SHA384", b"/O=Partner+20GmbH/CN=mx", b"/CN=CA", b"<a@partner.example>",
        b"<Bob@GDPR.example>", b"gdpr.example", b"Mail for gdpr.example must arrive over TLS",
        b"client_net:192.0.2.0/24"]
hostile = [b'say "hi" \\x41\\', b"l1\nl2\r\t\x01\x1b[2J\x7f", b"Z\xc3\xbcrich \xe2\x98\x83",
           b"\xe9t\xe9\xff\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf", b"x\" action=reject reason=\"y", b"-", b"",
           b"\"},{\"event\":\"decision\"", b"=a=b= x="]
for k, ctl in enumerate([b"\x1f\x02\x02\x06\x0b\x01\x03\x00", b"\x1f\x00\x00\x00\x00\x00\xff\x01",
                         b"\x01\x01\x02\x03\x04\x05\x06\x02", b"\x1f\x01\x02\x0a\x01\x03\x05\x03"]):
    open(os.path.join(d, "plain%d" % k), "wb").write(b"\0".join([ctl] + vals))
    for h, v in enumerate(hostile):
        open(os.path.join(d, "hostile%d.%d" % (k, h)), "wb").write(b"\0".join([ctl] + [v] * 16))
PY
# policy: Postfix policy delegation streams, one connection each (see
# fuzz/fuzz_policy.c): requests with every attribute Postfix 3.8 sends, in
# its order (SMTPD_POLICY_README), each ended by an empty line.
python3 - "$c/policy" <<'PY'
import sys, os
d = sys.argv[1]
ORDER = ["request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender", "recipient",
         "recipient_count", "client_address", "client_name", "reverse_client_name", "instance", "sasl_method",
         "sasl_username", "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
         "encryption_protocol", "encryption_cipher", "encryption_keysize", "etrn_domain", "stress",
         "ccert_pubkey_fingerprint", "client_port", "policy_context", "server_address", "server_port",
         "compatibility_level", "mail_version"]
BASE = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
        "helo_name": "mx.sender.example", "queue_id": "", "sender": "a@sender.example",
        "recipient": "u@gdpr.example", "recipient_count": "0", "client_address": "198.51.100.7",
        "client_name": "mx.sender.example", "reverse_client_name": "mx.sender.example",
        "instance": "2f1d.6565a3b1.8e4c1.0", "size": "0", "encryption_keysize": "0", "client_port": "41234",
        "server_address": "198.51.100.1", "server_port": "25", "compatibility_level": "3.6",
        "mail_version": "3.8.4"}
TLS = {"encryption_protocol": "TLSv1.3", "encryption_cipher": "TLS_AES_256_GCM_SHA384",
       "encryption_keysize": "256"}
CERT = {"ccert_subject": "mx.partner.example", "ccert_issuer": "Partner+20CA",
        "ccert_fingerprint": "2A:5F:0C:93:7E:11:42:8B:9D:3C:77:E0:14:AB:6D:51:0F:88:C2:39:A4:7B:1E:6D:90:33:5C:E8:41:F2:07:BA",
        "ccert_pubkey_fingerprint": "7C:E1:0B:5A:93:2F:48:D6:11:C0:8E:77:3A:9B:E4:25:60:F1:DD:0A:B3:47:C8:19:2E:6B:85:F4:0D:A1:37:9C"}
def req(**kw):
    a = dict(BASE); a.update(kw)
    return "".join("%s=%s\n" % (k, a.get(k, "")) for k in ORDER) + "\n"
def tls(**kw):
    a = dict(TLS); a.update(kw); return req(**a)
def eom(qid, **kw):
    return req(protocol_state="END-OF-MESSAGE", recipient="", recipient_count="2", queue_id=qid, **kw)
def put(name, text):
    open(os.path.join(d, name), "w").write(text)
put("plaintext", req(protocol_state="CONNECT", recipient="", sender="", helo_name="") +
    req() + req(recipient="v@other.example", queue_id="4Q1xyz1234") +
    req(protocol_state="DATA", recipient="", recipient_count="1", queue_id="4Q1xyz1234") +
    eom("4Q1xyz1234"))
put("tls13-cert", tls(sender="b@partner.example", **CERT) +
    tls(recipient="x@sub.gdpr.example", sender="b@partner.example", queue_id="4Q2abc", **CERT) +
    eom("4Q2abc", **dict(TLS, **CERT)))
put("two-sessions", req(recipient="s@soft.example") + req(protocol_state="END-OF-MESSAGE", recipient="") +
    tls(client_port="41235", instance="2f1e.6565a3b9.1.0", recipient="w@gdpr.example",
        encryption_protocol="TLSv1", encryption_cipher="ECDHE-RSA-AES256-SHA") +
    req(client_address="192.0.2.9", client_port="5000", sasl_method="PLAIN", sasl_username="bob",
        recipient="u@gdpr.example", sender=""))
put("monitor-ipv6", req(client_address="192.0.2.44", recipient="Bob@GDPR.Example.") +
    req(client_address="2001:db8::25", client_name="unknown", reverse_client_name="unknown",
        recipient="\"q r\"@gdpr.example", helo_name="[2001:db8::25]"))
put("malformed", req() + "recipient=a@b\nrecipient=c@d\n\n" + req())
put("no-state", "request=smtpd_access_policy\nrecipient=u@gdpr.example\n\nrequest=smtpd_access_policy\nprotocol_state=RCPT\n\n")
PY
