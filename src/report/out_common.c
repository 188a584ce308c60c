/*++
 * NAME
 *	out_common 3
 * SUMMARY
 *	helpers shared by the report writers
 * SYNOPSIS
 *	#include "report/out.h"
 *
 *	void	report_safe(sb, value)
 *	void	report_hist(sb, map, eq, sep)
 *	void	report_csv_field(fp, value, first)
 *	struct json_object *report_json_str(sb, value)
 *	struct json_object *report_json_keys(sb, map)
 *	void	report_html_safe(fp, s, max)
 * DESCRIPTION
 *	See out.h.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "report/out.h"

/* report_safe - printable ASCII as is, the rest as \xHH, backslash doubled */
void report_safe(struct strbuf *sb, const char *value)
{
    const unsigned char *p;

    for (p = (const unsigned char *) value; *p; p++) {
        if (*p == '\\')
            strbuf_puts(sb, "\\\\");
        else if (*p < 0x20 || *p > 0x7e)
            strbuf_printf(sb, "\\x%02x", *p);
        else
            strbuf_putc(sb, (char) *p);
    }
}

/* report_hist - a histogram on one line */
void report_hist(struct strbuf *sb, const struct map *m, const char *eq, const char *sep)
{
    struct map_entry **v;
    size_t i;

    if ((v = map_sorted(m, 1)) == NULL) {
        if (m->len > 0)
            sb->failed = true;
        return;
    }
    for (i = 0; i < m->len; i++) {
        if (i > 0)
            strbuf_puts(sb, sep);
        report_safe(sb, v[i]->key);
        strbuf_printf(sb, "%s%llu", eq, v[i]->count);
    }
    free(v);
}

/* report_csv_field - one CSV field after a comma (none when first), quoted
   when needed; a leading = + @ gets an apostrophe against formulas */
void report_csv_field(FILE *fp, const char *value, bool first)
{
    const char *p;
    bool quote =
        strpbrk(value, ",\"") != NULL || *value == ' ' || (*value && value[strlen(value) - 1] == ' ');

    if (!first)
        fputc(',', fp);
    if (*value == '=' || *value == '+' || *value == '@')
        quote = true;
    if (!quote) {
        fputs(value, fp);
        return;
    }
    fputc('"', fp);
    if (*value == '=' || *value == '+' || *value == '@')
        fputc('\'', fp);
    for (p = value; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

/* report_json_str - a value from the logs as a JSON string, made printable */
struct json_object *report_json_str(struct strbuf *sb, const char *value)
{
    strbuf_reset(sb);
    report_safe(sb, value);
    return strbuf_failed(sb) ? NULL : json_object_new_string(strbuf_str(sb));
}

/* report_json_keys - the keys of a map, sorted, as a JSON array of report_json_str()s */
struct json_object *report_json_keys(struct strbuf *sb, const struct map *m)
{
    struct json_object *arr = json_object_new_array();
    struct map_entry **v;
    size_t i;

    if (arr == NULL || m->len == 0 || (v = map_sorted(m, 0)) == NULL)
        return arr;
    for (i = 0; i < m->len; i++)
        json_object_array_add(arr, report_json_str(sb, v[i]->key));
    free(v);
    return arr;
}

/* ref - the character reference for c, or NULL to print c itself */
static const char *ref(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

/* report_html_safe - a report_safe()d string, escaped for HTML, cut to max
   bytes with "..." when max is not 0 */
void report_html_safe(FILE *fp, const char *s, size_t max)
{
    const char *r;
    size_t i, n = strlen(s), show = max > 3 && n > max ? max - 3 : n;

    for (i = 0; i < show; i++) {
        if ((r = ref(s[i])) != NULL)
            fputs(r, fp);
        else
            fputc(s[i], fp);
    }
    if (show < n)
        fputs("...", fp);
}
