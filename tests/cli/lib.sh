# lib.sh - assertions for the shell tests. Source it; call t_done last.
# Each assertion prints "ok - NAME" or "FAIL - NAME" with what was seen.

t_pass=0
t_fail=0

# t_ok NAME - record a pass
t_ok() { t_pass=$((t_pass + 1)); echo "ok - $1"; }

# t_bad NAME DETAIL - record a failure
t_bad() { t_fail=$((t_fail + 1)); echo "FAIL - $1"; printf '%s\n' "$2" | sed 's/^/    /'; }

# t_eq NAME EXPECTED ACTUAL
t_eq() { if [ "$2" = "$3" ]; then t_ok "$1"; else t_bad "$1" "expected: $2
got:      $3"; fi; }

# t_match NAME REGEX TEXT - TEXT has a line matching the extended REGEX
t_match() { if printf '%s\n' "$3" | grep -Eq -- "$2"; then t_ok "$1"; else t_bad "$1" "no line matches: $2
in:
$3"; fi; }

# t_nomatch NAME REGEX TEXT
t_nomatch() { if printf '%s\n' "$3" | grep -Eq -- "$2"; then t_bad "$1" "unexpected match: $2
in:
$3"; else t_ok "$1"; fi; }

# t_done - summary line and exit status
t_done() { echo "$t_pass passed, $t_fail failed"; [ "$t_fail" -eq 0 ]; }

# t_need TOOL... - a missing tool is a failure, never a skip
t_need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { t_bad "tool $tool is installed" "run ./bootstrap"; }
    done
}

# deb_unpack ROOT "REL..." PACKAGE... - Debian's PACKAGEs unpacked into ROOT
# with apt-get download and dpkg -x, never installed (a package's scripts
# would start the machine's own rsyslogd, Sendmail or Prometheus). Into a
# scratch directory first, renamed to ROOT once the files REL (paths under
# ROOT, space-separated) are there: an interrupted run leaves no half-
# unpacked copy (DEB_DL names the scratch directory meanwhile, for an EXIT
# trap). ROOT/PACKAGES lists the versions. 1 (having reported) on failure.
deb_unpack() {
    du_root=$1 du_need=$2
    shift 2
    mkdir -p "$(dirname "$du_root")" || return 1
    DEB_DL=$(mktemp -d "$du_root.download.XXXXXX") || return 1
    if ! (cd "$DEB_DL" && apt-get download "$@") >"$DEB_DL/apt.log" 2>&1; then
        t_bad "apt-get download $*" "$(tail -n 5 "$DEB_DL/apt.log")
(the package lists must be current: ./bootstrap runs apt-get update)"
        deb_abandon
        return 1
    fi
    mkdir "$DEB_DL/root" || { deb_abandon; return 1; }
    for du_deb in "$DEB_DL"/*.deb; do
        dpkg -x "$du_deb" "$DEB_DL/root" || { t_bad "dpkg -x $du_deb" ""; deb_abandon; return 1; }
        dpkg-deb -f "$du_deb" Package Version | paste -sd' ' >>"$DEB_DL/root/PACKAGES"
    done
    for du_f in $du_need; do
        if [ ! -e "$DEB_DL/root/$du_f" ]; then
            t_bad "unpacked $* has $du_f" "$(find "$DEB_DL/root" -maxdepth 4 | head -n 30)"
            deb_abandon
            return 1
        fi
    done
    rm -rf "$du_root"
    mv "$DEB_DL/root" "$du_root" && deb_abandon
}

# deb_abandon - remove deb_unpack's scratch directory, if any
deb_abandon() { [ -z "${DEB_DL:-}" ] || rm -rf "$DEB_DL"; DEB_DL=""; }
