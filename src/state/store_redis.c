/*++
 * NAME
 *	store_redis 3
 * SUMMARY
 *	shared state-store backend: Redis (or Valkey) through hiredis
 * SYNOPSIS
 *	#include "state/store.h"
 *
 *	struct store *store_open_redis(opts, err)
 * DESCRIPTION
 *	Key layout. One Redis string per fallback key: the configured prefix
 *	followed by the caller's key ("tlspolicyd:client_domain:partner.example"),
 *	holding the same FB_RECORD_SIZE-byte encoding the LMDB backend stores
 *	(fbrecord.h), so that both backends decide alike and a record means the
 *	same to every host that shares the server. Writes set the key's expiry
 *	to store_set_ttl()'s value (the fallback window): Redis forgets a
 *	sender nobody saw within the window by itself, on every host at once.
 *
 *	Atomicity. store_update() is an optimistic transaction: WATCH and GET
 *	in one round trip, the C callback, then MULTI, SET (or DEL), EXEC in a
 *	second. EXEC answers nil when another client (a thread, another MX
 *	host) changed the key in between; the callback then runs again on
 *	the new value, as store.h allows. A Lua script would save a round trip
 *	but would have to re-implement the C callback; it is not used.
 *
 *	Connections. hiredis contexts are synchronous and not thread-safe: a
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
 *	BACKOFF_MS; servers are
 *	tried in the configured order, and while all are in back-off an
 *	operation fails at once instead of waiting again. An idle pooled
 *	connection that turns out closed (the server restarted) is retried
 *	once on a fresh connection, unless the transaction may have committed.
 * DIAGNOSTICS
 *	Errors name the server and carry hiredis's or Redis's message.
 *--*/

/* System library. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Utility library. */
#include <hiredis/hiredis.h>

/* Application. */
#include "state/store.h"

#define BACKOFF_MS      1000 /* a failed server is left alone this long */
#define UPDATE_ATTEMPTS 16   /* EXEC conflicts before store_update() gives up */
#define POOL_IDLE_MAX   64   /* idle connections kept */
#define SCAN_COUNT      "500"
#define BATCH           64 /* keys per MGET in walk and expire */
#define PREFIX_MAX      512
#define FULL_KEY_MAX    (PREFIX_MAX + STORE_KEY_MAX + 1)

struct server {
    char *spec; /* as configured, for messages */
    char *host; /* NULL: unix socket */
    char *path;
    int port;
    _Atomic int64_t down_until; /* monotonic ms; 0: usable */
};

struct conn {
    redisContext *ctx;
    size_t server;
    unsigned gen;
    struct conn *next;
};

struct redis_store {
    struct store base;
    struct server *servers;
    size_t nservers;
    char *prefix;
    size_t plen;
    char *password; /* NULL: no AUTH */
    size_t pwlen;
    int db;
    int timeout_ms;
    _Atomic int64_t ttl_ms; /* expiry of written keys, 0: none */
    _Atomic unsigned gen;   /* bumped on a connection failure: older idle ones are suspect */
    pthread_mutex_t lock;   /* idle, nidle */
    struct conn *idle;
    size_t nidle;
};

/* One operation: a connection and a deadline. */
struct op {
    struct redis_store *st;
    struct conn *cn;
    int64_t deadline;
    bool reused;     /* the connection came from the pool */
    bool broken;     /* the connection failed: close it */
    bool committing; /* EXEC was sent: the outcome is unknown after a failure */
    bool retryable;  /* broken by a closed idle connection, before any commit */
};

typedef int (*op_body)(struct op *, void *ctx, struct tp_error *);

/* now_ms - monotonic milliseconds */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* left - what remains of the operation's time, at least 1 ms, as a timeval */
static struct timeval left(const struct op *op)
{
    int64_t ms = op->deadline - now_ms();
    struct timeval tv;

    if (ms < 1)
        ms = 1;
    tv.tv_sec = (time_t) (ms / 1000);
    tv.tv_usec = (suseconds_t) (ms % 1000) * 1000;
    return tv;
}

/* mark_down - leave a server alone for BACKOFF_MS */
static void mark_down(struct redis_store *st, size_t i)
{
    atomic_store(&st->servers[i].down_until, now_ms() + BACKOFF_MS);
}

/* fail - an error about the operation's server */
static void fail(struct op *op, struct tp_error *err, const char *what, const char *detail)
{
    tp_error_set(err, NULL, 0, "state store redis %s: %s: %s", op->st->servers[op->cn->server].spec, what,
                 detail);
}

/* conn_free - close and forget one connection */
static void conn_free(struct conn *cn)
{
    if (cn) {
        redisFree(cn->ctx);
        free(cn);
    }
}

/* reply - the next reply; NULL after a connection failure (err set, op broken) */
static redisReply *reply(struct op *op, const char *what, struct tp_error *err)
{
    void *r = NULL;

    if (redisGetReply(op->cn->ctx, &r) == REDIS_OK && r != NULL)
        return r;
    op->broken = true;
    /* A timeout has used the operation's time; a closed idle connection fails at once. */
    op->retryable = op->reused && !op->committing && now_ms() < op->deadline;
    if (!op->retryable)
        mark_down(op->st, op->cn->server);
    atomic_fetch_add(&op->st->gen, 1);
    fail(op, err, what, op->cn->ctx->errstr[0] ? op->cn->ctx->errstr : "no reply");
    return NULL;
}

/* reply_error - an error reply: the message; the connection is closed
   (replies may still be pending on it), and READONLY drops the server */
static void reply_error(struct op *op, const redisReply *r, const char *what, struct tp_error *err)
{
    fail(op, err, what, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    op->broken = true;
    /* A demoted primary: never write there again, try the next server. */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0)
        mark_down(op->st, op->cn->server);
}

/* send_cmd - queue one command with binary-safe arguments (written on the first reply) */
static void send_cmd(struct op *op, int argc, const char **argv, const size_t *lens)
{
    redisAppendCommandArgv(op->cn->ctx, argc, argv, lens);
}

/* expect_ok - one reply that must be a status (OK, QUEUED); 0 or -1 */
static int expect_ok(struct op *op, const char *what, struct tp_error *err)
{
    redisReply *r = reply(op, what, err);
    int rc = 0;

    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        reply_error(op, r, what, err);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* check_role - ROLE's reply: 0 for a primary, -1 for a replica (err set).
   A server that does not know ROLE (or forbids it) is taken as it is. */
static int check_role(struct op *op, struct tp_error *err)
{
    redisReply *r = reply(op, "ROLE", err);
    int rc = 0;

    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(r->element[0]->str, "master") != 0) {
        fail(op, err, "not used", "a replica, read-only (trying the next server)");
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* handshake - AUTH, SELECT and ROLE on a new connection, then it is usable */
static int handshake(struct op *op, struct tp_error *err)
{
    struct redis_store *st = op->st;
    char db[16];
    const char *auth[] = {"AUTH", st->password}, *sel[] = {"SELECT", db}, *role[] = {"ROLE"};
    size_t auth_len[] = {4, st->pwlen}, sel_len[] = {6, 0}, role_len[] = {4};

    snprintf(db, sizeof(db), "%d", st->db);
    sel_len[1] = strlen(db);
    if (st->password)
        send_cmd(op, 2, auth, auth_len);
    send_cmd(op, 2, sel, sel_len);
    /* Writes never go to a replica, such as a demoted primary still listed first. */
    send_cmd(op, 1, role, role_len);
    if (st->password && expect_ok(op, "AUTH", err) < 0)
        return -1;
    if (expect_ok(op, "SELECT", err) < 0)
        return -1;
    return check_role(op, err);
}

/* connect_one - a new, authenticated connection to server i; NULL with err set */
static struct conn *connect_one(struct op *op, size_t i, struct tp_error *err)
{
    struct server *sv = &op->st->servers[i];
    struct conn *cn = calloc(1, sizeof(*cn));
    struct timeval tv = left(op);

    if (cn == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return NULL;
    }
    cn->server = i;
    cn->gen = atomic_load(&op->st->gen);
    cn->ctx = sv->host ? redisConnectWithTimeout(sv->host, sv->port, tv)
                       : redisConnectUnixWithTimeout(sv->path, tv);
    op->cn = cn;
    if (cn->ctx == NULL || cn->ctx->err) {
        fail(op, err, "cannot connect", cn->ctx ? cn->ctx->errstr : "out of memory");
    } else if (redisSetTimeout(cn->ctx, left(op)) != REDIS_OK) {
        fail(op, err, "cannot set the timeout", cn->ctx->errstr);
    } else if (handshake(op, err) == 0) {
        return cn;
    }
    mark_down(op->st, i);
    op->cn = NULL;
    conn_free(cn);
    return NULL;
}

/* connect_any - the first server in order that is not in back-off and answers */
static struct conn *connect_any(struct op *op, struct tp_error *err)
{
    struct redis_store *st = op->st;
    struct conn *cn;
    bool tried = false;

    for (size_t i = 0; i < st->nservers && now_ms() < op->deadline; i++) {
        if (atomic_load(&st->servers[i].down_until) > now_ms())
            continue;
        tried = true;
        if ((cn = connect_one(op, i, err)) != NULL)
            return cn;
    }
    if (!tried)
        tp_error_set(err, NULL, 0,
                     "state store redis: no server reachable (every server failed less than %d ms ago)",
                     BACKOFF_MS);
    else if (err->msg[0] == 0)
        tp_error_set(err, NULL, 0, "state store redis: no server reachable within %d ms", st->timeout_ms);
    return NULL;
}

/* take_idle - a pooled connection of the current generation to a usable server, or NULL */
static struct conn *take_idle(struct redis_store *st)
{
    struct conn *cn, *stale = NULL;
    unsigned gen = atomic_load(&st->gen);

    pthread_mutex_lock(&st->lock);
    while ((cn = st->idle) != NULL) {
        st->idle = cn->next;
        st->nidle--;
        if (cn->gen == gen && atomic_load(&st->servers[cn->server].down_until) <= now_ms())
            break;
        cn->next = stale;
        stale = cn;
    }
    pthread_mutex_unlock(&st->lock);
    while (stale) {
        struct conn *next = stale->next;

        conn_free(stale);
        stale = next;
    }
    return cn;
}

/* op_begin - a connection for the operation: pooled unless fresh is asked for */
static int op_begin(struct op *op, bool fresh, struct tp_error *err)
{
    op->broken = op->committing = op->retryable = false;
    op->cn = fresh ? NULL : take_idle(op->st);
    op->reused = op->cn != NULL;
    if (op->cn == NULL && (op->cn = connect_any(op, err)) == NULL)
        return -1;
    if (op->reused && redisSetTimeout(op->cn->ctx, left(op)) != REDIS_OK) {
        op->broken = true;
        fail(op, err, "cannot set the timeout", op->cn->ctx->errstr);
        return -1;
    }
    return 0;
}

/* op_end - give a sound connection back to the pool, close a broken one */
static void op_end(struct op *op)
{
    struct redis_store *st = op->st;
    struct conn *cn = op->cn;

    op->cn = NULL;
    if (cn == NULL)
        return;
    if (op->broken || cn->ctx->err) {
        conn_free(cn);
        return;
    }
    pthread_mutex_lock(&st->lock);
    if (st->nidle < POOL_IDLE_MAX) {
        cn->next = st->idle;
        st->idle = cn;
        st->nidle++;
        cn = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    conn_free(cn);
}

/* run - body on a connection within timeout_ms; once more on a fresh
   connection when a pooled one turned out closed */
static int run(struct redis_store *st, op_body body, void *ctx, struct tp_error *err)
{
    struct op op = {.st = st, .deadline = now_ms() + st->timeout_ms};
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

/* full_key - prefix + key into buf; its length */
static size_t full_key(const struct redis_store *st, const char *key, size_t klen, char *buf)
{
    memcpy(buf, st->prefix, st->plen);
    memcpy(buf + st->plen, key, klen);
    buf[st->plen + klen] = 0;
    return st->plen + klen;
}

/* decode_value - a GET reply as a record: 1 found, 0 absent, -1 unreadable (*why set) */
static int decode_value(const redisReply *r, struct fb_record *rec, const char **why)
{
    memset(rec, 0, sizeof(*rec));
    if (r->type == REDIS_REPLY_NIL)
        return 0;
    if (r->type != REDIS_REPLY_STRING) {
        *why = r->type == REDIS_REPLY_ERROR ? r->str : "value is not a string";
        return -1;
    }
    return fb_record_decode(r->str, (size_t) r->len, rec, why) == 0 ? 1 : -1;
}

/*
 * One record: get, update, forget.
 */
struct one_ctx {
    const char *key; /* full key */
    size_t klen;
    struct fb_record rec;
    int found; /* 1, 0, -1: unreadable */
    const char *why;
    char why_buf[128]; /* why, copied out of the reply */
    store_update_fn fn;
    void *arg;
    int result;
};

/* read_value - the GET reply into c; -1 after a connection failure */
static int read_value(struct op *op, struct one_ctx *c, struct tp_error *err)
{
    redisReply *r = reply(op, "GET", err);

    if (r == NULL)
        return -1;
    if ((c->found = decode_value(r, &c->rec, &c->why)) < 0) {
        snprintf(c->why_buf, sizeof(c->why_buf), "%s", c->why);
        c->why = c->why_buf;
    }
    freeReplyObject(r);
    return 0;
}

/* get_body - GET */
static int get_body(struct op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *argv[] = {"GET", c->key};
    size_t lens[] = {3, c->klen};

    send_cmd(op, 2, argv, lens);
    return read_value(op, c, err);
}

/* apply - MULTI, SET or DEL, EXEC: 1 committed, 0 conflict, -1 error */
static int apply(struct op *op, struct one_ctx *c, struct tp_error *err)
{
    unsigned char buf[FB_RECORD_SIZE];
    char ttl[24];
    int64_t ttl_ms = atomic_load(&op->st->ttl_ms);
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *set[] = {"SET", c->key, (const char *) buf, "PX", ttl}, *del[] = {"DEL", c->key};
    size_t one_len[] = {5}, exec_len[] = {4}, set_len[] = {3, c->klen, sizeof(buf), 2, 0},
           del_len[] = {3, c->klen};
    redisReply *r;
    int rc;

    fb_record_encode(&c->rec, buf);
    snprintf(ttl, sizeof(ttl), "%lld", (long long) ttl_ms);
    set_len[4] = strlen(ttl);
    send_cmd(op, 1, multi, one_len);
    if (c->result == STORE_WRITE)
        send_cmd(op, ttl_ms > 0 ? 5 : 3, set, set_len);
    else
        send_cmd(op, 2, del, del_len);
    op->committing = true;
    send_cmd(op, 1, exec, exec_len);
    if (expect_ok(op, "MULTI", err) < 0 || expect_ok(op, c->result == STORE_WRITE ? "SET" : "DEL", err) < 0)
        return -1;
    if ((r = reply(op, "EXEC", err)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        rc = 0; /* the watched key changed: run the callback again */
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type != REDIS_REPLY_ERROR)
        rc = 1;
    else {
        reply_error(op, r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? r->element[0] : r, "EXEC", err);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* backoff - after a conflict, a random pause of up to a millisecond, so
   that contenders do not meet again in lockstep; -1 when time is up */
static int backoff(struct op *op)
{
    struct timespec ts = {0, 0};
    unsigned seed = (unsigned) now_ms() ^ (unsigned) (uintptr_t) op;

    if (now_ms() >= op->deadline)
        return -1;
    ts.tv_nsec = (long) (rand_r(&seed) % 1000) * 1000;
    nanosleep(&ts, NULL);
    return 0;
}

/* update_body - WATCH+GET, the callback, then apply; again on a conflict */
static int update_body(struct op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *watch[] = {"WATCH", c->key}, *get[] = {"GET", c->key}, *unwatch[] = {"UNWATCH"};
    size_t watch_len[] = {5, c->klen}, get_len[] = {3, c->klen}, unwatch_len[] = {7};
    int rc;

    /* Until the deadline: each conflict means another client committed. */
    for (int attempt = 0;; attempt++) {
        if (attempt > 0 && backoff(op) < 0)
            break;
        op->committing = false;
        send_cmd(op, 2, watch, watch_len);
        send_cmd(op, 2, get, get_len);
        if (expect_ok(op, "WATCH", err) < 0 || read_value(op, c, err) < 0)
            return -1;
        c->result = c->fn(&c->rec, c->found == 1, c->arg);
        if (c->result != STORE_WRITE && c->result != STORE_DELETE) {
            send_cmd(op, 1, unwatch, unwatch_len);
            if (expect_ok(op, "UNWATCH", err) < 0)
                return -1;
            if (c->result == STORE_KEEP)
                return 0;
            tp_error_set(err, NULL, 0, "state store: update callback returned %d", c->result);
            return -1;
        }
        if ((rc = apply(op, c, err)) != 0)
            return rc < 0 ? -1 : 0;
    }
    fail(op, err, "update", "the key kept changing under concurrent updates");
    return -1;
}

/* forget_body - DEL */
static int forget_body(struct op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *argv[] = {"DEL", c->key};
    size_t lens[] = {3, c->klen};
    redisReply *r;
    int rc = 0;

    send_cmd(op, 2, argv, lens);
    if ((r = reply(op, "DEL", err)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        c->result = r->integer > 0;
    else {
        reply_error(op, r, "DEL", err);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* redis_get - store_get */
static int redis_get(struct store *base, const char *key, size_t klen, struct fb_record *out,
                     struct tp_error *err)
{
    struct redis_store *st = (struct redis_store *) base;
    char full[FULL_KEY_MAX];
    struct one_ctx c = {.key = full, .klen = full_key(st, key, klen, full)};

    if (run(st, get_body, &c, err) < 0)
        return -1;
    /* An error, not "absent": absent would present a sender with a TLS history as a new one. */
    if (c.found < 0) {
        tp_error_set(err, NULL, 0, "state store: record \"%.*s\" is unreadable: %s", (int) klen, key, c.why);
        return -1;
    }
    *out = c.rec;
    return c.found;
}

/* redis_update - store_update */
static int redis_update(struct store *base, const char *key, size_t klen, store_update_fn fn, void *arg,
                        struct tp_error *err)
{
    struct redis_store *st = (struct redis_store *) base;
    char full[FULL_KEY_MAX];
    struct one_ctx c = {.key = full, .klen = full_key(st, key, klen, full), .fn = fn, .arg = arg};

    if (run(st, update_body, &c, err) < 0)
        return -1;
    if (c.found < 0)
        tp_error_set(err, NULL, 0, "state store: ignored record \"%.*s\": %s", (int) klen, key, c.why);
    return c.result;
}

/* redis_forget - store_forget */
static int redis_forget(struct store *base, const char *key, size_t klen, struct tp_error *err)
{
    struct redis_store *st = (struct redis_store *) base;
    char full[FULL_KEY_MAX];
    struct one_ctx c = {.key = full, .klen = full_key(st, key, klen, full)};

    if (run(st, forget_body, &c, err) < 0)
        return -1;
    return c.result;
}

/*
 * Walk and expire: SCAN (never KEYS, which blocks the server for the
 * whole keyspace) with MATCH prefix*, one operation per step so that
 * each step has its own timeout_ms.
 */
struct keys {
    char **v;
    size_t n, cap;
};

struct scan_ctx {
    struct redis_store *st;
    char pattern[2 * PREFIX_MAX + 2];
    char cursor[24];
    struct keys *keys; /* out: keys of this step, prefix removed */
    bool oom;
};

/* keys_add - append a copy of a key */
static bool keys_add(struct keys *k, const char *s, size_t len)
{
    char **v;

    if (k->n == k->cap) {
        if ((v = realloc(k->v, (k->cap ? 2 * k->cap : 256) * sizeof(*v))) == NULL)
            return false;
        k->v = v;
        k->cap = k->cap ? 2 * k->cap : 256;
    }
    if ((k->v[k->n] = malloc(len + 1)) == NULL)
        return false;
    memcpy(k->v[k->n], s, len);
    k->v[k->n++][len] = 0;
    return true;
}

/* keys_free - release every key */
static void keys_free(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

/* scan_body - one SCAN step: keys under the prefix, prefix removed */
static int scan_body(struct op *op, void *ctx, struct tp_error *err)
{
    struct scan_ctx *c = ctx;
    const char *argv[] = {"SCAN", c->cursor, "MATCH", c->pattern, "COUNT", SCAN_COUNT};
    size_t lens[] = {4, strlen(c->cursor), 5, strlen(c->pattern), 5, strlen(SCAN_COUNT)};
    redisReply *r, *keys;
    int rc = 0;

    send_cmd(op, 6, argv, lens);
    if ((r = reply(op, "SCAN", err)) == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        reply_error(op, r, "SCAN", err);
        freeReplyObject(r);
        return -1;
    }
    snprintf(c->cursor, sizeof(c->cursor), "%s", r->element[0]->str);
    keys = r->element[1];
    for (size_t i = 0; i < keys->elements && !c->oom; i++)
        if (keys->element[i]->type == REDIS_REPLY_STRING && (size_t) keys->element[i]->len >= c->st->plen)
            c->oom = !keys_add(c->keys, keys->element[i]->str + c->st->plen,
                               (size_t) keys->element[i]->len - c->st->plen);
    freeReplyObject(r);
    if (c->oom) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        rc = -1;
    }
    return rc;
}

/* scan_all - every key under the prefix (prefix removed) */
static int scan_all(struct redis_store *st, struct keys *out, struct tp_error *err)
{
    struct scan_ctx c = {.st = st, .cursor = "0", .keys = out};
    char *p = c.pattern;

    /* The prefix is taken literally: escape the glob characters. */
    for (size_t i = 0; i < st->plen; i++) {
        if (strchr("*?[]\\", st->prefix[i]))
            *p++ = '\\';
        *p++ = st->prefix[i];
    }
    *p++ = '*';
    *p = 0;
    do {
        if (run(st, scan_body, &c, err) < 0) {
            keys_free(out);
            return -1;
        }
    } while (strcmp(c.cursor, "0") != 0);
    return 0;
}

/* A batch of values for BATCH keys. */
struct mget_ctx {
    struct redis_store *st;
    char **keys; /* without prefix */
    size_t n;
    redisReply *values; /* out: MGET's array */
};

/* mget_body - MGET of one batch */
static int mget_body(struct op *op, void *ctx, struct tp_error *err)
{
    struct mget_ctx *c = ctx;
    char full[BATCH][FULL_KEY_MAX];
    const char *argv[BATCH + 1] = {"MGET"};
    size_t lens[BATCH + 1] = {4};
    redisReply *r;

    for (size_t i = 0; i < c->n; i++) {
        lens[i + 1] = full_key(c->st, c->keys[i], strlen(c->keys[i]), full[i]);
        argv[i + 1] = full[i];
    }
    send_cmd(op, (int) c->n + 1, argv, lens);
    if ((r = reply(op, "MGET", err)) == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != c->n) {
        reply_error(op, r, "MGET", err);
        freeReplyObject(r);
        return -1;
    }
    c->values = r;
    return 0;
}

/* key_ok - a key we could have written: fits, no NUL (fn gets a C string) */
static bool key_ok(const char *key)
{
    size_t len = strlen(key);

    return len > 0 && len <= STORE_KEY_MAX;
}

/* key_cmp - qsort: byte order, as LMDB lists */
static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* redis_walk - store_walk: the keys sorted, values fetched in batches, fn outside any operation */
static int redis_walk(struct store *base, store_walk_fn fn, void *arg, struct tp_error *err)
{
    struct redis_store *st = (struct redis_store *) base;
    struct keys k = {0};
    struct fb_record rec;
    const char *why = NULL;
    char why_buf[128] = "";
    size_t bad = 0;
    int result = 0;

    if (scan_all(st, &k, err) < 0)
        return -1;
    if (k.n > 1)
        qsort(k.v, k.n, sizeof(*k.v), key_cmp);
    for (size_t at = 0; at < k.n && result == 0; at += BATCH) {
        struct mget_ctx c = {st, k.v + at, k.n - at < BATCH ? k.n - at : BATCH, NULL};

        if (run(st, mget_body, &c, err) < 0) {
            result = -1;
            break;
        }
        for (size_t i = 0; i < c.n && result == 0; i++) {
            int found = decode_value(c.values->element[i], &rec, &why);

            if (found < 0 || !key_ok(c.keys[i])) {
                bad++;
                snprintf(why_buf, sizeof(why_buf), "%s",
                         found < 0 ? why : "key is not a string of at most 255 bytes");
            } else if (found == 1) {
                result = fn(c.keys[i], &rec, arg) != 0;
            }
        }
        freeReplyObject(c.values);
    }
    keys_free(&k);
    if (result >= 0 && bad)
        tp_error_set(err, NULL, 0, "state store: %zu unreadable record(s): %s", bad, why_buf);
    return result;
}

/* Compare-and-delete: a key another host refreshed since we read it stays. */
static const char CAD_SCRIPT[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

struct cad_ctx {
    struct redis_store *st;
    char **keys;
    redisReply **values; /* the values read, to compare with */
    size_t n;
    size_t removed; /* out */
};

/* cad_body - delete each key whose value is still the one read */
static int cad_body(struct op *op, void *ctx, struct tp_error *err)
{
    struct cad_ctx *c = ctx;
    char full[FULL_KEY_MAX];
    const char *argv[] = {"EVAL", CAD_SCRIPT, "1", full, ""};
    size_t lens[] = {4, sizeof(CAD_SCRIPT) - 1, 1, 0, 0};
    redisReply *r;
    int rc = 0;

    for (size_t i = 0; i < c->n; i++) {
        lens[3] = full_key(c->st, c->keys[i], strlen(c->keys[i]), full);
        argv[4] = c->values[i]->str;
        lens[4] = (size_t) c->values[i]->len;
        send_cmd(op, 5, argv, lens);
    }
    for (size_t i = 0; i < c->n; i++) {
        if ((r = reply(op, "EVAL", err)) == NULL)
            return -1;
        if (r->type == REDIS_REPLY_INTEGER)
            c->removed += r->integer > 0;
        else if (rc == 0) {
            reply_error(op, r, "EVAL", err);
            rc = -1;
        }
        freeReplyObject(r);
    }
    return rc;
}

/* expire_batch - one batch of keys: read, pick the old and unreadable, delete those */
static int expire_batch(struct redis_store *st, char **keys, size_t n, int64_t cutoff, size_t *removed,
                        size_t *bad, struct tp_error *err)
{
    struct mget_ctx m = {st, keys, n, NULL};
    struct cad_ctx d = {st, NULL, NULL, 0, 0};
    char *pick_k[BATCH];
    redisReply *pick_v[BATCH];
    struct fb_record rec;
    const char *why;
    int rc = 0, found;

    if (run(st, mget_body, &m, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        redisReply *v = m.values->element[i];

        if ((found = decode_value(v, &rec, &why)) == 0 || v->type != REDIS_REPLY_STRING)
            continue; /* gone meanwhile, or no string (never ours: left alone) */
        if (found < 0)
            ++*bad;
        if (found < 0 || rec.updated < cutoff) {
            pick_k[d.n] = keys[i];
            pick_v[d.n++] = v;
        }
    }
    d.keys = pick_k;
    d.values = pick_v;
    if (d.n > 0 && run(st, cad_body, &d, err) < 0)
        rc = -1;
    *removed += d.removed;
    freeReplyObject(m.values);
    return rc;
}

/* redis_expire - store_expire: keys expire by their TTL; this removes what
   the TTL does not cover (a shortened window, unreadable values) */
static int redis_expire(struct store *base, int64_t cutoff, size_t *removed, struct tp_error *err)
{
    struct redis_store *st = (struct redis_store *) base;
    struct keys k = {0};
    size_t bad = 0;
    int rc = 0;

    if (scan_all(st, &k, err) < 0)
        return -1;
    for (size_t at = 0; at < k.n && rc == 0; at += BATCH)
        rc = expire_batch(st, k.v + at, k.n - at < BATCH ? k.n - at : BATCH, cutoff, removed, &bad, err);
    keys_free(&k);
    if (rc == 0 && bad)
        tp_error_set(err, NULL, 0, "state store: %zu unreadable record(s) removed", bad);
    return rc;
}

/* redis_set_ttl - store_set_ttl */
static void redis_set_ttl(struct store *base, int64_t ttl)
{
    struct redis_store *st = (struct redis_store *) base;

    atomic_store(&st->ttl_ms, ttl > 0 && ttl < INT64_MAX / 1000 ? ttl * 1000 : 0);
}

/* redis_close - store_close */
static void redis_close(struct store *base)
{
    struct redis_store *st = (struct redis_store *) base;
    struct conn *cn;

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
    free(st->prefix);
    if (st->password) {
        memset(st->password, 0, st->pwlen);
        free(st->password);
    }
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static const struct store_ops redis_ops = {
    .name = "redis",
    .get = redis_get,
    .update = redis_update,
    .expire = redis_expire,
    .walk = redis_walk,
    .forget = redis_forget,
    .set_ttl = redis_set_ttl,
    .close = redis_close,
};

/* parse_server - "unix:PATH", "HOST:PORT", "[V6]:PORT"; 0 or -1 */
static int parse_server(const char *spec, struct server *sv)
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

/* ping_body - PING: is a server there at all */
static int ping_body(struct op *op, void *ctx, struct tp_error *err)
{
    const char *argv[] = {"PING"};
    size_t lens[] = {4};

    (void) ctx;
    send_cmd(op, 1, argv, lens);
    return expect_ok(op, "PING", err);
}

/* setup - fill st from opts; 0 or -1 with err set */
static int setup(struct redis_store *st, const struct store_redis_opts *o, struct tp_error *err)
{
    size_t n = 0;

    while (o->servers && o->servers[n])
        n++;
    if (n == 0 || strlen(o->prefix ? o->prefix : "") > PREFIX_MAX || o->timeout_ms < 1) {
        tp_error_set(err, NULL, 0, "state store redis: no server, a prefix over %d bytes or no timeout",
                     PREFIX_MAX);
        return -1;
    }
    if ((st->servers = calloc(n, sizeof(*st->servers))) == NULL ||
        (st->prefix = strdup(o->prefix ? o->prefix : "")) == NULL)
        goto oom;
    st->nservers = n;
    st->plen = strlen(st->prefix);
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

/* store_open_redis - a handle on the servers; a server down is a warning, not a failure */
struct store *store_open_redis(const struct store_redis_opts *o, struct tp_error *err)
{
    struct redis_store *st;

    err->msg[0] = 0;
    if ((st = calloc(1, sizeof(*st))) == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return NULL;
    }
    st->base.ops = &redis_ops;
    pthread_mutex_init(&st->lock, NULL);
    if (setup(st, o, err) < 0) {
        redis_close(&st->base);
        return NULL;
    }
    /* Redis may come up after us: until then state.on_error decides. */
    if (run(st, ping_body, NULL, err) < 0) {
        char msg[sizeof(err->msg)];

        snprintf(msg, sizeof(msg), "%s", err->msg);
        tp_error_set(err, NULL, 0, "%s (decisions follow state.on_error until it answers)", msg);
    }
    return &st->base;
}
