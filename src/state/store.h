/*++
 * NAME
 *	store 3h
 * SUMMARY
 *	state store for the fallback rules: key -> struct fb_record
 * DESCRIPTION
 *	A key is an opaque string of 1..STORE_KEY_MAX bytes that the caller
 *	builds ("client_domain:partner.example", "client_net:192.0.2.0/24").
 *	The value is a struct fb_record (fbrecord.h). The store never reads
 *	the clock: every time it compares comes from the caller.
 *
 *	Errors are values. Every function clears err on entry. A function
 *	that fails returns -1 (NULL for open) with err->msg set. A stored
 *	value that cannot be decoded (unknown format, wrong length) is an
 *	error to store_get(): reading it as absent would present a sender
 *	with a TLS history as a new one. The other functions treat it as
 *	absent and succeed with a warning left in err->msg, which the caller
 *	should log: store_update() may overwrite it, store_walk() skips it,
 *	store_expire() removes it. store_update_readable() refuses it as
 *	store_get() does.
 *
 *	All functions are safe to call from many threads at once on one
 *	struct store. Callbacks run outside any lock of the store, except
 *	store_update()'s, which runs inside the write transaction: it must
 *	not call the store, and it must compute the new record from rec and
 *	arg alone, because it runs again if the transaction must be retried
 *	(LMDB: after the store grew its file; Redis: when another client
 *	changed the record between the read and the compare-and-set).
 *	Exactly one run's result is applied: the last one's.
 *
 *	Open the store after fork() and daemon(): a backend's handle (an
 *	LMDB memory map and lock file, a Redis connection) does not survive
 *	into a child process.
 * LAYER
 *	src/state/ is the learned state: this interface, its backends
 *	(store_lmdb.c, store_redis.c: siblings behind this file), the stored
 *	record's encoding (fbrecord), the key a sender is remembered by
 *	(fbkey) and the opportunistic-fallback rules (fallback). It sits on
 *	config/, core/, tls/ and util/; the session service above calls it.
 *--*/
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/fbrecord.h"
#include "util/strbuf.h"
#include "util/tp_error.h"

#define STORE_KEY_MAX 255

/* What a store_update() callback tells the store to do with the record. */
enum store_action {
    STORE_KEEP = 0,   /* leave the stored record (or its absence) unchanged */
    STORE_WRITE = 1,  /* write *rec */
    STORE_DELETE = 2, /* delete the record */
};

typedef int (*store_update_fn)(struct fb_record *rec, bool found, void *arg);
typedef int (*store_walk_fn)(const char *key, const struct fb_record *rec, void *arg);

struct store;

/* What store_open_lmdb() does with a damaged store (state.on_damage). */
enum store_on_damage {
    STORE_DAMAGE_RESET = 0, /* move the files aside, start empty, say so */
    STORE_DAMAGE_REFUSE,    /* fail: the administrator decides */
};

/*
 * store_open_lmdb - the embedded backend: an LMDB environment in dir
 * (created, mode 0700, if missing; files data.mdb and lock.mdb). map_size
 * is the initial map in bytes, 0 for the default; the map grows by
 * doubling when full, so a small value only costs a few resizes.
 * Never open one directory twice in a process (on reload, keep the
 * handle while the path is unchanged): LMDB's fcntl() locks are per
 * process, and closing either handle would drop the other's.
 *
 * An existing data.mdb is checked first (lmdb_check.h), without risk to
 * this process. A damaged one (0 bytes included) fails the open under
 * STORE_DAMAGE_REFUSE; under STORE_DAMAGE_RESET its files are renamed to
 * *.damaged-TIMESTAMP, a new store is created, and the open succeeds
 * with a notice in err->msg that the caller must log as an error. A
 * success may also leave a warning there (the check ran out of time).
 */
struct store *store_open_lmdb(const char *dir, size_t map_size, enum store_on_damage, struct tp_error *err);

/*
 * store_fault_dir - the directory of the open LMDB store whose memory map
 * holds addr, or NULL. Async-signal-safe (atomic loads only): for a
 * SIGBUS handler, since a store file truncated under a running process
 * faults on the next access to a page past its end.
 */
const char *store_fault_dir(const void *addr);

/* What store_open_redis() connects to (config's state group). */
struct store_redis_opts {
    const char *const *servers;   /* "HOST:PORT", "[V6]:PORT", "unix:PATH"; NULL-terminated, tried in order */
    const char *const *sentinels; /* instead of servers: Redis Sentinels, same forms, asked in order */
    const char *master_name;      /* with sentinels: the name they know the primary by */
    const char *prefix;           /* prepended to every key */
    const char *password;         /* AUTH, or NULL */
    size_t password_len;
    int db;         /* SELECT */
    int timeout_ms; /* the longest one operation waits for Redis, connecting included */
};

/*
 * store_open_redis - the shared backend (store_redis.c). Fails only on
 * bad options or memory: a server that does not answer yet leaves a
 * warning in err->msg for the caller to log, and every operation then
 * fails (fast, within timeout_ms) until one answers. Keys never expire
 * until store_set_ttl() says otherwise.
 */
struct store *store_open_redis(const struct store_redis_opts *, struct tp_error *err);

/*
 * store_set_ttl - records written from now on expire ttl seconds after
 * the write (0: never). Where the backend has expiry of its own (Redis),
 * the fallback window is passed here, so that every host sharing the
 * store forgets an idle sender at once; elsewhere (LMDB) it does nothing
 * and store_expire() does the work. Safe while other threads use st.
 */
void store_set_ttl(struct store *, int64_t ttl);

/* store_expires_itself - true when records expire by the backend's own
   means (store_set_ttl): then no periodic store_expire() is needed */
bool store_expires_itself(const struct store *);

/* store_get - 1: found, *out filled; 0: absent (*out zeroed); -1: error or unreadable record */
int store_get(struct store *, const char *key, struct fb_record *out, struct tp_error *err);

/*
 * store_update - atomic read-modify-write of one record. fn receives the
 * stored record, or a zeroed one with found false, and returns an enum
 * store_action. Returns that action, or -1 on error (including fn
 * returning anything else: nothing is changed then).
 */
int store_update(struct store *, const char *key, store_update_fn fn, void *arg, struct tp_error *err);

/*
 * store_update_readable - store_update(), except that a stored value that
 * cannot be decoded is an error, as to store_get(): fn is not called,
 * nothing is written, -1 with the same message. For a caller that must
 * never replace a history it could not read (the fallback rules).
 */
int store_update_readable(struct store *, const char *key, store_update_fn fn, void *arg,
                          struct tp_error *err);

/*
 * store_update_reads_once - true when a store_update() whose fn returns
 * STORE_KEEP costs what a store_get() costs, so that reading first to
 * spare a write gains nothing. Redis: one GET either way (a write adds
 * one compare-and-set). LMDB: false, every update takes the one writer
 * lock, which a read first keeps decisions that change nothing out of.
 */
bool store_update_reads_once(const struct store *);

/*
 * store_expire - delete every record whose updated < cutoff, and every
 * unreadable record. Work is split into bounded transactions so that the
 * decision path is never held up behind one long purge. *removed (may be
 * NULL) counts the deleted records. Returns 0 or -1.
 */
int store_expire(struct store *, int64_t cutoff, size_t *removed, struct tp_error *err);

/*
 * store_walk - call fn for each readable record, in key order. fn returns
 * 0 to go on, anything else to stop. The walk is not one snapshot: records
 * changed meanwhile may be seen old or new, never torn. fn may call the
 * store (e.g. store_forget). Returns 0 when every record was visited, 1
 * when fn stopped it, -1 on error.
 */
int store_walk(struct store *, store_walk_fn fn, void *arg, struct tp_error *err);

/* store_forget - delete one record: 1 removed, 0 absent, -1 error */
int store_forget(struct store *, const char *key, struct tp_error *err);

/* store_backend - "lmdb", "redis": for records and --state output */
const char *store_backend(const struct store *);

/*
 * store_stats_render - the durations of store operations by backend and
 * operation (get, update, expire, walk, forget) and the failed ones, for
 * the life of the process, in the Prometheus text format
 * (tlspolicyd_state_operation_duration_seconds, tlspolicyd_state_errors_total).
 */
void store_stats_render(struct strbuf *out);

/* store_close - release everything; NULL is allowed */
void store_close(struct store *);

/*
 * Backend side. A backend's handle begins with a struct store whose ops
 * it fills; store.c checks arguments, clears err and dispatches. Keys
 * reach a backend valid (1..STORE_KEY_MAX bytes). Nothing outside
 * store*.c uses these.
 */
struct store_ops {
    const char *name;
    int (*get)(struct store *, const char *key, size_t klen, struct fb_record *, struct tp_error *);
    /* readable_only: store_update_readable() */
    int (*update)(struct store *, const char *key, size_t klen, store_update_fn, void *, bool readable_only,
                  struct tp_error *);
    int (*expire)(struct store *, int64_t cutoff, size_t *removed, struct tp_error *);
    int (*walk)(struct store *, store_walk_fn, void *, struct tp_error *);
    int (*forget)(struct store *, const char *key, size_t klen, struct tp_error *);
    void (*close)(struct store *);
    void (*set_ttl)(struct store *, int64_t ttl); /* NULL: no expiry of its own */
    bool update_reads_once;                       /* store_update_reads_once() */
};

struct store {
    const struct store_ops *ops;
};

#endif
