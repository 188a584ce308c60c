/*++
 * NAME
 *	tlspolicy-report 1
 * SUMMARY
 *	compliance reports from tlspolicyd decision records
 * SYNOPSIS
 *	tlspolicy-report [-f text|json|csv|html] [-o FILE] [--by GROUPING]
 *		[--since T] [--until T] [--year YYYY] [--ident NAME]
 *		[--what-if CONFIG] [--diagnose] [FILE|-]...
 * DESCRIPTION
 *	See tlspolicy-report(1) for what it does; this is how it is built.
 *
 *	The scan driver (scan.c) reads the inputs line by line, splits off
 *	the syslog prefix, tells records from other lines, parses records
 *	and applies --since/--until; it knows no feature. Each part of the
 *	report is a consumer of the driver (struct scan_consumer): the
 *	callbacks for the events it needs, and the pass it runs in.
 * .IP "agg.c"
 *	the groups and totals, the seq check, what was read.
 * .IP "transitions.c"
 *	the clients gone from TLS to plaintext.
 * .IP "whatif.c"
 *	--what-if: the records decided again under another configuration.
 * .IP "diagnose.c, diagnose_fail.c, diagnose_rescan.c"
 *	--diagnose: pass one (the MTA's handshake failures, the last
 *	decisions; each client's break at its end), pass two (the
 *	decisions before and after the break). With a consumer of pass
 *	two the driver reads every input twice (reread.c).
 * .PP
 *	Output: one writer per format for the tables (out_text.c,
 *	out_json.c, out_csv.c, out_html.c, with out_common.c), and per
 *	feature one *_out.c with all its formats (transitions_out.c,
 *	whatif_out.c, diagnose_out.c), handed to the writers as a struct
 *	report_section, which they call where their format puts it.
 *
 *	A new report feature is a consumer and a section: its state, its
 *	callbacks, its *_out.c, and two lines here (consumers(),
 *	sections()); scan.c and the table writers stay as they are.
 *
 *	main() reads the command line, makes the parts (struct parts),
 *	registers their consumers, runs scan_run() over every input,
 *	warns about missing records, and writes the report for -f.
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
#include "report/diagnose.h"
#include "report/out.h"
#include "report/scan.h"
#include "report/transitions.h"
#include "report/whatif.h"
#include "util/tp_error.h"

#define PROG       "tlspolicy-report"
#define EXIT_USAGE 2

struct options {
    int (*writer)(FILE *, const struct agg *, const struct report_meta *);
    const char *output;
    enum agg_by by;
    bool diagnose;
    struct report_meta meta;
    struct scan scan;      /* the driver: --since, --until, --year from here */
    struct whatif *whatif; /* --what-if CONFIG, or NULL */
};

/* usage - the synopsis on stderr, exit 2 */
static void usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "%s: %s\n", PROG, why);
    fprintf(stderr,
            "usage: %s [-f text|json|csv|html] [-o FILE] [--by rcpt_domain|sender_domain|client_domain|day]\n"
            "       [--since T] [--until T] [--year YYYY] [--ident NAME] [--what-if CONFIG] [--diagnose]\n"
            "       [FILE|-]...\n",
            PROG);
    exit(EXIT_USAGE);
}

/* format_writer - the writer for -f */
static void format_writer(struct options *o, const char *name)
{
    if (strcmp(name, "text") == 0)
        o->writer = report_out_text;
    else if (strcmp(name, "json") == 0)
        o->writer = report_out_json;
    else if (strcmp(name, "csv") == 0)
        o->writer = report_out_csv;
    else if (strcmp(name, "html") == 0)
        o->writer = report_out_html;
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

/* apply_option - one option from getopt_long into o (exits on a bad value) */
static void apply_option(int c, char *arg, struct options *o)
{
    int by;
    char *end;

    switch (c) {
    case 'f':
        format_writer(o, arg);
        break;
    case 'o':
        o->output = arg;
        break;
    case 'b':
        if ((by = agg_by_name(arg)) < 0)
            usage("--by must be rcpt_domain, sender_domain, client_domain or day");
        o->by = (enum agg_by) by;
        break;
    case 's':
        o->scan.since = time_arg("--since", o->meta.since = arg);
        o->scan.has_since = true;
        break;
    case 'u':
        o->scan.until = time_arg("--until", o->meta.until = arg);
        o->scan.has_until = true;
        break;
    case 'y':
        o->scan.pctx.year = (int) strtol(arg, &end, 10);
        if (*end != 0 || o->scan.pctx.year < 1970 || o->scan.pctx.year > 9999)
            usage("--year must be a year from 1970");
        break;
    case 'w':
        whatif_free(o->whatif);
        if ((o->whatif = whatif_open(arg, PROG)) == NULL)
            exit(EXIT_USAGE);
        break;
    case 'd':
        o->diagnose = true;
        break;
    case 'i':
        /* log.ident of tlspolicyd.conf: the syslog tag its records carry */
        if (*arg == 0 || strpbrk(arg, " \t:[") != NULL)
            usage("--ident must be a syslog tag: no space, ':' or '['");
        o->scan.ident = arg;
        break;
    default: /* -h, --help and unknown options */
        usage(NULL);
    }
}

/* parse_args - options into o; returns the index of the first file */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"by", required_argument, NULL, 'b'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"year", required_argument, NULL, 'y'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"what-if", required_argument, NULL, 'w'},
        {"diagnose", no_argument, NULL, 'd'},
        {"ident", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1)
        apply_option(c, optarg, o);
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
        report_safe(&sb, v[i]->key);
        fprintf(stderr, "%s: warning: instance %s: %llu records missing between seq %llu and %llu\n", PROG,
                strbuf_str(&sb), seqset_missing(s), s->v[0].lo, s->v[s->n - 1].hi);
    }
    strbuf_free(&sb);
    free(v);
}

/* The aggregation and the features: the scan's consumers, the report's
   sections. */
struct parts {
    struct agg agg;
    struct transitions *transitions;
    struct diagnose *diagnose; /* --diagnose, or NULL */
    struct whatif *whatif;     /* --what-if, or NULL */
    struct report_section sections[3];
};

/* parts_new - the state of every feature asked for; 0, or -1 on OOM */
static int parts_new(const struct options *o, struct parts *p)
{
    memset(p, 0, sizeof(*p));
    agg_init(&p->agg, o->by);
    p->whatif = o->whatif;
    if ((p->transitions = transitions_new()) == NULL)
        return -1;
    if (o->diagnose) {
        if ((p->diagnose = diagnose_new()) == NULL)
            return -1;
        diagnose_period(p->diagnose, o->scan.has_since, o->scan.since, o->scan.has_until, o->scan.until);
    }
    return 0;
}

/* parts_free - everything */
static void parts_free(struct parts *p)
{
    agg_free(&p->agg);
    whatif_free(p->whatif);
    transitions_free(p->transitions);
    diagnose_free(p->diagnose);
}

/* consumers - every part on the scan driver, in the order they are told */
static int consumers(struct scan *s, struct parts *p)
{
    struct scan_consumer c, c2;
    int rc;

    agg_consumer(&p->agg, &c);
    rc = scan_add(s, &c);
    if (p->whatif != NULL) {
        whatif_consumer(p->whatif, &c);
        rc |= scan_add(s, &c);
    }
    transitions_consumer(p->transitions, &c);
    rc |= scan_add(s, &c);
    if (p->diagnose != NULL) {
        diagnose_consumers(p->diagnose, &c, &c2);
        rc |= scan_add(s, &c) | scan_add(s, &c2);
    }
    return rc;
}

/* sections - the features' sections of the report, in output order */
static void sections(struct parts *p, struct report_meta *meta)
{
    struct report_section *s = p->sections;

    transitions_section(p->transitions, s);
    if (p->diagnose != NULL)
        s->text = NULL; /* the diagnosis tells the same story at length */
    s++;
    if (p->diagnose != NULL)
        diagnose_section(p->diagnose, s++);
    if (p->whatif != NULL)
        whatif_section(p->whatif, s++);
    meta->sections = p->sections;
    meta->nsections = (size_t) (s - p->sections);
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
    if (rc != 0)
        fprintf(stderr, "%s: out of memory writing the report\n", PROG);
    if (ferror(fp) || (fp != stdout ? fclose(fp) : fflush(fp)) != 0) {
        perror(o->output ? o->output : "(stdout)");
        rc = -1;
    }
    return rc;
}

/* report_error - an input's error on stderr; pass names a later pass */
static void report_error(void *ctx, const char *pass, const struct tp_error *err)
{
    char msg[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];

    (void) ctx;
    tp_error_format(err, msg, sizeof(msg));
    fprintf(stderr, "%s: %s%s%s\n", PROG, pass != NULL ? pass : "", pass != NULL ? ": " : "", msg);
}

/* main - read every input, write one report */
int main(int argc, char **argv)
{
    static char *stdin_only[] = {"-", NULL};
    struct options o;
    struct parts p;
    char **files;
    bool *failed;
    int first, status;

    /* Without TZ, glibc's mktime() stats /etc/localtime on every call;
       naming the file once makes it read the zone once. */
    if (getenv("TZ") == NULL)
        setenv("TZ", ":/etc/localtime", 0);
    tzset();
    memset(&o, 0, sizeof(o));
    o.writer = report_out_text;
    o.by = AGG_BY_RCPT_DOMAIN;
    o.scan.pctx.now = time(NULL);
    o.scan.error = report_error;
    first = parse_args(argc, argv, &o);
    if (o.diagnose && o.writer == report_out_csv)
        usage("--diagnose is written in text, json and html, not csv");
    files = first < argc ? argv + first : stdin_only;
    if (parts_new(&o, &p) != 0 || (failed = calloc((size_t) argc + 1, sizeof(bool))) == NULL ||
        consumers(&o.scan, &p) != 0) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    status = scan_run(&o.scan, files, failed);
    if (p.agg.oom) {
        fprintf(stderr, "%s: out of memory: the counts are incomplete\n", PROG);
        status = 1;
    }
    if (p.diagnose != NULL && diagnose_oom(p.diagnose)) {
        fprintf(stderr, "%s: out of memory: the diagnosis is incomplete\n", PROG);
        status = 1;
    }
    warn_gaps(&p.agg);
    sections(&p, &o.meta);
    if (write_report(&o, &p.agg) != 0)
        status = 1;
    parts_free(&p);
    free(failed);
    return status;
}
