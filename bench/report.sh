#!/bin/sh
# report.sh BUILDDIR [MB] - tlspolicy-report throughput and peak memory on a
# generated log of about MB megabytes (default 1024), against `grep -c
# event=decision` on the same file. Run by `make bench-report`.
set -eu
build=${1:?usage: report.sh BUILDDIR [MB]}
mb=${2:-1024}
here=$(cd "$(dirname "$0")" && pwd)
report="$build/src/report/tlspolicy-report"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=$((mb * 1024 * 1024 / 545)) # a record line is about 545 bytes
awk -v n="$n" -f "$here/report.awk" >"$tmp/big.log"
size=$(du -m "$tmp/big.log" | cut -f1)
cat "$tmp/big.log" >/dev/null # both runs start from the page cache

# secs CMD... - wall seconds of a command, output discarded
# (not to /dev/null: GNU grep stops at the first match when it can tell nobody reads)
secs() { s=$(date +%s.%N); "$@" >"$tmp/out"; e=$(date +%s.%N); echo "$e - $s" | bc; }

g=$(secs grep -c event=decision "$tmp/big.log")
r=$(secs "$report" --year 2026 "$tmp/big.log")
rss=$( (/usr/bin/time -f %M "$report" --year 2026 "$tmp/big.log" >/dev/null) 2>&1 | tail -1)
echo "| log | records | grep -c s | tlspolicy-report s | MB/s | ratio | peak RSS KiB |"
echo "|---|---|---|---|---|---|---|"
printf '| %s MB | %s | %.2f | %.2f | %.0f | %.1fx | %s |\n' "$size" "$n" "$g" "$r" \
    "$(echo "$size / $r" | bc -l)" "$(echo "$r / $g" | bc -l)" "$rss"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); command: sh bench/report.sh BUILDDIR $mb"
