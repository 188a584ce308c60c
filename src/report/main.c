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
 *	why), through descriptors opened once: a regular file (standard
 *	input too) is seeked back to where pass one began, anything else
 *	(a pipe, <(...), a FIFO) is first copied to an unlinked temporary
 *	file, which both passes read.
 * DIAGNOSTICS
 *	Exit 0 when the report was written from every input, 1 when an
 *	input could not be read (the report covers the others) or the
 *	output could not be written, 2 on a usage error.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    struct report_section sections[3];
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
        report_safe(&sb, v[i]->key);
        fprintf(stderr, "%s: warning: instance %s: %llu records missing between seq %llu and %llu\n", PROG,
                strbuf_str(&sb), seqset_missing(s), s->v[0].lo, s->v[s->n - 1].hi);
    }
    strbuf_free(&sb);
    free(v);
}

/* sections - the features' sections of the report, in output order */
static void sections(struct options *o)
{
    struct report_section *s = o->sections;

    transitions_section(o->scan.transitions, s);
    if (o->diagnose)
        s->text = NULL; /* the diagnosis tells the same story at length */
    s++;
    if (o->diagnose)
        diagnose_section(o->scan.diagnose, s++);
    if (o->scan.whatif != NULL)
        whatif_section(o->scan.whatif, s++);
    o->meta.sections = o->sections;
    o->meta.nsections = (size_t) (s - o->sections);
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

/* spool - copy src to an unlinked temporary file, at offset 0; its
   descriptor, or -1 with errno set */
static int spool(int src)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], buf[65536];
    ssize_t n;
    int fd, saved;

    snprintf(path, sizeof(path), "%s/tlspolicy-report.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    if ((fd = mkstemp(path)) < 0)
        return -1;
    unlink(path);
    while ((n = read(src, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write_all(fd, buf, (size_t) n) != 0)
            break;
    }
    if (n != 0 || lseek(fd, 0, SEEK_SET) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* An input of --diagnose, open for both passes. */
struct twice {
    int fd;      /* -1 when it could not be opened */
    off_t start; /* where pass one began */
};

/* open_twice - an input that pass two reads exactly as pass one did: a
   regular file stays open and is seeked back, so a log rotated between
   the passes cannot change it; anything else (a pipe, a FIFO, a device)
   is copied first, as reopening it would read nothing or block. 0, or
   -1 with err set. */
static int open_twice(const char *path, struct twice *tw, struct tp_error *err)
{
    struct stat st;
    const char *what = "";
    int src, saved;

    tw->fd = -1;
    tw->start = 0;
    src = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &st) != 0)
        goto fail;
    if (S_ISREG(st.st_mode) && (tw->start = lseek(src, 0, SEEK_CUR)) >= 0) {
        tw->fd = src;
        return 0;
    }
    tw->start = 0;
    what = "copying to a temporary file: ";
    if ((tw->fd = spool(src)) < 0)
        goto fail;
    close(src);
    return 0;
fail:
    saved = errno;
    if (src >= 0)
        close(src);
    tp_error_set(err, path, 0, "%s%s", what, strerror(saved));
    tw->fd = -1;
    return -1;
}

/* input_name - an input as named in messages and the report */
static const char *input_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "(stdin)" : path;
}

/* more_files - as many descriptors as the system allows: --diagnose
   keeps every input open between its passes */
static void more_files(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* report_error - one input's error on stderr */
static void report_error(const char *what, const struct tp_error *err)
{
    char msg[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];

    tp_error_format(err, msg, sizeof(msg));
    fprintf(stderr, "%s: %s%s\n", PROG, what, msg);
}

/* diagnose_pass - the second pass of --diagnose over the inputs read well */
static int diagnose_pass(struct diagnose *dx, char **files, struct twice *tw, const bool *failed)
{
    struct tp_error err;
    int i, status = 0;

    diagnose_resolve(dx);
    for (i = 0; files[i] != NULL; i++) {
        if (failed[i])
            continue;
        if (lseek(tw[i].fd, tw[i].start, SEEK_SET) < 0) {
            tp_error_set(&err, input_name(files[i]), 0, "%s", strerror(errno));
            report_error("--diagnose: ", &err);
            status = 1;
        } else if (diagnose_rescan(dx, tw[i].fd, input_name(files[i]), &err) != 0) {
            report_error("--diagnose: ", &err);
            status = 1;
        }
    }
    return status;
}

/* read_twice - --diagnose: pass one over every input, then pass two */
static int read_twice(struct options *o, char **files, bool *failed)
{
    struct tp_error err;
    struct twice *tw;
    int i, n, rc, status = 0;

    for (n = 0; files[n] != NULL; n++)
        /* void */;
    if ((tw = calloc((size_t) n + 1, sizeof(*tw))) == NULL) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    more_files();
    for (i = 0; i < n; i++) {
        if (open_twice(files[i], &tw[i], &err) == 0)
            rc = scan_input(&o->scan, input_open_fd(tw[i].fd, input_name(files[i]), &err),
                            input_name(files[i]), &err);
        else
            rc = -1;
        if (rc != 0) {
            report_error("", &err);
            status = failed[i] = 1; /* pass two skips it: its error is told once */
        }
        diagnose_file_end(o->scan.diagnose);
    }
    if (diagnose_pass(o->scan.diagnose, files, tw, failed) != 0)
        status = 1;
    for (i = 0; i < n; i++)
        if (tw[i].fd >= 0)
            close(tw[i].fd);
    free(tw);
    return status;
}

/* read_inputs - every input into the report (twice with --diagnose);
   failed has a flag per input. 0, or 1 when an input could not be read */
static int read_inputs(struct options *o, char **files, bool *failed)
{
    struct tp_error err;
    int i, status = 0;

    if (o->diagnose)
        return read_twice(o, files, failed);
    for (i = 0; files[i] != NULL; i++) {
        if (scan_file(&o->scan, files[i], &err) != 0) {
            report_error("", &err);
            status = failed[i] = 1;
        }
    }
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
    o.writer = report_out_text;
    o.by = AGG_BY_RCPT_DOMAIN;
    o.scan.pctx.now = time(NULL);
    first = parse_args(argc, argv, &o);
    if (o.diagnose && o.writer == report_out_csv)
        usage("--diagnose is written in text, json and html, not csv");
    files = first < argc ? argv + first : stdin_only;
    if ((o.scan.transitions = transitions_new()) == NULL ||
        (failed = calloc((size_t) argc + 1, sizeof(bool))) == NULL ||
        (o.diagnose && (o.scan.diagnose = diagnose_new()) == NULL)) {
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
    sections(&o);
    if (write_report(&o, &a) != 0)
        status = 1;
    agg_free(&a);
    whatif_free(o.scan.whatif);
    transitions_free(o.scan.transitions);
    diagnose_free(o.scan.diagnose);
    free(failed);
    return status;
}
