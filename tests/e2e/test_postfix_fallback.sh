#!/bin/bash
# test_postfix_fallback - end to end, the opportunistic-fallback rules
# (issue 5): swaks sends with STARTTLS to a real Postfix on loopback whose
# milter is tlspolicyd, then comes back in plaintext from the same client.
# The plaintext sessions are a suspected downgrade: Postfix answers 450
# 4.7.0 "TLS downgrade suspected" max_deferrals (2) times, each logged as
# action=tempfail reason=downgrade with the deferral count, then the
# `then` rule (accept) lets the third one through as downgrade_accepted.
# `tlspolicyd --state list` shows what was learned; after `--state forget`
# plaintext is plain opportunistic again (plaintext_allowed).
# Same setup as test_postfix.sh (root, postfix, swaks, openssl).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"
start=$(date +%s)

# The LMDB state lives in $tmp/state. It must exist, and be the daemon's,
# before tlspolicyd starts: as root the daemon runs as nobody (daemon_launch's
# -u nobody) and opens the store after dropping privileges, and $tmp is
# root's 755. So $tmp is made here, before e2e_start, whose own e2e_tmp is
# then a no-op; e2e_cleanup removes it on every exit.
e2e_tmp || { t_bad "scratch dir" "mktemp failed"; t_done; exit; }
trap e2e_cleanup EXIT
mkdir "$tmp/state" && chmod 700 "$tmp/state"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$tmp/state"
e2e_tmp() { :; }

# Exempt must not cover 127.0.0.1: swaks connects from loopback, and an
# exempt session neither learns nor is deferred.
CONF="
log = { ident = \"tlspolicyd-e2e\"; format = \"kv\"; addresses = \"full\"; };
exempt = { clients = [ \"192.0.2.255/32\" ]; authenticated = true; };
default = { level = \"opportunistic\"; };
policies = ();
fallback = { enabled = true; key = \"client_domain\"; window = \"30d\"; action = \"tempfail\";
             max_deferrals = 2; defer_period = \"6h\"; then = \"accept\"; };
state = { backend = \"lmdb\"; path = \"$tmp/state\"; };"
e2e_start "$CONF" "other.example" || { t_done; exit; }
conf="$tmp/td.conf"            # e2e_start wrote CONF there
state() { "$D" -c "$conf" --state "$@"; }

# The key. Postfix resolves 127.0.0.1 to "localhost" and, the name being
# forward-confirmed, hands it to the milter as the client's name (an
# unconfirmed one would be "unknown"): a verified name. But "localhost" is
# a single label: under the public suffix list's implicit "*" rule it is a
# public suffix itself and has no registered domain. client_domain then
# falls back to client_net, the /24 of the address: client_net:127.0.0.0/24.
# Should the machine's resolver give 127.0.0.1 a name with a registered
# domain (host.example.com), the key is client_domain:<that domain> instead;
# the TLS case checks whichever applies to the name Postfix reported.

# ---- 1. TLS: accepted, and learned under the key
send f1 --tls --to f1@other.example
accepted "TLS" f1@other.example tls_ok
rec=$(decision_for f1@other.example)
t_match "TLS: record tls_version=TLSv1.3" ' tls_version=TLSv1\.3 ' "$rec"
name=$(field client_name "$rec")
key=$(field fallback_key "$rec")
echo "# Postfix named the client \"$name\"; the record's fallback_key is \"$key\""
case "$name" in
    *.*) t_match "TLS: fallback_key is the registered domain of client_name=$name" \
            '^client_domain:[^.]+\.' "$key"
         t_eq "TLS: ...a suffix of the name" "$name" "$(printf '%s\n' "$name" | grep -E "(^|\.)${key#client_domain:}\$")" ;;
    *) t_eq "TLS: client_name=$name has no registered domain: fallback_key is the /24" \
            "client_net:127.0.0.0/24" "$key" ;;
esac
t_eq "TLS: record deferrals=0" 0 "$(field deferrals "$rec")"
t_match "TLS: Postfix saw TLS from 127.0.0.1" \
    'TLS connection established from [^ ]*\[127\.0\.0\.1\]' "$(cat "$tmp/maillog")"

# ---- 2. plaintext from the same client: a downgrade, deferred
send f2 --to f2@other.example
deferred "plaintext after TLS" f2@other.example
rec=$(decision_for f2@other.example)
t_match "plaintext after TLS: record tls_version=none" ' tls_version=none cipher=- ' "$rec"
t_eq "plaintext after TLS: record fallback_key" "$key" "$(field fallback_key "$rec")"
t_eq "plaintext after TLS: record deferrals=1" 1 "$(field deferrals "$rec")"
i=0; while [ $i -lt 50 ] && ! grep -q 'milter-reject: RCPT .*helo=<f2>' "$tmp/maillog"; do sleep 0.1; i=$((i + 1)); done
t_match "plaintext after TLS: Postfix logged the 450 milter-reject" \
    'postfix/smtpd\[[0-9]+\]: NOQUEUE: milter-reject: RCPT from [^ ]*\[127\.0\.0\.1\]: 450 4\.7\.0 TLS downgrade suspected: .*to=<f2@other\.example> .*helo=<f2>' \
    "$(cat "$tmp/maillog")"

# ---- 3. again: the second deferral
send f3 --to f3@other.example
deferred "second plaintext" f3@other.example
rec=$(decision_for f3@other.example)
t_eq "second plaintext: record fallback_key" "$key" "$(field fallback_key "$rec")"
t_eq "second plaintext: record deferrals=2" 2 "$(field deferrals "$rec")"

# ---- 4. again: max_deferrals reached, then = accept
send f4 --to f4@other.example
accepted "third plaintext" f4@other.example downgrade_accepted
rec=$(decision_for f4@other.example)
t_match "third plaintext: record tls_version=none" ' tls_version=none ' "$rec"
t_eq "third plaintext: record fallback_key" "$key" "$(field fallback_key "$rec")"
t_eq "third plaintext: record deferrals=2 (no more counted)" 2 "$(field deferrals "$rec")"

# ---- 5. --state list, with the daemon running (LMDB readers share the env)
out=$(state list 2>&1); rc=$?
t_eq "--state list exits 0" 0 "$rc"
t_match "--state list: $key best_level=tls best_version=TLSv1.3 deferrals=2" \
    "^key=$key best_level=tls best_version=TLSv1\\.3 first_seen=[0-9T:-]+Z last_tls=[0-9T:-]+Z last_plain=[0-9T:-]+Z last_tls_failure=- deferrals=2( |\$)" \
    "$out"
t_eq "--state list: one key" 1 "$(printf '%s\n' "$out" | grep -c '^key=')"
out=$(state show "$key" 2>&1); rc=$?
t_eq "--state show $key exits 0" 0 "$rc"
t_match "--state show $key: the same record" "^key=$key best_level=tls best_version=TLSv1\\.3 .* deferrals=2( |\$)" "$out"

# ---- 6. forget the key: plaintext is no downgrade any more
out=$(state forget "$key" 2>&1); rc=$?
t_eq "--state forget $key" "0 forgot $key" "$rc $out"
out=$(state show "$key" 2>&1); rc=$?
t_eq "--state show after forget exits 1" 1 "$rc"
send f6 --to f6@other.example
accepted "plaintext after forget" f6@other.example plaintext_allowed
rec=$(decision_for f6@other.example)
t_eq "plaintext after forget: record fallback_key" "$key" "$(field fallback_key "$rec")"
t_eq "plaintext after forget: record deferrals=0" 0 "$(field deferrals "$rec")"
out=$(state list 2>&1)
t_match "--state list: relearned as plaintext only" \
    "^key=$key best_level=none best_version=- .* last_tls=- .* deferrals=0( |\$)" "$out"

# ---- records and Postfix agree
nsess=$(printf '%s' "$sessions" | wc -w)
i=0; while [ $i -lt 50 ] && [ "$(grep -c '^event=session ' "$tmp/td.log")" -lt "$nsess" ]; do sleep 0.1; i=$((i + 1)); done
t_eq "one session record per connection" "$nsess" "$(grep -c '^event=session ' "$tmp/td.log")"
t_eq "one decision record per recipient" "$decisions" "$(grep -c '^event=decision ' "$tmp/td.log")"
for s in f2 f3; do
    t_match "session $s: rcpt_tempfailed=1" \
        "^event=session .* helo=$s tls_version=none .* rcpt_accepted=0 rcpt_rejected=0 rcpt_tempfailed=1 " \
        "$(session_for "$s")"
done
t_nomatch "Postfix reported no milter trouble" 'warning: .*[Mm]ilter|milter.*(timeout|error)' "$(cat "$tmp/maillog")"
t_nomatch "tlspolicyd reported no state store error" 'reason=state_error|event=(error|warning)' "$(cat "$tmp/td.log")"

td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
echo "# run time $(( $(date +%s) - start )) s"
t_done
