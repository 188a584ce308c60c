/*++
 * NAME
 *	capture 3h
 * SUMMARY
 *	a session sink that keeps what the session service emits, for unit tests
 * DESCRIPTION
 *	cap_record and cap_notice are a struct session_sink's callbacks with a
 *	struct capture as their argument: record lines and their seq are kept
 *	in order (at most CAP_LINES; more are dropped and counted), notices
 *	counted. The fallback store's hourly expiry notice is not counted
 *	(it comes at the first close in whichever case runs first); "state
 *	store: ..." notices, those of a failing store, are counted apart.
 *	kv_get reads one field of a kv record line.
 *--*/
#ifndef CAPTURE_H
#define CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#define CAP_LINES 64

struct capture {
    char *lines[CAP_LINES];
    unsigned long long seqs[CAP_LINES];
    size_t n;
    size_t dropped;       /* lines beyond CAP_LINES */
    size_t notices;       /* other than the two kinds below */
    size_t store_notices; /* "state store: ...", from a failing store */
    char last_notice[512];
};

/* cap_record - sink: keep the record line and the seq handed over */
void cap_record(void *capture, int priority, unsigned long long seq, const char *line);

/* cap_notice - sink: count the notice (print it), keep the last */
void cap_notice(void *capture, int priority, const char *text);

/* cap_clear - forget what was captured */
void cap_clear(struct capture *);

/* kv_get - the value of key in a kv record line, unquoted; false when absent.
   Enough of the kv syntax for the tests: plain tokens and "quoted \"values\"". */
bool kv_get(const char *line, const char *key, char *out, size_t len);

#endif
