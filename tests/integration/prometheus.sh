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
    deb_unpack "$root" "usr/bin/promtool usr/bin/prometheus" prometheus
}
