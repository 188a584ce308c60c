/*++
 * NAME
 *	whatif_out 3
 * SUMMARY
 *	the impact forecast as text, json, csv and html
 * SYNOPSIS
 *	#include "report/whatif.h"
 *
 *	void	whatif_section(w, section)
 * DESCRIPTION
 *	The forecast's counts (whatif_impl.h) in each format, as the
 *	report's section (see out.h): text after the tables, the json
 *	key "what_if", with -f csv the changes instead of the groups, the
 *	html after the malformed lines. The keys and
 *	columns are listed in tlspolicy-report(1), WHAT-IF. Changes are in
 *	byte order of their fields, so the same input gives the same
 *	output. The fields were made printable when they were counted.
 * DIAGNOSTICS
 *	-1 (NULL for json) when memory runs out, or when it ran out while
 *	counting: the forecast is then incomplete and the text says so.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "report/out.h"
#include "report/whatif.h"
#include "report/whatif_impl.h"

#define CHANGE_FIELDS 5 /* in a by_rcpt or by_client key */

/* write_transitions - the count of each change, most frequent first */
static int write_transitions(FILE *fp, const struct whatif *w)
{
    struct map_entry **v;
    size_t i;

    if ((v = map_sorted(&w->transitions, 1)) == NULL)
        return -1;
    fprintf(fp, "\n  Changes:\n");
    for (i = 0; i < w->transitions.len; i++)
        fprintf(fp, "    %-50s %10llu\n", v[i]->key, v[i]->count);
    free(v);
    return 0;
}

/* next_field - the text up to the next tab, NUL-terminated in place */
static char *next_field(char **p)
{
    char *start = *p, *tab = strchr(start, '\t');

    if (tab != NULL) {
        *tab = 0;
        *p = tab + 1;
    } else {
        *p = start + strlen(start);
    }
    return start;
}

/* write_rows - one listing: a heading per first field, a row per change */
static int write_rows(FILE *fp, const struct map *m, const char *title, const char *other)
{
    struct map_entry **v;
    char *copy, *p, *group, *prev = NULL, *f[4];
    size_t i, k;

    if ((v = map_sorted(m, 0)) == NULL)
        return -1;
    fprintf(fp, "\n  Changes by %s:\n", title);
    for (i = 0; i < m->len; i++, free(prev), prev = copy) {
        if ((p = copy = strdup(v[i]->key)) == NULL) {
            free(prev);
            free(v);
            return -1;
        }
        group = next_field(&p);
        for (k = 0; k < 4; k++)
            f[k] = next_field(&p);
        if (prev == NULL || strcmp(prev, group) != 0)
            fprintf(fp, "    %s\n", group);
        fprintf(fp, "      %6llu  %s  %s  %s %s  sender %s\n", v[i]->count, f[0], f[1], other, f[2], f[3]);
    }
    free(prev);
    free(v);
    return 0;
}

/* write_text - the forecast, after the report */
static int write_text(FILE *fp, const struct whatif *w)
{
    struct strbuf path;
    int rc = 0;

    strbuf_init(&path);
    report_safe(&path, w->path);
    fprintf(fp, "\nWhat if %s (config %s):\n", strbuf_str(&path), w->cfg->hash);
    strbuf_free(&path);
    fprintf(fp, "  decision records re-evaluated: %llu, unchanged: %llu, changed: %llu\n", w->decisions,
            w->decisions - w->changed, w->changed);
    fprintf(fp, "  exempt only if authenticated (not recorded), kept exempt: %llu\n", w->auth_assumed);
    fprintf(fp, "  plaintext at level opportunistic, fallback history not replayed: %llu (%llu downgrades kept)\n",
            w->fb_unknown, w->fb_kept);
    if (w->changed == 0) {
        fprintf(fp, "  No decision would change.\n");
    } else if (write_transitions(fp, w) != 0 || write_rows(fp, &w->by_rcpt, "rcpt_domain", "from") != 0 ||
               write_rows(fp, &w->by_client, "client", "to") != 0) {
        rc = -1;
    }
    if (w->oom) {
        fprintf(fp, "  (out of memory: the forecast is incomplete)\n");
        rc = -1;
    }
    return rc;
}

/* split - a change's key fields, in a copy the caller frees; NULL on OOM */
static char *split(const char *key, char *f[CHANGE_FIELDS])
{
    char *copy, *p;
    size_t k;

    if ((p = copy = strdup(key)) == NULL)
        return NULL;
    for (k = 0; k < CHANGE_FIELDS; k++)
        f[k] = next_field(&p);
    return copy;
}

/* change_json - one by_rcpt change as an object */
static struct json_object *change_json(const struct map_entry *e)
{
    static const char *const names[CHANGE_FIELDS] = {"rcpt_domain", "change", "reason", "client", "sender"};
    struct json_object *o;
    char *copy, *f[CHANGE_FIELDS];
    size_t k;

    if ((copy = split(e->key, f)) == NULL || (o = json_object_new_object()) == NULL) {
        free(copy);
        return NULL;
    }
    for (k = 0; k < CHANGE_FIELDS; k++)
        json_object_object_add(o, names[k], json_object_new_string(f[k]));
    json_object_object_add(o, "recipients", json_object_new_uint64(e->count));
    free(copy);
    return o;
}

/* changes_json - the by_rcpt changes, or the transitions (by count) */
static struct json_object *changes_json(const struct map *m, int transitions)
{
    struct json_object *a = json_object_new_array(), *o;
    struct map_entry **v = NULL;
    size_t i;

    if (a == NULL || (m->len > 0 && (v = map_sorted(m, transitions)) == NULL)) {
        json_object_put(a);
        return NULL;
    }
    for (i = 0; i < m->len; i++) {
        if (transitions && (o = json_object_new_object()) != NULL) {
            json_object_object_add(o, "change", json_object_new_string(v[i]->key));
            json_object_object_add(o, "recipients", json_object_new_uint64(v[i]->count));
        } else if (!transitions) {
            o = change_json(v[i]);
        }
        if (o == NULL || json_object_array_add(a, o) != 0) {
            json_object_put(a);
            a = NULL;
            break;
        }
    }
    free(v);
    return a;
}

/* what_if_json - the "what_if" object */
static struct json_object *what_if_json(const struct whatif *w)
{
    struct json_object *o = json_object_new_object(), *t, *c;
    struct strbuf path;

    t = changes_json(&w->transitions, 1);
    c = changes_json(&w->by_rcpt, 0);
    if (o == NULL || t == NULL || c == NULL) {
        json_object_put(o);
        json_object_put(t);
        json_object_put(c);
        return NULL;
    }
    strbuf_init(&path);
    report_safe(&path, w->path);
    json_object_object_add(o, "config", json_object_new_string(strbuf_str(&path)));
    strbuf_free(&path);
    json_object_object_add(o, "config_hash", json_object_new_string(w->cfg->hash));
    json_object_object_add(o, "reevaluated", json_object_new_uint64(w->decisions));
    json_object_object_add(o, "changed", json_object_new_uint64(w->changed));
    json_object_object_add(o, "exempt_auth_assumed", json_object_new_uint64(w->auth_assumed));
    json_object_object_add(o, "fallback_not_replayed", json_object_new_uint64(w->fb_unknown));
    json_object_object_add(o, "downgrades_kept", json_object_new_uint64(w->fb_kept));
    json_object_object_add(o, "complete", json_object_new_boolean(!w->oom));
    json_object_object_add(o, "transitions", t);
    json_object_object_add(o, "changes", c);
    return o;
}

/* write_csv - the changes, one row each, instead of the groups */
static int write_csv(FILE *fp, const struct whatif *w)
{
    struct map_entry **v = NULL;
    char *copy, *f[CHANGE_FIELDS];
    size_t i, k;

    if (w->by_rcpt.len > 0 && (v = map_sorted(&w->by_rcpt, 0)) == NULL)
        return -1;
    fprintf(fp, "rcpt_domain,change,reason,client,sender,recipients\r\n");
    for (i = 0; i < w->by_rcpt.len; i++) {
        if ((copy = split(v[i]->key, f)) == NULL) {
            free(v);
            return -1;
        }
        for (k = 0; k < CHANGE_FIELDS; k++)
            report_csv_field(fp, f[k], k == 0);
        fprintf(fp, ",%llu\r\n", v[i]->count);
        free(copy);
    }
    free(v);
    return w->oom ? -1 : 0;
}

/* html_row - one table row of printable fields and a count */
static void html_row(FILE *fp, char *const *f, size_t n, unsigned long long count)
{
    size_t k;

    fputs("<tr>", fp);
    for (k = 0; k < n; k++) {
        fputs("<td class=\"v\">", fp);
        report_html_safe(fp, f[k], 0);
        fputs("</td>", fp);
    }
    fprintf(fp, "<td class=\"n\">%llu</td></tr>\n", count);
}

/* html_table - the transitions (by count) or the by_rcpt changes, as a table */
static int html_table(FILE *fp, const struct map *m, int transitions)
{
    static const char head_t[] = "<th>change</th><th>recipients</th>";
    static const char head_c[] = "<th>rcpt_domain</th><th>change</th><th>reason</th><th>client</th>"
                                 "<th>sender</th><th>recipients</th>";
    struct map_entry **v;
    char *copy = NULL, *f[CHANGE_FIELDS];
    size_t i;

    if (m->len == 0)
        return 0;
    if ((v = map_sorted(m, transitions)) == NULL)
        return -1;
    fprintf(fp, "<table>\n<thead><tr>%s</tr></thead>\n<tbody>\n", transitions ? head_t : head_c);
    for (i = 0; i < m->len; i++, free(copy)) {
        f[0] = v[i]->key;
        if (!transitions && (copy = split(v[i]->key, f)) == NULL) {
            free(v);
            return -1;
        }
        html_row(fp, f, transitions ? 1 : CHANGE_FIELDS, v[i]->count);
    }
    fputs("</tbody>\n</table>\n", fp);
    free(v);
    return 0;
}

/* write_html - the forecast as a section of the html report */
static int write_html(FILE *fp, const struct whatif *w)
{
    struct strbuf path;
    int rc;

    strbuf_init(&path);
    report_safe(&path, w->path);
    fputs("<h2>What if ", fp);
    report_html_safe(fp, strbuf_str(&path), 0);
    strbuf_free(&path);
    fputs("</h2>\n<p>Configuration hash <b>", fp);
    report_html_safe(fp, w->cfg->hash, 0);
    fprintf(fp,
            "</b>: %llu decision records re-evaluated, %llu changed; exempt only if authenticated "
            "(not recorded), kept exempt: %llu; plaintext at level opportunistic whose fallback "
            "history is not replayed: %llu (%llu downgrades kept).</p>\n",
            w->decisions, w->changed, w->auth_assumed, w->fb_unknown, w->fb_kept);
    rc = html_table(fp, &w->transitions, 1) | html_table(fp, &w->by_rcpt, 0);
    if (w->oom)
        fputs("<p>Out of memory: the forecast is incomplete.</p>\n", fp);
    return rc != 0 ? -1 : 0;
}

/* section_text, section_csv, section_html - report_section adapters */
static int section_text(FILE *fp, const void *ctx)
{
    return write_text(fp, ctx);
}

static int section_csv(FILE *fp, const void *ctx)
{
    return write_csv(fp, ctx);
}

static int section_html(FILE *fp, const void *ctx)
{
    return write_html(fp, ctx);
}

/* section_json - report_section adapter: the "what_if" key */
static void section_json(struct json_object *doc, const void *ctx)
{
    json_object_object_add(doc, "what_if", what_if_json(ctx));
}

/* whatif_section - the writers of the section; its html comes after the
   malformed lines, where the report has always put it */
void whatif_section(const struct whatif *w, struct report_section *s)
{
    memset(s, 0, sizeof(*s));
    s->ctx = w;
    s->text = section_text;
    s->json = section_json;
    s->csv = section_csv;
    s->html_end = section_html;
}
