/*++
 * NAME
 *	tlspolicy-report 1
 * SUMMARY
 *	compliance reports from tlspolicyd decision records
 * SYNOPSIS
 *	tlspolicy-report [-f text|json|csv|html] [-o FILE] [--by GROUPING]
 *		[--since T] [--until T] [--year YYYY] [--what-if CONFIG]
 *		[--diagnose] [FILE|-]...
 * DESCRIPTION
 *	Command line, then every input through scan_file() into one
 *	struct agg, then one writer. See tlspolicy-report(1). With
 *	--diagnose the inputs are read a second time (diagnose.h says
 *	why); standard input is first copied to an unlinked temporary
 *	file unless it is a file already, so it can be read again.
 * DIAGNOSTICS
 *	Exit 0 when the report was written from every input, 1 when an
 *	input could not be read (the report covers the others) or the
 *	output could not be written, 2 on a usage error.
 *--*/

/* System library. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Application. */
#include "report/agg.h"
#include "report/diagnose.h"
#include "report/out.h"
#include "report/scan.h"
#include "tp_error.h"

#define PROG       "tlspolicy-report"
#define EXIT_USAGE 2

struct options {
    int (*writer)(FILE *, const struct agg *, const struct out_meta *);
    const char *output;
    enum agg_by by;
    bool diagnose;
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
            "       [--since T] [--until T] [--year YYYY] [--what-if CONFIG] [--diagnose] [FILE|-]...\n",
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
        {"by", required_argument, NULL, 'b'},      {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},   {"year", required_argument, NULL, 'y'},
        {"format", required_argument, NULL, 'f'},  {"output", required_argument, NULL, 'o'},
        {"what-if", required_argument, NULL, 'w'}, {"diagnose", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
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
        case 'd':
            o->diagnose = true;
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
        rc = o->diagnose ? diagnose_write(fp, o->scan.diagnose) : diag_write(fp, o->scan.diag);
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

/* write_all - n bytes to fd; 0, or -1 with errno set */
static int write_all(int fd, const char *buf, size_t n)
{
    ssize_t w;

    while (n > 0) {
        if ((w = write(fd, buf, n)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t) w;
    }
    return 0;
}

/* spool - copy standard input to an unlinked temporary file and make
   that standard input; 0, or -1 with errno set */
static int spool(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], buf[65536];
    ssize_t n;
    int fd, saved;

    snprintf(path, sizeof(path), "%s/tlspolicy-report.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    if ((fd = mkstemp(path)) < 0)
        return -1;
    unlink(path);
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write_all(fd, buf, (size_t) n) != 0)
            break;
    }
    if (n != 0 || dup2(fd, STDIN_FILENO) < 0 || lseek(STDIN_FILENO, 0, SEEK_SET) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    close(fd);
    return 0;
}

/* stdin_again - make standard input readable twice; *start is where to
   seek back to. 0, or -1 after a message. */
static int stdin_again(char **files, off_t *start)
{
    for (; *files != NULL && strcmp(*files, "-") != 0; files++)
        /* void */;
    if (*files == NULL)
        return 0;
    /* A regular file (a redirection) seeks; a pipe is copied once. */
    if ((*start = lseek(STDIN_FILENO, 0, SEEK_CUR)) >= 0)
        return 0;
    *start = 0;
    if (spool() == 0)
        return 0;
    fprintf(stderr, "%s: --diagnose: copying standard input to a temporary file: %s\n", PROG,
            strerror(errno));
    return -1;
}

/* diagnose_pass - the second pass of --diagnose over the inputs read well */
static int diagnose_pass(struct diagnose *dx, char **files, const bool *failed, off_t start)
{
    struct tp_error err;
    char msg[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];
    int status = 0;

    diagnose_resolve(dx);
    for (; *files != NULL; files++, failed++) {
        if (*failed)
            continue;
        if (strcmp(*files, "-") == 0 && lseek(STDIN_FILENO, start, SEEK_SET) < 0) {
            fprintf(stderr, "%s: --diagnose: standard input: %s\n", PROG, strerror(errno));
            status = 1;
        } else if (diagnose_rescan(dx, *files, &err) != 0) {
            tp_error_format(&err, msg, sizeof(msg));
            fprintf(stderr, "%s: --diagnose: %s\n", PROG, msg);
            status = 1;
        }
    }
    return status;
}

/* read_inputs - pass one over every input, then --diagnose's pass two;
   failed has a flag per input. 0, or 1 when an input could not be read */
static int read_inputs(struct options *o, char **files, bool *failed)
{
    struct tp_error err;
    char msg[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];
    off_t start = 0;
    int i, status = 0;

    if (o->diagnose && stdin_again(files, &start) != 0)
        return 1;
    for (i = 0; files[i] != NULL; i++) {
        if (scan_file(&o->scan, files[i], &err) != 0) {
            tp_error_format(&err, msg, sizeof(msg));
            fprintf(stderr, "%s: %s\n", PROG, msg);
            status = failed[i] = 1; /* pass two skips it: its error is told once */
        }
        diagnose_file_end(o->scan.diagnose);
    }
    if (o->diagnose && diagnose_pass(o->scan.diagnose, files, failed, start) != 0)
        status = 1;
    return status;
}

/* main - read every input, write one report */
int main(int argc, char **argv)
{
    static char *stdin_only[] = {"-", NULL};
    struct options o;
    struct agg a;
    char **files;
    bool *failed;
    int first, status;

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
    if (o.diagnose && o.writer == out_csv)
        usage("--diagnose is written in text, json and html, not csv");
    files = first < argc ? argv + first : stdin_only;
    if ((o.meta.diag = o.scan.diag = diag_new()) == NULL ||
        (failed = calloc((size_t) argc + 1, sizeof(bool))) == NULL ||
        (o.diagnose && (o.meta.diagnose = o.scan.diagnose = diagnose_new()) == NULL)) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    diagnose_period(o.scan.diagnose, &o.scan.pctx, o.scan.has_since, o.scan.since, o.scan.has_until,
                    o.scan.until);
    agg_init(&a, o.by);
    o.scan.agg = &a;
    status = read_inputs(&o, files, failed);
    if (a.oom) {
        fprintf(stderr, "%s: out of memory: the counts are incomplete\n", PROG);
        status = 1;
    }
    if (o.diagnose && diagnose_oom(o.scan.diagnose)) {
        fprintf(stderr, "%s: out of memory: the diagnosis is incomplete\n", PROG);
        status = 1;
    }
    warn_gaps(&a);
    if (write_report(&o, &a) != 0)
        status = 1;
    agg_free(&a);
    whatif_free(o.scan.whatif);
    diag_free(o.scan.diag);
    diagnose_free(o.scan.diagnose);
    free(failed);
    return status;
}
