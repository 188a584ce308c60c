# rsyslog.sh - a private rsyslogd behind a private /dev/log, for the test
# of the real logging pipeline: tlspolicyd's syslog(3) -> /dev/log ->
# rsyslogd (imuxsock) -> a file. Source after tests/cli/lib.sh,
# tests/integration/lib.sh and tests/e2e/lib.sh. Needs root.
#
# The machine's own logging is never touched. A test may run where there
# is no syslog daemon, where /dev/log is absent, or where it is the
# machine's journald/rsyslogd socket; in every case the test must neither
# write to it nor create, remove or cover it for anybody else. So the
# test runs in a mount namespace of its own (unshare -m, propagation
# private: no mount made inside is seen outside, and the namespace and its
# mounts vanish with its last process), and there /dev is replaced:
#
#   1. A small tmpfs is mounted on a staging directory in $tmp.
#   2. The few device nodes and directories the programs need (rs_dev_keep)
#      are bind-mounted into it from the real /dev (bind mounts: no mknod,
#      so this works wherever the container allows mount at all); the
#      /dev/fd, stdin, stdout, stderr symlinks are copied. /dev/log is not.
#   3. The tmpfs is moved (mount --move) onto /dev.
#
# Inside, /dev is our tmpfs: rsyslogd's imuxsock creates its socket
# /dev/log there, and every syslog(3) of a process in the namespace
# (tlspolicyd) reaches it. Why not simply create or bind a socket at
# /dev/log: /dev is usually a devtmpfs, whose one superblock is shared by
# all mount namespaces - a file created in it inside the namespace
# appears in the machine's /dev as well - and a bind mount needs an
# existing mount point, which /dev/log may not be. Why not a tmpfs on
# /dev plus a saved "mount --rbind /dev": the saved tree under $tmp would
# make "rm -rf $tmp" delete the machine's device nodes. After the move the
# staging directory is an empty directory again and $tmp is safe to remove.
#
# Only a list of entries is carried over, not all of /dev: fewer mounts
# (fast) and nothing unexpected reachable - in particular no /dev/kmsg, so
# even a misconfigured rsyslogd cannot read the kernel's log.
#
# rsyslogd runs with our own configuration only (-f; never
# /etc/rsyslog.conf or /etc/rsyslog.d), its pid file, work directory and
# output files in $tmp/rsyslog, imuxsock as its one input, no network, no
# imklog. Files it writes, all with hostname $RS_HOST:
#   $RS_OUT/local3.log       local3.*, template RSYSLOG_FileFormat (RFC 3339)
#   $RS_OUT/local3.trad.log  local3.*, RSYSLOG_TraditionalFileFormat
#   $RS_OUT/local3.prio.log  local3.*, "facility.severity tag msg"
#   $RS_OUT/mail.log         mail.*, RSYSLOG_FileFormat: Debian 12's
#                            /var/log/mail.log, where Postfix and tlspolicyd
#                            (its default facility) meet
#   $RS_OUT/mail.trad.log    mail.*, RSYSLOG_TraditionalFileFormat (the
#                            mail.log of older releases)
#   $RS_OUT/other.log        everything else (*.*;local3.none;mail.none)

# rsyslogd itself: the installed one (package rsyslog) if there is one,
# else Debian's rsyslog .deb unpacked (rs_find_rsyslogd, like Sendmail in
# sendmail.sh) - so a machine can run this test without the rsyslog
# package, whose installation would enable (and, where services start,
# start) a system rsyslog. The unpacked rsyslogd needs the libraries
# libestr0 and libfastjson4.

RS_HOST=pipeline-host

# Kept from the real /dev (those that exist): what tlspolicyd (OpenSSL),
# rsyslogd, Postfix, swaks (Perl, Net::SSLeay), miltertest, openssl and the
# shell tools need. A test that needs more adds it here.
rs_dev_keep="null zero full random urandom tty ptmx pts shm mqueue fd stdin stdout stderr"

# rs_find_rsyslogd - set RS_BIN (rsyslogd) and RS_MODDIR (its modules, or
# empty for the built-in path). RSYSLOG_ROOT set: the rsyslog .deb unpacked
# there (downloaded with apt-get download and unpacked with dpkg -x on
# first use); unset: the installed rsyslogd, else the .deb unpacked in
# $top_builddir/tests/e2e/rsyslog-root. Returns 1 (having reported) on failure.
rs_find_rsyslogd() {
    RS_MODDIR=""
    if [ -z "${RSYSLOG_ROOT:-}" ] && RS_BIN=$(command -v rsyslogd); then
        return 0
    fi
    root=${RSYSLOG_ROOT:-$top_builddir/tests/e2e/rsyslog-root}
    RS_BIN=$root/usr/sbin/rsyslogd
    if [ ! -x "$RS_BIN" ]; then
        deb_unpack "$root" usr/sbin/rsyslogd rsyslog || return 1
    fi
    RS_MODDIR=$(dirname "$(find "$root/usr/lib" -name imuxsock.so | head -n 1)")
    if [ ! -x "$RS_BIN" ] || [ ! -r "$RS_MODDIR/imuxsock.so" ]; then
        t_bad "unpacked rsyslog has usr/sbin/rsyslogd and imuxsock.so" "$(find "$root" -maxdepth 4 | head -n 30)"
        return 1
    fi
    if ldd "$RS_BIN" | grep -q 'not found'; then
        t_bad "the unpacked rsyslogd finds its libraries" "$(ldd "$RS_BIN" | grep 'not found')
(install libestr0 and libfastjson4, or the rsyslog package)"
        return 1
    fi
}

# rs_devlog_state - a fingerprint of /dev/log as this mount namespace sees
# it: "absent", or type, device, inode, mode and owner (of the link itself
# and, for a symlink as systemd makes it, of its target)
rs_devlog_state() {
    if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then
        echo absent
        return
    fi
    s=$(stat -c '%F dev=%d ino=%i mode=%a uid=%u' /dev/log 2>&1)
    [ -L /dev/log ] && s="$s -> $(readlink /dev/log) $(stat -L -c '%F dev=%d ino=%i mode=%a uid=%u' /dev/log 2>&1)"
    echo "$s"
}

# rs_inside - true in the namespace made by rs_reexec
rs_inside() { [ "${RS_NAMESPACE:-}" = 1 ]; }

# rs_reexec SCRIPT [ARGS...] - run SCRIPT again in a new private mount
# namespace (RS_NAMESPACE=1 there); returns its exit status. RS_COUNTS
# names a file where the inner run leaves "PASSED FAILED" (rs_counts) and
# RS_NSFILE one where it leaves its namespace's id (rs_private_dev), so
# that the outer run can add the counts and look for leftover processes.
rs_reexec() {
    RS_COUNTS=$(mktemp /tmp/tlspolicyd-rs-counts.XXXXXX) || return 1
    RS_NSFILE=$(mktemp /tmp/tlspolicyd-rs-ns.XXXXXX) || return 1
    RS_NAMESPACE=1 RS_COUNTS="$RS_COUNTS" RS_NSFILE="$RS_NSFILE" \
        unshare -m --propagation private bash "$@"
}

# rs_outer SCRIPT [ARGS...] - the whole outer run of a test that runs in a
# namespace of its own: SCRIPT again there (rs_reexec), its counts added,
# then the checks that nothing of it is left running and that the
# machine's /dev/log is as it was; ends with t_done (its status)
rs_outer() {
    start=$(date +%s)
    t_need unshare
    [ "$(id -u)" = 0 ] || t_bad "running as root" "mount namespaces need root"
    [ "$t_fail" -eq 0 ] || { t_done; return; }
    before=$(rs_devlog_state)
    rs_reexec "$@"; rc=$?
    rs_add_counts || t_bad "the test ran in its own mount namespace" "exit status $rc, no counts left"
    left=$(rs_ns_leftovers)
    if [ -n "$left" ]; then
        # shellcheck disable=SC2086
        t_bad "nothing of the test left running" "$(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)")"
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null      # only processes of the test's own namespace, by pid
    else
        t_ok "nothing of the test left running"
    fi
    t_eq "the machine's /dev/log is unchanged ($before)" "$before" "$(rs_devlog_state)"
    echo "# run time $(( $(date +%s) - start )) s"
    t_done
}

# rs_counts - the inner run's end: leave its counts for the outer run
rs_counts() {
    [ -n "${RS_COUNTS:-}" ] && echo "$t_pass $t_fail" >"$RS_COUNTS"
    [ "$t_fail" -eq 0 ]
}

# rs_add_counts - the outer run adds the inner run's counts to its own
# (and removes the files of rs_reexec); 1 if the inner run left none
rs_add_counts() {
    read -r inner_pass inner_fail <"$RS_COUNTS" 2>/dev/null
    rm -f "$RS_COUNTS"
    [ -n "${inner_fail:-}" ] || return 1
    t_pass=$((t_pass + inner_pass))
    t_fail=$((t_fail + inner_fail))
}

# rs_ns_leftovers - pids of processes still in the inner run's mount
# namespace (there should be none after it exited); removes RS_NSFILE
rs_ns_leftovers() {
    ns=$(cat "$RS_NSFILE" 2>/dev/null)
    rm -f "$RS_NSFILE"
    [ -n "$ns" ] || return 0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
    done
}

# rs_private_dev - in the namespace of rs_reexec only: replace /dev with
# a tmpfs that has the entries of rs_dev_keep and no log (see the top of
# this file). Needs $tmp. Returns 1 (having reported) on failure.
rs_private_dev() {
    rs_inside || { t_bad "private /dev" "not in the test's own mount namespace (rs_reexec)"; return 1; }
    # unshare --propagation private did this already; being sure costs nothing
    mount --make-rprivate / || { t_bad "private /dev" "mount --make-rprivate / failed"; return 1; }
    [ -n "${RS_NSFILE:-}" ] && readlink /proc/self/ns/mnt >"$RS_NSFILE"
    stage="$tmp/dev-stage"
    if ! mkdir "$stage" || ! mount -t tmpfs -o mode=755,nosuid,size=1m tlspolicyd-test-dev "$stage"; then
        t_bad "private /dev" "cannot mount a tmpfs on $stage"
        return 1
    fi
    for n in $rs_dev_keep; do
        e="/dev/$n"
        if [ -L "$e" ]; then
            cp -P "$e" "$stage/$n"
        elif [ -d "$e" ]; then
            mkdir "$stage/$n" && mount --rbind "$e" "$stage/$n"
        elif [ -e "$e" ]; then
            : >"$stage/$n" && mount --bind "$e" "$stage/$n"
        fi || { t_bad "private /dev" "cannot carry $e over"; return 1; }
    done
    mount --move "$stage" /dev || { t_bad "private /dev" "mount --move $stage /dev failed"; return 1; }
    rmdir "$stage"
    if [ -e /dev/log ] || [ -L /dev/log ] || [ "$(stat -f -c %T /dev)" != tmpfs ]; then
        t_bad "private /dev" "/dev is not our tmpfs: $(stat -f -c %T /dev) $(rs_devlog_state)"
        return 1
    fi
}

# rs_start - write the configuration and start rsyslogd in the foreground
# (-n) in the background; sets RSPID and RS_OUT. Waits (5 s at most)
# for its socket /dev/log. Returns 1 (having reported) on failure.
rs_start() {
    rs="$tmp/rsyslog"
    RS_OUT="$tmp/rsyslog/out"
    mkdir -p "$rs/work" "$RS_OUT" || return 1
    # maxMessageSize first: it must precede the input modules. The default
    # (8k) would cut a long record short; 64k is far above any record.
    # escapeControlCharactersOnReceive is rsyslog's default, said aloud: a
    # raw control character would be filed as "#012" etc. tlspolicyd
    # escapes them itself, so nothing of ours should ever be touched.
    # imuxsock: rate limiting off (a burst of records must not be thinned
    # out), the socket /dev/log in our private /dev.
    cat >"$rs/rsyslog.conf" <<EOF
global(workDirectory="$rs/work" localHostname="$RS_HOST" maxMessageSize="64k"
       parser.escapeControlCharactersOnReceive="on" net.enableDNS="off")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.Unlink="on"
       SysSock.RateLimit.Interval="0" SysSock.UsePIDFromSystem="off" SysSock.Annotate="off")
template(name="prio" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\n")
local3.*          action(type="omfile" file="$RS_OUT/local3.log" template="RSYSLOG_FileFormat")
local3.*          action(type="omfile" file="$RS_OUT/local3.trad.log" template="RSYSLOG_TraditionalFileFormat")
local3.*          action(type="omfile" file="$RS_OUT/local3.prio.log" template="prio")
mail.*            action(type="omfile" file="$RS_OUT/mail.log" template="RSYSLOG_FileFormat")
mail.*            action(type="omfile" file="$RS_OUT/mail.trad.log" template="RSYSLOG_TraditionalFileFormat")
*.*;local3.none;mail.none action(type="omfile" file="$RS_OUT/other.log" template="RSYSLOG_FileFormat")
EOF
    rs_find_rsyslogd || return 1
    # shellcheck disable=SC2086
    "$RS_BIN" ${RS_MODDIR:+-M "$RS_MODDIR"} -N1 -f "$rs/rsyslog.conf" >"$rs/check.log" 2>&1 ||
        { t_bad "rsyslogd accepts its configuration" "$(cat "$rs/check.log")"; return 1; }
    # No systemd hand-over: with LISTEN_FDS set rsyslogd would take the
    # socket passed to it (the machine's) instead of making its own.
    (exec env -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES -u NOTIFY_SOCKET \
        "$RS_BIN" ${RS_MODDIR:+-M "$RS_MODDIR"} -n -f "$rs/rsyslog.conf" -i "$rs/rsyslogd.pid" \
        >"$rs/rsyslogd.out" 2>&1) &
    RSPID=$!
    i=0
    while [ $i -lt 50 ] && [ ! -S /dev/log ] && alive "$RSPID"; do sleep 0.1; i=$((i + 1)); done
    [ -S /dev/log ] || { t_bad "rsyslogd starts" "no socket /dev/log; $(cat "$rs/rsyslogd.out")"; return 1; }
}

# rs_stop - SIGTERM to rsyslogd (it flushes its files) and wait for it
rs_stop() {
    [ -n "${RSPID:-}" ] || return 0
    kill -TERM "$RSPID" 2>/dev/null
    wait "$RSPID" 2>/dev/null
    RSPID=""
}

# rs_td_start CONF - like td_start (tests/e2e/lib.sh) but tlspolicyd's
# syslog(3) is left alone, so that it reaches our rsyslogd through /dev/log;
# records also on stderr in $tmp/td.log. Sets DPID (td_stop stops it).
rs_td_start() {
    user_opt=""
    [ "$(id -u)" = 0 ] && user_opt="-u nobody"
    # shellcheck disable=SC2086
    (exec "$D" -f $user_opt -P "$tmp/td.pid" -p "inet:$MILTER_PORT@127.0.0.1" -c "$1" >>"$tmp/td.log" 2>&1) &
    # shellcheck disable=SC2034 # read by td_stop (tests/e2e/lib.sh)
    DPID=$!
    wait_listen "$MILTER_PORT" up
}

# rs_e2e_start CONF RELAY_DOMAINS [syslog] - e2e_start (tests/e2e/lib.sh)
# inside the namespace of rs_reexec: private /dev, rsyslogd, then
# tlspolicyd (after rsyslogd: it connects to /dev/log when it starts) and
# Postfix. Postfix logs to $tmp/maillog; with "syslog" through our /dev/log
# as in production (facility mail: $RS_OUT/mail.log). Installs rs_cleanup.
# Returns 1 after reporting a failure.
rs_e2e_start() {
    before=$t_fail
    t_need postfix swaks openssl unshare mount
    [ "$(id -u)" = 0 ] || t_bad "running as root" "mount namespaces and Postfix's master need root"
    [ -x "$D" ] || t_bad "tlspolicyd is built" "no $D"
    [ "$t_fail" -eq "$before" ] || return 1
    e2e_tmp || { t_bad "scratch dir" "mktemp failed"; return 1; }
    trap rs_cleanup EXIT
    trap 'exit 1' INT TERM HUP
    rs_private_dev || return 1
    t_ok "private /dev without log, on tmpfs"
    rs_start || return 1
    t_ok "rsyslogd ($RS_BIN, pid $RSPID) listens on the private /dev/log"
    MILTER_PORT=$(e2e_free_port)
    SMTP_PORT=$(e2e_free_port "$MILTER_PORT")
    e2e_certs || { t_bad "test certificates" "$(tail -n 20 "$tmp/certs.log")"; return 1; }
    printf '%s\n' "$1" >"$tmp/td.conf"
    rs_td_start "$tmp/td.conf" || { t_bad "tlspolicyd starts" "$(tail -n 20 "$tmp/td.log")"; return 1; }
    t_ok "tlspolicyd starts on port $MILTER_PORT"
    # Without PF_SYSLOG pf_start runs Postfix under no_syslog: inside our
    # namespace that covers our /dev/log for Postfix alone; it logs to
    # $tmp/maillog. With it Postfix's syslog(3) reaches our rsyslogd.
    # shellcheck disable=SC2034 # read by pf_start and pf_ctl (tests/e2e/lib.sh)
    [ "${3:-}" = syslog ] && PF_SYSLOG=1
    pf_start "$2" || { t_bad "postfix starts" "$(tail -n 30 "$tmp/postfix-start.log" "$tmp/maillog" 2>&1)"; return 1; }
    t_ok "postfix starts on port $SMTP_PORT"
}

# rs_cleanup - stop Postfix, tlspolicyd and rsyslogd, remove $tmp; for the EXIT trap
rs_cleanup() {
    pf_stop
    td_stop >/dev/null 2>&1
    rs_stop
    # After rs_private_dev nothing under $tmp is a mount; should it have
    # failed half-way, unmount what it left before removing anything.
    [ -n "${tmp:-}" ] && mountpoint -q "$tmp/dev-stage" 2>/dev/null && umount -R "$tmp/dev-stage"
    [ -n "${tmp:-}" ] && [ -d "$tmp" ] && rm -rf --one-file-system "$tmp"
}

# rs_tagged FILE - the lines of FILE from tlspolicyd (any pid), as filed
rs_tagged() { grep -a " $TD_IDENT\[[0-9]*\]: " "$1"; }

# rs_msgs FILE - the message part of tlspolicyd's lines in FILE (what
# follows "IDENT[PID]: "), in the order filed
rs_msgs() { rs_tagged "$1" | sed "s/^.* $TD_IDENT\[[0-9]*\]: //"; }

# rs_wait_records N - until $RS_OUT/local3.log has N records (event=decision
# or event=session) from tlspolicyd, at most 5 s
rs_wait_records() {
    i=0
    while [ $i -lt 50 ]; do
        [ "$(rs_msgs "$RS_OUT/local3.log" 2>/dev/null | grep -c '^event=\(decision\|session\) ')" -ge "$1" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
