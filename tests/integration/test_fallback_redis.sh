#!/bin/sh
# test_fallback_redis - the fallback miltertest suite (test_fallback.sh),
# unchanged, with the learned state in a private redis-server
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
TP_STATE_BACKEND=redis exec bash "$top_srcdir/tests/integration/test_fallback.sh"
