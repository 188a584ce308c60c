/*++
 * NAME
 *	reread 3h
 * SUMMARY
 *	inputs that the report reads twice, the second time as the first
 * DESCRIPTION
 *	A second pass over the inputs (--diagnose) must read exactly what
 *	the first read. A regular file (standard input too, when it is
 *	one) stays open and is seeked back to where the first reading
 *	began, so that a log rotated between the passes cannot change it.
 *	Anything else (a pipe, <(...), a FIFO, a device) is first copied
 *	to an unlinked temporary file in TMPDIR (default /tmp), which both
 *	passes read: reopening it would read nothing or block. Every input
 *	stays open from the first pass to the second.
 *--*/
#ifndef REPORT_REREAD_H
#define REPORT_REREAD_H

#include <sys/types.h>

#include "util/tp_error.h"

struct reread {
    int fd;      /* -1 when it could not be opened */
    off_t start; /* where the first reading began */
};

/* reread_open - path ("-": standard input), ready for its first
   reading at rr->fd; 0, or -1 with err set (named path) and rr->fd -1 */
int reread_open(const char *path, struct reread *rr, struct tp_error *err);

/* reread_rewind - back to where the first reading began; 0, or -1
   with err set (named name) */
int reread_rewind(const struct reread *rr, const char *name, struct tp_error *err);

/* reread_close - the descriptor, if open */
void reread_close(struct reread *rr);

/* reread_more_files - raise the soft limit of open files to the hard
   one: every input stays open between the passes */
void reread_more_files(void);

#endif
