#!/bin/bash
# test_spellings_postfix - every spelling of spellings.txt as the argument of
# RCPT TO of its own message, all in one plaintext session, through a real
# Postfix (its own parsing and rewriting first, then tlspolicyd), twice:
# with tlspolicyd as Postfix's milter, and as its policy service
# (check_policy_service), one tlspolicyd process serving both. Postfix
# hands the two front ends different things: the milter the RCPT argument,
# the policy service the recipient as Postfix parsed it. Whatever Postfix
# makes of a spelling, no recipient in gdpr.example (or its subdomains, or
# the IDN policy domain) may be accepted over plaintext through either
# front end, Postfix's log must show no delivery to one, and both front
# ends must decide every spelling alike. Root: Postfix's master runs as root.
#
# Where the front ends see different things (tlspolicyd(8), POLICY SERVICE):
# Postfix accepts "postmaster" without asking the policy service at RCPT;
# the service finds it in DATA's recipient_count and refuses the message
# there (smtp_spellings.py records the stage). Postfix hands the policy
# service recipients before its own rewriting (bang paths, percent
# addresses), which the milter sees after it: such a recipient has no
# domain to the policy service (rcpt_domain=-) and gets the strictest
# policy that could apply, so the decision must still be the milter's:
# only rcpt_domain may differ, and only to "-" (a note).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
t_need python3 postconf

D="$top_builddir/src/tlspolicyd"
TD_POLICY=1     # td_start serves the policy socket beside the milter socket
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
# Each smtpd serves one session (max_use = 1) and then closes its policy
# connection, which ends the session for the policy service.
pf_set smtpd_hard_error_limit=1000 smtpd_soft_error_limit=1000 || t_bad "postconf" "$(tail "$tmp/postfix-start.log")"
postconf -c "$tmp/pf" -P "$SMTP_PORT/inet/max_use=1" 2>>"$tmp/postfix-start.log" ||
    t_bad "postconf max_use" "$(tail "$tmp/postfix-start.log")"

# DECIDED - awk over RECORDS and REPLIES (expect|name|stage|code|text): for each
# spelling what decided it, "name|tlspolicyd ACTION REASON POLICY RCPT_DOMAIN"
# for a refusal whose text ends with a decision record's reply (Postfix
# puts "<rcpt>: Recipient address rejected: " before a policy service's
# text), "name|accepted" for a message queued, else "name|postfix CODE"
# (refused by Postfix before tlspolicyd was asked)
# shellcheck disable=SC2016
DECIDED='
function tok(rec, key) {
    if (match(rec, " " key "=[^ ]*")) return substr(rec, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
    return "?"
}
FNR == NR {
    if ($0 !~ /^event=decision / || $0 !~ / reply="/) next
    r = $0; sub(/.* reply="/, "", r); sub(/"$/, "", r)
    gsub(/\\"/, "\"", r); gsub(/\\\\/, "\\", r)
    sub(/^[0-9][0-9][0-9] [0-9]\.[0-9]+\.[0-9]+ /, "", r)
    n++; text[n] = r
    dec[n] = tok($0, "action") " " tok($0, "reason") " " tok($0, "policy") " " tok($0, "rcpt_domain")
    next
}
{
    split($0, f, "|"); name = f[2]; code = f[4]
    if (f[3] == "skip") next
    t = $0; sub(/^[^|]*\|[^|]*\|[^|]*\|[^|]*\|/, "", t)
    if (code ~ /^2/) { print name "|accepted"; next }
    found = ""
    for (i = 1; i <= n; i++) {
        l = length(text[i])
        if (l > 0 && length(t) >= l && substr(t, length(t) - l + 1) == text[i]) { found = dec[i]; break }
    }
    print name "|" (found != "" ? "tlspolicyd " found : "postfix " code)
}'

# spellings_through FE - the whole list in one session through front end FE
# (milter or policy): the replies in $tmp/FE.replies (expect|name|code|text),
# the records it left in $tmp/FE.records
spellings_through() {
    fe=$1
    pf_front_end "$fe" || t_bad "postfix switched to the $fe front end" "$(tail "$tmp/postfix-start.log")"
    t_eq "postfix uses the $fe front end" "$fe" "$(pf_front_end_in_use)"
    off=$(wc -l <"$tmp/td.log")
    python3 "$top_srcdir/tests/spellings/smtp_spellings.py" 127.0.0.1 "$SMTP_PORT" \
        "$top_srcdir/tests/spellings/spellings.txt" "$tmp/$fe.replies" 2>"$tmp/$fe.client.err"
    t_eq "$fe: the client ran the whole session" "" "$(cat "$tmp/$fe.client.err")"
    i=0
    while [ $i -lt 100 ] && ! tail -n +$((off + 1)) "$tmp/td.log" | grep -q '^event=session .* helo=spellings\.test '; do
        sleep 0.1; i=$((i + 1))
    done
    tail -n +$((off + 1)) "$tmp/td.log" | grep -E '^event=(decision|session) ' >"$tmp/$fe.records"
    t_eq "$fe: one session record" 1 "$(grep -c '^event=session ' "$tmp/$fe.records")"

    sent=0 skipped=0 refused_n=0 accepted_n=0
    while IFS='|' read -r expect name stage code text; do
        case $stage in skip) skipped=$((skipped + 1)); continue ;; esac
        sent=$((sent + 1))
        case $code in 2*) accepted_n=$((accepted_n + 1)) ;; *) refused_n=$((refused_n + 1)) ;; esac
        if [ "$expect" = refuse ]; then
            case $code in
            2*) t_bad "$fe: $name: not accepted over plaintext" "$stage: $text" ;;
            *) t_ok "$fe: $name: $code at $stage" ;;
            esac
        fi
    done <"$tmp/$fe.replies"
    echo "# $fe: spellings sent: $sent (left out, CR or LF: $skipped); accepted: $accepted_n, refused: $refused_n"
    t_match "$fe: at least 100 spellings went through Postfix" '^(1[0-9][0-9]|[2-9][0-9][0-9])$' "$sent"
    t_match "$fe: some spellings for another domain were accepted (the test is not refusing everything)" \
        '^[1-9][0-9]*$' "$accepted_n"
    t_match "$fe: tlspolicyd refused some with its own reply" '\|530 5\.7\.0 (<[^>]*>: Recipient address rejected: )?Must issue a STARTTLS' \
        "$(cat "$tmp/$fe.replies")"
    awk "$DECIDED" "$tmp/$fe.records" "$tmp/$fe.replies" >"$tmp/$fe.decided"
    t_eq "$fe: a decision record for every recipient accepted" \
        "$(grep -c '|accepted$' "$tmp/$fe.decided")" "$(grep -c '^event=decision .* action=accept ' "$tmp/$fe.records")"
    t_eq "$fe: a decision record for every refusal of tlspolicyd's" \
        "$(grep -c 'Must issue a STARTTLS' "$tmp/$fe.replies")" "$(grep -c '|tlspolicyd ' "$tmp/$fe.decided")"
}

spellings_through milter
spellings_through policy

# Both front ends decided every spelling alike: accepted through both or
# refused through both, and where tlspolicyd refused it through both, with
# the same action, reason, policy and rcpt_domain (or none, see above). The reply texts differ
# by Postfix's prefix (see DECIDED) and by the recipient as each front end
# got it; tests/e2e/test_frontends.sh compares replies exactly. A spelling
# Postfix refuses before asking the policy service but after calling the
# milter (or the other way round) is refused either way: a note.
paste -d '\n' "$tmp/milter.decided" "$tmp/policy.decided" | while IFS='|' read -r name m && IFS='|' read -r pname p; do
    if [ "$name" != "$pname" ]; then
        echo "FAIL - the replies of both front ends are in the same order"; echo "    $name / $pname"; break
    fi
    if [ "$m" = "$p" ]; then
        echo "ok - $name: the same decision through both front ends ($m)"
    elif [ "$m" = accepted ] || [ "$p" = accepted ]; then
        echo "FAIL - $name: accepted through one front end only"
        echo "    milter: $m"; echo "    policy: $p"
    elif [ "${m%% *}" = tlspolicyd ] && [ "${p%% *}" = tlspolicyd ] &&
        [ "${m% *}" = "${p% *}" ] && [ "${p##* }" = - ]; then
        echo "ok - $name: the same decision through both front ends (no domain to the policy service)"
        echo "# note: $name: rcpt_domain milter ${m##* }, policy -"
    elif [ "${m%% *}" = tlspolicyd ] && [ "${p%% *}" = tlspolicyd ]; then
        echo "FAIL - $name: the same decision through both front ends"
        echo "    milter: $m"; echo "    policy: $p"
    else
        echo "ok - $name: refused through both front ends"
        echo "# note: $name: milter: $m; policy: $p"
    fi
done >"$tmp/same.out"
cat "$tmp/same.out"
t_pass=$((t_pass + $(grep -c '^ok - ' "$tmp/same.out")))
t_fail=$((t_fail + $(grep -c '^FAIL - ' "$tmp/same.out")))
t_eq "both front ends saw every spelling" "$(wc -l <"$tmp/milter.decided")" "$(wc -l <"$tmp/policy.decided")"

# What Postfix did with the messages: every delivery goes to the discard
# transport, logged with the recipient as Postfix resolved it.
for fe in milter policy; do
    qids=$(sed -n 's/^[^|]*|[^|]*|dot|250|.*queued as \([0-9A-Za-z]*\).*/\1/p' "$tmp/$fe.replies")
    t_eq "$fe: a message queued for every spelling accepted" "$(grep -c '|accepted$' "$tmp/$fe.decided")" \
        "$(printf '%s\n' "$qids" | grep -c .)"
    for qid in $qids; do
        i=0
        while [ $i -lt 100 ] && ! grep -q "$qid: to=<.*status=sent" "$tmp/maillog"; do sleep 0.1; i=$((i + 1)); done
        grep -q "$qid: to=<.*status=sent" "$tmp/maillog" || t_bad "$fe: message $qid delivered" "$(grep "$qid" "$tmp/maillog")"
    done
done
t_match "the accepted recipients were delivered" 'status=sent' "$(cat "$tmp/maillog")"
t_nomatch "no delivery to gdpr.example, its subdomains or the IDN policy domain" \
    ' to=<[^>]*@(([^>]*\.)?gdpr\.example|xn--bcher-kva\.example)>' "$(grep 'status=sent' "$tmp/maillog")"

td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
t_done
