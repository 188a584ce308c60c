#!/bin/sh
# test_spellings_postfix - every spelling of spellings.txt as the argument of
# RCPT TO in one plaintext session through a real Postfix (its own parsing
# and rewriting first, then tlspolicyd's milter). Whatever Postfix makes of
# a spelling, no recipient in gdpr.example (or its subdomains, or the IDN
# policy domain) may be accepted over plaintext, and Postfix's log must show
# no delivery to one. Root: Postfix's master runs as root.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
t_need python3

D="$top_builddir/src/tlspolicyd"
CONF='
log = { ident = "tlspolicyd-e2e"; format = "kv"; addresses = "full"; };
exempt = { clients = [ "192.0.2.255/32" ]; authenticated = true; };
default = { level = "opportunistic"; };
policies = (
  { name = "gdpr"; level = "required"; min_tls_version = "TLSv1.2";
    recipient_domains = [ "gdpr.example", ".gdpr.example", "bücher.example" ]; }
);'
e2e_start "$CONF" "gdpr.example other.example xn--bcher-kva.example xgdpr.example gdpr-example.example gdpr.examples example gdpr.example.other.example xn--gdpr-.example xn--bcher-kv.example" ||
    { t_done; exit; }
# Most recipients are refused: Postfix must not hang up after 20 errors.
pf_set smtpd_hard_error_limit=1000 smtpd_soft_error_limit=1000 || t_bad "postconf" "$(tail "$tmp/postfix-start.log")"

python3 "$top_srcdir/tests/spellings/smtp_spellings.py" 127.0.0.1 "$SMTP_PORT" \
    "$top_srcdir/tests/spellings/spellings.txt" "$tmp/replies" 2>"$tmp/client.err"
t_eq "the client ran the whole session" "" "$(cat "$tmp/client.err")"

sent=0 skipped=0 refused_n=0 accepted_n=0
while IFS='|' read -r expect name code text; do
    case $code in skip) skipped=$((skipped + 1)); continue ;; esac
    [ "$expect" = data ] && continue
    sent=$((sent + 1))
    case $code in 2*) accepted_n=$((accepted_n + 1)) ;; *) refused_n=$((refused_n + 1)) ;; esac
    if [ "$expect" = refuse ]; then
        case $code in
        2*) t_bad "$name: not accepted over plaintext" "$code $text" ;;
        *) t_ok "$name: $code" ;;
        esac
    fi
done <"$tmp/replies"
echo "spellings sent: $sent (left out, CR or LF: $skipped); accepted: $accepted_n, refused: $refused_n"
t_match "at least 100 spellings went through Postfix" '^(1[0-9][0-9]|[2-9][0-9][0-9])$' "$sent"
t_match "some spellings for another domain were accepted (the test is not refusing everything)" \
    '^[1-9][0-9]*$' "$accepted_n"
t_match "tlspolicyd refused some with its own reply" '\|530 5\.7\.0 Must issue a STARTTLS' "$(cat "$tmp/replies")"

# What Postfix did with the message: every delivery goes to the discard
# transport, logged with the recipient as Postfix resolved it.
i=0
while [ $i -lt 100 ] && ! grep -q 'status=sent' "$tmp/maillog"; do sleep 0.1; i=$((i + 1)); done
t_match "the accepted recipients were delivered" 'status=sent' "$(cat "$tmp/maillog")"
t_nomatch "no delivery to gdpr.example, its subdomains or the IDN policy domain" \
    ' to=<[^>]*@(([^>]*\.)?gdpr\.example|xn--bcher-kva\.example)>' "$(grep 'status=sent' "$tmp/maillog")"

td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
t_done
