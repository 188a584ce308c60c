#!/bin/sh
# test_deb - the Debian package as an administrator gets it: `make deb` in a
# configured build tree, lintian, dpkg -i on this machine (no service is
# started: a temporary policy-rc.d refuses), the installed files, owners and
# modes, the daemon started as the packaged unit starts it (its user, its
# directories, its command lines) with one milter session through its unix
# socket, then dpkg --purge, after which nothing of it may be left.
# Run by tests/check-all.sh (root), not by make check: it installs a package.
# Usage: test_deb.sh BUILDDIR (configured, e.g. build/normal)
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"

B=$(cd "${1:?usage: test_deb.sh BUILDDIR}" && pwd) || exit 1
t_need make dpkg dpkg-buildpackage dh lintian apt-get systemd-analyze miltertest setpriv unshare
[ "$(id -u)" = 0 ] || { t_bad "runs as root" "dpkg -i needs root"; t_done; exit 1; }
if dpkg -s tlspolicyd >/dev/null 2>&1; then
    t_bad "tlspolicyd is not installed before the test" "this machine has it: purge it first"
    t_done
    exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
DPID="" installed=0 made_run=0 prc=/usr/sbin/policy-rc.d
# The package keeps its system user on purge (Debian practice); the test
# removes it again when it was not there before, to leave the machine as found.
had_user=0
getent passwd tlspolicyd >/dev/null && had_user=1
cleanup() {
    [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    [ "$installed" = 1 ] && dpkg --purge tlspolicyd >/dev/null 2>&1
    [ "$made_run" = 1 ] && rm -rf /run/tlspolicyd
    if [ "$had_user" = 0 ] && getent passwd tlspolicyd >/dev/null; then
        userdel tlspolicyd 2>/dev/null
        getent group tlspolicyd >/dev/null && groupdel tlspolicyd 2>/dev/null
    fi
    # Only the policy-rc.d this test put there; the machine's own comes back.
    if [ -e "$tmp/policy-rc.d.ours" ]; then
        rm -f "$prc"
        [ -e "$tmp/policy-rc.d.orig" ] && mv "$tmp/policy-rc.d.orig" "$prc"
    fi
    deb_abandon
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# What the package must not leave behind: every file under /etc /usr /var,
# less what dpkg, apt, debconf, man-db and the logs change on any install.
snapshot() {
    find /etc /usr /var -xdev 2>/dev/null |
        grep -Ev '^/var/(lib/dpkg|cache/debconf|cache/man|cache/apt|lib/apt|log|cache/ldconfig|tmp)(/|$)|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^/etc/ld\.so\.cache$' |
        LC_ALL=C sort
}

ver=$(sed -n 's/^AC_INIT(\[tlspolicyd\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
t_match "configure.ac has a version" '^[0-9]' "$ver"

# --- make deb: the unit tests ran in make distcheck on the same tarball.
t0=$(date +%s)
rm -f "$B"/tlspolicyd_*.deb
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS-nocheck noautodbgsym parallel=$(nproc)}"
if make -C "$B" deb >"$tmp/make-deb.log" 2>&1; then t_ok "make deb"; else
    t_bad "make deb" "$(tail -n 30 "$tmp/make-deb.log")"
fi
deb=$(find "$B" -maxdepth 1 -name "tlspolicyd_${ver}_*.deb" | head -n 1)
t_match "make deb leaves tlspolicyd_${ver}_ARCH.deb in the build tree" "tlspolicyd_${ver}_[a-z0-9]+\.deb$" "$deb"
t_match "and its .changes" '\.changes$' "$(ls "$B"/tlspolicyd_"$ver"_*.changes 2>/dev/null)"
t_eq "the package's version is configure.ac's" "$ver" "$(dpkg-deb -f "$deb" Version 2>&1)"
t1=$(date +%s)
[ -n "$deb" ] || { t_done; exit 1; }

# --- lintian: no error; its whole output shown (overrides have reasons).
out=$(lintian --fail-on error --display-info "$deb" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    lintian: /'
t_eq "lintian --fail-on error passes" 0 "$rc"
t_nomatch "lintian reports no error or warning" '^[EW]: ' "$out"
t2=$(date +%s)

# --- dpkg -i, no service started (policy-rc.d 101), this machine's kept aside.
if [ -e "$prc" ]; then mv "$prc" "$tmp/policy-rc.d.orig"; fi
printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod 755 "$prc" && : >"$tmp/policy-rc.d.ours"
snapshot >"$tmp/before"
installed=1
if out=$(dpkg -i "$deb" 2>&1); then t_ok "dpkg -i"; else t_bad "dpkg -i" "$out"; fi
t_nomatch "dpkg -i prints no error or warning" '(error|warning)' "$out"

# --- the files, owners and modes
stat_of() { stat -c '%U:%G %a' "$1" 2>&1; }
t_eq "/usr/sbin/tlspolicyd" "root:root 755" "$(stat_of /usr/sbin/tlspolicyd)"
t_eq "/usr/bin/tlspolicy-report" "root:root 755" "$(stat_of /usr/bin/tlspolicy-report)"
t_eq "/usr/bin/tlspolicy-probe" "root:root 755" "$(stat_of /usr/bin/tlspolicy-probe)"
t_eq "/etc/tlspolicyd/tlspolicyd.conf" "root:root 644" "$(stat_of /etc/tlspolicyd/tlspolicyd.conf)"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' tlspolicyd | awk 'NF { print $1 }')
for f in /etc/tlspolicyd/tlspolicyd.conf /etc/tlspolicyd/tlspolicy-profiles.conf \
    /etc/rsyslog.d/30-tlspolicyd.conf /etc/logrotate.d/tlspolicyd; do
    t_match "conffile $f" "^$f\$" "$conffiles"
done
t_match "the conffile runs in monitor mode" '^mode = "monitor";' "$(cat /etc/tlspolicyd/tlspolicyd.conf)"
t_match "the user tlspolicyd: system, home /var/lib/tlspolicyd, nologin" \
    '^tlspolicyd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/tlspolicyd:/usr/sbin/nologin$' "$(getent passwd tlspolicyd)"
t_match "its group tlspolicyd" '^tlspolicyd:' "$(getent group tlspolicyd)"
uid=$(id -u tlspolicyd 2>/dev/null)
if [ "${uid:-1000}" -lt 1000 ]; then t_ok "tlspolicyd is a system user (uid $uid)"; else t_bad "tlspolicyd is a system user" "uid $uid"; fi
t_eq "/var/lib/tlspolicyd" "tlspolicyd:tlspolicyd 750" "$(stat_of /var/lib/tlspolicyd)"
for m in man8/tlspolicyd.8 man5/tlspolicyd.conf.5 man1/tlspolicy-report.1 man1/tlspolicy-probe.1; do
    if [ -f "/usr/share/man/$m.gz" ]; then t_ok "man page $m"; else t_bad "man page $m" "missing"; fi
done
t_match "tlspolicyd(8) names the packaged configuration" '/etc/tlspolicyd/tlspolicyd\.conf' \
    "$(zcat /usr/share/man/man8/tlspolicyd.8.gz)"
unit=/lib/systemd/system/tlspolicyd.service
if [ -f "$unit" ]; then t_ok "the unit $unit"; else t_bad "the unit $unit" "missing"; fi
t_match "the unit is enabled" 'tlspolicyd\.service' "$(ls /etc/systemd/system/multi-user.target.wants/ 2>&1)"
for f in /etc/rsyslog.d/30-tlspolicyd.conf /etc/logrotate.d/tlspolicyd \
    /usr/share/doc/tlspolicyd/examples/tlspolicyd.conf /usr/share/doc/tlspolicyd/examples/postfix/main.cf.snippet \
    /usr/share/doc/tlspolicyd/examples/sendmail/tlspolicyd.mc /usr/share/doc/tlspolicyd/examples/prometheus/tlspolicyd.rules.yml \
    /usr/share/doc/tlspolicyd/examples/grafana/tlspolicyd.json /usr/share/doc/tlspolicyd/README.Debian.gz \
    /usr/share/doc/tlspolicyd/copyright; do
    if [ -f "$f" ]; then t_ok "$f"; else t_bad "$f" "missing"; fi
done
# logrotate unpacked, not installed: its package would pull in cron (a
# service) on a machine without systemd-sysv.
lr=$tmp/logrotate-root
if deb_unpack "$lr" usr/sbin/logrotate logrotate libpopt0; then
    out=$(LD_LIBRARY_PATH="$(find "$lr" -name 'libpopt.so*' -exec dirname {} \; | head -n 1)" \
        "$lr/usr/sbin/logrotate" -d -s "$tmp/logrotate.status" /etc/logrotate.d/tlspolicyd 2>&1)
    t_match "logrotate -d reads the logrotate file" 'rotating pattern: /var/log/tlspolicyd.log' "$out"
    t_nomatch "  without an error" '^error' "$out"
fi

# --- the installed programs
t_eq "tlspolicyd -V prints configure.ac's version" "tlspolicyd $ver" "$(/usr/sbin/tlspolicyd -V 2>&1 | head -n 1)"
out=$(/usr/sbin/tlspolicyd -n -c /etc/tlspolicyd/tlspolicyd.conf 2>&1); rc=$?
t_eq "tlspolicyd -n -c /etc/tlspolicyd/tlspolicyd.conf" 0 "$rc"
t_match "  configuration OK" 'configuration OK' "$out"
out=$(/usr/sbin/tlspolicyd --explain rcpt=a@rcpt.example 2>&1)
t_match "the default configuration accepts plaintext (monitor)" \
    'action=accept .*mode=monitor' "$out"

# --- systemd-analyze verify (systemd need not be PID 1); a real error fails.
out=$(systemd-analyze verify --man=no "$unit" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    systemd-analyze: /'
t_eq "systemd-analyze verify $unit" 0 "$rc"
t_nomatch "  with nothing to say about tlspolicyd.service" 'tlspolicyd\.service' "$out"

# --- start the daemon as the unit would: its User/Group, RuntimeDirectory,
# UMask, ExecStartPre then ExecStart (taken from the installed unit).
key() { sed -n "s/^$1=//p" "$unit" | head -n 1; }
user=$(key User) group=$(key Group) umask_=$(key UMask)
rdir=/run/$(key RuntimeDirectory) rmode=$(key RuntimeDirectoryMode)
pre=$(key ExecStartPre) start=$(key ExecStart)
t_eq "the unit runs as tlspolicyd:tlspolicyd" "tlspolicyd:tlspolicyd" "$user:$group"
if [ -e "$rdir" ]; then
    t_bad "$rdir does not exist yet" "$(ls -ld "$rdir")"
else
    made_run=1
    install -d -o "$user" -g "$group" -m "$rmode" "$rdir"
fi
# as_unit COMMAND-LINE - as the unit's user and group, with its umask, where
# syslog(3) reaches nothing of the machine's (see no_syslog in lib.sh)
# shellcheck disable=SC2016
as_unit() {
    exec unshare -m sh -c '[ ! -e /dev/log ] || mount --bind /dev/null /dev/log || exit 97
        exec setpriv --reuid="$1" --regid="$2" --init-groups sh -c "umask $3; exec $4"' \
        as_unit "$user" "$group" "$umask_" "$1"
}
out=$( (as_unit "$pre") 2>&1); rc=$?
t_eq "ExecStartPre ($pre) as $user" 0 "$rc"
# exec at every step: $! is the daemon itself.
(as_unit "$start" >"$tmp/daemon.log" 2>&1) &
DPID=$!
sock=$rdir/tlspolicyd.sock i=0
while [ $i -lt 300 ] && ! grep -q 'message="starting: socket' "$tmp/daemon.log"; do
    kill -0 "$DPID" 2>/dev/null || break
    sleep 0.1; i=$((i + 1))
done
t_match "ExecStart ($start) as $user starts" 'message="starting: socket' "$(cat "$tmp/daemon.log")"
t_eq "its socket: srwxrwx--- tlspolicyd:tlspolicyd (UMask $umask_)" "srwxrwx--- tlspolicyd:tlspolicyd" \
    "$(stat -c '%A %U:%G' "$sock" 2>&1)"
t_eq "its pidfile names it" "$DPID" "$(cat "$rdir/tlspolicyd.pid" 2>&1)"
t_eq "the daemon runs as tlspolicyd" "tlspolicyd" "$(stat -c %U "/proc/$DPID" 2>&1)"

printf '%s\n%s\n' "$MT_SESSION_LUA" \
    "one('192.0.2.10', 'mx.sender.example', false, '<a@rcpt.example>', SMFIR_CONTINUE)" >"$tmp/t.lua"
if out=$(miltertest -s "$tmp/t.lua" -D milter_socket="unix:$sock" 2>&1); then
    t_ok "a plaintext session through $sock is accepted"
else
    t_bad "a plaintext session through $sock is accepted" "$out"
fi
sleep 0.5
rec=$(grep '^event=decision' "$tmp/daemon.log")
t_match "its record (on standard error with -f): accept, monitor, QIDPLAIN" \
    'action=accept .*reason=plaintext_allowed .*mode=monitor .*rcpt=a@rcpt\.example ' "$rec"
t_match "  with the session's queue id" 'qid=QIDPLAIN' "$rec"
kill -TERM "$DPID"
wait "$DPID"; rc=$?
DPID=""
t_eq "SIGTERM stops it, exit 0" 0 "$rc"
sed 's/^/    daemon: /' "$tmp/daemon.log"
[ "$made_run" = 1 ] && rm -rf "$rdir" && made_run=0

# --- dpkg -r: the programs go, the configuration and the state stay
if out=$(dpkg -r tlspolicyd 2>&1); then t_ok "dpkg -r"; else t_bad "dpkg -r" "$out"; fi
t_nomatch "dpkg -r prints no error or warning" '(error|warning)' "$out"
if [ -e /usr/sbin/tlspolicyd ]; then t_bad "dpkg -r removes /usr/sbin/tlspolicyd" ""; else t_ok "dpkg -r removes /usr/sbin/tlspolicyd"; fi
if [ -f /etc/tlspolicyd/tlspolicyd.conf ] && [ -d /var/lib/tlspolicyd ]; then
    t_ok "dpkg -r keeps the conffile and /var/lib/tlspolicyd"
else
    t_bad "dpkg -r keeps the conffile and /var/lib/tlspolicyd" "$(ls -ld /etc/tlspolicyd /var/lib/tlspolicyd 2>&1)"
fi

# --- dpkg --purge: nothing of the package left
if out=$(dpkg --purge tlspolicyd 2>&1); then t_ok "dpkg --purge"; else t_bad "dpkg --purge" "$out"; fi
t_nomatch "dpkg --purge prints no error or warning" '(error|warning)' "$out"
installed=0
t_match "purge keeps the system user tlspolicyd (README.Debian)" '^tlspolicyd:' "$(getent passwd tlspolicyd)"
for f in /etc/tlspolicyd /var/lib/tlspolicyd /usr/share/doc/tlspolicyd "$unit" \
    /etc/rsyslog.d/30-tlspolicyd.conf /etc/logrotate.d/tlspolicyd /usr/sbin/tlspolicyd \
    /etc/systemd/system/multi-user.target.wants/tlspolicyd.service; do
    if [ -e "$f" ] || [ -L "$f" ]; then t_bad "purge removes $f" "$(ls -ld "$f")"; else t_ok "purge removes $f"; fi
done
t_eq "dpkg -L tlspolicyd lists nothing" "" "$(dpkg -L tlspolicyd 2>/dev/null)"
snapshot >"$tmp/after"
t_eq "no file under /etc /usr /var added or removed by install + purge" "" \
    "$(diff "$tmp/before" "$tmp/after" | grep '^[<>]')"
t4=$(date +%s)
echo "test_deb: make deb $((t1 - t0)) s, lintian $((t2 - t1)) s, install test $((t4 - t2)) s" \
    "(DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
t_done
