/*++
 * NAME
 *	fallback 3
 * SUMMARY
 *	the fallback rules' memory: decide with it, learn from the decision
 * SYNOPSIS
 *	#include "state/fallback.h"
 *
 *	int	fallback_decide(store, set, session, rcpt, now, fs, decision, err)
 *	void	fallback_expire(store, set, now, err)
 * DESCRIPTION
 *	The decision runs inside the store's read-modify-write callback: it
 *	is pure, so running it again when the store retries is harmless, and
 *	the deferral it counts is the one it decided. What is learned per
 *	key: the best level seen (TLS, verified TLS), the highest protocol
 *	version, the last TLS and the last plaintext sighting, and the
 *	deferrals within the current defer_period.
 *
 *	One implementation. This callback is the update for every backend:
 *	Redis applies its result with a compare-and-set and has no script of
 *	its own for it, so LMDB and Redis give the same decisions.
 *
 *	Cost. On LMDB a read first decides without the writer lock, and only
 *	a decision that changes the record takes it. On Redis the update's
 *	own read is that read (store_update_reads_once()): one round trip
 *	for a decision that changes nothing, two for one that writes.
 *--*/

/* System library. */
#include <stdatomic.h>
#include <string.h>

/* Application. */
#include "state/fallback.h"
#include "state/fbkey.h"

struct decide_arg {
    const struct policy_set *ps;
    const struct session_facts *s;
    const struct rcpt_facts *r;
    const char *key;
    long now;
    bool count_deferral; /* this session has not been counted yet */
    bool counted;        /* out: this decision counted one */
    struct decision *d;
};

/* stale - a sighting older than the refresh interval */
static bool stale(int64_t when, long now)
{
    return now - when >= FALLBACK_REFRESH || when > now;
}

/* learn_session - what this session shows about its sender; true if the record changed */
static bool learn_session(struct fb_record *rec, bool found, const struct session_facts *s, long now)
{
    bool changed = !found || stale(rec->updated, now);
    enum fb_level level;

    if (!found)
        rec->first_seen = now;
    if (s->tls_version == TLS_V_NONE) {
        if (stale(rec->last_plain, now)) {
            rec->last_plain = now;
            changed = true;
        }
        return changed;
    }
    level = facts_cert_verified(s) ? FB_LEVEL_VERIFIED : FB_LEVEL_TLS;
    if (level > rec->best_level || s->tls_version > rec->best_version || stale(rec->last_tls, now)) {
        if (level > rec->best_level)
            rec->best_level = level;
        if (s->tls_version > rec->best_version && s->tls_version != TLS_V_UNKNOWN)
            rec->best_version = s->tls_version;
        rec->last_tls = now;
        changed = true;
    }
    return changed;
}

/* count_deferral - one more deferral in the current period */
static void count_deferral(struct fb_record *rec, const struct fallback_rules *fb, long now)
{
    if (rec->defer_start == 0 || now - rec->defer_start > fb->defer_period) {
        rec->defer_start = now;
        rec->deferrals = 0;
    }
    rec->deferrals++;
}

/* decide_and_learn - store_update callback */
static int decide_and_learn(struct fb_record *rec, bool found, void *arg)
{
    struct decide_arg *a = arg;
    struct learned l = {.key = a->key};
    bool changed;

    if (found) {
        l.last_tls = (long) rec->last_tls;
        l.deferrals = (int) rec->deferrals;
        l.defer_start = (long) rec->defer_start;
        /* All recipients of one session see the count as its first did. */
        if (!a->count_deferral && l.deferrals > 0)
            l.deferrals--;
    }
    policy_decide(a->ps, a->s, a->r, &l, a->now, NULL, a->d);
    a->counted = false;
    if (a->d->reason == REASON_EXEMPT)
        return STORE_KEEP; /* exempt sessions teach nothing */
    changed = learn_session(rec, found, a->s, a->now);
    if (a->d->reason == REASON_DOWNGRADE && a->d->action == DECISION_TEMPFAIL) {
        if (a->count_deferral) {
            count_deferral(rec, &a->ps->fallback, a->now);
            a->counted = changed = true;
        }
        a->d->deferrals = (int) rec->deferrals; /* this session's included */
    }
    if (!changed)
        return STORE_KEEP;
    rec->updated = a->now;
    return STORE_WRITE;
}

/* try_readonly - decide from a read; 0 when nothing needs writing, else 1 (or -1) */
static int try_readonly(struct store *st, const char *key, struct decide_arg *a, struct tp_error *err)
{
    struct fb_record rec;
    int found = store_get(st, key, &rec, err);

    /* LMDB admits one writer at a time: a decision that changes nothing
       must not queue behind another thread's disk sync. */
    if (found < 0)
        return -1;
    return decide_and_learn(&rec, found == 1, a) == STORE_KEEP ? 0 : 1;
}

/* fallback_decide - decide one recipient with what was learned, and learn */
int fallback_decide(struct store *st, const struct policy_set *ps, const struct session_facts *s,
                    const struct rcpt_facts *r, long now, struct fallback_session *fs, struct decision *d,
                    struct tp_error *err)
{
    char key[FBKEY_MAX];
    struct decide_arg a = {ps, s, r, key, now, !fs->deferral_counted, false, d};
    struct learned broken = {.key = key, .error = true};
    int rc;

    if (!ps->fallback.enabled || st == NULL || fbkey_make(ps->fallback.key, s, key, sizeof(key)) < 0) {
        policy_decide(ps, s, r, NULL, now, NULL, d);
        return 0;
    }
    /* A record that cannot be read is not overwritten here: a fresh one
       would forget the sender's TLS history. state.on_error decides until
       the hourly expiry (or --state forget) removes it. Where an update
       that changes nothing costs one read anyway (Redis), it is the read. */
    rc = store_update_reads_once(st) ? 1 : try_readonly(st, key, &a, err);
    if (rc < 0 || (rc == 1 && store_update_readable(st, key, decide_and_learn, &a, err) < 0)) {
        policy_decide(ps, s, r, &broken, now, NULL, d);
        return -1;
    }
    if (a.counted)
        fs->deferral_counted = true;
    return 0;
}

/* note_failure - store_update callback: stamp last_tls_failure */
static int note_failure(struct fb_record *rec, bool found, void *arg)
{
    long now = *(const long *) arg;

    if (!found)
        rec->first_seen = now;
    rec->last_tls_failure = now;
    rec->updated = now;
    return STORE_WRITE;
}

/* fallback_note_tls_failure - remember a suspected failed STARTTLS under the session's key */
int fallback_note_tls_failure(struct store *st, const struct policy_set *ps, const struct session_facts *s,
                              long now, struct tp_error *err)
{
    char key[FBKEY_MAX];

    err->msg[0] = 0;
    if (st == NULL || !ps->fallback.enabled || fbkey_make(ps->fallback.key, s, key, sizeof(key)) < 0)
        return 0;
    return store_update(st, key, note_failure, &now, err) < 0 ? -1 : 0;
}

/* fallback_expire - forget keys not seen within the window; at most once an hour */
void fallback_expire(struct store *st, const struct policy_set *ps, long now, struct tp_error *err)
{
    static _Atomic long last;
    long prev = atomic_load(&last);

    err->msg[0] = 0;
    /* Redis expires each key after the window itself. A purge would SCAN
       the keyspace shared by every MX host, hourly from each, on a
       session's thread, and during a rolling upgrade delete the records
       a newer release wrote in a format this one cannot read. */
    if (st == NULL || !ps->fallback.enabled || now - prev < 3600 || store_expires_itself(st))
        return;
    /* One thread wins the hour; the others go on deciding. */
    if (!atomic_compare_exchange_strong(&last, &prev, now))
        return;
    store_expire(st, now - ps->fallback.window, NULL, err);
}
