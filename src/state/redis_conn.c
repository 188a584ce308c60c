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
 *	write may have been committed; so is an operation refused with
 *	READONLY, which wrote nothing.
 *
 *	With Redis Sentinel (sentinels and master_name instead of servers)
 *	the primary is whatever the sentinels name: they are asked in the
 *	configured order, SENTINEL get-master-addr-by-name, each on a new
 *	connection within the operation's time left, and one that does not
 *	answer (or does not know the name) is skipped for REDIS_BACKOFF_MS
 *	like a server. The address named is connected to and checked with
 *	ROLE as above, and cached. Every failure of the primary (refused,
 *	timed out, closed, a replica, READONLY) forgets it, so the next
 *	connection asks the sentinels again: that is how a failover is
 *	followed. An address named while it is in back-off (the sentinels
 *	have not noticed the failure yet) fails the operation at once, and is
 *	not cached: they are asked again, at most every REDIS_SENTINEL_ASK_MS
 *	(operations in between fail at once on that answer), until they name
 *	another one.
 *	A primary replaced while it still works (a manual failover, a
 *	partition) fails nothing: so every REDIS_SENTINEL_RECHECK_MS one
 *	operation asks the sentinels again, with half its time, and keeps the
 *	cached primary when none answers. Idle connections are reused only to
 *	the primary as last named, so a demoted primary never gets another
 *	write through the pool. Sentinels are asked without AUTH
 *	(password_file is the data servers').
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
    struct redis_server *sv;
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

/* mark_down - leave a server (or a sentinel) alone for REDIS_BACKOFF_MS */
static void mark_down(struct redis_server *sv)
{
    atomic_store(&sv->down_until, redis_now_ms() + REDIS_BACKOFF_MS);
}

/* is_down - the server failed less than REDIS_BACKOFF_MS ago */
static bool is_down(struct redis_server *sv)
{
    return atomic_load(&sv->down_until) > redis_now_ms();
}

/* forget_primary - sv failed: if the sentinels named it, ask them again */
static void forget_primary(struct redis_pool *st, struct redis_server *sv)
{
    struct redis_server *expected = sv;

    atomic_compare_exchange_strong(&st->primary, &expected, NULL);
}

/* server_failed - back-off for sv and, with sentinels, a new question */
static void server_failed(struct redis_pool *st, struct redis_server *sv)
{
    mark_down(sv);
    forget_primary(st, sv);
}

/* redis_fail - an error about the operation's server */
void redis_fail(struct redis_op *op, struct tp_error *err, const char *what, const char *detail)
{
    tp_error_set(err, NULL, 0, "state store redis %s: %s: %s", op->cn->sv->spec, what, detail);
}

/* server_clear - the strings of one server */
static void server_clear(struct redis_server *sv)
{
    free(sv->spec);
    free(sv->host);
    free(sv->path);
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
        mark_down(op->cn->sv);
    /* Even a closed connection: a restarted primary may have been replaced. */
    forget_primary(op->pool, op->cn->sv);
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
    /* Inside a script Redis 7 keeps the code; 6 wraps it ("ERR Error
       running script ... -READONLY ..."). */
    if (r->type != REDIS_REPLY_ERROR || (strncmp(r->str, "READONLY", 8) != 0 && !strstr(r->str, "-READONLY ")))
        return;
    /* A demoted primary: never write there again (nor through its idle
       connections), and run the operation once more on the next server
       or the new primary: the refused write wrote nothing. */
    server_failed(op->pool, op->cn->sv);
    atomic_fetch_add(&op->pool->gen, 1);
    op->retryable = redis_now_ms() < op->deadline;
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

/* connect_one - a new, authenticated connection to server sv; NULL with err set */
static struct redis_conn *connect_one(struct redis_op *op, struct redis_server *sv, struct tp_error *err)
{
    struct redis_conn *cn = calloc(1, sizeof(*cn));
    struct timeval tv = left(op);

    if (cn == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return NULL;
    }
    cn->sv = sv;
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
    server_failed(op->pool, sv);
    op->cn = NULL;
    conn_free(cn);
    return NULL;
}

/* sentinel_fail - an error about a sentinel */
static void sentinel_fail(struct tp_error *err, const struct redis_server *sn, const char *what,
                          const char *detail)
{
    tp_error_set(err, NULL, 0, "state store redis sentinel %s: %s: %s", sn->spec, what, detail);
}

/* master_addr - get-master-addr-by-name's reply: host and port; 0 or -1 with err set */
static int master_addr(const redisReply *r, const struct redis_server *sn, const char *name, char *host,
                       size_t hsize, int *port, struct tp_error *err)
{
    char detail[128];
    long p;

    if (r->type == REDIS_REPLY_ERROR) {
        sentinel_fail(err, sn, "SENTINEL get-master-addr-by-name", r->str);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING || r->element[0]->len == 0 || r->element[0]->len >= hsize ||
        (p = strtol(r->element[1]->str, NULL, 10)) < 1 || p > 65535) {
        snprintf(detail, sizeof(detail), "no primary known by the name \"%.64s\"", name);
        sentinel_fail(err, sn, "SENTINEL get-master-addr-by-name", detail);
        return -1;
    }
    memcpy(host, r->element[0]->str, r->element[0]->len + 1);
    *port = (int) p;
    return 0;
}

/* ask_sentinel - the primary's address as sentinel sn names it, within the
   operation's time left; 0 or -1 with err set */
static int ask_sentinel(struct redis_op *op, struct redis_server *sn, char *host, size_t hsize, int *port,
                        struct tp_error *err)
{
    const char *name = op->pool->master_name;
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", name};
    size_t lens[] = {8, 23, strlen(name)};
    redisContext *c = sn->host ? redisConnectWithTimeout(sn->host, sn->port, left(op))
                               : redisConnectUnixWithTimeout(sn->path, left(op));
    redisReply *r = NULL;
    int rc = -1;

    if (c == NULL || c->err)
        sentinel_fail(err, sn, "cannot connect", c ? c->errstr : "out of memory");
    else if (redisSetTimeout(c, left(op)) != REDIS_OK)
        sentinel_fail(err, sn, "cannot set the timeout", c->errstr);
    else if ((r = redisCommandArgv(c, 3, argv, lens)) == NULL)
        sentinel_fail(err, sn, "SENTINEL get-master-addr-by-name", c->errstr[0] ? c->errstr : "no reply");
    else
        rc = master_addr(r, sn, name, host, hsize, port, err);
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return rc;
}

/* named_server - the server at host:port, made on its first naming and
   kept until the pool is freed (connections point at it); NULL: no memory */
static struct redis_server *named_server(struct redis_pool *st, const char *host, int port)
{
    struct redis_server *sv;
    char spec[300];

    snprintf(spec, sizeof(spec), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    pthread_mutex_lock(&st->lock);
    for (sv = st->named; sv && (sv->port != port || strcmp(sv->host, host) != 0); sv = sv->next)
        ;
    if (sv == NULL && (sv = calloc(1, sizeof(*sv))) != NULL) {
        sv->spec = strdup(spec);
        sv->host = strdup(host);
        sv->port = port;
        if (sv->spec && sv->host) {
            sv->next = st->named;
            st->named = sv;
        } else {
            server_clear(sv);
            free(sv);
            sv = NULL;
        }
    }
    pthread_mutex_unlock(&st->lock);
    return sv;
}

/* set_primary - sv is the primary from now on; idle connections to another
   address (a demoted primary) are of an older generation */
static void set_primary(struct redis_pool *st, struct redis_server *sv)
{
    if (atomic_exchange(&st->primary, sv) != sv)
        atomic_fetch_add(&st->gen, 1);
}

/* recent_down_answer - the sentinels' last answer when it is less than
   REDIS_SENTINEL_ASK_MS old and names a server in back-off: while they
   have not noticed a failure yet, every decision would ask them again,
   thousands a second on a busy host */
static struct redis_server *recent_down_answer(struct redis_pool *st)
{
    struct redis_server *sv = atomic_load(&st->last_named);

    if (sv && is_down(sv) && redis_now_ms() - atomic_load(&st->primary_checked) < REDIS_SENTINEL_ASK_MS)
        return sv;
    return NULL;
}

/* discover - the primary as the first sentinel in order that answers names
   it; cached unless it is in back-off. NULL with err set; err untouched
   when one answers (it may hold why the primary failed). */
static struct redis_server *discover(struct redis_op *op, struct tp_error *err)
{
    struct redis_pool *st = op->pool;
    struct redis_server *sv;
    struct tp_error why = {.msg = ""};
    char host[256];
    int port;
    bool tried = false;

    if ((sv = recent_down_answer(st)) != NULL)
        return sv;
    for (size_t i = 0; i < st->nsentinels && redis_now_ms() < op->deadline; i++) {
        if (is_down(&st->sentinels[i]))
            continue;
        tried = true;
        if (ask_sentinel(op, &st->sentinels[i], host, sizeof(host), &port, &why) < 0) {
            mark_down(&st->sentinels[i]);
            continue;
        }
        if ((sv = named_server(st, host, port)) == NULL)
            tp_error_set(err, NULL, 0, "state store redis: out of memory");
        else if (!is_down(sv))
            set_primary(st, sv);
        atomic_store(&st->last_named, sv);
        atomic_store(&st->primary_checked, redis_now_ms());
        return sv;
    }
    if (!tried)
        tp_error_set(err, NULL, 0,
                     "state store redis: no sentinel reachable (every sentinel failed less than %d ms ago)",
                     REDIS_BACKOFF_MS);
    else if (why.msg[0])
        *err = why;
    else
        tp_error_set(err, NULL, 0, "state store redis: no sentinel answered within %d ms", st->timeout_ms);
    return NULL;
}

/* recheck_primary - every REDIS_SENTINEL_RECHECK_MS, one operation asks
   the sentinels again, with half its time left: a primary replaced by a
   failover while it kept working is left for the new one. Sentinels that
   do not answer leave the cached primary in use. */
static void recheck_primary(struct redis_op *op)
{
    struct redis_pool *st = op->pool;
    int64_t now = redis_now_ms(), last = atomic_load(&st->primary_checked), deadline = op->deadline;
    struct tp_error ignored;

    /* Without a cached primary, connecting asks anyway. */
    if (atomic_load(&st->primary) == NULL || now - last < REDIS_SENTINEL_RECHECK_MS ||
        !atomic_compare_exchange_strong(&st->primary_checked, &last, now))
        return;
    ignored.msg[0] = 0;
    op->deadline = now + (deadline - now) / 2;
    (void) discover(op, &ignored);
    op->deadline = deadline;
}

/* connect_primary - a connection to the primary as last named, or as the
   sentinels name it now; asked once more when the cached one failed */
static struct redis_conn *connect_primary(struct redis_op *op, struct tp_error *err)
{
    struct redis_server *sv, *failed = NULL;
    struct redis_conn *cn;

    for (int attempt = 0; attempt < 2 && redis_now_ms() < op->deadline; attempt++) {
        sv = atomic_load(&op->pool->primary);
        if ((sv == NULL || is_down(sv)) && (sv = discover(op, err)) == NULL)
            return NULL;
        if (sv == failed) /* still named: its own error says why */
            return NULL;
        if (is_down(sv)) {
            tp_error_set(err, NULL, 0,
                         "state store redis %s: the primary the sentinels name failed less than %d ms ago",
                         sv->spec, REDIS_BACKOFF_MS);
            return NULL;
        }
        if ((cn = connect_one(op, sv, err)) != NULL) {
            err->msg[0] = 0; /* a sentinel or a primary that failed before is no warning */
            return cn;
        }
        failed = sv;
    }
    if (err->msg[0] == 0)
        tp_error_set(err, NULL, 0, "state store redis: no primary reachable within %d ms",
                     op->pool->timeout_ms);
    return NULL;
}

/* connect_any - the first server in order that is not in back-off and
   answers, or with sentinels the primary they name */
static struct redis_conn *connect_any(struct redis_op *op, struct tp_error *err)
{
    struct redis_pool *st = op->pool;
    struct redis_conn *cn;
    bool tried = false;

    if (st->nsentinels > 0)
        return connect_primary(op, err);
    for (size_t i = 0; i < st->nservers && redis_now_ms() < op->deadline; i++) {
        if (is_down(&st->servers[i]))
            continue;
        tried = true;
        if ((cn = connect_one(op, &st->servers[i], err)) != NULL)
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

/* usable_idle - an idle connection of the current generation, to a server
   not in back-off and, with sentinels, to the primary as last named */
static bool usable_idle(struct redis_pool *st, const struct redis_conn *cn, unsigned gen)
{
    return cn->gen == gen && !is_down(cn->sv) && (st->nsentinels == 0 || cn->sv == atomic_load(&st->primary));
}

/* take_idle - a usable pooled connection, or NULL. Every unusable one is
   closed, not only those met before it: connections to a demoted primary
   would otherwise stay open under newer ones. */
static struct redis_conn *take_idle(struct redis_pool *st)
{
    struct redis_conn *cn, *found = NULL, *stale = NULL, **at;
    unsigned gen = atomic_load(&st->gen);

    pthread_mutex_lock(&st->lock);
    for (at = &st->idle; (cn = *at) != NULL;) {
        bool usable = usable_idle(st, cn, gen);

        if (usable && found) { /* stays */
            at = &cn->next;
            continue;
        }
        *at = cn->next;
        st->nidle--;
        if (usable) {
            found = cn;
        } else {
            cn->next = stale;
            stale = cn;
        }
    }
    pthread_mutex_unlock(&st->lock);
    while (stale) {
        struct redis_conn *next = stale->next;

        conn_free(stale);
        stale = next;
    }
    return found;
}

/* op_begin - a connection for the operation: pooled unless fresh is asked for */
static int op_begin(struct redis_op *op, bool fresh, struct tp_error *err)
{
    op->broken = op->committing = op->retryable = false;
    if (op->pool->nsentinels > 0)
        recheck_primary(op);
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

/* parse_list - a NULL-terminated list of specs into *out; 0 or -1 with err set */
static int parse_list(const char *const *specs, const char *what, struct redis_server **out, size_t *nout,
                      struct tp_error *err)
{
    size_t n = 0;

    while (specs && specs[n])
        n++;
    if (n == 0)
        return 0;
    if ((*out = calloc(n, sizeof(**out))) == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return -1;
    }
    *nout = n;
    for (size_t i = 0; i < n; i++)
        if (parse_server(specs[i], &(*out)[i]) < 0) {
            tp_error_set(err, NULL, 0, "state store redis: invalid %s \"%s\"", what, specs[i]);
            return -1;
        }
    return 0;
}

/* init_where - the servers, or the sentinels and the name they know the primary by */
static int init_where(struct redis_pool *st, const struct store_redis_opts *o, struct tp_error *err)
{
    bool named = o->master_name && o->master_name[0];

    if (parse_list(o->servers, "server", &st->servers, &st->nservers, err) < 0 ||
        parse_list(o->sentinels, "sentinel", &st->sentinels, &st->nsentinels, err) < 0)
        return -1;
    if ((st->nservers > 0) == (st->nsentinels > 0) || (st->nsentinels > 0) != named) {
        tp_error_set(err, NULL, 0, "state store redis: servers, or sentinels with a master_name, are needed");
        return -1;
    }
    if (named && (st->master_name = strdup(o->master_name)) == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return -1;
    }
    return 0;
}

/* redis_pool_init - servers (or sentinels) and credentials from o */
int redis_pool_init(struct redis_pool *st, const struct store_redis_opts *o, struct tp_error *err)
{
    pthread_mutex_init(&st->lock, NULL);
    if (o->timeout_ms < 1) {
        tp_error_set(err, NULL, 0, "state store redis: no timeout");
        return -1;
    }
    if (init_where(st, o, err) < 0)
        return -1;
    if (o->password && (st->password = malloc(o->password_len + 1)) == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return -1;
    }
    if (o->password) {
        memcpy(st->password, o->password, o->password_len);
        st->password[o->password_len] = 0;
        st->pwlen = o->password_len;
    }
    st->db = o->db;
    st->timeout_ms = o->timeout_ms;
    return 0;
}

/* redis_pool_free - close every connection, forget the password */
void redis_pool_free(struct redis_pool *st)
{
    struct redis_conn *cn;
    struct redis_server *sv;

    while ((cn = st->idle) != NULL) {
        st->idle = cn->next;
        conn_free(cn);
    }
    for (size_t i = 0; i < st->nservers; i++)
        server_clear(&st->servers[i]);
    free(st->servers);
    for (size_t i = 0; i < st->nsentinels; i++)
        server_clear(&st->sentinels[i]);
    free(st->sentinels);
    while ((sv = st->named) != NULL) {
        st->named = sv->next;
        server_clear(sv);
        free(sv);
    }
    free(st->master_name);
    if (st->password) {
        memset(st->password, 0, st->pwlen);
        free(st->password);
    }
    pthread_mutex_destroy(&st->lock);
}
