#!/bin/sh
# test_spellings_explain - every recipient spelling in spellings.txt through
# tlspolicyd --explain, over plaintext: a recipient for gdpr.example (or a
# subdomain, or an IDN policy domain) in any spelling, or one whose domain
# cannot be determined, is refused; a recipient for another domain is
# accepted and its record names that domain, never gdpr.example.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

D="$top_builddir/src/tlspolicyd"
LIST="$top_srcdir/tests/spellings/spellings.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/t.conf" <<'CONF'
socket = "inet:8895@127.0.0.1";
policies = (
  { name = "gdpr"; level = "required"; min_tls_version = "TLSv1.2";
    recipient_domains = [ "gdpr.example", ".gdpr.example", "bücher.example" ]; }
);
CONF

tried=0
bypass=0
while IFS='|' read -r expect name raw; do
    case $expect in '' | \#*) continue ;; esac
    tried=$((tried + 1))
    rcpt=$(printf '%b_' "$raw")
    rcpt=${rcpt%_} # keep trailing white space and newlines
    out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 rcpt="$rcpt" 2>&1)
    action=$(printf '%s\n' "$out" | sed -n 's/^event=decision .* action=\([a-z]*\) .*/\1/p' | head -n 1)
    domain=$(printf '%s\n' "$out" | sed -n 's/^event=decision .* rcpt_domain=\([^ ]*\) .*/\1/p' | head -n 1)
    n=$(printf '%s\n' "$out" | grep -c '^event=decision ')
    if [ "$n" != 1 ]; then
        t_bad "$name: one decision record" "$out"
        continue
    fi
    case $expect in
    refuse)
        if [ "$action" = reject ]; then
            t_ok "$name: refused"
        else
            bypass=$((bypass + 1))
            t_bad "$name: refused" "action=$action
$out"
        fi
        ;;
    other)
        case $domain in
        gdpr.example | *.gdpr.example | xn--bcher-kva.example | - | '')
            bypass=$((bypass + 1))
            t_bad "$name: accepted for its own domain" "rcpt_domain=$domain
$out"
            ;;
        *) t_eq "$name: accepted for $domain" accept "$action" ;;
        esac
        ;;
    *) t_bad "$name: expectation" "unknown expectation '$expect' in $LIST" ;;
    esac
done <"$LIST"

t_match "at least 100 spellings tried" '^(1[0-9][0-9]|[2-9][0-9][0-9])$' "$tried"
echo "spellings tried: $tried, bypasses: $bypass"
t_done
