#!/bin/bash
# test_diagnose - end to end, the incident `tlspolicy-report --diagnose`
# exists for (issue 12): a sender whose TLS 1.2 client offers only
# RSA-authenticated suites delivers over TLS to a required-TLS recipient;
# the server's certificate is then switched to ECDSA P-384 only; the same
# client's handshake fails with "no shared cipher" (Postfix logs it, the
# milter only sees connect, EHLO, close), it comes back in plaintext and is
# refused 530 5.7.0. The real Postfix maillog_file and tlspolicyd's records
# must then give a diagnosis that names the client, the failure reason, the
# refused recipient and the remedy: an RSA certificate beside the ECDSA one
# (smtpd_tls_chain_files).
#
# The three sessions are one client: 127.0.0.1, EHLO mx.gateway.example,
# the same swaks. The certificate checks (pf_served_key) come from
# 127.0.0.2, a client of their own. Same setup as test_postfix.sh (root,
# postfix, swaks with Net::SSLeay, openssl); everything is stopped and
# removed on exit. Postfix's log and the records are copied to
# $DIAGNOSE_LOG_DIR (default: the build's tests/e2e) as diagnose.maillog and
# diagnose.records.log; the paths are printed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"
R="$top_builddir/src/report/tlspolicy-report"
HELO=mx.gateway.example
RCPT=d@gdpr.example

# The suites a large hosted gateway offered in such an incident (issue 12),
# less those this OpenSSL cannot offer at all (RC4-SHA and DES-CBC3-SHA in
# OpenSSL 3: "no cipher match"); swaks would drop them silently anyway.
ISSUE_SUITES='ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-SHA384
ECDHE-RSA-AES128-SHA256 ECDHE-RSA-AES256-SHA ECDHE-RSA-AES128-SHA AES256-GCM-SHA384 AES128-GCM-SHA256
AES256-SHA256 AES128-SHA256 AES256-SHA AES128-SHA RC4-SHA DES-CBC3-SHA'

# Exempt must not cover 127.0.0.1: swaks connects from loopback.
CONF='
log = { ident = "tlspolicyd-e2e"; format = "kv"; addresses = "full"; };
exempt = { clients = [ "192.0.2.255/32" ]; authenticated = true; };
default = { level = "opportunistic"; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; }
);'

# rsa_only_suites - ISSUE_SUITES as one list, each checked by openssl ciphers
rsa_only_suites() {
    list=""
    for s in $ISSUE_SUITES; do
        openssl ciphers -tls1_2 "$s" >/dev/null 2>&1 || continue
        list="$list${list:+:}$s"
    done
    printf '%s\n' "$list"
}

# gateway [--tls] - one session of the gateway: swaks, TLS 1.2, RSA-only
# suites, EHLO $HELO, to $RCPT; the transcript in $out and $tmp/gwN.out
gw_n=0
gateway() {
    gw_n=$((gw_n + 1))
    if [ "${1:-}" = --tls ]; then
        send "$HELO" --tls --tls-protocol tlsv1_2 --tls-cipher "$SUITES" --to "$RCPT"
    else
        send "$HELO" --to "$RCPT"
    fi
    mv "$tmp/$HELO.out" "$tmp/gw$gw_n.out"
}

# records EVENT - the gateway's records of EVENT (decision, session), in order
records() { grep "^event=$1 .* helo=$HELO " "$tmp/td.log"; }

# wait_records EVENT N - until the gateway has N records of EVENT, at most 5 s
wait_records() {
    i=0
    while [ $i -lt 50 ] && [ "$(records "$1" | wc -l)" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(records "$1" | wc -l)" -ge "$2" ]
}

# wait_maillog REGEX - until Postfix's log has a line matching REGEX, at most 5 s
wait_maillog() {
    i=0
    while [ $i -lt 50 ] && ! grep -Eq -- "$1" "$tmp/maillog"; do sleep 0.1; i=$((i + 1)); done
}

start=$(date +%s)
SUITES=$(rsa_only_suites)
t_eq "this OpenSSL offers the issue's suites but RC4-SHA and DES-CBC3-SHA" \
    "$(printf '%s\n' "$ISSUE_SUITES" | tr ' ' '\n' | grep -v -e RC4-SHA -e DES-CBC3-SHA | paste -sd:)" "$SUITES"
t_nomatch "the list has no ECDSA-authenticated suite" 'Au=ECDSA' "$(openssl ciphers -v -tls1_2 "$SUITES" 2>&1)"
e2e_start "$CONF" "gdpr.example" || { t_done; exit; }
e2e_ec_cert ec384 P-384 || { t_bad "ECDSA P-384 certificate" "$(tail -n 20 "$tmp/certs.log")"; t_done; exit; }
t_eq "Postfix serves the RSA certificate" "rsaEncryption 2048" "$(pf_served_key)"

# ---- 1. RSA certificate: the gateway delivers over TLS 1.2
gateway --tls
accepted "RSA certificate" "$RCPT" tls_ok
tls_fields "RSA certificate" "$RCPT" TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256
t_match "RSA certificate: the gdpr policy (required) decided" \
    " policy=gdpr(,default)? level=required mode=enforce rcpt=$RCPT " "$(records decision | sed -n 1p)"

# ---- 2. ECDSA P-384 only: the same client fails the handshake
pf_set "smtpd_tls_cert_file=$tmp/certs/ec384.pem" "smtpd_tls_key_file=$tmp/certs/ec384.key" ||
    t_bad "postconf and postfix reload" "$(tail -n 20 "$tmp/postfix-start.log")"
if pf_wait_key "id-ecPublicKey 384"; then
    t_ok "after reload Postfix serves the ECDSA P-384 certificate"
else
    t_bad "after reload Postfix serves the ECDSA P-384 certificate" "served: $(pf_served_key)"
fi
gateway --tls
t_match "ECDSA only: swaks's handshake fails" '^\*\*\* TLS startup failed' "$out"
t_nomatch "ECDSA only: no TLS session" '^=== TLS started' "$out"
t_nomatch "ECDSA only: no RCPT sent" 'RCPT TO:' "$out"
fail_re='postfix/smtpd\[([0-9]+)\]: SSL_accept error from [^ ]+\[127\.0\.0\.1\]: '
wait_maillog 'lost connection after STARTTLS from [^ ]+\[127\.0\.0\.1\]'
log=$(cat "$tmp/maillog")
t_match "ECDSA only: Postfix logged the SSL_accept error" "$fail_re" "$log"
pid=$(printf '%s\n' "$log" | grep -E "$fail_re" | grep -oE 'smtpd\[[0-9]+\]' | tr -dc 0-9 | head -c 12)
t_match "ECDSA only: ...and OpenSSL's reason, no shared cipher (same smtpd)" \
    "postfix/smtpd\\[$pid\\]: warning: TLS library problem: error:[0-9A-F]+:SSL routines:[^ ]*:no shared cipher" "$log"
t_match "ECDSA only: ...and the lost connection (same smtpd)" \
    "postfix/smtpd\\[$pid\\]: lost connection after STARTTLS from [^ ]+\\[127\\.0\\.0\\.1\\]" "$log"
t_eq "ECDSA only: one handshake failure in the log" 1 "$(printf '%s\n' "$log" | grep -cE "$fail_re")"

# ---- 3. the gateway falls back to plaintext and is refused
gateway
refused "plaintext after the failure" "$RCPT" "530 5\.7\.0" plaintext

# The records, in order: decisions tls_ok then plaintext; sessions TLS,
# the failed handshake (EHLO, no TLS, no MAIL: the milter never saw TLS),
# and the plaintext one, flagged suspected_tls_failure=yes: the session
# before it from 127.0.0.1 was exactly that pattern (the certificate checks
# come from 127.0.0.2 and leave their pattern under that address only).
wait_records session 3 || t_bad "three session records of $HELO" "$(cat "$tmp/td.log")"
dec=$(records decision)
t_eq "two decisions for $RCPT" 2 "$(printf '%s\n' "$dec" | grep -c " rcpt=$RCPT ")"
t_match "plaintext: record policy=gdpr tls_version=none" \
    " action=reject would=- reason=plaintext policy=gdpr(,default)? level=required mode=enforce rcpt=$RCPT .* client_addr=127\\.0\\.0\\.1 client_name=[^ ]+ helo=$HELO tls_version=none cipher=- " \
    "$(printf '%s\n' "$dec" | sed -n 2p)"
name=$(field client_name "$(printf '%s\n' "$dec" | sed -n 1p)")
echo "# Postfix named the client \"$name\" (client_addr=127.0.0.1)"
t_eq "both decisions name the same client" "$name $name" \
    "$(printf '%s\n' "$dec" | while read -r r; do field client_name "$r"; done | paste -sd' ')"
ses=$(records session)
sess_re() {
    printf '%s' "^event=session .* client_addr=127\\.0\\.0\\.1 client_name=$name helo=$HELO tls_version=$1 .* messages=$2 rcpt_accepted=$3 rcpt_rejected=$4 rcpt_tempfailed=0 suspected_tls_failure=$5 "
}
t_match "session 1: TLSv1.2, one recipient accepted" "$(sess_re TLSv1\\.2 1 1 0 no)" "$(printf '%s\n' "$ses" | sed -n 1p)"
t_match "session 2 (failed handshake): no TLS, no message" "$(sess_re none 0 0 0 no)" "$(printf '%s\n' "$ses" | sed -n 2p)"
t_match "session 3: plaintext, refused, suspected_tls_failure=yes" "$(sess_re none 1 0 1 yes)" \
    "$(printf '%s\n' "$ses" | sed -n 3p)"

# Every connection left one session record; Postfix saw no milter trouble.
i=0
while [ $i -lt 50 ] && [ "$(grep -c '^event=session ' "$tmp/td.log")" -lt "$(grep -c 'smtpd\[[0-9]*\]: connect from' "$tmp/maillog")" ]; do
    sleep 0.1; i=$((i + 1))
done
t_eq "one session record per connection Postfix saw" "$(grep -c 'smtpd\[[0-9]*\]: connect from' "$tmp/maillog")" \
    "$(grep -c '^event=session ' "$tmp/td.log")"
t_eq "the certificate checks' sessions are 127.0.0.2's" \
    "$(grep -c 'smtpd\[[0-9]*\]: connect from [^ ]*\[127\.0\.0\.2\]' "$tmp/maillog")" \
    "$(grep -c '^event=session .* client_addr=127\.0\.0\.2 .* helo=certcheck\.e2e\.test ' "$tmp/td.log")"
t_nomatch "the certificate checks left no lost connection" 'lost connection after .* from [^ ]*\[127\.0\.0\.2\]' "$(cat "$tmp/maillog")"
t_nomatch "Postfix reported no milter trouble" 'warning: .*[Mm]ilter|milter.*(timeout|error)' "$(cat "$tmp/maillog")"

td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
pf_stop
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"

# ---- 4. the diagnosis, from Postfix's log and the records (bare lines,
# as `journalctl -o cat` gives them: tlspolicyd -f writes no time stamps)
diag=$("$R" --diagnose --year "$(date +%Y)" "$tmp/maillog" "$tmp/td.log" 2>"$tmp/diag.err"); rc=$?
t_eq "tlspolicy-report --diagnose exits 0" "0 " "$rc $(cat "$tmp/diag.err")"
t_match "diagnosis: names the client 127.0.0.1" '127\.0\.0\.1' "$diag"
t_match "diagnosis: last successful TLS, TLSv1.2 with ECDHE-RSA-AES256-GCM-SHA384" \
    'TLSv1\.2.*ECDHE-RSA-AES256-GCM-SHA384|ECDHE-RSA-AES256-GCM-SHA384.*TLSv1\.2' "$diag"
t_match "diagnosis: the failure reason, no shared cipher" 'no shared cipher' "$diag"
t_match "diagnosis: the refused recipient $RCPT" "$RCPT" "$diag"
t_match "diagnosis: the remedy, an RSA certificate" 'RSA certificate' "$diag"
t_match "diagnosis: ...in Postfix's smtpd_tls_chain_files" 'smtpd_tls_chain_files' "$diag"
t_nomatch "diagnosis: the certificate checks are no incident" '127\.0\.0\.2' "$diag"
[ "$t_fail" -eq 0 ] || { echo "# --diagnose said:"; printf '%s\n' "$diag" | sed 's/^/#   /'; }

# ---- keep the logs, real input for the report's own tests
keep="${DIAGNOSE_LOG_DIR:-$top_builddir/tests/e2e}"
if mkdir -p "$keep" && cp "$tmp/maillog" "$keep/diagnose.maillog" && cp "$tmp/td.log" "$keep/diagnose.records.log"; then
    echo "# logs: $keep/diagnose.maillog (Postfix), $keep/diagnose.records.log (tlspolicyd, bare lines)"
else
    t_bad "logs kept in $keep" "copy failed"
fi
echo "# run time $(( $(date +%s) - start )) s"
t_done
