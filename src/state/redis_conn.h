/*++
 * NAME
 *	redis_conn 3h
 * SUMMARY
 *	connections to the Redis servers of a shared state store
 * DESCRIPTION
 *	The part of the Redis backend that knows servers, not records: which
 *	server to use, connecting within a deadline, the handshake, the pool
 *	of idle connections, back-off after a failure. store_redis.c builds
 *	the store operations on it. An operation (struct redis_op) is one
 *	connection and one deadline: its body queues commands with
 *	redis_send() and reads their replies in order with redis_reply() or
 *	redis_expect_ok(); a reply that does not come, or an error reply,
 *	marks the connection broken and it is closed, never reused.
 *
 *	With Redis Sentinel the pool has no fixed servers: the sentinels name
 *	the primary, and each address they ever named is kept (a struct
 *	redis_server, freed with the pool) so that a connection can point at
 *	its server while another thread follows a failover.
 *
 *	Memory: per pool, the configured servers (or sentinels and the
 *	addresses they named) and at most
 *	REDIS_POOL_IDLE_MAX idle connections (a hiredis context each, about
 *	16 KiB of buffers at most while in use).
 *--*/
#ifndef REDIS_CONN_H
#define REDIS_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "state/store.h"

#define REDIS_BACKOFF_MS          1000 /* a failed server is left alone this long */
#define REDIS_POOL_IDLE_MAX       64   /* idle connections kept */
#define REDIS_SENTINEL_RECHECK_MS 1000 /* the sentinels are asked again this often */
#define REDIS_SENTINEL_ASK_MS     100  /* at most this often while they name a failed primary */

struct redis_server {
    char *spec; /* as configured (or "HOST:PORT" as a sentinel named it), for messages */
    char *host; /* NULL: unix socket */
    char *path;
    int port;
    _Atomic int64_t down_until; /* monotonic ms; 0: usable */
    struct redis_server *next;  /* sentinel mode: every address named so far */
};

struct redis_conn;

struct redis_pool {
    struct redis_server *servers; /* without sentinels: tried in order */
    size_t nservers;
    struct redis_server *sentinels; /* with sentinels: asked in order for the primary */
    size_t nsentinels;
    char *master_name;
    _Atomic(struct redis_server *) primary;    /* as last named; NULL: ask the sentinels */
    _Atomic int64_t primary_checked;           /* monotonic ms of the last answer (or recheck) */
    _Atomic(struct redis_server *) last_named; /* their last answer, even a server in back-off */
    struct redis_server *named;                /* under lock: every address named, for reuse and free */
    char *password;                            /* NULL: no AUTH */
    size_t pwlen;
    int db;
    int timeout_ms;
    _Atomic unsigned gen; /* bumped on a connection failure: older idle ones are suspect */
    pthread_mutex_t lock; /* idle, nidle */
    struct redis_conn *idle;
    size_t nidle;
};

/* One operation: a connection and a deadline. */
struct redis_op {
    struct redis_pool *pool;
    struct redis_conn *cn;
    int64_t deadline;
    bool reused;     /* the connection came from the pool */
    bool broken;     /* the connection failed: close it */
    bool committing; /* a write was sent: the outcome is unknown after a failure */
    bool retryable;  /* broken by a closed idle connection before any commit, or READONLY */
};

typedef int (*redis_op_body)(struct redis_op *, void *ctx, struct tp_error *);

/* redis_pool_init - servers and credentials from o; 0, or -1 with err set
   (the pool is then still to be freed) */
int redis_pool_init(struct redis_pool *, const struct store_redis_opts *o, struct tp_error *err);

/* redis_pool_free - close every connection, forget the password */
void redis_pool_free(struct redis_pool *);

/*
 * redis_run - body on a connection within timeout_ms from now; once more
 * on a fresh connection when a pooled one turned out closed (the server
 * restarted) and nothing may have been committed, or when a server
 * refused a write as READONLY. body's result.
 */
int redis_run(struct redis_pool *, redis_op_body body, void *ctx, struct tp_error *err);

/* redis_send - queue one command with binary-safe arguments (written on the first reply) */
void redis_send(struct redis_op *, int argc, const char **argv, const size_t *lens);

/* redis_reply - the next reply; NULL after a connection failure (err set, op broken) */
redisReply *redis_reply(struct redis_op *, const char *what, struct tp_error *err);

/* redis_reply_error - an unexpected or error reply: err set, the connection
   closed afterwards; READONLY (a demoted primary) puts its server in back-off,
   makes the sentinels be asked again, and the operation is run once more
   (nothing was written) */
void redis_reply_error(struct redis_op *, const redisReply *, const char *what, struct tp_error *err);

/* redis_expect_ok - one reply that must be a status (OK, QUEUED); 0 or -1 */
int redis_expect_ok(struct redis_op *, const char *what, struct tp_error *err);

/* redis_fail - an error about the operation's server */
void redis_fail(struct redis_op *, struct tp_error *err, const char *what, const char *detail);

/* redis_now_ms - monotonic milliseconds */
int64_t redis_now_ms(void);

#endif
