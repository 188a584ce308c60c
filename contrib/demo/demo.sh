#!/bin/bash
# demo.sh - see tlspolicyd work behind a real Postfix in a minute.
#
# Starts a throwaway Postfix on a free loopback port (its own
# config_directory and queue under /tmp; the machine's Postfix and mail are
# never touched) with tlspolicyd as its milter, running the example
# configuration etc/tlspolicyd.conf -- with loopback taken out of
# exempt.clients, since the demo's mail comes from loopback. swaks then sends
# four messages: plaintext and TLS, each to a required-TLS domain
# (gdpr.example) and to an ordinary one (other.example). The SMTP replies and
# tlspolicyd's decision records are printed; everything is cleaned up.
#
# Usage, as root, after ./bootstrap && ./configure && make:
#     contrib/demo/demo.sh
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"
D="$top_builddir/src/tlspolicyd"

CONF=$(sed 's|^\( *clients *= *\)\[.*\];|\1[ "192.0.2.255/32" ];  # demo: loopback is NOT exempt|' \
    "$top_srcdir/etc/tlspolicyd.conf")
echo "== starting Postfix and tlspolicyd (example configuration) on loopback"
e2e_start "$CONF" "gdpr.example other.example" >/dev/null || { t_done; exit 1; }
echo "   Postfix on 127.0.0.1:$SMTP_PORT, tlspolicyd on 127.0.0.1:$MILTER_PORT"

demo() { # demo TITLE SWAKS-ARGS...
    title=$1; shift
    echo
    echo "== $title"
    send demo$RANDOM "$@"
    # swaks marks TLS traffic with ~ and errors with **.
    printf '%s\n' "$out" | grep -E 'TLS started|(->|~>) *RCPT TO|<\*\*|<[-~] +(250 2\.0\.0|[45][0-9][0-9] )' \
        | sed 's/^/   /'
}
demo "plaintext to a required-TLS domain" --to someone@gdpr.example
demo "plaintext to an ordinary domain" --to someone@other.example
demo "TLS to the required-TLS domain" --to someone@gdpr.example --tls
demo "TLS to the ordinary domain" --to someone@other.example --tls
sleep 1
echo
echo "== tlspolicyd's records"
grep -E '^event=(decision|session)' "$tmp/td.log" | sed 's/^/   /'
echo
echo "== cleaning up"
