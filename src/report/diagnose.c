/*++
 * NAME
 *	diagnose 3
 * SUMMARY
 *	--diagnose: MTA handshake failures joined with the records, per client
 * SYNOPSIS
 *	#include "report/diagnose.h"
 *
 *	struct diagnose *diagnose_new()
 *	void	diagnose_period(d, pctx, has_since, since, has_until, until)
 *	void	diagnose_line(d, prefix)
 *	void	diagnose_record(d, rec, prefix)
 *	void	diagnose_file_end(d)
 *	void	diagnose_resolve(d)
 *	int	diagnose_rescan(d, fd, name, err)
 *	int	diagnose_clients(d, out, n)
 *	void	diagnose_counts(d, counts)
 *	bool	diagnose_oom(d)
 *	void	diagnose_free(d)
 * DESCRIPTION
 *	See diagnose.h. During pass one, three maps: seen (client key ->
 *	struct seen, the times of its last decisions over TLS and in
 *	plaintext: a few bytes for every client), failures by address
 *	(address -> struct fail, whose name key is the client the MTA
 *	named) and named addresses (address -> the client key records gave
 *	it, or AMBIGUOUS when records gave it two). diagnose_resolve()
 *	turns them into the fourth, clients (key -> struct diagnose_client),
 *	which holds only the clients to show: those with failures, and
 *	those whose last decision was in plaintext after one over TLS.
 *	Where two events share a second, the one kept as "first" or "last"
 *	is chosen by comparing their text, so the same inputs in any order
 *	give the same diagnosis.
 * DIAGNOSTICS
 *	When memory runs out the diagnosis is incomplete; diagnose_counts()
 *	says so, and so do the writers.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "domain_map.h"
#include "report/agg.h"
#include "report/diagnose.h"
#include "report/input.h"

/* The failures of one address, before it is joined to a client. */
struct fail {
    char name_key[DOMAIN_MAX + 1]; /* client key of the first name the MTA vouched for, or "" */
    struct diagnose_client c;      /* only the failure fields */
};

/* What pass one keeps of every client's decisions. */
struct seen {
    bool has_tls, has_plain;
    time_t tls_max, plain_max; /* the last decision over TLS, in plaintext */
};

struct diagnose {
    struct map clients; /* key -> struct diagnose_client (after pass one) */
    struct map seen;    /* key -> struct seen (pass one) */
    struct map fails;   /* address -> struct fail (pass one) */
    struct map named;   /* address -> client key (char *) or AMBIGUOUS (pass one) */
    struct mtafail_track *track;
    struct prefix_ctx pctx;
    bool has_since, has_until;
    time_t since, until;
    struct diagnose_counts n;
};

static char ambiguous_mark;

#define AMBIGUOUS  ((void *) &ambiguous_mark)
#define IS(s, lit) ((s) != NULL && strcmp((s), (lit)) == 0)

static void on_failure(void *, const struct mtafail *);

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
    if ((d->track = mtafail_track_new(on_failure, d)) == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

/* diagnose_period - the period and the time stamp context of the report; d may be NULL */
void diagnose_period(struct diagnose *d, const struct prefix_ctx *pctx, bool has_since, time_t since,
                     bool has_until, time_t until)
{
    if (d == NULL)
        return;
    d->pctx = *pctx;
    d->has_since = has_since;
    d->since = since;
    d->has_until = has_until;
    d->until = until;
}

/* in_period - a time stamp inside --since/--until */
static bool in_period(const struct diagnose *d, time_t when)
{
    return !(d->has_since && when < d->since) && !(d->has_until && when >= d->until);
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

/* bump - add n to key in a map of at most max keys (then to "(other)") */
static int bump(struct map *m, const char *key, unsigned long long n, size_t max)
{
    struct map_entry *e = map_find(m, key);

    if (e == NULL && m->len >= max)
        e = map_get(m, "(other)");
    else if (e == NULL)
        e = map_get(m, key);
    if (e == NULL)
        return -1;
    e->count += n;
    return 0;
}

/* earlier - a's first failure comes before b's: by time, then by text */
static bool earlier(time_t a_when, const char *a_text, time_t b_when, const char *b_text)
{
    return a_when != b_when ? a_when < b_when : strcmp(a_text, b_text) < 0;
}

/* merge_fails - add the failures of src into dst */
static int merge_fails(struct diagnose_client *dst, const struct diagnose_client *src)
{
    size_t i;
    int rc = 0;

    if (src->failures == 0)
        return 0;
    if (dst->failures == 0 || earlier(src->first_fail, src->first_addr, dst->first_fail, dst->first_addr) ||
        (src->first_fail == dst->first_fail && strcmp(src->first_addr, dst->first_addr) == 0 &&
         strcmp(src->first_reason, dst->first_reason) < 0)) {
        dst->first_fail = src->first_fail;
        dst->first_mta = src->first_mta;
        memcpy(dst->first_host, src->first_host, sizeof(dst->first_host));
        memcpy(dst->first_addr, src->first_addr, sizeof(dst->first_addr));
        memcpy(dst->first_reason, src->first_reason, sizeof(dst->first_reason));
    }
    if (dst->failures == 0 || src->last_fail > dst->last_fail)
        dst->last_fail = src->last_fail;
    if (src->reason[0] != 0 &&
        (dst->reason[0] == 0 || earlier(src->reason_time, src->reason, dst->reason_time, dst->reason))) {
        dst->reason_time = src->reason_time;
        memcpy(dst->reason, src->reason, sizeof(dst->reason));
    }
    dst->failures += src->failures;
    dst->more_addrs += src->more_addrs;
    for (i = 0; i < src->reasons.cap; i++)
        if (src->reasons.slots[i].key != NULL)
            rc |= bump(&dst->reasons, src->reasons.slots[i].key, src->reasons.slots[i].count,
                       DIAGNOSE_REASONS_MAX);
    for (i = 0; i < src->addrs.cap; i++) {
        if (src->addrs.slots[i].key == NULL)
            continue;
        if (map_find(&dst->addrs, src->addrs.slots[i].key) == NULL && dst->addrs.len >= DIAGNOSE_ADDRS_MAX)
            dst->more_addrs += src->addrs.slots[i].count;
        else
            rc |= bump(&dst->addrs, src->addrs.slots[i].key, src->addrs.slots[i].count, DIAGNOSE_ADDRS_MAX);
    }
    return rc;
}

/* one_failure - a failure as a history of its own, to merge */
static void one_failure(struct diagnose_client *one, const struct mtafail *f)
{
    client_init(one);
    one->failures = 1;
    one->first_fail = one->last_fail = f->when;
    one->first_mta = f->mta;
    memcpy(one->first_host, f->host, sizeof(one->first_host));
    memcpy(one->first_addr, f->addr, sizeof(one->first_addr));
    memcpy(one->first_reason, f->reason, sizeof(one->first_reason));
    memcpy(one->reason, f->reason, sizeof(one->reason));
    one->reason_time = f->when;
}

/* name_key - the client key of the name and address the MTA logged */
static void name_key(const struct mtafail *f, char *buf)
{
    struct rec r;
    const char *key;

    memset(&r, 0, sizeof(r));
    r.f[REC_CLIENT_NAME] = f->name;
    r.f[REC_CLIENT_ADDR] = f->addr;
    key = agg_client_key(&r, buf, DOMAIN_MAX + 1);
    if (key != buf) /* the address: not a name key */
        buf[0] = 0;
}

/* on_failure - one failure from the joiner (pass one) */
static void on_failure(void *ctx, const struct mtafail *f)
{
    struct diagnose *d = ctx;
    struct diagnose_client one;
    struct map_entry *e;
    struct fail *x;
    int rc;

    if (!f->has_time) {
        d->n.untimed_fail++;
        return;
    }
    if (!in_period(d, f->when))
        return;
    if ((e = map_get(&d->fails, f->addr)) == NULL ||
        (e->ptr == NULL && (e->ptr = calloc(1, sizeof(*x))) == NULL)) {
        d->n.oom = 1;
        return;
    }
    x = e->ptr;
    if (x->c.failures == 0)
        client_init(&x->c);
    if (x->name_key[0] == 0 && f->name[0] != 0)
        name_key(f, x->name_key);
    one_failure(&one, f);
    rc = bump(&one.reasons, f->reason, 1, DIAGNOSE_REASONS_MAX);
    rc |= bump(&one.addrs, f->addr, 1, DIAGNOSE_ADDRS_MAX);
    rc |= merge_fails(&x->c, &one);
    map_free(&one.reasons, NULL);
    map_free(&one.addrs, NULL);
    if (rc != 0)
        d->n.oom = 1;
    d->n.failures++;
}

/* diagnose_line - a line that is not a record (pass one) */
void diagnose_line(struct diagnose *d, const struct prefix *px)
{
    if (d != NULL)
        mtafail_track_line(d->track, px);
}

/* diagnose_file_end - no failure waits across files: their order is free */
void diagnose_file_end(struct diagnose *d)
{
    if (d != NULL)
        mtafail_track_flush(d->track);
}

/* record_key - the client key of a record, an address in inet_ntop form;
   NULL when it has none. buf holds DOMAIN_MAX + 1 bytes. */
static const char *record_key(const struct rec *r, char *buf, char *addr)
{
    const char *key = agg_client_key(r, buf, DOMAIN_MAX + 1), *raw = r->f[REC_CLIENT_ADDR];

    addr[0] = 0;
    if (raw != NULL && mtafail_addr(raw, strlen(raw), addr) != 0)
        addr[0] = 0;
    if (key == NULL || *key == 0)
        return NULL;
    return key == raw && addr[0] != 0 ? addr : key;
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

/* diagnose_record - a decision record of the period (pass one) */
void diagnose_record(struct diagnose *d, const struct rec *r, const struct prefix *px)
{
    char buf[DOMAIN_MAX + 1], addr[MTAFAIL_ADDR_MAX + 1];
    const char *key;
    struct map_entry *e;
    struct seen *sn;

    if (d == NULL || r->event != REC_DECISION || r->f[REC_TLS_VERSION] == NULL)
        return;
    if (!px->has_time) {
        d->n.untimed_record++;
        return;
    }
    if ((key = record_key(r, buf, addr)) == NULL)
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

/* fail_free - the failures of one address */
static void fail_free(void *p)
{
    struct fail *x = p;

    map_free(&x->c.reasons, NULL);
    map_free(&x->c.addrs, NULL);
    free(x);
}

/* resolve_seen - the last decision over TLS of the clients with failures,
   and the clients whose last decision was in plaintext after TLS */
static void resolve_seen(struct diagnose *d)
{
    const struct map_entry *e;
    const struct seen *sn;
    struct map_entry *ce;
    struct diagnose_client *c = NULL;
    size_t i;

    for (i = 0; i < d->seen.cap; i++) {
        if ((e = &d->seen.slots[i])->key == NULL || (sn = e->ptr) == NULL || !sn->has_tls)
            continue;
        if ((ce = map_find(&d->clients, e->key)) != NULL)
            c = ce->ptr;
        else if (sn->has_plain && sn->plain_max > sn->tls_max)
            c = client(d, e->key);
        else
            continue;
        if (c != NULL) {
            c->has_tls = true;
            c->tls_max = sn->tls_max;
        }
    }
    map_free(&d->seen, free);
    map_init(&d->seen);
}

/* diagnose_resolve - each address's failures to its client */
void diagnose_resolve(struct diagnose *d)
{
    struct map_entry *e, *nm;
    struct diagnose_client *c;
    const struct fail *x;
    const char *key;
    size_t i;

    for (i = 0; i < d->fails.cap; i++) {
        if ((e = &d->fails.slots[i])->key == NULL || (x = e->ptr) == NULL)
            continue;
        nm = map_find(&d->named, e->key);
        if (nm != NULL && nm->ptr != NULL && nm->ptr != AMBIGUOUS)
            key = nm->ptr; /* the records know this address: their client */
        else
            key = x->name_key[0] != 0 ? x->name_key : e->key;
        if ((c = client(d, key)) != NULL && merge_fails(c, &x->c) != 0)
            d->n.oom = 1;
    }
    resolve_seen(d);
    map_free(&d->fails, fail_free);
    map_free(&d->named, named_free);
    map_init(&d->fails);
    map_init(&d->named);
}

/* anchor - the break of a client: its first failure, else just after
   its last decision over TLS; false when it has neither */
static bool anchor(const struct diagnose_client *c, time_t *when)
{
    if (c->failures > 0)
        *when = c->first_fail;
    else if (c->has_tls)
        *when = c->tls_max + 1;
    return c->failures > 0 || c->has_tls;
}

/* set_str - replace *dst with a copy of src */
static int set_str(char **dst, const char *src)
{
    char *copy = strdup(src);

    if (copy == NULL)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* later_tls - a TLS decision at when with these facts is the new last one */
static bool later_tls(const struct diagnose_client *c, time_t when, const char *version, const char *cipher)
{
    int cmp;

    if (!c->tls_before || when != c->last_tls)
        return !c->tls_before || when > c->last_tls;
    cmp = strcmp(version, c->version);
    return cmp > 0 || (cmp == 0 && strcmp(cipher, c->cipher) > 0);
}

/* before - a decision over TLS before the break */
static int before(struct diagnose_client *c, const struct rec *r, time_t when)
{
    const char *version = r->f[REC_TLS_VERSION], *cipher = r->f[REC_CIPHER] != NULL ? r->f[REC_CIPHER] : "-";

    if (map_get(&c->versions, version) == NULL ||
        (strcmp(cipher, "-") != 0 && map_get(&c->ciphers, cipher) == NULL))
        return -1;
    if (!later_tls(c, when, version, cipher))
        return 0;
    if (set_str(&c->version, version) != 0 || set_str(&c->cipher, cipher) != 0)
        return -1;
    c->last_tls = when;
    c->tls_before = true;
    return 0;
}

/* rescan_record - one decision record placed before or after its client's break */
static void rescan_record(struct diagnose *d, const struct rec *r, time_t when)
{
    char buf[DOMAIN_MAX + 1], addr[MTAFAIL_ADDR_MAX + 1];
    const char *key, *dom = r->f[REC_RCPT_DOMAIN], *rcpt = r->f[REC_RCPT];
    struct map_entry *e;
    struct diagnose_client *c;
    time_t brk;

    if ((key = record_key(r, buf, addr)) == NULL || (e = map_find(&d->clients, key)) == NULL)
        return;
    if ((c = e->ptr) == NULL || !anchor(c, &brk))
        return;
    if (!IS(r->f[REC_TLS_VERSION], "none")) {
        if (when < brk) {
            if (before(c, r, when) != 0)
                d->n.oom = 1;
        } else {
            if (c->tls_after++ == 0 || when > c->last_tls_after)
                c->last_tls_after = when;
        }
    } else if (when >= brk) {
        if (c->plain_after++ == 0 || when < c->first_plain_after)
            c->first_plain_after = when;
        c->rejected_after += IS(r->f[REC_ACTION], "reject");
        c->deferred_after += IS(r->f[REC_ACTION], "tempfail");
        if ((IS(r->f[REC_ACTION], "reject") || IS(r->f[REC_ACTION], "tempfail")) &&
            (bump(&c->refused, dom != NULL && *dom != 0 ? dom : "-", 1, DIAGNOSE_REASONS_MAX) != 0 ||
             bump(&c->refused_rcpts, rcpt != NULL && *rcpt != 0 ? rcpt : "-", 1, DIAGNOSE_RCPTS_MAX) != 0))
            d->n.oom = 1;
    }
}

/* rescan_line - one line of pass two: decision records only */
static void rescan_line(struct diagnose *d, struct input_line *line)
{
    struct prefix px;
    struct rec r;
    const char *why;

    prefix_parse(&d->pctx, line->text, &px);
    if (recparse_is_record(px.msg) != REC_DECISION || line->too_long || line->has_nul || !px.has_time ||
        !in_period(d, px.when))
        return;
    if (recparse_record((char *) px.msg, &r, &why) == 0 && r.f[REC_TLS_VERSION] != NULL)
        rescan_record(d, &r, px.when);
    recparse_clear(&r);
}

/* diagnose_rescan - pass two over one input */
int diagnose_rescan(struct diagnose *d, int fd, const char *name, struct tp_error *err)
{
    struct input *in;
    struct input_line line;
    int rc;

    if (d->clients.len == 0)
        return 0; /* no client has a break: nothing to place */
    if ((in = input_open_fd(fd, name, err)) == NULL)
        return -1;
    while ((rc = input_next(in, &line, err)) > 0)
        rescan_line(d, &line);
    input_close(in);
    return rc;
}

/* shown - a client with a break worth showing */
static bool shown(const struct diagnose_client *c)
{
    return c->failures > 0 || c->plain_after > 0;
}

/* diagnose_clients - the clients with failures or gone to plaintext, by key */
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
    map_free(&d->fails, fail_free);
    map_free(&d->named, named_free);
    mtafail_track_free(d->track);
    free(d);
}
