#!/bin/bash
# test_postfix - end to end: swaks sends mail over SMTP to a real Postfix
# on loopback whose smtpd_milters is a running tlspolicyd. Each case
# asserts the SMTP reply swaks saw (code and enhanced code) and the
# decision record tlspolicyd logged for it; accepted recipients must carry
# the queue id Postfix reported, and every connection must leave one
# session record. Needs root (Postfix's master), postfix, swaks (with
# Net::SSLeay for --tls) and openssl. One Postfix and one tlspolicyd serve
# all cases; both are stopped and the scratch dir removed on every exit.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"

# Exempt must not cover 127.0.0.1: swaks connects from loopback.
CONF='
log = { ident = "tlspolicyd-e2e"; format = "kv"; addresses = "full"; };
exempt = { clients = [ "192.0.2.255/32" ]; authenticated = true; };
default = { level = "opportunistic"; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example", ".gdpr.example" ];
    level = "required"; min_tls_version = "TLSv1.2";
    ciphers = "HIGH:!aNULL:!kRSA"; min_cipher_bits = 128; },
  { name = "partner"; sender_domains = [ "partner.example" ]; level = "verified";
    cert_subject = "mx.partner.example"; }
);'
start=$(date +%s)
e2e_start "$CONF" "gdpr.example other.example" || { t_done; exit; }

# ---- 1. plaintext
send c1a --to c1@gdpr.example
refused "plaintext to gdpr" c1@gdpr.example "530 5\.7\.0" plaintext
t_match "plaintext to gdpr: record tls_version=none policy=gdpr" \
    ' policy=gdpr level=required mode=enforce rcpt=c1@gdpr.example .* tls_version=none cipher=- cipher_bits=- ' \
    "$(decision_for c1@gdpr.example)"
t_match "plaintext to gdpr: reply names the recipient" \
    '^530 5\.7\.0 Must issue a STARTTLS command first: mail for <c1@gdpr\.example> \(domain gdpr\.example\) requires TLS$' \
    "$(reply_to_rcpt c1@gdpr.example)"
t_eq "plaintext to gdpr: nothing queued" "" "$(queued_id)"

send c1b --to c1@other.example
accepted "plaintext to other" c1@other.example plaintext_allowed
t_match "plaintext to other: record policy=default tls_version=none" \
    ' policy=default level=opportunistic .* sender=sender@sender\.example sender_domain=sender\.example client_addr=127\.0\.0\.1 client_name=[^ ]+ helo=c1b tls_version=none ' \
    "$(decision_for c1@other.example)"

# ---- 2. one message, two recipients, plaintext: only gdpr refused
send c2 --to c2@gdpr.example,c2@other.example
refused "two recipients" c2@gdpr.example "530 5\.7\.0" plaintext
accepted "two recipients" c2@other.example plaintext_allowed
qid2=$(queued_id)
i=0; while [ $i -lt 50 ] && ! grep -q "$qid2: removed" "$tmp/maillog"; do sleep 0.1; i=$((i + 1)); done
t_match "two recipients: Postfix delivered the other recipient" \
    "postfix/discard\[[0-9]+\]: $qid2: to=<c2@other\.example>, .*status=sent" "$(cat "$tmp/maillog")"
t_nomatch "two recipients: the gdpr recipient was never queued" "$qid2: to=<c2@gdpr\.example>" "$(cat "$tmp/maillog")"
t_match "two recipients: the queue file has one recipient" "$qid2: from=<sender@sender\.example>, .*nrcpt=1 " \
    "$(cat "$tmp/maillog")"

# ---- 3. TLS 1.3
send c3 --tls --to c3@gdpr.example
accepted "TLS 1.3 to gdpr" c3@gdpr.example tls_ok
tls_fields "TLS 1.3 to gdpr" c3@gdpr.example TLSv1.3 TLS_AES_256_GCM_SHA384 256
t_match "TLS 1.3 to gdpr: policy gdpr, no client certificate" \
    ' policy=gdpr(,default)? level=required .* cert_verified=no cert_subject=- cert_issuer=- ' "$(decision_for c3@gdpr.example)"

# ---- 4. TLS 1.2: ECDHE passes, static RSA key exchange does not
send c4a --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES256-GCM-SHA384 --to c4a@gdpr.example
accepted "TLS 1.2 ECDHE to gdpr" c4a@gdpr.example tls_ok
tls_fields "TLS 1.2 ECDHE to gdpr" c4a@gdpr.example TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256

send c4b --tls --tls-protocol tlsv1_2 --tls-cipher AES256-GCM-SHA384 --to c4b@gdpr.example
refused "TLS 1.2 static RSA to gdpr" c4b@gdpr.example "550 5\.7\.0" cipher
tls_fields "TLS 1.2 static RSA to gdpr" c4b@gdpr.example TLSv1.2 AES256-GCM-SHA384 256
t_match "TLS 1.2 static RSA to gdpr: reply names the cipher" \
    '^550 5\.7\.0 TLS protocol or cipher too weak: .*negotiated TLSv1\.2 with AES256-GCM-SHA384' \
    "$(reply_to_rcpt c4b@gdpr.example)"

# ---- 5. TLS 1.1 and 1.0 (Postfix allows them here: >=TLSv1, SECLEVEL=0)
for v in 1_1 1; do
    n=c5-$v; ver=TLSv1; [ "$v" = 1_1 ] && ver=TLSv1.1
    send "$n" --tls --tls-protocol "tlsv$v" --tls-cipher 'AES256-SHA:@SECLEVEL=0' --to "$n@gdpr.example"
    refused "$ver to gdpr" "$n@gdpr.example" "550 5\.7\.0" tls_version
    tls_fields "$ver to gdpr" "$n@gdpr.example" "$ver" AES256-SHA 256
    t_match "$ver to gdpr: reply names the versions" \
        "^550 5\\.7\\.0 TLS protocol or cipher too weak: .*requires TLSv1\\.2 or newer, negotiated $ver\$" \
        "$(reply_to_rcpt "$n@gdpr.example")"
done

# ---- 6. client certificates for the partner policy (sender partner.example)
c="$tmp/certs"
send c6a --tls --tls-cert "$c/client.pem" --tls-key "$c/client.key" \
    --from a@partner.example --to c6a@other.example
accepted "trusted client certificate" c6a@other.example tls_ok
t_match "trusted client certificate: record policy=partner cert_verified=yes cert_subject=CN" \
    ' policy=partner(,default)? level=verified .* sender_domain=partner\.example .* cert_verified=yes cert_subject=mx\.partner\.example cert_issuer="E2E Test CA" ' \
    "$(decision_for c6a@other.example)"
t_match "trusted client certificate: Postfix saw it as trusted" \
    'Trusted TLS connection established from localhost\[127\.0\.0\.1\]' "$(cat "$tmp/maillog")"

send c6b --tls --tls-cert "$c/selfsigned.pem" --tls-key "$c/selfsigned.key" \
    --from a@partner.example --to c6b@other.example
refused "untrusted client certificate" c6b@other.example "550 5\.7\.1" cert_unverified
t_match "untrusted client certificate: record policy=partner cert_verified=no" \
    ' policy=partner level=verified .* tls_version=TLSv1\.3 .* cert_verified=no cert_subject=- ' \
    "$(decision_for c6b@other.example)"
t_match "untrusted client certificate: Postfix saw it as untrusted" \
    'Untrusted TLS connection established from localhost\[127\.0\.0\.1\]' "$(cat "$tmp/maillog")"

send c6c --tls --from a@partner.example --to c6c@other.example
refused "no client certificate" c6c@other.example "550 5\.7\.1" cert_unverified
t_match "no client certificate: record cert_verified=no" \
    ' policy=partner .* cert_verified=no cert_subject=- ' "$(decision_for c6c@other.example)"

# ---- 7. one session record per connection, with its counts
# expect_session HELO MESSAGES ACCEPTED REJECTED TLS_VERSION
expect_session() {
    rec=$(session_for "$1") || { t_bad "session $1: record logged" "$(grep '^event=session' "$tmp/td.log")"; return; }
    t_match "session $1: messages=$2 rcpt_accepted=$3 rcpt_rejected=$4 tls_version=$5" \
        "^event=session .* client_addr=127\\.0\\.0\\.1 .* helo=$1 tls_version=$5 .* messages=$2 rcpt_accepted=$3 rcpt_rejected=$4 rcpt_tempfailed=0 suspected_tls_failure=no " \
        "$rec"
}
expect_session c1a 1 0 1 none
expect_session c1b 1 1 0 none
expect_session c2 1 1 1 none
expect_session c3 1 1 0 TLSv1.3
expect_session c4a 1 1 0 TLSv1.2
expect_session c4b 1 0 1 TLSv1.2
expect_session c5-1_1 1 0 1 TLSv1.1
expect_session c5-1 1 0 1 TLSv1
expect_session c6a 1 1 0 TLSv1.3
expect_session c6b 1 0 1 TLSv1.3
expect_session c6c 1 0 1 TLSv1.3
nsess=$(printf '%s' "$sessions" | wc -w)
t_eq "one session record per connection" "$nsess" "$(grep -c '^event=session ' "$tmp/td.log")"
t_eq "Postfix saw as many connections" "$nsess" "$(grep -c 'postfix/smtpd\[[0-9]*\]: connect from' "$tmp/maillog")"
t_eq "one decision record per recipient" "$decisions" "$(grep -c '^event=decision ' "$tmp/td.log")"
seqs=$(grep -oE '^event=(decision|session) seq=[0-9]+' "$tmp/td.log" | sed 's/.*seq=//' | sort -n | tr '\n' ' ')
t_eq "seq is contiguous from 1" "$(seq 1 $((nsess + decisions)) | tr '\n' ' ')" "$seqs"
t_nomatch "Postfix reported no milter trouble" 'warning: .*[Mm]ilter|milter.*(timeout|error)' "$(cat "$tmp/maillog")"

# ---- 8. tlspolicyd down: Postfix must tempfail (milter_default_action), never accept
td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_match "stop is logged" 'event=notice message=stopped' "$(cat "$tmp/td.log")"
send c8 --to c8@other.example
t_match "milter down: Postfix answers 451 4.7.1" '^<\*\* *451 4\.7\.1 ' "$out"
t_eq "milter down: nothing queued" "" "$(queued_id)"

pf_stop
t_eq "postfix stopped" "" "$(pf_master_pid)"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
echo "# run time $(( $(date +%s) - start )) s"
t_done
