/*++
 * NAME
 *	tlspolicy-probe 1
 * SUMMARY
 *	check a TLS setup against the client profiles of real senders
 * SYNOPSIS
 *	tlspolicy-probe --cert FILE --key FILE [--cert FILE --key FILE]...
 *		[--ciphers STR] [--ciphersuites STR] [--groups LIST]
 *		[--min-version V] [--profiles FILE] [--profile NAME]...
 *		[-f text|json] [-o FILE]
 *	tlspolicy-probe --connect HOST[:PORT] [--starttls smtp] [--timeout S]
 *		[--profiles FILE] [--profile NAME]... [-f text|json] [-o FILE]
 *	tlspolicy-probe --profile-from-record RECORD|-
 * DESCRIPTION
 *	Command line, profiles, then one handshake per profile, offline
 *	(handshake.c) or live (live.c), then one writer (out.c). See
 *	tlspolicy-probe(1).
 * DIAGNOSTICS
 *	Exit 0 when every profile marked must_pass succeeded, 1 when one
 *	failed, 2 on a usage or setup error: bad flags, an unreadable
 *	certificate or key, settings OpenSSL refuses, a broken profiles
 *	file (FILE:LINE: message), a live probe that could not reach
 *	the TLS handshake, or a must_pass profile this OpenSSL cannot
 *	offer (named on stderr: not tested is not succeeded).
 *--*/

/* System library. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <openssl/ssl.h>

/* Application. */
#include "build-config.h"
#include "probe/fromrec.h"
#include "probe/handshake.h"
#include "probe/live.h"
#include "probe/out.h"
#include "probe/profiles.h"
#include "probe/server.h"
#include "util/map.h"

#define PROG         "tlspolicy-probe"
#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define DEFAULT_FILE SYSCONFDIR "/tlspolicy-profiles.conf"
#define SELECT_MAX   64

struct options {
    struct server_opts server;
    struct live_target target;
    const char *connect;
    const char *profiles;
    const char *select[SELECT_MAX];
    size_t nselect;
    const char *from_record;
    const char *output;
    int (*writer)(FILE *, const struct probe_result *, size_t);
};

/* usage - the synopsis: on stderr with exit 2 after a mistake, for --help on stdout with exit 0 */
static void usage(const char *why)
{
    FILE *fp = why ? stderr : stdout;

    if (why != NULL && why[0])
        fprintf(stderr, "%s: %s\n", PROG, why);
    fprintf(fp,
            "usage: %s --cert FILE --key FILE [--cert FILE --key FILE]... [--ciphers STR]\n"
            "       [--ciphersuites STR] [--groups LIST] [--min-version V] [--profiles FILE]\n"
            "       [--profile NAME]... [-f text|json] [-o FILE]\n"
            "   or: %s --connect HOST[:PORT] [--starttls smtp] [--timeout SECONDS] [--profiles FILE]\n"
            "       [--profile NAME]... [-f text|json] [-o FILE]\n"
            "   or: %s --profile-from-record RECORD|-\n",
            PROG, PROG, PROG);
    exit(why ? EXIT_USAGE : 0);
}

/* setup_error - a message on stderr, exit 2 */
static void setup_error(const char *msg)
{
    fprintf(stderr, "%s: %s\n", PROG, msg);
    exit(EXIT_USAGE);
}

/* add_file - one more --cert or --key */
static void add_file(const char **v, size_t *n, const char *opt, const char *path)
{
    char msg[64];

    if (*n >= SERVER_CERTS_MAX) {
        snprintf(msg, sizeof(msg), "at most %d %s options", SERVER_CERTS_MAX, opt);
        usage(msg);
    }
    v[(*n)++] = path;
}

/* server_option - an option of the offline server; false for any other */
static bool server_option(struct server_opts *s, int c)
{
    switch (c) {
    case 'c':
        add_file(s->cert, &s->ncert, "--cert", optarg);
        return true;
    case 'k':
        add_file(s->key, &s->nkey, "--key", optarg);
        return true;
    case 'C':
        s->ciphers = optarg;
        return true;
    case 'S':
        s->ciphersuites = optarg;
        return true;
    case 'g':
        s->groups = optarg;
        return true;
    case 'm':
        s->min_version = optarg;
        return true;
    default:
        return false;
    }
}

/* option - one option of the table below */
static void option(struct options *o, int c)
{
    if (server_option(&o->server, c))
        return;
    switch (c) {
    case 'n':
        o->connect = optarg;
        break;
    case 's':
        if (strcmp(optarg, "smtp") != 0)
            usage("--starttls: only smtp is supported");
        o->target.starttls = true;
        break;
    case 't':
        if ((o->target.timeout = atoi(optarg)) < 1 || o->target.timeout > 3600 ||
            strspn(optarg, "0123456789") != strlen(optarg))
            usage("--timeout must be 1 to 3600 seconds");
        break;
    case 'p':
        o->profiles = optarg;
        break;
    case 'P':
        if (o->nselect >= SELECT_MAX)
            usage("too many --profile options");
        o->select[o->nselect++] = optarg;
        break;
    case 'r':
        o->from_record = optarg;
        break;
    case 'f':
        if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
            usage("-f must be text or json");
        o->writer = strcmp(optarg, "json") == 0 ? probe_out_json : probe_out_text;
        break;
    case 'o':
        o->output = optarg;
        break;
    case 'V':
        printf("%s %s (%s)\n", PROG, PACKAGE_VERSION, OpenSSL_version(OPENSSL_VERSION));
        exit(0);
    case 'h':
        usage(NULL);
        break;
    default:
        usage(""); /* getopt_long said why */
    }
}

/* check_combination - the options make one of the three forms of the synopsis */
static void check_combination(const struct options *o)
{
    const struct server_opts *s = &o->server;
    bool server_set = s->ncert || s->nkey || s->ciphers || s->ciphersuites || s->groups || s->min_version;

    if (o->from_record)
        return;
    if (o->connect && server_set)
        usage("--connect probes a running server: --cert, --key, --ciphers, --ciphersuites, --groups and"
              " --min-version describe an offline one");
    if (!o->connect && o->target.starttls)
        usage("--starttls needs --connect");
    if (!o->connect && s->ncert == 0)
        usage("offline probe: at least one --cert and --key (or --connect for a running server)");
    if (s->ncert != s->nkey)
        usage("each --cert needs its --key, in the same order");
}

/* parse_args - options into o */
static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"ciphers", required_argument, NULL, 'C'},
        {"ciphersuites", required_argument, NULL, 'S'},
        {"groups", required_argument, NULL, 'g'},
        {"min-version", required_argument, NULL, 'm'},
        {"connect", required_argument, NULL, 'n'},
        {"starttls", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"profiles", required_argument, NULL, 'p'},
        {"profile", required_argument, NULL, 'P'},
        {"profile-from-record", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tp_error err;
    int c;

    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1)
        option(o, c);
    if (optind < argc)
        usage("unexpected argument");
    check_combination(o);
    if (o->connect && live_target_parse(o->connect, &o->target, &err) < 0)
        usage(err.msg);
}

/* seen_before - the same sender's same facts were printed already; else they are now */
static bool seen_before(struct map *seen, const struct fromrec *f)
{
    char key[sizeof(f->client) + sizeof(f->cipher) + 16];
    struct map_entry *e;

    snprintf(key, sizeof(key), "%s\t%s\t%s", f->client, tlsinfo_version_name(f->version), f->cipher);
    if ((e = map_get(seen, key)) == NULL)
        setup_error("out of memory");
    return e->count++ > 0;
}

/*
 * unique_name - profile names must be unique in a file: a name taken
 * already becomes NAME-2, NAME-3, ..., the name cut so that the suffix
 * fits. Exact matches only ("from-x" is not "from-x-2"); the base's entry
 * remembers the next suffix to try, so many senders cut to one name
 * cost no rescans.
 */
static void unique_name(struct map *names, struct fromrec *f)
{
    char base[sizeof(f->name)], suffix[24];
    struct map_entry *e;
    unsigned long long k;
    size_t cut;

    if ((e = map_get(names, f->name)) == NULL)
        setup_error("out of memory");
    if (e->count == 0) {
        e->count = 1;
        return;
    }
    snprintf(base, sizeof(base), "%s", f->name);
    for (k = e->count < 2 ? 2 : e->count;; k++) {
        snprintf(suffix, sizeof(suffix), "-%llu", k);
        cut = strlen(base) + strlen(suffix) > PROFILES_NAME_MAX ? PROFILES_NAME_MAX - strlen(suffix)
                                                                : strlen(base);
        snprintf(f->name, sizeof(f->name), "%.*s%s", (int) cut, base, suffix);
        if ((e = map_get(names, f->name)) == NULL)
            setup_error("out of memory");
        if (e->count == 0) {
            e->count = 1;
            break;
        }
    }
    /* map_get may have moved the table: look the base up again. */
    map_find(names, base)->count = k + 1;
}

/*
 * from_stdin - one profile per distinct sender and suite in the records
 * on stdin. Lines that are not records, and plaintext records, are
 * skipped; a record that cannot become a profile is named on stderr and
 * makes the exit status 2, after the others are printed.
 */
static int from_stdin(void)
{
    struct map seen, names;
    struct fromrec f;
    size_t n = 0, lineno = 0, refused = 0, linecap = 0;
    char *line = NULL, why[256];
    int rc;

    map_init(&seen);
    map_init(&names);
    while (getline(&line, &linecap, stdin) > 0) {
        lineno++;
        if ((rc = fromrec_parse(line, &f, why, sizeof(why))) < 0) {
            fprintf(stderr, "%s: --profile-from-record -: line %zu: %s\n", PROG, lineno, why);
            refused++;
        }
        if (rc != 0 || seen_before(&seen, &f))
            continue;
        unique_name(&names, &f);
        fromrec_print(stdout, &f);
        n++;
    }
    free(line);
    map_free(&seen, NULL);
    map_free(&names, NULL);
    if (n == 0 && refused == 0)
        setup_error("--profile-from-record -: no record on standard input shows a TLS session");
    return fflush(stdout) == 0 && refused == 0 ? 0 : EXIT_USAGE;
}

/* from_record - --profile-from-record: print the profile, exit */
static int from_record(const char *arg)
{
    struct fromrec f;
    char why[256], msg[300];

    if (strcmp(arg, "-") == 0)
        return from_stdin();
    if (fromrec_parse(arg, &f, why, sizeof(why)) != 0) {
        snprintf(msg, sizeof(msg), "--profile-from-record: %s", why);
        setup_error(msg);
    }
    fromrec_print(stdout, &f);
    return fflush(stdout) == 0 ? 0 : EXIT_USAGE;
}

/* load_profiles - the profiles file, or exit 2 with every mistake as FILE:LINE: message */
static void load_profiles(const char *path, struct profiles *ps)
{
    struct tp_errlist errs;
    char msg[TP_ERROR_MSG_MAX + TP_ERROR_FILE_MAX + 16];
    size_t i;

    tp_errlist_init(&errs);
    if (profiles_load(path, ps, &errs) == 0)
        return;
    for (i = 0; i < errs.n; i++) {
        tp_error_format(&errs.items[i], msg, sizeof(msg));
        fprintf(stderr, "%s: %s\n", PROG, msg);
    }
    if (errs.dropped > 0)
        fprintf(stderr, "%s: %zu more errors\n", PROG, errs.dropped);
    exit(EXIT_USAGE);
}

/* select_results - one result per profile to run: those named by --profile, else all */
static struct probe_result *select_results(const struct options *o, const struct profiles *ps, size_t *n)
{
    struct probe_result *r = calloc(o->nselect ? o->nselect : ps->n, sizeof(*r));
    char msg[300];
    size_t i;

    if (r == NULL)
        setup_error("out of memory");
    *n = o->nselect ? o->nselect : ps->n;
    for (i = 0; i < *n; i++) {
        r[i].profile = o->nselect ? profiles_find(ps, o->select[i]) : &ps->v[i];
        if (r[i].profile == NULL) {
            snprintf(msg, sizeof(msg), "--profile %.64s: no such profile in %.200s", o->select[i],
                     o->profiles);
            free(r);
            setup_error(msg);
        }
    }
    return r;
}

/* results_free - the results and what each owns */
static void results_free(struct probe_result *r, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        strbuf_free(&r[i].dropped);
    free(r);
}

/* run_offline - every profile against the server of the command line */
static void run_offline(const struct options *o, struct probe_result *r, size_t n)
{
    struct tp_error err;
    SSL_CTX *server;
    size_t i;

    if ((server = server_ctx_new(&o->server, &err)) == NULL)
        setup_error(err.msg);
    for (i = 0; i < n; i++)
        handshake_memory(server, r[i].profile, &r[i]);
    SSL_CTX_free(server);
}

/* write_output - the results to -o FILE or standard output */
static void write_output(const struct options *o, const struct probe_result *r, size_t n)
{
    FILE *fp = stdout;
    char msg[300];

    if (o->output && (fp = fopen(o->output, "w")) == NULL) {
        snprintf(msg, sizeof(msg), "-o %.200s: %s", o->output, strerror(errno));
        setup_error(msg);
    }
    if (o->writer(fp, r, n) != 0 || (fp != stdout && fclose(fp) != 0)) {
        snprintf(msg, sizeof(msg), "cannot write %.200s", o->output ? o->output : "standard output");
        setup_error(msg);
    }
}

/*
 * exit_status - 2 when a profile could not be run, or one that must pass
 * is not testable here (the gate cannot vouch for it: each is named on
 * stderr); 1 when a must-pass one failed; else 0
 */
static int exit_status(const struct probe_result *r, size_t n)
{
    int status = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (r[i].verdict == PROBE_UNTESTABLE && r[i].profile->must_pass) {
            fprintf(stderr, "%s: profile %s must pass but is not testable here: %s\n", PROG,
                    r[i].profile->name, r[i].error);
            status = EXIT_USAGE;
        }
    for (i = 0; i < n && status == 0; i++)
        if (r[i].verdict == PROBE_ERROR)
            status = EXIT_USAGE;
    for (i = 0; i < n && status == 0; i++)
        if (r[i].verdict == PROBE_FAIL && r[i].profile->must_pass)
            status = EXIT_FAILED;
    return status;
}

int main(int argc, char **argv)
{
    struct options o = {.profiles = DEFAULT_FILE, .writer = probe_out_text, .target = {.timeout = 30}};
    struct profiles ps;
    struct probe_result *r;
    size_t n, i;
    int status;

    /* A server that resets the connection must give an EPIPE, not kill us without a word. */
    signal(SIGPIPE, SIG_IGN);
    parse_args(argc, argv, &o);
    if (o.from_record)
        return from_record(o.from_record);
    load_profiles(o.profiles, &ps);
    r = select_results(&o, &ps, &n);
    if (o.connect)
        for (i = 0; i < n; i++)
            live_probe(&o.target, r[i].profile, &r[i]);
    else
        run_offline(&o, r, n);
    write_output(&o, r, n);
    status = exit_status(r, n);
    results_free(r, n);
    profiles_free(&ps);
    return status;
}
