# redis.sh - private redis-server instances for the tests. Source after
# tests/cli/lib.sh and tests/integration/lib.sh (free_port). Needs $tmp.
#
# The server is Debian's redis-tools binary (bootstrap explains why not the
# redis-server package: it would start the machine's own Redis): it runs
# as the server when called by the name redis-server, so where no
# redis-server is on PATH a symlink of that name is made in $tmp. Each
# server listens on 127.0.0.1:PORT (a free port) and on a unix socket,
# keeps nothing on disk (--save '' --appendonly no, --dir in $tmp) and
# reads no configuration file of the machine's. Never port 6379. A Redis
# Sentinel is the same binary again, with --sentinel.

# redis_find - set REDIS_SERVER; a failure (CI or not) when there is none
redis_find() {
    REDIS_SERVER=$(command -v redis-server 2>/dev/null)
    if [ -z "$REDIS_SERVER" ] && [ -x /usr/bin/redis-check-rdb ]; then
        mkdir -p "$tmp/redis-bin"
        ln -sf /usr/bin/redis-check-rdb "$tmp/redis-bin/redis-server"
        REDIS_SERVER="$tmp/redis-bin/redis-server"
    fi
    if [ -z "$REDIS_SERVER" ] || ! command -v redis-cli >/dev/null 2>&1; then
        t_bad "redis-server and redis-cli are installed" "run ./bootstrap (Debian package redis-tools)"
        return 1
    fi
}

# redis_start NAME [PORT [ARG...]] - start server NAME (its files in
# $tmp/redis-NAME) on PORT (default, or "": a free one), with more server
# options ARG... (--replicaof 127.0.0.1 PORT); sets REDIS_PORT_<NAME>,
# REDIS_SOCK_<NAME>, REDIS_PID_<NAME>. 1 when it does not answer PING
# within 10 s.
redis_start() {
    rname=$1
    rport=${2:-$(free_port)}
    shift; [ $# -gt 0 ] && shift
    rdir="$tmp/redis-$rname"
    mkdir -p "$rdir"
    "$REDIS_SERVER" --port "$rport" --bind 127.0.0.1 --unixsocket "$rdir/redis.sock" --unixsocketperm 777 \
        --save '' --appendonly no --dir "$rdir" --daemonize no --logfile "$rdir/redis.log" "$@" &
    eval "REDIS_PID_$rname=$!; REDIS_PORT_$rname=$rport; REDIS_SOCK_$rname=\$rdir/redis.sock"
    i=0
    while [ $i -lt 100 ]; do
        [ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    t_bad "redis-server $rname answers on port $rport" "$(cat "$rdir/redis.log" 2>/dev/null)"
    return 1
}

# sentinel_start NAME MASTER PRIMARY-PORT [DOWN-MS FAILOVER-MS] - a Redis
# Sentinel NAME (the same binary with --sentinel; its files, the
# configuration it rewrites included, in $tmp/redis-NAME) on a free port,
# monitoring the primary 127.0.0.1:PRIMARY-PORT as MASTER with a quorum of
# 1: it declares the primary down after DOWN-MS (default 1000) without an
# answer, and a failover times out after FAILOVER-MS (default 4000; a new
# one waits twice that). Sets REDIS_PORT_<NAME>, REDIS_PID_<NAME> (stopped
# by redis_stop like a server). 1 when it does not name the primary within 10 s.
sentinel_start() {
    rname=$1 rport=$(free_port)
    rdir="$tmp/redis-$rname"
    mkdir -p "$rdir"
    cat >"$rdir/sentinel.conf" <<SENTINEL
port $rport
bind 127.0.0.1
dir $rdir
logfile $rdir/sentinel.log
sentinel resolve-hostnames no
sentinel monitor $2 127.0.0.1 $3 1
sentinel down-after-milliseconds $2 ${4:-1000}
sentinel failover-timeout $2 ${5:-4000}
SENTINEL
    "$REDIS_SERVER" "$rdir/sentinel.conf" --sentinel &
    eval "REDIS_PID_$rname=$!; REDIS_PORT_$rname=$rport"
    i=0
    while [ $i -lt 100 ]; do
        [ "$(redis-cli -p "$rport" sentinel get-master-addr-by-name "$2" 2>/dev/null | tail -1)" = "$3" ] &&
            return 0
        sleep 0.1; i=$((i + 1))
    done
    t_bad "redis sentinel $rname answers on port $rport" "$(cat "$rdir/sentinel.log" 2>/dev/null)"
    return 1
}

# sentinel_primary PORT MASTER - the port of the primary the sentinel on PORT names
sentinel_primary() {
    redis-cli -p "$1" sentinel get-master-addr-by-name "$2" 2>/dev/null | tail -1
}

# redis_stop NAME - stop server NAME (SIGCONT first, in case it was stopped)
redis_stop() {
    eval "rpid=\${REDIS_PID_$1:-}"
    [ -n "$rpid" ] || return 0
    kill -CONT "$rpid" 2>/dev/null
    kill -TERM "$rpid" 2>/dev/null
    wait "$rpid" 2>/dev/null
    eval "REDIS_PID_$1="
}

# redis_stop_all - every server started (for the EXIT trap)
redis_stop_all() {
    for rvar in $(set | sed -n 's/^REDIS_PID_\([A-Za-z0-9_]*\)=.*/\1/p'); do
        redis_stop "$rvar"
    done
}
