#!/bin/bash
# test_sendmail - end to end: swaks sends mail over SMTP to a real Sendmail
# 8.17 on loopback whose input mail filter is a running tlspolicyd, wired in
# with contrib/sendmail/tlspolicyd.mc and no confMILTER_MACROS_* at all.
# Each case asserts the SMTP reply swaks saw (code and enhanced code) and
# the decision record tlspolicyd logged for it; accepted recipients must
# carry the queue id Sendmail reported, and every connection must leave one
# session record. Sendmail is downloaded and unpacked on first use, never
# installed (see sendmail.sh). Needs root, m4, libwrap0, swaks (with
# Net::SSLeay for --tls), openssl and an apt that can download.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/sendmail.sh"

D="$top_builddir/src/tlspolicyd"
SNIPPET="$top_srcdir/contrib/sendmail/tlspolicyd.mc"

# Exempt must not cover 127.0.0.1: swaks connects from loopback.
CONF='
log = { ident = "tlspolicyd-e2e"; format = "kv"; addresses = "full"; };
exempt = { clients = [ "192.0.2.255/32" ]; authenticated = true; };
default = { level = "opportunistic"; };
fallback = { enabled = false; };   # no state store: every run starts alike
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example", ".gdpr.example" ];
    level = "required"; min_tls_version = "TLSv1.2";
    ciphers = "HIGH:!aNULL:!kRSA"; min_cipher_bits = 128; },
  { name = "partner"; sender_domains = [ "partner.example" ]; level = "verified";
    cert_subject = "mx.partner.example"; }
);'
start=$(date +%s)
sm_setup "$CONF" "$SNIPPET" "gdpr.example other.example" || { t_done; exit; }

# ---- 0. the configuration: the shipped snippet, and no macro lists touched
cf="$tmp/sm/test.cf"
t_match "sendmail.cf has the snippet's filter with F=T and its timeouts" \
    "^Xtlspolicyd, S=inet:$MILTER_PORT@127\\.0\\.0\\.1, F=T, T=C:10s;S:10s;R:10s;E:1m\$" "$(cat "$cf")"
t_nomatch "the .mc sets no confMILTER_MACROS_*" 'confMILTER_MACROS' "$(grep -v '^dnl' "$tmp/sm/test.mc")"
t_nomatch "no Milter.macros list of sendmail.cf names {verify}" '^O Milter\.macros\..*\{verify\}' "$(cat "$cf")"

# ---- 1. plaintext
sm_send c1a --to c1@gdpr.example
t_match "Sendmail offers STARTTLS" '^<- +250[- ]STARTTLS' "$out"
sm_refused "plaintext to gdpr" c1@gdpr.example "530 5\.7\.0" plaintext
t_match "plaintext to gdpr: record policy=gdpr tls_version=none" \
    ' policy=gdpr level=required mode=enforce rcpt=c1@gdpr\.example .* tls_version=none cipher=- cipher_bits=- ' \
    "$(decision_for c1@gdpr.example)"
t_eq "plaintext to gdpr: no message accepted" "" "$(sm_queued_id)"

sm_send c1b --to c1@other.example
sm_accepted "plaintext to other" c1@other.example plaintext_allowed
t_match "plaintext to other: record policy=default tls_version=none" \
    ' policy=default level=opportunistic .* sender=sender@sender\.example sender_domain=sender\.example client_addr=127\.0\.0\.1 client_name=localhost helo=c1b tls_version=none ' \
    "$(decision_for c1@other.example)"

# ---- 2. one message, two recipients, plaintext: only gdpr refused
sm_send c2 --to c2@gdpr.example,c2@other.example
sm_refused "two recipients" c2@gdpr.example "530 5\.7\.0" plaintext
sm_accepted "two recipients" c2@other.example plaintext_allowed
t_eq "two recipients: the refusal carries the same queue id (Sendmail sends {i} with MAIL)" \
    "$(sm_queued_id)" "$(field qid "$(decision_for c2@gdpr.example)")"

# ---- 3. TLS 1.3, no client certificate ({cert_subject} empty, {verify} NO)
sm_send c3 --tls --to c3@gdpr.example
sm_accepted "TLS 1.3 to gdpr" c3@gdpr.example tls_ok
tls_fields "TLS 1.3 to gdpr" c3@gdpr.example TLSv1.3 TLS_AES_256_GCM_SHA384 256
t_match "TLS 1.3 to gdpr: policy gdpr, no client certificate" \
    ' policy=gdpr(,default)? level=required .* cert_verified=no cert_subject=- cert_issuer=- ' \
    "$(decision_for c3@gdpr.example)"

# ---- 4. TLS 1.2: ECDHE passes, static RSA key exchange does not
sm_send c4a --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES256-GCM-SHA384 --to c4a@gdpr.example
sm_accepted "TLS 1.2 ECDHE to gdpr" c4a@gdpr.example tls_ok
tls_fields "TLS 1.2 ECDHE to gdpr" c4a@gdpr.example TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256

sm_send c4b --tls --tls-protocol tlsv1_2 --tls-cipher AES256-GCM-SHA384 --to c4b@gdpr.example
sm_refused "TLS 1.2 static RSA to gdpr" c4b@gdpr.example "550 5\.7\.0" cipher
tls_fields "TLS 1.2 static RSA to gdpr" c4b@gdpr.example TLSv1.2 AES256-GCM-SHA384 256
t_match "TLS 1.2 static RSA to gdpr: reply names the cipher" \
    '^550 5\.7\.0 .*TLS protocol or cipher too weak: .*negotiated TLSv1\.2 with AES256-GCM-SHA384' \
    "$(sm_reply_to 'RCPT TO:<c4b@gdpr.example>')"

# ---- 5. TLS 1.1 and 1.0 (Sendmail allows them here: CipherList ALL:@SECLEVEL=0)
for v in 1_1 1; do
    n=c5-$v; ver=TLSv1; [ "$v" = 1_1 ] && ver=TLSv1.1
    sm_send "$n" --tls --tls-protocol "tlsv$v" --tls-cipher 'AES256-SHA:@SECLEVEL=0' --to "$n@gdpr.example"
    sm_refused "$ver to gdpr" "$n@gdpr.example" "550 5\.7\.0" tls_version
    tls_fields "$ver to gdpr" "$n@gdpr.example" "$ver" AES256-SHA 256
    t_match "$ver to gdpr: reply names the versions" \
        "^550 5\\.7\\.0 .*requires TLSv1\\.2 or newer, negotiated $ver\$" \
        "$(sm_reply_to "RCPT TO:<$n@gdpr.example>")"
done

# ---- 6. client certificates for the partner policy (sender partner.example)
c="$tmp/certs"
sm_send c6a --tls --tls-cert "$c/client.pem" --tls-key "$c/client.key" \
    --from a@partner.example --to c6a@other.example
t_match "trusted client certificate: swaks presented it" '^=== TLS local DN="/O=Partner GmbH/CN=mx\.partner\.example"' "$out"
sm_accepted "trusted client certificate" c6a@other.example tls_ok
t_match "trusted client certificate: record cert_verified=yes, subject and issuer xtext-decoded" \
    ' policy=partner(,default)? level=verified .* sender_domain=partner\.example .* cert_verified=yes cert_subject="/O=Partner GmbH/CN=mx\.partner\.example" cert_issuer="/CN=Sendmail E2E CA" ' \
    "$(decision_for c6a@other.example)"
# With Sendmail, cert_verified=yes can only come from {verify}=OK, and no
# Milter.macros list names {verify} (case 0): tlspolicyd's smfi_setsymlist
# request is what made Sendmail send it.
t_match "{verify} reached tlspolicyd through smfi_setsymlist alone" ' cert_verified=yes ' \
    "$(decision_for c6a@other.example)"

sm_send c6b --tls --tls-cert "$c/selfsigned.pem" --tls-key "$c/selfsigned.key" \
    --from a@partner.example --to c6b@other.example
sm_refused "untrusted client certificate" c6b@other.example "550 5\.7\.1" cert_unverified
t_match "untrusted client certificate: record cert_verified=no though Sendmail sent its subject" \
    ' policy=partner level=verified .* tls_version=TLSv1\.3 .* cert_verified=no cert_subject="/O=Partner GmbH/CN=mx\.partner\.example" ' \
    "$(decision_for c6b@other.example)"

sm_send c6c --tls --from a@partner.example --to c6c@other.example
sm_refused "no client certificate" c6c@other.example "550 5\.7\.1" cert_unverified
t_match "no client certificate: record cert_verified=no cert_subject=-" \
    ' policy=partner .* cert_verified=no cert_subject=- cert_issuer=- ' "$(decision_for c6c@other.example)"

# ---- 7. one session record per connection (STARTTLS does not make a second one)
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
nsess=$(printf '%s' "$session_fors" | wc -w)
t_eq "one session record per connection" "$nsess" "$(grep -c '^event=session ' "$tmp/td.log")"
t_eq "one decision record per recipient" "$decisions" "$(grep -c '^event=decision ' "$tmp/td.log")"
seqs=$(grep -oE '^event=(decision|session) seq=[0-9]+' "$tmp/td.log" | sed 's/.*seq=//' | sort -n | tr '\n' ' ')
t_eq "seq is contiguous from 1" "$(seq 1 $((nsess + decisions)) | tr '\n' ' ')" "$seqs"
t_eq "Sendmail delivered everything it accepted (queue empty)" "" "$(ls -A "$tmp/queue")"

# ---- 8. tlspolicyd down: F=T makes Sendmail tempfail, never accept
td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_match "stop is logged" 'event=notice message=stopped' "$(cat "$tmp/td.log")"
sm_send c8 --to c8@other.example
t_match "milter down: Sendmail answers 451 4.3.2 (F=T)" '^451 4\.3\.2 ' "$(sm_reply_to 'MAIL FROM:<sender@sender.example>')"
t_eq "milter down: nothing accepted" "" "$(sm_queued_id)"

sm_stop
t_eq "sendmail stopped" "" "$(listening "$SMTP_PORT" && echo listening)"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
echo "# run time $(( $(date +%s) - start )) s"
t_done
