/*++
 * NAME
 *	out_json 3
 * SUMMARY
 *	the report as one JSON document (schema tlspolicy-report/1)
 * SYNOPSIS
 *	#include "report/out.h"
 *
 *	int	report_out_json(fp, agg, meta)
 * DESCRIPTION
 *	The schema is documented in tlspolicy-report(1); keys appear in
 *	that order. Adding a key is a compatible change; renaming or
 *	removing one changes the "schema" value. The document is built
 *	with json-c (its size is the number of groups, not of lines) and
 *	printed indented. Each section adds its own keys after "total".
 * DIAGNOSTICS
 *	Returns -1 when memory runs out.
 *--*/

/* System library. */
#include <stdlib.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "report/out.h"

#define SCHEMA "tlspolicy-report/1"

/* str - a JSON string of a log value, escaped as report_safe does */
static struct json_object *str(const char *value)
{
    struct json_object *o;
    struct strbuf sb;

    if (value == NULL)
        return NULL;
    strbuf_init(&sb);
    report_safe(&sb, value);
    o = strbuf_failed(&sb) ? NULL : json_object_new_string(strbuf_str(&sb));
    strbuf_free(&sb);
    return o;
}

/* num - an unsigned counter */
static struct json_object *num(unsigned long long n)
{
    return json_object_new_uint64(n);
}

/* hist - {"name": count, ...} in histogram order */
static struct json_object *hist(const struct map *m)
{
    struct json_object *o = json_object_new_object();
    struct map_entry **v;
    struct strbuf sb;
    size_t i;

    if (o == NULL || m->len == 0 || (v = map_sorted(m, 1)) == NULL)
        return o;
    strbuf_init(&sb);
    for (i = 0; i < m->len; i++) {
        strbuf_reset(&sb);
        report_safe(&sb, v[i]->key);
        json_object_object_add(o, strbuf_str(&sb), num(v[i]->count));
    }
    strbuf_free(&sb);
    free(v);
    return o;
}

/* counts - one group's (or the total's) object */
static struct json_object *counts(const char *name, const struct agg_counts *c)
{
    struct json_object *o = json_object_new_object();
    double share = agg_tls_share(c);
    char text[16];

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "group", str(name));
    json_object_object_add(o, "recipients", num(c->recipients));
    json_object_object_add(o, "tls", num(c->tls));
    snprintf(text, sizeof(text), "%.4f", share);
    json_object_object_add(o, "tls_share", share < 0 ? NULL : json_object_new_double_s(share, text));
    json_object_object_add(o, "versions", hist(&c->versions));
    json_object_object_add(o, "ciphers", hist(&c->ciphers));
    json_object_object_add(o, "rejected", num(c->rejected));
    json_object_object_add(o, "deferred", num(c->deferred));
    json_object_object_add(o, "downgrades", num(c->downgrades));
    json_object_object_add(o, "downgrade_accepted", num(c->downgrade_accepted));
    json_object_object_add(o, "monitor_would_reject", num(c->would_reject));
    json_object_object_add(o, "exempt", num(c->exempt));
    json_object_object_add(o, "sessions", num(c->sessions));
    json_object_object_add(o, "suspected_tls_failures", num(c->suspected));
    return o;
}

/* input - what was read and left out */
static struct json_object *input(const struct agg *a)
{
    struct json_object *o = json_object_new_object(), *bad = json_object_new_array(), *m;
    size_t i;

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "files", num(a->files));
    json_object_object_add(o, "lines", num(a->lines));
    json_object_object_add(o, "decisions", num(a->decisions));
    json_object_object_add(o, "sessions", num(a->sessions));
    json_object_object_add(o, "malformed", num(a->malformed));
    json_object_object_add(o, "duplicates", num(a->duplicates));
    json_object_object_add(o, "foreign", num(a->foreign));
    json_object_object_add(o, "outside_period", num(a->out_of_period));
    json_object_object_add(o, "without_time", num(a->untimed));
    for (i = 0; bad != NULL && i < a->nshown; i++) {
        if ((m = json_object_new_object()) == NULL)
            break;
        json_object_object_add(m, "file", str(a->shown[i].file));
        json_object_object_add(m, "line", num(a->shown[i].line));
        json_object_object_add(m, "error", json_object_new_string(a->shown[i].why));
        json_object_array_add(bad, m);
    }
    json_object_object_add(o, "malformed_shown", bad);
    return o;
}

/* instance - the seq check of one instance, with every missing range */
static struct json_object *instance(const char *name, const struct seqset *s)
{
    struct json_object *o = json_object_new_object(), *gaps = json_object_new_array(), *r;
    size_t i;

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "instance", str(name));
    json_object_object_add(o, "first_seq", num(s->v[0].lo));
    json_object_object_add(o, "last_seq", num(s->v[s->n - 1].hi));
    json_object_object_add(o, "records", num(s->records));
    json_object_object_add(o, "missing", num(seqset_missing(s)));
    json_object_object_add(o, "duplicates", num(s->duplicates));
    for (i = 1; gaps != NULL && i < s->n; i++) {
        if ((r = json_object_new_array()) == NULL)
            break;
        json_object_array_add(r, num(s->v[i - 1].hi + 1));
        json_object_array_add(r, num(s->v[i].lo - 1));
        json_object_array_add(gaps, r);
    }
    json_object_object_add(o, "missing_ranges", gaps);
    return o;
}

/* list - an array of the entries of m, each made by fn */
static struct json_object *list(const struct map *m, struct json_object *(*fn)(const char *, const void *) )
{
    struct json_object *arr = json_object_new_array();
    struct map_entry **v;
    size_t i;

    if (arr == NULL || m->len == 0 || (v = map_sorted(m, 0)) == NULL)
        return arr;
    for (i = 0; i < m->len; i++)
        json_object_array_add(arr, fn(v[i]->key, v[i]->ptr));
    free(v);
    return arr;
}

/* group_fn, instance_fn - list() adapters */
static struct json_object *group_fn(const char *k, const void *p)
{
    return counts(k, p);
}

static struct json_object *instance_fn(const char *k, const void *p)
{
    return instance(k, p);
}

/* report_out_json - the whole document */
int report_out_json(FILE *fp, const struct agg *a, const struct report_meta *meta)
{
    struct json_object *doc = json_object_new_object();
    const char *text;
    size_t i;

    if (doc == NULL)
        return -1;
    json_object_object_add(doc, "schema", json_object_new_string(SCHEMA));
    json_object_object_add(doc, "by", json_object_new_string(agg_by_label(a->by)));
    json_object_object_add(doc, "since", str(meta->since));
    json_object_object_add(doc, "until", str(meta->until));
    json_object_object_add(doc, "input", input(a));
    json_object_object_add(doc, "instances", list(&a->instances, instance_fn));
    json_object_object_add(doc, "groups", list(&a->groups, group_fn));
    json_object_object_add(doc, "total", counts(NULL, &a->total));
    for (i = 0; i < meta->nsections; i++)
        if (meta->sections[i].json != NULL)
            meta->sections[i].json(doc, meta->sections[i].ctx);
    text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text != NULL)
        fprintf(fp, "%s\n", text);
    json_object_put(doc);
    return text != NULL ? 0 : -1;
}
