/*++
 * NAME
 *	store_lmdb 3
 * SUMMARY
 *	embedded state-store backend: LMDB
 * SYNOPSIS
 *	#include "state/store.h"
 *
 *	struct store *store_open_lmdb(dir, map_size, err)
 * DESCRIPTION
 *	Key layout. One named database, "fallback", in the environment in
 *	dir (data.mdb, lock.mdb). Its keys are the caller's fallback keys as
 *	bytes, without a terminator ("client_domain:partner.example"); its
 *	values are FB_RECORD_SIZE-byte encoded struct fb_record (fbrecord.h).
 *	A named database leaves room for other tables later without mixing
 *	key spaces. Invariants: every value we write decodes; a value that
 *	does not (another release, damage) is an error to store_get(), is
 *	seen as absent (with a warning) by store_update(), which may
 *	overwrite it, refused by store_update_readable(), and is removed by
 *	the next expiry.
 *
 *	Transactions. store_get() is one read transaction; store_update()
 *	and store_forget() exactly one write transaction each (retries after
 *	a resize abort first); store_expire() and store_walk() a series of
 *	bounded ones. The environment is opened with MDB_NOTLS because
 *	libmilter calls back on many threads and a thread may run more than
 *	one session over time: the reader slot then belongs to the
 *	transaction, not to the thread. LMDB serializes writers itself;
 *	readers never block.
 *
 *	Durability. Default sync: mdb_txn_commit() returns after fsync, so
 *	an update that returned survives a crash or kill -9 of the daemon.
 *	LMDB's copy-on-write tree needs no recovery on open, and its writer
 *	mutex is robust: a writer killed mid-transaction leaves nothing
 *	half-written and the lock passes to the next writer. Stale reader
 *	slots left by a killed process are cleared at open (they would pin
 *	old pages and let the file grow without bound).
 *
 *	Map growth. The map is a fixed window onto the file; a write that
 *	finds it full fails with MDB_MAP_FULL. We then abort, double the map
 *	with mdb_env_set_mapsize() and run the transaction again. LMDB
 *	allows that call only while this process has no transaction open,
 *	so every transaction holds st->resize shared, and the resize holds
 *	it exclusive. The lock prefers writers (glibc) so that a steady flow
 *	of transactions cannot starve a resize. Whoever gets the exclusive
 *	lock first grows the map; the others see map_size changed and just
 *	retry. MDB_MAP_RESIZED from mdb_txn_begin() means another process
 *	(say `tlspolicyd --state forget` beside the daemon) grew the file:
 *	we adopt its size with mdb_env_set_mapsize(env, 0) the same way.
 *	The map never shrinks below the data in use.
 *
 *	Damage. LMDB trusts its file: a truncated or overwritten data.mdb
 *	faults (SIGBUS) in whoever reads it through the map. So an existing
 *	file is checked before mdb_env_open() maps it (lmdb_check.c: the
 *	meta pages by read(2), every record in a child process), and a
 *	damaged one is moved aside or refused as the caller asked. The map's
 *	range is published (lmdb_fault.c) so that a SIGBUS handler can tell
 *	a fault in it (the file truncated later, while open) from any other.
 * DIAGNOSTICS
 *	Errors carry LMDB's message and the directory.
 *--*/

/* pthread_rwlockattr_setkind_np() is a GNU extension. */
#define _GNU_SOURCE

/* System library. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Utility library. */
#include <lmdb.h>

/* Application. */
#include "state/lmdb_check.h"
#include "state/lmdb_fault.h"
#include "state/store.h"

#define DB_NAME          "fallback"
#define DEFAULT_MAP_SIZE ((size_t) 64 << 20) /* ~500k records before the first growth */
#define MAX_READERS      1024 /* one per concurrent read; libmilter runs a thread per connection */
#define TXN_ATTEMPTS     64   /* each failed attempt doubles the map or adopts a bigger one */
#define EXPIRE_VISIT_MAX 4096 /* records looked at per expiry transaction ... */
#define EXPIRE_DEL_MAX   1024 /* ... and deleted: bounds how long the writer lock is held */
#define WALK_BATCH       64   /* records per walk transaction: keeps readers short-lived */
#define RAW_KEY_MAX      511  /* LMDB's default maximum key size */
#define TXN_FAILED       (-1) /* a body's own failure, err set; no LMDB code is -1 */

struct lmdb_store {
    struct store base;
    MDB_env *env;
    MDB_dbi dbi;
    pthread_rwlock_t resize; /* shared: any transaction; exclusive: resizing */
    size_t map_size;         /* written only under the exclusive lock */
    int slot;                /* lmdb_fault_claim()'s, or -1 */
    char dir[256];           /* for messages */
};

/* A saved cursor position, for work split over several transactions. */
struct resume {
    unsigned char key[RAW_KEY_MAX];
    size_t len; /* 0: from the first key */
};

typedef int (*txn_body)(struct lmdb_store *, MDB_txn *, void *ctx, struct tp_error *);

/* lmdb_fail - fill err from an LMDB or errno code */
static void lmdb_fail(struct lmdb_store *st, struct tp_error *err, const char *what, int rc)
{
    tp_error_set(err, NULL, 0, "state store %s: %s: %s", st->dir, what, mdb_strerror(rc));
}

/* warn_bad - leave a warning about unreadable records */
static void warn_bad(struct tp_error *err, const char *key, size_t klen, size_t count, const char *why)
{
    if (key)
        tp_error_set(err, NULL, 0, "state store: ignored record \"%.*s\": %s", (int) klen, key, why);
    else
        tp_error_set(err, NULL, 0, "state store: %zu unreadable record(s): %s", count, why);
}

/* refresh_size - what LMDB made of the last size request (it rounds up to the data in use) */
static void refresh_size(struct lmdb_store *st)
{
    MDB_envinfo info;

    if (mdb_env_info(st->env, &info) == 0) {
        st->map_size = info.me_mapsize;
        lmdb_fault_publish(st->slot, st->env);
    }
}

/* resize - grow the map (or adopt another process's size when want is 0) */
static int resize(struct lmdb_store *st, size_t seen, size_t want, struct tp_error *err)
{
    int rc = 0;

    pthread_rwlock_wrlock(&st->resize);
    /* Another thread may have grown it while we waited: then just retry. */
    if (st->map_size == seen) {
        if (want != 0 && seen > SIZE_MAX / 2)
            rc = ENOMEM;
        else if ((rc = mdb_env_set_mapsize(st->env, want)) == 0)
            refresh_size(st);
    }
    pthread_rwlock_unlock(&st->resize);
    if (rc)
        lmdb_fail(st, err, "cannot resize the map", rc);
    return rc ? -1 : 0;
}

/* run_txn - run body in one transaction; grow the map and run it again when full */
static int run_txn(struct lmdb_store *st, bool rdonly, txn_body body, void *ctx, struct tp_error *err)
{
    MDB_txn *txn;
    size_t seen;
    int rc;

    for (int attempt = 0;; attempt++) {
        pthread_rwlock_rdlock(&st->resize);
        seen = st->map_size;
        if ((rc = mdb_txn_begin(st->env, NULL, rdonly ? MDB_RDONLY : 0, &txn)) == 0) {
            if ((rc = body(st, txn, ctx, err)) == 0 && !rdonly)
                rc = mdb_txn_commit(txn); /* frees txn, also on failure */
            else
                mdb_txn_abort(txn);
        }
        pthread_rwlock_unlock(&st->resize);
        if ((rc != MDB_MAP_FULL && rc != MDB_MAP_RESIZED) || attempt == TXN_ATTEMPTS)
            break;
        if (resize(st, seen, rc == MDB_MAP_FULL ? seen * 2 : 0, err) < 0)
            return -1;
    }
    if (rc == TXN_FAILED)
        return -1;
    if (rc != 0) {
        lmdb_fail(st, err, rdonly ? "read" : "write", rc);
        return -1;
    }
    return 0;
}

/* position - cursor to the first key after r (or the first key) */
static int position(MDB_cursor *cur, const struct resume *r, MDB_val *k, MDB_val *v)
{
    int rc;

    if (r->len == 0)
        return mdb_cursor_get(cur, k, v, MDB_FIRST);
    k->mv_data = (void *) r->key;
    k->mv_size = r->len;
    rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == 0 && k->mv_size == r->len && memcmp(k->mv_data, r->key, r->len) == 0)
        rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
    return rc;
}

/* remember - save a key as the resume point */
static void remember(struct resume *r, const MDB_val *k)
{
    r->len = k->mv_size < sizeof(r->key) ? k->mv_size : sizeof(r->key);
    memcpy(r->key, k->mv_data, r->len);
}

/*
 * One record: store_get, store_update, store_forget.
 */
struct one_ctx {
    MDB_val key;
    struct fb_record rec;
    bool found;
    const char *bad; /* why a stored value was unreadable, or NULL */
    store_update_fn fn;
    void *arg;
    bool readable_only; /* store_update_readable() */
    int result;
};

/* read_one - the stored record into c->rec; sets found or bad */
static int read_one(struct lmdb_store *st, MDB_txn *txn, struct one_ctx *c)
{
    MDB_val val;
    int rc;

    c->found = false;
    c->bad = NULL;
    memset(&c->rec, 0, sizeof(c->rec));
    if ((rc = mdb_get(txn, st->dbi, &c->key, &val)) == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    c->found = fb_record_decode(val.mv_data, val.mv_size, &c->rec, &c->bad) == 0;
    return 0;
}

/* get_body - read transaction of store_get */
static int get_body(struct lmdb_store *st, MDB_txn *txn, void *ctx, struct tp_error *err)
{
    (void) err;
    return read_one(st, txn, ctx);
}

/* update_body - write transaction of store_update: read, let fn decide, apply */
static int update_body(struct lmdb_store *st, MDB_txn *txn, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    unsigned char buf[FB_RECORD_SIZE];
    MDB_val val = {sizeof(buf), buf};
    int rc;

    if ((rc = read_one(st, txn, c)) != 0)
        return rc;
    if (c->bad && c->readable_only) {
        tp_error_set(err, NULL, 0, "state store: record \"%.*s\" is unreadable: %s", (int) c->key.mv_size,
                     (const char *) c->key.mv_data, c->bad);
        return TXN_FAILED; /* aborted: nothing written */
    }
    switch (c->result = c->fn(&c->rec, c->found, c->arg)) {
    case STORE_KEEP:
        return 0; /* commits an empty transaction: no page is written */
    case STORE_WRITE:
        fb_record_encode(&c->rec, buf);
        return mdb_put(txn, st->dbi, &c->key, &val, 0);
    case STORE_DELETE:
        rc = mdb_del(txn, st->dbi, &c->key, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    default:
        tp_error_set(err, NULL, 0, "state store: update callback returned %d", c->result);
        return TXN_FAILED;
    }
}

/* forget_body - write transaction of store_forget */
static int forget_body(struct lmdb_store *st, MDB_txn *txn, void *ctx, struct tp_error *err)
{
    struct one_ctx *c = ctx;
    int rc = mdb_del(txn, st->dbi, &c->key, NULL);

    (void) err;
    c->result = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* lmdb_get - store_get */
static int lmdb_get(struct store *base, const char *key, size_t klen, struct fb_record *out,
                    struct tp_error *err)
{
    struct one_ctx c = {.key = {klen, (void *) key}};

    if (run_txn((struct lmdb_store *) base, true, get_body, &c, err) < 0)
        return -1;
    /* An error, not "absent": absent would let the fallback rules treat a
       sender with a TLS history as a new one, i.e. fail open. */
    if (c.bad) {
        tp_error_set(err, NULL, 0, "state store: record \"%.*s\" is unreadable: %s", (int) klen, key, c.bad);
        return -1;
    }
    *out = c.rec;
    return c.found;
}

/* lmdb_update - store_update */
static int lmdb_update(struct store *base, const char *key, size_t klen, store_update_fn fn, void *arg,
                       bool readable_only, struct tp_error *err)
{
    struct one_ctx c = {.key = {klen, (void *) key}, .fn = fn, .arg = arg, .readable_only = readable_only};

    if (run_txn((struct lmdb_store *) base, false, update_body, &c, err) < 0)
        return -1;
    if (c.bad)
        warn_bad(err, key, klen, 1, c.bad);
    return c.result;
}

/* lmdb_forget - store_forget */
static int lmdb_forget(struct store *base, const char *key, size_t klen, struct tp_error *err)
{
    struct one_ctx c = {.key = {klen, (void *) key}};

    if (run_txn((struct lmdb_store *) base, false, forget_body, &c, err) < 0)
        return -1;
    return c.result;
}

/*
 * Expiry: bounded write transactions, each resuming after the last key
 * the previous one looked at, so that the whole purge is one pass.
 */
struct expire_ctx {
    int64_t cutoff;
    struct resume at, next; /* next becomes at only once the batch committed */
    size_t removed, bad;    /* of this batch */
    const char *why;
    bool done;
};

/* expire_body - one batch of expiry */
static int expire_body(struct lmdb_store *st, MDB_txn *txn, void *ctx, struct tp_error *err)
{
    struct expire_ctx *c = ctx;
    struct fb_record rec;
    MDB_cursor *cur;
    MDB_val k, v;
    const char *why;
    int rc;

    (void) err;
    c->removed = c->bad = 0;
    c->next = c->at;
    if ((rc = mdb_cursor_open(txn, st->dbi, &cur)) != 0)
        return rc;
    rc = position(cur, &c->at, &k, &v);
    for (int seen = 0; rc == 0 && seen < EXPIRE_VISIT_MAX && c->removed < EXPIRE_DEL_MAX; seen++) {
        remember(&c->next, &k);
        if (fb_record_decode(v.mv_data, v.mv_size, &rec, &why) < 0) {
            c->bad++;
            c->why = why;
            rec.updated = INT64_MIN; /* unreadable: nothing can use it, remove it */
        }
        if (rec.updated < c->cutoff) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            c->removed++;
        }
        /* After a delete the cursor already stands on the successor; LMDB's NEXT knows. */
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    c->done = rc == MDB_NOTFOUND;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* lmdb_expire - store_expire */
static int lmdb_expire(struct store *base, int64_t cutoff, size_t *removed, struct tp_error *err)
{
    struct expire_ctx c = {.cutoff = cutoff};
    size_t bad = 0;

    do {
        if (run_txn((struct lmdb_store *) base, false, expire_body, &c, err) < 0)
            return -1;
        *removed += c.removed;
        bad += c.bad;
        c.at = c.next;
    } while (!c.done);
    if (bad)
        warn_bad(err, NULL, 0, bad, c.why);
    return 0;
}

/*
 * Walk: short read transactions of WALK_BATCH records, copied out, so
 * that fn runs with no transaction or lock held. A long-lived reader
 * would pin old pages, and fn may want to write (forget what it lists).
 */
struct walk_item {
    char key[STORE_KEY_MAX + 1];
    size_t klen;
    struct fb_record rec;
};

struct walk_ctx {
    struct resume at;
    struct walk_item *items;
    size_t n, bad;
    const char *why;
    bool done;
};

/* walk_body - copy out one batch */
static int walk_body(struct lmdb_store *st, MDB_txn *txn, void *ctx, struct tp_error *err)
{
    struct walk_ctx *c = ctx;
    struct walk_item *it;
    MDB_cursor *cur;
    MDB_val k, v;
    const char *why;
    int rc;

    (void) err;
    c->n = c->bad = 0;
    if ((rc = mdb_cursor_open(txn, st->dbi, &cur)) != 0)
        return rc;
    for (rc = position(cur, &c->at, &k, &v); rc == 0 && c->n < WALK_BATCH;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        it = &c->items[c->n];
        why = "key is not a string of at most 255 bytes";
        /* fn gets a C string: a key that is not one (not written by us) is unreadable. */
        if (k.mv_size > STORE_KEY_MAX || memchr(k.mv_data, 0, k.mv_size) != NULL ||
            fb_record_decode(v.mv_data, v.mv_size, &it->rec, &why) < 0) {
            c->bad++;
            c->why = why;
            continue;
        }
        memcpy(it->key, k.mv_data, k.mv_size);
        it->key[k.mv_size] = 0;
        it->klen = k.mv_size;
        c->n++;
    }
    /* The resume point is the last key copied; the loop stopped one further, or at the end. */
    if (c->n > 0) {
        k.mv_data = c->items[c->n - 1].key;
        k.mv_size = c->items[c->n - 1].klen;
        remember(&c->at, &k);
    }
    mdb_cursor_close(cur);
    c->done = rc == MDB_NOTFOUND;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* lmdb_walk - store_walk */
static int lmdb_walk(struct store *base, store_walk_fn fn, void *arg, struct tp_error *err)
{
    struct walk_ctx c = {.items = calloc(WALK_BATCH, sizeof(struct walk_item))};
    size_t bad = 0;
    int result = 0;

    if (c.items == NULL) {
        tp_error_set(err, NULL, 0, "state store: out of memory");
        return -1;
    }
    do {
        if (run_txn((struct lmdb_store *) base, true, walk_body, &c, err) < 0) {
            result = -1;
            break;
        }
        bad += c.bad;
        for (size_t i = 0; i < c.n && result == 0; i++)
            result = fn(c.items[i].key, &c.items[i].rec, arg) != 0;
    } while (!c.done && result == 0);
    free(c.items);
    if (result >= 0 && bad)
        warn_bad(err, NULL, 0, bad, c.why);
    return result;
}

/* lmdb_close - store_close */
static void lmdb_close(struct store *base)
{
    struct lmdb_store *st = (struct lmdb_store *) base;

    lmdb_fault_release(st->slot);
    mdb_env_close(st->env);
    pthread_rwlock_destroy(&st->resize);
    free(st);
}

static const struct store_ops lmdb_ops = {
    .name = "lmdb",
    .get = lmdb_get,
    .update = lmdb_update,
    .expire = lmdb_expire,
    .walk = lmdb_walk,
    .forget = lmdb_forget,
    .close = lmdb_close,
};

/* lock_init - the resize lock, writer-preferring where the C library can */
static int lock_init(pthread_rwlock_t *lock)
{
    pthread_rwlockattr_t attr;
    int rc;

    if ((rc = pthread_rwlockattr_init(&attr)) != 0)
        return rc;
#ifdef __GLIBC__
    /* glibc prefers readers by default: a busy milter would starve the resize. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    rc = pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    return rc;
}

/* env_open - environment, stale-reader cleanup and the named database */
static int env_open(struct lmdb_store *st, const char *dir, size_t map_size, struct tp_error *err)
{
    MDB_txn *txn;
    int rc, dead;

    if ((rc = mdb_env_create(&st->env)) != 0) {
        lmdb_fail(st, err, "cannot create the environment", rc);
        return -1;
    }
    if ((rc = mdb_env_set_maxreaders(st->env, MAX_READERS)) != 0 ||
        (rc = mdb_env_set_maxdbs(st->env, 4)) != 0 ||
        (rc = mdb_env_set_mapsize(st->env, map_size ? map_size : DEFAULT_MAP_SIZE)) != 0 ||
        (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0) {
        lmdb_fail(st, err, "cannot open", rc);
        return -1;
    }
    /* A process killed inside a read transaction leaves its slot taken. */
    (void) mdb_reader_check(st->env, &dead);
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) == 0) {
        if ((rc = mdb_dbi_open(txn, DB_NAME, MDB_CREATE, &st->dbi)) == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    if (rc != 0) {
        lmdb_fail(st, err, "cannot open the database " DB_NAME, rc);
        return -1;
    }
    refresh_size(st);
    return 0;
}

/* store_open_lmdb - open or create the LMDB store in dir */
struct store *store_open_lmdb(const char *dir, size_t map_size, enum store_on_damage on_damage,
                              struct tp_error *err)
{
    struct lmdb_store *st;

    err->msg[0] = 0;
    if ((st = calloc(1, sizeof(*st))) == NULL) {
        tp_error_set(err, NULL, 0, "state store %s: out of memory", dir);
        return NULL;
    }
    st->base.ops = &lmdb_ops;
    snprintf(st->dir, sizeof(st->dir), "%s", dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        lmdb_fail(st, err, "cannot create the directory", errno);
        free(st);
        return NULL;
    }
    /* Before LMDB maps the file: a damaged one would kill this process. */
    if (lmdb_check_open(dir, on_damage, err) < 0) {
        free(st);
        return NULL;
    }
    if (lock_init(&st->resize) != 0) {
        tp_error_set(err, NULL, 0, "state store %s: cannot create a lock", dir);
        free(st);
        return NULL;
    }
    st->slot = lmdb_fault_claim(st->dir);
    if (env_open(st, dir, map_size, err) < 0) {
        lmdb_fault_release(st->slot);
        if (st->env)
            mdb_env_close(st->env);
        pthread_rwlock_destroy(&st->resize);
        free(st);
        return NULL;
    }
    return &st->base;
}
