/*++
 * NAME
 *	agg 3
 * SUMMARY
 *	aggregation of records into groups, totals and seq sets
 * SYNOPSIS
 *	#include "report/agg.h"
 *
 *	void	agg_init(a, by)
 *	void	agg_consumer(a, consumer)
 *	void	agg_free(a)
 * DESCRIPTION
 *	See agg.h. The client domain of a record is the registered domain
 *	(public suffix list, as the fallback keys use) of client_name when
 *	that is a name: Postfix logs "unknown" and Sendmail a bracketed
 *	address when the name did not verify. Otherwise the group is the
 *	client address. An absent key is the group "-".
 * DIAGNOSTICS
 *	When memory runs out a->oom is set and counting goes on where it can.
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Application. */
#include "core/domain_map.h"
#include "state/fbkey.h"
#include "report/agg.h"
#include "report/scan.h"
#include "util/hash.h"

/* Field of a record, or "" when absent: comparisons need no NULL test. */
#define FIELD(r, i) ((r)->f[i] != NULL ? (r)->f[i] : "")
/* The first byte rules out most values without a call to strcmp(). */
#define IS(r, i, s) (FIELD(r, i)[0] == (s)[0] && strcmp(FIELD(r, i), (s)) == 0)

static const char *const by_names[] = {"rcpt_domain", "sender_domain", "client_domain", "day"};

/* agg_by_name - the grouping called name */
int agg_by_name(const char *name)
{
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(by_names[i], name) == 0)
            return i;
    return -1;
}

/* agg_by_label - the name of a grouping */
const char *agg_by_label(enum agg_by by)
{
    return by_names[by];
}

/* counts_init - zero counters, empty histograms */
static void counts_init(struct agg_counts *c)
{
    memset(c, 0, sizeof(*c));
    map_init(&c->versions);
    map_init(&c->ciphers);
}

/* counts_free - release one counter set */
static void counts_free(void *p)
{
    struct agg_counts *c = p;

    map_free(&c->versions, NULL);
    map_free(&c->ciphers, NULL);
    free(c);
}

/* seqset_release - map_free's callback for instances */
static void seqset_release(void *p)
{
    seqset_free(p);
    free(p);
}

/* agg_init - nothing counted yet */
void agg_init(struct agg *a, enum agg_by by)
{
    memset(a, 0, sizeof(*a));
    a->by = by;
    map_init(&a->groups);
    map_init(&a->instances);
    counts_init(&a->total);
}

/*
 * What one decision record adds to a counter set, worked out once: it is
 * added to the totals and to its group, and each string comparison and
 * hash here is paid for every record of the log.
 */
struct tally {
    bool tls, rejected, deferred, downgrade, downgrade_accepted, exempt, would_reject;
    const char *version, *cipher; /* cipher NULL: not counted */
    uint64_t version_hash, cipher_hash;
};

/* tally_of - the counts of one decision record */
static void tally_of(const struct rec *r, struct tally *t)
{
    t->version = FIELD(r, REC_TLS_VERSION);
    t->tls = strcmp(t->version, "none") != 0;
    t->rejected = IS(r, REC_ACTION, "reject");
    t->deferred = IS(r, REC_ACTION, "tempfail");
    t->downgrade = IS(r, REC_REASON, "downgrade");
    t->downgrade_accepted = IS(r, REC_REASON, "downgrade_accepted");
    t->exempt = IS(r, REC_REASON, "exempt");
    t->would_reject =
        IS(r, REC_MODE, "monitor") && (IS(r, REC_WOULD, "reject") || IS(r, REC_WOULD, "tempfail"));
    t->version_hash = map_hash(t->version);
    t->cipher = t->tls ? r->f[REC_CIPHER] : NULL;
    if (t->cipher != NULL)
        t->cipher_hash = map_hash(t->cipher);
}

/* bump - one more in a histogram */
static void bump(struct agg *a, struct map *m, const char *key, uint64_t hash)
{
    struct map_entry *e;

    if ((e = map_get_hashed(m, key, hash)) == NULL)
        a->oom = 1;
    else
        e->count++;
}

/* count_decision - one recipient's decision */
static void count_decision(struct agg *a, struct agg_counts *c, const struct tally *t)
{
    c->recipients++;
    c->tls += t->tls;
    c->rejected += t->rejected;
    c->deferred += t->deferred;
    c->downgrades += t->downgrade;
    c->downgrade_accepted += t->downgrade_accepted;
    c->exempt += t->exempt;
    c->would_reject += t->would_reject;
    bump(a, &c->versions, t->version, t->version_hash);
    if (t->cipher != NULL)
        bump(a, &c->ciphers, t->cipher, t->cipher_hash);
}

/* count_session - one closed connection */
static void count_session(struct agg_counts *c, const struct rec *r)
{
    c->sessions++;
    c->suspected += IS(r, REC_SUSPECTED, "yes");
}

/* A direct-mapped memo of name -> registered domain: a log names the
   same MX hosts over and over, and the public-suffix lookup is the
   costliest step of a record. The report is single-threaded. */
#define MEMO_SLOTS 4096
#define MEMO_NAME  128

struct memo {
    char name[MEMO_NAME];
    char reg[DOMAIN_MAX + 1]; /* "" when the name has no registered domain */
};

static struct memo memo[MEMO_SLOTS];

/* registered - fbkey_registered_domain, memoised; NULL when there is none */
static const char *registered(const char *name)
{
    uint32_t h;
    struct memo *m;

    if (strlen(name) >= MEMO_NAME) {
        static char reg[DOMAIN_MAX + 1];

        return fbkey_registered_domain(name, reg, sizeof(reg)) == 0 ? reg : NULL;
    }
    h = hash_str32(name);
    m = &memo[h % MEMO_SLOTS];
    if (strcmp(m->name, name) != 0) {
        snprintf(m->name, sizeof(m->name), "%s", name);
        if (fbkey_registered_domain(name, m->reg, sizeof(m->reg)) != 0)
            m->reg[0] = 0;
    }
    return m->reg[0] ? m->reg : NULL;
}

/* agg_client_key - registered domain of a verified-looking name, else address */
const char *agg_client_key(const struct rec *r, char *buf, size_t len)
{
    const char *name = r->f[REC_CLIENT_NAME];
    const char *reg;

    if (name != NULL && *name != '[' && strcasecmp(name, "unknown") != 0 &&
        (reg = registered(name)) != NULL && strlen(reg) < len) {
        /* A copy: the memo slot may be taken by the next name. */
        strcpy(buf, reg);
        return buf;
    }
    return r->f[REC_CLIENT_ADDR];
}

/* group_key - the group of a record, NULL when it has none (sessions) */
static const char *group_key(const struct agg *a, const struct rec *r, const char *day, char *buf, size_t len)
{
    const char *key = NULL;

    switch (a->by) {
    case AGG_BY_RCPT_DOMAIN:
        if (r->event == REC_SESSION)
            return NULL;
        key = r->f[REC_RCPT_DOMAIN];
        break;
    case AGG_BY_SENDER_DOMAIN:
        if (r->event == REC_SESSION)
            return NULL;
        key = r->f[REC_SENDER_DOMAIN];
        break;
    case AGG_BY_CLIENT_DOMAIN:
        key = agg_client_key(r, buf, len);
        break;
    case AGG_BY_DAY:
        key = *day ? day : NULL;
        break;
    }
    return key != NULL && *key != 0 ? key : "-";
}

/* group - the counters of a group, created on first use */
static struct agg_counts *group(struct agg *a, const char *key)
{
    struct map_entry *e;

    if ((e = map_get(&a->groups, key)) == NULL)
        return NULL;
    if (e->ptr == NULL && (e->ptr = malloc(sizeof(struct agg_counts))) != NULL)
        counts_init(e->ptr);
    return e->ptr;
}

/* agg_seq - the record's number in its instance's seq set */
static void agg_seq(struct agg *a, const struct rec *r)
{
    struct map_entry *e;

    if ((e = map_get(&a->instances, r->f[REC_INSTANCE])) == NULL) {
        a->oom = 1;
        return;
    }
    if (e->ptr == NULL && (e->ptr = malloc(sizeof(struct seqset))) != NULL)
        seqset_init(e->ptr);
    if (e->ptr == NULL || seqset_add(e->ptr, r->seq) != 0)
        a->oom = 1;
}

/* agg_record - count one record in its group and the totals; day is
   its "YYYY-MM-DD" or "" */
static void agg_record(struct agg *a, const struct rec *r, const char *day)
{
    char buf[DOMAIN_MAX + 1];
    const char *key = group_key(a, r, day, buf, sizeof(buf));
    struct agg_counts *g = NULL;

    if (key != NULL && (g = group(a, key)) == NULL)
        a->oom = 1;
    if (r->event == REC_DECISION) {
        struct tally t;

        tally_of(r, &t);
        a->decisions++;
        count_decision(a, &a->total, &t);
        if (g != NULL)
            count_decision(a, g, &t);
    } else {
        a->sessions++;
        count_session(&a->total, r);
        if (g != NULL)
            count_session(g, r);
    }
}

/* agg_malformed - count a malformed line, keep the first few for display */
static void agg_malformed(struct agg *a, const char *file, unsigned long line, const char *why)
{
    struct agg_malformed *m;

    a->malformed++;
    if (a->nshown == AGG_MALFORMED_SHOW)
        return;
    m = &a->shown[a->nshown];
    if ((m->file = strdup(file)) == NULL) {
        a->oom = 1;
        return;
    }
    m->line = line;
    snprintf(m->why, sizeof(m->why), "%s", why);
    a->nshown++;
}

/* on_file, on_file_end, on_malformed, on_foreign, on_duplicate, on_seen,
   on_record, on_left_out - the scan events, into the counts */
static void on_file(void *ctx, const char *file)
{
    (void) file;
    ((struct agg *) ctx)->files++;
}

static void on_file_end(void *ctx, const char *file, unsigned long lines)
{
    (void) file;
    ((struct agg *) ctx)->lines += lines;
}

static void on_malformed(void *ctx, const struct scan_at *at, const char *why)
{
    agg_malformed(ctx, at->file, at->line->lineno, why);
}

static void on_foreign(void *ctx, const struct scan_at *at)
{
    (void) at;
    ((struct agg *) ctx)->foreign++;
}

static void on_duplicate(void *ctx, const struct rec *r, const struct scan_at *at)
{
    (void) r;
    (void) at;
    ((struct agg *) ctx)->duplicates++;
}

static void on_seen(void *ctx, const struct rec *r)
{
    agg_seq(ctx, r);
}

static void on_record(void *ctx, const struct rec *r, const struct scan_at *at)
{
    agg_record(ctx, r, at->px->day);
}

static void on_left_out(void *ctx, enum scan_left why)
{
    struct agg *a = ctx;

    if (why == SCAN_LEFT_UNTIMED)
        a->untimed++;
    else
        a->out_of_period++;
}

/* agg_consumer - every event the counts need */
void agg_consumer(struct agg *a, struct scan_consumer *c)
{
    memset(c, 0, sizeof(*c));
    c->name = "report";
    c->pass = 1;
    c->ctx = a;
    c->file_begin = on_file;
    c->file_end = on_file_end; /* the lines once an input, not a call each */
    c->malformed = on_malformed;
    c->foreign = on_foreign;
    c->duplicate = on_duplicate;
    c->seen = on_seen;
    c->record = on_record;
    c->left_out = on_left_out;
}

/* agg_tls_share - the share of recipients over TLS */
double agg_tls_share(const struct agg_counts *c)
{
    return c->recipients ? (double) c->tls / (double) c->recipients : -1;
}

/* agg_free - release everything */
void agg_free(struct agg *a)
{
    size_t i;

    map_free(&a->groups, counts_free);
    map_free(&a->instances, seqset_release);
    map_free(&a->total.versions, NULL);
    map_free(&a->total.ciphers, NULL);
    for (i = 0; i < a->nshown; i++)
        free(a->shown[i].file);
    a->nshown = 0;
}
