#!/bin/bash
# test_diagnose - end to end, the incident `tlspolicy-report --diagnose`
# exists for (issue 12): a sender whose TLS 1.2 client offers only
# RSA-authenticated suites delivers over TLS to a required-TLS recipient;
# the server's certificate is then switched to ECDSA P-384 only; the same
# client's handshake fails with "no shared cipher" (Postfix logs it, the
# milter only sees connect, EHLO, close), it comes back in plaintext and is
# refused 530 5.7.0. The mail log as a syslog daemon files it must then
# give a diagnosis that names the client, the failure reason, the refused
# recipient and the remedy: an RSA certificate beside the ECDSA one
# (smtpd_tls_chain_files).
#
# The logging is production's: Postfix and tlspolicyd (default facility
# mail) both write with syslog(3) to /dev/log, where a real rsyslogd files
# them, time-stamped, into one mail.log (RSYSLOG_FileFormat, as Debian 12's
# /var/log/mail.log) and a traditional copy. --diagnose needs those time
# stamps: it places records and MTA failures in time, and leaves out lines
# without one (tlspolicyd's stderr). One file written by one daemon also
# means one clock and no maillog_file beside syslog. The machine's logging
# is never touched: the test runs itself again in a mount namespace of its
# own whose /dev is a private tmpfs (tests/e2e/rsyslog.sh explains how).
# The outer run checks afterwards that the machine's /dev/log is as it was
# and that nothing of the test is left running.
#
# The three sessions are one client: 127.0.0.1, EHLO mx.gateway.example,
# the same swaks. The certificate checks (pf_served_key) come from
# 127.0.0.2, a client of their own. Same setup as test_postfix.sh (root,
# postfix, swaks with Net::SSLeay, openssl) plus unshare, mount, jq and
# rsyslogd (installed, or Debian's .deb unpacked: rs_find_rsyslogd);
# everything is stopped and removed on exit. The filed logs are copied to
# $DIAGNOSE_LOG_DIR (default: the build's tests/e2e) as diagnose.mail.log
# and diagnose.mail.trad.log; the paths and the diagnosis are printed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/rsyslog.sh"

D="$top_builddir/src/tlspolicyd"
R="$top_builddir/src/report/tlspolicy-report"
TD_IDENT=tlspolicyd-e2e
# rsyslogd files the lines as from host mx (rs_start), as a mail server's log reads
RS_HOST=mx
HELO=mx.gateway.example
RCPT=d@gdpr.example

# ---- outside: run the test in its own namespace, then check the machine
if ! rs_inside; then
    rs_outer "$0" "$@"
    exit
fi

# ---- inside the namespace
# The suites a large hosted gateway offered in such an incident (issue 12),
# less those this OpenSSL cannot offer at all (RC4-SHA and DES-CBC3-SHA in
# OpenSSL 3: "no cipher match"); swaks would drop them silently anyway.
ISSUE_SUITES='ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-SHA384
ECDHE-RSA-AES128-SHA256 ECDHE-RSA-AES256-SHA ECDHE-RSA-AES128-SHA AES256-GCM-SHA384 AES128-GCM-SHA256
AES256-SHA256 AES128-SHA256 AES256-SHA AES128-SHA RC4-SHA DES-CBC3-SHA'

# Exempt must not cover 127.0.0.1: swaks connects from loopback. No
# facility: tlspolicyd's default, mail, files the records beside Postfix's.
CONF="
log = { ident = \"$TD_IDENT\"; format = \"kv\"; addresses = \"full\"; };
exempt = { clients = [ \"192.0.2.255/32\" ]; authenticated = true; };
default = { level = \"opportunistic\"; };
policies = (
  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\" ]; level = \"required\"; }
);"

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

# filed - tlspolicyd's lines in mail.log, as filed, without the syslog prefix
filed() { rs_msgs "$RS_OUT/mail.log" 2>/dev/null; }

# records EVENT - the gateway's filed records of EVENT (decision, session), in order
records() { filed | grep "^event=$1 .* helo=$HELO "; }

# wait_records EVENT N - until N records of the gateway's EVENT are filed, at most 5 s
wait_records() {
    i=0
    while [ $i -lt 50 ] && [ "$(records "$1" | wc -l)" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(records "$1" | wc -l)" -ge "$2" ]
}

# pf_log - Postfix's lines in mail.log, as filed
pf_log() { grep -a ' postfix/[a-z/-]*\[[0-9]*\]: ' "$RS_OUT/mail.log" 2>/dev/null; }

# wait_maillog REGEX - until Postfix's filed lines have one matching REGEX, at most 5 s
wait_maillog() {
    i=0
    while [ $i -lt 50 ] && ! pf_log | grep -Eq -- "$1"; do sleep 0.1; i=$((i + 1)); done
}

# next_second - wait until the clock is in the next second. --diagnose
# places events to the second (traditional syslog time stamps have no
# more), and a decision over TLS in the same second as the first failure
# counts as after the break; in a real incident hours lie between them.
next_second() {
    s=$(date +%s)
    while [ "$(date +%s)" = "$s" ]; do sleep 0.05; done
}

# client_block KEY - the lines of client KEY in the text diagnosis $diag
client_block() {
    printf '%s\n' "$diag" | awk -v k="  $1" '$0 == k { on = 1; next } on && !/^    / { on = 0 } on'
}

start=$(date +%s)
t_need jq
SUITES=$(rsa_only_suites)
t_eq "this OpenSSL offers the issue's suites but RC4-SHA and DES-CBC3-SHA" \
    "$(printf '%s\n' "$ISSUE_SUITES" | tr ' ' '\n' | grep -v -e RC4-SHA -e DES-CBC3-SHA | paste -sd:)" "$SUITES"
t_nomatch "the list has no ECDSA-authenticated suite" 'Au=ECDSA' "$(openssl ciphers -v -tls1_2 "$SUITES" 2>&1)"
rs_e2e_start "$CONF" "gdpr.example" syslog || { rs_counts; exit; }
t_eq "/dev/log here is a socket of our own" "socket" "$(stat -c %F /dev/log)"
e2e_ec_cert ec384 P-384 || { t_bad "ECDSA P-384 certificate" "$(tail -n 20 "$tmp/certs.log")"; rs_counts; exit; }
t_eq "Postfix serves the RSA certificate" "rsaEncryption 2048" "$(pf_served_key)"
wait_maillog 'postfix/master\[[0-9]+\]: daemon started'
t_match "Postfix logs through syslog into mail.log" 'postfix/master\[[0-9]+\]: daemon started' "$(pf_log)"
t_eq "Postfix has no maillog_file" "" "$(postconf -c "$tmp/pf" -h maillog_file)"

# ---- 1. RSA certificate: the gateway delivers over TLS 1.2
gateway --tls
accepted "RSA certificate" "$RCPT" tls_ok
tls_fields "RSA certificate" "$RCPT" TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 256
wait_records decision 1 || t_bad "the TLS decision is filed" "$(cat "$RS_OUT/mail.log")"
t_match "RSA certificate: the gdpr policy (required) decided" \
    " policy=gdpr(,default)? level=required mode=enforce rcpt=$RCPT " "$(records decision | sed -n 1p)"
next_second

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
log=$(pf_log)
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
wait_records session 3 || t_bad "three session records of $HELO filed" "$(cat "$RS_OUT/mail.log")"
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
while [ $i -lt 50 ] && [ "$(filed | grep -c '^event=session ')" -lt "$(pf_log | grep -c 'smtpd\[[0-9]*\]: connect from')" ]; do
    sleep 0.1; i=$((i + 1))
done
t_eq "one session record per connection Postfix saw" "$(pf_log | grep -c 'smtpd\[[0-9]*\]: connect from')" \
    "$(filed | grep -c '^event=session ')"
t_eq "the certificate checks' sessions are 127.0.0.2's" \
    "$(pf_log | grep -c 'smtpd\[[0-9]*\]: connect from [^ ]*\[127\.0\.0\.2\]')" \
    "$(filed | grep -c '^event=session .* client_addr=127\.0\.0\.2 .* helo=certcheck\.e2e\.test ')"
t_nomatch "the certificate checks left no lost connection" 'lost connection after .* from [^ ]*\[127\.0\.0\.2\]' "$(pf_log)"
t_nomatch "Postfix reported no milter trouble" 'warning: .*[Mm]ilter|milter.*(timeout|error)' "$(pf_log)"

# ---- everything filed: stop tlspolicyd (its "stopped" notice is its
# last line), Postfix, then rsyslogd, which closes its files
td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
pf_stop
i=0
while [ $i -lt 50 ] && ! filed | grep -q '^event=notice message=stopped$'; do sleep 0.1; i=$((i + 1)); done
rs_stop
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
t_eq "rsyslog filed every line tlspolicyd wrote, same text, same order" \
    "$(grep -a '^event=' "$tmp/td.log")" "$(filed)"
t_eq "the traditional mail.log has the same lines" "$(cut -d' ' -f2- "$RS_OUT/mail.log")" \
    "$(sed 's/^[A-Z][a-z][a-z] [ 1-3][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] //' "$RS_OUT/mail.trad.log")"
t_eq "nothing of Postfix or tlspolicyd filed outside mail.log" "" \
    "$(grep -a -E " (postfix/[a-z/-]*|$TD_IDENT)\\[[0-9]+\\]: " "$RS_OUT/other.log")"
t_eq "rsyslogd reported no trouble" "" "$(grep -a -v '\] start$\|\] exiting on signal 15\.$' "$RS_OUT/other.log")"
t_eq "every line of mail.log is RFC 3339 time, our hostname, a program[pid]" 0 \
    "$(grep -a -c -v -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+[+-][0-9]{2}:[0-9]{2} $RS_HOST [^ ]+\[[0-9]+\]: " "$RS_OUT/mail.log")"

# ---- 4. the diagnosis, from the filed mail.log alone
ml="$RS_OUT/mail.log"
year=$(date +%Y)
diag=$("$R" --ident "$TD_IDENT" --diagnose --year "$year" "$ml" 2>"$tmp/diag.err"); rc=$?
t_eq "tlspolicy-report --diagnose exits 0, nothing on stderr" "0 " "$rc $(cat "$tmp/diag.err")"
echo "# tlspolicy-report --diagnose $(basename "$ml") said:"
printf '%s\n' "$diag" | sed 's/^/#   /'
# Postfix names 127.0.0.1 "localhost" (/etc/hosts), which has no
# registered domain: the client is its address.
t_eq "Postfix named 127.0.0.1 localhost" localhost "$name"
t_eq "diagnosis: every line placed in time, one failure read" \
    "  read: 1 handshake failures, 0 closed after STARTTLS, 0 failure lines refused; without a time stamp, left out: 0 failures, 0 decision records" \
    "$(printf '%s\n' "$diag" | grep '^  read: ')"
t_eq "diagnosis: one client, 127.0.0.1 (the certificate checks are no incident)" "  127.0.0.1" \
    "$(printf '%s\n' "$diag" | sed -n '/^Diagnosis (by client domain):$/,$p' | grep -E '^  [^ ]' | grep -v '^  read: ')"
b=$(client_block 127.0.0.1)
T='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}'
t_match "diagnosis: last TLS, TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" \
    "^    last TLS: +$T TLSv1\\.2 ECDHE-RSA-AES256-GCM-SHA384\$" "$b"
t_match "diagnosis: implies only RSA-authenticated suites" \
    '^    implies: +only RSA-authenticated suites seen: an ECDSA-only server certificate leaves no shared cipher$' "$b"
t_match "diagnosis: first failure, Postfix's no shared cipher" \
    "^    first failure: +$T postfix on $RS_HOST, 127\\.0\\.0\\.1: no shared cipher\$" "$b"
t_match "diagnosis: one failure" '^    failures: +1 \(no shared cipher 1\)$' "$b"
t_match "diagnosis: no TLS after the failure" '^    TLS after the failure: +0$' "$b"
t_match "diagnosis: plaintext after the failure, rejected 1" \
    "^    plaintext after the failure: +1, first $T; rejected 1, deferred 0\$" "$b"
t_match "diagnosis: the refused recipient $RCPT" "^    refused recipients: +$RCPT 1\$" "$b"
t_match "diagnosis: the cause, no RSA certificate any more" \
    '^    cause: +last negotiated only RSA-authenticated suites, now fails with "no shared cipher": our server no longer offers an RSA certificate$' "$b"
t_match "diagnosis: the remedy, an RSA certificate in smtpd_tls_chain_files" \
    '^    remedy: +serve an RSA certificate beside the ECDSA one \(Postfix smtpd_tls_chain_files, ' "$b"
# The order in time: the times share one format and zone, so text order is time order.
at_tls=$(printf '%s\n' "$b" | sed -n 's/^    last TLS: *\([^ ]*\) .*/\1/p')
at_fail=$(printf '%s\n' "$b" | sed -n 's/^    first failure: *\([^ ]*\) .*/\1/p')
at_plain=$(printf '%s\n' "$b" | sed -n 's/^    plaintext after the failure: *1, first \([^;]*\);.*/\1/p')
if [ -n "$at_tls" ] && [[ "$at_tls" < "$at_fail" ]] && ! [[ "$at_plain" < "$at_fail" ]]; then
    t_ok "diagnosis: last TLS < first failure <= first plaintext"
else
    t_bad "diagnosis: last TLS < first failure <= first plaintext" "$at_tls, $at_fail, $at_plain"
fi

# The same from the traditional format (no year, the reader's zone).
trad=$("$R" --ident "$TD_IDENT" --diagnose --year "$year" "$RS_OUT/mail.trad.log" 2>&1); rc=$?
t_eq "diagnosis: the traditional mail.log gives the same text" "0 $diag" "$rc $trad"

# json: the same client and facts, and the pattern by name
json=$("$R" --ident "$TD_IDENT" -f json --diagnose --year "$year" "$ml" 2>"$tmp/diag.err"); rc=$?
t_eq "json --diagnose exits 0, nothing on stderr" "0 " "$rc $(cat "$tmp/diag.err")"
t_eq "json: diagnosis_input, every line placed in time" "1 0 0 0" \
    "$(jq -r '.diagnosis_input | "\(.failures) \(.refused_lines) \(.failures_without_time) \(.records_without_time)"' <<<"$json")"
t_eq "json: one client, 127.0.0.1, its facts, the refused recipient, pattern rsa_certificate" \
    "127.0.0.1 TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 no shared cipher 1 1 d@gdpr.example=1 rsa_certificate" \
    "$(jq -r '.diagnosis[] | [.client, .last_tls_version, .last_cipher, .first_failure.reason, .plaintext_after,
        .rejected_after, (.refused_recipients | to_entries | map("\(.key)=\(.value)") | join(",")),
        (.causes | map(.pattern) | join(","))] | join(" ")' <<<"$json" 2>&1)"
t_match "json: the remedy names smtpd_tls_chain_files" 'smtpd_tls_chain_files' \
    "$(jq -r '.diagnosis[] | select(.client == "127.0.0.1") | .causes[].remedy' <<<"$json" 2>&1)"

# ---- keep the filed logs, real input for the report's own tests
keep="${DIAGNOSE_LOG_DIR:-$top_builddir/tests/e2e}"
if mkdir -p "$keep" && cp "$ml" "$keep/diagnose.mail.log" && cp "$RS_OUT/mail.trad.log" "$keep/diagnose.mail.trad.log"; then
    echo "# logs: $keep/diagnose.mail.log (RFC 3339), $keep/diagnose.mail.trad.log (traditional): Postfix and tlspolicyd as rsyslogd filed them"
else
    t_bad "logs kept in $keep" "copy failed"
fi
echo "# inner run time $(( $(date +%s) - start )) s"
rs_counts
