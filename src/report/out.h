/*++
 * NAME
 *	out 3h
 * SUMMARY
 *	report writers: text, json, csv, html; the helpers of every writer
 * DESCRIPTION
 *	Each writer prints the tables of one struct agg, and the section of
 *	each feature (struct report_section, from the feature's *_out.c)
 *	where its format puts it: the writers know no feature by name, and
 *	a feature keeps all its formats in one file.
 *
 *	Values that came from the logs (group names, instance ids,
 *	versions, ciphers, file names) are shown through report_safe(): a
 *	byte outside printable ASCII becomes \xHH and a backslash \\, as in
 *	kv records, so a hostile log cannot put terminal escapes on an
 *	auditor's screen or break a csv row; html then also writes &, <,
 *	>, " and ' as character references, so a value cannot become
 *	markup. Groups are in byte order of their names; histograms by
 *	descending count, then name; so the same input always gives the
 *	same report.
 *--*/
#ifndef REPORT_OUT_H
#define REPORT_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "report/agg.h"
#include "util/strbuf.h"

#define REPORT_RANGES_SHOW 5 /* missing seq ranges listed per instance */

struct json_object;

/*
 * A feature's part of the report (the transitions, --diagnose,
 * --what-if): its writer for each format, in its own *_out.c. The
 * writers below call the sections in the order given, each where its
 * format puts it; a NULL writer has nothing in that format. Text,
 * csv and html writers return 0, or -1 when memory runs out (the
 * report goes on; the exit status says so).
 */
struct report_section {
    const void *ctx;                                     /* the feature's state */
    int (*text)(FILE *, const void *ctx);                /* after the tables */
    void (*json)(struct json_object *, const void *ctx); /* its keys, after "total" */
    int (*csv)(FILE *, const void *ctx);                 /* the csv instead of the groups: one table a file */
    int (*html)(FILE *, const void *ctx);                /* after the histograms */
    int (*html_end)(FILE *, const void *ctx);            /* after the malformed lines */
};

struct report_meta {
    const char *since; /* as given, or NULL */
    const char *until;
    const struct report_section *sections;
    size_t nsections;
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

/* Writers: the tables of the aggregation, and the sections of meta where
   their format puts them; 0, or -1 when memory runs out (the caller
   checks ferror). */
int report_out_text(FILE *, const struct agg *, const struct report_meta *);
int report_out_json(FILE *, const struct agg *, const struct report_meta *);
int report_out_csv(FILE *, const struct agg *, const struct report_meta *);
int report_out_html(FILE *, const struct agg *, const struct report_meta *);

#endif
