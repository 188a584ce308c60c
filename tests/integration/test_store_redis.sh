#!/bin/bash
# test_store_redis - the Redis state-store backend (tests/unit/test_store_redis.c)
# against a private redis-server: get, update, conflict retry (the
# compare-and-set), threads on two handles, NOSCRIPT after SCRIPT FLUSH,
# round trips per decision (INFO commandstats), the fallback rules on
# Redis and on LMDB giving the same decisions and records, walk, expire,
# forget, damaged values, unix socket, db, AUTH, a dead server and its
# back-off, the next server, pooled connections the server closed, a
# replica passed over and a primary demoted under us.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/redis.sh"

tmp=$(mktemp -d)
trap 'redis_stop_all; rm -rf "$tmp"' EXIT
redis_find || { t_done; exit 1; }
redis_start main || { t_done; exit 1; }
redis_start second || { t_done; exit 1; }
# A port nothing listens on: the dead server.
dead=$(free_port "$REDIS_PORT_main")
# Under TP_VALGRIND=1 (tests/check-all.sh) memcheck runs it, as the other unit tests.
vg=""
[ "${TP_VALGRIND:-0}" = 1 ] && vg="valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite"
# shellcheck disable=SC2086
if out=$(TP_REDIS_PORT=$REDIS_PORT_main TP_REDIS_SOCK=$REDIS_SOCK_main TP_DEAD_PORT=$dead TP_REDIS_PORT2=$REDIS_PORT_second \
    $vg "$top_builddir/tests/unit/test_store_redis" 2>&1); then
    t_ok "store unit tests against redis-server"
else
    t_bad "store unit tests against redis-server" "$out"
fi
printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED)' | sed 's/^/# /'
t_done
