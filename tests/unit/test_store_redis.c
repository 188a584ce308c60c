/*++
 * NAME
 *	test_store_redis 1
 * SUMMARY
 *	unit tests for the Redis state-store backend, against a real server
 * DESCRIPTION
 *	Run by tests/integration/test_store_redis.sh, which starts two private
 *	redis-servers and passes the first one's port and unix socket in
 *	TP_REDIS_PORT and TP_REDIS_SOCK, the second one's port (for the
 *	replica and failover case) in TP_REDIS_PORT2. Each test starts by
 *	flushing the first server and uses its own key prefix, so tests do not
 *	see each other's keys. A raw
 *	hiredis connection plants what the backend would never write
 *	(damaged values, keys outside the prefix), reads what it wrote, and
 *	counts the commands the server ran (INFO commandstats, which counts
 *	those a script runs too) to pin down the round trips of a decision.
 *	test_differential runs one pseudo-random sequence of sessions through
 *	fallback_decide() on an LMDB store in $TMPDIR and on Redis and wants
 *	the same decisions and records; TP_DIFF_SEED=N runs another sequence.
 *--*/

/* System library. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

/* Application. */
#include "state/fallback.h"
#include "state/store.h"

static char server[64], server2[64], sock[256], dead[64];

struct fixture {
    struct store *st;
    redisContext *raw;
    struct tp_error err;
};

/* open_with - a store on the given servers and prefix */
static struct store *open_with(const char *const *servers, const char *prefix, const char *pw, int db,
                               struct tp_error *err)
{
    struct store_redis_opts o = {.servers = servers,
                                 .prefix = prefix,
                                 .password = pw,
                                 .password_len = pw ? strlen(pw) : 0,
                                 .db = db,
                                 .timeout_ms = 2000};

    return store_open_redis(&o, err);
}

/* open_sentinels - a store whose primary the sentinels name */
static struct store *open_sentinels(const char *const *sentinels, const char *name, struct tp_error *err)
{
    struct store_redis_opts o = {
        .sentinels = sentinels, .master_name = name, .prefix = "s:", .timeout_ms = 200};

    return store_open_redis(&o, err);
}

/* raw - a reply from the raw connection (freed by the caller) */
static redisReply *raw(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(f->raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

/* raw_do - a command whose reply does not matter */
static void raw_do(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(f->raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    freeReplyObject(r);
}

/* setup - empty database 0, a store with prefix "t:" */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *servers[] = {server, NULL};
    redisReply *r;

    f->raw = redisConnect("127.0.0.1", atoi(strchr(server, ':') + 1));
    if (f->raw == NULL || f->raw->err)
        return -1;
    r = redisCommand(f->raw, "FLUSHALL");
    freeReplyObject(r);
    if ((f->st = open_with(servers, "t:", NULL, 0, &f->err)) == NULL || f->err.msg[0]) {
        fprintf(stderr, "open: %s\n", f->err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

/* teardown - close both connections */
static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    redisFree(f->raw);
    free(f);
    return 0;
}

/* set_rec - callback: write the record in arg */
static int set_rec(struct fb_record *rec, bool found, void *arg)
{
    (void) found;
    *rec = *(const struct fb_record *) arg;
    return STORE_WRITE;
}

/* keep - callback: change nothing */
static int keep(struct fb_record *rec, bool found, void *arg)
{
    (void) rec, (void) found, (void) arg;
    return STORE_KEEP;
}

/* del - callback: delete */
static int del(struct fb_record *rec, bool found, void *arg)
{
    (void) rec, (void) found, (void) arg;
    return STORE_DELETE;
}

/* bogus - callback: an invalid action */
static int bogus(struct fb_record *rec, bool found, void *arg)
{
    (void) found, (void) arg;
    rec->deferrals = 99;
    return 7;
}

/* put - write one record with the given updated time and deferrals */
static void put(struct fixture *f, const char *key, int64_t updated, uint32_t deferrals)
{
    struct fb_record rec = {.best_level = FB_LEVEL_TLS,
                            .best_version = TLS_V_TLS12,
                            .first_seen = 1000,
                            .last_tls = updated,
                            .deferrals = deferrals,
                            .updated = updated};

    assert_int_equal(store_update(f->st, key, set_rec, &rec, &f->err), STORE_WRITE);
}

/* test_get_update_roundtrip - absent, written, read back; the value is fbrecord's encoding */
static void test_get_update_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct fb_record in = {FB_LEVEL_VERIFIED, TLS_V_TLS13, 1700000000, 1700000100, 1700000200, 3,
                           1700000300,        1700000400,  1700000500};
    struct fb_record out;
    unsigned char want[FB_RECORD_SIZE];
    redisReply *r;

    assert_int_equal(store_get(f->st, "client_domain:a.example", &out, &f->err), 0);
    assert_int_equal(store_update(f->st, "client_domain:a.example", set_rec, &in, &f->err), STORE_WRITE);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_get(f->st, "client_domain:a.example", &out, &f->err), 1);
    /* Field by field: the struct's padding is not part of the record. */
    assert_int_equal(out.best_level, in.best_level);
    assert_int_equal(out.best_version, in.best_version);
    assert_int_equal(out.first_seen, in.first_seen);
    assert_int_equal(out.last_tls, in.last_tls);
    assert_int_equal(out.last_plain, in.last_plain);
    assert_int_equal(out.deferrals, in.deferrals);
    assert_int_equal(out.defer_start, in.defer_start);
    assert_int_equal(out.updated, in.updated);
    assert_int_equal(out.last_tls_failure, in.last_tls_failure);
    /* Same bytes as LMDB stores: both backends decide alike. */
    fb_record_encode(&in, want);
    r = raw(f, "GET t:client_domain:a.example");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, FB_RECORD_SIZE);
    assert_memory_equal(r->str, want, FB_RECORD_SIZE);
    freeReplyObject(r);
    assert_string_equal(store_backend(f->st), "redis");
}

/* test_ttl - writes carry the window as expiry once set; none before */
static void test_ttl(void **state)
{
    struct fixture *f = *state;
    redisReply *r;

    put(f, "k1", 10, 0);
    r = raw(f, "PTTL t:k1");
    assert_int_equal(r->integer, -1); /* no expiry until store_set_ttl() */
    freeReplyObject(r);
    store_set_ttl(f->st, 30 * 86400);
    put(f, "k1", 11, 0);
    r = raw(f, "PTTL t:k1");
    assert_true(r->integer > 30LL * 86400 * 1000 - 60000 && r->integer <= 30LL * 86400 * 1000);
    freeReplyObject(r);
}

/* test_keep_delete_bogus - KEEP writes nothing, DELETE removes, a bad action changes nothing */
static void test_keep_delete_bogus(void **state)
{
    struct fixture *f = *state;
    struct fb_record out;

    assert_int_equal(store_update(f->st, "k", keep, NULL, &f->err), STORE_KEEP);
    assert_int_equal(store_get(f->st, "k", &out, &f->err), 0);
    put(f, "k", 50, 2);
    assert_int_equal(store_update(f->st, "k", bogus, NULL, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "callback returned 7"));
    assert_int_equal(store_get(f->st, "k", &out, &f->err), 1);
    assert_int_equal(out.deferrals, 2);
    assert_int_equal(store_update(f->st, "k", del, NULL, &f->err), STORE_DELETE);
    assert_int_equal(store_get(f->st, "k", &out, &f->err), 0);
    assert_int_equal(store_update(f->st, "k", del, NULL, &f->err), STORE_DELETE); /* absent: fine */
}

struct meddle {
    struct fixture *f;
    int calls;
};

/* meddle_cb - callback that, on its first run, has another client change
   the key (the compare-and-set must then fail and the callback run again on the new value) */
static int meddle_cb(struct fb_record *rec, bool found, void *arg)
{
    struct meddle *m = arg;
    struct fb_record other = {.deferrals = 40, .updated = 5};
    unsigned char buf[FB_RECORD_SIZE];

    if (m->calls++ == 0) {
        assert_false(found);
        fb_record_encode(&other, buf);
        raw_do(m->f, "SET t:race %b", buf, sizeof(buf));
    } else {
        assert_true(found);
        assert_int_equal(rec->deferrals, 40);
    }
    rec->deferrals++;
    rec->updated = 6;
    return STORE_WRITE;
}

/* test_conflict_retry - a concurrent write makes the compare-and-set fail; the callback reruns on the new value */
static void test_conflict_retry(void **state)
{
    struct fixture *f = *state;
    struct meddle m = {f, 0};
    struct fb_record out;

    assert_int_equal(store_update(f->st, "race", meddle_cb, &m, &f->err), STORE_WRITE);
    assert_int_equal(m.calls, 2);
    assert_int_equal(store_get(f->st, "race", &out, &f->err), 1);
    assert_int_equal(out.deferrals, 41); /* not 1: the other write was not lost */
}

#define THREADS 8
#define ROUNDS  40

/* incr - callback: one more deferral */
static int incr(struct fb_record *rec, bool found, void *arg)
{
    (void) found, (void) arg;
    rec->deferrals++;
    rec->updated = 100;
    return STORE_WRITE;
}

/* hammer - ROUNDS increments of one key */
static void *hammer(void *arg)
{
    struct store *st = arg;
    struct tp_error err;
    intptr_t failed = 0;

    for (int i = 0; i < ROUNDS; i++)
        if (store_update(st, "shared", incr, NULL, &err) != STORE_WRITE) {
            fprintf(stderr, "update: %s\n", err.msg);
            failed++;
        }
    return (void *) failed;
}

/* test_threads - concurrent increments from many threads, through two
   handles as two MX hosts would, lose none */
static void test_threads(void **state)
{
    struct fixture *f = *state;
    const char *servers[] = {server, NULL};
    struct store *other = open_with(servers, "t:", NULL, 0, &f->err);
    pthread_t t[THREADS];
    struct fb_record out;
    intptr_t failures = 0;
    void *failed;

    assert_non_null(other);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, i % 2 ? other : f->st), 0);
    /* All joined before any assertion: teardown closes the store they use. */
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], &failed);
        failures += (intptr_t) failed;
    }
    store_close(other);
    assert_int_equal(failures, 0);
    assert_int_equal(store_get(f->st, "shared", &out, &f->err), 1);
    assert_int_equal(out.deferrals, THREADS * ROUNDS);
}

/* test_damaged - an unreadable value: an error to get, absent (with a warning) to update */
static void test_damaged(void **state)
{
    struct fixture *f = *state;
    struct fb_record out, in = {.deferrals = 1, .updated = 9};

    raw_do(f, "SET t:bad garbage");
    raw_do(f, "SET t:bad2 garbage");
    raw_do(f, "HSET t:hash a b"); /* not a string at all */
    assert_int_equal(store_get(f->st, "bad", &out, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "unreadable"));
    assert_int_equal(store_get(f->st, "hash", &out, &f->err), -1);
    assert_int_equal(store_update(f->st, "bad", set_rec, &in, &f->err), STORE_WRITE);
    assert_non_null(strstr(f->err.msg, "ignored record \"bad\""));
    assert_int_equal(store_get(f->st, "bad", &out, &f->err), 1);
    assert_int_equal(out.deferrals, 1);
    assert_int_equal(store_get(f->st, "bad2", &out, &f->err), -1); /* still there, still an error */
}

/* count - walk callback */
static int count(const char *key, const struct fb_record *rec, void *arg)
{
    (void) key, (void) rec;
    ++*(int *) arg;
    return 0;
}

/* test_damaged_walk_expire - the walk skips unreadable values with a warning; expiry removes them */
static void test_damaged_walk_expire(void **state)
{
    struct fixture *f = *state;
    struct fb_record out;
    size_t removed = 0;
    int visits = 0;
    redisReply *r;

    put(f, "good", 1000, 0);
    raw_do(f, "SET t:bad garbage");
    assert_int_equal(store_walk(f->st, count, &visits, &f->err), 0);
    assert_int_equal(visits, 1);
    assert_non_null(strstr(f->err.msg, "1 unreadable record(s)"));
    assert_int_equal(store_expire(f->st, 500, &removed, &f->err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(store_get(f->st, "good", &out, &f->err), 1);
    r = raw(f, "EXISTS t:bad");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
}

struct seen {
    char keys[16][64];
    int n, stop_at;
};

/* collect - walk callback: the keys in order; stops after stop_at */
static int collect(const char *key, const struct fb_record *rec, void *arg)
{
    struct seen *s = arg;

    (void) rec;
    snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%s", key);
    return s->n == s->stop_at;
}

/* test_walk_order_prefix - key order, only our prefix (taken literally), stop early */
static void test_walk_order_prefix(void **state)
{
    struct fixture *f = *state;
    const char *servers[] = {server, NULL};
    struct store *glob = open_with(servers, "g*[p]:", NULL, 0, &f->err);
    struct fb_record rec = {.updated = 1};
    struct seen s = {.stop_at = 0};
    unsigned char buf[FB_RECORD_SIZE];

    put(f, "b", 1, 0);
    put(f, "c", 1, 0);
    put(f, "a", 1, 0);
    fb_record_encode(&rec, buf);
    raw_do(f, "SET other:z %b", buf, sizeof(buf));
    assert_int_equal(store_walk(f->st, collect, &s, &f->err), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "a");
    assert_string_equal(s.keys[1], "b");
    assert_string_equal(s.keys[2], "c");
    s = (struct seen){.stop_at = 2};
    assert_int_equal(store_walk(f->st, collect, &s, &f->err), 1);
    assert_int_equal(s.n, 2);
    /* "g*[p]:" as a glob would match "gXp:x"; as a prefix it must not. */
    assert_non_null(glob);
    raw_do(f, "SET gXp:x %b", buf, sizeof(buf));
    assert_int_equal(store_update(glob, "mine", set_rec, &rec, &f->err), STORE_WRITE);
    s = (struct seen){.stop_at = 0};
    assert_int_equal(store_walk(glob, collect, &s, &f->err), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.keys[0], "mine");
    store_close(glob);
}

/* test_walk_many - more keys than one SCAN step or MGET batch */
static void test_walk_many(void **state)
{
    struct fixture *f = *state;
    char key[32];
    size_t removed = 0;
    int visits = 0;

    for (int i = 0; i < 1500; i++) {
        snprintf(key, sizeof(key), "client_addr:10.0.%d.%d", i / 256, i % 256);
        put(f, key, i % 2 ? 2000 : 100, 0);
    }
    assert_int_equal(store_walk(f->st, count, &visits, &f->err), 0);
    assert_int_equal(visits, 1500);
    assert_int_equal(store_expire(f->st, 1000, &removed, &f->err), 0);
    assert_int_equal(removed, 750);
    visits = 0;
    assert_int_equal(store_walk(f->st, count, &visits, &f->err), 0);
    assert_int_equal(visits, 750);
}

/* test_no_hourly_purge - the fallback rules leave expiry to Redis (the key's TTL) */
static void test_no_hourly_purge(void **state)
{
    struct fixture *f = *state;
    static struct policy_set ps; /* only the fallback rules are read */
    struct fb_record out;
    size_t removed = 0;

    ps.fallback.enabled = true;
    ps.fallback.window = 100;
    assert_true(store_expires_itself(f->st));
    put(f, "old", 1, 0);
    fallback_expire(f->st, &ps, 100000, &f->err);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_get(f->st, "old", &out, &f->err), 1);
    /* store_expire itself still works, for whoever calls it. */
    assert_int_equal(store_expire(f->st, 100000 - 100, &removed, &f->err), 0);
    assert_int_equal(removed, 1);
}

/* test_forget - 1 removed, 0 absent; then nothing left to walk or expire */
static void test_forget(void **state)
{
    struct fixture *f = *state;
    size_t removed = 0;
    int visits = 0;

    put(f, "x", 1, 0);
    assert_int_equal(store_forget(f->st, "x", &f->err), 1);
    assert_int_equal(store_forget(f->st, "x", &f->err), 0);
    assert_int_equal(store_walk(f->st, count, &visits, &f->err), 0);
    assert_int_equal(visits, 0);
    assert_int_equal(store_expire(f->st, INT64_MAX, &removed, &f->err), 0);
    assert_int_equal(removed, 0);
}

/* test_unix_db - a unix socket, another database */
static void test_unix_db(void **state)
{
    struct fixture *f = *state;
    char spec[300];
    const char *servers[] = {spec, NULL};
    struct store *st;
    redisReply *r;

    snprintf(spec, sizeof(spec), "unix:%s", sock);
    st = open_with(servers, "u:", NULL, 3, &f->err);
    assert_non_null(st);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_update(st, "k", incr, NULL, &f->err), STORE_WRITE);
    store_close(st);
    raw_do(f, "SELECT 3");
    r = raw(f, "EXISTS u:k");
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    raw_do(f, "SELECT 0");
}

/* test_password - AUTH with the password; without it, an error naming Redis's answer */
static void test_password(void **state)
{
    struct fixture *f = *state;
    const char *servers[] = {server, NULL};
    struct fb_record out;
    struct store *st;

    raw_do(f, "CONFIG SET requirepass s3cret");
    raw_do(f, "AUTH s3cret");
    st = open_with(servers, "p:", "s3cret", 0, &f->err);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_get(st, "k", &out, &f->err), 0);
    store_close(st);
    st = open_with(servers, "p:", NULL, 0, &f->err);
    assert_non_null(st);
    assert_non_null(strstr(f->err.msg, "NOAUTH"));
    store_close(st);
    raw_do(f, "CONFIG SET requirepass %s", "");
}

/* ms_since - milliseconds since t0 */
static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* test_down_backoff - a dead server: open warns, operations fail, fast, then fail at once */
static void test_down_backoff(void **state)
{
    struct fixture *f = *state;
    const char *servers[] = {dead, NULL};
    struct fb_record out;
    struct timespec t0;
    struct store *st;

    st = open_with(servers, "d:", NULL, 0, &f->err);
    assert_non_null(st);
    assert_non_null(strstr(f->err.msg, "cannot connect"));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_get(st, "k", &out, &f->err), -1);
    assert_non_null(strstr(f->err.msg, "every server failed"));
    assert_true(ms_since(&t0) < 100);
    store_close(st);
}

/* test_next_server - the first server dead, the second used */
static void test_next_server(void **state)
{
    struct fixture *f = *state;
    const char *servers[] = {dead, server, NULL};
    struct store *st;

    st = open_with(servers, "n:", NULL, 0, &f->err);
    assert_non_null(st);
    assert_int_equal(store_update(st, "k", incr, NULL, &f->err), STORE_WRITE);
    assert_int_equal(store_update(st, "k", incr, NULL, &f->err), STORE_WRITE);
    store_close(st);
}

/* test_restart_pool - pooled connections closed by the server are replaced without an error */
static void test_restart_pool(void **state)
{
    struct fixture *f = *state;
    struct fb_record out;

    put(f, "k", 1, 0);
    raw_do(f, "CLIENT KILL TYPE normal SKIPME yes");
    assert_int_equal(store_get(f->st, "k", &out, &f->err), 1);
    assert_string_equal(f->err.msg, "");
}

/* wait_role - until the server at port reports role (replication set up) */
static void wait_role(redisContext *c, const char *role)
{
    for (int i = 0; i < 100; i++) {
        redisReply *r = redisCommand(c, "ROLE");
        bool ok = r && r->type == REDIS_REPLY_ARRAY && strcmp(r->element[0]->str, role) == 0;

        freeReplyObject(r);
        if (ok)
            return;
        usleep(50000);
    }
    fail_msg("server never became %s", role);
}

/* test_replica_demotion - a replica listed first is passed over; a primary
   demoted under us (READONLY) is dropped and the next server used */
static void test_replica_demotion(void **state)
{
    struct fixture *f = *state;
    const char *servers[] = {server2, server, NULL};
    const char *port = strchr(server, ':') + 1, *port2 = strchr(server2, ':') + 1;
    redisContext *b = redisConnect("127.0.0.1", atoi(port2));
    struct fb_record out;
    struct store *st;
    redisReply *r;
    int rc;

    assert_true(b && !b->err);
    freeReplyObject(redisCommand(b, "REPLICAOF 127.0.0.1 %s", port));
    wait_role(b, "slave");
    st = open_with(servers, "r:", NULL, 0, &f->err);
    assert_non_null(st);
    /* B passed over, A used: an open that found a primary warns of nothing. */
    assert_string_equal(f->err.msg, "");
    assert_int_equal(store_update(st, "k", incr, NULL, &f->err), STORE_WRITE);
    usleep(1100 * 1000); /* B's back-off (it was a replica) runs out */
    /* Fail over: B becomes the primary, A its replica. */
    freeReplyObject(redisCommand(b, "REPLICAOF NO ONE"));
    wait_role(b, "master");
    raw_do(f, "REPLICAOF 127.0.0.1 %s", port2);
    wait_role(f->raw, "slave");
    /* The pooled connection to A answers READONLY (or was closed): at most this one fails. */
    rc = store_update(st, "k", incr, NULL, &f->err);
    assert_true(rc == STORE_WRITE || (rc == -1 && strstr(f->err.msg, "READONLY") != NULL));
    assert_int_equal(store_update(st, "k2", incr, NULL, &f->err), STORE_WRITE);
    r = redisCommand(b, "EXISTS r:k2");
    assert_int_equal(r->integer, 1); /* written on the new primary */
    freeReplyObject(r);
    assert_int_equal(store_get(st, "k2", &out, &f->err), 1);
    store_close(st);
    raw_do(f, "REPLICAOF NO ONE");
    wait_role(f->raw, "master");
    redisFree(b);
}

/* test_bad_options - no server, an unparsable one */
static void test_bad_options(void **state)
{
    struct fixture *f = *state;
    const char *none[] = {NULL}, *bad[] = {"nohostport", NULL};

    assert_null(open_with(none, "x:", NULL, 0, &f->err));
    assert_null(open_with(bad, "x:", NULL, 0, &f->err));
    assert_non_null(strstr(f->err.msg, "invalid server"));
    assert_null(open_sentinels(bad, "tp", &f->err));
    assert_non_null(strstr(f->err.msg, "invalid sentinel"));
    assert_null(open_sentinels(bad + 1, "tp", &f->err));                               /* no sentinel */
    assert_null(open_sentinels((const char *[]){"127.0.0.1:1", NULL}, NULL, &f->err)); /* no name */
    assert_non_null(strstr(f->err.msg, "master_name"));
}

/* vanish_cb - callback that, on its first run, has another client delete
   the key (the compare-and-set then reports it absent) */
static int vanish_cb(struct fb_record *rec, bool found, void *arg)
{
    struct meddle *m = arg;

    if (m->calls++ == 0) {
        assert_true(found);
        raw_do(m->f, "DEL t:gone");
    } else {
        assert_false(found);
    }
    rec->deferrals++;
    rec->updated = 7;
    return STORE_WRITE;
}

/* spoil_cb - callback that, on its first run, has another client plant
   an unreadable value: store_update_readable must then leave it */
static int spoil_cb(struct fb_record *rec, bool found, void *arg)
{
    struct meddle *m = arg;

    (void) found;
    m->calls++;
    raw_do(m->f, "SET t:spoilt garbage");
    rec->updated = 8;
    return STORE_WRITE;
}

/* test_conflict_variants - the key deleted, or made unreadable, between the read and the write */
static void test_conflict_variants(void **state)
{
    struct fixture *f = *state;
    struct meddle m = {f, 0};
    struct fb_record out;
    redisReply *r;

    put(f, "gone", 5, 10);
    assert_int_equal(store_update(f->st, "gone", vanish_cb, &m, &f->err), STORE_WRITE);
    assert_int_equal(m.calls, 2);
    assert_int_equal(store_get(f->st, "gone", &out, &f->err), 1);
    assert_int_equal(out.deferrals, 1); /* counted on the absent record, not on the deleted one */
    put(f, "spoilt", 5, 10);
    m.calls = 0;
    assert_int_equal(store_update_readable(f->st, "spoilt", spoil_cb, &m, &f->err), -1);
    assert_int_equal(m.calls, 1); /* not called on what it cannot read */
    assert_non_null(strstr(f->err.msg, "record \"spoilt\" is unreadable"));
    r = raw(f, "GET t:spoilt");
    assert_string_equal(r->str, "garbage");
    freeReplyObject(r);
    /* store_update takes it as absent (with a warning) and may overwrite it. */
    raw_do(f, "HSET t:hash a b");
    assert_int_equal(store_update_readable(f->st, "hash", incr, NULL, &f->err), -1);
    assert_int_equal(store_update(f->st, "hash", incr, NULL, &f->err), STORE_WRITE);
    assert_non_null(strstr(f->err.msg, "ignored record \"hash\""));
    assert_int_equal(store_get(f->st, "hash", &out, &f->err), 1);
    assert_int_equal(out.deferrals, 1);
}

/* calls - how often the server ran a command since CONFIG RESETSTAT */
static long calls(struct fixture *f, const char *cmd)
{
    redisReply *r = raw(f, "INFO commandstats");
    char pat[64];
    const char *p;
    long n = 0;

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", cmd);
    if ((p = strstr(r->str, pat)) != NULL)
        n = atol(p + strlen(pat));
    freeReplyObject(r);
    return n;
}

/* test_noscript - after SCRIPT FLUSH (a restart, a failover) the scripts are sent once in full */
static void test_noscript(void **state)
{
    struct fixture *f = *state;
    struct fb_record out;
    size_t removed = 0;

    put(f, "k", 10, 0); /* the script is cached from here on */
    raw_do(f, "SCRIPT FLUSH");
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(store_update(f->st, "k", incr, NULL, &f->err), STORE_WRITE);
    assert_string_equal(f->err.msg, "");
    assert_int_equal(calls(f, "evalsha"), 1); /* NOSCRIPT */
    assert_int_equal(calls(f, "eval"), 1);    /* the body, cached again */
    assert_int_equal(store_update(f->st, "k", incr, NULL, &f->err), STORE_WRITE);
    assert_int_equal(calls(f, "evalsha"), 2);
    assert_int_equal(calls(f, "eval"), 1);
    assert_int_equal(store_get(f->st, "k", &out, &f->err), 1);
    assert_int_equal(out.deferrals, 2);
    /* The compare-and-delete of expiry likewise. */
    put(f, "old1", 10, 0);
    put(f, "old2", 10, 0);
    raw_do(f, "SCRIPT FLUSH");
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(store_expire(f->st, 1000, &removed, &f->err), 0);
    assert_int_equal(removed, 3);
    assert_int_equal(calls(f, "evalsha"), 3); /* one pipeline, all NOSCRIPT */
    assert_int_equal(calls(f, "eval"), 3);
    put(f, "old3", 10, 0);
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(store_expire(f->st, 1000, &removed, &f->err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(calls(f, "evalsha"), 1);
    assert_int_equal(calls(f, "eval"), 0);
}

/*
 * The fallback rules over Redis and over LMDB.
 */
#define T0     1700000000L
#define WINDOW (2 * 86400L)

/* fb_rules - a policy set with the fallback rules on, keyed by client address */
static void fb_rules(struct policy_set *ps)
{
    policy_set_init(ps);
    ps->dflt.name = strdup("default");
    ps->rcpt_map = domain_map_new(); /* empty, as a configuration without domains has */
    ps->sender_map = domain_map_new();
    ps->fallback.enabled = true;
    ps->fallback.key = FB_KEY_CLIENT_ADDR;
    ps->fallback.window = WINDOW;
    ps->fallback.defer_period = 6 * 3600L;
    ps->fallback.max_deferrals = 3;
    ps->exempt_authenticated = true;
}

enum kind { PLAIN, TLS12, TLS13, VERIFIED, AUTHED, NKINDS };

/* fb_session - the facts of one session of client addr */
static void fb_session(struct session_facts *s, const char *addr, enum kind k)
{
    session_facts_init(s);
    assert_int_equal(facts_set_client_addr(s, addr), 0);
    facts_set_sender(s, "<a@sender.example>");
    if (k == TLS12 || k == TLS13 || k == VERIFIED) {
        facts_set_tls_version(s, k == TLS12 ? "TLSv1.2" : "TLSv1.3");
        facts_set_cipher(s, "TLS_AES_256_GCM_SHA384");
        facts_set_cipher_bits(s, "256");
        facts_set_verify(s, k == VERIFIED ? "OK" : "NO");
    }
    if (k == AUTHED)
        facts_set_auth_type(s, "PLAIN");
}

/* decide - one recipient of session s through fallback_decide; its result */
static int decide(struct store *st, const struct policy_set *ps, const struct session_facts *s, long now,
                  struct fallback_session *fs, struct decision *d, struct tp_error *err)
{
    struct rcpt_facts r;
    int rc;

    rcpt_facts_init(&r);
    facts_set_rcpt(&r, "<u@ordinary.example>");
    rc = fallback_decide(st, ps, s, &r, now, fs, d, err);
    d->rcpt_domain = NULL; /* points into r */
    rcpt_facts_clear(&r);
    return rc;
}

/* test_round_trips - a decision that changes nothing is one GET; one that writes, GET and EVALSHA */
static void test_round_trips(void **state)
{
    struct fixture *f = *state;
    struct policy_set ps;
    struct session_facts s;
    struct fallback_session fs = {false};
    struct decision d;
    redisReply *r;

    fb_rules(&ps);
    store_set_ttl(f->st, ps.fallback.window);
    fb_session(&s, "192.0.2.1", PLAIN);
    assert_int_equal(decide(f->st, &ps, &s, T0, &fs, &d, &f->err), 0); /* connected, script cached */
    session_facts_clear(&s);
    fb_session(&s, "192.0.2.2", TLS13);
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(decide(f->st, &ps, &s, T0, &fs, &d, &f->err), 0); /* a new sender: written */
    assert_int_equal(d.reason, REASON_TLS_OK);
    /* Commands run inside the script count too: TYPE, then SET (no GET: the key was absent). */
    assert_int_equal(calls(f, "get"), 1);
    assert_int_equal(calls(f, "evalsha"), 1);
    assert_int_equal(calls(f, "type"), 1);
    assert_int_equal(calls(f, "set"), 1);
    assert_int_equal(calls(f, "eval") + calls(f, "watch") + calls(f, "multi") + calls(f, "exec"), 0);
    r = raw(f, "PTTL t:client_addr:192.0.2.2");
    assert_true(r->integer > (WINDOW - 60) * 1000 && r->integer <= WINDOW * 1000);
    freeReplyObject(r);
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(decide(f->st, &ps, &s, T0 + 1, &fs, &d, &f->err), 0); /* seen a second ago: kept */
    assert_int_equal(d.reason, REASON_TLS_OK);
    assert_int_equal(calls(f, "get"), 1);
    assert_int_equal(calls(f, "evalsha") + calls(f, "eval") + calls(f, "type"), 0);
    session_facts_clear(&s);
    /* Plaintext now: a downgrade, deferred and counted (written). */
    fb_session(&s, "192.0.2.2", PLAIN);
    fs.deferral_counted = false;
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(decide(f->st, &ps, &s, T0 + 2, &fs, &d, &f->err), 0);
    assert_int_equal(d.reason, REASON_DOWNGRADE);
    assert_int_equal(d.action, DECISION_TEMPFAIL);
    assert_int_equal(d.deferrals, 1);
    assert_int_equal(calls(f, "evalsha"), 1);
    assert_int_equal(calls(f, "type"), 1); /* the script ran once: no conflict */
    assert_int_equal(calls(f, "get"), 2);  /* the decision's, and the script's compare */
    assert_int_equal(calls(f, "eval") + calls(f, "watch") + calls(f, "multi") + calls(f, "exec"), 0);
    session_facts_clear(&s);
    policy_set_clear(&ps);
}

/* test_fallback_unreadable - an unreadable record: a state error, and it is left as it is */
static void test_fallback_unreadable(void **state)
{
    struct fixture *f = *state;
    struct policy_set ps;
    struct session_facts s;
    struct fallback_session fs = {false};
    struct decision d;
    redisReply *r;

    fb_rules(&ps);
    raw_do(f, "SET t:client_addr:192.0.2.9 garbage");
    fb_session(&s, "192.0.2.9", PLAIN); /* TLS would be accepted without the history */
    raw_do(f, "CONFIG RESETSTAT");
    assert_int_equal(decide(f->st, &ps, &s, T0, &fs, &d, &f->err), -1);
    assert_int_equal(d.reason, REASON_STATE_ERROR);
    assert_non_null(strstr(f->err.msg, "is unreadable"));
    assert_int_equal(calls(f, "evalsha") + calls(f, "eval") + calls(f, "set"), 0);
    r = raw(f, "GET t:client_addr:192.0.2.9");
    assert_string_equal(r->str, "garbage");
    freeReplyObject(r);
    session_facts_clear(&s);
    policy_set_clear(&ps);
}

struct rec_list {
    char keys[64][STORE_KEY_MAX + 1];
    unsigned char vals[64][FB_RECORD_SIZE];
    int n;
};

/* list_rec - walk callback: key and encoded record */
static int list_rec(const char *key, const struct fb_record *rec, void *arg)
{
    struct rec_list *l = arg;

    assert_true(l->n < 64);
    snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", key);
    fb_record_encode(rec, l->vals[l->n++]);
    return 0;
}

/* open_lmdb - an LMDB store in a new directory under $TMPDIR (path in dir) */
static struct store *open_lmdb(char *dir, size_t len, struct tp_error *err)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, len, "%s/test_store_redis.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    return store_open_lmdb(dir, 0, STORE_DAMAGE_REFUSE, err);
}

/* remove_lmdb - the store's files and directory */
static void remove_lmdb(const char *dir)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

#define DIFF_SESSIONS 600
#define DIFF_SENDERS  5

/* same_decision - the fields a record and the MTA see */
static void same_decision(const struct decision *a, const struct decision *b, int i)
{
    if (a->action != b->action || a->would != b->would || a->reason != b->reason ||
        a->deferrals != b->deferrals || strcmp(a->fallback_key, b->fallback_key) != 0 ||
        strcmp(a->rcode, b->rcode) != 0 || strcmp(a->xcode, b->xcode) != 0 || strcmp(a->text, b->text) != 0)
        fail_msg("session %d: lmdb %d/%d/%d/%d, redis %d/%d/%d/%d (action/would/reason/deferrals)", i,
                 a->action, a->would, a->reason, a->deferrals, b->action, b->would, b->reason, b->deferrals);
}

/* test_differential - one random run of sessions through fallback_decide on
   LMDB and on Redis: the same decisions, the same records */
static void test_differential(void **state)
{
    /* Mostly seconds to an hour: the refresh interval, deferrals within
       defer_period; now and then defer_period over, or the window. */
    static const long steps[] = {0, 1, 30, 59, 61, 120, 300, 600, 1800, 3600};
    struct fixture *f = *state;
    struct store *lm;
    struct policy_set ps;
    struct rec_list *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    char dir[PATH_MAX], addr[32];
    const char *env = getenv("TP_DIFF_SEED"); /* another run: TP_DIFF_SEED=N */
    unsigned seed = env ? (unsigned) strtoul(env, NULL, 10) : 19;
    int reasons[REASON_STATE_ERROR + 1] = {0};
    long now = T0;

    assert_non_null(a);
    assert_non_null(b);
    lm = open_lmdb(dir, sizeof(dir), &f->err);
    assert_non_null(lm);
    fb_rules(&ps);
    store_set_ttl(f->st, ps.fallback.window);
    print_message("seed %u\n", seed);
    for (int i = 0; i < DIFF_SESSIONS; i++) {
        struct fallback_session fa = {false}, fb = {false};
        struct session_facts s;
        enum kind k = (enum kind)(rand_r(&seed) % 10);
        int nrcpt = 1 + (int) (rand_r(&seed) % 3);

        /* Plaintext half of the time: downgrades and deferrals. */
        k = k >= 5 ? PLAIN : k == 4 ? AUTHED : k;
        if (k == PLAIN && rand_r(&seed) % 3 == 0)
            ps.fallback.then = rand_r(&seed) % 2 ? FB_THEN_REJECT : FB_THEN_ACCEPT;
        now += steps[rand_r(&seed) % (sizeof(steps) / sizeof(steps[0]))];
        now += rand_r(&seed) % 20 == 0 ? 7 * 3600 : rand_r(&seed) % 60 == 0 ? 3 * 86400 : 0;
        snprintf(addr, sizeof(addr), "192.0.2.%u", 10 + rand_r(&seed) % DIFF_SENDERS);
        fb_session(&s, addr, k);
        for (int j = 0; j < nrcpt; j++) {
            struct decision da, db;

            assert_int_equal(decide(lm, &ps, &s, now, &fa, &da, &f->err), 0);
            assert_int_equal(decide(f->st, &ps, &s, now, &fb, &db, &f->err), 0);
            same_decision(&da, &db, i);
            assert_int_equal(fa.deferral_counted, fb.deferral_counted);
            reasons[da.reason]++;
        }
        if (k == PLAIN && rand_r(&seed) % 8 == 0) {
            assert_int_equal(fallback_note_tls_failure(lm, &ps, &s, now, &f->err), 0);
            assert_int_equal(fallback_note_tls_failure(f->st, &ps, &s, now, &f->err), 0);
        }
        session_facts_clear(&s);
    }
    print_message(
        "reasons: tls_ok %d, plaintext_allowed %d, downgrade %d, downgrade_accepted %d, exempt %d\n",
        reasons[REASON_TLS_OK], reasons[REASON_PLAINTEXT_ALLOWED], reasons[REASON_DOWNGRADE],
        reasons[REASON_DOWNGRADE_ACCEPTED], reasons[REASON_EXEMPT]);
    /* The run went through every kind of decision of the fallback rules. */
    assert_true(reasons[REASON_TLS_OK] > 0 && reasons[REASON_PLAINTEXT_ALLOWED] > 0);
    assert_true(reasons[REASON_DOWNGRADE] > 0 && reasons[REASON_DOWNGRADE_ACCEPTED] > 0);
    assert_true(reasons[REASON_EXEMPT] > 0);
    assert_int_equal(store_walk(lm, list_rec, a, &f->err), 0);
    assert_int_equal(store_walk(f->st, list_rec, b, &f->err), 0);
    assert_int_equal(a->n, DIFF_SENDERS);
    assert_int_equal(b->n, a->n);
    for (int i = 0; i < a->n; i++) {
        assert_string_equal(a->keys[i], b->keys[i]);
        assert_memory_equal(a->vals[i], b->vals[i], FB_RECORD_SIZE);
    }
    store_close(lm);
    remove_lmdb(dir);
    policy_set_clear(&ps);
    free(a);
    free(b);
}

int main(void)
{
    const char *port = getenv("TP_REDIS_PORT"), *path = getenv("TP_REDIS_SOCK"),
               *dport = getenv("TP_DEAD_PORT"), *port2 = getenv("TP_REDIS_PORT2");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_update_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_delete_bogus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noscript, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fallback_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_walk_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_order_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_hourly_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replica_demotion, setup, teardown),
    };

    if (port == NULL || path == NULL || dport == NULL || port2 == NULL) {
        fprintf(stderr,
                "test_store_redis: run by tests/integration/test_store_redis.sh (TP_REDIS_PORT unset)\n");
        return 1;
    }
    snprintf(server, sizeof(server), "127.0.0.1:%s", port);
    snprintf(sock, sizeof(sock), "%s", path);
    snprintf(dead, sizeof(dead), "127.0.0.1:%s", dport);
    snprintf(server2, sizeof(server2), "127.0.0.1:%s", port2);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
