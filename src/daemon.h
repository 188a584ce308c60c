/*++
 * NAME
 *	daemon 3h
 * SUMMARY
 *	daemon life cycle: privileges, pidfile, signals, reload
 *--*/
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>

#include "config.h"

struct daemon_options {
    const char *config_path; /* re-read on SIGHUP */
    bool foreground;
    const char *socket;      /* overrides, NULL: from the configuration */
    const char *user;
    const char *pidfile;
};

/*
 * A reference-counted configuration. The current one is swapped as a
 * whole on reload; a connection keeps the reference it took at connect.
 */
struct config_ref {
    struct config *cfg;
    int refs; /* guarded by the daemon's reference lock */
};

struct config_ref *config_ref_acquire(void);
void config_ref_release(struct config_ref *);

/* daemon_run - run until SIGTERM/SIGINT; takes ownership of cfg; exit status */
int daemon_run(struct config *cfg, const struct daemon_options *);

#endif
