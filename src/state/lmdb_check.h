/*++
 * NAME
 *	lmdb_check 3h
 * SUMMARY
 *	is an LMDB store damaged? Asked before the daemon maps it
 * DESCRIPTION
 *	LMDB reads its file through a memory map and trusts it: a file
 *	shorter than its meta pages say, or a page with changed bytes,
 *	kills the reading process with SIGBUS or SIGSEGV, at open or at the
 *	first lookup. These checks run before store_lmdb.c opens the
 *	environment, and never touch the file through a map in this process:
 *	the meta pages are read with read(2), the full walk runs in a child
 *	process whose death is the finding. Private to src/state/.
 *--*/
#ifndef LMDB_CHECK_H
#define LMDB_CHECK_H

#include <stddef.h>

#include "state/store.h"
#include "util/tp_error.h"

/* The full walk gives up (and the store is opened unverified) after this. */
#define LMDB_CHECK_WALK_SECONDS 30

/*
 * lmdb_check - 0: data.mdb in dir is absent (first start) or looks sound
 * (a warning may be left in why->msg: the walk did not finish in time);
 * 1: damaged, why->msg says what was found; -1: cannot tell (I/O error,
 * permission), err in why->msg.
 */
int lmdb_check(const char *dir, unsigned walk_seconds, struct tp_error *why);

/*
 * lmdb_move_aside - rename data.mdb and lock.mdb in dir to
 * NAME.damaged-YYYYMMDDTHHMMSSZ (UTC; a -N suffix when taken). Fills
 * moved with "data.mdb -> data.mdb.damaged-..., lock.mdb -> ...".
 * 0, or -1 with err set.
 */
int lmdb_move_aside(const char *dir, char *moved, size_t len, struct tp_error *err);

/*
 * lmdb_check_open - what store_open_lmdb() does first: lmdb_check(), then
 * for a damaged store refuse (-1, err says why and what to do) or move it
 * aside (0, err holds the notice for the caller to log as an error). 0
 * with err empty or holding a warning otherwise; -1 when it cannot tell.
 */
int lmdb_check_open(const char *dir, enum store_on_damage, struct tp_error *err);

#endif
