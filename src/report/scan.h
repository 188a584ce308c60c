/*++
 * NAME
 *	scan 3h
 * SUMMARY
 *	the scan driver: every input line to the report's consumers
 * DESCRIPTION
 *	The driver reads the inputs line by line and tells the consumers
 *	what it found; each report feature (the aggregation, the TLS to
 *	plaintext transitions, --what-if, --diagnose) is a consumer, so a
 *	new feature registers one and leaves this driver alone. A consumer
 *	is a set of callbacks, each NULL when the feature has no use for
 *	that event, and the context they are called with. Consumers are
 *	called in the order they were added.
 *
 *	A line is a tlspolicyd record when its message (after any syslog
 *	prefix) starts like one (recparse_is_record()) and its syslog tag
 *	is the ident (scan.ident, "tlspolicyd" when NULL), or ends in
 *	"/" and the ident (Postfix's maillog_file names programs under
 *	its syslog_name: "postfix/tlspolicyd"). A line without a tag
 *	(journalctl -o cat, tlspolicyd -f) is taken as the admin gave it.
 *	A record line tagged by another program (logger, anyone's) is
 *	foreign: told as such, never read. For every line: line; then,
 *	for a line that is not a record, other (unless it was cut or holds
 *	a NUL byte: no MTA line is trusted then); for a foreign one,
 *	foreign; for a record, malformed when it was cut, holds a NUL byte
 *	or does not parse, else seen, and then, once per (instance, seq)
 *	in a pass, record when it is of the period or left_out when it is
 *	not; a record whose (instance, seq) was seen before in the pass
 *	(the same record filed twice, in tlspolicyd.log and mail.log, or a
 *	file given twice) is a duplicate instead, so that no consumer
 *	counts a recipient twice. The first copy counts: the writer never
 *	writes two records with one number. The numbers seen are kept per
 *	instance as a seqset (util/seqset.h: memory grows with the holes
 *	between the numbers, 16 bytes each, never with the records), one
 *	set for each pass. With --since or --until, a record outside
 *	[since, until) is left out, and so is one whose line has no time
 *	stamp (journalctl -o cat, stderr): nothing shows that it belongs
 *	to the period. seen covers every record, whatever its time: a
 *	record left out by the period is not lost (the seq check), and a
 *	broken line is a problem of the input.
 *
 *	Passes: a consumer belongs to pass one or pass two. When one
 *	belongs to pass two (--diagnose, whose second pass needs what the
 *	first found in every input), every input is opened so that it can
 *	be read again as it was (see reread.h), and read again after the
 *	pass_end of pass one, by the consumers of pass two only, skipping
 *	the inputs pass one could not read. A pass none of whose consumers
 *	has anything to do (pass_begin false) reads nothing.
 *
 *	Lines are handled one at a time and forgotten, so the size of the
 *	input does not matter to the driver.
 *
 * LAYER
 *	src/report/ is the program tlspolicy-report, on logread/ (inputs,
 *	prefixes, MTA failure lines), record/ (the reader), config/ and
 *	core/ (--what-if), state/ (fbkey for client domains) and util/.
 *	This driver, its consumers (agg, transitions, whatif, diagnose),
 *	and each feature's writers in its own *_out.c.
 *--*/
#ifndef REPORT_SCAN_H
#define REPORT_SCAN_H

#include <stdbool.h>
#include <time.h>

#include "logread/input.h"
#include "logread/prefix.h"
#include "record/recparse.h"
#include "util/tp_error.h"

#define SCAN_CONSUMERS_MAX 8
#define SCAN_PASSES        2

/* Where the driver is: the input as named in messages ("(stdin)" for
   "-"), the line as read, and its syslog prefix (px->msg: the message). */
struct scan_at {
    const char *file;
    const struct input_line *line;
    const struct prefix *px;
};

/* Why a record is left out of the period. */
enum scan_left { SCAN_LEFT_UNTIMED, SCAN_LEFT_OUTSIDE };

/* One consumer; any callback may be NULL. */
struct scan_consumer {
    const char *name; /* in messages about its pass, if pass two: "--diagnose" */
    int pass;         /* 1, or 2 (see above) */
    void *ctx;        /* the first argument of every callback */
    /* before its pass: false when it has nothing to do in it */
    bool (*pass_begin)(void *ctx);
    /* an input opened; after its last line (lines read), even when a
       read error cut it short */
    void (*file_begin)(void *ctx, const char *file);
    void (*file_end)(void *ctx, const char *file, unsigned long lines);
    /* every line, first (to count lines, file_end costs less) */
    void (*line)(void *ctx, const struct scan_at *);
    /* a whole line that is not a record (an MTA's, say) */
    void (*other)(void *ctx, const struct scan_at *);
    /* a record line that is cut, holds a NUL byte, or does not parse */
    void (*malformed)(void *ctx, const struct scan_at *, const char *why);
    /* a record line of another program (its syslog tag) */
    void (*foreign)(void *ctx, const struct scan_at *);
    /* every record parsed, whatever its time */
    void (*seen)(void *ctx, const struct rec *);
    /* a record of the period; or why one is not */
    void (*record)(void *ctx, const struct rec *, const struct scan_at *);
    void (*left_out)(void *ctx, enum scan_left);
    /* a record whose (instance, seq) came before in the pass */
    void (*duplicate)(void *ctx, const struct rec *, const struct scan_at *);
    /* after the last input of its pass */
    void (*pass_end)(void *ctx);
};

struct scan {
    struct prefix_ctx pctx;
    const char *ident; /* the syslog tag of records; NULL: "tlspolicyd" */
    bool has_since, has_until;
    time_t since, until;
    /* An input that could not be read (in part): pass is NULL in pass
       one, else the name of the pass's first consumer. */
    void (*error)(void *ctx, const char *pass, const struct tp_error *);
    void *error_ctx;
    struct scan_consumer consumers[SCAN_CONSUMERS_MAX];
    size_t n;
};

/* scan_add - register a consumer (copied); 0, or -1 when there are
   SCAN_CONSUMERS_MAX already or its pass is not 1 .. SCAN_PASSES */
int scan_add(struct scan *, const struct scan_consumer *);

/* scan_run - every input ("-": stdin) through the consumers, pass by
   pass; failed[i] is set for an input that could not be read (the
   others are read all the same). 0, or 1 when an input could not be
   read or memory ran out; each error went to s->error. */
int scan_run(struct scan *, char **files, bool *failed);

#endif
