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
