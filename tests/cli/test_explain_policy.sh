#!/bin/sh
# test_explain_policy - tlspolicyd --explain-policy-request FILE|- as an
# administrator runs it on requests copied from a Postfix log or a capture:
# one action line per request, then the decision records the daemon would
# log; a malformed request is answered as the service answers it (exit 1);
# a file that cannot be read is exit 2.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/t.conf" <<'CONF'
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; min_tls_version = "TLSv1.2"; },
  { name = "soft"; recipient_domains = [ "soft.example" ]; level = "required"; action = "tempfail"; }
);
CONF

# req ATTR=VALUE... - one Postfix RCPT request (plaintext) with these attributes over it
req() {
    python3 - "$@" <<'PY'
import sys
a = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
     "helo_name": "mx.sender.example", "queue_id": "", "sender": "a@sender.example", "recipient": "",
     "client_address": "192.0.2.7", "client_name": "mx.sender.example", "client_port": "40000",
     "instance": "I1", "encryption_protocol": "", "encryption_cipher": "", "encryption_keysize": "0"}
for kv in sys.argv[1:]:
    k, _, v = kv.partition("=")
    a[k] = v
sys.stdout.write("".join("%s=%s\n" % kv for kv in a.items()) + "\n")
PY
}

t_need python3
no_tls='Must issue a STARTTLS command first: mail for <u@gdpr.example> (domain gdpr.example) requires TLS'

# Two requests in a file: a refusal at once, an acceptance at the end of its message.
{ req recipient=u@gdpr.example; req recipient=v@other.example queue_id=Q1; } >"$tmp/two"
out=$("$D" -c "$tmp/t.conf" --explain-policy-request "$tmp/two"); rc=$?
t_eq "a file of two requests: exit 0" 0 "$rc"
t_eq "one action line per request, in order" "action=530 5.7.0 $no_tls
action=DUNNO" "$(printf '%s\n' "$out" | grep '^action=')"
t_match "the refusal's record, as the daemon logs it" \
    "^event=decision seq=1 instance=explain config=[0-9a-f]{12} qid=- action=reject would=- reason=plaintext policy=gdpr .* rcpt=u@gdpr.example .* client_addr=192\.0\.2\.7 client_name=mx\.sender\.example helo=mx\.sender\.example tls_version=none cipher=- cipher_bits=- .* reply=\"530 5\.7\.0 Must issue a STARTTLS command first: mail for <u@gdpr\.example> \(domain gdpr\.example\) requires TLS\"$" \
    "$out"
t_match "the accepted recipient's record, with the queue id it was given" \
    '^event=decision seq=2 .* qid=Q1 action=accept would=- reason=plaintext_allowed policy=default .* rcpt=v@other\.example ' "$out"
t_eq "two records and no session record (no connection ever was)" 2 "$(printf '%s\n' "$out" | grep -c '^event=')"
t_nomatch "no notice for well-formed requests" '^notice:' "$out"

# stdin: the same answer.
out2=$("$D" -c "$tmp/t.conf" --explain-policy-request - <"$tmp/two"); rc=$?
t_eq "- reads stdin: exit 0" 0 "$rc"
t_eq "- reads stdin: the same output as the file" "$out" "$out2"

# A message over TLS, then a plaintext session (another client port) whose
# last request lacks its empty line (the end of the input ends it).
tls="encryption_protocol=TLSv1.3 encryption_cipher=TLS_AES_256_GCM_SHA384 encryption_keysize=256"
{ req recipient=u@gdpr.example $tls
  req protocol_state=END-OF-MESSAGE queue_id=Q1 $tls
  req recipient=s@soft.example client_port=40001 instance=I2
  req protocol_state=END-OF-MESSAGE client_port=40001 instance=I2 queue_id=Q2 | sed '$d'; } >"$tmp/tls"
out=$("$D" -c "$tmp/t.conf" --explain-policy-request "$tmp/tls"); rc=$?
t_eq "TLS, then tempfail, the last request without its empty line: exit 0" 0 "$rc"
t_eq "DUNNO over TLS 1.3, 450 4.7.0 in plaintext" "action=DUNNO
action=DUNNO
action=450 4.7.0 Must issue a STARTTLS command first: mail for <s@soft.example> (domain soft.example) requires TLS
action=DUNNO" "$(printf '%s\n' "$out" | grep '^action=')"
t_match "the TLS record names the protocol and cipher" \
    '^event=decision seq=1 .* qid=Q1 action=accept would=- reason=tls_ok policy=gdpr,default .* rcpt=u@gdpr\.example .* tls_version=TLSv1\.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256 ' "$out"
t_match "the tempfail record, plaintext" \
    '^event=decision seq=3 .* qid=- action=tempfail would=- reason=plaintext policy=soft .* rcpt=s@soft\.example .* tls_version=none cipher=- cipher_bits=- ' "$out"

# Malformed: answered as the service answers it, and the reason; nothing after it is read.
{ req recipient=u@gdpr.example; printf 'request=smtpd_access_policy\nrecipient\n\n'; req recipient=w@gdpr.example; } >"$tmp/bad"
out=$("$D" -c "$tmp/t.conf" --explain-policy-request "$tmp/bad"); rc=$?
t_eq "a malformed request: exit 1" 1 "$rc"
t_eq "the requests before it answered, then DEFER_IF_PERMIT, then nothing" "action=530 5.7.0 $no_tls
action=DEFER_IF_PERMIT 4.3.5 Malformed policy request" "$(printf '%s\n' "$out" | grep '^action=')"
t_match "the reason is printed" "^notice: policy service: malformed request refused: line 2: no '=' in \"recipient\"$" "$out"
t_nomatch "the request after it is not decided" 'w@gdpr\.example' "$out"
printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=u@gdpr.example\r\n\n' >"$tmp/cr"
out=$("$D" -c "$tmp/t.conf" --explain-policy-request - <"$tmp/cr"); rc=$?
t_eq "a CR-LF request on stdin: exit 1" 1 "$rc"
t_match "refused for its CR" '^notice: .*ends in CR' "$out"
head -c 5000 /dev/zero | tr '\0' x | sed 's/^/recipient=/' >"$tmp/long"
printf '\n\n' >>"$tmp/long"
out=$("$D" -c "$tmp/t.conf" --explain-policy-request "$tmp/long"); rc=$?
t_eq "a line of 5000 bytes: exit 1" 1 "$rc"
t_match "refused as the server refuses it" '^notice: .*line longer than 4161 bytes' "$out"

# A file that cannot be read.
err=$("$D" -c "$tmp/t.conf" --explain-policy-request "$tmp/missing" 2>&1 >/dev/null); rc=$?
t_eq "a missing file: exit 2" 2 "$rc"
t_match "it is named" "$tmp/missing: No such file or directory" "$err"

t_done
