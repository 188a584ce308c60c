# prometheus.sh - Prometheus's promtool and server for the metrics tests.
# Source after tests/cli/lib.sh. Sets PROMTOOL and PROMETHEUS.
#
# Debian's prometheus package is never installed: its postinst would
# start and enable the machine's own Prometheus (with a node exporter
# recommended). prom_find downloads it with `apt-get download` and unpacks
# it with `dpkg -x` into $top_builddir/tests/prometheus-root (or
# $PROMETHEUS_ROOT) once; later runs reuse it. Both binaries are static Go
# programs: nothing else is needed. A failure to get them fails the test
# (CI installs nothing by hand).

# prom_find - set PROMTOOL and PROMETHEUS; 1 (having reported) on failure
prom_find() {
    root=${PROMETHEUS_ROOT:-$top_builddir/tests/prometheus-root}
    PROMTOOL=$root/usr/bin/promtool
    PROMETHEUS=$root/usr/bin/prometheus
    [ -x "$PROMTOOL" ] && [ -x "$PROMETHEUS" ] && return 0
    mkdir -p "$(dirname "$root")" || return 1
    # Into a scratch dir first, then renamed: an interrupted run leaves no
    # half-unpacked copy behind.
    dl=$(mktemp -d "$root.download.XXXXXX") || return 1
    if ! (cd "$dl" && apt-get download prometheus) >"$dl/apt.log" 2>&1; then
        t_bad "apt-get download prometheus" "$(tail -n 5 "$dl/apt.log")
(the package lists must be current: ./bootstrap runs apt-get update)"
        rm -rf "$dl"
        return 1
    fi
    if ! mkdir "$dl/root" || ! dpkg -x "$dl"/prometheus_*.deb "$dl/root"; then
        t_bad "dpkg -x prometheus" ""
        rm -rf "$dl"
        return 1
    fi
    rm -rf "$root"
    mv "$dl/root" "$root" && rm -rf "$dl"
    if [ ! -x "$PROMTOOL" ] || [ ! -x "$PROMETHEUS" ]; then
        t_bad "unpacked prometheus has usr/bin/promtool and usr/bin/prometheus" "$(ls -R "$root" | head -n 20)"
        return 1
    fi
}
