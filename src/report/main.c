/*++
 * NAME
 *	tlspolicy-report 1
 * SUMMARY
 *	compliance reports from tlspolicyd decision records
 * SYNOPSIS
 *	tlspolicy-report [-f text|json|csv|html] [-o FILE] [--by GROUPING]
 *		[--since T] [--until T] [--year YYYY] [--what-if CONFIG] [FILE|-]...
 * DESCRIPTION
 *	Command line, then every input through scan_file() into one
 *	struct agg, then one writer. See tlspolicy-report(1).
 * DIAGNOSTICS
 *	Exit 0 when the report was written from every input, 1 when an
 *	input could not be read (the report covers the others) or the
 *	output could not be written, 2 on a usage error.
 *--*/

/* System library. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Application. */
#include "report/agg.h"
#include "report/out.h"
#include "report/scan.h"
#include "tp_error.h"

#define PROG       "tlspolicy-report"
#define EXIT_USAGE 2

struct options {
    int (*writer)(FILE *, const struct agg *, const struct out_meta *);
    const char *output;
    enum agg_by by;
    struct out_meta meta;
    struct scan scan;
};

/* usage - the synopsis on stderr, exit 2 */
static void usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "%s: %s\n", PROG, why);
    fprintf(stderr,
            "usage: %s [-f text|json|csv|html] [-o FILE] [--by rcpt_domain|sender_domain|client_domain|day]\n"
            "       [--since T] [--until T] [--year YYYY] [--what-if CONFIG] [FILE|-]...\n",
            PROG);
    exit(EXIT_USAGE);
}

/* format_writer - the writer for -f */
static void format_writer(struct options *o, const char *name)
{
    if (strcmp(name, "text") == 0)
        o->writer = out_text;
    else if (strcmp(name, "json") == 0)
        o->writer = out_json;
    else if (strcmp(name, "csv") == 0)
        o->writer = out_csv;
    else if (strcmp(name, "html") == 0)
        o->writer = out_html;
    else
        usage("-f must be text, json, csv or html");
}

/* time_arg - --since or --until */
static time_t time_arg(const char *opt, const char *arg)
{
    char day[24], msg[300];
    const char *end;
    time_t t;

    if (prefix_time_parse(arg, &end, &t, day) != 0 || *end != 0) {
        snprintf(msg, sizeof(msg), "%s: not an RFC 3339 date or date-time: %.200s", opt, arg);
        usage(msg);
    }
    return t;
}

/* parse_args - options into o; returns the index of the first file */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"by", required_argument, NULL, 'b'},     {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},  {"year", required_argument, NULL, 'y'},
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"what-if", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c, by;
    char *end;

    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format_writer(o, optarg);
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'b':
            if ((by = agg_by_name(optarg)) < 0)
                usage("--by must be rcpt_domain, sender_domain, client_domain or day");
            o->by = (enum agg_by) by;
            break;
        case 's':
            o->scan.since = time_arg("--since", o->meta.since = optarg);
            o->scan.has_since = true;
            break;
        case 'u':
            o->scan.until = time_arg("--until", o->meta.until = optarg);
            o->scan.has_until = true;
            break;
        case 'y':
            o->scan.pctx.year = (int) strtol(optarg, &end, 10);
            if (*end != 0 || o->scan.pctx.year < 1970 || o->scan.pctx.year > 9999)
                usage("--year must be a year from 1970");
            break;
        case 'w':
            whatif_free(o->scan.whatif);
            if ((o->scan.whatif = whatif_open(optarg, PROG)) == NULL)
                exit(EXIT_USAGE);
            break;
        case 'h':
            usage(NULL);
            break;
        default:
            usage(NULL);
        }
    }
    return optind;
}

/* warn_gaps - every instance with missing records, on stderr */
static void warn_gaps(const struct agg *a)
{
    struct map_entry **v;
    struct strbuf sb;
    size_t i;

    if (a->instances.len == 0 || (v = map_sorted(&a->instances, 0)) == NULL)
        return;
    strbuf_init(&sb);
    for (i = 0; i < a->instances.len; i++) {
        const struct seqset *s = v[i]->ptr;

        if (seqset_missing(s) == 0)
            continue;
        strbuf_reset(&sb);
        out_safe(&sb, v[i]->key);
        fprintf(stderr, "%s: warning: instance %s: %llu records missing between seq %llu and %llu\n", PROG,
                strbuf_str(&sb), seqset_missing(s), s->v[0].lo, s->v[s->n - 1].hi);
    }
    strbuf_free(&sb);
    free(v);
}

/* write_report - the chosen writer to -o FILE or stdout; 0 or -1 */
static int write_report(const struct options *o, const struct agg *a)
{
    FILE *fp = stdout;
    int rc;

    if (o->output != NULL && (fp = fopen(o->output, "w")) == NULL) {
        perror(o->output);
        return -1;
    }
    rc = o->writer(fp, a, &o->meta);
    if (rc == 0 && o->writer == out_text)
        rc = diag_write(fp, o->scan.diag);
    if (rc == 0 && o->scan.whatif != NULL && o->writer == out_text)
        rc = whatif_write(fp, o->scan.whatif);
    if (rc != 0)
        fprintf(stderr, "%s: out of memory writing the report\n", PROG);
    if (ferror(fp) || (fp != stdout ? fclose(fp) : fflush(fp)) != 0) {
        perror(o->output ? o->output : "(stdout)");
        rc = -1;
    }
    return rc;
}

/* main - read every input, write one report */
int main(int argc, char **argv)
{
    static char *stdin_only[] = {"-", NULL};
    struct options o;
    struct agg a;
    struct tp_error err;
    char msg[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];
    char **files;
    int first, status = 0;

    /* Without TZ, glibc's mktime() stats /etc/localtime on every call;
       naming the file once makes it read the zone once. */
    if (getenv("TZ") == NULL)
        setenv("TZ", ":/etc/localtime", 0);
    tzset();
    memset(&o, 0, sizeof(o));
    o.writer = out_text;
    o.by = AGG_BY_RCPT_DOMAIN;
    o.scan.pctx.now = time(NULL);
    first = parse_args(argc, argv, &o);
    o.meta.whatif = o.scan.whatif;
    files = first < argc ? argv + first : stdin_only;
    if ((o.meta.diag = o.scan.diag = diag_new()) == NULL) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    agg_init(&a, o.by);
    o.scan.agg = &a;
    for (; *files != NULL; files++) {
        if (scan_file(&o.scan, *files, &err) != 0) {
            tp_error_format(&err, msg, sizeof(msg));
            fprintf(stderr, "%s: %s\n", PROG, msg);
            status = 1;
        }
    }
    if (a.oom) {
        fprintf(stderr, "%s: out of memory: the counts are incomplete\n", PROG);
        status = 1;
    }
    warn_gaps(&a);
    if (write_report(&o, &a) != 0)
        status = 1;
    agg_free(&a);
    whatif_free(o.scan.whatif);
    diag_free(o.scan.diag);
    return status;
}
