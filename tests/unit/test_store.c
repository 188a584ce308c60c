/*++
 * NAME
 *	test_store 1
 * SUMMARY
 *	unit tests for the state store (LMDB backend) and the record encoding
 * DESCRIPTION
 *	Each test runs in a fresh directory from mkdtemp(), removed after.
 *	Times are injected: the store never reads the clock. Tests that need
 *	raw LMDB (to plant an unreadable value, to read the map size) close
 *	the store first: LMDB forbids opening one environment twice in a
 *	process. The durability tests fork a child that commits and dies
 *	without closing; only the parent uses cmocka.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <lmdb.h>

/* Application. */
#include "state/store.h"

struct fixture {
    char dir[64];
    struct store *st;
    struct tp_error err;
};

/* setup - fresh directory and store */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");

    snprintf(f->dir, sizeof(f->dir), "%s/test_store.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    if ((f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err)) == NULL) {
        fprintf(stderr, "open: %s\n", f->err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

/* teardown - close and remove the directory */
static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];

    store_close(f->st);
    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* reopen - close and open again, as after a restart */
static void reopen(struct fixture *f, size_t map_size)
{
    store_close(f->st);
    f->st = store_open_lmdb(f->dir, map_size, STORE_DAMAGE_REFUSE, &f->err);
    assert_non_null(f->st);
}

/* A sample record; fields differ so that a swap would show. */
static const struct fb_record sample = {
    .best_level = FB_LEVEL_VERIFIED,
    .best_version = TLS_V_TLS13,
    .first_seen = 1700000000,
    .last_tls = 1700000100,
    .last_plain = 1700000200,
    .deferrals = 3,
    .defer_start = 1700000300,
    .updated = 1700000400,
};

/* put_sample - update callback: write the record in arg */
static int put_sample(struct fb_record *rec, bool found, void *arg)
{
    (void) found;
    *rec = *(const struct fb_record *) arg;
    return STORE_WRITE;
}

/* increment - update callback: one more deferral */
static int increment(struct fb_record *rec, bool found, void *arg)
{
    (void) arg;
    if (!found)
        rec->first_seen = 1;
    rec->deferrals++;
    rec->updated = 1;
    return STORE_WRITE;
}

/* keep - update callback: report found, change nothing */
static int keep(struct fb_record *rec, bool found, void *arg)
{
    *(int *) arg = found;
    rec->deferrals = 999; /* must not reach the store */
    return STORE_KEEP;
}

/* del_record - update callback: report found, delete */
static int del_record(struct fb_record *rec, bool found, void *arg)
{
    (void) rec;
    *(int *) arg = found;
    return STORE_DELETE;
}

/* bogus - update callback: an answer outside enum store_action */
static int bogus(struct fb_record *rec, bool found, void *arg)
{
    (void) found;
    (void) arg;
    rec->deferrals = 999;
    return 7;
}

/* put - write one record with a given updated time */
static void put(struct fixture *f, const char *key, int64_t updated)
{
    struct fb_record rec = sample;

    rec.updated = updated;
    assert_int_equal(store_update(f->st, key, put_sample, &rec, &f->err), STORE_WRITE);
}

/* test_absent - a fresh store knows nothing */
static void test_absent(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    assert_int_equal(store_get(f->st, "client_domain:partner.example", &rec, &f->err), 0);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(rec.updated, 0);
    assert_string_equal(store_backend(f->st), "lmdb");
}

/* test_create_and_get - update creates; get returns equal fields, also after reopen */
static void test_create_and_get(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    assert_int_equal(store_update(f->st, "client_net:192.0.2.0/24", put_sample, (void *) &sample, &f->err),
                     STORE_WRITE);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(store_get(f->st, "client_net:192.0.2.0/24", &rec, &f->err), 1);
        assert_memory_equal(&rec, &sample, sizeof(rec));
        reopen(f, 0);
    }
}

/* test_modify - each update sees the previous one */
static void test_modify(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    for (int i = 0; i < 10; i++)
        assert_int_equal(store_update(f->st, "client_addr:2001:db8::1", increment, NULL, &f->err), 1);
    assert_int_equal(store_get(f->st, "client_addr:2001:db8::1", &rec, &f->err), 1);
    assert_int_equal(rec.deferrals, 10);
    assert_int_equal(rec.first_seen, 1);
}

/* test_keep - fn returning 0 changes nothing, present or absent */
static void test_keep(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;
    int found = -1;

    assert_int_equal(store_update(f->st, "k", keep, &found, &f->err), STORE_KEEP);
    assert_int_equal(found, 0);
    assert_int_equal(store_get(f->st, "k", &rec, &f->err), 0);
    put(f, "k", 5);
    assert_int_equal(store_update(f->st, "k", keep, &found, &f->err), STORE_KEEP);
    assert_int_equal(found, 1);
    assert_int_equal(store_get(f->st, "k", &rec, &f->err), 1);
    assert_int_equal(rec.deferrals, sample.deferrals);
}

/* test_delete - fn returning 2 deletes; deleting the absent is fine */
static void test_delete(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;
    int found = -1;

    put(f, "k", 5);
    assert_int_equal(store_update(f->st, "k", del_record, &found, &f->err), STORE_DELETE);
    assert_int_equal(found, 1);
    assert_int_equal(store_get(f->st, "k", &rec, &f->err), 0);
    assert_int_equal(store_update(f->st, "k", del_record, &found, &f->err), STORE_DELETE);
    assert_int_equal(found, 0);
}

/* test_bad_callback - an out-of-range answer is an error and changes nothing */
static void test_bad_callback(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    put(f, "k", 5);
    assert_int_equal(store_update(f->st, "k", bogus, NULL, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "returned 7"));
    assert_int_equal(store_get(f->st, "k", &rec, &f->err), 1);
    assert_int_equal(rec.deferrals, sample.deferrals);
}

/* test_forget - 1 when removed, 0 when absent */
static void test_forget(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    put(f, "sender_domain:partner.example", 5);
    assert_int_equal(store_forget(f->st, "sender_domain:partner.example", &f->err), 1);
    assert_int_equal(store_get(f->st, "sender_domain:partner.example", &rec, &f->err), 0);
    assert_int_equal(store_forget(f->st, "sender_domain:partner.example", &f->err), 0);
}

/* test_keys - empty and over-long keys are refused; 255 bytes is fine */
static void test_keys(void **state)
{
    static const struct {
        const char *name;
        size_t len;
        int want;
    } cases[] = {
        {"empty", 0, -1},
        {"one byte", 1, 0},
        {"255 bytes", 255, 0},
        {"256 bytes", 256, -1},
    };
    struct fixture *f = *state;
    struct fb_record rec;
    char key[300];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        memset(key, 'a', cases[i].len);
        key[cases[i].len] = 0;
        assert_int_equal(store_get(f->st, key, &rec, &f->err), cases[i].want);
        assert_int_equal(store_forget(f->st, key, &f->err), cases[i].want);
    }
    assert_int_equal(store_get(f->st, NULL, &rec, &f->err), -1);
}

struct walk_seen {
    int n;
    char last[STORE_KEY_MAX + 1];
    bool ordered;
    int stop_at;             /* 0: never */
    struct store *forget_in; /* non-NULL: forget each key while walking */
};

/* collect - walk callback: count, check order, maybe stop or forget */
static int collect(const char *key, const struct fb_record *rec, void *arg)
{
    struct walk_seen *w = arg;
    struct tp_error err;

    if (w->n > 0 && strcmp(w->last, key) >= 0)
        w->ordered = false;
    if (rec->best_version != sample.best_version)
        w->ordered = false;
    snprintf(w->last, sizeof(w->last), "%s", key);
    w->n++;
    if (w->forget_in && store_forget(w->forget_in, key, &err) != 1)
        w->ordered = false;
    return w->stop_at && w->n == w->stop_at;
}

/* test_walk - every record once, in order, across several batches; stop; forget while walking */
static void test_walk(void **state)
{
    struct fixture *f = *state;
    struct walk_seen w = {.ordered = true};
    char key[64];

    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "client_domain:d%04d.example", i);
        put(f, key, i);
    }
    assert_int_equal(store_walk(f->st, collect, &w, &f->err), 0);
    assert_int_equal(w.n, 300);
    assert_true(w.ordered);
    assert_string_equal(f->err.msg, "");

    memset(&w, 0, sizeof(w));
    w.ordered = true;
    w.stop_at = 100;
    assert_int_equal(store_walk(f->st, collect, &w, &f->err), 1);
    assert_int_equal(w.n, 100);

    memset(&w, 0, sizeof(w));
    w.ordered = true;
    w.forget_in = f->st;
    assert_int_equal(store_walk(f->st, collect, &w, &f->err), 0);
    assert_int_equal(w.n, 300);
    assert_true(w.ordered);
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_walk(f->st, collect, &w, &f->err), 0);
    assert_int_equal(w.n, 0);
}

/* test_expire - exactly the records older than the cutoff go, across batches */
static void test_expire(void **state)
{
    static const struct {
        const char *name;
        int64_t cutoff;
        size_t removed; /* of 3000 records, updated 1000 + i */
    } cases[] = {
        {"nothing older", 1000, 0},
        {"one older", 1001, 1},
        {"older than 3500, across batches", 3500, 2499},
        {"no more to remove", 3500, 0},
        {"all of the rest", 1000000, 500},
    };
    struct fixture *f = *state;
    struct fb_record rec;
    size_t removed;
    char key[64];

    /* Keys in another order than the times, so old and new interleave. */
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "k%05d", (i * 7919) % 3000);
        put(f, key, 1000 + i);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(store_expire(f->st, cases[i].cutoff, &removed, &f->err), 0);
        assert_int_equal(removed, cases[i].removed);
        for (int j = 0; j < 3000; j++) {
            snprintf(key, sizeof(key), "k%05d", (j * 7919) % 3000);
            assert_int_equal(store_get(f->st, key, &rec, &f->err), 1000 + j >= cases[i].cutoff);
        }
    }
}

/* test_encoding_roundtrip - each record survives encode and decode */
static void test_encoding_roundtrip(void **state)
{
    static const struct {
        const char *name;
        struct fb_record rec;
    } cases[] = {
        {"zero", {0}},
        {"sample",
         {FB_LEVEL_VERIFIED, TLS_V_TLS13, 1700000000, 1700000100, 1700000200, 3, 1700000300, 1700000400,
          1700000500}},
        {"extremes",
         {FB_LEVEL_TLS, TLS_V_SSL3, INT64_MIN, INT64_MAX, -1, UINT32_MAX, 1, 0x0102030405060708, INT64_MAX}},
    };
    unsigned char buf[FB_RECORD_SIZE];
    struct fb_record out;
    const char *why;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        fb_record_encode(&cases[i].rec, buf);
        assert_int_equal(buf[0], FB_RECORD_FORMAT);
        assert_int_equal(fb_record_decode(buf, sizeof(buf), &out, &why), 0);
        assert_memory_equal(&out, &cases[i].rec, sizeof(out));
    }
    /* Little-endian on every host: the low byte of updated comes first. */
    fb_record_encode(&cases[2].rec, buf);
    assert_int_equal(buf[40], 0x08);
    assert_int_equal(buf[47], 0x01);
    assert_int_equal(FB_RECORD_SIZE, 56);
}

/* test_encoding_reject - what decode must refuse */
static void test_encoding_reject(void **state)
{
    static const struct {
        const char *name;
        size_t len;
        int offset, byte; /* offset -1: leave the encoding as is */
        const char *why;
    } cases[] = {
        {"empty", 0, -1, 0, "length"},
        {"short", FB_RECORD_SIZE - 1, -1, 0, "length"},
        {"long", FB_RECORD_SIZE + 1, -1, 0, "length"},
        {"format 0", FB_RECORD_SIZE, 0, 0, "format"},
        {"format 2", FB_RECORD_SIZE, 0, 2, "format"},
        {"level 3", FB_RECORD_SIZE, 1, 3, "range"},
        {"version past TLSv1.3", FB_RECORD_SIZE, 2, TLS_V_TLS13 + 1, "range"},
    };
    unsigned char buf[FB_RECORD_SIZE + 1];
    struct fb_record out;
    const char *why;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        fb_record_encode(&sample, buf);
        buf[FB_RECORD_SIZE] = 0;
        if (cases[i].offset >= 0)
            buf[cases[i].offset] = (unsigned char) cases[i].byte;
        assert_int_equal(fb_record_decode(buf, cases[i].len, &out, &why), -1);
        assert_non_null(strstr(why, cases[i].why));
        assert_int_equal(out.updated, 0);
    }
}

/* raw_put - write bytes under a key with LMDB itself, the store closed */
static void raw_put(const char *dir, const char *key, const void *val, size_t len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {strlen(key), (void *) key}, v = {len, (void *) val};

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "fallback", 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* test_unreadable - garbage is an error to get, absent to update (which heals it) */
static void test_unreadable(void **state)
{
    struct fixture *f = *state;
    unsigned char future[FB_RECORD_SIZE];
    struct walk_seen w = {.ordered = true};
    struct fb_record rec;
    size_t removed;
    int found = -1;

    put(f, "good", 5);
    fb_record_encode(&sample, future);
    future[0] = 9;
    store_close(f->st);
    raw_put(f->dir, "garbage", "not a record", 12);
    raw_put(f->dir, "future", future, sizeof(future));
    f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err);
    assert_non_null(f->st);

    /* An error, not "absent": the fallback rules must not fail open. */
    assert_int_equal(store_get(f->st, "garbage", &rec, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "\"garbage\" is unreadable: record has the wrong length"));
    assert_int_equal(store_get(f->st, "future", &rec, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "unknown format"));
    assert_int_equal(store_walk(f->st, collect, &w, &f->err), 0);
    assert_int_equal(w.n, 1);
    assert_non_null(strstr(f->err.msg, "2 unreadable"));

    /* An update sees nothing and overwrites; expiry removes the other. */
    assert_int_equal(store_update(f->st, "garbage", keep, &found, &f->err), STORE_KEEP);
    assert_int_equal(found, 0);
    assert_int_equal(store_update(f->st, "garbage", increment, NULL, &f->err), STORE_WRITE);
    assert_int_equal(store_get(f->st, "garbage", &rec, &f->err), 1);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_expire(f->st, 0, &removed, &f->err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(store_get(f->st, "good", &rec, &f->err), 1);
    assert_int_equal(store_get(f->st, "future", &rec, &f->err), 0);
    assert_string_equal(f->err.msg, "");
}

/* raw_map_size - the map size the environment recorded */
static size_t raw_map_size(const char *dir)
{
    MDB_env *env;
    MDB_envinfo info;

    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_env_info(env, &info), 0);
    mdb_env_close(env);
    return info.me_mapsize;
}

/* test_map_growth - a 64 KiB map grows several times; nothing is lost */
static void test_map_growth(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;
    char key[64];

    reopen(f, 64 << 10);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "client_domain:host%05d.example", i);
        put(f, key, i);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "client_domain:host%05d.example", i);
        assert_int_equal(store_get(f->st, key, &rec, &f->err), 1);
        assert_int_equal(rec.updated, i);
    }
    store_close(f->st);
    f->st = NULL;
    /* 64 KiB doubled at least three times. */
    assert_true(raw_map_size(f->dir) >= (size_t) 512 << 10);
    f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err);
    assert_non_null(f->st);
}

#define THREADS    8
#define PER_THREAD 500

struct worker {
    struct store *st;
    int id;
    bool distinct; /* own keys, else all on one key */
    int failures;
};

/* work - one thread's updates */
static void *work(void *arg)
{
    struct worker *w = arg;
    struct tp_error err;
    char key[64];

    for (int i = 0; i < PER_THREAD; i++) {
        if (w->distinct)
            snprintf(key, sizeof(key), "client_addr:192.0.2.%d/%d", w->id, i);
        else
            snprintf(key, sizeof(key), "client_domain:partner.example");
        if (store_update(w->st, key, increment, NULL, &err) != STORE_WRITE)
            w->failures++;
    }
    return NULL;
}

/* run_workers - THREADS threads at once */
static void run_workers(struct store *st, bool distinct)
{
    pthread_t tid[THREADS];
    struct worker w[THREADS];

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.st = st, .id = i, .distinct = distinct};
        assert_int_equal(pthread_create(&tid[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
}

/* test_concurrent_counter - no increment is lost */
static void test_concurrent_counter(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;

    run_workers(f->st, false);
    assert_int_equal(store_get(f->st, "client_domain:partner.example", &rec, &f->err), 1);
    assert_int_equal(rec.deferrals, THREADS * PER_THREAD);
}

/* test_concurrent_growth - resizes while other threads write and read */
static void test_concurrent_growth(void **state)
{
    struct fixture *f = *state;
    struct walk_seen w = {.ordered = true};

    reopen(f, 64 << 10);
    run_workers(f->st, true);
    assert_int_equal(store_walk(f->st, collect, &w, &f->err), 0);
    assert_int_equal(w.n, THREADS * PER_THREAD);
}

/* child_commit - in a child: commit n updates, then die as asked, never closing */
static void child_commit(const char *dir, int n, bool sigkill)
{
    struct tp_error err;
    struct store *st = store_open_lmdb(dir, 64 << 10, STORE_DAMAGE_REFUSE, &err);

    for (int i = 0; st && i < n; i++)
        if (store_update(st, "client_domain:partner.example", increment, NULL, &err) != STORE_WRITE)
            _exit(2);
    if (st == NULL)
        _exit(3);
    if (sigkill)
        kill(getpid(), SIGKILL);
    _exit(0);
}

/* test_durability - what a dead child committed is there */
static void test_durability(void **state)
{
    static const struct {
        const char *name;
        bool sigkill;
        int n;
    } cases[] = {
        {"_exit without close", false, 200},
        {"kill -9 after commits", true, 300},
    };
    struct fixture *f = *state;
    struct fb_record rec;
    int status, total = 0;
    pid_t pid;

    store_close(f->st); /* the child must be the only user, as a daemon would be */
    f->st = NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        if ((pid = fork()) == 0)
            child_commit(f->dir, cases[i].n, cases[i].sigkill);
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (cases[i].sigkill)
            assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        else
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        total += cases[i].n;
        f->st = store_open_lmdb(f->dir, 0, STORE_DAMAGE_REFUSE, &f->err);
        assert_non_null(f->st);
        assert_int_equal(store_get(f->st, "client_domain:partner.example", &rec, &f->err), 1);
        assert_int_equal(rec.deferrals, total);
        store_close(f->st);
        f->st = NULL;
    }
}

/* child_fill - in a child: add n keys through its own handle, growing the file */
static void child_fill(const char *dir, int n)
{
    struct fb_record rec = sample;
    struct tp_error err;
    struct store *st = store_open_lmdb(dir, 64 << 10, STORE_DAMAGE_REFUSE, &err);
    char key[64];

    for (int i = 0; st && i < n; i++) {
        snprintf(key, sizeof(key), "client_domain:other%05d.example", i);
        if (store_update(st, key, put_sample, &rec, &err) != STORE_WRITE)
            _exit(2);
    }
    _exit(st ? 0 : 3);
}

/* test_other_process_growth - another process grew the map: we adopt its size (MDB_MAP_RESIZED) */
static void test_other_process_growth(void **state)
{
    struct fixture *f = *state;
    struct fb_record rec;
    int status;
    pid_t pid;

    reopen(f, 64 << 10);
    put(f, "before", 1);
    if ((pid = fork()) == 0)
        child_fill(f->dir, 5000); /* never uses the parent's handle */
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(store_get(f->st, "client_domain:other04999.example", &rec, &f->err), 1);
    put(f, "after", 2);
    assert_int_equal(store_get(f->st, "before", &rec, &f->err), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* main - run every case */
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_absent),
        T(test_create_and_get),
        T(test_modify),
        T(test_keep),
        T(test_delete),
        T(test_bad_callback),
        T(test_forget),
        T(test_keys),
        T(test_walk),
        T(test_expire),
        cmocka_unit_test(test_encoding_roundtrip),
        cmocka_unit_test(test_encoding_reject),
        T(test_unreadable),
        T(test_map_growth),
        T(test_concurrent_counter),
        T(test_concurrent_growth),
        T(test_durability),
        T(test_other_process_growth),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
