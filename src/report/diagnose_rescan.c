/*++
 * NAME
 *	diagnose_rescan 3
 * SUMMARY
 *	--diagnose pass two: each client's decisions before and after its break
 * SYNOPSIS
 *	#include "report/diagnose_impl.h"
 *
 *	void	diagnose_rescan_consumer(d, consumer)
 * DESCRIPTION
 *	Once pass one knows every shown client's break (its first
 *	failure, else just after its last decision over TLS), the scan
 *	driver reads the inputs again for this consumer: decisions over
 *	TLS before the break give the last TLS facts, those after it and
 *	the plaintext ones are counted, and the refused ones named. Only
 *	decision records of the period with a time stamp can be placed.
 *	When no client has a break, pass two reads nothing.
 * DIAGNOSTICS
 *	When memory runs out the counts say so (d->n.oom).
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "core/domain_map.h"
#include "report/diagnose.h"
#include "report/diagnose_impl.h"
#include "report/scan.h"

/* anchor - the break of a client: its first failure, else just after
   its last decision over TLS; false when it has neither */
static bool anchor(const struct diagnose_client *c, time_t *when)
{
    if (c->failures > 0)
        *when = c->first_fail;
    else if (c->closed > 0)
        *when = c->first_closed;
    else if (c->has_tls)
        *when = c->tls_max + 1;
    return c->failures > 0 || c->closed > 0 || c->has_tls;
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

    if ((key = diagnose_record_key(r, buf, addr)) == NULL || (e = map_find(&d->clients, key)) == NULL)
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
            (diagnose_bump(&c->refused, dom != NULL && *dom != 0 ? dom : "-", 1, DIAGNOSE_REASONS_MAX) != 0 ||
             diagnose_bump(&c->refused_rcpts, rcpt != NULL && *rcpt != 0 ? rcpt : "-", 1, DIAGNOSE_RCPTS_MAX) != 0))
            d->n.oom = 1;
    }
}

/* on_pass_begin - pass two has something to do when a client has a break */
static bool on_pass_begin(void *ctx)
{
    return ((struct diagnose *) ctx)->clients.len > 0;
}

/* on_record - a record of the period: a decision with a time stamp is
   placed before or after its client's break */
static void on_record(void *ctx, const struct rec *r, const struct scan_at *at)
{
    if (r->event == REC_DECISION && at->px->has_time && r->f[REC_TLS_VERSION] != NULL)
        rescan_record(ctx, r, at->px->when);
}

/* diagnose_rescan_consumer - the consumer of pass two */
void diagnose_rescan_consumer(struct diagnose *d, struct scan_consumer *c)
{
    memset(c, 0, sizeof(*c));
    c->name = "--diagnose";
    c->pass = 2;
    c->ctx = d;
    c->pass_begin = on_pass_begin;
    c->record = on_record;
}
