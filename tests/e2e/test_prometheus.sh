#!/bin/bash
# test_prometheus - end to end: a real Prometheus, started here on a free
# loopback port with its own data directory and a scrape interval of 1 s,
# scrapes tlspolicyd's metrics page while swaks sends mail through a real
# Postfix that has tlspolicyd as its milter (tests/e2e/lib.sh). Sessions in
# plaintext and over TLS, some with several recipients, to a required and
# an opportunistic domain, give refusals for four reasons and acceptances
# for two. Once Prometheus has scraped past the last record, PromQL through
# its HTTP API must give exactly the decision records' totals per action
# and reason, per TLS version, and the session records' count; the target
# is up; every query of contrib/grafana/tlspolicyd.json runs there, and
# the alerting rules of contrib/prometheus evaluate without error (the one
# that fires, for records syslog did not take, is shown firing).
# Prometheus is Debian's binary unpacked by prom_find, never installed; it
# is stopped and its data removed on every exit, before Postfix and
# tlspolicyd (e2e_cleanup). Needs root (Postfix's master).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/integration/prometheus.sh"

D="$top_builddir/src/tlspolicyd"
DASH="$top_srcdir/contrib/grafana/tlspolicyd.json"
start=$(date +%s)
t_need curl jq
prom_find || { t_done; exit 1; }
[ "$t_fail" -eq 0 ] || { t_done; exit 1; }

METRICS_PORT=$(e2e_free_port)
# e2e_start picks the milter and SMTP ports before tlspolicyd binds this
# one: never this one.
e2e_free_port() {
    while :; do
        p=$(free_port "$@")
        [ "$p" != "$METRICS_PORT" ] && break
    done
    echo "$p"
}
# Exempt must not cover 127.0.0.1: swaks connects from loopback.
CONF="
log = { ident = \"tlspolicyd-e2e\"; format = \"kv\"; addresses = \"full\"; };
exempt = { clients = [ \"192.0.2.255/32\" ]; authenticated = true; };
default = { level = \"opportunistic\"; };
policies = (
  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\" ]; level = \"required\";
    min_tls_version = \"TLSv1.2\"; ciphers = \"HIGH:!aNULL:!kRSA\"; }
);
metrics = { listen = \"127.0.0.1:$METRICS_PORT\"; };"
e2e_start "$CONF" "gdpr.example other.example" || { t_done; exit 1; }
wait_port "$METRICS_PORT" up || t_bad "tlspolicyd serves its metrics page on $METRICS_PORT" "$(tail -n 5 "$tmp/td.log")"

# --- Prometheus: its own configuration, data and port, all in $tmp/prom
PROM_PORT=$(e2e_free_port "$METRICS_PORT")
PROM_PID=""
# prom_stop - stop our Prometheus (by its pid) and wait for it
prom_stop() {
    [ -n "$PROM_PID" ] || return 0
    kill -TERM "$PROM_PID" 2>/dev/null
    wait "$PROM_PID" 2>/dev/null
    PROM_PID=""
}
trap 'prom_stop; e2e_cleanup' EXIT
mkdir -p "$tmp/prom/data"
cat >"$tmp/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $top_srcdir/contrib/prometheus/tlspolicyd.rules.yml
scrape_configs:
  - job_name: tlspolicyd
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
EOF
(cd "$tmp/prom" && exec "$PROMETHEUS" --config.file="$tmp/prom/prometheus.yml" \
    --storage.tsdb.path="$tmp/prom/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
    --log.level=warn >"$tmp/prom/prometheus.log" 2>&1) &
PROM_PID=$!
PROM="http://127.0.0.1:$PROM_PORT"
i=0
while [ $i -lt 600 ] && ! curl -sf "$PROM/-/ready" >/dev/null 2>&1; do
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.1; i=$((i + 1))
done
if curl -sf "$PROM/-/ready" >/dev/null 2>&1; then
    t_ok "prometheus is ready on port $PROM_PORT"
else
    t_bad "prometheus is ready on port $PROM_PORT" "$(tail -n 20 "$tmp/prom/prometheus.log")"
    t_done; exit 1
fi

# promql EXPR - the JSON answer of an instant query
promql() { curl -sG --max-time 10 "$PROM/api/v1/query" --data-urlencode "query=$1"; }

# promql_value EXPR - the value of a query's first (only) sample, or nothing
promql_value() { promql "$1" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null; }

# The first scrape before the first record: Prometheus scrapes while mail
# flows, and a counter's increase (the dashboard's rates, the alerts) is
# seen from its first sample on. Prometheus's first scrape can come well
# after it is ready.
i=0
while [ $i -lt 600 ] && [ "$(promql_value 'up{job="tlspolicyd"}')" != 1 ]; do sleep 0.1; i=$((i + 1)); done
t_eq "prometheus scraped tlspolicyd before the mail, no record yet" "1 0" \
    "$(promql_value 'up{job="tlspolicyd"}') $(promql_value 'tlspolicyd_records_failed_total')"

# --- mail: plaintext and TLS, to the required and the opportunistic domain
send p1 --to p1@gdpr.example
refused "plaintext to gdpr" p1@gdpr.example "530 5\.7\.0" plaintext
send p2 --to p2a@other.example,p2b@other.example
accepted "plaintext to other, two recipients" p2a@other.example plaintext_allowed
accepted "plaintext to other, two recipients" p2b@other.example plaintext_allowed
send p3 --to p3@gdpr.example,p3@other.example
refused "plaintext to gdpr and other" p3@gdpr.example "530 5\.7\.0" plaintext
accepted "plaintext to gdpr and other" p3@other.example plaintext_allowed
send t1 --tls --to t1a@gdpr.example,t1b@gdpr.example,t1@other.example
accepted "TLS 1.3, three recipients" t1a@gdpr.example tls_ok
accepted "TLS 1.3, three recipients" t1b@gdpr.example tls_ok
accepted "TLS 1.3, three recipients" t1@other.example tls_ok
send t2 --tls --tls-protocol tlsv1_2 --tls-cipher AES256-GCM-SHA384 --to t2@gdpr.example
refused "TLS 1.2 static RSA to gdpr" t2@gdpr.example "550 5\.7\.0" cipher
send t3 --tls --tls-protocol tlsv1 --tls-cipher 'AES256-SHA:@SECLEVEL=0' --to t3@gdpr.example,t3@other.example
refused "TLS 1.0 to gdpr" t3@gdpr.example "550 5\.7\.0" tls_version
accepted "TLS 1.0 to other" t3@other.example tls_ok

# Every record written: one per recipient, one per connection (written as
# the connection closes, after the last decision).
nsess=$(printf '%s' "$sessions" | wc -w)
i=0
while [ $i -lt 300 ] && [ "$(grep -c '^event=session ' "$tmp/td.log")" -lt "$nsess" ]; do sleep 0.1; i=$((i + 1)); done
t_eq "one decision record per recipient" "$decisions" "$(grep -c '^event=decision ' "$tmp/td.log")"
t_eq "one session record per connection" "$nsess" "$(grep -c '^event=session ' "$tmp/td.log")"

# --- Prometheus has scraped past the last record: its sum equals the records
i=0
while [ $i -lt 600 ]; do
    [ "$(promql_value 'sum(tlspolicyd_decisions_total)')" = "$decisions" ] &&
        [ "$(promql_value 'sum(tlspolicyd_sessions_total)')" = "$nsess" ] && break
    sleep 0.1; i=$((i + 1))
done
t_eq "PromQL sum(tlspolicyd_decisions_total) = decision records" "$decisions" \
    "$(promql_value 'sum(tlspolicyd_decisions_total)')"
t_eq "PromQL sum(tlspolicyd_sessions_total) = session records" "$nsess" \
    "$(promql_value 'sum(tlspolicyd_sessions_total)')"

# "action reason count" lines, sorted
from_records=$(grep '^event=decision ' "$tmp/td.log" |
    sed -n 's/.* action=\([^ ]*\) would=[^ ]* reason=\([^ ]*\) .*/\1 \2/p' | sort | uniq -c |
    awk '{ print $2, $3, $1 }' | sort)
t_eq "the mail gave the decisions it was meant to" "accept plaintext_allowed 3
accept tls_ok 4
reject cipher 1
reject plaintext 2
reject tls_version 1" "$from_records"
# > 0: a configured policy's refusal series are on the page at 0 from the start.
ans=$(promql 'sum by (action, reason) (tlspolicyd_decisions_total) > 0')
t_eq "the query through the HTTP API succeeded" success "$(printf '%s' "$ans" | jq -r .status 2>&1)"
t_eq "PromQL sum by (action, reason) = the decision records per action and reason" "$from_records" \
    "$(printf '%s' "$ans" | jq -r '.data.result[] | "\(.metric.action) \(.metric.reason) \(.value[1])"' | sort)"

by_version=$(grep '^event=decision ' "$tmp/td.log" | sed -n 's/.* tls_version=\([^ ]*\) .*/\1/p' | sort | uniq -c |
    awk '{ print $2, $1 }' | sort)
t_eq "PromQL recipients_tls_total by tls_version = the decision records per tls_version" "$by_version" \
    "$(promql 'sum by (tls_version) (tlspolicyd_recipients_tls_total) > 0' |
        jq -r '.data.result[] | "\(.metric.tls_version) \(.value[1])"' | sort)"
t_eq "PromQL decision_duration_seconds_count = decision records" "$decisions" \
    "$(promql_value 'sum(tlspolicyd_decision_duration_seconds_count)')"
t_eq "PromQL up{job=\"tlspolicyd\"} = 1" "1 127.0.0.1:$METRICS_PORT" \
    "$(promql 'up{job="tlspolicyd"}' | jq -r '.data.result[] | "\(.value[1]) \(.metric.instance)"')"

# --- every dashboard query runs on this Prometheus (Grafana's variables
# filled in as Grafana would), and the decision panels show this run
bad=""
nq=0
while IFS= read -r -d '' expr; do
    # shellcheck disable=SC2016 # Grafana's variables, literally
    q=$(printf '%s' "$expr" | sed -e 's/\$__rate_interval/1m/g' -e 's/\$__range/10m/g' -e 's/\$instance/.+/g')
    st=$(promql "$q" | jq -r '.status + " " + (.error // "")' 2>&1)
    nq=$((nq + 1))
    [ "$st" = "success " ] || bad="$bad$q: $st
"
done < <(jq -j '.. | .expr? // empty | . + "\u0000"' "$DASH")
t_eq "all $nq dashboard queries run in Prometheus" "" "$bad"
t_eq "the dashboard's decisions by action show this run's actions" "accept reject" \
    "$(promql 'sum by (action) (rate(tlspolicyd_decisions_total{instance=~".+"}[1m])) > 0' |
        jq -r '[.data.result[].metric.action] | sort | join(" ")')"

# --- contrib's alerting rules, evaluated on this run's series: all
# healthy; one fires, for a reason of this test's making. tlspolicyd's
# syslog(3) reaches nothing here (no_syslog: /dev/log is /dev/null), so
# every record it wrote is one the syslog socket did not take: its
# records_failed_total counts them all, and TlspolicydRecordsFailed fires,
# as it would on a host whose syslog daemon died. Two plaintext refusals
# are far below the plaintext page; the target is up.
i=0
while [ $i -lt 300 ] && [ "$(promql_value 'sum(tlspolicyd_records_failed_total)')" != $((decisions + nsess)) ]; do
    sleep 0.1; i=$((i + 1))
done
t_eq "PromQL records_failed_total = the records syslog did not take (all of them here)" $((decisions + nsess)) \
    "$(promql_value 'sum(tlspolicyd_records_failed_total)')"
nrules=$(grep -c '^ *- alert:' "$top_srcdir/contrib/prometheus/tlspolicyd.rules.yml")
i=0
while [ $i -lt 300 ]; do
    health=$(curl -s --max-time 10 "$PROM/api/v1/rules" |
        jq -r '[.data.groups[].rules[] | .health] | group_by(.) | map("\(.[0]) \(length)") | join(" ")' 2>&1)
    case $health in *unknown*) ;; *) break ;; esac
    sleep 0.1; i=$((i + 1))
done
t_eq "the $nrules alerting rules of contrib/prometheus are evaluated without error" "ok $nrules" "$health"
i=0
while [ $i -lt 300 ]; do
    alerts=$(promql 'ALERTS' | jq -r '[.data.result[] | "\(.metric.alertname) \(.metric.alertstate)"] | sort | join(", ")' 2>&1)
    [ "$alerts" = "TlspolicydRecordsFailed firing" ] && break
    sleep 0.1; i=$((i + 1))
done
t_eq "... TlspolicydRecordsFailed fires, and no other alert is pending or firing" "TlspolicydRecordsFailed firing" "$alerts"

prom_stop
t_nomatch "prometheus logged no error" 'level=error' "$(cat "$tmp/prom/prometheus.log")"
td_stop; rc=$?
t_eq "tlspolicyd stops cleanly on SIGTERM" 0 "$rc"
pf_stop
t_nomatch "no sanitizer report from tlspolicyd" 'runtime error:|Sanitizer|LeakSanitizer' "$(cat "$tmp/td.log")"
echo "# run time $(($(date +%s) - start)) s"
t_done
