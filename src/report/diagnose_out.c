/*++
 * NAME
 *	diagnose_out 3
 * SUMMARY
 *	--diagnose: the diagnosis as text, json and html
 * SYNOPSIS
 *	#include "report/diagnose.h"
 *
 *	void	diagnose_section(d, section)
 * DESCRIPTION
 *	The diagnosis in each format, as the report's section (see
 *	out.h): the text "Diagnosis" after the tables, the json keys
 *	"diagnosis_input" and "diagnosis", the html after the histograms;
 *	no csv (a usage error). One client's timeline is a list of
 *	labelled rows, in the order of the story: the TLS facts before
 *	the break and what they imply, the failures, what followed, then
 *	cause and remedy. The text and the html print the same rows, so
 *	they cannot drift apart. Values from the logs go through
 *	report_safe(). Times are "%Y-%m-%dT%H:%M:%S%z" in the reader's
 *	time zone.
 * DIAGNOSTICS
 *	A writer returns -1 (json: null values) when memory runs out.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "report/cause.h"
#include "report/transitions.h"
#include "report/diagnose.h"
#include "report/out.h"

#define TIME_MAX  32
#define NO_REASON "(none logged)"

/* fmt_time - a time stamp as text */
static const char *fmt_time(time_t when, char *buf)
{
    struct tm tm;

    if (localtime_r(&when, &tm) == NULL || strftime(buf, TIME_MAX, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
        strcpy(buf, "-");
    return buf;
}

/* reason_of - a reason as shown */
static const char *reason_of(const char *reason)
{
    return *reason ? reason : NO_REASON;
}

/* keys - the keys of a map joined by ", " (by count when by_count), "-" when empty */
static void keys(struct strbuf *sb, const struct map *m, int by_count)
{
    struct map_entry **v;
    size_t i;

    if (m->len == 0) {
        strbuf_puts(sb, "-");
        return;
    }
    if ((v = map_sorted(m, by_count)) == NULL) {
        sb->failed = true;
        return;
    }
    for (i = 0; i < m->len; i++) {
        strbuf_puts(sb, i > 0 ? ", " : "");
        report_safe(sb, *v[i]->key ? v[i]->key : NO_REASON);
        if (by_count)
            strbuf_printf(sb, " %llu", v[i]->count);
    }
    free(v);
}

/* row_fn - one row of a client's timeline, the value printable (report_safe) */
typedef void (*row_fn)(void *ctx, const char *label, const char *value);

/* Rows of one client, with a buffer for their values. */
struct rows {
    row_fn fn;
    void *ctx;
    struct strbuf sb;
    char t[TIME_MAX];
};

/* emit - one row from the buffer, which is then reset */
static void emit(struct rows *r, const char *label)
{
    r->fn(r->ctx, label, strbuf_str(&r->sb));
    strbuf_reset(&r->sb);
}

/* rows_facts - the TLS facts before the break and what they imply */
static void rows_facts(struct rows *r, const struct diagnose_client *c, const struct transitions_implies *im)
{
    const char *label = "implies:";
    int i;

    if (c->tls_before) {
        strbuf_printf(&r->sb, "%s ", fmt_time(c->last_tls, r->t));
        report_safe(&r->sb, c->version);
        strbuf_puts(&r->sb, " ");
        report_safe(&r->sb, c->cipher);
    } else {
        strbuf_puts(&r->sb, c->failures > 0 ? "none before the first failure" : "none");
    }
    emit(r, "last TLS:");
    keys(&r->sb, &c->versions, 0);
    emit(r, "versions seen over TLS:");
    keys(&r->sb, &c->ciphers, 0);
    emit(r, "ciphers seen over TLS:");
    for (i = 0; i < TRANSITIONS_IMP_N; i++) {
        if (im->imp[i]) {
            strbuf_puts(&r->sb, transitions_imp_text((enum transitions_imp) i));
            emit(r, label);
            label = "";
        }
    }
    if (im->unknown != NULL) {
        transitions_unknown_text(&r->sb, im->unknown);
        emit(r, label);
        label = "";
    }
    if (*label != 0) {
        strbuf_puts(&r->sb, c->versions.len > 0 ? "none" : "-");
        emit(r, label);
    }
}

/* rows_failures - the first failure, how many and why, from where */
static void rows_failures(struct rows *r, const struct diagnose_client *c)
{
    if (c->closed > 0) {
        strbuf_printf(&r->sb, "%llu, first %s", c->closed, fmt_time(c->first_closed, r->t));
        emit(r, "closed after STARTTLS:");
    }
    if (c->failures == 0) {
        strbuf_puts(&r->sb, "none in the MTA logs read");
        emit(r, "first failure:");
        return;
    }
    strbuf_printf(&r->sb, "%s %s", fmt_time(c->first_fail, r->t), mtafail_mta_name(c->first_mta));
    if (c->first_host[0] != 0) {
        strbuf_puts(&r->sb, " on ");
        report_safe(&r->sb, c->first_host);
    }
    strbuf_printf(&r->sb, ", %s: ", c->first_addr);
    report_safe(&r->sb, reason_of(c->first_reason));
    emit(r, "first failure:");
    strbuf_printf(&r->sb, "%llu (", c->failures);
    keys(&r->sb, &c->reasons, 1);
    strbuf_puts(&r->sb, ")");
    emit(r, "failures:");
    keys(&r->sb, &c->addrs, 0);
    if (c->more_addrs > 0)
        strbuf_printf(&r->sb, " (and %llu failures from other addresses)", c->more_addrs);
    emit(r, "failure addresses:");
    strbuf_puts(&r->sb, fmt_time(c->last_fail, r->t));
    emit(r, "last failure:");
}

/* rows_after - what followed the break */
static void rows_after(struct rows *r, const struct diagnose_client *c)
{
    if (c->failures > 0 || c->closed > 0) {
        strbuf_printf(&r->sb, "%llu", c->tls_after);
        if (c->tls_after > 0)
            strbuf_printf(&r->sb, ", last %s", fmt_time(c->last_tls_after, r->t));
        emit(r, c->failures > 0 ? "TLS after the failure:" : "TLS after first close:");
    }
    strbuf_printf(&r->sb, "%llu", c->plain_after);
    if (c->plain_after > 0)
        strbuf_printf(&r->sb, ", first %s; rejected %llu, deferred %llu",
                      fmt_time(c->first_plain_after, r->t), c->rejected_after, c->deferred_after);
    emit(r, c->failures > 0 ? "plaintext after the failure:"
            : c->closed > 0 ? "plaintext after first close:"
                            : "plaintext after last TLS:");
    keys(&r->sb, &c->refused, 1);
    emit(r, "refused recipient domains:");
    keys(&r->sb, &c->refused_rcpts, 1);
    emit(r, "refused recipients:");
}

/* client_rows - one client's timeline as labelled rows */
static int client_rows(const struct diagnose_client *c, row_fn fn, void *ctx)
{
    struct rows r;
    struct transitions_implies im;
    struct cause causes[CAUSE_MAX];
    size_t i, n;
    int rc;

    r.fn = fn;
    r.ctx = ctx;
    strbuf_init(&r.sb);
    transitions_implies(&c->versions, &c->ciphers, &im);
    rows_facts(&r, c, &im);
    rows_failures(&r, c);
    rows_after(&r, c);
    n = cause_find(c, &im, causes);
    for (i = 0; i < n; i++) {
        strbuf_puts(&r.sb, causes[i].cause);
        emit(&r, "cause:");
        if (causes[i].remedy != NULL) {
            strbuf_puts(&r.sb, causes[i].remedy);
            emit(&r, "remedy:");
        }
    }
    if (n == 0) {
        strbuf_puts(&r.sb, "none known: no handshake failure in the MTA logs read");
        emit(&r, "cause:");
    }
    rc = strbuf_failed(&r.sb) ? -1 : 0;
    strbuf_free(&r.sb);
    return rc;
}

/* text_row - one row of the text section */
static void text_row(void *ctx, const char *label, const char *value)
{
    fprintf(ctx, "    %-29s %s\n", label, value);
}

/* write_text - the text section */
static int write_text(FILE *fp, const struct diagnose *d)
{
    const struct diagnose_client **v;
    struct diagnose_counts n;
    struct strbuf sb;
    size_t i, len;
    int rc = 0;

    diagnose_counts(d, &n);
    if (diagnose_clients(d, &v, &len) != 0)
        return -1;
    fprintf(fp, "\nDiagnosis (by client domain):\n");
    fprintf(
        fp,
        "  read: %llu handshake failures, %llu closed after STARTTLS, %llu failure lines refused; without a "
        "time stamp, left out: %llu failures, %llu decision records\n",
        n.failures, n.closed, n.bad_lines, n.untimed_fail, n.untimed_record);
    if (len == 0)
        fprintf(fp, "  (no client with a handshake failure or gone from TLS to plaintext)\n");
    strbuf_init(&sb);
    for (i = 0; i < len; i++) {
        strbuf_reset(&sb);
        report_safe(&sb, v[i]->key);
        fprintf(fp, "  %s\n", strbuf_str(&sb));
        if (client_rows(v[i], text_row, fp) != 0)
            rc = -1;
    }
    if (n.not_shown > 0)
        fprintf(fp, "  ... and %llu more clients\n", n.not_shown);
    if (n.oom)
        fprintf(fp, "  (out of memory: the diagnosis is incomplete)\n");
    rc |= strbuf_failed(&sb) ? -1 : 0;
    strbuf_free(&sb);
    free(v);
    return n.oom ? -1 : rc;
}

/* jtime - a time stamp, or null */
static struct json_object *jtime(bool has, time_t when)
{
    char t[TIME_MAX];

    return has ? json_object_new_string(fmt_time(when, t)) : NULL;
}

/* jreasons - {"key": count, ...}, most frequent first (reasons, refused domains) */
static struct json_object *jreasons(struct strbuf *sb, const struct map *m)
{
    struct json_object *o = json_object_new_object();
    struct map_entry **v;
    size_t i;

    if (o == NULL || m->len == 0 || (v = map_sorted(m, 1)) == NULL)
        return o;
    for (i = 0; i < m->len; i++) {
        strbuf_reset(sb);
        report_safe(sb, reason_of(v[i]->key));
        json_object_object_add(o, strbuf_str(sb), json_object_new_uint64(v[i]->count));
    }
    free(v);
    return o;
}

/* jfirst - the first failure, or null */
static struct json_object *jfirst(struct strbuf *sb, const struct diagnose_client *c)
{
    struct json_object *o;

    if (c->failures == 0 || (o = json_object_new_object()) == NULL)
        return NULL;
    json_object_object_add(o, "time", jtime(true, c->first_fail));
    json_object_object_add(o, "mta", json_object_new_string(mtafail_mta_name(c->first_mta)));
    json_object_object_add(o, "host", report_json_str(sb, c->first_host));
    json_object_object_add(o, "address", json_object_new_string(c->first_addr));
    json_object_object_add(o, "reason", c->first_reason[0] ? report_json_str(sb, c->first_reason) : NULL);
    return o;
}

/* jimplies - the implications as phrases */
static struct json_object *jimplies(struct strbuf *sb, const struct transitions_implies *im)
{
    struct json_object *arr = json_object_new_array();
    int i;

    for (i = 0; arr != NULL && i < TRANSITIONS_IMP_N; i++)
        if (im->imp[i])
            json_object_array_add(arr,
                                  json_object_new_string(transitions_imp_text((enum transitions_imp) i)));
    if (arr != NULL && im->unknown != NULL) {
        strbuf_reset(sb);
        json_object_array_add(arr, json_object_new_string(transitions_unknown_text(sb, im->unknown)));
    }
    return arr;
}

/* jcauses - [{"pattern", "cause", "remedy"}, ...] */
static struct json_object *jcauses(const struct diagnose_client *c, const struct transitions_implies *im)
{
    struct json_object *arr = json_object_new_array(), *o;
    struct cause causes[CAUSE_MAX];
    size_t i, n = cause_find(c, im, causes);

    for (i = 0; arr != NULL && i < n && (o = json_object_new_object()) != NULL; i++) {
        json_object_object_add(o, "pattern", json_object_new_string(causes[i].pattern));
        json_object_object_add(o, "cause", json_object_new_string(causes[i].cause));
        json_object_object_add(o, "remedy",
                               causes[i].remedy ? json_object_new_string(causes[i].remedy) : NULL);
        json_object_array_add(arr, o);
    }
    return arr;
}

/* jclient - one client's timeline */
static struct json_object *jclient(struct strbuf *sb, const struct diagnose_client *c)
{
    struct json_object *o = json_object_new_object();
    struct transitions_implies im;

    if (o == NULL)
        return NULL;
    transitions_implies(&c->versions, &c->ciphers, &im);
    json_object_object_add(o, "client", report_json_str(sb, c->key));
    json_object_object_add(o, "last_tls_time", jtime(c->tls_before, c->last_tls));
    json_object_object_add(o, "last_tls_version", c->tls_before ? report_json_str(sb, c->version) : NULL);
    json_object_object_add(o, "last_cipher", c->tls_before ? report_json_str(sb, c->cipher) : NULL);
    json_object_object_add(o, "versions_seen", report_json_keys(sb, &c->versions));
    json_object_object_add(o, "ciphers_seen", report_json_keys(sb, &c->ciphers));
    json_object_object_add(o, "implications", jimplies(sb, &im));
    json_object_object_add(o, "failures", json_object_new_uint64(c->failures));
    json_object_object_add(o, "first_failure", jfirst(sb, c));
    json_object_object_add(o, "last_failure_time", jtime(c->failures > 0, c->last_fail));
    json_object_object_add(o, "closed_after_starttls", json_object_new_uint64(c->closed));
    json_object_object_add(o, "first_closed_time", jtime(c->closed > 0, c->first_closed));
    json_object_object_add(o, "reasons", jreasons(sb, &c->reasons));
    json_object_object_add(o, "failure_addresses", report_json_keys(sb, &c->addrs));
    json_object_object_add(o, "failures_from_other_addresses", json_object_new_uint64(c->more_addrs));
    json_object_object_add(o, "tls_after", json_object_new_uint64(c->tls_after));
    json_object_object_add(o, "last_tls_after_time", jtime(c->tls_after > 0, c->last_tls_after));
    json_object_object_add(o, "plaintext_after", json_object_new_uint64(c->plain_after));
    json_object_object_add(o, "first_plaintext_after_time", jtime(c->plain_after > 0, c->first_plain_after));
    json_object_object_add(o, "rejected_after", json_object_new_uint64(c->rejected_after));
    json_object_object_add(o, "deferred_after", json_object_new_uint64(c->deferred_after));
    json_object_object_add(o, "refused_domains", jreasons(sb, &c->refused));
    json_object_object_add(o, "refused_recipients", jreasons(sb, &c->refused_rcpts));
    json_object_object_add(o, "causes", jcauses(c, &im));
    return o;
}

/* json_clients - the "diagnosis" array */
static struct json_object *json_clients(const struct diagnose *d)
{
    const struct diagnose_client **v;
    struct json_object *arr;
    struct strbuf sb;
    struct diagnose_counts n;
    size_t i, len;

    diagnose_counts(d, &n);
    if (n.oom || diagnose_clients(d, &v, &len) != 0)
        return NULL;
    if ((arr = json_object_new_array()) == NULL || len == 0) {
        free(v);
        return arr;
    }
    strbuf_init(&sb);
    for (i = 0; i < len; i++)
        json_object_array_add(arr, jclient(&sb, v[i]));
    strbuf_free(&sb);
    free(v);
    return arr;
}

/* json_input - the "diagnosis_input" object */
static struct json_object *json_input(const struct diagnose *d)
{
    struct json_object *o = json_object_new_object();
    struct diagnose_counts n;

    if (o == NULL)
        return NULL;
    diagnose_counts(d, &n);
    json_object_object_add(o, "failures", json_object_new_uint64(n.failures));
    json_object_object_add(o, "closed_after_starttls", json_object_new_uint64(n.closed));
    json_object_object_add(o, "refused_lines", json_object_new_uint64(n.bad_lines));
    json_object_object_add(o, "failures_without_time", json_object_new_uint64(n.untimed_fail));
    json_object_object_add(o, "records_without_time", json_object_new_uint64(n.untimed_record));
    json_object_object_add(o, "clients_not_shown", json_object_new_uint64(n.not_shown));
    return o;
}

/* html_row - one row of a client's table; the label without its colon */
static void html_row(void *ctx, const char *label, const char *value)
{
    FILE *fp = ctx;
    size_t n = strlen(label);
    bool cause = strcmp(label, "cause:") == 0 || strcmp(label, "remedy:") == 0;

    fprintf(fp, "<tr><th>%.*s</th><td>%s", (int) (n > 0 ? n - 1 : 0), label, cause ? "<b>" : "");
    report_html_safe(fp, value, 0);
    fprintf(fp, "%s</td></tr>\n", cause ? "</b>" : "");
}

/* html_clients - a heading and a table of rows per client */
static int html_clients(FILE *fp, const struct diagnose_client **v, size_t len)
{
    struct strbuf sb;
    size_t i;
    int rc = 0;

    strbuf_init(&sb);
    for (i = 0; i < len; i++) {
        strbuf_reset(&sb);
        report_safe(&sb, v[i]->key);
        fputs("<h3>", fp);
        report_html_safe(fp, strbuf_str(&sb), 0);
        fputs("</h3>\n<table>\n<tbody>\n", fp);
        if (client_rows(v[i], html_row, fp) != 0)
            rc = -1;
        fputs("</tbody>\n</table>\n", fp);
    }
    if (strbuf_failed(&sb))
        rc = -1;
    strbuf_free(&sb);
    return rc;
}

/* write_html - the diagnosis as a section of the html report */
static int write_html(FILE *fp, const struct diagnose *d)
{
    const struct diagnose_client **v;
    struct diagnose_counts n;
    size_t len;
    int rc;

    diagnose_counts(d, &n);
    if (diagnose_clients(d, &v, &len) != 0)
        return -1;
    fprintf(fp,
            "<h2>Diagnosis (by client domain)</h2>\n<p>Read: %llu handshake failures from the MTA logs, %llu "
            "connections closed after STARTTLS, %llu failure lines refused; without a time stamp, left out: "
            "%llu failures, %llu decision records.</p>\n",
            n.failures, n.closed, n.bad_lines, n.untimed_fail, n.untimed_record);
    if (len == 0)
        fputs("<p>No client with a handshake failure or gone from TLS to plaintext.</p>\n", fp);
    if (n.oom)
        fputs("<p class=\"alert\">Out of memory: the diagnosis is incomplete.</p>\n", fp);
    rc = html_clients(fp, v, len);
    if (n.not_shown > 0)
        fprintf(fp, "<p>... and %llu more clients (fewer failures).</p>\n", n.not_shown);
    free(v);
    return n.oom ? -1 : rc;
}

/* section_text, section_html - report_section adapters */
static int section_text(FILE *fp, const void *ctx)
{
    return write_text(fp, ctx);
}

static int section_html(FILE *fp, const void *ctx)
{
    return write_html(fp, ctx);
}

/* section_json - report_section adapter: "diagnosis_input", then "diagnosis" */
static void section_json(struct json_object *doc, const void *ctx)
{
    json_object_object_add(doc, "diagnosis_input", json_input(ctx));
    json_object_object_add(doc, "diagnosis", json_clients(ctx));
}

/* diagnose_section - the writers of the section */
void diagnose_section(const struct diagnose *d, struct report_section *s)
{
    memset(s, 0, sizeof(*s));
    s->ctx = d;
    s->text = section_text;
    s->json = section_json;
    s->html = section_html;
}
