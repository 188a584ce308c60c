/*++
 * NAME
 *	diagnose_fail 3
 * SUMMARY
 *	--diagnose: MTA handshake-failure lines into per-key failures
 * SYNOPSIS
 *	#include "report/diagnose_impl.h"
 *
 *	void	diagnose_line(d, prefix)
 *	void	diagnose_file_end(d)
 *	void	diagnose_on_failure(ctx, failure)
 *	int	diagnose_merge_fail(dst, src)
 *	void	diagnose_fail_free(fail)
 * DESCRIPTION
 *	Pass one hands every line that is not a record to mtafail's
 *	tracker; each failure it completes is folded into the struct fail
 *	of its fail key (the name the MTA vouched for, an IPv4 address or
 *	an IPv6 /64). diagnose_merge_fail() also joins the failures of
 *	several keys into one client in diagnose_resolve(). This file
 *	calls diagnose_common.c only; diagnose.c calls it.
 * DIAGNOSTICS
 *	When memory runs out the counts say so (d->n.oom).
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "core/domain_map.h"
#include "report/agg.h"
#include "report/cause.h"
#include "report/diagnose.h"
#include "report/diagnose_impl.h"

/* in_period - a time stamp inside --since/--until */
static bool in_period(const struct diagnose *d, time_t when)
{
    return !(d->has_since && when < d->since) && !(d->has_until && when >= d->until);
}

/* earlier - a's first failure comes before b's: by time, then by text */
static bool earlier(time_t a_when, const char *a_text, time_t b_when, const char *b_text)
{
    return a_when != b_when ? a_when < b_when : strcmp(a_text, b_text) < 0;
}

/* reason_rank - how much a reason tells: a class the causes know (3), the
   TLS library's own text (2), the MTA's words such as "lost connection"
   or an errno text (1), none (0). The cause is the earliest of the best. */
static int reason_rank(const char *reason, bool lib)
{
    if (*reason == 0)
        return 0;
    if (cause_reason_known(reason))
        return 3;
    return lib ? 2 : 1;
}

/* diagnose_fail_free - the failures of one key */
void diagnose_fail_free(void *p)
{
    struct fail *x = p;

    if (x == NULL)
        return;
    if (x->reasons != NULL)
        map_free(x->reasons, NULL);
    free(x->reasons);
    free(x->name_key);
    free(x);
}

/* merge_reasons - the reason counts of src into dst, before dst's first_reason changes */
static int merge_reasons(struct fail *dst, const struct fail *src)
{
    const struct map_entry *e;
    size_t pos = 0;
    int rc = 0;

    if (dst->reasons == NULL && dst->failures > 0 &&
        (src->reasons != NULL || strcmp(dst->first_reason, src->first_reason) != 0)) {
        if ((dst->reasons = malloc(sizeof(*dst->reasons))) == NULL)
            return -1;
        map_init(dst->reasons);
        rc = diagnose_bump(dst->reasons, dst->first_reason, dst->failures, DIAGNOSE_REASONS_MAX);
    }
    if (dst->reasons == NULL && src->reasons != NULL) { /* dst has none yet */
        if ((dst->reasons = malloc(sizeof(*dst->reasons))) == NULL)
            return -1;
        map_init(dst->reasons);
    }
    if (dst->reasons == NULL)
        return rc;
    if (src->reasons == NULL)
        return rc | diagnose_bump(dst->reasons, src->first_reason, src->failures, DIAGNOSE_REASONS_MAX);
    while ((e = map_next(src->reasons, &pos)) != NULL)
        rc |= diagnose_bump(dst->reasons, e->key, e->count, DIAGNOSE_REASONS_MAX);
    return rc;
}

/* diagnose_merge_fail - add the failures and closes of src into dst */
int diagnose_merge_fail(struct fail *dst, const struct fail *src)
{
    int rc = 0;

    if (src->closed > 0 && (dst->closed == 0 || src->first_closed < dst->first_closed))
        dst->first_closed = src->first_closed;
    dst->closed += src->closed;
    if (src->failures == 0)
        return 0;
    rc = merge_reasons(dst, src);
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
    if (dst->failures == 0 || src->rank > dst->rank ||
        (src->rank == dst->rank && earlier(src->reason_time, src->reason, dst->reason_time, dst->reason))) {
        dst->rank = src->rank;
        dst->reason_time = src->reason_time;
        memcpy(dst->reason, src->reason, sizeof(dst->reason));
    }
    if (dst->failures == 0) {
        memcpy(dst->addr, src->addr, sizeof(dst->addr));
        dst->addr_n = src->addr_n;
    } else if (strcmp(dst->addr, src->addr) == 0) {
        dst->addr_n += src->addr_n;
    }
    dst->failures += src->failures;
    return rc;
}

/* one_failure - a failure (or a close after STARTTLS) as failures of their own, to merge */
static void one_failure(struct fail *one, const struct mtafail *f)
{
    memset(one, 0, sizeof(*one));
    if (f->closed) {
        one->closed = 1;
        one->first_closed = f->when;
        return;
    }
    one->failures = one->addr_n = 1;
    one->first_fail = one->last_fail = one->reason_time = f->when;
    one->first_mta = f->mta;
    memcpy(one->first_host, f->host, sizeof(one->first_host));
    memcpy(one->first_addr, f->addr, sizeof(one->first_addr));
    memcpy(one->addr, f->addr, sizeof(one->addr));
    memcpy(one->first_reason, f->reason, sizeof(one->first_reason));
    memcpy(one->reason, f->reason, sizeof(one->reason));
    one->rank = reason_rank(f->reason, f->lib_reason);
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

/* fail_key - where pass one counts a failure: the name the MTA vouched
   for, else an IPv4 address or the /64 of an IPv6 one (as tlspolicyd's
   fallback keys: one host may use a whole /64, and a hostile one could
   make a key per connection) */
static const char *fail_key(const struct mtafail *f, char *buf)
{
    unsigned char bin[16];
    char text[MTAFAIL_ADDR_MAX + 1];

    if (f->name[0] != 0) {
        name_key(f, buf);
        if (buf[0] != 0)
            return buf;
    }
    if (inet_pton(AF_INET6, f->addr, bin) != 1 || inet_ntop(AF_INET6, bin, text, sizeof(text)) == NULL)
        return f->addr;
    memset(bin + 8, 0, 8);
    if (inet_ntop(AF_INET6, bin, text, sizeof(text)) == NULL)
        return f->addr;
    snprintf(buf, DOMAIN_MAX + 1, "%s/64", text);
    return buf;
}

/* diagnose_on_failure - one failure from the joiner (pass one) */
void diagnose_on_failure(void *ctx, const struct mtafail *f)
{
    struct diagnose *d = ctx;
    char buf[DOMAIN_MAX + 1], nk[DOMAIN_MAX + 1];
    struct fail one;
    struct map_entry *e;
    struct fail *x;

    if (!f->has_time) {
        d->n.untimed_fail++;
        return;
    }
    if (!in_period(d, f->when))
        return;
    if ((e = map_get(&d->fails, fail_key(f, buf))) == NULL ||
        (e->ptr == NULL && (e->ptr = calloc(1, sizeof(*x))) == NULL)) {
        d->n.oom = 1;
        return;
    }
    x = e->ptr;
    if (x->name_key == NULL && f->name[0] != 0) {
        name_key(f, nk);
        if (nk[0] != 0 && (x->name_key = strdup(nk)) == NULL)
            d->n.oom = 1;
    }
    one_failure(&one, f);
    if (diagnose_merge_fail(x, &one) != 0)
        d->n.oom = 1;
    if (f->closed)
        d->n.closed++;
    else
        d->n.failures++;
}

/* diagnose_line - a line that is not a record (pass one) */
void diagnose_line(struct diagnose *d, const struct prefix *px)
{
    mtafail_track_line(d->track, px);
}

/* diagnose_file_end - no failure waits across files: their order is free */
void diagnose_file_end(struct diagnose *d)
{
    mtafail_track_flush(d->track);
}
