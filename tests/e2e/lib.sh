# lib.sh - a throwaway Postfix and tlspolicyd on loopback for the
# end-to-end tests, and assertions on what swaks saw and what was logged.
# Source after tests/cli/lib.sh and tests/integration/lib.sh, set D (the
# tlspolicyd binary), then call e2e_start. Needs root: Postfix's master
# runs as root and its daemons as the postfix user.
#
# Everything lives in $tmp (made by e2e_tmp under /tmp): Postfix's
# config_directory, queue_directory, data_directory and maillog_file, the
# certificates, tlspolicyd's configuration, pid file and stderr. The
# system's own Postfix (/etc/postfix, /var/spool/postfix) is never used:
# every postfix command gets -c "$tmp/pf". Mail is relayed to the discard
# transport, so nothing leaves the machine.
#
# e2e_start sets tmp, SMTP_PORT, MILTER_PORT and DPID (tlspolicyd's pid);
# send sets out (the transcript) and adds to sessions; refused and
# accepted count the recipients checked in decisions.
#
# Several MX hosts in one test (tests/e2e/test_multi_mx.sh): e2e_instance
# NAME before e2e_start, and again to switch; each instance has its own
# $tmp, ports, Postfix and tlspolicyd, and the functions here act on the
# current one. Such a test installs its own EXIT trap (e2e_cleanup in it).

# e2e_tmp - a scratch dir Postfix accepts: under /tmp (maillog_file_prefixes), root-owned, 755
e2e_tmp() {
    [ -n "$e2e_current" ] && return 0      # e2e_instance made it
    tmp=$(mktemp -d /tmp/tlspolicyd-e2e.XXXXXX) || return 1
    chmod 755 "$tmp"
}

# e2e_start CONF RELAY_DOMAINS - check the tools, then start tlspolicyd with
# the configuration text CONF and Postfix relaying RELAY_DOMAINS (to
# discard); installs the cleanup trap. Returns 1 after reporting a failure.
e2e_start() {
    before=$t_fail
    t_need postfix swaks openssl
    [ "$(id -u)" = 0 ] || t_bad "running as root" "Postfix's master must be started as root"
    [ -x "$D" ] || t_bad "tlspolicyd is built" "no $D"
    [ "$t_fail" -eq "$before" ] || return 1
    e2e_tmp || { t_bad "scratch dir" "mktemp failed"; return 1; }
    if [ -z "$e2e_current" ]; then
        trap e2e_cleanup EXIT
        trap 'exit 1' INT TERM HUP
    fi
    MILTER_PORT=$(e2e_free_port)
    SMTP_PORT=$(e2e_free_port "$MILTER_PORT")
    e2e_certs || { t_bad "test certificates" "$(tail -n 20 "$tmp/certs.log")"; return 1; }
    printf '%s\n' "$1" >"$tmp/td.conf"
    td_start "$tmp/td.conf" || { t_bad "tlspolicyd starts" "$(tail -n 20 "$tmp/td.log")"; return 1; }
    t_ok "tlspolicyd starts on port $MILTER_PORT"
    pf_start "$2" || { t_bad "postfix starts" "$(tail -n 30 "$tmp/postfix-start.log" "$tmp/maillog" 2>&1)"; return 1; }
    t_ok "postfix starts on port $SMTP_PORT"
}

# e2e_cleanup - stop everything this test started and remove $tmp (with
# instances: every instance's Postfix and tlspolicyd, then $E2E_BASE); for the EXIT trap
e2e_cleanup() {
    if [ -n "$e2e_instances" ]; then
        for e2e_n in $e2e_instances; do
            e2e_instance "$e2e_n"
            pf_stop
            td_stop >/dev/null 2>&1
        done
        [ -d "$E2E_BASE" ] && rm -rf "$E2E_BASE"
        return 0
    fi
    pf_stop
    td_stop >/dev/null 2>&1
    [ -n "${tmp:-}" ] && [ -d "$tmp" ] && rm -rf "$tmp"
}

# The variables that make an instance; see e2e_instance.
E2E_VARS="tmp SMTP_PORT MILTER_PORT POLICY_PORT DPID sessions decisions"
e2e_current=""
e2e_instances=""

# e2e_instance NAME - make instance NAME current: the variables of E2E_VARS
# are kept under the current instance's name and NAME's restored. A new
# NAME gets $E2E_BASE/NAME as its $tmp (E2E_BASE: the test's scratch dir,
# made by e2e_tmp unless the test set it) and nothing else until e2e_start.
e2e_instance() {
    if [ -n "$e2e_current" ]; then
        for e2e_v in $E2E_VARS; do eval "e2e_${e2e_current}_$e2e_v=\${$e2e_v:-}"; done
    fi
    case " $e2e_instances " in
    *" $1 "*)
        for e2e_v in $E2E_VARS; do eval "$e2e_v=\${e2e_$1_$e2e_v:-}"; done ;;
    *)
        if [ -z "${E2E_BASE:-}" ]; then e2e_tmp && E2E_BASE=$tmp || return 1; fi
        for e2e_v in $E2E_VARS; do eval "$e2e_v="; done
        decisions=0
        tmp="$E2E_BASE/$1"
        mkdir -m 755 "$tmp" || return 1
        e2e_instances="$e2e_instances $1" ;;
    esac
    e2e_current=$1
}

# e2e_certs - a test CA, a server certificate, a client certificate signed
# by the CA (CN=mx.partner.example, trusted) and a self-signed one with the
# same CN (untrusted), all RSA 2048, in $tmp/certs
e2e_certs() {
    c="$tmp/certs"
    mkdir -p "$c" || return 1
    (
        cd "$c" || exit 1
        set -e
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=E2E Test CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            -keyout ca.key -out ca.pem
        for name in server client; do
            cn=mx.e2e.test; [ $name = client ] && cn=mx.partner.example
            openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout $name.key -out $name.csr
            printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s\n' "$cn" >$name.ext
            openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                -extfile $name.ext -out $name.pem
        done
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.partner.example" \
            -keyout selfsigned.key -out selfsigned.pem
        chmod 644 ./*.pem ./*.key
    ) >"$tmp/certs.log" 2>&1
}

# e2e_ec_cert NAME CURVE - an ECDSA server certificate for mx.e2e.test on
# CURVE (P-256, P-384), signed by the test CA: $tmp/certs/NAME.pem, NAME.key
e2e_ec_cert() {
    (
        cd "$tmp/certs" || exit 1
        set -e
        openssl req -newkey ec -pkeyopt "ec_paramgen_curve:$2" -nodes -subj "/CN=mx.e2e.test" \
            -keyout "$1.key" -out "$1.csr"
        printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:mx.e2e.test\n' >"$1.ext"
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile "$1.ext" -out "$1.pem"
        chmod 644 "$1.pem" "$1.key"
    ) >>"$tmp/certs.log" 2>&1
}

# pf_start RELAY_DOMAINS - write main.cf/master.cf in $tmp/pf and start
# Postfix on 127.0.0.1:$SMTP_PORT with tlspolicyd on $MILTER_PORT as its
# milter. It logs to $tmp/maillog; with PF_SYSLOG=1, which only
# rs_e2e_start sets (tests/e2e/rsyslog.sh, inside the private /dev where
# /dev/log is the test's own rsyslogd), with syslog(3) as in production.
pf_start() {
    pf="$tmp/pf"
    if [ "${PF_SYSLOG:-}" = 1 ] && [ "${RS_NAMESPACE:-}" != 1 ]; then
        echo "PF_SYSLOG=1 outside the namespace of rs_reexec: refused" >"$tmp/postfix-start.log"
        return 1
    fi
    maillog="$tmp/maillog"
    [ "${PF_SYSLOG:-}" = 1 ] && maillog=""
    mkdir -p "$pf" "$tmp/queue" "$tmp/data" || return 1
    chown postfix "$tmp/data"
    cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $tmp/queue
data_directory = $tmp/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.e2e.test
mydomain = e2e.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.255/32
relay_domains = $1
relay_transport = discard
default_transport = discard
local_transport = discard
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
maillog_file = $maillog
maillog_file_prefixes = /tmp
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_error_sleep_time = 0
notify_classes =
smtpd_tls_security_level = may
smtpd_tls_cert_file = $tmp/certs/server.pem
smtpd_tls_key_file = $tmp/certs/server.key
smtpd_tls_CAfile = $tmp/certs/ca.pem
smtpd_tls_ask_ccert = yes
smtpd_tls_loglevel = 1
smtpd_tls_protocols = >=TLSv1
smtpd_tls_mandatory_protocols = >=TLSv1
smtpd_tls_ciphers = low
smtpd_tls_mandatory_ciphers = low
tls_low_cipherlist = ALL:@SECLEVEL=0
smtpd_tls_received_header = yes
smtpd_milters = inet:127.0.0.1:$MILTER_PORT
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 10s
EOF
    cat >"$pf/master.cf" <<EOF
$SMTP_PORT inet n - n - - smtpd
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
smtp      unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
tlsmgr    unix - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
EOF
    pf_ctl start >"$tmp/postfix-start.log" 2>&1 || return 1
    wait_listen "$SMTP_PORT" up
}

# pf_ctl ARGS... - the postfix command for this instance. With maillog_file
# set Postfix logs through its postlogd into $tmp/maillog, and no_syslog
# keeps even a stray syslog(3) call away from the machine's logs; with
# PF_SYSLOG=1 the master and its daemons must reach the test's /dev/log.
pf_ctl() {
    if [ "${PF_SYSLOG:-}" = 1 ]; then
        postfix -c "$tmp/pf" "$@"
    else
        no_syslog postfix -c "$tmp/pf" "$@"
    fi
}

# pf_set PARAM=VALUE... - change main.cf and reload: the master tells its
# idle smtpd processes to exit, and new connections get new ones
pf_set() {
    postconf -c "$tmp/pf" -e "$@" >>"$tmp/postfix-start.log" 2>&1 &&
        pf_ctl reload >>"$tmp/postfix-start.log" 2>&1
}

# pf_served_key - the public key of the certificate our Postfix presents
# after STARTTLS, as "ALGORITHM BITS" ("rsaEncryption 2048", "id-ecPublicKey
# 384"). The probe is a client of its own: from 127.0.0.2, EHLO
# certcheck.e2e.test, so that its sessions (EHLO, STARTTLS, quit: no MAIL,
# to a milter no TLS at all) never count against the clients a test drives
# from 127.0.0.1. It says quit (lower case: a line starting with "Q" is
# s_client's own command to close): without it Postfix would log "lost
# connection after STARTTLS", one of the lines that report a failure.
pf_served_key() {
    printf 'quit\r\n' |
        openssl s_client -starttls smtp -name certcheck.e2e.test -bind 127.0.0.2 \
            -connect "127.0.0.1:$SMTP_PORT" 2>/dev/null |
        openssl x509 -noout -text 2>/dev/null |
        awk '/Public Key Algorithm:/ { a = $NF } /Public-Key: \(/ { sub(/.*\(/, ""); b = $1 }
             END { if (a != "") print a, b }'
}

# pf_wait_key KEY - until pf_served_key prints KEY, at most 10 s (a reload
# takes effect as the old smtpd processes exit); every probe is a session
pf_wait_key() {
    i=0
    while [ $i -lt 50 ]; do
        [ "$(pf_served_key)" = "$1" ] && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

# alive PID - the process exists and is not a zombie (a daemonized master
# may wait for a slow init to reap it; kill -0 succeeds on a zombie)
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# listening PORT - something listens on 127.0.0.1:PORT or *:PORT (TCP, IPv4).
# Read from /proc/net/tcp, not by connecting: a probe connection to
# Postfix would be an SMTP session and a session record of its own.
listening() {
    hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

# e2e_free_port [NOT] - a TCP port nothing listens on (and not NOT). Postfix's
# master binds with SO_REUSEPORT: a stale instance on the same port would
# silently take a share of the connections, so a port in use is never taken.
e2e_free_port() {
    free_port "$@"
}

# wait_listen PORT up|down - until PORT is (not) listening, at most 10 s
wait_listen() {
    i=0
    while [ $i -lt 100 ]; do
        if listening "$1"; then [ "$2" = up ] && return 0; else [ "$2" = down ] && return 0; fi
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# pf_master_pid - the pid of this instance's master, or nothing
pf_master_pid() {
    [ -r "$tmp/queue/pid/master.pid" ] || return 0
    p=$(tr -d ' \n' <"$tmp/queue/pid/master.pid")
    [ -n "$p" ] && alive "$p" && echo "$p"
}

# pf_stop - stop this instance and wait until its master is gone (at most 10 s)
pf_stop() {
    [ -n "${tmp:-}" ] && [ -f "$tmp/pf/main.cf" ] || return 0
    mp=$(pf_master_pid)
    [ -n "$mp" ] || return 0
    postfix -c "$tmp/pf" stop >/dev/null 2>&1
    i=0
    while [ $i -lt 100 ] && alive "$mp"; do sleep 0.1; i=$((i + 1)); done
    if alive "$mp"; then
        kill -KILL "$mp" 2>/dev/null      # only this instance's master, by its pid
        sleep 0.2
    fi
    wait_listen "$SMTP_PORT" down
}

# td_start CONF - tlspolicyd in the foreground on 127.0.0.1:$MILTER_PORT; stderr
# (the records) in $tmp/td.log; its syslog(3) reaches nothing (see no_syslog).
# With TD_POLICY=1 the same process also serves the policy delegation
# socket (-s) on 127.0.0.1:$POLICY_PORT, a free port chosen here; ready is
# then its starting notice and both ports listening.
td_start() {
    if [ "${TD_POLICY:-}" != 1 ]; then
        daemon_launch "$1" "$MILTER_PORT" "$tmp/td.pid" "$tmp/td.log"
        wait_listen "$MILTER_PORT" up
        return
    fi
    POLICY_PORT=$(e2e_free_port "$MILTER_PORT")
    while [ "$POLICY_PORT" = "$SMTP_PORT" ]; do POLICY_PORT=$(e2e_free_port "$MILTER_PORT"); done
    user_opt=""
    [ "$(id -u)" = 0 ] && user_opt="-u nobody"
    # shellcheck disable=SC2046,SC2086
    (exec unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97; exec "$@"' no_syslog \
        $(valgrind_cmd) "$D" -f $user_opt -P "$tmp/td.pid" -p "inet:$MILTER_PORT@127.0.0.1" \
        -s "inet:127.0.0.1:$POLICY_PORT" -c "$1" >>"$tmp/td.log" 2>&1) &
    DPID=$!
    i=0
    while [ $i -lt $((300 * vg_slow)) ] && ! grep -q 'message="starting: ' "$tmp/td.log" 2>/dev/null; do
        kill -0 "$DPID" 2>/dev/null || return 1
        sleep 0.1; i=$((i + 1))
    done
    wait_listen "$MILTER_PORT" up && wait_listen "$POLICY_PORT" up
}

# td_stop - SIGTERM, wait for the exit and the port(s); returns the exit status
td_stop() {
    [ -n "${DPID:-}" ] || return 0
    kill -TERM "$DPID" 2>/dev/null
    wait "$DPID"; rc=$?
    DPID=""
    wait_listen "$MILTER_PORT" down
    [ "${TD_POLICY:-}" = 1 ] && wait_listen "$POLICY_PORT" down
    return $rc
}

# pf_front_end milter|policy - point Postfix at one front end of tlspolicyd
# and reload: smtpd_milters, or check_policy_service as
# contrib/postfix/policy.cf.snippet has it: in smtpd_recipient_restrictions
# (decisions), smtpd_data_restrictions (recipients Postfix accepts without
# asking: postmaster) and smtpd_end_of_data_restrictions (the queue id for
# the accepted recipients' records); the other front end is off.
pf_front_end() {
    case $1 in
    milter) postconf -c "$tmp/pf" -e "smtpd_milters = inet:127.0.0.1:$MILTER_PORT" \
                "smtpd_recipient_restrictions =" "smtpd_data_restrictions =" \
                "smtpd_end_of_data_restrictions =" ;;
    policy) postconf -c "$tmp/pf" -e "smtpd_milters =" \
                "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT, permit" \
                "smtpd_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" \
                "smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" ;;
    *) return 1 ;;
    esac >>"$tmp/postfix-start.log" 2>&1 && pf_ctl reload >>"$tmp/postfix-start.log" 2>&1
}

# pf_front_end_in_use - "milter" or "policy" as main.cf says, else "both or neither"
pf_front_end_in_use() {
    postconf -c "$tmp/pf" -h smtpd_milters smtpd_end_of_data_restrictions |
        awk 'NR == 1 && /inet:/ { m = 1 } NR == 2 && /check_policy_service/ { p = 1 }
             END { print (m && !p) ? "milter" : (p && !m) ? "policy" : "both or neither" }'
}

# send NAME [SWAKS-ARGS...] - one SMTP session with swaks to our Postfix,
# EHLO NAME (so that the session record can be found by its helo);
# the transcript is in $tmp/NAME.out and in $out; NAME is added to $sessions
sessions=""
send() {
    name=$1; shift
    sessions="$sessions $name"
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --ehlo "$name" --from sender@sender.example \
        --timeout 20 --header "Subject: e2e $name" --body "test $name" "$@" >"$tmp/$name.out" 2>&1
    out=$(cat "$tmp/$name.out")
}

# reply_to_rcpt RCPT - the server's reply line (code and text) to RCPT TO:<RCPT> in $out
reply_to_rcpt() {
    printf '%s\n' "$out" | awk -v r="RCPT TO:<$1>" '
        found { sub(/^<[-~*]*[* ] */, ""); print; exit }
        index($0, r) { found = 1 }'
}

# queued_id - the queue id from Postfix's "250 2.0.0 Ok: queued as ID" in $out
queued_id() {
    printf '%s\n' "$out" | sed -n 's/^<[-~]* *250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' | head -n 1
}

# tls_started - swaks's "TLS started with cipher VERSION:CIPHER:BITS" in $out
tls_started() {
    printf '%s\n' "$out" | sed -n 's/^=== TLS started with cipher \([^ ]*\).*/\1/p' | head -n 1
}

# decision_for RCPT - the decision record for RCPT, waiting up to 5 s for it
# (accepted recipients are logged at end of message)
decision_for() {
    i=0
    while [ $i -lt 50 ]; do
        r=$(grep "^event=decision .* rcpt=$1 " "$tmp/td.log")
        [ -n "$r" ] && { printf '%s\n' "$r"; return 0; }
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# session_for HELO - the session record of the connection that said EHLO HELO, waiting up to 5 s
session_for() {
    i=0
    while [ $i -lt 50 ]; do
        r=$(grep "^event=session .* helo=$1 " "$tmp/td.log")
        [ -n "$r" ] && { printf '%s\n' "$r"; return 0; }
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# Assertions on one SMTP session (the last send) and its records.
# They count the recipients checked in $decisions.
decisions=0

# refused NAME RCPT CODE REASON - RCPT was refused with CODE (e.g. "530 5.7.0")
# and logged as action=reject with REASON; the logged reply is what swaks saw
refused() {
    decisions=$((decisions + 1))
    got=$(reply_to_rcpt "$2")
    t_match "$1: RCPT $2 refused with $3" "^$3 " "$got"
    rec=$(decision_for "$2") || { t_bad "$1: decision record for $2" "$(cat "$tmp/td.log")"; return; }
    t_match "$1: record action=reject reason=$4" "^event=decision .* action=reject would=- reason=$4 " "$rec"
    t_eq "$1: record reply is the reply Postfix sent" "$got" \
        "$(printf '%s\n' "$rec" | sed -n 's/.* reply="\(.*\)"$/\1/p')"
}

# deferred NAME RCPT [KEY] - RCPT got 450 4.7.0 "TLS downgrade suspected",
# nothing was queued, and the record is action=tempfail reason=downgrade
# with the reply swaks saw (and, given KEY, under that fallback_key)
deferred() {
    decisions=$((decisions + 1))
    got=$(reply_to_rcpt "$2")
    t_match "$1: RCPT $2 deferred with 450 4.7.0 TLS downgrade suspected" \
        '^450 4\.7\.0 TLS downgrade suspected: your servers used TLS before; retry with STARTTLS' "$got"
    t_eq "$1: nothing queued" "" "$(queued_id)"
    rec=$(decision_for "$2") || { t_bad "$1: decision record for $2" "$(cat "$tmp/td.log")"; return; }
    t_match "$1: record action=tempfail reason=downgrade" \
        "^event=decision .* action=tempfail would=- reason=downgrade " "$rec"
    t_eq "$1: record reply is the reply Postfix sent" "$got" \
        "$(printf '%s\n' "$rec" | sed -n 's/.* reply="\(.*\)"$/\1/p')"
    [ -z "${3:-}" ] || t_eq "$1: record fallback_key" "$3" "$(field fallback_key "$rec")"
}

# accepted NAME RCPT REASON - RCPT was accepted, the message queued, and the
# record (action=accept, REASON) carries Postfix's queue id
accepted() {
    decisions=$((decisions + 1))
    got=$(reply_to_rcpt "$2")
    t_match "$1: RCPT $2 accepted with 250 2.1.5" '^250 2\.1\.5 ' "$got"
    qid=$(queued_id)
    t_match "$1: message queued" '^[0-9A-Za-z]+$' "$qid"
    rec=$(decision_for "$2") || { t_bad "$1: decision record for $2" "$(cat "$tmp/td.log")"; return; }
    t_match "$1: record action=accept reason=$3" "^event=decision .* action=accept would=- reason=$3 " "$rec"
    t_eq "$1: record qid is Postfix's queue id" "$qid" "$(field qid "$rec")"
}

# tls_fields NAME RCPT VERSION CIPHER BITS - the record's TLS facts and what swaks negotiated
tls_fields() {
    rec=$(decision_for "$2")
    t_eq "$1: swaks negotiated $3:$4:$5" "$3:$4:$5" "$(tls_started)"
    t_match "$1: record tls_version=$3 cipher=$4 cipher_bits=$5" \
        " tls_version=$3 cipher=$4 cipher_bits=$5 " "$rec"
}

# field NAME RECORD - the value of one kv field (unquoted tokens only)
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
