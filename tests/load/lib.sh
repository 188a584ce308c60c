# lib.sh - what the load tests share. Source after tests/cli/lib.sh and
# tests/integration/lib.sh. Needs: $tmp (a scratch dir), $top_builddir.

L="$top_builddir/bench/milterload"
[ -x "$L" ] || t_bad "bench/milterload is built" "make check builds it; run make"

# rss_kb PID - the resident set of PID in KiB (VmRSS), or 0 if it is gone
rss_kb() {
    awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# seq_report LOG - "records first last gaps dups" over the seq= of every
# record of LOG (one instance): contiguous means gaps = dups = 0 and
# records = last - first + 1
seq_report() {
    grep -oE '^event=(decision|session) seq=[0-9]+' "$1" | sed 's/.*seq=//' | sort -n |
        awk 'NR == 1 { first = $1 } NR > 1 && $1 == prev { d++ } NR > 1 && $1 > prev + 1 { g++ }
             { prev = $1 } END { printf "%d %d %d %d %d\n", NR, first, prev, g, d }'
}

# seq_contiguous NAME LOG - assert that LOG's records have seq 1..N, each once
seq_contiguous() {
    set -- "$1" "$2" "$(seq_report "$2")"
    # shellcheck disable=SC2086
    set -- "$1" "$2" $3
    if [ "$3" -gt 0 ] && [ "$4" = 1 ] && [ "$5" = "$3" ] && [ "$6" = 0 ] && [ "$7" = 0 ]; then
        t_ok "$1 ($3 records, seq 1-$5)"
    else
        t_bad "$1" "records $3, first $4, last $5, gaps $6, duplicates $7"
    fi
}

# conf_hash CONF - the configuration hash tlspolicyd -n reports
conf_hash() {
    "$D" -n -c "$1" 2>&1 | sed -n 's/.*(hash \([0-9a-f]*\),.*/\1/p'
}

# load_field KEY FILE - one "key value" line of milterload's output
load_field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
