/*++
 * NAME
 *	out 3
 * SUMMARY
 *	the probe's results as a text table or as JSON
 * SYNOPSIS
 *	#include "probe/out.h"
 *
 *	int	probe_out_text(fp, results, n)
 *	int	probe_out_json(fp, results, n)
 *	const char *probe_out_result_word(result)
 * DESCRIPTION
 *	probe_out_text() prints one row per profile: profile, result,
 *	version, cipher, group, reason. A failure of a profile that must
 *	pass is FAIL, of one that need not pass fail. Below the table, the
 *	suites or groups each profile could not offer here, then one
 *	summary line.
 *
 *	The names carry the program's prefix: tlspolicy-report has writers
 *	of its own, and one name for two functions is one link or one grep
 *	away from the wrong one.
 *
 *	probe_out_json() prints an array of objects with the keys of
 *	tlspolicy-probe(1): profile, result, ok (true, false, or null when
 *	the profile was not testable or could not be run), version, cipher,
 *	group, error, client_error, must_pass, dropped, note. Absent values
 *	are null, so that every object has every key.
 *--*/

/* System library. */
#include <stdio.h>
#include <string.h>

/* Libraries. */
#include <json-c/json.h>

/* Application. */
#include "probe/out.h"

/* The columns of the text table that have a fixed width. */
#define W_RESULT  12
#define W_VERSION 8
#define W_GROUP   10

/* dash - "-" for an empty field */
static const char *dash(const char *s)
{
    return s[0] ? s : "-";
}

/* probe_out_result_word - "ok", "FAIL", "fail", "not testable" or "error" */
const char *probe_out_result_word(const struct probe_result *r)
{
    switch (r->verdict) {
    case PROBE_OK:
        return "ok";
    case PROBE_FAIL:
        return r->profile->must_pass ? "FAIL" : "fail";
    case PROBE_UNTESTABLE:
        return "not testable";
    default:
        return "error";
    }
}

/* reason - the error, with what the client saw when that differs */
static void reason(const struct probe_result *r, char *buf, size_t len)
{
    if (r->client_error[0] && strcmp(r->client_error, r->error) != 0)
        snprintf(buf, len, "%s (client: %s)", r->error, r->client_error);
    else
        snprintf(buf, len, "%s", dash(r->error));
}

/* width - the widest of a column and its heading */
static int width(const struct probe_result *r, size_t n, size_t off, const char *heading)
{
    size_t i, w = strlen(heading), l;

    for (i = 0; i < n; i++)
        if ((l = strlen((const char *) &r[i] + off)) > w)
            w = l;
    return (int) w;
}

/* summary - counts per verdict, and whether a must-pass profile failed */
static void summary(FILE *fp, const struct probe_result *r, size_t n)
{
    size_t i, c[4] = {0, 0, 0, 0}, must = 0, optional = 0;

    for (i = 0; i < n; i++) {
        c[r[i].verdict]++;
        if (r[i].verdict == PROBE_FAIL && r[i].profile->must_pass)
            must++;
        else if (r[i].verdict == PROBE_FAIL)
            optional++;
    }
    fprintf(fp, "%zu ok, %zu failed (%zu must pass), %zu not testable, %zu error%s\n", c[PROBE_OK],
            c[PROBE_FAIL], must, c[PROBE_UNTESTABLE], c[PROBE_ERROR], c[PROBE_ERROR] == 1 ? "" : "s");
    if (optional > 0)
        fprintf(fp, "fail: the profile has must_pass = false; it does not count in the exit status\n");
}

/* probe_out_text - the table, notes and a summary line */
int probe_out_text(FILE *fp, const struct probe_result *r, size_t n)
{
    int wp = 7, wc = width(r, n, offsetof(struct probe_result, cipher), "cipher");
    char why[2 * PROBE_TEXT_MAX + 16];
    size_t i;

    for (i = 0; i < n; i++)
        if ((int) strlen(r[i].profile->name) > wp)
            wp = (int) strlen(r[i].profile->name);
    fprintf(fp, "%-*s %-*s %-*s %-*s %-*s %s\n", wp, "profile", W_RESULT, "result", W_VERSION, "version", wc,
            "cipher", W_GROUP, "group", "reason");
    for (i = 0; i < n; i++) {
        reason(&r[i], why, sizeof(why));
        fprintf(fp, "%-*s %-*s %-*s %-*s %-*s %s\n", wp, r[i].profile->name, W_RESULT,
                probe_out_result_word(&r[i]), W_VERSION, dash(r[i].version), wc, dash(r[i].cipher), W_GROUP,
                dash(r[i].group), why);
    }
    for (i = 0; i < n; i++)
        if (r[i].dropped.len > 0)
            fprintf(fp, "%s: not offered, this OpenSSL lacks them: %s\n", r[i].profile->name,
                    strbuf_str(&r[i].dropped));
    summary(fp, r, n);
    return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}

/* str - a JSON string, or null for an empty or absent value */
static struct json_object *str(const char *s)
{
    return s && s[0] ? json_object_new_string(s) : NULL;
}

/* dropped - the dropped items as an array of strings */
static struct json_object *dropped(const char *list)
{
    struct json_object *a = json_object_new_array();
    size_t len;

    for (; a && *list; list += len) {
        list += strspn(list, " ");
        if ((len = strcspn(list, " ")) == 0)
            break;
        json_object_array_add(a, json_object_new_string_len(list, (int) len));
    }
    return a;
}

/* object - one result */
static struct json_object *object(const struct probe_result *r)
{
    struct json_object *o = json_object_new_object();
    bool decided = r->verdict == PROBE_OK || r->verdict == PROBE_FAIL;
    const char *word = r->verdict == PROBE_FAIL ? "fail" : probe_out_result_word(r);

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "profile", str(r->profile->name));
    json_object_object_add(o, "result", str(word));
    json_object_object_add(o, "ok", decided ? json_object_new_boolean(r->verdict == PROBE_OK) : NULL);
    json_object_object_add(o, "version", str(r->version));
    json_object_object_add(o, "cipher", str(r->cipher));
    json_object_object_add(o, "group", str(r->group));
    json_object_object_add(o, "error", str(r->error));
    json_object_object_add(o, "client_error", str(r->client_error));
    json_object_object_add(o, "must_pass", json_object_new_boolean(r->profile->must_pass));
    json_object_object_add(o, "dropped", dropped(strbuf_str(&r->dropped)));
    json_object_object_add(o, "note", str(r->profile->note));
    return o;
}

/* probe_out_json - an array with one object per profile */
int probe_out_json(FILE *fp, const struct probe_result *r, size_t n)
{
    struct json_object *a = json_object_new_array(), *o;
    const char *text;
    size_t i;
    int rc = -1;

    for (i = 0; a && i < n; i++) {
        if ((o = object(&r[i])) == NULL || json_object_array_add(a, o) != 0)
            goto done;
    }
    text = a ? json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
             : NULL;
    if (text != NULL && fprintf(fp, "%s\n", text) >= 0 && fflush(fp) == 0 && !ferror(fp))
        rc = 0;
done:
    json_object_put(a);
    return rc;
}
