#!/bin/bash
# test_frontends - one table of end-to-end cases (tests/e2e/frontends.cases:
# plaintext, TLS versions, ciphers, static RSA, client certificates,
# monitor mode, an exempt client, the fallback rules, several recipients)
# through a real Postfix on loopback, twice: once with tlspolicyd as
# Postfix's milter (smtpd_milters), once as its policy service
# (check_policy_service in smtpd_recipient_restrictions and
# smtpd_end_of_data_restrictions). One tlspolicyd serves both sockets, as
# in production; postconf and `postfix reload` switch Postfix between them.
#
# For every row and both front ends: the reply to each RCPT TO is the
# table's code and enhanced code, the decision record has the table's
# action, would and reason and the reply Postfix sent, an accepted
# recipient's record carries Postfix's queue id, the TLS facts are what
# swaks negotiated, and the connection left one session record. Then,
# row by row, the two front ends must agree: every server reply (code,
# enhanced code and text; the queue id aside) and every record field but
# seq, instance, the qid's value (present in both or absent in both) and
# the session's duration_ms. The learned fallback state must also end up
# the same; it is forgotten between the runs, so both start from nothing.
#
# One difference is by design and documented (tlspolicyd(8), POLICY
# SERVICE): Postfix puts "<RCPT>: Recipient address rejected: " between
# the code and the text of a policy service's refusal, as for every access
# action, and the record's reply is tlspolicyd's answer without those
# words. The test expects exactly those words, and compares the rest.
#
# Two things are outside the table because the front ends differ there by
# design, and the last sections check what the manuals say: the
# failed-STARTTLS pattern, which only the milter sees (a session that ends
# before RCPT never reaches a policy service) and which one process shares
# with the policy service (tlspolicyd(8)); and certificate pinning, which
# only the policy service can satisfy (Postfix gives a milter no
# fingerprint; tlspolicyd.conf(5), cert_fingerprint).
#
# Needs root (Postfix's master), postfix, postconf, swaks (Net::SSLeay for
# --tls) and openssl. Everything is stopped and the scratch dir removed on
# every exit.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"
CASES="$top_srcdir/tests/e2e/frontends.cases"
start=$(date +%s)
t_need postconf perl
perl -MNet::SSLeay -e 1 2>/dev/null || t_bad "perl module Net::SSLeay is installed" "swaks needs it for --tls (libnet-ssleay-perl)"

# The LMDB state must exist, and be the daemon's (nobody), before it starts:
# $tmp is made here, so e2e_start's own e2e_tmp is a no-op (as in
# test_postfix_fallback.sh); e2e_cleanup removes it on every exit.
e2e_tmp || { t_bad "scratch dir" "mktemp failed"; t_done; exit; }
trap e2e_cleanup EXIT
mkdir "$tmp/state" && chmod 700 "$tmp/state"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$tmp/state"
e2e_tmp() { :; }

# A certificate of its own for the pinning section, made before the
# configuration that pins it: self-signed, so that no CA trusts it, and
# its certificate and public-key SHA-256 fingerprints (Postfix's
# ccert_fingerprint and ccert_pubkey_fingerprint at compatibility_level 3.6)
mkdir "$tmp/pin"
(
    cd "$tmp/pin" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.pinned.example" \
        -keyout pin.key -out pin.pem && chmod 644 pin.key pin.pem
) >"$tmp/pin.log" 2>&1 || t_bad "the pinned certificate" "$(cat "$tmp/pin.log")"
PIN_CERT=$(openssl x509 -noout -fingerprint -sha256 -in "$tmp/pin/pin.pem" | sed 's/.*=/SHA256:/')
PIN_KEY=SHA256:$(openssl x509 -noout -pubkey -in "$tmp/pin/pin.pem" | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -hex | sed 's/.*= *//')
t_match "the pins are SHA-256 fingerprints" '^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2} SHA256:[0-9a-f]{64}$' "$PIN_CERT $PIN_KEY"

TD_POLICY=1     # td_start serves the policy socket beside the milter socket

# Exempt is 127.0.0.250 only: every other row connects from its own
# 127.0.0.N. The fallback key is the client's address, so that no row's TLS
# sighting turns another row's plaintext into a downgrade.
CONF="
log = { ident = \"tlspolicyd-e2e\"; format = \"kv\"; addresses = \"full\"; };
exempt = { clients = [ \"127.0.0.250/32\" ]; authenticated = true; };
default = { level = \"opportunistic\"; };
policies = (
  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\", \".gdpr.example\" ];
    level = \"required\"; min_tls_version = \"TLSv1.2\";
    ciphers = \"HIGH:!aNULL:!kRSA\"; min_cipher_bits = 128; },
  { name = \"defer\"; recipient_domains = [ \"defer.example\" ]; level = \"required\"; action = \"tempfail\"; },
  { name = \"watch\"; recipient_domains = [ \"watch.example\" ]; level = \"required\"; mode = \"monitor\"; },
  { name = \"partner\"; sender_domains = [ \"partner.example\" ]; level = \"verified\";
    cert_subject = \"mx.partner.example\"; },
  { name = \"pinned\"; sender_domains = [ \"pinned.example\" ]; level = \"verified\";
    cert_fingerprint = [ \"$PIN_CERT\" ]; },
  { name = \"pinkey\"; sender_domains = [ \"pinkey.example\" ]; level = \"verified\";
    cert_fingerprint = [ \"$PIN_KEY\" ]; }
);
fallback = { enabled = true; key = \"client_addr\"; window = \"30d\"; action = \"tempfail\";
             max_deferrals = 1; defer_period = \"6h\"; then = \"accept\"; };
state = { backend = \"lmdb\"; path = \"$tmp/state\"; };"
e2e_start "$CONF" "gdpr.example other.example defer.example watch.example" || { t_done; exit; }
t_ok "tlspolicyd serves the policy socket on port $POLICY_PORT in the same process"

# Each smtpd serves one session and exits (max_use = 1): it closes its
# connection to the policy service, which ends the session there and writes
# its record; without that the record waits for the 300 s idle timeout.
postconf -c "$tmp/pf" -P "$SMTP_PORT/inet/max_use=1" 2>>"$tmp/postfix-start.log" ||
    t_bad "postconf max_use" "$(tail "$tmp/postfix-start.log")"

# ---- the table
names=() clients=() tlss=() optss=() rcptss=() sessionss=()
while IFS='|' read -r name client tls opts rcpts session; do
    case $name in '' | '#'*) continue ;; esac
    names+=("$name") clients+=("$client") tlss+=("$tls") optss+=("$opts") rcptss+=("$rcpts") sessionss+=("$session")
done <"$CASES"
t_match "the table has rows" '^[1-9][0-9]+$' "${#names[@]}"

# row_records OFFSET - the records tlspolicyd wrote after line OFFSET of its log
row_records() { tail -n +$(($1 + 1)) "$tmp/td.log" | grep -E '^event=(decision|session) '; }

# norm - a record without what may differ between two runs: seq, instance,
# the qid's value (present stays present) and the session's duration_ms
norm() {
    sed -E 's/^(event=[a-z]+) seq=[0-9]+ instance=[^ ]+ /\1 seq=* instance=* /;
            s/^(event=decision .*) qid=[0-9A-Za-z]+ /\1 qid=QID /; s/ duration_ms=[0-9]+$/ duration_ms=*/'
}

# fields - one record's fields, one per line (quoted values kept whole), for a field-by-field diff
fields() {
    awk '{
        s = $0
        while (s != "") {
            k = index(s, "="); key = substr(s, 1, k); s = substr(s, k + 1)
            if (substr(s, 1, 1) == "\"") {
                v = "\""; s = substr(s, 2)
                while (s != "") {
                    c = substr(s, 1, 1)
                    if (c == "\\") { v = v substr(s, 1, 2); s = substr(s, 3); continue }
                    v = v c; s = substr(s, 2)
                    if (c == "\"") break
                }
            } else {
                sp = index(s, " "); if (sp == 0) sp = length(s) + 1
                v = substr(s, 1, sp - 1); s = substr(s, sp)
            }
            print key v
            sub(/^ /, "", s)
        }
    }'
}

# state_list - the learned fallback state, timestamps reduced to set or unset
state_list() {
    "$D" -c "$tmp/td.conf" --state list 2>&1 | sed -E 's/=[0-9]{4}-[0-9T:-]+Z/=SET/g' | sort
}

# postfix_words FE RCPT - the reply Postfix sends for tlspolicyd's reply on
# stdin: through the policy service Postfix puts its own words between code
# and text, as for every access action (tlspolicyd(8), POLICY SERVICE)
postfix_words() {
    if [ "$1" = policy ]; then
        sed -E "s/^([0-9]{3} [0-9]\.[0-9]+\.[0-9]+) /\1 <$2>: Recipient address rejected: /"
    else
        cat
    fi
}

# without_postfix_words - SMTP replies (swaks's lines) without those words
without_postfix_words() {
    sed -E 's/^(<[-~*]* +[0-9]{3} [0-9]\.[0-9]+\.[0-9]+ )<[^>]*>: Recipient address rejected: /\1/'
}

# run_row FE I - send row I of the table through front end FE and check it
# against the table; its transcript, replies and records go to $tmp/FE/
run_row() {
    fe=$1 name=${names[$2]} client=${clients[$2]} tls=${tlss[$2]}
    opts=${optss[$2]//@CERTS@/$tmp/certs}
    tos="" nrcpt=0
    for r in ${rcptss[$2]}; do tos="$tos,${r%%=*}"; nrcpt=$((nrcpt + 1)); done
    off=$(wc -l <"$tmp/td.log")
    set -f
    # shellcheck disable=SC2086
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --local-interface "$client" --ehlo "$name" \
        --from sender@sender.example --timeout 20 --header "Subject: e2e $name" --body "test $name" \
        $opts --to "${tos#,}" </dev/null >"$tmp/$fe/$name.out" 2>&1
    set +f
    out=$(cat "$tmp/$fe/$name.out")
    # every server reply, the queue id aside
    printf '%s\n' "$out" | grep '^<' | sed -E 's/queued as [0-9A-Za-z]+/queued as QID/' >"$tmp/$fe/$name.replies"

    # the session record ends the row (for the policy service: when smtpd exits)
    i=0
    while [ $i -lt 100 ] && ! row_records "$off" | grep -q "^event=session .* helo=$name "; do
        sleep 0.1; i=$((i + 1))
    done
    row_records "$off" >"$tmp/$fe/$name.records"
    recs=$(cat "$tmp/$fe/$name.records")
    t="$fe $name"
    t_eq "$t: one session record" 1 "$(grep -c "^event=session .* helo=$name " "$tmp/$fe/$name.records")"
    t_match "$t: session record client_addr=$client" "^event=session .* client_addr=${client//./\\.} .* helo=$name " "$recs"
    t_eq "$t: one decision record per recipient" "$nrcpt" "$(grep -c '^event=decision ' "$tmp/$fe/$name.records")"

    tv=${tls%%:*} tc=-
    [ "$tls" = none ] || tc=${tls#*:}
    if [ "$tls" = none ]; then
        t_eq "$t: no TLS" "" "$(tls_started)"
    else
        t_match "$t: swaks negotiated $tls" "^${tls//./\\.}:" "$(tls_started)"
    fi
    t_match "$t: session record tls_version=$tv cipher=$tc" " helo=$name tls_version=${tv//./\\.} cipher=$tc " "$recs"
    for kv in ${sessionss[$2]}; do
        t_match "$t: session record $kv" "^event=session .* helo=$name .* ${kv//./\\.}( |\$)" "$recs"
    done

    qid=$(queued_id)
    for r in ${rcptss[$2]}; do
        rcpt=${r%%=*} e=${r#*=}
        code=${e%%/*} e=${e#*/}; enh=${e%%/*} e=${e#*/}
        action=${e%%/*} e=${e#*/}; would=${e%%/*} reason=${e#*/}
        got=$(reply_to_rcpt "$rcpt")
        t_match "$t: RCPT $rcpt answered $code $enh" "^$code ${enh//./\\.} " "$got"
        rec=$(grep "^event=decision .* rcpt=$rcpt " "$tmp/$fe/$name.records")
        t_match "$t: $rcpt record action=$action would=$would reason=$reason" \
            "^event=decision .* action=$action would=$would reason=$reason .* tls_version=${tv//./\\.} cipher=$tc " "$rec"
        if [ "$action" = accept ]; then
            t_match "$t: $rcpt: message queued" '^[0-9A-Za-z]+$' "$qid"
            t_eq "$t: $rcpt record qid is Postfix's queue id" "$qid" "$(field qid "$rec")"
        else
            t_eq "$t: $rcpt record reply is the reply Postfix sent" "$got" \
                "$(printf '%s\n' "$rec" | sed -n 's/.* reply="\(.*\)"$/\1/p' | postfix_words "$fe" "$rcpt")"
        fi
    done
}

# ---- both front ends, the whole table each
for fe in milter policy; do
    mkdir -p "$tmp/$fe"
    pf_front_end "$fe" || t_bad "postfix switched to the $fe front end" "$(tail "$tmp/postfix-start.log")"
    t_eq "postfix uses the $fe front end" "$fe" "$(pf_front_end_in_use)"
    fe_start=$(date +%s)
    n=0
    while [ $n -lt ${#names[@]} ]; do
        run_row "$fe" $n
        n=$((n + 1))
    done
    echo "# $fe: ${#names[@]} rows in $(( $(date +%s) - fe_start )) s"
    state_list >"$tmp/$fe/state"
    t_match "$fe: the fallback state learned the TLS sighting of 127.0.0.51" \
        '^key=client_addr:127\.0\.0\.51 best_level=tls ' "$(cat "$tmp/$fe/state")"
    # forget everything learned, so that the next front end starts from nothing
    sed -n 's/^key=\([^ ]*\).*/\1/p' "$tmp/$fe/state" | while read -r key; do
        "$D" -c "$tmp/td.conf" --state forget "$key" >/dev/null 2>&1 || echo "--state forget $key failed"
    done >"$tmp/forget.err"
    t_eq "$fe: every learned key forgotten" "" "$(cat "$tmp/forget.err")"
    t_eq "$fe: state forgotten" "" "$("$D" -c "$tmp/td.conf" --state list 2>&1 | grep '^key=')"
done

# ---- the two front ends agree, row by row
n=0
while [ $n -lt ${#names[@]} ]; do
    name=${names[$n]}
    d=$(diff "$tmp/milter/$name.replies" <(without_postfix_words <"$tmp/policy/$name.replies"))
    t_eq "$name: the same SMTP replies from both front ends (Postfix's words for a policy service aside)" "" "$d"
    [ -z "$d" ] || echo "SMTP reply" >>"$tmp/differ"
    for r in ${rcptss[$n]} session; do
        rcpt=${r%%=*}
        if [ "$rcpt" = session ]; then pat="^event=session .* helo=$name "; else pat="^event=decision .* rcpt=$rcpt "; fi
        m=$(grep "$pat" "$tmp/milter/$name.records" | norm)
        p=$(grep "$pat" "$tmp/policy/$name.records" | norm)
        if [ "$m" = "$p" ]; then
            t_ok "$name: the same $rcpt record from both front ends"
        else
            d=$(diff <(printf '%s\n' "$m" | fields) <(printf '%s\n' "$p" | fields))
            t_bad "$name: the same $rcpt record from both front ends" \
                "$(printf '%s\n' "$d" | sed -n 's/^</milter:/p; s/^>/policy:/p')"
            printf '%s\n' "$d" | sed -n 's/^< \([a-z_]*\)=.*/record field \1/p' >>"$tmp/differ"
        fi
    done
    n=$((n + 1))
done
d=$(diff "$tmp/milter/state" "$tmp/policy/state")
t_eq "the same fallback state learned through both front ends" "" "$d"
# what differed, in one place: how many replies or records, per field
[ -s "$tmp/differ" ] && sort "$tmp/differ" | uniq -c | sed 's/^ */# differs between the front ends: /'

# ---- failed STARTTLS: a session that ends after EHLO without TLS and
# without MAIL, then plaintext with MAIL from the same client. Milter only
# (tlspolicyd(8), POLICY SERVICE); shared with the policy service when one
# process serves both.
# session_via FE NAME CLIENT [SWAKS...] - one session through FE to
# NAME@other.example; the transcript in $out, its decision records in $drec
# and its session record, if any within 3 s, in $srec
session_via() {
    fe=$1 name=$2 client=$3; shift 3
    [ "$(pf_front_end_in_use)" = "$fe" ] || pf_front_end "$fe" ||
        t_bad "postfix switched to the $fe front end" "$(tail "$tmp/postfix-start.log")"
    off=$(wc -l <"$tmp/td.log")
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --local-interface "$client" --ehlo "$name" \
        --from sender@sender.example --to "$name@other.example" --timeout 20 "$@" </dev/null >"$tmp/$name.out" 2>&1
    i=0
    while [ $i -lt 30 ] && ! row_records "$off" | grep -q "^event=session .* helo=$name "; do
        sleep 0.1; i=$((i + 1))
    done
    srec=$(row_records "$off" | grep "^event=session .* helo=$name ")
    drec=$(row_records "$off" | grep "^event=decision .* helo=$name ")
    out=$(cat "$tmp/$name.out")
}
session_via policy stls-p1 127.0.0.71 --quit-after helo
t_eq "policy: a session that ends after EHLO leaves no record (no request before RCPT)" "" "$srec"
session_via policy stls-p2 127.0.0.71
t_match "policy: the plaintext session after it is not flagged" ' suspected_tls_failure=no ' "$srec"
session_via milter stls-m1 127.0.0.72 --quit-after helo
t_match "milter: a session that ends after EHLO leaves its record" \
    ' tls_version=none .* messages=0 rcpt_accepted=0 rcpt_rejected=0 rcpt_tempfailed=0 suspected_tls_failure=no ' "$srec"
session_via milter stls-m2 127.0.0.72
t_match "milter: the plaintext session after it is flagged" ' messages=1 rcpt_accepted=1 .* suspected_tls_failure=yes ' "$srec"
session_via milter stls-s1 127.0.0.73 --quit-after helo
session_via policy stls-s2 127.0.0.73
t_match "milter, then policy: the policy service flags what the milter saw (one process)" \
    ' suspected_tls_failure=yes ' "$srec"
t_match "the state remembers the failure the milter saw" \
    '^key=client_addr:127\.0\.0\.72 .* last_tls_failure=SET ' "$(state_list)"

# ---- certificate pinning: fingerprints reach tlspolicyd through the
# policy service only (tlspolicyd.conf(5), cert_fingerprint): there a
# pinned certificate no CA trusts verifies the client; through Postfix's
# milter, which passes no fingerprint, a pinned policy decides cert_mismatch.
pin="$tmp/pin"
# pinned NAME FE CLIENT SENDER CERT CODE REASON VERIFIED - one pinning case
pinned() {
    session_via "$2" "$1" "$3" --tls --tls-cert "$5.pem" --tls-key "$5.key" --from "$4"
    t_match "$2 $1: RCPT answered $6" "^${6//./\\.} " "$(reply_to_rcpt "$1@other.example")"
    t_match "$2 $1: record reason=$7 cert_verified=$8" \
        " reason=$7 policy=[a-z,]*pin[a-z,]* level=verified .* cert_verified=$8 " "$drec"
}
pinned pin-cert policy 127.0.0.81 a@pinned.example "$pin/pin" "250 2.1.5" tls_ok yes
pinned pin-key policy 127.0.0.82 a@pinkey.example "$pin/pin" "250 2.1.5" tls_ok yes
pinned pin-other policy 127.0.0.83 a@pinned.example "$tmp/certs/selfsigned" "550 5.7.1" cert_mismatch no
pinned pin-trusted policy 127.0.0.84 a@pinned.example "$tmp/certs/client" "550 5.7.1" cert_mismatch yes
pinned pin-milter milter 127.0.0.85 a@pinned.example "$pin/pin" "550 5.7.1" cert_mismatch no

t_nomatch "Postfix reported no milter or policy service trouble" \
    'warning: .*([Mm]ilter|policy)|milter.*(timeout|error)' "$(cat "$tmp/maillog")"
t_nomatch "tlspolicyd reported no error" 'reason=state_error|event=(error|warning)' "$(cat "$tmp/td.log")"
td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
echo "# run time $(( $(date +%s) - start )) s"
t_done
