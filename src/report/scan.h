/*++
 * NAME
 *	scan 3h
 * SUMMARY
 *	one input file through prefix, record parser and aggregation
 * DESCRIPTION
 *	A line is a tlspolicyd record when its message (after any syslog
 *	prefix) starts like one; every other line is skipped silently.
 *	With --since or --until, a record outside [since, until) is left
 *	out of the groups and totals, and so is one whose line has no time
 *	stamp (journalctl -o cat, stderr): nothing shows that it belongs to
 *	the period. Both are counted. The seq check and the malformed count
 *	cover every line read, whatever its time: a record left out by the
 *	period is not lost, and a broken line is a problem of the input.
 *	With --diagnose, every line that is not a record also goes to
 *	diagnose_line() (the MTA's handshake failures), and every record of
 *	the period to diagnose_record().
 *--*/
#ifndef REPORT_SCAN_H
#define REPORT_SCAN_H

#include <stdbool.h>
#include <time.h>

#include "report/agg.h"
#include "report/transitions.h"
#include "report/diagnose.h"
#include "logread/input.h"
#include "logread/prefix.h"
#include "report/whatif.h"
#include "util/tp_error.h"

struct scan {
    struct prefix_ctx pctx;
    bool has_since, has_until;
    time_t since, until;
    struct agg *agg;
    struct whatif *whatif;     /* --what-if, or NULL */
    struct transitions *transitions; /* TLS to plaintext, or NULL */
    struct diagnose *diagnose; /* --diagnose, or NULL */
};

/* scan_file - read path ("-": stdin) into s->agg; 0, or -1 with err set */
int scan_file(struct scan *, const char *path, struct tp_error *err);
/* scan_input - read in (from input_open*, NULL when that failed: err is
   set) as the file named file, then close it; 0, or -1 with err set */
int scan_input(struct scan *, struct input *in, const char *file, struct tp_error *err);

#endif
