/*++
 * NAME
 *	store_redis 3
 * SUMMARY
 *	shared state-store backend: Redis (or Valkey) through hiredis
 * SYNOPSIS
 *	#include "state/redis_conn.h"
#include "state/store.h"
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
 *	Connections, deadlines, back-off and the choice of server are
 *	redis_conn.c's: every operation here is a body run by redis_run().
 * DIAGNOSTICS
 *	Errors name the server and carry hiredis's or Redis's message.
 *--*/

/* System library. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Utility library. */
#include <hiredis/hiredis.h>

/* Application. */
#include "state/redis_conn.h"
#include "state/store.h"

#define SCAN_COUNT   "500"
#define BATCH        64 /* keys per MGET in walk and expire */
#define PREFIX_MAX   512
#define FULL_KEY_MAX (PREFIX_MAX + STORE_KEY_MAX + 1)

struct redis_store {
    struct store base;
    struct redis_pool pool;
    char *prefix;
    size_t plen;
    _Atomic int64_t ttl_ms; /* expiry of written keys, 0: none */
};

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
    int64_t ttl_ms; /* expiry of what is written */
    int result;
};

/* read_value - the GET reply into c; -1 after a connection failure */
static int read_value(struct redis_op *op, struct one_ctx *c, struct tp_error *err)
{
    redisReply *r = redis_reply(op, "GET", err);

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
static int get_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *argv[] = {"GET", c->key};
    size_t lens[] = {3, c->klen};

    redis_send(op, 2, argv, lens);
    return read_value(op, c, err);
}

/* apply - MULTI, SET or DEL, EXEC: 1 committed, 0 conflict, -1 error */
static int apply(struct redis_op *op, struct one_ctx *c, struct tp_error *err)
{
    unsigned char buf[FB_RECORD_SIZE];
    char ttl[24];
    int64_t ttl_ms = c->ttl_ms;
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *set[] = {"SET", c->key, (const char *) buf, "PX", ttl}, *del[] = {"DEL", c->key};
    size_t one_len[] = {5}, exec_len[] = {4}, set_len[] = {3, c->klen, sizeof(buf), 2, 0},
           del_len[] = {3, c->klen};
    redisReply *r;
    int rc;

    fb_record_encode(&c->rec, buf);
    snprintf(ttl, sizeof(ttl), "%lld", (long long) ttl_ms);
    set_len[4] = strlen(ttl);
    redis_send(op, 1, multi, one_len);
    if (c->result == STORE_WRITE)
        redis_send(op, ttl_ms > 0 ? 5 : 3, set, set_len);
    else
        redis_send(op, 2, del, del_len);
    op->committing = true;
    redis_send(op, 1, exec, exec_len);
    if (redis_expect_ok(op, "MULTI", err) < 0 ||
        redis_expect_ok(op, c->result == STORE_WRITE ? "SET" : "DEL", err) < 0)
        return -1;
    if ((r = redis_reply(op, "EXEC", err)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        rc = 0; /* the watched key changed: run the callback again */
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type != REDIS_REPLY_ERROR)
        rc = 1;
    else {
        redis_reply_error(op, r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? r->element[0] : r, "EXEC",
                          err);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* backoff - after a conflict, a random pause of up to a millisecond, so
   that contenders do not meet again in lockstep; -1 when time is up */
static int backoff(struct redis_op *op)
{
    struct timespec ts = {0, 0};
    unsigned seed = (unsigned) redis_now_ms() ^ (unsigned) (uintptr_t) op;

    if (redis_now_ms() >= op->deadline)
        return -1;
    ts.tv_nsec = (long) (rand_r(&seed) % 1000) * 1000;
    nanosleep(&ts, NULL);
    return 0;
}

/* update_body - WATCH+GET, the callback, then apply; again on a conflict */
static int update_body(struct redis_op *op, void *ctx, struct tp_error *err)
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
        redis_send(op, 2, watch, watch_len);
        redis_send(op, 2, get, get_len);
        if (redis_expect_ok(op, "WATCH", err) < 0 || read_value(op, c, err) < 0)
            return -1;
        c->result = c->fn(&c->rec, c->found == 1, c->arg);
        if (c->result != STORE_WRITE && c->result != STORE_DELETE) {
            redis_send(op, 1, unwatch, unwatch_len);
            if (redis_expect_ok(op, "UNWATCH", err) < 0)
                return -1;
            if (c->result == STORE_KEEP)
                return 0;
            tp_error_set(err, NULL, 0, "state store: update callback returned %d", c->result);
            return -1;
        }
        if ((rc = apply(op, c, err)) != 0)
            return rc < 0 ? -1 : 0;
    }
    redis_fail(op, err, "update", "the key kept changing under concurrent updates");
    return -1;
}

/* forget_body - DEL */
static int forget_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *argv[] = {"DEL", c->key};
    size_t lens[] = {3, c->klen};
    redisReply *r;
    int rc = 0;

    redis_send(op, 2, argv, lens);
    if ((r = redis_reply(op, "DEL", err)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        c->result = r->integer > 0;
    else {
        redis_reply_error(op, r, "DEL", err);
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

    if (redis_run(&st->pool, get_body, &c, err) < 0)
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
    struct one_ctx c = {.key = full,
                        .klen = full_key(st, key, klen, full),
                        .fn = fn,
                        .arg = arg,
                        .ttl_ms = atomic_load(&st->ttl_ms)};

    if (redis_run(&st->pool, update_body, &c, err) < 0)
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

    if (redis_run(&st->pool, forget_body, &c, err) < 0)
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
static int scan_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    struct scan_ctx *c = ctx;
    const char *argv[] = {"SCAN", c->cursor, "MATCH", c->pattern, "COUNT", SCAN_COUNT};
    size_t lens[] = {4, strlen(c->cursor), 5, strlen(c->pattern), 5, strlen(SCAN_COUNT)};
    redisReply *r, *keys;
    int rc = 0;

    redis_send(op, 6, argv, lens);
    if ((r = redis_reply(op, "SCAN", err)) == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        redis_reply_error(op, r, "SCAN", err);
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
        if (redis_run(&st->pool, scan_body, &c, err) < 0) {
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
static int mget_body(struct redis_op *op, void *ctx, struct tp_error *err)
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
    redis_send(op, (int) c->n + 1, argv, lens);
    if ((r = redis_reply(op, "MGET", err)) == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != c->n) {
        redis_reply_error(op, r, "MGET", err);
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

        if (redis_run(&st->pool, mget_body, &c, err) < 0) {
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
static int cad_body(struct redis_op *op, void *ctx, struct tp_error *err)
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
        redis_send(op, 5, argv, lens);
    }
    for (size_t i = 0; i < c->n; i++) {
        if ((r = redis_reply(op, "EVAL", err)) == NULL)
            return -1;
        if (r->type == REDIS_REPLY_INTEGER)
            c->removed += r->integer > 0;
        else if (rc == 0) {
            redis_reply_error(op, r, "EVAL", err);
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

    if (redis_run(&st->pool, mget_body, &m, err) < 0)
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
    if (d.n > 0 && redis_run(&st->pool, cad_body, &d, err) < 0)
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

    redis_pool_free(&st->pool);
    free(st->prefix);
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

/* ping_body - PING: is a server there at all */
static int ping_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    const char *argv[] = {"PING"};
    size_t lens[] = {4};

    (void) ctx;
    redis_send(op, 1, argv, lens);
    return redis_expect_ok(op, "PING", err);
}

/* setup_prefix - the key prefix from o; 0 or -1 with err set */
static int setup_prefix(struct redis_store *st, const struct store_redis_opts *o, struct tp_error *err)
{
    const char *prefix = o->prefix ? o->prefix : "";

    if (strlen(prefix) > PREFIX_MAX) {
        tp_error_set(err, NULL, 0, "state store redis: a prefix over %d bytes", PREFIX_MAX);
        return -1;
    }
    if ((st->prefix = strdup(prefix)) == NULL) {
        tp_error_set(err, NULL, 0, "state store redis: out of memory");
        return -1;
    }
    st->plen = strlen(prefix);
    return 0;
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
    if (redis_pool_init(&st->pool, o, err) < 0 || setup_prefix(st, o, err) < 0) {
        redis_close(&st->base);
        return NULL;
    }
    /* Redis may come up after us: until then state.on_error decides. */
    if (redis_run(&st->pool, ping_body, NULL, err) < 0) {
        char msg[sizeof(err->msg)];

        snprintf(msg, sizeof(msg), "%s", err->msg);
        tp_error_set(err, NULL, 0, "%s (decisions follow state.on_error until it answers)", msg);
    }
    return &st->base;
}
