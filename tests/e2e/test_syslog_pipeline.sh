#!/bin/bash
# test_syslog_pipeline - the real logging pipeline once: tlspolicyd behind
# a real Postfix writes its records with syslog(3) to a real rsyslogd,
# which files them; the filed lines must be the records tlspolicyd wrote,
# one line each, unchanged, under the configured facility and ident.
#
# The machine's logging is never touched: the test runs itself again in a
# mount namespace of its own whose /dev is a private tmpfs, where our
# rsyslogd makes /dev/log (tests/e2e/rsyslog.sh explains how and why).
# The outer run only checks afterwards that the machine's /dev/log is as
# it was and that nothing of the test is left running.
#
# Sessions go through Postfix with swaks; one more goes to tlspolicyd
# directly with miltertest, because only the milter protocol can carry a
# HELO with a newline (Postfix ends the SMTP command at the newline).
# The filed records are copied to $PIPELINE_LOG_DIR (default: the build's
# tests/e2e) as syslog-pipeline.log (RFC 3339) and syslog-pipeline.trad.log
# (traditional), for tlspolicy-report; the paths are printed.
#
# Needs root, unshare and mount (util-linux), postfix, swaks, openssl,
# miltertest, and rsyslogd: the installed one, or Debian's rsyslog .deb
# unpacked by the test (see rs_find_rsyslogd in rsyslog.sh).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/rsyslog.sh"

# shellcheck disable=SC2034 # read by tests/e2e/lib.sh
D="$top_builddir/src/tlspolicyd"
TD_IDENT=tlspolicyd-t

# ---- outside: run the test in its own namespace, then check the machine
if ! rs_inside; then
    rs_outer "$0" "$@"
    exit
fi

# ---- inside the namespace
CONF="
log = { facility = \"local3\"; ident = \"$TD_IDENT\"; format = \"kv\"; addresses = \"full\"; };
exempt = { clients = [ \"192.0.2.255/32\" ]; authenticated = true; };
default = { level = \"opportunistic\"; };
policies = (
  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\" ]; level = \"required\";
    min_tls_version = \"TLSv1.2\"; }
);"
t_need miltertest
rs_e2e_start "$CONF" "gdpr.example other.example" || { rs_counts; exit; }
t_eq "/dev/log here is a socket of our own" "socket" "$(stat -c %F /dev/log)"
TDPID=$DPID

# ---- sessions through Postfix
send p1 --to p1@other.example
accepted "plaintext to other" p1@other.example plaintext_allowed
send p2 --to p2@gdpr.example
refused "plaintext to gdpr" p2@gdpr.example "530 5\.7\.0" plaintext
send p3 --tls --to p3a@gdpr.example,p3b@other.example
accepted "TLS to gdpr" p3a@gdpr.example tls_ok
accepted "TLS to other" p3b@other.example tls_ok

# A HELO with a quote and a backslash through Postfix (it accepts any
# token as HELO here); the record quotes and escapes it.
sessions="$sessions hostile-smtp"
swaks --server 127.0.0.1 --port "$SMTP_PORT" --ehlo 'q"uote\back' --from sender@sender.example \
    --timeout 20 --to p4@other.example >"$tmp/p4.out" 2>&1
# shellcheck disable=SC2034 # read by accepted (tests/e2e/lib.sh)
out=$(cat "$tmp/p4.out")
accepted "quote in HELO via SMTP" p4@other.example plaintext_allowed
t_match "quote in HELO via SMTP: escaped in the record" ' helo="q\\"uote\\\\back" ' "$(decision_for p4@other.example)"

# ---- a sender that makes its record long: a HELO of 900 "é" (1,800 bytes,
# each escaped as \xHH: 7,200 bytes) and quoted local parts of 800 bytes.
# Without the caps the record was over 9 KiB, and a syslog daemon with the
# default maxMessageSize (8k) cut it, e.g. right after tls_version=no: the
# report took that for TLS. Now every value is cut and marked ("...") and
# the record stays whole and small; plaintext stays plaintext.
sessions="$sessions long"
decisions=$((decisions + 1))
longhelo=$(for _ in $(seq 900); do printf '\303\251'; done)
longlp=$(for _ in $(seq 200); do printf 'x y='; done)
swaks --server 127.0.0.1 --port "$SMTP_PORT" --ehlo "$longhelo" --from "\"$longlp\"@sender.example" \
    --timeout 20 --to "\"$longlp\"@other.example" >"$tmp/long.out" 2>&1
# shellcheck disable=SC2034 # read by reply_to_rcpt (tests/e2e/lib.sh)
out=$(cat "$tmp/long.out")
t_match "long values: RCPT accepted" '^250 2\.1\.5 ' "$(reply_to_rcpt "\"$longlp\"@other.example")"
i=0
while [ $i -lt 50 ] && ! grep -q '^event=decision .* helo="\\xc3\\xa9' "$tmp/td.log"; do sleep 0.1; i=$((i + 1)); done
longrec=$(grep '^event=decision .* helo="\\xc3\\xa9' "$tmp/td.log")
t_match "long values: the HELO is cut at a whole escape and marked" \
    ' helo="(\\xc3\\xa9)+(\\xc3)?\.\.\." tls_version=none ' "$longrec"
t_match "long values: the recipient is cut and marked" \
    ' rcpt="\\"(x y=)+[x y=]*\.\.\." rcpt_domain=other\.example ' "$longrec"
t_match "long values: the record still ends with its last field" ' reply=-$' "$longrec"
t_eq "long values: the record is under 6 KiB" 1 "$(( ${#longrec} < 6144 ))"

# ---- a HELO with a newline, a quote, a control byte and UTF-8, by milter
sessions="$sessions hostile-milter"
decisions=$((decisions + 1))
printf '%s\n' "
local conn = mt.connect('inet:' .. port .. '@127.0.0.1')
assert(conn, 'cannot connect')
assert(mt.conninfo(conn, 'evil', '192.0.2.66') == nil)
assert(mt.helo(conn, 'x\nevent=decision action=accept reason=tls_ok \"q\" \1 caf\195\169') == nil)
mt.macro(conn, SMFIC_MAIL, 'i', 'QIDEVIL')
assert(mt.mailfrom(conn, '<a@sender.example>') == nil)
assert(mt.rcptto(conn, '<h@gdpr.example>') == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE, 'not refused')
mt.disconnect(conn)" >"$tmp/evil.lua"
if o=$(miltertest -s "$tmp/evil.lua" -D port="$MILTER_PORT" 2>&1); then
    t_ok "hostile HELO by milter: refused"
else
    t_bad "hostile HELO by milter: refused" "$o"
fi
EVIL='helo="x\nevent=decision action=accept reason=tls_ok \"q\" \x01 caf\xc3\xa9"'

# ---- all records filed; stop tlspolicyd (its "stopped" notice is the last)
nsess=$(printf '%s' "$sessions" | wc -w)
nrec=$((decisions + nsess))
rs_wait_records "$nrec" || t_bad "rsyslogd filed $nrec records within 5 s" "$(cat "$RS_OUT/local3.log" 2>&1)"
td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
pf_stop
i=0
while [ $i -lt 50 ] && ! rs_msgs "$RS_OUT/local3.log" | grep -q '^event=notice message=stopped$'; do
    sleep 0.1; i=$((i + 1))
done
rs_stop

f="$RS_OUT/local3.log"
trad="$RS_OUT/local3.trad.log"
stderr_recs=$(grep -a '^event=' "$tmp/td.log")
filed=$(rs_msgs "$f")

# ---- what arrived is what was written
t_eq "stderr has one decision record per recipient" "$decisions" "$(grep -c '^event=decision ' <<<"$stderr_recs")"
t_eq "stderr has one session record per connection" "$nsess" "$(grep -c '^event=session ' <<<"$stderr_recs")"
t_eq "rsyslog filed every line tlspolicyd wrote, same text, same order" "$stderr_recs" "$filed"
t_eq "rsyslog filed one line per decision" "$decisions" "$(grep -c '^event=decision ' <<<"$filed")"
seqs=$(grep -oE '^event=(decision|session) seq=[0-9]+' <<<"$filed" | sed 's/.*seq=//' | tr '\n' ' ')
t_eq "seq in the filed records is contiguous from 1" "$(seq 1 "$nrec" | tr '\n' ' ')" "$seqs"
t_eq "every filed line is RFC 3339 time, our hostname, ${TD_IDENT}[$TDPID]" 0 \
    "$(grep -a -c -v -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+[+-][0-9]{2}:[0-9]{2} $RS_HOST $TD_IDENT\[$TDPID\]: event=(decision|session|notice) " "$f")"
t_eq "the traditional file has the same records" "$filed" "$(rs_msgs "$trad")"
t_eq "every traditional line is 'Mmm dd hh:mm:ss host ${TD_IDENT}[$TDPID]: '" 0 \
    "$(grep -a -c -v -E "^[A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} $RS_HOST $TD_IDENT\[$TDPID\]: event=" "$trad")"

# ---- hostile values: one line each, escaped by tlspolicyd, untouched by rsyslog
for x in "$f" "$trad"; do
    t_eq "$(basename "$x"): pure printable ASCII" 0 "$(LC_ALL=C grep -a -c '[^ -~]' "$x")"
    t_eq "$(basename "$x"): nothing escaped by rsyslog (#ooo)" 0 "$(grep -a -c '#[0-3][0-7][0-7]' "$x")"
    t_eq "$(basename "$x"): the hostile HELO is in one decision and one session line" 2 \
        "$(grep -a -c -F " $EVIL " "$x")"
done
t_eq "no filed line is a forged record" "" "$(grep -v '^event=\(decision\|session\|notice\) seq=\|^event=notice ' <<<"$filed")"
t_match "the hostile HELO's decision is the refusal" \
    "^event=decision .* action=reject .* rcpt=h@gdpr\\.example .* client_addr=192\\.0\\.2\\.66 " \
    "$(grep -F " $EVIL " <<<"$filed")"

# ---- facility and severity: the local3 rule got them, nothing else did
prio=$(rs_tagged "$RS_OUT/local3.prio.log")
t_eq "every record was filed as local3.info" "$nrec" \
    "$(grep -c "^local3\\.info $TD_IDENT\\[$TDPID\\]: event=\\(decision\\|session\\) " <<<"$prio")"
t_eq "nothing of tlspolicyd under another facility" "" "$(rs_tagged "$RS_OUT/other.log")"
t_match "the catch-all rule works (rsyslogd's own start message)" 'rsyslogd: \[origin software="rsyslogd".*\] start' \
    "$(cat "$RS_OUT/other.log")"
t_eq "rsyslogd reported no trouble" "" "$(grep -a -v '\] start$\|\] exiting on signal 15\.$' "$RS_OUT/other.log")"
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer' "$(cat "$tmp/td.log")"

# ---- tlspolicy-report reads what rsyslogd filed, in both formats; the
# records are tagged with our ident, which --ident names
R="$top_builddir/src/report/tlspolicy-report"
ndec=$(grep -c '^event=decision ' <<<"$filed")
ntls=$(grep -c '^event=decision .* tls_version=TLS' <<<"$filed")
for x in "$f" "$trad"; do
    rep=$("$R" --ident "$TD_IDENT" -f json "$x" 2>"$tmp/report.err"); rc=$?
    t_eq "tlspolicy-report reads $(basename "$x")" 0 "$rc"
    t_match "$(basename "$x"): every decision counted, none malformed" \
        "\"decisions\": $ndec, .*\"malformed\": 0," "$(tr -d '\n' <<<"$rep")"
    t_match "$(basename "$x"): no records missing" "\"missing\": 0" "$rep"
    t_match "$(basename "$x"): $ntls of $ndec recipients over TLS, the long plaintext one not" \
        "\"total\": \\{ *\"group\": null, *\"recipients\": $ndec, *\"tls\": $ntls," "$(tr -d '\n' <<<"$rep")"
    rep=$("$R" -f json "$x" 2>/dev/null)
    t_match "$(basename "$x"): without --ident, $TD_IDENT's records are another program's" \
        "\"decisions\": 0, .*\"foreign\": $nrec," "$(tr -d '\n' <<<"$rep")"
done

# ---- the shipped rule (contrib/rsyslog) loads after imuxsock, as Debian's
# rsyslog.conf includes rsyslog.d, and its maxMessageSize takes effect there:
# a 20 kB message under the ident is filed whole (rsyslog's default 8k
# would cut it). Its own socket in $tmp: our /dev/log is not touched.
sed -e "s|/var/log/tlspolicyd.log|$RS_OUT/shipped.log|" -e "s|\"tlspolicyd\"|\"$TD_IDENT\"|" \
    "$top_srcdir/contrib/rsyslog/30-tlspolicyd.conf" >"$tmp/rsyslog/30-tlspolicyd.conf"
cat >"$tmp/rsyslog/shipped.conf" <<EOF
module(load="imuxsock" SysSock.Name="$tmp/rsyslog/shipped.sock" SysSock.RateLimit.Interval="0")
global(workDirectory="$tmp/rsyslog/work")
\$IncludeConfig $tmp/rsyslog/30-tlspolicyd.conf
EOF
# shellcheck disable=SC2086
if o=$("$RS_BIN" ${RS_MODDIR:+-M "$RS_MODDIR"} -N1 -f "$tmp/rsyslog/shipped.conf" 2>&1); then
    t_ok "rsyslogd accepts the shipped rule"
else
    t_bad "rsyslogd accepts the shipped rule" "$o"
fi
# shellcheck disable=SC2086
(exec env -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES -u NOTIFY_SOCKET \
    "$RS_BIN" ${RS_MODDIR:+-M "$RS_MODDIR"} -n -f "$tmp/rsyslog/shipped.conf" -i "$tmp/rsyslog/shipped.pid" \
    >"$tmp/rsyslog/shipped.out" 2>&1) &
RSPID=$!
i=0
while [ $i -lt 50 ] && [ ! -S "$tmp/rsyslog/shipped.sock" ]; do sleep 0.1; i=$((i + 1)); done
big="event=session seq=1 instance=big helo=\"$(head -c 20000 /dev/zero | tr '\0' h)\" duration_ms=1"
logger -u "$tmp/rsyslog/shipped.sock" --size 70000 --id=$$ -t "$TD_IDENT" "$big"
i=0
while [ $i -lt 50 ] && ! grep -q 'duration_ms=1$' "$RS_OUT/shipped.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
rs_stop
t_eq "the shipped rule files a 20 kB message whole" "$big" "$(rs_msgs "$RS_OUT/shipped.log")"

# ---- keep the filed records for tlspolicy-report
keep="${PIPELINE_LOG_DIR:-$top_builddir/tests/e2e}"
if mkdir -p "$keep" && cp "$f" "$keep/syslog-pipeline.log" && cp "$trad" "$keep/syslog-pipeline.trad.log"; then
    echo "# filed records: $keep/syslog-pipeline.log (RFC 3339), $keep/syslog-pipeline.trad.log (traditional)"
else
    t_bad "filed records kept in $keep" "copy failed"
fi
rs_counts
