#!/bin/sh
# test_prefixes - a configuration cut short (a crashed editor, a full disk,
# ": > file") must never pass -n and then let plaintext through to a domain
# the whole file requires TLS for. Runs -n on byte-prefixes of the shipped
# etc/tlspolicyd.conf: every prefix that ends a line (where a cut is most
# likely and a statement can end) and every STRIDE-th other one (default
# 20; STRIDE=1 runs all 9,032, about four minutes); each prefix that
# passes is asked, with --explain, what it does to a plaintext RCPT to
# gdpr.example, which the full file requires TLS for.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

D="$top_builddir/src/tlspolicyd"
conf="$top_srcdir/etc/tlspolicyd.conf"
stride=${STRIDE:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

explain() { "$D" -c "$1" --explain client_addr=192.0.2.1 rcpt=u@gdpr.example 2>&1; }

out=$(explain "$conf")
t_match "the full file refuses plaintext to gdpr.example" '^event=decision .* action=reject .* reason=plaintext policy=gdpr' "$out"

size=$(wc -c <"$conf")
# Offsets just after each newline, and the stride.
ends=$(od -An -v -tu1 -w1 "$conf" | awk -v s="$stride" '{ n++; if ($1 == 10 || n % s == 0) print n }')
tried=0 passed=0 open=0 first=""
for n in 0 $ends; do
    [ "$n" -lt "$size" ] || continue
    head -c "$n" "$conf" >"$tmp/p.conf"
    tried=$((tried + 1))
    "$D" -n -c "$tmp/p.conf" >/dev/null 2>&1 || continue
    passed=$((passed + 1))
    if explain "$tmp/p.conf" | grep -q '^event=decision .* action=accept '; then
        open=$((open + 1))
        [ -n "$first" ] || first=$n
    fi
done
echo "# $size bytes; $tried prefixes tried (stride $stride and every line end), $passed pass -n, $open of them accept plaintext to gdpr.example"
t_eq "no prefix that passes -n accepts plaintext to gdpr.example (first at byte ${first:--})" 0 "$open"
[ "$tried" -gt 200 ] && t_ok "the sweep covered $tried prefixes" || t_bad "the sweep covered too few prefixes" "$tried"
t_done
