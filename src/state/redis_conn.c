/*++
 * NAME
 *	redis_conn 3
 * SUMMARY
 *	connections to the Redis servers of a shared state store
 * SYNOPSIS
 *	#include "state/redis_conn.h"
 *
 *	int	redis_pool_init(pool, opts, err)
 *	int	redis_run(pool, body, ctx, err)
 *	void	redis_pool_free(pool)
 * DESCRIPTION
 *	hiredis contexts are synchronous and not thread-safe: a
 *	mutex-protected pool lends one to each operation and takes it back
 *	afterwards, so concurrent decisions use concurrent connections. Each
 *	operation has a deadline of timeout_ms from its start; every connect
 *	and every command gets only the time left (redisConnectWithTimeout,
 *	redisSetTimeout). A Redis that is down or stalled (SIGSTOP) therefore
 *	costs one decision at most timeout_ms. A connection that failed in any
 *	way is closed, never reused: a late reply would answer the wrong
 *	command. A new connection asks ROLE and is not used on a replica. A
 *	server that timed out, refused the connection, is a replica or
 *	answered READONLY (a primary demoted under us) is skipped for
 *	REDIS_BACKOFF_MS; servers are tried in the configured order, and
 *	while all are in back-off an operation fails at once instead of
 *	waiting again. An idle pooled connection that turns out closed (the
 *	server restarted) is retried once on a fresh connection, unless a
 *	write may have been committed.
 * DIAGNOSTICS
 *	Errors name the server and carry hiredis's or Redis's message.
 *--*/

/* System library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Application. */
#include "state/redis_conn.h"

struct redis_conn {
    redisContext *ctx;
    size_t server;
    unsigned gen;
    struct redis_conn *next;
};

/* redis_now_ms - monotonic milliseconds */
int64_t redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* left - what remains of the operation's time, at least 1 ms, as a timeval */
static struct timeval left(const struct redis_op *op)
{
    int64_t ms = op->deadline - redis_now_ms();
    struct timeval tv;

    if (ms < 1)
        ms = 1;
    tv.tv_sec = (time_t) (ms / 1000);
    tv.tv_usec = (suseconds_t) (ms % 1000) * 1000;
    return tv;
}

/* mark_down - leave a server alone for REDIS_BACKOFF_MS */
static void mark_down(struct redis_pool *st, size_t i)
{
    atomic_store(&st->servers[i].down_until, redis_now_ms() + REDIS_BACKOFF_MS);
}

/* redis_fail - an error about the operation's server */
void redis_fail(struct redis_op *op, struct tp_error *err, const char *what, const char *detail)
{
    tp_error_set(err, NULL, 0, "state store redis %s: %s: %s", op->pool->servers[op->cn->server].spec, what,
                 detail);
}

/* conn_free - close and forget one connection */
static void conn_free(struct redis_conn *cn)
{
    if (cn) {
        redisFree(cn->ctx);
        free(cn);
    }
}

/* redis_reply - the next reply; NULL after a connection failure (err set, op broken) */
redisReply *redis_reply(struct redis_op *op, const char *what, struct tp_error *err)
{
    void *r = NULL;

    if (redisGetReply(op->cn->ctx, &r) == REDIS_OK && r != NULL)
        return r;
    op->broken = true;
    /* A timeout has used the operation's time; a closed idle connection fails at once. */
    op->retryable = op->reused && !op->committing && redis_now_ms() < op->deadline;
    if (!op->retryable)
        mark_down(op->pool, op->cn->server);
    atomic_fetch_add(&op->pool->gen, 1);
    redis_fail(op, err, what, op->cn->ctx->errstr[0] ? op->cn->ctx->errstr : "no reply");
    return NULL;
}

/* redis_reply_error - an error reply: the message; the connection is closed
   (replies may still be pending on it), and READONLY drops the server */
void redis_reply_error(struct redis_op *op, const redisReply *r, const char *what, struct tp_error *err)
{
    redis_fail(op, err, what, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    op->broken = true;
    /* A demoted primary: never write there again, try the next server.
       Inside a script Redis 7 keeps the code; 6 wraps it ("ERR Error
       running script ... -READONLY ..."). */
    if (r->type == REDIS_REPLY_ERROR && (strncmp(r->str, "READONLY", 8) == 0 || strstr(r->str, "-READONLY ")))
        mark_down(op->pool, op->cn->server);
}

/* redis_send - queue one command with binary-safe arguments (written on the first reply) */
void redis_send(struct redis_op *op, int argc, const char **argv, const size_t *lens)
{
    redisAppendCommandArgv(op->cn->ctx, argc, argv, lens);
}

/* redis_expect_ok - one reply that must be a status (OK, QUEUED); 0 or -1 */
int redis_expect_ok(struct redis_op *op, const char *what, struct tp_error *err)
{
    redisReply *r = redis_reply(op, what, err);
    int rc = 0;

    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        redis_reply_error(op, r, what, err);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* check_role - ROLE's reply: 0 for a primary, -1 for a replica (err set).
   A server that does not know ROLE (or forbids it) is taken as it is. */
static int check_role(struct redis_op *op, struct tp_error *err)
{
    redisReply *r = redis_reply(op, "ROLE", err);
    int rc = 0;

    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(r->element[0]->str, "master") != 0) {
        redis_fail(op, err, "not used", "a replica, read-only (trying the next server)");
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* handshake - AUTH, SELECT and ROLE on a new connection, then it is usable */
static int handshake(struct redis_op *op, struct tp_error *err)
{
    struct redis_pool *st = op->pool;
    char db[16];
    const char *auth[] = {"AUTH", st->password}, *sel[] = {"SELECT", db}, *role[] = {"ROLE"};
    size_t auth_len[] = {4, st->pwlen}, sel_len[] = {6, 0}, role_len[] = {4};

    snprintf(db, sizeof(db), "%d", st->db);
    sel_len[1] = strlen(db);
    if (st->password)
        redis_send(op, 2, auth, auth_len);
    redis_send(op, 2, sel, sel_len);
    /* Writes never go to a replica, such as a demoted primary still listed first. */
    redis_send(op, 1, role, role_len);
    if (st->password && redis_expect_ok(op, "AUTH", err) < 0)
        return -1;
    if (redis_expect_ok(op, "SELECT", err) < 0)
        return -1;
    return check_role(op, err);
}

/* connect_one - a new, authenticated connection to server i; NULL with err set */
static struct redis_conn *connect_one(struct redis_op *op, size_t i, struct tp_error *err)
{
    struct redis_server *sv = &op->pool->servers[i];
    struct redis_conn *cn = calloc(1, sizeof(*cn));
    struct timeval tv = left(op);

    if (cn == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return NULL;
    }
    cn->server = i;
    cn->gen = atomic_load(&op->pool->gen);
    cn->ctx = sv->host ? redisConnectWithTimeout(sv->host, sv->port, tv)
                       : redisConnectUnixWithTimeout(sv->path, tv);
    op->cn = cn;
    if (cn->ctx == NULL || cn->ctx->err) {
        redis_fail(op, err, "cannot connect", cn->ctx ? cn->ctx->errstr : "out of memory");
    } else if (redisSetTimeout(cn->ctx, left(op)) != REDIS_OK) {
        redis_fail(op, err, "cannot set the timeout", cn->ctx->errstr);
    } else if (handshake(op, err) == 0) {
        return cn;
    }
    mark_down(op->pool, i);
    op->cn = NULL;
    conn_free(cn);
    return NULL;
}

/* connect_any - the first server in order that is not in back-off and answers */
static struct redis_conn *connect_any(struct redis_op *op, struct tp_error *err)
{
    struct redis_pool *st = op->pool;
    struct redis_conn *cn;
    bool tried = false;

    for (size_t i = 0; i < st->nservers && redis_now_ms() < op->deadline; i++) {
        if (atomic_load(&st->servers[i].down_until) > redis_now_ms())
            continue;
        tried = true;
        if ((cn = connect_one(op, i, err)) != NULL)
            return cn;
    }
    if (!tried)
        tp_error_set(err, NULL, 0,
                     "state store redis: no server reachable (every server failed less than %d ms ago)",
                     REDIS_BACKOFF_MS);
    else if (err->msg[0] == 0)
        tp_error_set(err, NULL, 0, "state store redis: no server reachable within %d ms", st->timeout_ms);
    return NULL;
}

/* take_idle - a pooled connection of the current generation to a usable server, or NULL */
static struct redis_conn *take_idle(struct redis_pool *st)
{
    struct redis_conn *cn, *stale = NULL;
    unsigned gen = atomic_load(&st->gen);

    pthread_mutex_lock(&st->lock);
    while ((cn = st->idle) != NULL) {
        st->idle = cn->next;
        st->nidle--;
        if (cn->gen == gen && atomic_load(&st->servers[cn->server].down_until) <= redis_now_ms())
            break;
        cn->next = stale;
        stale = cn;
    }
    pthread_mutex_unlock(&st->lock);
    while (stale) {
        struct redis_conn *next = stale->next;

        conn_free(stale);
        stale = next;
    }
    return cn;
}

/* op_begin - a connection for the operation: pooled unless fresh is asked for */
static int op_begin(struct redis_op *op, bool fresh, struct tp_error *err)
{
    op->broken = op->committing = op->retryable = false;
    op->cn = fresh ? NULL : take_idle(op->pool);
    op->reused = op->cn != NULL;
    if (op->cn == NULL && (op->cn = connect_any(op, err)) == NULL)
        return -1;
    if (op->reused && redisSetTimeout(op->cn->ctx, left(op)) != REDIS_OK) {
        op->broken = true;
        redis_fail(op, err, "cannot set the timeout", op->cn->ctx->errstr);
        return -1;
    }
    return 0;
}

/* op_end - give a sound connection back to the pool, close a broken one */
static void op_end(struct redis_op *op)
{
    struct redis_pool *st = op->pool;
    struct redis_conn *cn = op->cn;

    op->cn = NULL;
    if (cn == NULL)
        return;
    if (op->broken || cn->ctx->err) {
        conn_free(cn);
        return;
    }
    pthread_mutex_lock(&st->lock);
    if (st->nidle < REDIS_POOL_IDLE_MAX) {
        cn->next = st->idle;
        st->idle = cn;
        st->nidle++;
        cn = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    conn_free(cn);
}

/* redis_run - body on a connection within timeout_ms; once more on a fresh
   connection when a pooled one turned out closed */
int redis_run(struct redis_pool *st, redis_op_body body, void *ctx, struct tp_error *err)
{
    struct redis_op op = {.pool = st, .deadline = redis_now_ms() + st->timeout_ms};
    int rc;

    for (int attempt = 0;; attempt++) {
        if (op_begin(&op, attempt > 0, err) < 0) {
            op_end(&op);
            return -1;
        }
        rc = body(&op, ctx, err);
        op_end(&op);
        if (!(op.broken && op.retryable) || attempt > 0)
            return rc;
        err->msg[0] = 0;
    }
}

/* parse_server - "unix:PATH", "HOST:PORT", "[V6]:PORT"; 0 or -1 */
static int parse_server(const char *spec, struct redis_server *sv)
{
    const char *colon;
    char *end;
    long port;
    size_t hlen;

    if ((sv->spec = strdup(spec)) == NULL)
        return -1;
    if (strncmp(spec, "unix:", 5) == 0)
        return spec[5] && (sv->path = strdup(spec + 5)) != NULL ? 0 : -1;
    if ((colon = strrchr(spec, ':')) == NULL || colon == spec)
        return -1;
    port = strtol(colon + 1, &end, 10);
    if (*end != 0 || port < 1 || port > 65535)
        return -1;
    hlen = (size_t) (colon - spec);
    if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']')
        spec++, hlen -= 2;
    sv->port = (int) port;
    return (sv->host = strndup(spec, hlen)) != NULL ? 0 : -1;
}

/* redis_pool_init - servers and credentials from o */
int redis_pool_init(struct redis_pool *st, const struct store_redis_opts *o, struct tp_error *err)
{
    size_t n = 0;

    pthread_mutex_init(&st->lock, NULL);
    while (o->servers && o->servers[n])
        n++;
    if (n == 0 || o->timeout_ms < 1) {
        tp_error_set(err, NULL, 0, "state store redis: no server or no timeout");
        return -1;
    }
    if ((st->servers = calloc(n, sizeof(*st->servers))) == NULL)
        goto oom;
    st->nservers = n;
    for (size_t i = 0; i < n; i++)
        if (parse_server(o->servers[i], &st->servers[i]) < 0) {
            tp_error_set(err, NULL, 0, "state store redis: invalid server \"%s\"", o->servers[i]);
            return -1;
        }
    if (o->password && (st->password = malloc(o->password_len + 1)) == NULL)
        goto oom;
    if (o->password) {
        memcpy(st->password, o->password, o->password_len);
        st->password[o->password_len] = 0;
        st->pwlen = o->password_len;
    }
    st->db = o->db;
    st->timeout_ms = o->timeout_ms;
    return 0;
oom:
    tp_error_set(err, NULL, 0, "state store redis: out of memory");
    return -1;
}

/* redis_pool_free - close every connection, forget the password */
void redis_pool_free(struct redis_pool *st)
{
    struct redis_conn *cn;

    while ((cn = st->idle) != NULL) {
        st->idle = cn->next;
        conn_free(cn);
    }
    for (size_t i = 0; i < st->nservers; i++) {
        free(st->servers[i].spec);
        free(st->servers[i].host);
        free(st->servers[i].path);
    }
    free(st->servers);
    if (st->password) {
        memset(st->password, 0, st->pwlen);
        free(st->password);
    }
    pthread_mutex_destroy(&st->lock);
}
