/*++
 * NAME
 *	out_text 3
 * SUMMARY
 *	the report as readable tables
 * SYNOPSIS
 *	#include "report/out.h"
 *
 *	int	report_out_text(fp, agg, meta)
 * DESCRIPTION
 *	Order: what was read, the seq check per instance (first, because a
 *	report with missing records proves less), the group table with a
 *	TOTAL row, the version and cipher histograms per group, and the
 *	first malformed lines; then the text of each section, in order,
 *	while none has failed.
 * DIAGNOSTICS
 *	Returns -1 when memory runs out.
 *--*/

/* System library. */
#include <stdlib.h>

/* Application. */
#include "report/out.h"

/* safe - a value made printable, in a buffer the caller resets */
static const char *safe(struct strbuf *sb, const char *value)
{
    strbuf_reset(sb);
    report_safe(sb, value);
    return strbuf_str(sb);
}

/* header - grouping, period and input counts */
static void header(FILE *fp, const struct agg *a, const struct report_meta *meta)
{
    fprintf(fp, "tlspolicy-report by %s, period %s .. %s\n", agg_by_label(a->by),
            meta->since ? meta->since : "(start)", meta->until ? meta->until : "(end)");
    fprintf(fp,
            "input: %llu files, %llu lines, %llu decision records, %llu session records, "
            "%llu malformed, %llu duplicates (counted once), %llu of another program\n",
            a->files, a->lines, a->decisions, a->sessions, a->malformed, a->duplicates, a->foreign);
    if (meta->since || meta->until)
        fprintf(fp, "left out: %llu records outside the period, %llu without a time stamp\n",
                a->out_of_period, a->untimed);
}

/* ranges - the first missing seq ranges of one instance */
static void ranges(FILE *fp, const struct seqset *s)
{
    size_t i;

    if (s->n < 2)
        return;
    fprintf(fp, "    missing:");
    for (i = 1; i < s->n && i <= REPORT_RANGES_SHOW; i++) {
        if (s->v[i - 1].hi + 1 == s->v[i].lo - 1)
            fprintf(fp, "%s %llu", i > 1 ? "," : "", s->v[i - 1].hi + 1);
        else
            fprintf(fp, "%s %llu-%llu", i > 1 ? "," : "", s->v[i - 1].hi + 1, s->v[i].lo - 1);
    }
    fprintf(fp, "%s\n", s->n - 1 > REPORT_RANGES_SHOW ? ", ..." : "");
}

/* instances - the seq check, one line per instance */
static int instances(FILE *fp, const struct agg *a, struct strbuf *sb)
{
    struct map_entry **v;
    const struct seqset *s;
    size_t i;

    fprintf(fp, "\nRecord sequence per instance:\n");
    if (a->instances.len == 0) {
        fprintf(fp, "  (no records)\n");
        return 0;
    }
    if ((v = map_sorted(&a->instances, 0)) == NULL)
        return -1;
    fprintf(fp, "  %-20s %12s %12s %10s %10s %6s %10s\n", "instance", "first", "last", "records", "missing",
            "gaps", "duplicates");
    for (i = 0; i < a->instances.len; i++) {
        s = v[i]->ptr;
        fprintf(fp, "  %-20s %12llu %12llu %10llu %10llu %6zu %10llu\n", safe(sb, v[i]->key), s->v[0].lo,
                s->v[s->n - 1].hi, s->records, seqset_missing(s), s->n - 1, s->duplicates);
        ranges(fp, s);
    }
    free(v);
    return 0;
}

/* row - one line of the group table */
static void row(FILE *fp, const char *name, const struct agg_counts *c)
{
    double share = agg_tls_share(c);
    char pct[16];

    if (share < 0)
        snprintf(pct, sizeof(pct), "-");
    else
        snprintf(pct, sizeof(pct), "%.1f", share * 100);
    fprintf(fp, "  %-28s %7llu %6s %8llu %8llu %6llu %6llu %9llu %6llu %8llu %7llu\n", name, c->recipients,
            pct, c->rejected, c->deferred, c->downgrades, c->downgrade_accepted, c->would_reject, c->exempt,
            c->sessions, c->suspected);
}

/* hist - the versions and ciphers of one group */
static void hist(FILE *fp, const char *name, const struct agg_counts *c, struct strbuf *sb)
{
    if (c->versions.len == 0)
        return;
    fprintf(fp, "  %s\n", name);
    strbuf_reset(sb);
    report_hist(sb, &c->versions, " ", ", ");
    fprintf(fp, "    versions: %s\n", strbuf_str(sb));
    if (c->ciphers.len == 0)
        return;
    strbuf_reset(sb);
    report_hist(sb, &c->ciphers, " ", ", ");
    fprintf(fp, "    ciphers:  %s\n", strbuf_str(sb));
}

/* groups - the table, then the histograms */
static int groups(FILE *fp, const struct agg *a, struct strbuf *sb, struct strbuf *sb2)
{
    struct map_entry **v = NULL;
    size_t i;

    if (a->groups.len > 0 && (v = map_sorted(&a->groups, 0)) == NULL)
        return -1;
    fprintf(fp, "\nGroups by %s:\n", agg_by_label(a->by));
    fprintf(fp, "  %-28s %7s %6s %8s %8s %6s %6s %9s %6s %8s %7s\n", "group", "rcpts", "tls%", "rejected",
            "deferred", "downgr", "dg_acc", "would_rej", "exempt", "sessions", "suspect");
    for (i = 0; i < a->groups.len; i++)
        row(fp, safe(sb, v[i]->key), v[i]->ptr);
    row(fp, "TOTAL", &a->total);
    fprintf(fp, "\nProtocol versions and ciphers (recipients):\n");
    for (i = 0; i < a->groups.len; i++)
        hist(fp, safe(sb2, v[i]->key), v[i]->ptr, sb);
    hist(fp, "TOTAL", &a->total, sb);
    free(v);
    return 0;
}

/* malformed - the first malformed lines */
static void malformed(FILE *fp, const struct agg *a, struct strbuf *sb)
{
    size_t i;

    if (a->malformed == 0)
        return;
    fprintf(fp, "\nMalformed records (%zu of %llu shown):\n", a->nshown, a->malformed);
    for (i = 0; i < a->nshown; i++)
        fprintf(fp, "  %s:%lu: %s\n", safe(sb, a->shown[i].file), a->shown[i].line, a->shown[i].why);
}

/* report_out_text - the whole report: the tables, then the sections */
int report_out_text(FILE *fp, const struct agg *a, const struct report_meta *meta)
{
    struct strbuf sb, sb2;
    size_t i;
    int rc;

    strbuf_init(&sb);
    strbuf_init(&sb2);
    header(fp, a, meta);
    rc = instances(fp, a, &sb);
    if (rc == 0)
        rc = groups(fp, a, &sb, &sb2);
    malformed(fp, a, &sb);
    if (strbuf_failed(&sb) || strbuf_failed(&sb2))
        rc = -1;
    strbuf_free(&sb);
    strbuf_free(&sb2);
    for (i = 0; i < meta->nsections; i++)
        if (rc == 0 && meta->sections[i].text != NULL)
            rc = meta->sections[i].text(fp, meta->sections[i].ctx);
    return rc;
}
