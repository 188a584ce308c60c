/*++
 * NAME
 *	out_csv 3
 * SUMMARY
 *	the group table as CSV (RFC 4180)
 * SYNOPSIS
 *	#include "report/out.h"
 *
 *	int	report_out_csv(fp, agg, meta)
 * DESCRIPTION
 *	One header line, one row per group, then one row with kind "total".
 *	Histograms are one field each: "TLSv1.3=5;TLSv1.2=2". A field is
 *	quoted when it holds a comma, a quote or a space at either end; a
 *	field from the logs that starts with '=', '+' or '@' gets a leading
 *	apostrophe, so that a spreadsheet shows it instead of running it as
 *	a formula. The seq check is not in the CSV (it is a different
 *	table): it is in the text and json reports, and a warning on
 *	standard error names every instance with missing records. With
 *	--what-if the CSV is the forecast's list of changes instead (the
 *	first section with a csv writer): one table per file.
 * DIAGNOSTICS
 *	Returns -1 when memory runs out.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "report/out.h"

/* row - one group or the total */
static void row(FILE *fp, const char *kind, const char *name, const struct agg_counts *c, struct strbuf *sb)
{
    double share = agg_tls_share(c);

    fputs(kind, fp);
    strbuf_reset(sb);
    report_safe(sb, name);
    report_csv_field(fp, strbuf_str(sb), false);
    fprintf(fp, ",%llu,%llu,", c->recipients, c->tls);
    if (share >= 0)
        fprintf(fp, "%.4f", share);
    fprintf(fp, ",%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu", c->rejected, c->deferred, c->downgrades,
            c->downgrade_accepted, c->would_reject, c->exempt, c->sessions, c->suspected);
    strbuf_reset(sb);
    report_hist(sb, &c->versions, "=", ";");
    report_csv_field(fp, strbuf_str(sb), false);
    strbuf_reset(sb);
    report_hist(sb, &c->ciphers, "=", ";");
    report_csv_field(fp, strbuf_str(sb), false);
    fputs("\r\n", fp);
}

/* report_out_csv - header, groups, total */
int report_out_csv(FILE *fp, const struct agg *a, const struct report_meta *meta)
{
    struct map_entry **v = NULL;
    struct strbuf sb;
    size_t i;
    int rc;

    for (i = 0; i < meta->nsections; i++)
        if (meta->sections[i].csv != NULL) /* one table a file: this one instead */
            return meta->sections[i].csv(fp, meta->sections[i].ctx);
    if (a->groups.len > 0 && (v = map_sorted(&a->groups, 0)) == NULL)
        return -1;
    strbuf_init(&sb);
    fprintf(fp, "kind,group,recipients,tls,tls_share,rejected,deferred,downgrades,downgrade_accepted,"
                "monitor_would_reject,exempt,sessions,suspected_tls_failures,versions,ciphers\r\n");
    for (i = 0; i < a->groups.len; i++)
        row(fp, "group", v[i]->key, v[i]->ptr, &sb);
    row(fp, "total", "", &a->total, &sb);
    rc = strbuf_failed(&sb) ? -1 : 0;
    strbuf_free(&sb);
    free(v);
    return rc;
}
