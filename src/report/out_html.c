/*++
 * NAME
 *	out_html 3
 * SUMMARY
 *	the report as one self-contained, printable HTML file
 * SYNOPSIS
 *	#include "report/out.h"
 *
 *	int	report_out_html(fp, agg, meta)
 * DESCRIPTION
 *	One HTML5 document that is also well-formed XML (XHTML syntax:
 *	every element closed, attributes quoted, no named entities), in
 *	UTF-8, with its style sheet inline, inline SVG charts, and no
 *	script, image, font or link to anything outside the file: it opens
 *	and prints the same anywhere, years later, without a network.
 *
 *	Order: title and period, what was read, the record sequence per
 *	instance (first, because a report with missing records proves
 *	less; an instance with missing records is marked in words as well
 *	as in colour, for a black and white print), the group table with
 *	the columns of the text report and a TOTAL row, a bar chart of the
 *	share over TLS per group, a stacked bar chart of the protocol
 *	versions per group, the version and cipher histograms, the html
 *	of each section (--diagnose: the diagnosis), the first malformed
 *	lines, and the html_end of each section (--what-if: the forecast).
 *
 *	Every value from the logs goes through report_safe() (non-printable
 *	bytes as \xHH) and then has &, <, >, " and ' replaced by character
 *	references, so it is text in any context, element or attribute.
 *	The version chart has a bar segment for each well-known version
 *	and one "other" segment for everything else, so a hostile log
 *	cannot make the legend unbounded; the exact names are in the
 *	histogram table. Numbers are printed with fixed precision, so the
 *	same input always gives the same bytes.
 * DIAGNOSTICS
 *	Returns -1 when memory runs out.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "report/out.h"

#define CH_LABEL 230 /* chart: width of the group name column */
#define CH_BAR   400 /* chart: width of 100% */
#define CH_WIDTH (CH_LABEL + CH_BAR + 110)
#define CH_ROW   20 /* chart: height of one group's row */
#define CH_TOP   22 /* chart: room for the axis labels */
#define CH_NAME  34 /* chart: longest group name shown in full */

struct html {
    FILE *fp;
    struct strbuf sb;
};

/* Protocol versions in chart order, best first; the last is "other". */
static const struct version {
    const char *name;
    const char *colour;
} versions[] = {
    {"TLSv1.3", "#1a6e35"}, {"TLSv1.2", "#5aae61"}, {"TLSv1.1", "#f1b04c"},
    {"TLSv1.0", "#e66101"}, {"TLSv1", "#c85a1e"},   {"SSLv3", "#7b3294"},
    {"SSLv2", "#40004b"},   {"none", "#c0131a"},    {"other", "#8c8c8c"},
};

#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

static const char style[] =
    "body { font-family: sans-serif; font-size: 10pt; color: #000; background: #fff; margin: 2em; }\n"
    "h1 { font-size: 16pt; margin-bottom: 0.2em; }\n"
    "h2 { font-size: 12.5pt; margin-top: 1.6em; border-bottom: 1px solid #888; }\n"
    "table { border-collapse: collapse; margin: 0.5em 0; }\n"
    "th, td { border: 1px solid #999; padding: 2px 6px; vertical-align: top; }\n"
    "th { background: #e8e8e8; text-align: left; }\n"
    "td.n { text-align: right; white-space: nowrap; }\n"
    "td.v { font-family: monospace; word-break: break-all; }\n"
    "tr.gap td { background: #fbd5d5; font-weight: bold; }\n"
    "tr.total td { font-weight: bold; border-top: 2px solid #000; }\n"
    "p.alert { border: 2px solid #c0131a; background: #fbd5d5; padding: 4px 8px; font-weight: bold; }\n"
    "p.ok { border: 1px solid #1a6e35; background: #dcf0dc; padding: 4px 8px; }\n"
    "svg { display: block; margin: 0.5em 0; }\n"
    "svg text { font-family: sans-serif; font-size: 11px; fill: #000; }\n"
    "@page { margin: 15mm; }\n"
    "@media print {\n"
    "  body { margin: 0; }\n"
    "  h2 { break-after: avoid; page-break-after: avoid; }\n"
    "  tr { break-inside: avoid; page-break-inside: avoid; }\n"
    "  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
    "}\n";

/* put - a value from the logs, made printable, then as report_html_safe() */
static void put(struct html *h, const char *value, size_t max)
{
    strbuf_reset(&h->sb);
    report_safe(&h->sb, value);
    report_html_safe(h->fp, strbuf_str(&h->sb), max);
}

/* pct - "%.1f" of a share, or "-" without recipients */
static const char *pct(char *buf, size_t len, double share)
{
    if (share < 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.1f", share * 100);
    return buf;
}

/* header - head, title, period and input counts */
static void header(struct html *h, const struct agg *a, const struct report_meta *meta)
{
    FILE *fp = h->fp;

    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\" xml:lang=\"en\">\n"
          "<head>\n<meta charset=\"utf-8\"/>\n<title>TLS compliance report by ",
          fp);
    fprintf(fp, "%s</title>\n<style>\n%s</style>\n</head>\n<body>\n", agg_by_label(a->by), style);
    fprintf(fp, "<h1>TLS compliance report</h1>\n<p>tlspolicy-report by <b>%s</b>, period <b>",
            agg_by_label(a->by));
    put(h, meta->since ? meta->since : "(start)", 0);
    fputs("</b> .. <b>", fp);
    put(h, meta->until ? meta->until : "(end)", 0);
    fputs("</b></p>\n<h2>Input</h2>\n<table>\n", fp);
    fprintf(fp, "<tr><th>files</th><td class=\"n\">%llu</td></tr>\n", a->files);
    fprintf(fp, "<tr><th>lines</th><td class=\"n\">%llu</td></tr>\n", a->lines);
    fprintf(fp, "<tr><th>decision records</th><td class=\"n\">%llu</td></tr>\n", a->decisions);
    fprintf(fp, "<tr><th>session records</th><td class=\"n\">%llu</td></tr>\n", a->sessions);
    fprintf(fp, "<tr><th>malformed</th><td class=\"n\">%llu</td></tr>\n", a->malformed);
    fprintf(fp, "<tr><th>duplicates (counted once)</th><td class=\"n\">%llu</td></tr>\n", a->duplicates);
    fprintf(fp, "<tr><th>records of another program</th><td class=\"n\">%llu</td></tr>\n", a->foreign);
    if (meta->since || meta->until) {
        fprintf(fp, "<tr><th>records outside the period</th><td class=\"n\">%llu</td></tr>\n",
                a->out_of_period);
        fprintf(fp, "<tr><th>records without a time stamp</th><td class=\"n\">%llu</td></tr>\n", a->untimed);
    }
    fputs("</table>\n", fp);
}

/* ranges - the first missing seq ranges of one instance */
static void ranges(FILE *fp, const struct seqset *s)
{
    size_t i;

    for (i = 1; i < s->n && i <= REPORT_RANGES_SHOW; i++) {
        if (s->v[i - 1].hi + 1 == s->v[i].lo - 1)
            fprintf(fp, "%s%llu", i > 1 ? ", " : "", s->v[i - 1].hi + 1);
        else
            fprintf(fp, "%s%llu-%llu", i > 1 ? ", " : "", s->v[i - 1].hi + 1, s->v[i].lo - 1);
    }
    if (s->n - 1 > REPORT_RANGES_SHOW)
        fputs(", ...", fp);
}

/* instance_row - one instance of the seq table */
static void instance_row(struct html *h, const char *name, const struct seqset *s)
{
    unsigned long long missing = seqset_missing(s);

    fprintf(h->fp, "<tr%s><td class=\"v\">", missing ? " class=\"gap\"" : "");
    put(h, name, 0);
    fprintf(h->fp,
            "</td><td>%s</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%llu</td><td class=\"n\">%zu</td><td class=\"n\">%llu</td><td>",
            missing ? "RECORDS MISSING" : "complete", s->v[0].lo, s->v[s->n - 1].hi, s->records, missing,
            s->n - 1, s->duplicates);
    ranges(h->fp, s);
    fputs("</td></tr>\n", h->fp);
}

/* instances - the seq check, with a verdict above the table */
static int instances(struct html *h, const struct agg *a)
{
    struct map_entry **v;
    size_t i, bad = 0;

    fputs("<h2>Record sequence per instance</h2>\n", h->fp);
    if (a->instances.len == 0) {
        fputs("<p>No records.</p>\n", h->fp);
        return 0;
    }
    if ((v = map_sorted(&a->instances, 0)) == NULL)
        return -1;
    for (i = 0; i < a->instances.len; i++)
        bad += seqset_missing(v[i]->ptr) > 0;
    if (bad > 0)
        fprintf(h->fp,
                "<p class=\"alert\">%zu of %zu instances have missing records: the report does "
                "not cover every decision of the period.</p>\n",
                bad, a->instances.len);
    else
        fprintf(h->fp, "<p class=\"ok\">No records are missing in any of the %zu instances.</p>\n",
                a->instances.len);
    fputs("<table>\n<thead><tr><th>instance</th><th>status</th><th>first</th><th>last</th><th>records"
          "</th><th>missing</th><th>gaps</th><th>duplicates</th><th>missing seq</th></tr></thead>\n"
          "<tbody>\n",
          h->fp);
    for (i = 0; i < a->instances.len; i++)
        instance_row(h, v[i]->key, v[i]->ptr);
    fputs("</tbody>\n</table>\n", h->fp);
    free(v);
    return 0;
}

/* group_row - one line of the group table; name NULL for the total */
static void group_row(struct html *h, const char *name, const struct agg_counts *c)
{
    char buf[16];

    fputs(name ? "<tr><td class=\"v\">" : "<tr class=\"total\"><td>", h->fp);
    put(h, name ? name : "TOTAL", 0);
    fprintf(h->fp,
            "</td><td class=\"n\">%llu</td><td class=\"n\">%s</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
            "<td class=\"n\">%llu</td></tr>\n",
            c->recipients, pct(buf, sizeof(buf), agg_tls_share(c)), c->rejected, c->deferred, c->downgrades,
            c->downgrade_accepted, c->would_reject, c->exempt, c->sessions, c->suspected);
}

/* groups - the group table with its TOTAL row */
static void groups(struct html *h, const struct agg *a, struct map_entry **v)
{
    size_t i;

    fprintf(h->fp,
            "<h2>Groups by %s</h2>\n<table>\n<thead><tr><th>group</th><th>rcpts</th>"
            "<th>tls%%</th><th>rejected</th><th>deferred</th><th>downgr</th><th>dg_acc</th>"
            "<th>would_rej</th><th>exempt</th><th>sessions</th><th>suspect</th></tr></thead>\n"
            "<tbody>\n",
            agg_by_label(a->by));
    for (i = 0; i < a->groups.len; i++)
        group_row(h, v[i]->key, v[i]->ptr);
    group_row(h, NULL, &a->total);
    fputs("</tbody>\n</table>\n<p>rcpts: decision records (recipients); tls%: their share over TLS; "
          "downgr: downgrades; dg_acc: downgrades accepted; would_rej: monitor mode would have "
          "rejected or deferred; suspect: sessions with a suspected TLS failure.</p>\n",
          h->fp);
}

/* chart_open - an svg element for rows bars, with its 0-100% axis */
static void chart_open(FILE *fp, size_t rows, const char *label)
{
    int tick, x;

    fprintf(fp,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
            "viewBox=\"0 0 %d %zu\" role=\"img\" aria-label=\"%s\">\n",
            CH_WIDTH, CH_TOP + rows * CH_ROW + 4, CH_WIDTH, CH_TOP + rows * CH_ROW + 4, label);
    for (tick = 0; tick <= 100; tick += 25) {
        x = CH_LABEL + tick * CH_BAR / 100;
        fprintf(fp,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%zu\" stroke=\"#bbb\" stroke-width=\"1\"/>"
                "<text x=\"%d\" y=\"14\" text-anchor=\"middle\">%d%%</text>\n",
                x, CH_TOP - 4, x, CH_TOP + rows * CH_ROW, x, tick);
    }
}

/* chart_label - a group's name at the left of its row */
static void chart_label(struct html *h, const char *name, size_t row)
{
    fprintf(h->fp, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\"%s>", CH_LABEL - 6,
            CH_TOP + row * CH_ROW + 14, name ? "" : " font-weight=\"bold\"");
    put(h, name ? name : "TOTAL", CH_NAME);
    fputs("</text>\n", h->fp);
}

/* share_bar - one row of the TLS share chart */
static void share_bar(struct html *h, const char *name, const struct agg_counts *c, size_t row)
{
    double share = agg_tls_share(c);
    size_t y = CH_TOP + row * CH_ROW + 3;
    char buf[16];

    chart_label(h, name, row);
    if (share < 0) {
        fprintf(h->fp, "<text x=\"%d\" y=\"%zu\">no recipients</text>\n", CH_LABEL + 4, y + 11);
        return;
    }
    fprintf(h->fp,
            "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"14\" fill=\"%s\"/>"
            "<text x=\"%d\" y=\"%zu\">%s%% of %llu</text>\n",
            CH_LABEL, y, share * CH_BAR, name ? "#3a7dc4" : "#1f4e80", CH_LABEL + CH_BAR + 6, y + 11,
            pct(buf, sizeof(buf), share), c->recipients);
}

/* share_chart - the share over TLS of each group, and of all */
static void share_chart(struct html *h, const struct agg *a, struct map_entry **v)
{
    size_t i;

    fputs("<h2>Share of recipients over TLS</h2>\n", h->fp);
    chart_open(h->fp, a->groups.len + 1, "share of recipients over TLS per group");
    for (i = 0; i < a->groups.len; i++)
        share_bar(h, v[i]->key, v[i]->ptr, i);
    share_bar(h, NULL, &a->total, a->groups.len);
    fputs("</svg>\n", h->fp);
}

/* tally - recipients per chart version of one histogram */
static void tally(const struct map *m, unsigned long long *n)
{
    const struct map_entry *e;
    size_t pos = 0, k;

    memset(n, 0, NVERSIONS * sizeof(*n));
    while ((e = map_next(m, &pos)) != NULL) {
        for (k = 0; k < NVERSIONS - 1 && strcmp(versions[k].name, e->key) != 0; k++)
            /* void */;
        n[k] += e->count;
    }
}

/* version_bar - one row of the version chart, best version leftmost */
static void version_bar(struct html *h, const char *name, const struct agg_counts *c, size_t row)
{
    unsigned long long n[NVERSIONS], sum = 0, cum = 0;
    size_t k, y = CH_TOP + row * CH_ROW + 3;
    double x0;

    chart_label(h, name, row);
    tally(&c->versions, n);
    for (k = 0; k < NVERSIONS; k++)
        sum += n[k];
    if (sum == 0) {
        fprintf(h->fp, "<text x=\"%d\" y=\"%zu\">no recipients</text>\n", CH_LABEL + 4, y + 11);
        return;
    }
    for (k = 0; k < NVERSIONS; k++) {
        if (n[k] == 0)
            continue;
        x0 = (double) cum * CH_BAR / (double) sum;
        cum += n[k];
        fprintf(h->fp,
                "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"14\" fill=\"%s\">"
                "<title>%s: %llu of %llu</title></rect>\n",
                CH_LABEL + x0, y, (double) cum * CH_BAR / (double) sum - x0, versions[k].colour,
                versions[k].name, n[k], sum);
    }
    fprintf(h->fp, "<text x=\"%d\" y=\"%zu\">%llu</text>\n", CH_LABEL + CH_BAR + 6, y + 11, sum);
}

/* legend - the colours of the versions that occur anywhere */
static void legend(FILE *fp, const struct agg_counts *total)
{
    unsigned long long n[NVERSIONS];
    size_t k;
    int x = CH_LABEL;

    tally(&total->versions, n);
    fprintf(fp,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"20\" viewBox=\"0 0 %d 20\" "
            "role=\"img\" aria-label=\"legend\">\n",
            CH_WIDTH, CH_WIDTH);
    for (k = 0; k < NVERSIONS; k++) {
        if (n[k] == 0)
            continue;
        fprintf(fp,
                "<rect x=\"%d\" y=\"4\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"14\">%s</text>\n",
                x, versions[k].colour, x + 16, versions[k].name);
        x += 16 + 7 * (int) strlen(versions[k].name) + 14;
    }
    fputs("</svg>\n", fp);
}

/* version_chart - the protocol versions of each group, and of all */
static void version_chart(struct html *h, const struct agg *a, struct map_entry **v)
{
    size_t i;

    fputs("<h2>Protocol versions (recipients)</h2>\n", h->fp);
    legend(h->fp, &a->total);
    chart_open(h->fp, a->groups.len + 1, "protocol versions per group");
    for (i = 0; i < a->groups.len; i++)
        version_bar(h, v[i]->key, v[i]->ptr, i);
    version_bar(h, NULL, &a->total, a->groups.len);
    fputs("</svg>\n<p>\"none\" is plaintext; \"other\" is any version not named here (see the table "
          "below).</p>\n",
          h->fp);
}

/* hist_row - the versions and ciphers of one group */
static void hist_row(struct html *h, const char *name, const struct agg_counts *c, struct strbuf *hb)
{
    if (c->versions.len == 0)
        return;
    fputs(name ? "<tr><td class=\"v\">" : "<tr class=\"total\"><td>", h->fp);
    put(h, name ? name : "TOTAL", 0);
    fputs("</td><td class=\"v\">", h->fp);
    strbuf_reset(hb);
    report_hist(hb, &c->versions, " ", ", ");
    report_html_safe(h->fp, strbuf_str(hb), 0);
    fputs("</td><td class=\"v\">", h->fp);
    strbuf_reset(hb);
    report_hist(hb, &c->ciphers, " ", ", ");
    report_html_safe(h->fp, strbuf_str(hb), 0);
    fputs("</td></tr>\n", h->fp);
}

/* hists - the histogram table */
static int hists(struct html *h, const struct agg *a, struct map_entry **v)
{
    struct strbuf hb;
    size_t i;
    int rc;

    strbuf_init(&hb);
    fputs("<h2>Protocol versions and ciphers (recipients)</h2>\n<table>\n<thead><tr><th>group</th>"
          "<th>versions</th><th>ciphers</th></tr></thead>\n<tbody>\n",
          h->fp);
    for (i = 0; i < a->groups.len; i++)
        hist_row(h, v[i]->key, v[i]->ptr, &hb);
    hist_row(h, NULL, &a->total, &hb);
    fputs("</tbody>\n</table>\n", h->fp);
    rc = strbuf_failed(&hb) ? -1 : 0;
    strbuf_free(&hb);
    return rc;
}

/* malformed - the first malformed lines */
static void malformed(struct html *h, const struct agg *a)
{
    size_t i;

    if (a->malformed == 0)
        return;
    fprintf(h->fp,
            "<h2>Malformed records (%zu of %llu shown)</h2>\n<table>\n<thead><tr><th>file</th>"
            "<th>line</th><th>error</th></tr></thead>\n<tbody>\n",
            a->nshown, a->malformed);
    for (i = 0; i < a->nshown; i++) {
        fputs("<tr><td class=\"v\">", h->fp);
        put(h, a->shown[i].file, 0);
        fprintf(h->fp, "</td><td class=\"n\">%lu</td><td>", a->shown[i].line);
        put(h, a->shown[i].why, 0);
        fputs("</td></tr>\n", h->fp);
    }
    fputs("</tbody>\n</table>\n", h->fp);
}

/* report_out_html - the whole document */
int report_out_html(FILE *fp, const struct agg *a, const struct report_meta *meta)
{
    struct html h;
    struct map_entry **v = NULL;
    size_t i;
    int rc;

    h.fp = fp;
    strbuf_init(&h.sb);
    header(&h, a, meta);
    rc = instances(&h, a);
    if (rc == 0 && a->groups.len > 0 && (v = map_sorted(&a->groups, 0)) == NULL)
        rc = -1;
    if (rc == 0) {
        groups(&h, a, v);
        share_chart(&h, a, v);
        version_chart(&h, a, v);
        rc = hists(&h, a, v);
    }
    for (i = 0; i < meta->nsections; i++)
        if (rc == 0 && meta->sections[i].html != NULL)
            rc = meta->sections[i].html(fp, meta->sections[i].ctx);
    malformed(&h, a);
    for (i = 0; i < meta->nsections; i++)
        if (meta->sections[i].html_end != NULL && meta->sections[i].html_end(fp, meta->sections[i].ctx) != 0)
            rc = -1;
    fputs("</body>\n</html>\n", fp);
    if (strbuf_failed(&h.sb))
        rc = -1;
    strbuf_free(&h.sb);
    free(v);
    return rc;
}
