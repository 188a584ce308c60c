/*++
 * NAME
 *	out 3h
 * SUMMARY
 *	report writers: text, json, csv, html
 * DESCRIPTION
 *	Each writer prints one struct agg. Values that came from the logs
 *	(group names, instance ids, versions, ciphers, file names) are shown
 *	through out_safe(): a byte outside printable ASCII becomes \xHH and
 *	a backslash \\, as in kv records, so a hostile log cannot put
 *	terminal escapes on an auditor's screen or break a csv row; html
 *	then also writes &, <, >, " and ' as character references, so a
 *	value cannot become markup. Groups are in byte order of their
 *	names; histograms by descending count, then name; so the same
 *	input always gives the same report.
 *--*/
#ifndef REPORT_OUT_H
#define REPORT_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "report/agg.h"
#include "util/strbuf.h"

#define OUT_RANGES_SHOW 5 /* missing seq ranges listed per instance */

struct transitions;
struct whatif;
struct transitions_suites;
struct diagnose;
struct diagnose_client;
struct json_object;

struct out_meta {
    const char *since; /* as given, or NULL */
    const char *until;
    const struct transitions *transitions; /* json "diagnostics", or NULL */
    const struct diagnose *diagnose; /* --diagnose, or NULL */
    const struct whatif *whatif;     /* --what-if, or NULL */
};

/* out_safe - append value with unsafe bytes escaped */
void out_safe(struct strbuf *, const char *value);
/* out_hist - "name1<eq>n1<sep>name2<eq>n2..." in histogram order */
void out_hist(struct strbuf *, const struct map *, const char *eq, const char *sep);

/* out_csv_field - one RFC 4180 field, after a comma unless first */
void out_csv_field(FILE *, const char *value, bool first);

/* out_json_str - value made printable, as a JSON string; NULL on OOM */
struct json_object *out_json_str(struct strbuf *, const char *value);
/* out_json_keys - a map's keys, sorted, as a JSON array of out_json_str() */
struct json_object *out_json_keys(struct strbuf *, const struct map *);

/* out_html_safe - an out_safe()d string as HTML text, cut to max bytes
   with "..." when max is not 0 */
void out_html_safe(FILE *, const char *s, size_t max);

/* Writers: 0, or -1 when memory runs out (the caller checks ferror). */
int out_text(FILE *, const struct agg *, const struct out_meta *);
int out_json(FILE *, const struct agg *, const struct out_meta *);
int out_csv(FILE *, const struct agg *, const struct out_meta *);
int out_html(FILE *, const struct agg *, const struct out_meta *);

/* --diagnose (diagnose_out.c): one row of a client's timeline, the value
   printable (out_safe) */
typedef void (*diagnose_row_fn)(void *ctx, const char *label, const char *value);
/* diagnose_rows - one client's timeline, row by row; 0, or -1 on OOM */
int diagnose_rows(const struct diagnose_client *, const struct transitions_suites *, diagnose_row_fn,
                  void *ctx);
/* diagnose_write - the text section "Diagnosis"; 0, or -1 on OOM */
int diagnose_write(FILE *, const struct diagnose *);
/* diagnose_json - the "diagnosis" array; diagnose_json_input - its counts */
struct json_object *diagnose_json(const struct diagnose *);
struct json_object *diagnose_json_input(const struct diagnose *);

#endif
