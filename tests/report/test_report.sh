#!/bin/sh
# test_report - tlspolicy-report on synthetic logs (golden outputs) and on
# records written by tlspolicyd itself.
#
# The synthetic logs under data/ cover every prefix (traditional, RFC 3339,
# RFC 5424 with structured data and BOM, journalctl short-iso and cat,
# Postfix maillog_file gzip'd), both record formats, a seq gap across
# files, and hostile lines. Outputs are compared byte for byte with
# golden/; REPORT_REGEN=1 rewrites the goldens (review the diff!).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

R="${REPORT:-$top_builddir/src/report/tlspolicy-report}"
D="$top_builddir/src/tlspolicyd"
DATA="$top_srcdir/tests/report/data"
GOLD="$top_srcdir/tests/report/golden"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Traditional time stamps have no year and no zone: pin both.
TZ=UTC
export TZ
ALL="trad.log rfc3339.log rfc5424.log shortiso.log cat.log maillog.gz hostile.log"

# golden NAME ARGS... - run in data/ and compare stdout with golden/NAME
golden() {
    name=$1
    shift
    (cd "$DATA" && "$R" --year 2026 "$@") >"$tmp/$name" 2>"$tmp/$name.err"
    if [ "${REPORT_REGEN:-}" = 1 ]; then
        cp "$tmp/$name" "$GOLD/$name"
    fi
    if d=$(diff -u "$GOLD/$name" "$tmp/$name"); then
        t_ok "golden $name"
    else
        t_bad "golden $name" "$d"
    fi
}

# field FILE KEY - the first numeric "KEY": N of a json report
field() { sed -n "s/^ *\"$2\": \([0-9][0-9]*\).*/\1/p" "$1" | head -n 1; }

golden all_rcpt.txt $ALL
golden all_client.txt --by client_domain $ALL
golden all_sender.json -f json --by sender_domain $ALL
golden all_day.csv -f csv --by day $ALL
golden period.json -f json --since 2026-11-22T14:36:00+01:00 --until 2026-11-24 $ALL
golden period_day.txt --by day --since 2026-11-23 $ALL
golden all_rcpt.html -f html $ALL
golden period_client.html -f html --by client_domain --since 2026-11-22T14:36:00+01:00 --until 2026-11-24 $ALL

# Diagnostics: clients gone from TLS to plaintext, with their last TLS
# facts and what OpenSSL says those ciphers imply (golden/downgrade.txt).
golden downgrade.txt --by client_domain downgrade.log
d=$(sed -n '/^TLS to plaintext/,$p' "$tmp/downgrade.txt")
t_match "transitions: pphosted.com last TLS facts" '^    last TLS: +2026-01-02T10:00:00\+0000 TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384$' "$d"
t_match "transitions: pphosted.com refused after the change" '^    plaintext decisions: 3, refused recipients: 2$' "$d"
t_match "transitions: ECDHE-RSA is RSA-only authentication" '^    implies: +only RSA-authenticated suites seen' "$d"
t_match "transitions: TLSv1 AES256-SHA is old, static RSA, CBC" 'only TLS 1.0/1.1 seen.*only RSA-auth.*only static RSA key exchange.*only CBC/3DES' "$(printf '%s' "$d" | tr '\n' ' ')"
t_match "transitions: an unknown cipher implies nothing" 'unknown: cipher MADE-UP-CIPHER not known to OpenSSL' "$d"
t_nomatch "transitions: a TLS-only client is not listed" 'good\.example' "$d"
t_nomatch "transitions: a plaintext-only client is not listed" '198\.51\.100\.9' "$d"
(cd "$DATA" && "$R" --year 2026 -f json downgrade.log) >"$tmp/dg.json" 2>/dev/null
t_eq "transitions json: three clients" "oldcorp.example pphosted.com weird.example" \
    "$(sed -n 's/^ *"client": "\(.*\)",$/\1/p' "$tmp/dg.json" | tr '\n' ' ' | sed 's/ $//')"
t_match "transitions json: refused recipients" '"refused_recipients": 2' "$(cat "$tmp/dg.json")"

# Malformed lines are counted and named; the report goes on.
(cd "$DATA" && "$R" --year 2026 -f json hostile.log) >"$tmp/h.json" 2>/dev/null
t_eq "hostile: malformed count" 17 "$(field "$tmp/h.json" malformed)"
t_eq "hostile: valid records still counted" 4 "$(field "$tmp/h.json" decisions)"
t_match "hostile: first malformed named with file and line" '"file": "hostile.log"' "$(cat "$tmp/h.json")"
t_nomatch "hostile: no raw escape byte in the report" "$(printf '\033')" "$(cat "$tmp/h.json")"
(cd "$DATA" && "$R" --year 2026 hostile.log) >"$tmp/h.txt" 2>/dev/null
t_nomatch "hostile text: no raw escape byte" "$(printf '\033')" "$(cat "$tmp/h.txt")"
t_match "hostile text: escape shown as \\x1b" 'EVIL\\x1b\[2J\\x07CIPHER 1' "$(cat "$tmp/h.txt")"

# Records cut by a syslog daemon at 8 KiB (a writer before the length caps,
# a long quoted HELO or local part): a record without its last field is
# malformed, so a value cut to "tls_version=no" is never counted as TLS.
golden cut.txt cut.log
(cd "$DATA" && "$R" --year 2026 -f json cut.log) >"$tmp/cut.json" 2>/dev/null
t_eq "cut: only the whole record counts" 1 "$(field "$tmp/cut.json" decisions)"
t_eq "cut: no recipient over TLS" 0 "$(field "$tmp/cut.json" tls)"
t_eq "cut: four malformed" 4 "$(field "$tmp/cut.json" malformed)"
t_match "cut: after tls_version=no, named" '"error": "missing reply: record cut short"' "$(cat "$tmp/cut.json")"
t_match "cut: a session without duration_ms, named" '"error": "missing duration_ms: record cut short"' \
    "$(cat "$tmp/cut.json")"

# Duplicates: the shipped rsyslog rule files every record in tlspolicyd.log
# and in mail.log; a record counts once per (instance, seq) in every count,
# and the copies are reported.
golden dup3.txt dup.log dup.log dup.log
t_eq "dup: three copies give the groups of one" \
    "$(cd "$DATA" && "$R" --year 2026 dup.log 2>/dev/null | sed -n '/^Groups/,$p')" \
    "$(cd "$DATA" && "$R" --year 2026 dup.log dup.log dup.log 2>/dev/null | sed -n '/^Groups/,$p')"
awk -v n=1000 -f "$top_srcdir/bench/report.awk" >"$tmp/k.log"
"$R" --year 2026 -f json "$tmp/k.log" "$tmp/k.log" "$tmp/k.log" >"$tmp/k3.json" 2>/dev/null
"$R" --year 2026 "$tmp/k.log" "$tmp/k.log" "$tmp/k.log" >"$tmp/k3.txt" 2>/dev/null
t_eq "dup: 1,000 records three times are 1,000 recipients" 1000 "$(awk '$1 == "TOTAL" { print $2; exit }' "$tmp/k3.txt")"
t_eq "dup: 1,000 records three times, 1,000 decisions read" 1000 "$(field "$tmp/k3.json" decisions)"
t_eq "dup: and 2,000 duplicates" 2000 "$(field "$tmp/k3.json" duplicates)"
(cd "$DATA" && "$R" --year 2026 --by client_domain downgrade.log) 2>/dev/null | sed -n '/^TLS to plaintext/,$p' >"$tmp/t1"
(cd "$DATA" && "$R" --year 2026 --by client_domain downgrade.log downgrade.log downgrade.log) 2>/dev/null |
    sed -n '/^TLS to plaintext/,$p' >"$tmp/t3"
t_eq "dup: transitions count each record once" "$(cat "$tmp/t1")" "$(cat "$tmp/t3")"
# --diagnose: the records filed twice more (the MTA's lines are in mail.log only)
grep -h tlspolicyd "$DATA/diagnose-mx1.log" "$DATA/diagnose-mx2.log" >"$tmp/dx-records.log"
(cd "$DATA" && "$R" --year 2026 --diagnose diagnose-mx1.log diagnose-mx2.log) 2>/dev/null |
    sed -n '/^Diagnosis/,$p' >"$tmp/dx1"
(cd "$DATA" && "$R" --year 2026 --diagnose diagnose-mx1.log diagnose-mx2.log "$tmp/dx-records.log" \
    "$tmp/dx-records.log") 2>/dev/null | sed -n '/^Diagnosis/,$p' >"$tmp/dx3"
t_match "dup: diagnose has a diagnosis" 'first failure' "$(cat "$tmp/dx1")"
t_eq "dup: diagnose counts each record once" "$(cat "$tmp/dx1")" "$(cat "$tmp/dx3")"

# The syslog tag must be the ident (--ident, default tlspolicyd; or
# "postfix/tlspolicyd"): any local user can run logger, and a record line
# of another program is counted apart, never read.
golden foreign.txt foreign.log
(cd "$DATA" && "$R" --year 2026 -f json foreign.log) >"$tmp/fo.json" 2>/dev/null
t_eq "foreign: six lines of another program" 6 "$(field "$tmp/fo.json" foreign)"
t_eq "foreign: no forged TLS recipient" 0 "$(field "$tmp/fo.json" tls)"
t_eq "foreign: the records of tlspolicyd and postfix/tlspolicyd" 2 "$(field "$tmp/fo.json" decisions)"
(cd "$DATA" && "$R" --year 2026 -f json --ident alice foreign.log) >"$tmp/fa.json" 2>/dev/null
t_eq "--ident alice: alice's two records read" 2 "$(field "$tmp/fa.json" decisions)"
t_eq "--ident alice: tlspolicyd's and logger's lines are foreign" 7 "$(field "$tmp/fa.json" foreign)"
# A stamped line without a tag: a message sent to the log socket without
# one (syslog(3) always sends tlspolicyd's ident); a bare line is read.
good=$(sed -n 2p "$DATA/trad.log")
printf '%s\n' "$good" | sed 's/ tlspolicyd\[123\]://' >"$tmp/notag.log"
"$R" --year 2026 -f json "$tmp/notag.log" >"$tmp/nt.json" 2>/dev/null
t_eq "a stamped record line without a tag is foreign" 1 "$(field "$tmp/nt.json" foreign)"
printf '%s\n' "$good" | sed 's/^.* tlspolicyd\[123\]: //' >"$tmp/bare.log"
"$R" --year 2026 -f json "$tmp/bare.log" >"$tmp/ba.json" 2>/dev/null
t_eq "a bare record line (tlspolicyd -f) is read" 1 "$(field "$tmp/ba.json" decisions)"
(cd "$DATA" && "$R" --year 2026 -f json cat.log) >"$tmp/ca.json" 2>/dev/null
t_eq "untagged lines (journalctl -o cat) are read" 0 "$(field "$tmp/ca.json" foreign)"
"$R" --ident 'a b' "$DATA/trad.log" >/dev/null 2>&1; rc=$?
t_eq "--ident with a space: usage error" 2 "$rc"

# A json record with a key given twice (json-c keeps the last) is forged.
golden jsondup.txt jsondup.log
(cd "$DATA" && "$R" --year 2026 -f json jsondup.log) >"$tmp/jd.json" 2>/dev/null
t_eq "json repeated key: two malformed" 2 "$(field "$tmp/jd.json" malformed)"
t_match "json repeated key: named" '"error": "repeated json key"' "$(cat "$tmp/jd.json")"
t_eq "json repeated key: no TLS from the second tls_version" 0 "$(field "$tmp/jd.json" tls)"

# A NUL byte and a line longer than the limit: malformed, not a crash.
good=$(sed -n 2p "$DATA/trad.log")
{ printf '%s\000tail\n' "$good"; printf '%s' "$good"; head -c 70000 /dev/zero | tr '\000' x; printf '\n%s\n' "$good"; } >"$tmp/nul.log"
"$R" --year 2026 -f json "$tmp/nul.log" >"$tmp/nul.json" 2>/dev/null; rc=$?
t_eq "NUL and overlong: exit 0" 0 "$rc"
t_eq "NUL and overlong: 2 malformed" 2 "$(field "$tmp/nul.json" malformed)"
t_eq "NUL and overlong: the good line after them counts" 1 "$(field "$tmp/nul.json" decisions)"
t_match "NUL byte named" '"error": "NUL byte in line"' "$(cat "$tmp/nul.json")"
t_match "overlong line named" '"error": "line too long"' "$(cat "$tmp/nul.json")"

# stdin, gzip and -o give the same report as files.
(cd "$DATA" && "$R" --year 2026 trad.log) >"$tmp/f.txt" 2>/dev/null
"$R" --year 2026 - <"$DATA/trad.log" >"$tmp/s.txt" 2>/dev/null
t_eq "stdin equals file" "$(cat "$tmp/f.txt")" "$(cat "$tmp/s.txt")"
gzip -c "$DATA/trad.log" | "$R" --year 2026 >"$tmp/z.txt" 2>/dev/null
t_eq "gzip on stdin equals plain" "$(cat "$tmp/f.txt")" "$(cat "$tmp/z.txt")"
(cd "$DATA" && "$R" --year 2026 -o "$tmp/o.txt" trad.log) 2>/dev/null
t_eq "-o FILE equals stdout" "$(cat "$tmp/f.txt")" "$(cat "$tmp/o.txt")"
gzip -dc "$DATA/maillog.gz" >"$tmp/maillog"
a=$("$R" --year 2026 -f csv "$tmp/maillog" 2>/dev/null); b=$("$R" --year 2026 -f csv "$DATA/maillog.gz" 2>/dev/null)
t_eq "gzip file equals plain file" "$a" "$b"

# The seq gap is reported at the top and on stderr.
err=$( (cd "$DATA" && "$R" --year 2026 $ALL) 2>&1 >/dev/null)
t_match "gap warning on stderr" '^tlspolicy-report: warning: instance a1: 2 records missing between seq 1 and 12$' "$err"
t_eq "gap listed before the groups" 1 "$(grep -n 'missing: 4, 11$' "$GOLD/all_rcpt.txt" | cut -d: -f1 | awk '{print ($1 < 10)}')"

# html: well-formed XML (XHTML syntax) and parsed by an HTML parser;
# self-contained (no script, no external reference); every log value
# escaped. libxml2 2.9's HTML parser predates HTML5 and names each SVG
# element an invalid tag: only those messages are tolerated.
# html_check NAME FILE - the markup checks on one html report
html_check() {
    if ! command -v xmllint >/dev/null 2>&1; then
        t_bad "html $1: xmllint is installed" "xmllint not found (Debian package libxml2-utils)"
        return
    fi
    e=$(xmllint --noout "$2" 2>&1); rc=$?
    t_eq "html $1: well-formed XML (xmllint)" "0:" "$rc:$e"
    e=$(xmllint --html --noout "$2" 2>&1); rc=$?
    e=$(printf '%s\n' "$e" | grep -E 'error|warning' | grep -vE 'HTML parser error : Tag (svg|line|rect|text) invalid$')
    t_eq "html $1: parsed by the HTML parser (xmllint --html)" "0:" "$rc:$e"
    t_nomatch "html $1: no script" '<script|javascript:|[[:space:]]on[a-z]+=' "$(cat "$2")"
    t_nomatch "html $1: no external reference" 'src=|href=|url\(|@import|https?://' \
        "$(sed 's#xmlns="http://www.w3.org/[0-9]*/[a-z]*"##g' "$2")"
}
html_check all_rcpt "$tmp/all_rcpt.html"
html_check period_client "$tmp/period_client.html"
h=$(cat "$tmp/all_rcpt.html")
t_match "html: UTF-8 declared" '^<meta charset="utf-8"/>$' "$h"
t_match "html: gap instance highlighted" '^<tr class="gap"><td class="v">a1</td><td>RECORDS MISSING</td>' "$h"
t_eq "html: the seq table comes before the groups" 1 \
    "$(grep -n -e '^<tr class="gap">' -e '^<h2>Groups by' "$tmp/all_rcpt.html" | head -n 1 | grep -c 'gap')"
t_match "html: a TLS share bar (70% of 400px)" '<rect x="230" y="65" width="280.0" height="14"' "$h"
t_match "html: a version segment" '<title>none: 3 of 10</title>' "$h"
t_match "html: escape bytes shown as \\x1b" '>\\x1b\[31mred<' "$h"

# Markup in every field a log controls: instance, domains, client name,
# version, cipher (kv and json), and the name of the file.
cat >"$tmp/<script>x.log" <<'LOG'
Nov 22 14:31:52 mx1 tlspolicyd[123]: event=decision seq=1 instance="<script>i</script>" config=0123456789ab qid=- action=accept would=- reason=tls_ok policy=gdpr,default level=required mode=enforce rcpt=u@gdpr.example rcpt_domain="<script>alert(\"x\")</script>&'y" sender=s@partner.example sender_domain="<script>s</script>&amp;" client_addr=192.0.2.10 client_name="<script>.example" helo=mx1.partner.example tls_version="<script>v</script>" cipher="<script>c</script>\"'&" cipher_bits=256 cert_verified=no cert_subject=- cert_issuer=- fallback_key=- deferrals=- reply=-
Nov 22 14:31:53 mx1 tlspolicyd[123]: {"event":"decision","seq":2,"instance":"<script>i</script>","config":"0123456789ab","qid":null,"action":"accept","would":null,"reason":"tls_ok","policy":"gdpr","level":"required","mode":"enforce","rcpt":"u@gdpr.example","rcpt_domain":"</td><script>j</script>\u0022\u0027","sender":"s@partner.example","sender_domain":"<script>","client_addr":"192.0.2.10","client_name":"<script>","helo":"x","tls_version":"TLSv1.3","cipher":"<script>","cipher_bits":256,"cert_verified":"no","cert_subject":null,"cert_issuer":null,"fallback_key":null,"deferrals":null,"reply":null}
Nov 22 14:31:54 mx1 tlspolicyd[123]: event=decision seq=x instance="<script>"
LOG
for by in rcpt_domain sender_domain client_domain; do
    "$R" --year 2026 -f html --by "$by" "$tmp/<script>x.log" >"$tmp/x-$by.html" 2>/dev/null
    html_check "hostile by $by" "$tmp/x-$by.html"
done
h=$(cat "$tmp/x-rcpt_domain.html")
t_match "html hostile: domain escaped" '>&lt;script&gt;alert\(&quot;x&quot;\)&lt;/script&gt;&amp;&#39;y<' "$h"
t_match "html hostile: json value escaped" '>&lt;/td&gt;&lt;script&gt;j&lt;/script&gt;&quot;&#39;<' "$h"
t_match "html hostile: cipher escaped" '>&lt;script&gt;c&lt;/script&gt;&quot;&#39;&amp; 1<' "$h"
t_match "html hostile: file name escaped" '>[^<]*&lt;script&gt;x\.log</td><td class="n">3</td>' "$h"
t_match "html hostile: unknown version charted as other" '<title>other: 1 of 1</title>' "$h"

# --diagnose: the MTA's handshake failures joined with the records per
# client, placed by time. The Postfix and Sendmail lines in data/diagnose-*
# have the exact shape a real Postfix 3.7.11 and Sendmail 8.17.1.9 logged
# under OpenSSL 3.0 (an ECDSA P-384-only server, a client offering only
# RSA-authenticated suites; a TLS 1.0 client against a TLSv1.2 floor).
# mx1 and mx2 are two hosts; mx2's failure of the partner comes first.
DX="diagnose-mx1.log diagnose-mx2.log"
golden diagnose.txt --diagnose $DX
golden diagnose.json -f json --diagnose $DX
golden diagnose.html -f html --diagnose $DX
html_check diagnose "$tmp/diagnose.html"
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/diagnose.txt")
# client_block NAME - one client's rows of the text section in $dx
client_block() { printf '%s\n' "$dx" | awk -v c="  $1" '$0 == c { f = 1; next } /^  [^ ]/ { f = 0 } f'; }
p=$(client_block partner.example)
t_match "diagnose: the partner's last TLS facts before its first failure" \
    '^    last TLS: +2026-11-20T10:00:02\+0000 TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384$' "$p"
t_match "diagnose: first failure on mx2, joined by address (Postfix logged unknown[192.0.2.11])" \
    '^    first failure: +2026-11-21T08:30:00\+0000 postfix on mx2, 192.0.2.11: no shared cipher$' "$p"
t_match "diagnose: failures of both hosts counted" '^    failures: +2 \(no shared cipher 2\)$' "$p"
t_match "diagnose: refused and deferred after the failure" \
    '^    plaintext after the failure: +3, first 2026-11-21T08:30:10\+0000; rejected 1, deferred 1$' "$p"
t_match "diagnose: the refused recipients' domain" '^    refused recipient domains: +gdpr\.example 2$' "$p"
t_match "diagnose: TLS again after the fix" '^    TLS after the failure: +1, last 2026-11-22T12:00:00\+0000$' "$p"
t_match "diagnose: RSA-only, now no shared cipher: the RSA certificate remedy" \
    '^    remedy: +serve an RSA certificate beside the ECDSA one \(Postfix smtpd_tls_chain_files, Sendmail a second confSERVER_CERT' "$p"
p=$(client_block staticrsa.example)
t_match "diagnose: static RSA: RSA certificate and kRSA both named" \
    'our server no longer offers an RSA certificate.*our server stopped offering kRSA suites' "$(printf '%s' "$p" | tr '\n' ' ')"
p=$(client_block oldcorp.example)
t_match "diagnose: TLS 1.0 client, now unsupported protocol: the protocol floor" \
    '^    cause: +last used only TLS 1.0/1.1, now fails with a protocol error: our protocol floor locks it out$' "$p"
t_eq "diagnose: TLS 1.0 client: one cause only" 1 "$(printf '%s\n' "$p" | grep -c '^    cause:')"
t_match "diagnose: TLS 1.3 before, no shared cipher now: unknown, with the facts needed" \
    '^    cause: +unknown: what it last negotiated does not explain the failure; facts needed' "$(client_block tls13.example)"
p=$(client_block 198.51.100.20)
t_match "diagnose: failures but no records: still shown" '^    failures: +2 \(no shared cipher 2\)$' "$p"
t_match "diagnose: failures but no records: cause unknown" '^    cause: +unknown: no decision over TLS before the first failure' "$p"
t_nomatch "diagnose: failures but no records: no remedy" 'remedy:' "$p"
# A "lost connection after STARTTLS" without an SSL_accept line before it
# followed a handshake that worked (Postfix logs every failed one): not a
# failure, a close, with its own cause.
p=$(client_block lostconn.example)
t_match "diagnose: a lost connection alone: counted as a close" '^    closed after STARTTLS: +1, first 2026-11-21T10:00:00\+0000$' "$p"
t_match "diagnose: a lost connection alone: no failure" '^    first failure: +none in the MTA logs read$' "$p"
t_match "diagnose: a lost connection alone: the certificate is not accepted" \
    '^    cause: +the client completed the TLS handshake and then closed the connection: it probably does not accept our certificate' "$p"
t_match "diagnose: a lost connection alone: check the chain and name" '^    remedy: +check the certificate chain and name' "$p"
t_nomatch "diagnose: a lost connection alone: no OpenSSL reason asked for" "OpenSSL's reason" "$p"
p=$(client_block nofail.example)
t_match "diagnose: TLS then plaintext, no failure: listed" '^    plaintext after last TLS: +1, first ' "$p"
t_match "diagnose: no failure: no cause invented" '^    cause: +none known: no handshake failure in the MTA logs read$' "$p"
t_nomatch "diagnose: a TLS-only client is not listed" 'good\.example' "$dx"
t_match "diagnose: Postfix's own TLS client failure is not counted" '^  read: 7 handshake failures, 1 closed after STARTTLS, 0 failure lines refused' "$dx"
t_nomatch "diagnose: the old section is replaced" '^TLS to plaintext' "$(cat "$tmp/diagnose.txt")"
j=$(cat "$tmp/diagnose.json")
t_match "diagnose json: causes by pattern" '"pattern": "rsa_certificate"' "$j"
blk=$(printf '%s\n' "$j" | sed -n '/"diagnosis": \[/,$p' |
    awk '/"client": "nofail\.example"/ { f = 1 } f && /"client": / && !/nofail/ { f = 0 } f')
t_match "diagnose json: no failure, no cause" '"causes":\[\]' "$(printf '%s' "$blk" | tr -d ' \n')"
t_match "diagnose json: the old array is kept" '"diagnostics": \[' "$j"

# Time order, not read order: hosts reversed, one stream, gzip'd on a pipe,
# and a redirected file all give the same diagnosis.
(cd "$DATA" && "$R" --year 2026 --diagnose diagnose-mx2.log diagnose-mx1.log) 2>&1 | sed -n '/^Diagnosis/,$p' >"$tmp/rev.txt"
t_eq "diagnose: files in the other order, same diagnosis" "$dx" "$(cat "$tmp/rev.txt")"
(cd "$DATA" && cat diagnose-mx2.log diagnose-mx1.log) | "$R" --year 2026 --diagnose 2>&1 | sed -n '/^Diagnosis/,$p' >"$tmp/pipe.txt"
t_eq "diagnose: one stream on stdin (a pipe, read twice), same diagnosis" "$dx" "$(cat "$tmp/pipe.txt")"
(cd "$DATA" && cat diagnose-mx1.log diagnose-mx2.log) | gzip -c >"$tmp/dx.gz"
gzip -dc "$tmp/dx.gz" | gzip -c | "$R" --year 2026 --diagnose - 2>&1 | sed -n '/^Diagnosis/,$p' >"$tmp/gzpipe.txt"
t_eq "diagnose: gzip on a pipe, same diagnosis" "$dx" "$(cat "$tmp/gzpipe.txt")"
"$R" --year 2026 --diagnose <"$tmp/dx.gz" 2>&1 | sed -n '/^Diagnosis/,$p' >"$tmp/redir.txt"
t_eq "diagnose: redirected gzip file, same diagnosis" "$dx" "$(cat "$tmp/redir.txt")"
# Inputs that cannot be reopened: process substitution (/dev/fd/N, a
# pipe), /dev/stdin as a pipe and a named FIFO are copied in pass one;
# before, pass two read nothing from them (every client "last TLS: none")
# or hung reopening the FIFO: timeout makes a hang fail.
if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
    (cd "$DATA" && timeout 20 bash -c '"$0" --year 2026 --diagnose <(cat diagnose-mx1.log diagnose-mx2.log)' "$R") 2>&1 |
        sed -n '/^Diagnosis/,$p' >"$tmp/procsub.txt"
    t_eq "diagnose: process substitution, same diagnosis" "$dx" "$(cat "$tmp/procsub.txt")"
    (cd "$DATA" && cat diagnose-mx1.log diagnose-mx2.log | timeout 20 "$R" --year 2026 --diagnose /dev/stdin) 2>&1 |
        sed -n '/^Diagnosis/,$p' >"$tmp/devstdin.txt"
    t_eq "diagnose: /dev/stdin as a pipe, same diagnosis" "$dx" "$(cat "$tmp/devstdin.txt")"
    mkfifo "$tmp/fifo"
    (cd "$DATA" && cat diagnose-mx1.log diagnose-mx2.log >"$tmp/fifo") &
    timeout 20 "$R" --year 2026 --diagnose "$tmp/fifo" >"$tmp/fifo.out" 2>&1; rc=$?
    wait
    t_eq "diagnose: a FIFO: exit 0, no hang" 0 "$rc"
    t_eq "diagnose: a FIFO, same diagnosis" "$dx" "$(sed -n '/^Diagnosis/,$p' "$tmp/fifo.out")"
else
    t_bad "diagnose: bash and timeout are installed" "bash or timeout not found"
fi
(cd "$DATA" && "$R" --year 2026 --since 2026-11-21T09:00:00+00:00 --diagnose $DX) 2>&1 | sed -n '/^Diagnosis/,$p' >"$tmp/since.txt"
t_match "diagnose --since: the first failure in the period" \
    '^    first failure: +2026-11-21T09:00:00\+0000 postfix on mx1, 192.0.2.10: no shared cipher$' "$(cat "$tmp/since.txt")"
t_match "diagnose --since: TLS facts before the period are not used" \
    '^    last TLS: +none before the first failure$' "$(cat "$tmp/since.txt")"

# Sendmail: the reason from accept failed=, or from its OpenSSL line when
# that says "unknown"; a name "(may be forged)" is not used.
golden diagnose_sendmail.txt --diagnose diagnose-sendmail.log
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/diagnose_sendmail.txt")
t_match "sendmail: RSA certificate remedy" 'our server no longer offers an RSA certificate' "$(client_block partner-sm.example)"
p=$(client_block 192.0.2.31)
t_match "sendmail: forged name not used, reason from the OpenSSL line" \
    '^    first failure: +2026-11-21T09:10:00\+0000 sendmail on smx, 192.0.2.31: unsupported protocol$' "$p"
t_match "sendmail: TLS 1.1 client: protocol floor" 'our protocol floor locks it out' "$p"
t_nomatch "sendmail: no client named after the forged name" 'forged\.example' "$dx"

# Exim's mainlog, failures and no records at all: every failure still
# diagnosed, cause unknown; errors after the handshake (recv) are not
# handshake failures; a HELO imitating the end of the line names no client.
golden diagnose_exim.txt --diagnose diagnose-exim.log
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/diagnose_exim.txt")
t_match "exim: failures read" '^  read: 7 handshake failures, 0 closed after STARTTLS, 0 failure lines refused' "$dx"
# log_selector +incoming_interface: the client's address, not our I=[...]
t_match "exim: I=[our address] is not the client" '^  other\.example$' "$dx"
t_match "exim: I= without a name: the client's address" '^  203\.0\.113\.9$' "$dx"
t_nomatch "exim: our I= address is nobody" '^  192\.0\.2\.1$' "$dx"
t_match "exim: name, HELO and port" '^    failures: +2 \(no shared cipher 2\)$' "$(client_block partner.example)"
t_match "exim: the address after the forged HELO" '^  192\.0\.2\.42$' "$dx"
t_nomatch "exim: the forged address is nobody" '10\.0\.0\.1|192\.0\.2\.41' "$dx"
t_eq "exim: no records, no remedy" 0 "$(printf '%s\n' "$dx" | grep -c 'remedy:')"

# Suites this OpenSSL lacks (3DES, RC4; by OpenSSL or IANA name) still
# imply their properties; a cipher nobody knows implies nothing, and the
# cause says so instead of blaming the facts.
golden diagnose_legacy.txt --diagnose diagnose-legacy.log
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/diagnose_legacy.txt")
t_match "3DES only: legacy_removed" '^    cause: +last used only 3DES/RC4 suites' "$(client_block old.example)"
t_nomatch "3DES only: not 'add the CBC suites again'" 'add the CBC suites' "$(client_block old.example)"
t_match "RC4 by IANA name: legacy_removed" '^    cause: +last used only 3DES/RC4 suites' "$(client_block rc4.example)"
t_match "RC4 by IANA name: RSA authentication implied" 'only RSA-authenticated suites seen' "$(client_block rc4.example)"
t_match "unknown cipher: said so" '^    cause: +unknown: a cipher it negotiated is unknown to this OpenSSL' "$(client_block odd.example)"

# rsa_certificate is not claimed outright when the records refute it: an
# RSA-authenticated decision (any client) between a client's first and
# last failure means some server still offers an RSA certificate; RSA
# back only after the last failure (the fix) refutes nothing.
golden diagnose_rsa_elsewhere.txt --diagnose diagnose-rsa-elsewhere.log
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/diagnose_rsa_elsewhere.txt")
t_match "RSA offered while it kept failing: said so" \
    '^    cause: .*but while it kept failing, clients negotiated RSA-authenticated suites' "$(client_block old.example)"
t_match "RSA offered while it kept failing: remedy names the server that logged it" \
    '^    remedy: +make the server that logged the failure serve an RSA certificate' "$(client_block old.example)"
t_match "RSA back only after the last failure: the plain cause" \
    '^    cause: .*"no shared cipher": our server no longer offers an RSA certificate$' "$(client_block fixed.example)"

# OpenSSL 3 refuses a TLS 1.0 client with "no suitable signature
# algorithm" (alert 80): the security level pattern, not unknown.
(cd "$DATA" && "$R" --year 2026 --diagnose diagnose-tls10.log) 2>&1 | sed -n '/^Diagnosis/,$p' >"$tmp/tls10.txt"
p=$(dx=$(cat "$tmp/tls10.txt"); client_block old.example)
t_match "TLS 1.0 and no suitable signature algorithm: security_level" \
    '^    cause: +last used only TLS 1\.0/1\.1, now fails with "no suitable signature algorithm": OpenSSL 3' "$p"
t_match "TLS 1.0 and no suitable signature algorithm: @SECLEVEL=0 remedy" '^    remedy: .*@SECLEVEL=0' "$p"

# Postfix's tlsproxy (postscreen) names no client and logs a port; smtpd
# with smtpd_client_port_logging=yes logs NAME[ADDR]:PORT.
{
    cat "$DATA/diagnose-tlsproxy.log"
    echo 'Nov 21 09:00:02 mx1 postfix/smtpd[4]: SSL_accept error from mx.port.example[192.0.2.7]:41234: -1'
    echo 'Nov 21 09:00:02 mx1 postfix/smtpd[4]: warning: TLS library problem: error:0A0000C1:SSL routines::no shared cipher:x.c:1:'
    echo 'Nov 21 09:00:02 mx1 postfix/smtpd[4]: lost connection after STARTTLS from mx.port.example[192.0.2.7]:41234'
} >"$tmp/ports.log"
dx=$("$R" --year 2026 --diagnose "$tmp/ports.log" 2>&1 | sed -n '/^Diagnosis/,$p')
t_match "tlsproxy and port logging: three failures, none refused" \
    '^  read: 3 handshake failures, 0 closed after STARTTLS, 0 failure lines refused' "$dx"
t_match "tlsproxy: [ADDR]:PORT is the address" '^    first failure: +2026-11-21T09:00:00\+0000 postfix on mx1, 192\.0\.2\.5: no shared cipher$' \
    "$(client_block 192.0.2.5)"
t_match "port logging: NAME[ADDR]:PORT, its reason" '^    failures: +1 \(no shared cipher 1\)$' "$(client_block port.example)"

# The reason behind the cause: OpenSSL's, not the "lost connection" or
# errno text of an earlier failure.
cat >"$tmp/reason.log" <<'LOG'
Nov 20 10:00:02 mx1 tlspolicyd[77]: event=decision seq=1 instance=d1 config=0123456789ab qid=- action=accept would=- reason=tls_ok policy=gdpr level=required mode=enforce rcpt=a@gdpr.example rcpt_domain=gdpr.example sender=s@r.example sender_domain=r.example client_addr=192.0.2.70 client_name=mx.r.example helo=mx.r.example tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256 cert_verified=no cert_subject=- cert_issuer=- fallback_key=- deferrals=- reply=-
Nov 21 08:00:00 mx1 postfix/smtpd[2000]: SSL_accept error from mx.r.example[192.0.2.70]: lost connection
Nov 21 08:30:00 mx1 postfix/smtpd[2001]: SSL_accept error from mx.r.example[192.0.2.70]: Connection reset by peer
Nov 21 09:00:00 mx1 postfix/smtpd[2002]: SSL_accept error from mx.r.example[192.0.2.70]: -1
Nov 21 09:00:00 mx1 postfix/smtpd[2002]: warning: TLS library problem: error:0A0000C1:SSL routines::no shared cipher:x.c:1:
LOG
dx=$("$R" --year 2026 --diagnose "$tmp/reason.log" 2>&1 | sed -n '/^Diagnosis/,$p')
p=$(client_block r.example)
t_match "reason: the first failure is still the first" '^    first failure: +2026-11-21T08:00:00\+0000 postfix on mx1, 192\.0\.2\.70: lost connection$' "$p"
t_match "reason: OpenSSL's reason, not lost connection, gives the cause" '^    cause: +last negotiated only RSA-authenticated suites' "$p"

# GnuTLS (Exim on Debian) says "no shared cipher" its own way.
cat >"$tmp/gnutls.log" <<'LOG'
2026-11-20 10:00:02 mx tlspolicyd[77]: event=decision seq=1 instance=d1 config=0123456789ab qid=- action=accept would=- reason=tls_ok policy=gdpr level=required mode=enforce rcpt=a@gdpr.example rcpt_domain=gdpr.example sender=s@g.example sender_domain=g.example client_addr=192.0.2.71 client_name=mx.g.example helo=mx.g.example tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256 cert_verified=no cert_subject=- cert_issuer=- fallback_key=- deferrals=- reply=-
2026-11-21 09:00:00 TLS error on connection from mx.g.example [192.0.2.71]:41234 (gnutls_handshake): No supported cipher suites have been found.
LOG
dx=$("$R" --year 2026 --diagnose "$tmp/gnutls.log" 2>&1 | sed -n '/^Diagnosis/,$p')
t_match "GnuTLS: No supported cipher suites is no shared cipher" '^    cause: +last negotiated only RSA-authenticated suites' "$(client_block g.example)"

# Bounded: failures from 250 distinct IPv6 /64s and 3 addresses of one
# /64 (one client, shown as the /64); at most 100 clients listed, the one
# with the most failures first, the others counted.
awk 'BEGIN {
    for (i = 1; i <= 250; i++)
        printf "Nov 21 09:00:00 mx1 postfix/smtpd[%d]: SSL_accept error from unknown[2001:db8:0:%x::1]: -1\n", i, i;
    for (i = 1; i <= 3; i++)
        printf "Nov 21 09:00:01 mx1 postfix/smtpd[9%d]: SSL_accept error from unknown[2001:db8:ffff:1::%d]: -1\n", i, i;
}' >"$tmp/flood.log"
dx=$("$R" --year 2026 --diagnose "$tmp/flood.log" 2>&1 | sed -n '/^Diagnosis/,$p')
t_eq "flood: 100 clients listed" 100 "$(printf '%s\n' "$dx" | grep -c '^  [0-9a-f]')"
t_match "flood: the others counted" '^  \.\.\. and 151 more clients$' "$dx"
t_eq "flood: one /64 with three addresses, first" "  2001:db8:ffff:1::/64" "$(printf '%s\n' "$dx" | grep '^  [0-9a-f]' | head -n 1)"
t_match "flood: the /64's first address, the others counted" '^    failure addresses: +2001:db8:ffff:1::1 \(and 2 failures from other addresses\)$' "$(client_block 2001:db8:ffff:1::/64)"
t_match "flood json: clients_not_shown" '"clients_not_shown": 151' "$("$R" --year 2026 -f json --diagnose "$tmp/flood.log" 2>/dev/null)"

# Records but no failures: a client gone to plaintext is listed, no cause
# is invented; a client that went back to TLS is not listed.
golden diagnose_records.txt --by client_domain --diagnose downgrade.log
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/diagnose_records.txt")
t_eq "records only: no cause but 'none known'" "$(printf '%s\n' "$dx" | grep -c '^    cause:')" \
    "$(printf '%s\n' "$dx" | grep -c '^    cause: *none known')"
t_eq "records only: no remedy" 0 "$(printf '%s\n' "$dx" | grep -c 'remedy:')"
t_nomatch "records only: a client back on TLS is not listed" 'pphosted' "$dx"
(cd "$DATA" && "$R" --year 2026 --diagnose cat.log) 2>/dev/null | sed -n '/^Diagnosis/,$p' >"$tmp/cat.txt"
t_match "diagnose: records without a time stamp are left out and counted" \
    'left out: 0 failures, [1-9][0-9]* decision records$' "$(cat "$tmp/cat.txt")"
(cd "$DATA" && "$R" --diagnose -f csv downgrade.log) >/dev/null 2>&1
t_eq "diagnose with -f csv: usage error" 2 $?

# Hostile MTA lines: refused (counted), escaped, never a forged client.
{
    printf 'Nov 21 09:00:00 mx postfix/smtpd[1]: SSL_accept error from ev\033[2Jil.example[192.0.2.1]: -1\n'
    printf 'Nov 21 09:00:01 mx postfix/smtpd[2]: SSL_accept error from <script>.example[192.0.2.2]: -1\n'
    printf 'Nov 21 09:00:02 mx postfix/smtpd[3]: SSL_accept error from a.example[::ffff:999.1.1.1]: -1\n'
    printf 'Nov 21 09:00:03 mx postfix/smtpd[4]: SSL_accept error from \n'
    printf 'Nov 21 09:00:04 mx postfix/smtpd[5]: SSL_accept error from x.example[192.0.2.5]: -1\000tail\n'
    printf 'Nov 21 09:00:05 mx sm-mta[6]: STARTTLS=server, error: accept failed=-1, reason=x, SSL_error=1, errno=0, retry=-1, relay=a.example [192.0.2.6] and more\n'
    printf 'Nov 21 09:00:06 mx sm-mta[7]: STARTTLS=server, error: accept failed=-1, reason=x, SSL_error=1, errno=0, retry=-1, relay=ev\033il [192.0.2.7]\n'
    printf 'Nov 21 09:00:07 mx postfix/smtpd[8]: SSL_accept error from h.example[192.0.2.8]: -1\n'
    printf 'Nov 21 09:00:07 mx postfix/smtpd[8]: warning: TLS library problem: error:1:SSL routines::<script>"&\047\033[31m:x.c:1:\n'
    printf 'Nov 21 09:00:08 mx exim[9]: TLS error on connection from (</td><script>) [192.0.2.9] (SSL_accept): <b>x</b>\033]0;t\007\n'
    printf 'Nov 21 09:00:09 mx postfix/smtpd[10]: SSL_accept error from %s.example[192.0.2.10]: -1\n' "$(head -c 300 /dev/zero | tr '\000' a)"
    printf 'Nov 21 09:00:10 mx exim[11]: TLS error on connection from [192.0.2.11] (SSL_accept): %s\n' "$(head -c 70000 /dev/zero | tr '\000' r)"
} >"$tmp/hostile-mta.log"
"$R" --year 2026 --diagnose "$tmp/hostile-mta.log" >"$tmp/hm.txt" 2>&1; rc=$?
t_eq "hostile MTA lines: exit 0" 0 "$rc"
dx=$(sed -n '/^Diagnosis/,$p' "$tmp/hm.txt")
t_match "hostile MTA lines: the bad ones refused and counted" '^  read: 2 handshake failures, 0 closed after STARTTLS, 7 failure lines refused' "$dx"
t_nomatch "hostile MTA lines: no raw escape byte" "$(printf '\033')" "$(cat "$tmp/hm.txt")"
t_match "hostile MTA lines: reason shown escaped" '192\.0\.2\.8: <script>"&.\\x1b\[31m$' "$dx"
t_nomatch "hostile MTA lines: no client from a refused line" '192\.0\.2\.(1|2|5|6|7|10|11)$' "$dx"
"$R" --year 2026 --diagnose -f html "$tmp/hostile-mta.log" >"$tmp/hm.html" 2>/dev/null
html_check "hostile MTA lines" "$tmp/hm.html"
t_match "html hostile MTA: reason escaped" '&lt;b&gt;x&lt;/b&gt;\\x1b\]0;t\\x07' "$(cat "$tmp/hm.html")"
"$R" --year 2026 --diagnose -f json "$tmp/hostile-mta.log" >"$tmp/hm.json" 2>/dev/null
t_match "json hostile MTA: refused lines counted" '"refused_lines": 7' "$(cat "$tmp/hm.json")"
t_nomatch "json hostile MTA: no raw escape byte" "$(printf '\033')" "$(cat "$tmp/hm.json")"

# Exit status and usage errors.
"$R" -f html "$DATA/trad.log" >/dev/null 2>&1; t_eq "-f html: exit 0" 0 $?
"$R" -f pdf "$DATA/trad.log" >/dev/null 2>&1; t_eq "-f pdf: usage error" 2 $?
"$R" --by helo "$DATA/trad.log" >/dev/null 2>&1; t_eq "--by helo: usage error" 2 $?
"$R" --since yesterday "$DATA/trad.log" >/dev/null 2>&1; t_eq "--since garbage: usage error" 2 $?
"$R" --year 2026 "$tmp/missing.log" "$DATA/trad.log" >"$tmp/m.txt" 2>"$tmp/m.err"; rc=$?
t_eq "missing input: exit 1" 1 "$rc"
t_match "missing input: named" "missing.log" "$(cat "$tmp/m.err")"
t_match "missing input: the others are still reported" '^input: 1 files' "$(cat "$tmp/m.txt")"
printf '\037\213\010\000garbage' >"$tmp/bad.gz"
"$R" "$tmp/bad.gz" >/dev/null 2>"$tmp/bad.err"; rc=$?
t_eq "broken gzip: exit 1" 1 "$rc"

# Real records: tlspolicyd --explain writes them (kv, then json), behind
# several prefixes; both formats must give the same report, and the
# report must match its golden.
if [ -x "$D" ]; then
    cat >"$tmp/t.conf" <<'CONF'
socket = "inet:8895@127.0.0.1";
exempt = { clients = [ "127.0.0.0/8" ]; };
log = { format = "FORMAT"; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required";
    min_tls_version = "TLSv1.2"; ciphers = "HIGH:!aNULL:!kRSA"; },
  { name = "watch"; recipient_domains = [ "watch.example" ]; level = "required"; mode = "monitor"; }
);
CONF
    for fmt in kv json; do
        sed "s/FORMAT/$fmt/" "$tmp/t.conf" >"$tmp/$fmt.conf"
        n=0
        while read -r prefix args; do
            n=$((n + 1))
            # shellcheck disable=SC2086
            eval "set -- $args"
            [ "$prefix" = - ] && prefix=
            "$D" -c "$tmp/$fmt.conf" --explain "$@" 2>/dev/null | grep -E '^(event=|\{"event")' |
                sed -e "s/instance=explain/instance=run$n/" -e "s/\"instance\":\"explain\"/\"instance\":\"run$n\"/" |
                while IFS= read -r rec; do printf '%s%s\n' "$prefix" "$rec"; done
        done >"$tmp/real-$fmt.log" <<'RUNS'
Nov|22|10:00:00|mx|tlspolicyd[1]:| client_addr=192.0.2.1 client_name=mx1.partner.example tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256 rcpt=a@gdpr.example rcpt=b@watch.example rcpt=c@other.example
2026-11-22T11:00:00+00:00|mx|tlspolicyd[1]:| client_addr=198.51.100.9 rcpt=a@gdpr.example rcpt=b@watch.example rcpt=c@other.example
<22>1|2026-11-23T09:00:00Z|mx|tlspolicyd|1|-|-| client_addr=192.0.2.7 client_name=old.legacy.example.co.uk tls_version=TLSv1.2 cipher=AES256-GCM-SHA384 cipher_bits=256 rcpt=d@gdpr.example
- client_addr=127.0.0.1 rcpt=e@gdpr.example
- client_addr=192.0.2.8 tls_version=TLSv1.2 cipher='EVIL "x" \\ y' cipher_bits=128 helo='a b=c' sender='<"q x"@partner.example>' rcpt=f@watch.example
RUNS
        sed -i -e 's/|/ /g' "$tmp/real-$fmt.log"
    done
    "$R" --year 2026 "$tmp/real-kv.log" >"$tmp/real-kv.txt" 2>&1
    "$R" --year 2026 "$tmp/real-json.log" >"$tmp/real-json.txt" 2>&1
    t_eq "real: records were written" 9 "$(grep -c 'event' "$tmp/real-kv.log")"
    t_eq "real: kv and json give the same report" "$(cat "$tmp/real-kv.txt")" "$(cat "$tmp/real-json.txt")"
    t_match "real: nothing malformed" ' 0 malformed, 0 duplicates' "$(cat "$tmp/real-kv.txt")"
    t_match "real: quoted cipher read back exactly" 'EVIL "x" \\\\\\\\ y 1' "$(cat "$tmp/real-kv.txt")"
    [ "${REPORT_REGEN:-}" = 1 ] && cp "$tmp/real-kv.txt" "$GOLD/real.txt"
    if d=$(diff -u "$GOLD/real.txt" "$tmp/real-kv.txt"); then t_ok "golden real.txt"; else t_bad "golden real.txt" "$d"; fi
else
    t_bad "tlspolicyd is built" "$D missing"
fi

# --what-if: records written by tlspolicyd --explain under config A, in
# every format and address mode, re-evaluated under A itself (nothing may
# change: the facts are rebuilt faithfully) and under a stricter B (the
# listed changes are golden/whatif.txt); a broken config is exit 2.
if [ -x "$D" ]; then
    cat >"$tmp/wa.conf" <<'CONF'
socket = "inet:8895@127.0.0.1";
exempt = { clients = [ "127.0.0.0/8" ]; };
log = { format = "FORMAT"; addresses = "ADDR"; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; min_tls_version = "TLSv1.2"; },
  { name = "bank"; recipient_domains = [ "bank.example" ]; level = "required"; min_tls_version = "TLSv1.2"; },
  { name = "partner"; recipient_domains = [ "partner-in.example" ]; level = "verified"; cert_issuer = "Partner CA+12"; },
  { name = "legacy"; recipient_domains = [ "legacy.example" ]; level = "required"; },
  { name = "watch"; recipient_domains = [ "watch.example" ]; level = "required"; mode = "monitor"; }
);
CONF
    cat >"$tmp/wb.conf" <<'CONF'
socket = "inet:8895@127.0.0.1";
exempt = { clients = [ "127.0.0.0/8" ]; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; min_tls_version = "TLSv1.3"; },
  { name = "bank"; recipient_domains = [ "bank.example" ]; level = "required"; min_tls_version = "TLSv1.2";
    ciphers = "HIGH:!aNULL:!kRSA"; },
  { name = "partner"; recipient_domains = [ "partner-in.example" ]; level = "verified"; cert_issuer = "Partner CA 2"; },
  { name = "watch"; recipient_domains = [ "watch.example" ]; level = "required"; action = "tempfail"; }
);
CONF
    for v in kv-full json-full kv-domain json-domain; do
        sed -e "s/FORMAT/${v%-*}/" -e "s/ADDR/${v#*-}/" "$tmp/wa.conf" >"$tmp/wa-$v.conf"
        n=0
        while read -r args; do
            n=$((n + 1))
            eval "set -- $args"
            "$D" -c "$tmp/wa-$v.conf" --explain "$@" 2>/dev/null | grep -E '^(event=|\{"event")' |
                sed -e "s/instance=explain/instance=w$n/" -e "s/\"instance\":\"explain\"/\"instance\":\"w$n\"/"
        done >"$tmp/w-$v.log" <<'RUNS'
client_addr=192.0.2.10 client_name=mx1.partner.example tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256 sender=s@partner.example rcpt=a@gdpr.example rcpt=b@bank.example
client_addr=192.0.2.20 client_name=mx.legacy.example tls_version=TLSv1 cipher=ECDHE-RSA-AES256-SHA cipher_bits=256 sender=x@legacy.example rcpt=c@gdpr.example rcpt=d@other.example
client_addr=192.0.2.30 client_name=old.partner.example tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256 sender=s@partner.example rcpt=e@gdpr.example rcpt=f@bank.example
client_addr=192.0.2.40 client_name=rsa.bankpartner.example tls_version=TLSv1.2 cipher=AES256-GCM-SHA384 cipher_bits=256 sender=t@bankpartner.example rcpt=g@bank.example rcpt=h@gdpr.example
client_addr=198.51.100.9 sender='<>' rcpt=i@watch.example rcpt=j@legacy.example
client_addr=127.0.0.1 rcpt=k@gdpr.example
client_addr=192.0.2.50 client_name=mx.partner-out.example tls_version=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 cipher_bits=128 verify=OK cert_subject=/CN=mx.partner-out.example cert_issuer=/O=Partner/CN=Partner+20CA+2B12 sender=p@partner-out.example rcpt=l@partner-in.example
RUNS
        (cd "$tmp" && "$R" --what-if "wa-$v.conf" "w-$v.log" 2>&1) >"$tmp/wa-$v.out"
        t_match "what-if $v: same config, nothing changes" '^  decision records re-evaluated: 12, unchanged: 12, changed: 0$' "$(cat "$tmp/wa-$v.out")"
        (cd "$tmp" && "$R" --what-if wb.conf "w-$v.log" 2>&1) | sed -n '/^What if/,$p' >"$tmp/wb-$v.txt"
    done
    [ "${REPORT_REGEN:-}" = 1 ] && cp "$tmp/wb-kv-full.txt" "$GOLD/whatif.txt"
    if d=$(diff -u "$GOLD/whatif.txt" "$tmp/wb-kv-full.txt"); then t_ok "golden whatif.txt"; else t_bad "golden whatif.txt" "$d"; fi
    (cd "$tmp" && "$R" --what-if wb.conf w-kv-full.log w-kv-full.log w-kv-full.log 2>&1) | sed -n '/^What if/,$p' >"$tmp/wb-x3.txt"
    t_eq "what-if: records given three times, each decided once" "$(cat "$tmp/wb-kv-full.txt")" "$(cat "$tmp/wb-x3.txt")"
    for v in json-full kv-domain json-domain; do
        t_eq "what-if: $v records give the kv-full forecast" "$(cat "$tmp/wb-kv-full.txt")" "$(cat "$tmp/wb-$v.txt")"
    done
    t_match "what-if: raising min_tls_version lists the TLSv1.2 senders" \
        '^      +1  accept -> reject  tls_version: TLSv1.2 \(policy gdpr\)  from old.partner.example\[192.0.2.30\]' \
        "$(cat "$tmp/wb-kv-full.txt")"
    t_match "what-if: !kRSA lists the static-RSA sender" \
        '^      +1  accept -> reject  cipher: AES256-GCM-SHA384 \(policy bank\)  to bank.example' "$(cat "$tmp/wb-kv-full.txt")"
    printf 'socket = "inet:8895@127.0.0.1";\npolicies = (\n  { name = "x"; recipient_domains = [ "a.example" ];\n    min_tls_version = "TLSv9"; }\n);\n' >"$tmp/wbad.conf"
    (cd "$tmp" && "$R" --what-if wbad.conf w-kv-full.log) >"$tmp/wbad.out" 2>"$tmp/wbad.err"; rc=$?
    t_eq "what-if: config error, exit 2" 2 "$rc"
    t_match "what-if: config error as FILE:LINE" '^wbad.conf:4: min_tls_version' "$(cat "$tmp/wbad.err")"
    t_eq "what-if: config error, no report" "" "$(cat "$tmp/wbad.out")"
    # The same forecast as json and csv: goldens, and the counts agree with the text.
    for f in json csv; do
        (cd "$tmp" && "$R" -f $f --what-if wb.conf w-kv-full.log) >"$tmp/whatif.$f" 2>"$tmp/whatif.$f.err"
        t_eq "what-if -f $f: exit 0" 0 $?
        [ "${REPORT_REGEN:-}" = 1 ] && cp "$tmp/whatif.$f" "$GOLD/whatif.$f"
        if d=$(diff -u "$GOLD/whatif.$f" "$tmp/whatif.$f"); then t_ok "golden whatif.$f"; else t_bad "golden whatif.$f" "$d"; fi
    done
    t_match "what-if json: changed as in the text" '"changed": 6,' "$(cat "$tmp/whatif.json")"
    t_eq "what-if json: one change object per rcpt_domain row" 6 "$(grep -c '"rcpt_domain":' "$tmp/whatif.json")"
    t_eq "what-if csv: header and one row per rcpt_domain row" 7 "$(wc -l <"$tmp/whatif.csv")"
    t_match "what-if csv: the !kRSA change" '^bank.example,accept -> reject,cipher: AES256-GCM-SHA384 \(policy bank\),rsa.bankpartner.example\[192.0.2.40\],bankpartner.example,1' "$(cat "$tmp/whatif.csv")"
    (cd "$tmp" && "$R" -f html --what-if wb.conf w-kv-full.log) >"$tmp/whatif.html" 2>/dev/null
    t_eq "what-if -f html: exit 0" 0 $?
    html_check "what-if" "$tmp/whatif.html"
    t_eq "what-if html: a row per transition and change (3 + 6)" 9 \
        "$(sed -n '/<h2>What if/,$p' "$tmp/whatif.html" | grep -c '^<tr><td')"
    t_match "what-if html: the cert_mismatch reason, escaped" \
        '<td class="v">cert_mismatch: subject mx.partner-out.example, issuer Partner CA\+12 \(policy partner\)</td>' \
        "$(cat "$tmp/whatif.html")"
fi

t_done
