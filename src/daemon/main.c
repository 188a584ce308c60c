/*++
 * NAME
 *	tlspolicyd 8
 * SUMMARY
 *	inbound TLS policy milter: command line and life cycle
 * SYNOPSIS
 *	tlspolicyd [-f] [-c FILE] [-p SOCKET] [-s SOCKET] [-u USER[:GROUP]] [-P PIDFILE]
 *	tlspolicyd -n [-c FILE]
 *	tlspolicyd -V
 *	tlspolicyd [-c FILE] --explain KEY=VALUE ...
 *	tlspolicyd [-c FILE] --explain-policy-request FILE|-
 *	tlspolicyd [-c FILE] --state list|show KEY|forget KEY
 * DESCRIPTION
 *	Parses the command line, loads the configuration, and hands over to
 *	the mode asked for: check (-n), explain (--explain), version (-V) or
 *	the milter daemon. This is the only place that decides to exit.
 * DIAGNOSTICS
 *	Configuration errors go to stderr as FILE:LINE: message, one a line.
 *	Exit status 0 on success, 1 for an invalid configuration or a failure
 *	to start, 2 for a usage error.
 *--*/

/* System library. */
#include "build-config.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <libconfig.h>
#include <openssl/crypto.h>

/* Application. */
#include "config/config.h"
#include "config/config_perm.h"
#include "daemon/explain.h"
#include "daemon/explain_policy.h"
#include "daemon/statecmd.h"
#include "milter/milter.h"
#include "daemon/daemon.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/tlspolicyd.conf"

struct options {
    const char *config;
    bool foreground;
    bool check;
    bool version;
    const char *socket;
    const char *policy_socket;
    const char *policy_request; /* --explain-policy-request FILE, "-": stdin */
    const char *user;
    const char *pidfile;
    int explain_argc; /* -1: no --explain */
    char **explain_argv;
    int state_argc; /* -1: no --state */
    char **state_argv;
};

/* usage - the synopsis, on stderr */
static int usage(void)
{
    fputs("usage: tlspolicyd [-f] [-c FILE] [-p SOCKET] [-s SOCKET] [-u USER[:GROUP]] [-P PIDFILE]\n"
          "       tlspolicyd -n [-c FILE]\n"
          "       tlspolicyd -V\n"
          "       tlspolicyd [-c FILE] --explain KEY=VALUE ...\n"
          "       tlspolicyd [-c FILE] --explain-policy-request FILE|-\n"
          "       tlspolicyd [-c FILE] --state list|show KEY|forget KEY\n",
          stderr);
    return 2;
}

/* parse_options - the command line; returns 0, or 2 for a usage error */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"explain", no_argument, NULL, 'E'},
        {"explain-policy-request", required_argument, NULL, 'R'},
        {"state", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->config = DEFAULT_CONFIG;
    o->explain_argc = -1;
    o->state_argc = -1;
    while ((c = getopt_long(argc, argv, "+c:fnp:s:u:P:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 'n':
            o->check = true;
            break;
        case 'p':
            o->socket = optarg;
            break;
        case 's':
            o->policy_socket = optarg;
            break;
        case 'R':
            o->policy_request = optarg;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'P':
            o->pidfile = optarg;
            break;
        case 'V':
            o->version = true;
            break;
        case 'E':
            /* Everything after --explain is KEY=VALUE. */
            o->explain_argc = argc - optind;
            o->explain_argv = argv + optind;
            return 0;
        case 'S':
            o->state_argc = argc - optind;
            o->state_argv = argv + optind;
            return 0;
        default:
            return 2;
        }
    }
    return optind == argc ? 0 : 2;
}

/* print_version - our version and the libraries in use */
static int print_version(void)
{
    unsigned int major = 0, minor = 0, patch = 0;

    milter_version(&major, &minor, &patch);
    printf("tlspolicyd %s\n", PACKAGE_VERSION);
    printf("libmilter %u.%u.%u\n", major, minor, patch);
    printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("libconfig %d.%d.%d\n", LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR, LIBCONFIG_VER_REVISION);
    return 0;
}

/* print_errors - every configuration error, FILE:LINE: message */
static void print_errors(const struct tp_errlist *errs)
{
    char line[TP_ERROR_FILE_MAX + TP_ERROR_MSG_MAX + 32];
    size_t i;

    for (i = 0; i < errs->n; i++) {
        tp_error_format(&errs->items[i], line, sizeof(line));
        fprintf(stderr, "%s\n", line);
    }
    if (errs->dropped)
        fprintf(stderr, "tlspolicyd: %zu more errors not shown\n", errs->dropped);
}

/* print_mode_warnings - files others may change or read, as postfix check
   warns, and pinned policies no front end can satisfy; the configuration
   is still valid */
static void print_mode_warnings(const struct config *cfg, const struct options *o)
{
    struct tp_errlist warns;

    tp_errlist_init(&warns);
    config_check_modes(cfg, &warns);
    config_check_pins(cfg, o->policy_socket != NULL, &warns);
    print_errors(&warns);
}

/* load - the configuration, or NULL after printing why not */
static struct config *load(const char *path)
{
    struct tp_errlist errs;
    struct config *cfg;

    tp_errlist_init(&errs);
    if ((cfg = config_load(path, &errs)) == NULL)
        print_errors(&errs);
    return cfg;
}

/* run_explain - --explain; takes cfg */
static int run_explain(struct config *cfg, const struct options *o)
{
    struct tp_error err;

    if (explain_run(cfg, o->explain_argc, o->explain_argv, stdout, &err) < 0) {
        fprintf(stderr, "tlspolicyd: %s\n", err.msg);
        return 2;
    }
    return 0;
}

/* run_explain_policy - --explain-policy-request; takes cfg */
static int run_explain_policy(struct config *cfg, const char *path)
{
    struct tp_error err;
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    int rc;

    if (in == NULL) {
        fprintf(stderr, "tlspolicyd: %s: %s\n", path, strerror(errno));
        config_free(cfg);
        return 2;
    }
    rc = explain_policy_run(cfg, in, stdout, &err);
    if (in != stdin)
        fclose(in);
    if (rc < 0) {
        fprintf(stderr, "tlspolicyd: %s\n", err.msg);
        return 2;
    }
    return rc;
}

/* run_state - --state */
static int run_state(const struct config *cfg, const struct options *o)
{
    struct tp_error err;
    int rc = statecmd_run(cfg, o->state_argc, o->state_argv, stdout, &err);

    if (rc != 0)
        fprintf(stderr, "tlspolicyd: %s\n", err.msg);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct config *cfg;
    int rc;

    if (parse_options(argc, argv, &o) != 0)
        return usage();
    if (o.version)
        return print_version();
    if ((cfg = load(o.config)) == NULL)
        return 1;
    if (o.check) {
        printf("%s: configuration OK (hash %s, %zu policies)\n", o.config, cfg->hash,
               cfg->policies.npolicies);
        print_mode_warnings(cfg, &o);
        rc = 0;
    } else if (o.explain_argc >= 0) {
        rc = run_explain(cfg, &o);
        cfg = NULL; /* the session service released it */
    } else if (o.policy_request) {
        rc = run_explain_policy(cfg, o.policy_request);
        cfg = NULL;
    } else if (o.state_argc >= 0) {
        rc = run_state(cfg, &o);
    } else {
        /* The daemon leaves its working directory; SIGHUP must still find the file. */
        char *abs = realpath(o.config, NULL);
        struct daemon_options d = {abs ? abs : o.config, o.foreground, o.socket,
                                   o.policy_socket,      o.user,       o.pidfile};

        rc = daemon_run(cfg, &d);
        free(abs);
        cfg = NULL; /* the daemon owns it now */
    }
    if (cfg)
        config_free(cfg);
    return rc;
}
