#!/bin/bash
# test_metrics_contrib - contrib/grafana/tlspolicyd.json and
# contrib/prometheus/ against the daemon: every metric name that a
# dashboard query, an alerting rule or a rule unit test's series uses is a
# family the running daemon's page declares (# TYPE), a histogram's
# _bucket/_sum/_count only where the family is a histogram; every family
# the page declares is shown on the dashboard. The list of families comes
# from a real page (a daemon started with metrics.listen and scraped), never
# from a list kept here. The dashboard parses as JSON, with the datasource
# and instance variables its queries use; the rules load in promtool
# (check rules, check config of the scrape job), and promtool's unit tests
# of the rules pass. The name checker is shown failing on a dashboard with
# a name the daemon does not export, so that a pass means something.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/prometheus.sh"

t_need curl jq python3 unshare
D="$top_builddir/src/tlspolicyd"
DASH="$top_srcdir/contrib/grafana/tlspolicyd.json"
PROM="$top_srcdir/contrib/prometheus"
tmp=$(mktemp -d)
chmod 755 "$tmp"
PORT=$(free_port)
MPORT=$(free_port "$PORT")
DPID=""
trap '[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null; rm -rf "$tmp"' EXIT
prom_find || { t_done; exit 1; }

# --- the families the daemon declares, from its page
printf 'policies = ();\nmetrics = { listen = "127.0.0.1:%s"; };\n' "$MPORT" >"$tmp/t.conf"
: >"$tmp/daemon.log"
daemon_start "$tmp/t.conf" || t_bad "the daemon starts with a metrics listen" "$(tail -n 5 "$tmp/daemon.log")"
wait_port "$MPORT" up
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$tmp/page" || t_bad "GET /metrics answers 200" ""
daemon_stop; DPID=""
# "NAME TYPE", one family a line
sed -n 's/^# TYPE \([^ ]*\) \([^ ]*\)$/\1 \2/p' "$tmp/page" | sort >"$tmp/families"
t_match "the page declares families (# TYPE lines)" '^tlspolicyd_decisions_total counter$' "$(cat "$tmp/families")"

# --- the dashboard is JSON, with its variables
t_eq "the dashboard parses as JSON" 0 "$(jq empty "$DASH" >/dev/null 2>&1; echo $?)"
t_eq "schemaVersion 36 or later" true "$(jq '.schemaVersion >= 36' "$DASH" 2>&1)"
t_eq "a datasource variable for Prometheus and an instance variable" "datasource:datasource:prometheus instance:query" \
    "$(jq -r '[.templating.list[] | "\(.name):\(.type)" + (if .type == "datasource" then ":\(.query)" else "" end)] | join(" ")' "$DASH" 2>&1)"
t_eq "every panel and query takes the datasource variable" "" \
    "$(jq -r '.panels[] | select(.type != "row") | (.datasource.uid, .targets[].datasource.uid) | select(. != "${datasource}")' "$DASH" 2>&1)"
t_eq "every query selects the instance variable" "" \
    "$(jq -r '.. | .expr? // empty | select(test("instance=~\"\\$instance\"") | not)' "$DASH" 2>&1)"
t_eq "panel ids are unique" "" "$(jq -r '.panels[].id' "$DASH" | sort | uniq -d)"

# exprs_dashboard FILE - every PromQL expression of a dashboard, NUL-separated:
# the queries and annotations (expr), the query variables (label_values(...))
exprs_dashboard() {
    jq -j '(.. | .expr? // empty), (.templating.list[] | select(.type == "query") |
           (.query | if type == "object" then .query else . end)) | . + "\u0000"' "$1"
}

# exprs_rules FILE - every expr of a rules file, NUL-separated: "expr: TEXT"
# on one line or "expr: |" (or >) followed by the more indented lines
exprs_rules() {
    awk 'function flush() { if (have) printf "%s%c", e, 0; have = 0; e = "" }
         blk && (match($0, /^ */) && RLENGTH > ind || /^[ \t]*$/) { e = e "\n" $0; next }
         { blk = 0; flush() }
         /^[ \t]*-?[ \t]*expr:/ { ind = match($0, /[^ -]/) - 1; sub(/^[ \t]*-?[ \t]*expr:[ \t]*/, "")
                                  have = 1; if ($0 ~ /^[|>][-+]?$/) blk = 1; else e = $0 }
         END { flush() }' "$1"
}

# series_names FILE - the metric names of a rule test's input series, NUL-separated
series_names() {
    sed -n "s/^[[:space:]]*-[[:space:]]*series:[[:space:]]*['\"]\{0,1\}\([A-Za-z_:][A-Za-z0-9_:]*\).*/\1/p" "$1" | tr '\n' '\0'
}

# check_names FAMILIES ALLOWED - read NUL-separated PromQL expressions on
# stdin; print "USED name" for every metric name they use, and "UNKNOWN name
# (in: EXPR)" for one that is neither a family of FAMILIES, nor a histogram's
# _bucket/_sum/_count, nor in the space-separated ALLOWED; exit 1 on any
# UNKNOWN, 2 when no name was found at all.
check_names() {
    python3 "$tmp/check_names.py" "$1" "$2"
}
cat >"$tmp/check_names.py" <<'PY'
import re, sys

families = dict(l.split() for l in open(sys.argv[1]) if l.strip())
allowed = set(sys.argv[2].split())
KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "inf", "nan", "atan2", "start", "end"}

def names(expr):
    e = expr
    # Grafana's label_values(METRIC, LABEL) and label_values(LABEL)
    e = re.sub(r'label_values\(\s*([^,()]*?)\s*,\s*\w+\s*\)', r' \1 ', e)
    e = re.sub(r'label_values\(\s*\w+\s*\)', ' ', e)
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', ' "" ', e)
    e = re.sub(r'\{[^{}]*\}', ' ', e)           # label matchers
    e = re.sub(r'\[[^\]]*\]', ' ', e)           # ranges and subqueries
    e = re.sub(r'\$\{?\w+\}?', ' 0 ', e)        # Grafana variables elsewhere
    e = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)', ' ', e)
    e = re.sub(r'\boffset\s+-?\w+', ' ', e)
    e = re.sub(r'#[^\n]*', ' ', e)               # comments
    found = []
    for m in re.finditer(r'\d[\w.]*|[A-Za-z_:][A-Za-z0-9_:]*', e):
        tok = m.group(0)
        if tok[0].isdigit() or tok in KEYWORDS:
            continue
        if e[m.end():].lstrip().startswith("("):
            continue                             # a function or an aggregation
        found.append(tok)
    return found

def known(name):
    if name in families or name in allowed:
        return True
    m = re.fullmatch(r'(.+)_(bucket|sum|count)', name)
    return bool(m) and families.get(m.group(1)) == "histogram"

data = sys.stdin.read()
bad = total = 0
for expr in filter(None, data.split("\0")):
    for n in names(expr):
        total += 1
        print("USED", re.sub(r'_(bucket|sum|count)$', '', n) if not n in families and not n in allowed else n)
        if not known(n):
            bad += 1
            print("UNKNOWN %s (in: %s)" % (n, " ".join(expr.split())))
sys.exit(1 if bad else 2 if total == 0 else 0)
PY

# --- the dashboard's names
out=$(exprs_dashboard "$DASH" | check_names "$tmp/families" ""); rc=$?
t_eq "the dashboard uses only families the daemon exports" "0" "$rc$(printf '%s\n' "$out" | grep '^UNKNOWN' | sed 's/^/ /')"
used=$(printf '%s\n' "$out" | sed -n 's/^USED //p' | sort -u)
t_eq "the dashboard shows every family the daemon exports" "" \
    "$(cut -d' ' -f1 "$tmp/families" | sort | comm -23 - <(printf '%s\n' "$used"))"
t_match "... the histograms by their buckets" '^tlspolicyd_state_operation_duration_seconds$' "$used"

# --- the checker is no rubber stamp: a name the daemon lacks fails it
jq '(.panels[] | select(.title == "TLS versions") | .targets[0].expr) |= sub("recipients_tls_total"; "recipients_tls_versions_total")' \
    "$DASH" >"$tmp/bad.json"
out=$(exprs_dashboard "$tmp/bad.json" | check_names "$tmp/families" ""); rc=$?
t_eq "a dashboard with an unexported name fails the check" 1 "$rc"
t_match "... naming it" '^UNKNOWN tlspolicyd_recipients_tls_versions_total ' "$out"
out=$(printf 'rate(tlspolicyd_decisions_total_bucket[5m])\0sum(tlspolicyd_build_info_count)\0' |
    check_names "$tmp/families" ""); rc=$?
t_eq "_bucket and _count only on a histogram" "1 2" "$rc $(printf '%s\n' "$out" | grep -c '^UNKNOWN')"

# --- the rules and their unit tests
RULES="$PROM/tlspolicyd.rules.yml"
out=$("$PROMTOOL" check rules "$RULES" 2>&1); rc=$?
t_eq "promtool check rules accepts the rules" 0 "$rc"
nrules=$(printf '%s\n' "$out" | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')
t_eq "every rule's expr is read here (as many as promtool found)" "$nrules" \
    "$(exprs_rules "$RULES" | tr -cd '\0' | wc -c)"
# up is Prometheus's own series for every scrape: the alert on the target down.
out=$(exprs_rules "$RULES" | check_names "$tmp/families" "up"); rc=$?
t_eq "the rules use only families the daemon exports (and up)" "0" "$rc$(printf '%s\n' "$out" | grep '^UNKNOWN' | sed 's/^/ /')"
out=$(series_names "$PROM/tlspolicyd.rules.test.yml" | check_names "$tmp/families" "up"); rc=$?
t_eq "the rule tests' series are families the daemon exports (and up)" "0" "$rc$(printf '%s\n' "$out" | grep '^UNKNOWN' | sed 's/^/ /')"
out=$(cd "$PROM" && "$PROMTOOL" test rules tlspolicyd.rules.test.yml 2>&1); rc=$?
t_eq "promtool test rules: every alert fires and stays quiet as its test says" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | head -n 40
out=$("$PROMTOOL" check config "$PROM/prometheus.yml" 2>&1); rc=$?
t_eq "promtool check config accepts the scrape job (with the rules)" 0 "$rc"
t_eq "... job tlspolicyd, every 15 s, 127.0.0.1:9489" 3 \
    "$(grep -cE '^ *- job_name: tlspolicyd$|^ *scrape_interval: 15s$|^ *- targets: \["127\.0\.0\.1:9489"\]$' "$PROM/prometheus.yml")"
t_done
