#!/bin/bash
# test_metrics - the metrics page (metrics.listen) of a running daemon:
# the Prometheus text format as promtool reads it (no lint complaint);
# decisions_total summed by action and reason equal to the decision
# records written, through the milter and the policy service; sessions
# equal to session records; counts exact under 64 concurrent milter
# connections; reloads counted by result, config_info following the hash
# in force, counts kept across a reload that renames a policy; 404 and 405;
# a unix socket handed to the daemon's user, replaced when stale; -n refusing
# a bad listen address with FILE:LINE.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/prometheus.sh"

t_need miltertest unshare curl python3
D="$top_builddir/src/tlspolicyd"
L="$top_builddir/bench/milterload"
P="$top_srcdir/tests/integration/policy_client.py"
tmp=$(mktemp -d)
chmod 755 "$tmp"
PORT=$(free_port)
SPORT=$(free_port "$PORT")
MPORT=$(free_port "$SPORT")
trap 'kill -KILL $DPID 2>/dev/null; rm -rf "$tmp"' EXIT
prom_find || { t_done; exit 1; }

# conf NAME LISTEN - the configuration, the gdpr policy named NAME
conf() {
    cat >"$tmp/t.conf" <<CONF
policy_socket = "inet:127.0.0.1:$SPORT";
exempt = { clients = [ "10.0.0.0/8" ]; };
policies = ( { name = "$1"; recipient_domains = [ "gdpr.example" ]; level = "required"; },
             { name = "watch"; recipient_domains = [ "watch.example" ]; level = "required"; mode = "monitor"; } );
metrics = { listen = "$2"; };
CONF
}

# scrape [URL] - the page, into $tmp/page
scrape() { curl -sf "${1:-http://127.0.0.1:$MPORT/metrics}" >"$tmp/page"; }

# metric_sum REGEX - the sum of the samples whose line matches REGEX
metric_sum() { grep -E "$1" "$tmp/page" | awk '{ s += $NF } END { printf "%d\n", s }'; }

# record_count REGEX - decision (or session) records matching REGEX
record_count() { grep -cE "$1" "$tmp/daemon.log"; }

# --- -n: a listen address that is no address is refused where it stands.
printf 'metrics = { listen = "9489"; };\n' >"$tmp/bad.conf"
out=$("$D" -n -c "$tmp/bad.conf" 2>&1); rc=$?
t_eq "-n refuses a listen address without a port" 1 "$rc"
t_match "... naming the file and line" "bad.conf:1: listen: invalid value" "$out"
printf 'metrics = { listen = "unix:relative.sock"; };\n' >"$tmp/bad.conf"
"$D" -n -c "$tmp/bad.conf" >/dev/null 2>&1
t_eq "-n refuses a relative unix socket path" 1 "$?"

conf gdpr "127.0.0.1:$MPORT"
daemon_start "$tmp/t.conf" || t_bad "the daemon starts" "$(tail -n 5 "$tmp/daemon.log")"
wait_port "$MPORT" up

# --- traffic: milter sessions (plaintext, TLS, monitor, exempt), policy requests.
mt "milter sessions decide" '
function session(addr, tls, rcpts)
  local conn = mt.connect("inet:" .. port .. "@127.0.0.1")
  assert(conn, "connect")
  assert(mt.conninfo(conn, "mx.sender.example", addr) == nil)
  assert(mt.helo(conn, "mx.sender.example") == nil)
  if tls then
    mt.macro(conn, SMFIC_MAIL, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256")
  end
  assert(mt.mailfrom(conn, "<a@sender.example>") == nil)
  for _, r in ipairs(rcpts) do assert(mt.rcptto(conn, r) == nil) end
  mt.disconnect(conn)
end
session("192.0.2.7", false, {"<u@gdpr.example>", "<v@other.example>", "<w@watch.example>"})
session("192.0.2.8", true, {"<u@gdpr.example>", "<v@other.example>"})
session("10.1.2.3", false, {"<u@gdpr.example>"})'
for r in u@gdpr.example v@other.example; do
    python3 "$P" ask --addr "inet:127.0.0.1:$SPORT" recipient="$r" client_port=4711 >/dev/null 2>&1 ||
        t_bad "policy request for $r answered" ""
done
# Session records are written when a session ends: wait for all four.
i=0; while [ "$(record_count '^event=session')" -lt 5 ] && [ $i -lt $((100 * vg_slow)) ]; do sleep 0.1; i=$((i + 1)); done

scrape || t_bad "GET /metrics answers 200" ""
out=$("$PROMTOOL" check metrics <"$tmp/page" 2>&1); rc=$?
t_eq "promtool check metrics: no complaint" "0:" "$rc:$out"
t_eq "decisions_total sums to the decision records" "$(record_count '^event=decision')" \
    "$(metric_sum '^tlspolicyd_decisions_total')"
for ar in "reject plaintext" "accept plaintext_allowed" "accept tls_ok" "accept plaintext" "accept exempt"; do
    set -- $ar
    t_eq "decisions_total{action=$1,reason=$2} = records" \
        "$(record_count "^event=decision .* action=$1 .*reason=$2 ")" \
        "$(metric_sum "^tlspolicyd_decisions_total\{.*action=\"$1\",reason=\"$2\",")"
done
t_eq "the policy service's decisions under front_end=policy" 2 \
    "$(metric_sum '^tlspolicyd_decisions_total\{front_end="policy"')"
t_eq "a monitored refusal counted with mode=monitor and its policy" 1 \
    "$(metric_sum '^tlspolicyd_decisions_total\{.*reason="plaintext",policy="watch",mode="monitor"')"
t_eq "an exempt decision has policy=\"-\"" 1 "$(metric_sum '^tlspolicyd_decisions_total\{.*reason="exempt",policy="-"')"
t_eq "sessions_total sums to the session records" "$(record_count '^event=session')" \
    "$(metric_sum '^tlspolicyd_sessions_total')"
t_eq "recipients_tls_total{TLSv1.3} = TLS 1.3 decision records" \
    "$(record_count '^event=decision .* tls_version=TLSv1.3 ')" \
    "$(metric_sum '^tlspolicyd_recipients_tls_total\{tls_version="TLSv1.3"\}')"
t_eq "decision_duration_seconds_count = decisions" "$(record_count '^event=decision')" \
    "$(metric_sum '^tlspolicyd_decision_duration_seconds_count')"
hash=$("$D" -n -c "$tmp/t.conf" | sed -n 's/.*(hash \([0-9a-f]*\),.*/\1/p')
t_eq "config_info names the hash in force" 1 "$(metric_sum "^tlspolicyd_config_info\{hash=\"$hash\"\}")"
t_match "build_info names version, OpenSSL and libmilter" \
    '^tlspolicyd_build_info\{version="[^"]+",openssl="[0-9.]+",libmilter="[0-9]+\.[0-9]+\.[0-9]+"\} 1$' \
    "$(cat "$tmp/page")"
t_eq "an unknown path is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")"
t_eq "POST is 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")"

# --- concurrency: 64 milter connections at once, counts exact.
before=$(metric_sum '^tlspolicyd_decisions_total')
n=$((1500 / vg_slow))
out=$("$L" -p "$PORT" -c 64 -n "$n" -r 3 --required-domain gdpr.example 2>&1) ||
    t_bad "milterload: $n sessions over 64 connections, none failed" "$out"
i=0; while [ "$(record_count '^event=session')" -lt $((n + 5)) ] && [ $i -lt $((300 * vg_slow)) ]; do sleep 0.1; i=$((i + 1)); done
scrape
t_eq "after 64 concurrent connections decisions_total still sums to the records" \
    "$(record_count '^event=decision')" "$(metric_sum '^tlspolicyd_decisions_total')"
t_eq "... and rose by milterload's recipients" "$(printf '%s\n' "$out" | sed -n 's/^rcpts //p')" \
    "$(($(metric_sum '^tlspolicyd_decisions_total') - before))"
t_eq "... sessions_total too" "$(record_count '^event=session')" "$(metric_sum '^tlspolicyd_sessions_total')"

# --- reloads: a renamed policy keeps the old series; a broken file is a failure.
conf gdpr2 "127.0.0.1:$MPORT"
hash2=$("$D" -n -c "$tmp/t.conf" | sed -n 's/.*(hash \([0-9a-f]*\),.*/\1/p')
kill -HUP "$DPID"
i=0; while ! grep -q "reloaded, hash $hash2" "$tmp/daemon.log" && [ $i -lt $((100 * vg_slow)) ]; do sleep 0.1; i=$((i + 1)); done
printf 'policies = ( { name = "x"; level = "bogus"; } );\n' >"$tmp/t.conf"
kill -HUP "$DPID"
i=0; while ! grep -q "reload refused" "$tmp/daemon.log" && [ $i -lt $((100 * vg_slow)) ]; do sleep 0.1; i=$((i + 1)); done
scrape
t_eq "a reload counted as success" 1 "$(metric_sum '^tlspolicyd_config_reloads_total\{result="success"\}')"
t_eq "a refused reload counted as failure" 1 "$(metric_sum '^tlspolicyd_config_reloads_total\{result="failure"\}')"
t_eq "config_info follows the reload (and not the refused file)" "1 0" \
    "$(metric_sum "^tlspolicyd_config_info\{hash=\"$hash2\"\}") $(metric_sum "^tlspolicyd_config_info\{hash=\"$hash\"\}")"
t_eq "counts survive the reloads" "$(record_count '^event=decision')" "$(metric_sum '^tlspolicyd_decisions_total')"
t_match "the renamed policy's old series stays" '^tlspolicyd_decisions_total\{.*policy="gdpr",' "$(cat "$tmp/page")"
daemon_stop

# --- a unix socket: the daemon's user's, 0660, replaced when stale.
MSOCK="$tmp/run/metrics.sock"
mkdir -p "$tmp/run"
conf gdpr "unix:$MSOCK"
daemon_start "$tmp/t.conf" || t_bad "the daemon starts with a unix metrics socket" "$(tail -n 5 "$tmp/daemon.log")"
if [ "$(id -u)" = 0 ]; then
    t_eq "the metrics socket belongs to the daemon's user, mode 0660" "srw-rw---- nobody" \
        "$(stat -c '%A %U' "$MSOCK" 2>&1)"
fi
curl -sf --unix-socket "$MSOCK" http://localhost/metrics >"$tmp/page"
t_match "the page is served on the unix socket" '^tlspolicyd_build_info' "$(cat "$tmp/page")"
daemon_stop
# Left by a daemon that stopped (or crashed): the next start replaces it.
daemon_start "$tmp/t.conf" || t_bad "a restart replaces the stale metrics socket" "$(tail -n 5 "$tmp/daemon.log")"
t_match "the restarted daemon serves the page on it" '^tlspolicyd_build_info' \
    "$(curl -sf --unix-socket "$MSOCK" http://localhost/metrics)"
daemon_stop
t_done
