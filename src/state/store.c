/*++
 * NAME
 *	store 3
 * SUMMARY
 *	state store: argument checks and backend dispatch
 * SYNOPSIS
 *	#include "state/store.h"
 *
 *	int	store_get(st, key, out, err)
 *	int	store_update(st, key, fn, arg, err)
 *	int	store_update_readable(st, key, fn, arg, err)
 *	bool	store_update_reads_once(st)
 *	int	store_expire(st, cutoff, removed, err)
 *	int	store_walk(st, fn, arg, err)
 *	int	store_forget(st, key, err)
 *	void	store_set_ttl(st, ttl)
 *	bool	store_expires_itself(st)
 *	const char *store_backend(st)
 *	void	store_close(st)
 * DESCRIPTION
 *	The checks every backend would otherwise repeat: the key's length,
 *	and clearing err so that a warning left by a successful call is
 *	never one from an earlier call. The backends (store_lmdb.c,
 *	store_redis.c) do the work behind struct store_ops.
 * DIAGNOSTICS
 *	An empty key or one longer than STORE_KEY_MAX is an error (-1).
 *--*/

/* System library. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Application. */
#include "state/store.h"
#include "util/histogram.h"

/*
 * Live figures for the metrics page, per backend and operation, for the
 * life of the process (a reload may open another store; the counts go on).
 */
enum { BK_LMDB, BK_REDIS, BK_COUNT };
enum { OP_GET, OP_UPDATE, OP_EXPIRE, OP_WALK, OP_FORGET, OP_COUNT };
static const char *const bk_names[BK_COUNT] = {"lmdb", "redis"};
static const char *const op_names[OP_COUNT] = {"get", "update", "expire", "walk", "forget"};
static struct histogram op_time[BK_COUNT][OP_COUNT];
static _Atomic uint64_t op_errors[BK_COUNT];

/* backend_of - the index of st's backend */
static int backend_of(const struct store *st)
{
    return strcmp(st->ops->name, "redis") == 0 ? BK_REDIS : BK_LMDB;
}

/* timed - note how long op took since t0 and whether it failed; rc */
static int timed(const struct store *st, int op, uint64_t t0, int rc)
{
    int bk = backend_of(st);

    histogram_observe(&op_time[bk][op], histogram_now_ns() - t0);
    if (rc < 0)
        atomic_fetch_add_explicit(&op_errors[bk], 1, memory_order_relaxed);
    return rc;
}

/* clear - no message yet */
static void clear(struct tp_error *err)
{
    err->file[0] = 0;
    err->line = 0;
    err->msg[0] = 0;
}

/* check_key - length of a valid key, or 0 with err set */
static size_t check_key(const char *key, struct tp_error *err)
{
    size_t len = key ? strnlen(key, STORE_KEY_MAX + 1) : 0;

    if (len == 0 || len > STORE_KEY_MAX) {
        tp_error_set(err, NULL, 0, "state store: key is empty or longer than %d bytes", STORE_KEY_MAX);
        return 0;
    }
    return len;
}

/* store_get - read one record */
int store_get(struct store *st, const char *key, struct fb_record *out, struct tp_error *err)
{
    size_t klen;

    clear(err);
    memset(out, 0, sizeof(*out));
    if ((klen = check_key(key, err)) == 0)
        return -1;
    return timed(st, OP_GET, histogram_now_ns(), st->ops->get(st, key, klen, out, err));
}

/* store_update - atomic read-modify-write of one record */
int store_update(struct store *st, const char *key, store_update_fn fn, void *arg, struct tp_error *err)
{
    size_t klen;

    clear(err);
    if ((klen = check_key(key, err)) == 0)
        return -1;
    return timed(st, OP_UPDATE, histogram_now_ns(), st->ops->update(st, key, klen, fn, arg, false, err));
}

/* store_update_readable - the same, never over a value it cannot decode */
int store_update_readable(struct store *st, const char *key, store_update_fn fn, void *arg,
                          struct tp_error *err)
{
    size_t klen;

    clear(err);
    if ((klen = check_key(key, err)) == 0)
        return -1;
    return timed(st, OP_UPDATE, histogram_now_ns(), st->ops->update(st, key, klen, fn, arg, true, err));
}

/* store_update_reads_once - an update that changes nothing costs one read */
bool store_update_reads_once(const struct store *st)
{
    return st->ops->update_reads_once;
}

/* store_expire - delete old and unreadable records */
int store_expire(struct store *st, int64_t cutoff, size_t *removed, struct tp_error *err)
{
    size_t dummy;

    clear(err);
    if (removed == NULL)
        removed = &dummy;
    *removed = 0;
    return timed(st, OP_EXPIRE, histogram_now_ns(), st->ops->expire(st, cutoff, removed, err));
}

/* store_walk - visit every readable record */
int store_walk(struct store *st, store_walk_fn fn, void *arg, struct tp_error *err)
{
    clear(err);
    return timed(st, OP_WALK, histogram_now_ns(), st->ops->walk(st, fn, arg, err));
}

/* store_forget - delete one record */
int store_forget(struct store *st, const char *key, struct tp_error *err)
{
    size_t klen;

    clear(err);
    if ((klen = check_key(key, err)) == 0)
        return -1;
    return timed(st, OP_FORGET, histogram_now_ns(), st->ops->forget(st, key, klen, err));
}

/* store_set_ttl - expiry of records written from now on, where the backend has its own */
void store_set_ttl(struct store *st, int64_t ttl)
{
    if (st->ops->set_ttl)
        st->ops->set_ttl(st, ttl);
}

/* store_expires_itself - a backend with expiry of its own (set_ttl) */
bool store_expires_itself(const struct store *st)
{
    return st->ops->set_ttl != NULL;
}

/* store_backend - the backend's name */
const char *store_backend(const struct store *st)
{
    return st->ops->name;
}

/* store_close - release the backend */
void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

/* store_stats_render - operation durations and errors in the Prometheus text format */
void store_stats_render(struct strbuf *out)
{
    char labels[64];

    strbuf_puts(out,
                "# HELP tlspolicyd_state_operation_duration_seconds Time one state store operation took.\n"
                "# TYPE tlspolicyd_state_operation_duration_seconds histogram\n");
    for (int bk = 0; bk < BK_COUNT; bk++)
        for (int op = 0; op < OP_COUNT; op++) {
            snprintf(labels, sizeof(labels), "backend=\"%s\",op=\"%s\"", bk_names[bk], op_names[op]);
            histogram_render(&op_time[bk][op], "tlspolicyd_state_operation_duration_seconds", labels, out);
        }
    strbuf_puts(out, "# HELP tlspolicyd_state_errors_total State store operations that failed.\n"
                     "# TYPE tlspolicyd_state_errors_total counter\n");
    for (int bk = 0; bk < BK_COUNT; bk++)
        strbuf_printf(out, "tlspolicyd_state_errors_total{backend=\"%s\"} %" PRIu64 "\n", bk_names[bk],
                      atomic_load_explicit(&op_errors[bk], memory_order_relaxed));
}
