# sendmail.sh - a throwaway Sendmail and tlspolicyd on loopback for the
# end-to-end test test_sendmail.sh. Source after tests/cli/lib.sh,
# tests/integration/lib.sh (daemon_launch) and tests/e2e/lib.sh (td_start,
# decision_for and the other record helpers it shares with the Postfix
# tests), set D (the tlspolicyd binary), then call sm_setup. Needs root.
#
# Sendmail is never installed: Debian's sendmail-bin conflicts with the
# postfix package, so sm_fetch downloads sendmail-bin and sendmail-cf with
# `apt-get download` and unpacks them with `dpkg -x` into
# $top_builddir/tests/e2e/sendmail-root (or $SENDMAIL_ROOT), once; later runs
# reuse it. The unpacked binary needs the shared libraries of sendmail-bin's
# dependencies (libwrap0 is the one a Postfix machine lacks) and m4 for the
# .cf; ./bootstrap installs both.
#
# Everything else lives in $tmp, a directory Sendmail accepts: Sendmail
# silently offers no STARTTLS when a certificate or key lies under a group-
# or world-writable directory (such as /tmp), so $tmp is made under /run
# (or /root), every parent root-owned and not group/world-writable.
# Sendmail runs in the foreground (-bD) in private mount and UTS namespaces:
# its hostname is qualified (an unqualified one costs a 60 s wait), and
# /dev/log, if the machine has one, is covered by /dev/null, so neither
# Sendmail nor tlspolicyd logs into the machine's syslog. Recipients at the
# test domains are delivered by a mailer that reads the message into
# /dev/null; nothing leaves the machine.
#
# sm_setup sets tmp, SMTP_PORT, MILTER_PORT, DPID (tlspolicyd) and SMPID
# (Sendmail); sm_send sets out (the transcript) and adds to session_fors.

# shellcheck shell=bash
SM_HOSTNAME=mx.sendmail.test



# sm_fetch - make sure the unpacked Sendmail is there: SM_ROOT, SM_BIN and
# SM_CF (cf.m4) are set; downloads and unpacks it on first use
sm_fetch() {
    SM_ROOT=${SENDMAIL_ROOT:-$top_builddir/tests/e2e/sendmail-root}
    SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
    SM_CF=$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4
    [ -x "$SM_BIN" ] && [ -r "$SM_CF" ] && return 0
    deb_unpack "$SM_ROOT" "usr/libexec/sendmail/sendmail usr/share/sendmail/cf/m4/cf.m4" \
        sendmail-bin sendmail-cf
}

# sm_safe_dir DIR - DIR and every parent are root-owned and neither group-
# nor world-writable (what Sendmail demands of the directories of TLS files)
sm_safe_dir() {
    d=$1
    while :; do
        [ "$(stat -c %u "$d")" = 0 ] || return 1
        m=$(stat -c %a "$d")
        [ $(( 0$m & 022 )) -eq 0 ] || return 1
        [ "$d" = / ] && return 0
        d=$(dirname "$d")
    done
}

# sm_tmp - the scratch dir: under the first of /run, /root that Sendmail accepts
sm_tmp() {
    for base in /run /root; do
        if [ ! -d "$base" ] || ! sm_safe_dir "$base"; then continue; fi
        tmp=$(mktemp -d "$base/tlspolicyd-sm.XXXXXX") || continue
        chmod 755 "$tmp"     # tlspolicyd drops to nobody; it must still read its files
        return 0
    done
    return 1
}

# sm_certs - in $tmp/certs: a test CA; a server certificate; a client
# certificate signed by the CA with an O containing a space (Sendmail sends
# it xtext-encoded, "Partner+20GmbH"), trusted; a self-signed one with the
# same subject, untrusted. RSA 2048.
sm_certs() {
    c="$tmp/certs"
    mkdir -m 755 "$c" || return 1
    (
        cd "$c" || exit 1
        set -e
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Sendmail E2E CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            -keyout ca.key -out ca.pem
        printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s\n' "$SM_HOSTNAME" >server.ext
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$SM_HOSTNAME" -keyout server.key -out server.csr
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.pem
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >client.ext
        openssl req -newkey rsa:2048 -nodes -subj "/O=Partner GmbH/CN=mx.partner.example" \
            -keyout client.key -out client.csr
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile client.ext -out client.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=Partner GmbH/CN=mx.partner.example" \
            -keyout selfsigned.key -out selfsigned.pem
        chmod 644 ./*.pem
        chmod 600 ./*.key    # Sendmail refuses a key others may read
    ) >"$tmp/certs.log" 2>&1
}

# sm_write_cf SNIPPET DOMAINS - $tmp/sm/test.mc and, through m4 and the
# unpacked cf.m4, $tmp/sm/test.cf: an MTA on 127.0.0.1:$SMTP_PORT that takes
# DOMAINS (space separated) as local and delivers their mail to /dev/null,
# with STARTTLS (TLS 1.0 to 1.3: CipherList ALL:@SECLEVEL=0) and the
# .mc SNIPPET (contrib/sendmail/tlspolicyd.mc) with its socket replaced by
# tlspolicyd's inet socket on $MILTER_PORT. No confMILTER_MACROS_*.
sm_write_cf() {
    s="$tmp/sm"
    mkdir -m 755 "$s" || return 1
    mkdir -m 700 "$tmp/queue" || return 1
    printf 'hosts files\n' >"$s/service.switch"
    sed "s|S=unix:/run/tlspolicyd/tlspolicyd.sock|S=inet:$MILTER_PORT@127.0.0.1|" "$1" >"$s/tlspolicyd.mc"
    {
        cat <<EOF
divert(-1)
divert(0)dnl
VERSIONID(\`tlspolicyd end-to-end test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_HOSTNAME')dnl
define(\`QUEUE_DIR', \`$tmp/queue')dnl
define(\`confPID_FILE', \`$s/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$s/service.switch')dnl
define(\`confHOSTS_FILE', \`/etc/hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confSTATUS_FILE', \`')dnl
define(\`confHELP_FILE', \`')dnl
define(\`confDELIVERY_MODE', \`interactive')dnl
undefine(\`ALIAS_FILE')dnl
define(\`confCACERT_PATH', \`$tmp/certs')dnl
define(\`confCACERT', \`$tmp/certs/ca.pem')dnl
define(\`confSERVER_CERT', \`$tmp/certs/server.pem')dnl
define(\`confSERVER_KEY', \`$tmp/certs/server.key')dnl
define(\`confCIPHER_LIST', \`ALL:@SECLEVEL=0')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=$SMTP_PORT, Name=MTA')dnl
LOCAL_DOMAIN(\`$2')dnl
EOF
        cat "$s/tlspolicyd.mc"
        # The devnull mailer: a program mailer must name \$u in its argv, or
        # Sendmail speaks SMTP to it.
        cat <<EOF
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Mdevnull,	P=/bin/sh, F=lsDFMqn, S=EnvFromL/HdrFromL, R=EnvToL/HdrToL, A=sh -c cat>/dev/null \$u
LOCAL_CONFIG
C{TestDomains}$2
LOCAL_RULE_0
R\$+ < @ \$={TestDomains} . > \$*	\$#devnull \$: \$1
EOF
    } >"$s/test.mc"
    m4 "$SM_CF" "$s/test.mc" >"$s/test.cf" 2>"$s/m4.err" && [ ! -s "$s/m4.err" ]
}

# sm_start - Sendmail in the foreground on $SMTP_PORT; SMPID is its pid
sm_start() {
    # exec at every step, so that $! is Sendmail itself.
    # shellcheck disable=SC2016
    (exec env SM_HOSTNAME="$SM_HOSTNAME" unshare -m -u sh -c '
        hostname "$SM_HOSTNAME" || exit 1
        if [ -e /dev/log ]; then mount --bind /dev/null /dev/log || exit 1; fi
        exec "$@"' sendmail "$SM_BIN" -C "$tmp/sm/test.cf" -bD >>"$tmp/sendmail.out" 2>&1) &
    SMPID=$!
    wait_listen "$SMTP_PORT" up
}

# sm_stop - SIGTERM Sendmail and wait for it and its port
sm_stop() {
    [ -n "${SMPID:-}" ] || return 0
    kill -TERM "$SMPID" 2>/dev/null
    wait "$SMPID" 2>/dev/null
    SMPID=""
    wait_listen "$SMTP_PORT" down
}


# sm_cleanup - stop what this test started, by pid, and remove $tmp; for the EXIT trap
sm_cleanup() {
    sm_stop
    td_stop >/dev/null 2>&1
    deb_abandon
    [ -n "${tmp:-}" ] && [ -d "$tmp" ] && rm -rf "$tmp"
}

# sm_setup CONF SNIPPET DOMAINS - check the tools, fetch Sendmail, start
# tlspolicyd with the configuration text CONF and Sendmail with the .mc
# SNIPPET, local DOMAINS; installs the cleanup trap. Returns 1 after
# reporting a failure.
sm_setup() {
    # shellcheck disable=SC2154
    before=$t_fail   # t_fail: tests/cli/lib.sh
    t_need swaks openssl m4 unshare hostname apt-get dpkg dpkg-deb ldd
    [ "$(id -u)" = 0 ] || t_bad "running as root" "Sendmail's daemon and unshare need root"
    [ -x "$D" ] || t_bad "tlspolicyd is built" "no $D"
    perl -MNet::SSLeay -e 1 2>/dev/null || t_bad "Net::SSLeay is installed" "swaks --tls needs libnet-ssleay-perl"
    [ "$t_fail" -eq "$before" ] || return 1
    trap sm_cleanup EXIT
    trap 'exit 1' INT TERM HUP
    sm_fetch || return 1
    missing=$(ldd "$SM_BIN" | grep 'not found')
    [ -z "$missing" ] || { t_bad "Sendmail's shared libraries are installed" "$missing
(apt-get install libwrap0; ./bootstrap does)"; return 1; }
    t_ok "Sendmail unpacked in $SM_ROOT: $(paste -sd, "$SM_ROOT/PACKAGES" 2>/dev/null)"
    sm_tmp || { t_bad "scratch dir Sendmail accepts" "no root-owned, non-writable base among /run /root"; return 1; }
    MILTER_PORT=$(free_port)
    SMTP_PORT=$(free_port "$MILTER_PORT")
    sm_certs || { t_bad "test certificates" "$(tail -n 20 "$tmp/certs.log")"; return 1; }
    printf '%s\n' "$1" >"$tmp/td.conf"
    td_start "$tmp/td.conf" || { t_bad "tlspolicyd starts" "$(tail -n 20 "$tmp/td.log")"; return 1; }
    t_ok "tlspolicyd starts on port $MILTER_PORT"
    sm_write_cf "$2" "$3" || { t_bad "sendmail.cf generated with m4" "$(cat "$tmp/sm/m4.err")"; return 1; }
    t_ok "sendmail.cf generated from cf.m4 and $(basename "$2")"
    sm_start || { t_bad "sendmail starts" "$(tail -n 30 "$tmp/sendmail.out")"; return 1; }
    t_ok "sendmail starts on port $SMTP_PORT"
}

# sm_send NAME [SWAKS-ARGS...] - one SMTP session with swaks, EHLO NAME (so
# that the session record can be found by its helo); the transcript is in
# $tmp/NAME.out and in $out
session_fors=""
sm_send() {
    name=$1; shift
    session_fors="$session_fors $name"
    swaks --server 127.0.0.1 --port "$SMTP_PORT" --ehlo "$name" --from sender@sender.example \
        --timeout 20 --header "Subject: e2e $name" --body "test $name" "$@" >"$tmp/$name.out" 2>&1
    out=$(cat "$tmp/$name.out")
}

# sm_reply_to CMD - the server's reply line (code and text) to the command
# line CMD (e.g. "RCPT TO:<a@b>", "MAIL FROM:<a@b>") in $out; swaks
# writes " -> CMD" before STARTTLS and " ~> CMD" after
sm_reply_to() {
    printf '%s\n' "$out" | awk -v r="$1" '
        found && /^<[-~*]+ / { sub(/^<[-~*]+ +/, ""); print; exit }
        index($0, "> " r) == 3 { found = 1 }'
}

# sm_unprefixed REPLY - REPLY without the "<addr>... " Sendmail puts after
# the codes of some replies ("550 5.7.0 <a@b>... text" -> "550 5.7.0 text")
sm_unprefixed() {
    printf '%s\n' "$1" | sed -E 's/^([0-9]{3} [245]\.[0-9]{1,3}\.[0-9]{1,3}) <[^>]*>\.\.\. /\1 /'
}

# sm_queued_id - the queue id from "250 2.0.0 ID Message accepted for delivery" in $out
sm_queued_id() {
    printf '%s\n' "$out" | sed -n 's/^<[-~*]* *250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted for delivery.*/\1/p' | head -n 1
}



# Assertions on the last session and its records; each counts the
# recipient it checks in decisions.
decisions=0

# sm_refused NAME RCPT CODE REASON - RCPT was refused with CODE (a regex,
# e.g. "550 5\.7\.0"), logged as action=reject with REASON, and the reply
# Sendmail sent is the record's reply (less Sendmail's "<addr>... ")
sm_refused() {
    decisions=$((decisions + 1))
    got=$(sm_reply_to "RCPT TO:<$2>")
    t_match "$1: RCPT $2 refused with $3" "^$3 " "$got"
    rec=$(decision_for "$2") || { t_bad "$1: decision record for $2" "$(cat "$tmp/td.log")"; return; }
    t_match "$1: record action=reject reason=$4" "^event=decision .* action=reject would=- reason=$4 " "$rec"
    t_eq "$1: record reply is the reply Sendmail sent" "$(sm_unprefixed "$got")" \
        "$(printf '%s\n' "$rec" | sed -n 's/.* reply="\(.*\)"$/\1/p')"
}

# sm_accepted NAME RCPT REASON - RCPT was accepted, the message accepted for
# delivery, and the record (action=accept, REASON) carries Sendmail's queue id
sm_accepted() {
    decisions=$((decisions + 1))
    got=$(sm_reply_to "RCPT TO:<$2>")
    t_match "$1: RCPT $2 accepted with 250 2.1.5" '^250 2\.1\.5 ' "$got"
    qid=$(sm_queued_id)
    t_match "$1: message accepted for delivery" '^[0-9A-Za-z]{8,}$' "$qid"
    rec=$(decision_for "$2") || { t_bad "$1: decision record for $2" "$(cat "$tmp/td.log")"; return; }
    t_match "$1: record action=accept reason=$3" "^event=decision .* action=accept would=- reason=$3 " "$rec"
    t_eq "$1: record qid is Sendmail's queue id" "$qid" "$(field qid "$rec")"
}
