#!/bin/sh
#++
# NAME
#	postfix.sh 1
# SUMMARY
#	Postfix end to end with smtp-source: what each way of filtering costs
# SYNOPSIS
#	sh bench/postfix.sh BUILDDIR
#	make bench-postfix
# DESCRIPTION
#	Starts a throwaway Postfix on loopback, as tests/e2e/lib.sh does
#	(root; its own config_directory, queue and maillog_file in a
#	temporary directory under /tmp; the machine's Postfix is never
#	touched), whose mail goes to the discard transport, and measures
#	how long smtp-source, Postfix's own load generator, takes to send
#	MESSAGES plaintext messages (default 1000) over SESSIONS parallel
#	sessions (default 20), one message per session as smtp-source does
#	without -d, RCPTS recipients each (default 3), through each of five
#	smtpd services of that one Postfix, on ports of their own:
#
#	nofilter	no restriction beyond reject_unauth_destination
#	access		check_recipient_access hash:MAP, MAP mapping the
#			"required" domain gdpr.example to reject_plaintext_session:
#			how an administrator does it with Postfix alone
#	policy		tlspolicyd as policy service: check_policy_service
#			in smtpd_recipient_restrictions,
#			smtpd_data_restrictions and
#			smtpd_end_of_data_restrictions (tlspolicyd -s), as
#			contrib/postfix/policy.cf.snippet recommends
#	nullmilter	bench/nullmilter, every callback continues: what
#			the milter interface alone costs
#	milter		tlspolicyd as milter (smtpd_milters, tlspolicyd -p)
#
#	Both tlspolicyd front ends run the same configuration, one
#	"required" policy for gdpr.example and an opportunistic default, no
#	exempt clients (smtp-source connects from 127.0.0.1), the fallback
#	rules off, each in a daemon of its own, started as the tests start
#	it (-u nobody, a state directory nobody can write).
#
#	The recipients: smtp-source sends every recipient of a run to one
#	domain, so four smtp-source processes run in parallel, SESSIONS/4
#	sessions and MESSAGES/4 messages each, to other.example,
#	shop.example, mail.customer.example and partner.example. None is the
#	required domain: smtp-source cannot STARTTLS, and a refused
#	recipient would measure failing mail. Every recipient is still
#	looked up in MAP (access) and decided by tlspolicyd's policies
#	(policy, milter), which log one decision record each (reason
#	plaintext_allowed); the run checks that they did.
#
#	A run fails loudly unless every message was accepted and discarded:
#	smtp-source must exit 0, Postfix's log must show RCPTS x MESSAGES
#	"status=sent" deliveries by discard and MESSAGES queue files removed
#	and no reject, and tlspolicyd must have logged one action=accept
#	decision per recipient. The wall time is smtp-source's (from the
#	first process started to the last one ended); the queue is then
#	left to drain, untimed, before the next run, so that no run pays for
#	another's deliveries. in_flow_delay is 0, so that the figures
#	measure the SMTP server and its filter, not the queue manager's
#	back pressure.
#
#	A warm-up pass (WARMUP messages through each configuration) is not
#	timed. Then ROUNDS rounds (default 5): round r runs every
#	configuration once, starting with the r-th, so that a slow spell on
#	the shared machine is spread over all of them. It prints, per
#	configuration, the median and range of the wall time and of
#	messages/s, and the ratios policy/nofilter and milter/nullmilter
#	(of the medians, and the median and range of the ratios within each
#	round), as markdown that can be pasted into README.md.
# ENVIRONMENT
#	ROUNDS (5), MESSAGES (1000), SESSIONS (20), RCPTS (3), WARMUP
#	(100), CONFIGS (the five names above, in that order; a subset
#	runs only those), FILTER_NICE (0: the nice value the filters,
#	tlspolicyd and nullmilter, run at; see below).
# BUGS
#	On a machine whose cores are all busy (other jobs, or the run
#	itself), every thread gets its share of the CPU: a filter's few
#	threads then wait behind the twenty smtpd processes, and every
#	smtpd waits on the filter, so a filter costs more wall time than
#	the CPU it uses. The "CPU per message" columns tell that apart:
#	Postfix's (its master, its daemons and those that exited during the
#	run, the queue drain included) and the filter's (the filter process,
#	all threads, from /proc/PID/stat); so does a run with
#	FILTER_NICE=-10. tlspolicyd runs with -f, so it writes every record
#	twice (stderr, which the run reads to count decisions, and syslog,
#	here /dev/null): its CPU figure is an upper bound.
#--
# shellcheck disable=SC2034,SC2154 # P_* are set and read through eval; pf_stop reads SMTP_PORT

set -eu
[ $# -eq 1 ] || { echo "usage: sh bench/postfix.sh BUILDDIR" >&2; exit 2; }
builddir=$(cd "$1" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
# First: e2e/lib.sh sets variables of its own (sessions, decisions).
. "$srcdir/tests/integration/lib.sh" # free_port
. "$srcdir/tests/e2e/lib.sh"         # pf_ctl, pf_stop, wait_listen
D=$builddir/src/tlspolicyd
N=$builddir/bench/nullmilter
rounds=${ROUNDS:-5}
nmsg=${MESSAGES:-1000}
nsess=${SESSIONS:-20}
rcpts=${RCPTS:-3}
warmup=${WARMUP:-100}
configs=${CONFIGS:-nofilter access policy nullmilter milter}
fnice=${FILTER_NICE:-0}
domains="other.example shop.example mail.customer.example partner.example"
ndom=4


die() {
    echo "postfix.sh: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root: Postfix's master runs as root"
for f in "$D" "$N"; do [ -x "$f" ] || die "$f: not built"; done
for t in postfix postmap postconf; do command -v "$t" >/dev/null 2>&1 || die "$t: not found"; done
SS=$(command -v smtp-source 2>/dev/null || true)
[ -n "$SS" ] || SS=$(postconf -h -d daemon_directory 2>/dev/null)/smtp-source
[ -x "$SS" ] || SS=/usr/sbin/smtp-source
[ -x "$SS" ] || die "smtp-source: not found (Debian: it is in the postfix package)"
[ "$nsess" -ge "$ndom" ] && [ "$nmsg" -ge "$nsess" ] || die "need MESSAGES >= SESSIONS >= $ndom"
for c in $configs; do
    case $c in nofilter | access | policy | nullmilter | milter) ;; *) die "CONFIGS: unknown $c" ;; esac
done

# Postfix wants its maillog_file under /tmp (maillog_file_prefixes).
tmp=$(mktemp -d /tmp/tlspolicyd-bench-postfix.XXXXXX)
chmod 755 "$tmp"
mkdir "$tmp/state"
chmod 755 "$tmp/state" # root's: nobody cannot write it, and no learning is on
SMTP_PORT="" td_milter="" td_policy="" nm_pid=""
cleanup() {
    pf_stop
    for p in $td_milter $td_policy $nm_pid; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $td_milter $td_policy $nm_pid; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ports: one smtpd service per configuration, and the filters' sockets
used=""
for name in P_nofilter P_access P_policy P_nullmilter P_milter POLICY_PORT MILTER_PORT NULL_PORT; do
    p=$(free_port)
    while case " $used " in *" $p "*) true ;; *) false ;; esac do p=$(free_port); done
    eval "$name=$p"
    used="$used $p"
done
SMTP_PORT=$P_nofilter # what pf_stop waits for

# tlspolicyd_conf - the one configuration both front ends run
cat >"$tmp/td.conf" <<EOF
# bench/postfix.sh: no socket here; -p (milter) or -s (policy) on the command line
log = { ident = "tlspolicyd-bench"; format = "kv"; addresses = "full"; };
default = { level = "opportunistic"; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required";
    min_tls_version = "TLSv1.2"; }
);
EOF

# td_start NAME FLAG SOCKET - tlspolicyd in the foreground, its syslog(3)
# reaching nothing of the machine's; ready at its "starting" notice
td_start() {
    # shellcheck disable=SC2086
    (exec nice -n "$fnice" unshare -m \
        sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' x \
        "$D" -f -u nobody -P "$tmp/$1.pid" "$2" "$3" -c "$tmp/td.conf" >"$tmp/$1.log" 2>&1) &
    pid=$!
    i=0
    until grep -q 'message="starting' "$tmp/$1.log" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/$1.log" >&2; die "tlspolicyd ($1) did not start"; }
        i=$((i + 1))
        [ $i -lt 300 ] || die "tlspolicyd ($1): no starting notice in 30 s"
        sleep 0.1
    done
}

# pf_config - main.cf and master.cf: five smtpd services, mail to discard
pf_config() {
    pf=$tmp/pf
    mkdir -p "$pf" "$tmp/queue" "$tmp/data"
    chown postfix "$tmp/data"
    printf 'gdpr.example reject_plaintext_session\n' >"$pf/tls_required"
    cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $tmp/queue
data_directory = $tmp/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.255/32
relay_domains = gdpr.example $domains
relay_transport = discard
default_transport = discard
local_transport = discard
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
maillog_file = $tmp/maillog
maillog_file_prefixes = /tmp
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_error_sleep_time = 0
notify_classes =
in_flow_delay = 0
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 10s
smtpd_policy_service_default_action = 451 4.3.5 policy service unavailable
EOF
    svc="inet n - n - - smtpd"
    cat >"$pf/master.cf" <<EOF
$P_nofilter $svc
$P_access $svc
  -o { smtpd_recipient_restrictions = check_recipient_access hash:$pf/tls_required, permit }
$P_policy $svc
  -o { smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT, permit }
  -o { smtpd_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT }
  -o { smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT }
$P_nullmilter $svc
  -o smtpd_milters=inet:127.0.0.1:$NULL_PORT
$P_milter $svc
  -o smtpd_milters=inet:127.0.0.1:$MILTER_PORT
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
    postmap -c "$pf" "hash:$pf/tls_required"
}

# start_all - the filters the chosen configurations need, then Postfix
start_all() {
    case " $configs " in *" policy "*)
        td_start policy -s "inet:127.0.0.1:$POLICY_PORT"
        td_policy=$pid ;;
    esac
    case " $configs " in *" milter "*)
        td_start milter -p "inet:$MILTER_PORT@127.0.0.1"
        td_milter=$pid ;;
    esac
    case " $configs " in *" nullmilter "*)
        nice -n "$fnice" "$N" -p "inet:$NULL_PORT@127.0.0.1" >"$tmp/nullmilter.log" 2>&1 &
        nm_pid=$!
        wait_listen "$NULL_PORT" up || die "nullmilter did not start: $(cat "$tmp/nullmilter.log")"
        ;;
    esac
    pf_config
    pf_ctl start >"$tmp/postfix-start.log" 2>&1 || die "postfix start: $(cat "$tmp/postfix-start.log")"
    master=$(pf_master_pid)
    [ -n "$master" ] || die "no Postfix master"
    for c in $configs; do
        eval "wait_listen \$P_$c up" || die "Postfix does not listen for $c: $(tail -n 20 "$tmp/maillog")"
    done
}

# count PATTERN FILE FROM - lines of FILE after line FROM matching PATTERN
count() {
    tail -n "+$(($3 + 1))" "$2" | grep -c -- "$1" || true
}

# wait_count PATTERN FILE FROM N - until N such lines (at most 120 s); then exactly N
wait_count() {
    i=0
    while [ "$(count "$1" "$2" "$3")" -lt "$4" ] && [ $i -lt 1200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    sleep 0.2
    got=$(count "$1" "$2" "$3")
    [ "$got" -eq "$4" ] || return 1
}

# cpu_s PID - the CPU time (user + system, all threads) PID has used, in seconds
cpu_s() {
    awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# pf_cpu_s - the CPU time Postfix has used, in seconds: its master, the
# daemons it runs now and those that have exited (the master's cutime)
pf_cpu_s() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v m="$master" -v hz="$hz" '{
        pid = $1; sub(/^.*\) /, "")
        if (pid == m) t += $12 + $13 + $14 + $15; else if ($2 == m) t += $12 + $13
    } END { printf "%.2f", t / hz }'
}

# filter_pid CONFIG - the filter process of a configuration, or nothing
filter_pid() {
    case $1 in policy) echo "$td_policy" ;; milter) echo "$td_milter" ;; nullmilter) echo "$nm_pid" ;; *) ;; esac
}

# td_of CONFIG - the tlspolicyd log name of a configuration, or nothing
td_of() {
    case $1 in policy) echo policy ;; milter) echo milter ;; *) ;; esac
}

# run_config CONFIG MSGS TAG - smtp-source through CONFIG's port: four processes,
# one domain each; sets secs, cpu (what the filter used, or -) and pcpu
# (what Postfix used: smtpd, cleanup, qmgr, discard ...). Fails
# unless every message went through.
run_config() {
    port=$(eval "echo \$P_$1")
    td=$(td_of "$1")
    fp=$(filter_pid "$1")
    [ -z "$fp" ] || cpu0=$(cpu_s "$fp")
    pcpu0=$(pf_cpu_s)
    from=$(wc -l <"$tmp/maillog")
    [ -z "$td" ] || td_from=$(wc -l <"$tmp/$td.log")
    pids=""
    k=0
    t0=$(date +%s.%N)
    for dom in $domains; do
        s=$((nsess / ndom + (k < nsess % ndom)))
        m=$(($2 / ndom + (k < $2 % ndom)))
        "$SS" -s "$s" -m "$m" -r "$rcpts" -f "sender@bench-$3.example" -t "rcpt@$dom" \
            -M "client$k.bench.example" "127.0.0.1:$port" >"$tmp/ss.$k.out" 2>&1 &
        pids="$pids $!"
        k=$((k + 1))
    done
    rc=0
    for p in $pids; do wait "$p" || rc=1; done
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    [ $rc = 0 ] || die "$1 ($3): smtp-source failed: $(cat "$tmp"/ss.*.out)"
    want=$(($2 * rcpts))
    wait_count 'postfix/discard\[[0-9]*\]: .* status=sent' "$tmp/maillog" "$from" "$want" ||
        die "$1 ($3): $got of $want recipients discarded"
    wait_count 'postfix/qmgr\[[0-9]*\]: [0-9A-Za-z]*: removed' "$tmp/maillog" "$from" "$2" ||
        die "$1 ($3): $got of $2 messages removed from the queue"
    n=$(count 'reject\|warning\|error\|fatal\|panic' "$tmp/maillog" "$from")
    [ "$n" = 0 ] || die "$1 ($3): $n reject/warning lines: $(tail -n "+$((from + 1))" "$tmp/maillog" |
        grep 'reject\|warning\|error\|fatal\|panic' | head -n 5)"
    pcpu=$(awk -v a="$pcpu0" -v b="$(pf_cpu_s)" 'BEGIN { printf "%.2f", b - a }')
    cpu=-
    [ -z "$fp" ] || cpu=$(awk -v a="$cpu0" -v b="$(cpu_s "$fp")" 'BEGIN { printf "%.2f", b - a }')
    [ -n "$td" ] || return 0
    i=0
    while [ "$(count '^event=decision ' "$tmp/$td.log" "$td_from")" -lt "$want" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    n=$(count '^event=decision ' "$tmp/$td.log" "$td_from")
    [ "$n" -eq "$want" ] || die "$1 ($3): tlspolicyd logged $n decisions for $want recipients"
    n=$(count '^event=decision .* action=accept would=- reason=plaintext_allowed ' "$tmp/$td.log" "$td_from")
    [ "$n" -eq "$want" ] || die "$1 ($3): only $n of the $want decisions are accept/plaintext_allowed"
}

hz=$(getconf CLK_TCK)
start_all
echo "## Postfix end to end: smtp-source through five ways of filtering"
echo
echo "| | |"
echo "|---|---|"
echo "| CPU | $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc) |"
echo "| kernel | $(uname -sr) |"
echo "| Postfix | $(postconf -h -d mail_version) |"
echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$srcdir" status --porcelain 2>/dev/null)" ] || rev="$rev (modified)"
echo "| source | $rev |"
echo "| command | \`FILTER_NICE=$fnice ROUNDS=$rounds MESSAGES=$nmsg SESSIONS=$nsess RCPTS=$rcpts sh bench/postfix.sh BUILDDIR\` |"
echo "| per run | 4 x \`smtp-source -s $((nsess / ndom)) -m $((nmsg / ndom)) -r $rcpts" \
    "-t rcpt@DOMAIN\` in parallel: $nsess sessions, $nmsg messages, $((nmsg * rcpts)) recipients |"
echo

for c in $configs; do run_config "$c" "$warmup" "warmup-$c"; done
ncfg=$(echo $configs | wc -w)
r=0
: >"$tmp/times"
while [ $r -lt "$rounds" ]; do
    order=$(echo $configs | awk -v r="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
    for c in $order; do
        run_config "$c" "$nmsg" "r$r-$c"
        echo "$r $c $secs $cpu $pcpu" >>"$tmp/times"
        echo "round $((r + 1))/$rounds $c ${secs}s, filter CPU ${cpu}s, Postfix CPU ${pcpu}s" >&2
    done
    r=$((r + 1))
done

# The table: medians and ranges; throughput ratios of medians and per round.
awk -v msgs="$nmsg" -v cfgs="$configs" -v n="$ncfg" '
function sort(a, k,   i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
function median(a, k) { sort(a, k); return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
{ t[$2, $1] = $3; u[$2, $1] = $4; p[$2, $1] = $5; r = $1 + 1 > r ? $1 + 1 : r }
function ratio(num, den, label,   i, k, v, m, lo, hi) {
    if (!((num, 0) in t) || !((den, 0) in t)) return
    for (i = 0; i < r; i++) v[i + 1] = t[den, i] / t[num, i]
    k = r; m = median(v, k); lo = v[1]; hi = v[k]
    printf "| %s | %.2f | %.2f (%.2f-%.2f) |\n", label, med[den] / med[num], m, lo, hi
}
END {
    split(cfgs, c, " ")
    label["nofilter"] = "no filter"
    label["access"] = "check_recipient_access + reject_plaintext_session"
    label["policy"] = "tlspolicyd, policy service"
    label["nullmilter"] = "null milter (libmilter, every callback continues)"
    label["milter"] = "tlspolicyd, milter"
    print "| configuration | wall time, median (range) | messages/s, median (range) | CPU per message: Postfix, filter |"
    print "|---|---|---|---|"
    for (j = 1; j <= n; j++) {
        for (i = 0; i < r; i++) v[i + 1] = t[c[j], i]
        med[c[j]] = median(v, r)
        cpu = "-"
        if (u[c[j], 0] != "-") {
            for (i = 0; i < r; i++) w[i + 1] = u[c[j], i]
            cpu = sprintf("%.0f us", median(w, r) / msgs * 1e6)
        }
        for (i = 0; i < r; i++) w[i + 1] = p[c[j], i]
        pcpu = sprintf("%.0f us", median(w, r) / msgs * 1e6)
        printf "| %s | %.2f s (%.2f-%.2f) | %.0f (%.0f-%.0f) | %s, %s |\n", label[c[j]], med[c[j]], v[1], v[r],
            msgs / med[c[j]], msgs / v[r], msgs / v[1], pcpu, cpu
    }
    print ""
    print "| throughput ratio | of the medians | per round, median (range) |"
    print "|---|---|---|"
    ratio("policy", "nofilter", "policy service / no filter (target >= 0.97)")
    ratio("access", "nofilter", "check_recipient_access / no filter")
    ratio("milter", "nullmilter", "tlspolicyd milter / null milter (target >= 0.97)")
    ratio("nullmilter", "nofilter", "null milter / no filter")
    ratio("milter", "nofilter", "tlspolicyd milter / no filter")
    ratio("policy", "milter", "policy service / tlspolicyd milter")
}' "$tmp/times"
