/*++
 * NAME
 *	transitions_out 3
 * SUMMARY
 *	the TLS-to-plaintext transitions as text and as JSON
 * SYNOPSIS
 *	#include "report/transitions.h"
 *
 *	void	transitions_section(t, section)
 * DESCRIPTION
 *	The report's section of the clients gone from TLS to plaintext,
 *	sorted by client: the text section "TLS to plaintext" (nothing
 *	when no client changed) and the json report's "diagnostics"
 *	array. Each client shows its last TLS facts, when it changed, how
 *	many plaintext decisions followed and how many were refused, the
 *	versions and ciphers seen over TLS and what they imply
 *	(transitions_implies()). There is no csv and no html section.
 *	Values from the logs go through report_safe().
 * DIAGNOSTICS
 *	The text writer returns -1 when memory runs out, or when it ran
 *	out while the records were read (the list then says it is
 *	incomplete); the json array is then null.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "report/out.h"
#include "report/transitions.h"
#include "util/map.h"
#include "util/strbuf.h"

/* keys_text - the keys of a map, sorted, escaped, comma separated */
static const char *keys_text(struct strbuf *sb, const struct map *m)
{
    struct map_entry **v;
    size_t i;

    strbuf_reset(sb);
    if (m->len == 0 || (v = map_sorted(m, 0)) == NULL)
        return m->len == 0 ? "-" : NULL;
    for (i = 0; i < m->len; i++) {
        strbuf_puts(sb, i > 0 ? ", " : "");
        report_safe(sb, v[i]->key);
    }
    free(v);
    return strbuf_failed(sb) ? NULL : strbuf_str(sb);
}

/* keys_or_oom - keys_text, or a note when memory ran out */
static const char *keys_or_oom(struct strbuf *sb, const struct map *m)
{
    const char *text = keys_text(sb, m);

    return text != NULL ? text : "(out of memory)";
}

/* safe - a log value made printable */
static const char *safe(struct strbuf *sb, const char *value)
{
    strbuf_reset(sb);
    report_safe(sb, value);
    return strbuf_str(sb);
}

/* write_client - one client's entry of the text section */
static int write_client(FILE *fp, const struct map_entry *e, struct strbuf *sb)
{
    const struct transitions_client *c = e->ptr;
    struct transitions_implies im;
    const char *label = "    implies:";
    int i;

    fprintf(fp, "  %s\n", safe(sb, e->key));
    fprintf(fp, "    last TLS:        %s %s", c->last_tls, safe(sb, c->version));
    fprintf(fp, " %s\n", safe(sb, c->cipher));
    fprintf(fp, "    first plaintext: %s\n", c->first_plain);
    fprintf(fp, "    plaintext decisions: %llu, refused recipients: %llu\n", c->plaintext, c->refused);
    fprintf(fp, "    versions seen over TLS: %s\n", keys_or_oom(sb, &c->versions));
    fprintf(fp, "    ciphers seen over TLS:  %s\n", keys_or_oom(sb, &c->ciphers));
    transitions_implies(&c->versions, &c->ciphers, &im);
    for (i = 0; i < TRANSITIONS_IMP_N; i++) {
        if (im.imp[i]) {
            fprintf(fp, "%-20s %s\n", label, transitions_imp_text((enum transitions_imp) i));
            label = "";
        }
    }
    if (im.unknown != NULL) {
        fprintf(fp, "%-20s %s\n", label, transitions_unknown_text(sb, im.unknown));
        label = "";
    }
    if (*label != 0)
        fprintf(fp, "%-20s none\n", label);
    return strbuf_failed(sb) ? -1 : 0;
}

/* write_text - the text section */
static int write_text(FILE *fp, const struct transitions *t)
{
    struct map_entry **v;
    struct strbuf sb;
    size_t i, n;
    int rc = 0;

    if (t == NULL || transitions_changed(t, &v, &n) != 0)
        return -1;
    if (n == 0) {
        free(v);
        return transitions_oom(t) ? -1 : 0;
    }
    strbuf_init(&sb);
    fprintf(fp, "\nTLS to plaintext (by client domain):\n");
    for (i = 0; i < n; i++)
        if (write_client(fp, v[i], &sb) != 0)
            rc = -1;
    if (transitions_oom(t))
        fprintf(fp, "  (out of memory: the list is incomplete)\n");
    strbuf_free(&sb);
    free(v);
    return transitions_oom(t) ? -1 : rc;
}

/* jimplies - the implications as a JSON array of phrases */
static struct json_object *jimplies(const struct transitions_client *c, struct strbuf *sb)
{
    struct json_object *arr = json_object_new_array();
    struct transitions_implies im;
    int i;

    if (arr == NULL)
        return NULL;
    transitions_implies(&c->versions, &c->ciphers, &im);
    for (i = 0; i < TRANSITIONS_IMP_N; i++)
        if (im.imp[i])
            json_object_array_add(arr,
                                  json_object_new_string(transitions_imp_text((enum transitions_imp) i)));
    if (im.unknown != NULL)
        json_object_array_add(arr, json_object_new_string(transitions_unknown_text(sb, im.unknown)));
    return arr;
}

/* jclient - one client as a JSON object */
static struct json_object *jclient(const struct map_entry *e, struct strbuf *sb)
{
    const struct transitions_client *c = e->ptr;
    struct json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "client", report_json_str(sb, e->key));
    json_object_object_add(o, "last_tls_time", json_object_new_string(c->last_tls));
    json_object_object_add(o, "last_tls_version", report_json_str(sb, c->version));
    json_object_object_add(o, "last_cipher", report_json_str(sb, c->cipher));
    json_object_object_add(o, "first_plaintext_time", json_object_new_string(c->first_plain));
    json_object_object_add(o, "plaintext_decisions", json_object_new_uint64(c->plaintext));
    json_object_object_add(o, "refused_recipients", json_object_new_uint64(c->refused));
    json_object_object_add(o, "versions_seen", report_json_keys(sb, &c->versions));
    json_object_object_add(o, "ciphers_seen", report_json_keys(sb, &c->ciphers));
    json_object_object_add(o, "implications", jimplies(c, sb));
    return o;
}

/* json_array - the "diagnostics" array */
static struct json_object *json_array(const struct transitions *t)
{
    struct json_object *arr;
    struct map_entry **v;
    struct strbuf sb;
    size_t i, n;

    if (t == NULL || transitions_oom(t) || transitions_changed(t, &v, &n) != 0)
        return NULL;
    if ((arr = json_object_new_array()) == NULL || n == 0) {
        free(v);
        return arr;
    }
    strbuf_init(&sb);
    for (i = 0; i < n; i++)
        json_object_array_add(arr, jclient(v[i], &sb));
    strbuf_free(&sb);
    free(v);
    return arr;
}

/* section_text - report_section adapter */
static int section_text(FILE *fp, const void *ctx)
{
    return write_text(fp, ctx);
}

/* section_json - report_section adapter: the "diagnostics" key */
static void section_json(struct json_object *doc, const void *ctx)
{
    json_object_object_add(doc, "diagnostics", json_array(ctx));
}

/* transitions_section - the writers of the section */
void transitions_section(const struct transitions *t, struct report_section *s)
{
    memset(s, 0, sizeof(*s));
    s->ctx = t;
    s->text = section_text;
    s->json = section_json;
}
