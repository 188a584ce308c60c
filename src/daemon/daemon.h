/*++
 * NAME
 *	daemon 3h
 * SUMMARY
 *	daemon life cycle: privileges, pidfile, signals, reload
 * LAYER
 *	src/daemon/ is the program tlspolicyd: command line (main.c), life
 *	cycle (this module), the syslog writer (logger), --explain (explain,
 *	which drives the session service with a capture sink), --state
 *	(statecmd), the pidfile (pidfile) and the one-instance-per-socket
 *	check (sockcheck). It is the only folder that starts front ends
 *	and installs configurations; everything below it is a library.
 *--*/
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>

#include "config/config.h"

struct daemon_options {
    const char *config_path; /* re-read on SIGHUP */
    bool foreground;
    const char *socket;      /* overrides, NULL: from the configuration */
    const char *policy_socket;
    const char *user;
    const char *pidfile;
};

/* daemon_run - run until SIGTERM/SIGINT; takes ownership of cfg; exit status */
int daemon_run(struct config *cfg, const struct daemon_options *);

#endif
