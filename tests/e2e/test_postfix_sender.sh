#!/bin/bash
# test_postfix_sender - sender_domains policies against the sender Postfix
# actually queues. Postfix (strict_rfc821_envelopes = no, the default)
# accepts MAIL FROM:<<a@partner.example>> and MAIL FROM:<a@partner.example (x)>
# and queues both as from=<a@partner.example>; the partner policy must
# apply to them exactly as to MAIL FROM:<a@partner.example>, or any sender
# can step around a sender_domains policy by decorating its address (it
# could, up to commit 1086ce8: sender_domain=-, default policy, 250).
# Same setup as test_postfix.sh (real Postfix on loopback, swaks).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"
CONF='
log = { ident = "tlspolicyd-e2e"; format = "kv"; addresses = "full"; };
exempt = { clients = [ "192.0.2.255/32" ]; authenticated = true; };
default = { level = "opportunistic"; };
policies = (
  { name = "partner"; sender_domains = [ "partner.example" ]; level = "verified";
    cert_subject = "mx.partner.example"; }
);'
e2e_start "$CONF" "other.example" || { t_done; exit; }

# plaintext from a partner.example sender: the partner policy (verified) refuses it
n=0
for from in 'a@partner.example' '<a@partner.example>' 'a@partner.example (comment)'; do
    n=$((n + 1))
    send "s$n" --from "$from" --to "s$n@other.example"
    mail=$(printf '%s\n' "$out" | sed -n 's/^ -> \(MAIL FROM:.*\)/\1/p')
    refused "$mail" "s$n@other.example" "530 5\.7\.0" plaintext
    t_match "$mail: the partner policy decided" \
        ' policy=partner level=verified ' "$(decision_for "s$n@other.example")"
done

# What Postfix makes of them: with the partner's trusted certificate the
# decorated senders are accepted, and Postfix queues them as <a@partner.example>.
c="$tmp/certs"
n=0
for from in '<a@partner.example>' 'a@partner.example (comment)'; do
    n=$((n + 1))
    send "q$n" --tls --tls-cert "$c/client.pem" --tls-key "$c/client.key" --from "$from" --to "q$n@other.example"
    accepted "verified $from" "q$n@other.example" tls_ok
    qid=$(queued_id)
    i=0; while [ $i -lt 50 ] && ! grep -q "$qid: from=" "$tmp/maillog"; do sleep 0.1; i=$((i + 1)); done
    t_match "verified $from: Postfix queued it as from=<a@partner.example>" \
        "postfix/qmgr\[[0-9]+\]: $qid: from=<a@partner\.example>," "$(cat "$tmp/maillog")"
    t_match "verified $from: the partner policy was in force" \
        ' policy=partner(,default)? level=verified ' "$(decision_for "q$n@other.example")"
done

td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
t_done
