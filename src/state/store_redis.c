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
 *	Atomicity. store_update() reads the key with GET and runs the C
 *	callback on what it read. A callback that keeps the record costs that
 *	one round trip. A write or a delete is applied by a compare-and-set,
 *	a Lua script (CAS_SCRIPT) that sets (SET PX) or deletes the key only
 *	while it still holds exactly what was read (the same bytes, or still
 *	absent, or still a value of another type), and otherwise changes
 *	nothing and returns what the key holds now: then another client (a
 *	thread, another MX host) changed it in between, and the callback runs
 *	again on that value, as store.h allows, without another GET. So an
 *	update that writes is two round trips, and each conflict one more,
 *	until the operation's deadline (with a short random pause between
 *	attempts). fallback_decide() knows (store_update_reads_once()) that
 *	it need not read first on this backend: a decision that changes
 *	nothing is one round trip, one that writes two.
 *
 *	One source of truth. The script only compares and stores; it knows
 *	nothing of records. The update is the C callback (for the fallback
 *	rules, fallback.c's decide_and_learn() around the pure policy_decide()),
 *	the very code the LMDB backend runs, so both backends give the same
 *	decisions (tests/unit/test_store_redis.c compares them). A Lua copy of
 *	the update would save one round trip per write and drift from the C
 *	one: do not move decision logic into a script.
 *
 *	Scripts are called by their SHA1 (EVALSHA), computed once when the
 *	store is opened (OpenSSL), so no SCRIPT LOAD round trip is needed. A
 *	server that does not hold the script (restarted, SCRIPT FLUSH, a
 *	failover to a server that never ran it) answers NOSCRIPT; the call is
 *	then sent once as EVAL with the body, which also caches it there.
 *	store_expire()'s compare-and-delete (CAD_SCRIPT) is called the same way.
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
#include <openssl/evp.h>

/* Application. */
#include "state/redis_conn.h"
#include "state/store.h"

#define SCAN_COUNT   "500"
#define BATCH        64 /* keys per MGET in walk and expire */
#define PREFIX_MAX   512
#define FULL_KEY_MAX (PREFIX_MAX + STORE_KEY_MAX + 1)
#define SCRIPT_ARGS  6 /* keys and arguments of a script call, at most (the compare-and-set's) */

/* A Lua script, called by its SHA1. */
struct script {
    const char *body;
    char sha[41]; /* hex */
};

struct redis_store {
    struct store base;
    struct redis_pool pool;
    char *prefix;
    size_t plen;
    _Atomic int64_t ttl_ms; /* expiry of written keys, 0: none */
    struct script cas, cad;
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
 * Scripts: EVALSHA, and EVAL once on NOSCRIPT.
 */

/* script_init - the SHA1 of the body, as EVALSHA names it; -1 if OpenSSL cannot */
static int script_init(struct script *s, const char *body)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    s->body = body;
    if (!EVP_Digest(body, strlen(body), md, &len, EVP_sha1(), NULL) || len != 20)
        return -1;
    for (unsigned i = 0; i < len; i++)
        snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* script_send - queue EVALSHA (by_sha) or EVAL of s: nkeys keys, then the arguments */
static void script_send(struct redis_op *op, const struct script *s, bool by_sha, int nkeys, int nargs,
                        const char **args, const size_t *lens)
{
    const char *argv[3 + SCRIPT_ARGS];
    size_t alen[3 + SCRIPT_ARGS];
    char nk[12];

    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[0] = by_sha ? "EVALSHA" : "EVAL";
    alen[0] = strlen(argv[0]);
    argv[1] = by_sha ? s->sha : s->body;
    alen[1] = strlen(argv[1]);
    argv[2] = nk;
    alen[2] = strlen(nk);
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        alen[3 + i] = lens[i];
    }
    redis_send(op, 3 + nargs, argv, alen);
}

/* noscript - the server does not hold the script (restart, SCRIPT FLUSH, failover) */
static bool noscript(const redisReply *r)
{
    return r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
}

/* script_call - s by its SHA1; by its body once more after NOSCRIPT (which
   also caches it). The reply, or NULL after a connection failure. */
static redisReply *script_call(struct redis_op *op, const struct script *s, int nkeys, int nargs,
                               const char **args, const size_t *lens, struct tp_error *err)
{
    redisReply *r;

    script_send(op, s, true, nkeys, nargs, args, lens);
    if ((r = redis_reply(op, "EVALSHA", err)) == NULL || !noscript(r))
        return r;
    freeReplyObject(r);
    script_send(op, s, false, nkeys, nargs, args, lens);
    return redis_reply(op, "EVAL", err);
}

/*
 * One record: get, update, forget.
 */

/*
 * Compare-and-set. KEYS[1] the key; ARGV[1] what it held when read: "N"
 * absent, "S" a string, "O" another type; ARGV[2] that string ("" for N
 * and O); ARGV[3] "set" or "del"; ARGV[4] the new value; ARGV[5] its
 * expiry in ms ("0": none). Applies the change and returns 1 while the
 * key holds what was read; otherwise changes nothing and returns what it
 * holds now as {kind, string}. Only a comparison: the update itself is
 * the C callback's (see the header), never a script's.
 */
static const char CAS_SCRIPT[] = "local t = redis.call('TYPE', KEYS[1])['ok']\n"
                                 "local kind, cur = 'O', ''\n"
                                 "if t == 'none' then\n"
                                 "    kind = 'N'\n"
                                 "elseif t == 'string' then\n"
                                 "    kind, cur = 'S', redis.call('GET', KEYS[1])\n"
                                 "end\n"
                                 "if kind ~= ARGV[1] or cur ~= ARGV[2] then\n"
                                 "    return {kind, cur}\n"
                                 "end\n"
                                 "if ARGV[3] == 'del' then\n"
                                 "    redis.call('DEL', KEYS[1])\n"
                                 "elseif ARGV[5] == '0' then\n"
                                 "    redis.call('SET', KEYS[1], ARGV[4])\n"
                                 "else\n"
                                 "    redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])\n"
                                 "end\n"
                                 "return 1\n";

struct one_ctx {
    struct redis_store *st;
    const char *key; /* full key */
    size_t klen;
    /* What the key held when last read: what the compare-and-set expects. */
    char kind;       /* 'N' absent, 'S' a string, 'O' another type */
    const char *val; /* the string, inside held */
    size_t vlen;
    redisReply *held; /* the reply val points into */
    struct fb_record rec;
    int found; /* 1, 0, -1: unreadable */
    const char *why;
    char why_buf[128]; /* why, copied out of the reply */
    store_update_fn fn;
    void *arg;
    bool readable_only; /* store_update_readable(): an unreadable value is an error */
    int64_t ttl_ms;     /* expiry of what is written */
    int result;
};

/* hold - r now holds the value last read; the reply that held it before is freed */
static void hold(struct one_ctx *c, redisReply *r)
{
    if (c->held != r)
        freeReplyObject(c->held);
    c->held = r;
}

/* seen - what the key holds: kind, the string; decoded into c->rec (found, why) */
static void seen(struct one_ctx *c, char kind, const char *val, size_t vlen, const char *why_not_string)
{
    c->kind = kind;
    c->val = kind == 'S' ? val : "";
    c->vlen = kind == 'S' ? vlen : 0;
    memset(&c->rec, 0, sizeof(c->rec));
    if (kind == 'N')
        c->found = 0;
    else if (kind == 'S')
        c->found = fb_record_decode(val, vlen, &c->rec, &c->why) == 0 ? 1 : -1;
    else {
        c->found = -1;
        c->why = why_not_string;
    }
    if (c->found < 0) {
        memset(&c->rec, 0, sizeof(c->rec)); /* as absent, to a callback */
        snprintf(c->why_buf, sizeof(c->why_buf), "%s", c->why);
        c->why = c->why_buf;
    }
}

/* read_value - the GET reply into c (held until the next read); -1 after a connection failure */
static int read_value(struct redis_op *op, struct one_ctx *c, struct tp_error *err)
{
    redisReply *r = redis_reply(op, "GET", err);

    if (r == NULL)
        return -1;
    hold(c, r);
    if (r->type == REDIS_REPLY_NIL)
        seen(c, 'N', NULL, 0, NULL);
    else if (r->type == REDIS_REPLY_STRING)
        seen(c, 'S', r->str, (size_t) r->len, NULL);
    else /* WRONGTYPE: a key of ours holding no string */
        seen(c, 'O', NULL, 0, r->type == REDIS_REPLY_ERROR ? r->str : "value is not a string");
    return 0;
}

/* get_body - GET */
static int get_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *argv[] = {"GET", c->key};
    size_t lens[] = {3, c->klen};
    int rc;

    redis_send(op, 2, argv, lens);
    rc = read_value(op, c, err);
    hold(c, NULL);
    return rc;
}

/* cas_state - a conflict: the script's {kind, string} is what the key holds now; 0, or -1 */
static int cas_state(struct one_ctx *c, redisReply *r)
{
    const redisReply *k, *v;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return -1;
    k = r->element[0];
    v = r->element[1];
    if (k->type != REDIS_REPLY_STRING || k->len != 1 || strchr("NSO", k->str[0]) == NULL ||
        v->type != REDIS_REPLY_STRING)
        return -1;
    hold(c, r);
    seen(c, k->str[0], v->str, (size_t) v->len, "value is not a string");
    return 0;
}

/* cas - the compare-and-set of c->result: 1 applied, 0 conflict (c holds the
   new value), -1 error */
static int cas(struct redis_op *op, struct one_ctx *c, struct tp_error *err)
{
    unsigned char buf[FB_RECORD_SIZE];
    char ttl[24], kind[1] = {c->kind};
    bool write = c->result == STORE_WRITE;
    const char *args[] = {c->key, kind, c->val, write ? "set" : "del", (const char *) buf, ttl};
    size_t lens[] = {c->klen, 1, c->vlen, 3, write ? sizeof(buf) : 0, 0};
    redisReply *r;

    if (write)
        fb_record_encode(&c->rec, buf);
    snprintf(ttl, sizeof(ttl), "%lld", (long long) c->ttl_ms);
    lens[5] = strlen(ttl);
    /* From here a failure leaves the outcome unknown: no retry elsewhere. */
    op->committing = true;
    if ((r = script_call(op, &c->st->cas, 1, 6, args, lens, err)) == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        freeReplyObject(r);
        return 1;
    }
    if (cas_state(c, r) == 0)
        return 0; /* r is held now */
    redis_reply_error(op, r, "compare-and-set", err);
    freeReplyObject(r);
    return -1;
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

/* apply_fn - the callback on what was read, then the compare-and-set; again
   on each conflict until the deadline */
static int apply_fn(struct redis_op *op, struct one_ctx *c, struct tp_error *err)
{
    int rc;

    /* Each conflict means another client committed: the work goes on. */
    for (int attempt = 0;; attempt++) {
        if (attempt > 0 && backoff(op) < 0)
            break;
        if (c->found < 0 && c->readable_only) {
            c->result = -1; /* redis_update() says why, naming the key */
            return 0;
        }
        c->result = c->fn(&c->rec, c->found == 1, c->arg);
        if (c->result == STORE_KEEP)
            return 0;
        if (c->result != STORE_WRITE && c->result != STORE_DELETE) {
            tp_error_set(err, NULL, 0, "state store: update callback returned %d", c->result);
            return -1;
        }
        if ((rc = cas(op, c, err)) != 0)
            return rc < 0 ? -1 : 0;
    }
    redis_fail(op, err, "update", "the key kept changing under concurrent updates");
    return -1;
}

/* update_body - GET, then the callback and the compare-and-set */
static int update_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    const char *get[] = {"GET", c->key};
    size_t get_len[] = {3, c->klen};
    int rc = -1;

    redis_send(op, 2, get, get_len);
    if (read_value(op, c, err) == 0)
        rc = apply_fn(op, c, err);
    hold(c, NULL);
    return rc;
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
                        bool readable_only, struct tp_error *err)
{
    struct redis_store *st = (struct redis_store *) base;
    char full[FULL_KEY_MAX];
    struct one_ctx c = {.st = st,
                        .key = full,
                        .klen = full_key(st, key, klen, full),
                        .fn = fn,
                        .arg = arg,
                        .readable_only = readable_only,
                        .ttl_ms = atomic_load(&st->ttl_ms)};

    if (redis_run(&st->pool, update_body, &c, err) < 0)
        return -1;
    /* As store_get() words it: the value was left as it is. */
    if (c.found < 0 && readable_only) {
        tp_error_set(err, NULL, 0, "state store: record \"%.*s\" is unreadable: %s", (int) klen, key, c.why);
        return -1;
    }
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

/* cad_send - queue a compare-and-delete per key (by_sha), or per key marked in only */
static void cad_send(struct redis_op *op, struct cad_ctx *c, bool by_sha, const bool *only)
{
    char full[FULL_KEY_MAX];
    const char *args[] = {full, ""};
    size_t lens[2];

    for (size_t i = 0; i < c->n; i++) {
        if (only && !only[i])
            continue;
        lens[0] = full_key(c->st, c->keys[i], strlen(c->keys[i]), full);
        args[1] = c->values[i]->str;
        lens[1] = (size_t) c->values[i]->len;
        script_send(op, &c->st->cad, by_sha, 1, 2, args, lens);
    }
}

/* cad_read - cad_send's replies, counted; keys answered NOSCRIPT marked in again (may be NULL) */
static int cad_read(struct redis_op *op, struct cad_ctx *c, const bool *only, bool *again,
                    struct tp_error *err)
{
    const char *what = only ? "EVAL" : "EVALSHA";
    redisReply *r;
    int rc = 0;

    for (size_t i = 0; i < c->n; i++) {
        if (only && !only[i])
            continue;
        if ((r = redis_reply(op, what, err)) == NULL)
            return -1;
        if (r->type == REDIS_REPLY_INTEGER)
            c->removed += r->integer > 0;
        else if (again && noscript(r))
            again[i] = true;
        else if (rc == 0) {
            redis_reply_error(op, r, what, err);
            rc = -1;
        }
        freeReplyObject(r);
    }
    return rc;
}

/* cad_body - delete each key whose value is still the one read: EVALSHA in
   one pipeline, then EVAL for the keys the server answered NOSCRIPT */
static int cad_body(struct redis_op *op, void *ctx, struct tp_error *err)
{
    struct cad_ctx *c = ctx;
    bool again[BATCH] = {false}, any = false;

    cad_send(op, c, true, NULL);
    if (cad_read(op, c, NULL, again, err) < 0)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        any |= again[i];
    if (!any)
        return 0;
    cad_send(op, c, false, again);
    return cad_read(op, c, again, NULL, err);
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
    .update_reads_once = true, /* GET, and a compare-and-set only to write */
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
    if (script_init(&st->cas, CAS_SCRIPT) < 0 || script_init(&st->cad, CAD_SCRIPT) < 0) {
        tp_error_set(err, NULL, 0, "state store redis: cannot compute a script's SHA1 (OpenSSL)");
        redis_close(&st->base);
        return NULL;
    }
    /* Redis may come up after us: until then state.on_error decides. */
    if (redis_run(&st->pool, ping_body, NULL, err) < 0) {
        char msg[sizeof(err->msg)];

        snprintf(msg, sizeof(msg), "%s", err->msg);
        tp_error_set(err, NULL, 0, "%s (decisions follow state.on_error until it answers)", msg);
    } else {
        /* A server passed over on the way to one that answered is no
           warning: --state would take it for an unreachable store. */
        err->msg[0] = 0;
    }
    return &st->base;
}
