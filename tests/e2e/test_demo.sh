#!/bin/bash
# test_demo - the README's demo (contrib/demo/demo.sh) keeps working: one
# refusal for plaintext to the required-TLS domain, three deliveries, and
# the records printed.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
out=$(top_builddir="$top_builddir" bash "$top_srcdir/contrib/demo/demo.sh" 2>&1); rc=$?
t_eq "demo exits 0" 0 "$rc"
t_eq "plaintext to gdpr.example refused with 530 5.7.0" 1 "$(printf '%s\n' "$out" | grep -c '<\*\* 530 5\.7\.0 ')"
t_eq "three messages queued" 3 "$(printf '%s\n' "$out" | grep -c 'queued as')"
t_eq "four decision records printed" 4 "$(printf '%s\n' "$out" | grep -c '^   event=decision')"
t_match "TLS 1.3 was used" 'TLS started with cipher TLSv1\.3' "$out"
t_done
