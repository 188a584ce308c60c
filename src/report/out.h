/*++
 * NAME
 *	out 3h
 * SUMMARY
 *	report writers: text, json, csv, html
 * DESCRIPTION
 *	Each writer prints one struct agg. Values that came from the logs
 *	(group names, instance ids, versions, ciphers, file names) are shown
 *	through report_safe(): a byte outside printable ASCII becomes \xHH and
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

#define REPORT_RANGES_SHOW 5 /* missing seq ranges listed per instance */

struct transitions;
struct whatif;
struct transitions_suites;
struct diagnose;
struct diagnose_client;
struct json_object;

struct report_meta {
    const char *since; /* as given, or NULL */
    const char *until;
    const struct transitions *transitions; /* json "diagnostics", or NULL */
    const struct diagnose *diagnose; /* --diagnose, or NULL */
    const struct whatif *whatif;     /* --what-if, or NULL */
};

/* report_safe - append value with unsafe bytes escaped */
void report_safe(struct strbuf *, const char *value);
/* report_hist - "name1<eq>n1<sep>name2<eq>n2..." in histogram order */
void report_hist(struct strbuf *, const struct map *, const char *eq, const char *sep);

/* report_csv_field - one RFC 4180 field, after a comma unless first */
void report_csv_field(FILE *, const char *value, bool first);

/* report_json_str - value made printable, as a JSON string; NULL on OOM */
struct json_object *report_json_str(struct strbuf *, const char *value);
/* report_json_keys - a map's keys, sorted, as a JSON array of report_json_str() */
struct json_object *report_json_keys(struct strbuf *, const struct map *);

/* report_html_safe - a report_safe()d string as HTML text, cut to max bytes
   with "..." when max is not 0 */
void report_html_safe(FILE *, const char *s, size_t max);

/* Writers: 0, or -1 when memory runs out (the caller checks ferror). */
int report_out_text(FILE *, const struct agg *, const struct report_meta *);
int report_out_json(FILE *, const struct agg *, const struct report_meta *);
int report_out_csv(FILE *, const struct agg *, const struct report_meta *);
int report_out_html(FILE *, const struct agg *, const struct report_meta *);

/* --diagnose (diagnose_out.c): one row of a client's timeline, the value
   printable (report_safe) */
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
