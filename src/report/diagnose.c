/*++
 * NAME
 *	diagnose 3
 * SUMMARY
 *	--diagnose: MTA handshake failures joined with the records, per client
 * SYNOPSIS
 *	#include "report/diagnose.h"
 *
 *	struct diagnose *diagnose_new()
 *	void	diagnose_period(d, has_since, since, has_until, until)
 *	void	diagnose_consumers(d, one, two)
 *	int	diagnose_clients(d, out, n)
 *	void	diagnose_counts(d, counts)
 *	bool	diagnose_oom(d)
 *	void	diagnose_free(d)
 * DESCRIPTION
 *	See diagnose.h. The consumer of pass one takes the records of the
 *	period (diagnose_record()), the lines that are not records (to
 *	diagnose_fail.c) and the end of each input; at its end,
 *	diagnose_resolve(). During pass one, three maps: seen (client key ->
 *	struct seen, the times of its last decisions over TLS and in
 *	plaintext: a few bytes for every client), failures by fail key
 *	(the name the MTA vouched for, an IPv4 address or an IPv6 /64 ->
 *	struct fail, a few hundred bytes without maps) and named addresses
 *	(address -> the client key records gave it, or AMBIGUOUS when
 *	records gave it two). diagnose_resolve() joins the failures per
 *	client and turns the DIAGNOSE_CLIENTS_MAX with the most into the
 *	fourth map, clients (key -> struct diagnose_client), which holds
 *	only the clients to show: those with failures or closes after
 *	STARTTLS, and those whose last decision was in plaintext after one
 *	over TLS.
 *	The failure lines are read in diagnose_fail.c, pass two in
 *	diagnose_rescan.c, both on diagnose_common.c; the writers are in
 *	diagnose_out.c.
 *	Where two events share a second, the one kept as "first" or "last"
 *	is chosen by comparing their text, so the same inputs in any order
 *	give the same diagnosis.
 * DIAGNOSTICS
 *	When memory runs out the diagnosis is incomplete; diagnose_counts()
 *	says so, and so do the writers.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "core/domain_map.h"
#include "report/agg.h"
#include "report/diagnose.h"
#include "report/diagnose_impl.h"
#include "report/scan.h"
#include "util/seqset.h"



static char ambiguous_mark;

#define AMBIGUOUS ((void *) &ambiguous_mark)

/* diagnose_new - empty */
struct diagnose *diagnose_new(void)
{
    struct diagnose *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    map_init(&d->clients);
    map_init(&d->seen);
    map_init(&d->fails);
    map_init(&d->named);
    map_init(&d->rsa_memo);
    seqset_init(&d->rsa_minutes);
    if ((d->track = mtafail_track_new(diagnose_on_failure, d)) == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

/* diagnose_period - the period of the report */
void diagnose_period(struct diagnose *d, bool has_since, time_t since, bool has_until, time_t until)
{
    d->has_since = has_since;
    d->since = since;
    d->has_until = has_until;
    d->until = until;
}

/* client_init - no history */
static void client_init(struct diagnose_client *c)
{
    memset(c, 0, sizeof(*c));
    map_init(&c->reasons);
    map_init(&c->addrs);
    map_init(&c->versions);
    map_init(&c->ciphers);
    map_init(&c->refused);
    map_init(&c->refused_rcpts);
}

/* client_free - one client's history */
static void client_free(void *p)
{
    struct diagnose_client *c = p;

    if (c == NULL)
        return;
    map_free(&c->reasons, NULL);
    map_free(&c->addrs, NULL);
    map_free(&c->versions, NULL);
    map_free(&c->ciphers, NULL);
    map_free(&c->refused, NULL);
    map_free(&c->refused_rcpts, NULL);
    free(c->version);
    free(c->cipher);
    free(c);
}

/* client - the history of key, created on first use; NULL on OOM */
static struct diagnose_client *client(struct diagnose *d, const char *key)
{
    struct map_entry *e;

    if ((e = map_get(&d->clients, key)) == NULL) {
        d->n.oom = 1;
        return NULL;
    }
    if (e->ptr == NULL) {
        if ((e->ptr = malloc(sizeof(struct diagnose_client))) == NULL) {
            d->n.oom = 1;
            return NULL;
        }
        client_init(e->ptr);
        ((struct diagnose_client *) e->ptr)->key = e->key;
    }
    return e->ptr;
}

/* note_named - the address of a record whose client is a name */
static void note_named(struct diagnose *d, const char *addr, const char *key)
{
    struct map_entry *e;

    if (addr[0] == 0 || key == addr)
        return;
    if ((e = map_get(&d->named, addr)) == NULL) {
        d->n.oom = 1;
    } else if (e->ptr == NULL) {
        if ((e->ptr = strdup(key)) == NULL)
            d->n.oom = 1;
    } else if (e->ptr != AMBIGUOUS && strcmp(e->ptr, key) != 0) {
        free(e->ptr); /* two clients behind one address: join neither */
        e->ptr = AMBIGUOUS;
    }
}

/* minute - the rsa_minutes number of a time stamp (times before 1970: 0) */
static unsigned long long minute(time_t when)
{
    return when < 0 ? 0 : (unsigned long long) when / 60 + 1;
}

/* note_rsa - the minute of a decision, of any client, over an RSA-authenticated suite */
static void note_rsa(struct diagnose *d, const char *cipher, time_t when)
{
    struct map_entry *e;

    if (cipher == NULL || minute(when) == 0)
        return;
    if ((e = map_get(&d->rsa_memo, cipher)) == NULL) {
        d->n.oom = 1;
        return;
    }
    if (e->count == 0) {
        e->count = transitions_rsa_auth(cipher) ? 2 : 1;
    }
    if (e->count == 2 && seqset_add(&d->rsa_minutes, minute(when)) != 0)
        d->n.oom = 1;
}

/* rsa_between - an RSA-authenticated decision in a minute strictly between
   those of two time stamps */
static bool rsa_between(const struct seqset *s, time_t from, time_t to)
{
    unsigned long long a = minute(from), b = minute(to);
    size_t i;

    for (i = 0; i < s->n; i++)
        if (s->v[i].hi > a && s->v[i].lo < b)
            return true;
    return false;
}

/* mark_rsa_after - the shown clients that kept failing while some client
   (any: one MX may still serve the certificate) negotiated an
   RSA-authenticated suite; a later return of RSA (the fix) refutes nothing */
static void mark_rsa_after(struct diagnose *d)
{
    const struct map_entry *e;
    struct diagnose_client *c;
    size_t pos = 0;

    while ((e = map_next(&d->clients, &pos)) != NULL)
        if ((c = e->ptr) != NULL)
            c->rsa_after = c->failures > 0 && rsa_between(&d->rsa_minutes, c->first_fail, c->last_fail);
}

/* diagnose_record - a decision record of the period (pass one) */
static void diagnose_record(struct diagnose *d, const struct rec *r, const struct prefix *px)
{
    char buf[DOMAIN_MAX + 1], addr[MTAFAIL_ADDR_MAX + 1];
    const char *key;
    struct map_entry *e;
    struct seen *sn;

    if (r->event != REC_DECISION || r->f[REC_TLS_VERSION] == NULL)
        return;
    if (!px->has_time) {
        d->n.untimed_record++;
        return;
    }
    if ((key = diagnose_record_key(r, buf, addr)) == NULL)
        return;
    note_named(d, addr, key);
    if ((e = map_get(&d->seen, key)) == NULL ||
        (e->ptr == NULL && (e->ptr = calloc(1, sizeof(*sn))) == NULL)) {
        d->n.oom = 1;
        return;
    }
    sn = e->ptr;
    if (!IS(r->f[REC_TLS_VERSION], "none")) {
        if (!sn->has_tls || px->when > sn->tls_max)
            sn->tls_max = px->when;
        sn->has_tls = true;
        note_rsa(d, r->f[REC_CIPHER], px->when);
    } else {
        if (!sn->has_plain || px->when > sn->plain_max)
            sn->plain_max = px->when;
        sn->has_plain = true;
    }
}

/* named_free - a named address's key */
static void named_free(void *p)
{
    if (p != AMBIGUOUS)
        free(p);
}

/* joined - the failures of client key, created on first use; NULL on OOM */
static struct fail *joined(struct diagnose *d, struct map *m, const char *key)
{
    struct map_entry *e;

    if ((e = map_get(m, key)) == NULL || (e->ptr == NULL && (e->ptr = calloc(1, sizeof(struct fail))) == NULL)) {
        d->n.oom = 1;
        return NULL;
    }
    return e->ptr;
}

/* client_of - the client of a fail key's failures: the one records give
   its address, else the name the MTA vouched for, else its one address,
   else the key itself (an IPv4 address, an IPv6 /64) */
static const char *client_of(const struct diagnose *d, const char *fkey, const struct fail *x)
{
    const struct map_entry *nm = map_find(&d->named, x->addr);

    if (nm != NULL && nm->ptr != NULL && nm->ptr != AMBIGUOUS)
        return nm->ptr; /* the records know this address: their client */
    if (x->name_key != NULL)
        return x->name_key;
    return x->addr_n == x->failures && x->addr[0] != 0 ? x->addr : fkey;
}

/* join_seen - the last decision over TLS of the clients with failures,
   and the clients whose last decision was in plaintext after TLS */
static void join_seen(struct diagnose *d, struct map *m)
{
    const struct map_entry *e;
    const struct seen *sn;
    struct map_entry *je;
    struct fail *x;
    size_t pos = 0;

    while ((e = map_next(&d->seen, &pos)) != NULL) {
        if ((sn = e->ptr) == NULL || !sn->has_tls)
            continue;
        if ((je = map_find(m, e->key)) != NULL)
            x = je->ptr;
        else if (sn->has_plain && sn->plain_max > sn->tls_max)
            x = joined(d, m, e->key);
        else
            continue;
        if (x != NULL) {
            x->has_tls = true;
            x->tls_max = sn->tls_max;
        }
    }
}

/* by_failures - qsort: most failures (then closes) first, then by key */
static int by_failures(const void *a, const void *b)
{
    const struct map_entry *ea = *(struct map_entry *const *) a, *eb = *(struct map_entry *const *) b;
    const struct fail *x = ea->ptr, *y = eb->ptr;

    if (x->failures != y->failures)
        return x->failures > y->failures ? -1 : 1;
    if (x->closed != y->closed)
        return x->closed > y->closed ? -1 : 1;
    return strcmp(ea->key, eb->key);
}

/* show - a joined client becomes one to show */
static void show(struct diagnose *d, const char *key, struct fail *x)
{
    const struct map_entry *e;
    struct diagnose_client *c;
    size_t pos = 0;

    if ((c = client(d, key)) == NULL)
        return;
    c->failures = x->failures;
    c->first_fail = x->first_fail;
    c->last_fail = x->last_fail;
    c->first_mta = x->first_mta;
    memcpy(c->first_host, x->first_host, sizeof(c->first_host));
    memcpy(c->first_addr, x->first_addr, sizeof(c->first_addr));
    memcpy(c->first_reason, x->first_reason, sizeof(c->first_reason));
    memcpy(c->reason, x->reason, sizeof(c->reason));
    c->reason_time = x->reason_time;
    c->closed = x->closed;
    c->first_closed = x->first_closed;
    c->has_tls = x->has_tls;
    c->tls_max = x->tls_max;
    if (x->failures > 0 && x->reasons == NULL && diagnose_bump(&c->reasons, x->first_reason, x->failures, 1) != 0)
        d->n.oom = 1;
    while (x->reasons != NULL && (e = map_next(x->reasons, &pos)) != NULL)
        if (diagnose_bump(&c->reasons, e->key, e->count, DIAGNOSE_REASONS_MAX) != 0)
            d->n.oom = 1;
}

/* show_addrs - the failure addresses of the clients shown */
static void show_addrs(struct diagnose *d)
{
    const struct map_entry *e, *ce;
    const struct fail *x;
    struct diagnose_client *c;
    size_t pos = 0;

    while ((e = map_next(&d->fails, &pos)) != NULL) {
        if ((x = e->ptr) == NULL || x->failures == 0 ||
            (ce = map_find(&d->clients, client_of(d, e->key, x))) == NULL || (c = ce->ptr) == NULL)
            continue;
        c->more_addrs += x->failures - x->addr_n;
        if (map_find(&c->addrs, x->addr) == NULL && c->addrs.len >= DIAGNOSE_ADDRS_MAX)
            c->more_addrs += x->addr_n;
        else if (diagnose_bump(&c->addrs, x->addr, x->addr_n, DIAGNOSE_ADDRS_MAX) != 0)
            d->n.oom = 1;
    }
}

/* diagnose_resolve - the failures to their clients; the clients to show */
static void diagnose_resolve(struct diagnose *d)
{
    struct map m;
    struct map_entry *e, **v;
    struct fail *x;
    size_t i, pos = 0;

    map_init(&m);
    while ((e = map_next(&d->fails, &pos)) != NULL) {
        if (e->ptr == NULL)
            continue;
        if ((x = joined(d, &m, client_of(d, e->key, e->ptr))) != NULL && diagnose_merge_fail(x, e->ptr) != 0)
            d->n.oom = 1;
    }
    join_seen(d, &m);
    if (m.len > 0 && (v = map_sorted(&m, 0)) != NULL) {
        qsort(v, m.len, sizeof(*v), by_failures);
        for (i = 0; i < m.len; i++) {
            if (i < DIAGNOSE_CLIENTS_MAX)
                show(d, v[i]->key, v[i]->ptr);
            else
                d->n.not_shown++;
        }
        free(v);
    } else if (m.len > 0) {
        d->n.oom = 1;
    }
    show_addrs(d);
    mark_rsa_after(d);
    map_free(&m, diagnose_fail_free);
    map_free(&d->seen, free);
    map_free(&d->fails, diagnose_fail_free);
    map_free(&d->named, named_free);
    map_init(&d->seen);
    map_init(&d->fails);
    map_init(&d->named);
}

/* on_other, on_record, on_file_end, on_pass_end - the scan events of
   pass one */
static void on_other(void *ctx, const struct scan_at *at)
{
    diagnose_line(ctx, at->px);
}

static void on_record(void *ctx, const struct rec *r, const struct scan_at *at)
{
    diagnose_record(ctx, r, at->px);
}

static void on_file_end(void *ctx, const char *file, unsigned long lines)
{
    (void) file;
    (void) lines;
    diagnose_file_end(ctx);
}

static void on_pass_end(void *ctx)
{
    diagnose_resolve(ctx);
}

/* diagnose_consumers - pass one here, pass two in diagnose_rescan.c */
void diagnose_consumers(struct diagnose *d, struct scan_consumer *one, struct scan_consumer *two)
{
    memset(one, 0, sizeof(*one));
    one->name = "--diagnose";
    one->pass = 1;
    one->ctx = d;
    one->other = on_other;
    one->record = on_record;
    one->file_end = on_file_end;
    one->pass_end = on_pass_end;
    diagnose_rescan_consumer(d, two);
}

/* shown - a client with a break worth showing */
static bool shown(const struct diagnose_client *c)
{
    return c->failures > 0 || c->closed > 0 || c->plain_after > 0;
}

/* most_failures - qsort: most failures, then closes, first; then by key */
static int most_failures(const void *a, const void *b)
{
    const struct diagnose_client *x = (*(struct map_entry *const *) a)->ptr,
                                 *y = (*(struct map_entry *const *) b)->ptr;

    if (x->failures != y->failures)
        return x->failures > y->failures ? -1 : 1;
    if (x->closed != y->closed)
        return x->closed > y->closed ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* diagnose_clients - the clients with failures or gone to plaintext, most failures first */
int diagnose_clients(const struct diagnose *d, const struct diagnose_client ***out, size_t *n)
{
    struct map_entry **v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (d->clients.len == 0)
        return 0;
    if ((v = map_sorted(&d->clients, 0)) == NULL)
        return -1;
    for (i = 0; i < d->clients.len; i++) /* client() makes one per entry, or runs out */
        if (v[i]->ptr == NULL) {
            free(v);
            return -1;
        }
    qsort(v, d->clients.len, sizeof(*v), most_failures);
    /* The array of entry pointers becomes the array of client pointers,
       in place: entry i is read before slot i is written. */
    *out = (const struct diagnose_client **) v;
    for (i = 0; i < d->clients.len; i++)
        if (v[i]->ptr != NULL && shown(v[i]->ptr))
            (*out)[(*n)++] = v[i]->ptr;
    if (*n == 0) {
        free(v);
        *out = NULL;
    }
    return 0;
}

/* diagnose_counts - what was read and left out */
void diagnose_counts(const struct diagnose *d, struct diagnose_counts *out)
{
    *out = d->n;
    out->bad_lines = mtafail_track_bad(d->track);
}

/* diagnose_oom - memory ran out somewhere */
bool diagnose_oom(const struct diagnose *d)
{
    return d->n.oom != 0;
}

/* diagnose_free - everything */
void diagnose_free(struct diagnose *d)
{
    if (d == NULL)
        return;
    map_free(&d->clients, client_free);
    map_free(&d->seen, free);
    map_free(&d->fails, diagnose_fail_free);
    map_free(&d->named, named_free);
    map_free(&d->rsa_memo, NULL);
    seqset_free(&d->rsa_minutes);
    mtafail_track_free(d->track);
    free(d);
}
