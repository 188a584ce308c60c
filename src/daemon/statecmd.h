/*++
 * NAME
 *	statecmd 3h
 * SUMMARY
 *	tlspolicyd --state: inspect and clear what the fallback rules learned
 *--*/
#ifndef STATECMD_H
#define STATECMD_H

#include <stdio.h>

#include "config/config.h"
#include "state/store.h"
#include "util/tp_error.h"

/*
 * statecmd_open_redis - the Redis store of cfg's state group (the daemon
 * opens it the same way). NULL on bad options; a server that does not
 * answer yet is a warning in err->msg.
 */
struct store *statecmd_open_redis(const struct config *, struct tp_error *err);

/*
 * statecmd_run - "list", "show KEY" or "forget KEY" against the store of
 * the configuration (safe while the daemon runs). Returns the exit status:
 * 0 done, 1 a key not found or a store error (err set), 2 usage (err set).
 */
int statecmd_run(const struct config *, int argc, char **argv, FILE *out, struct tp_error *err);

#endif
