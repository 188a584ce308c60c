#!/bin/sh
# test_check_layers - tests/check-layers.sh passes on the source tree and
# fails, naming the place, on each kind of decay it exists to stop: an
# upward include, an include between sibling front ends, a private header
# used from another folder, an include cycle, an unlisted folder.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/cli/lib.sh"
t_need python3

CHECK="$top_srcdir/tests/check-layers.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$(sh "$CHECK" "$top_srcdir/src" 2>&1); rc=$?
t_eq "the tree passes" 0 "$rc"
t_match "the tree: counts files and modules" "^check-layers: [0-9]+ files, [0-9]+ modules, no upward include, no cycle$" "$out"

# The milter only translates: a file that speaks libmilter (smfi_*) neither
# decides, nor learns, nor writes a record; that is the session service's.
speakers=$(grep -rl 'smfi_' "$top_srcdir/src" --include='*.c')
t_match "libmilter is spoken in src/milter/" "src/milter/milter\.c$" "$speakers"
bad=$(grep -nE '\b(policy_decide|fallback_decide|fallback_[a-z_]+|record_format_[a-z_]+|logger_[a-z_]+|reply_set|store_[a-z_]+)\(' $speakers)
t_eq "no file calling smfi_* decides, learns or writes a record" "" "$bad"
t_eq "only src/milter/ calls smfi_*" "" "$(printf '%s\n' "$speakers" | grep -v '/src/milter/')"

# fresh - a copy of src/ to damage
fresh() { rm -rf "$tmp/src"; cp -R "$top_srcdir/src" "$tmp/src"; }

# append FILE LINE - add a line to a copied source file
append() { printf '%s\n' "$2" >>"$tmp/src/$1"; }

fresh
append util/strbuf.c '#include "daemon/logger.h"'
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "upward include: exit 1" 1 "$rc"
t_match "upward include: named with file and line" '^src/util/strbuf\.c:[0-9]+: util/ includes "daemon/logger\.h" from the higher layer daemon/$' "$out"

fresh
append core/cidr.c '#include "session/tlsfail.h"'
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "core -> session: exit 1" 1 "$rc"
t_match "core -> session: named" 'core/ includes "session/tlsfail\.h" from the higher layer session/' "$out"

fresh
append probe/out.c '#include "report/agg.h"'
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "sibling program include: exit 1" 1 "$rc"
t_match "sibling program include: named" 'probe/ includes "report/agg\.h" from report/, a sibling of its layer' "$out"

fresh
append probe/out.c '#include "config/config_internal.h"'
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "private header: exit 1" 1 "$rc"
t_match "private header: named" 'includes "config/config_internal\.h", private to config/' "$out"

fresh
append util/strbuf.h '#include "util/map.h"'
append util/map.h '#include "util/strbuf.h"'
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "include cycle: exit 1" 1 "$rc"
t_match "include cycle: both modules named" '^include cycle: util/map, util/strbuf$' "$out"

fresh
mkdir "$tmp/src/extra"
printf '#include "util/strbuf.h"\n' >"$tmp/src/extra/x.c"
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "unlisted folder: exit 1" 1 "$rc"
t_match "unlisted folder: named" "folder 'extra' is not in the layer order" "$out"

fresh
append core/cidr.c '#include "cidr.h"'
out=$(sh "$CHECK" "$tmp/src" 2>&1); rc=$?
t_eq "include without folder: exit 1" 1 "$rc"
t_match "include without folder: named" 'include "cidr\.h" without its folder' "$out"

t_done
