/*++
 * NAME
 *	fuzz_logline 1
 * SUMMARY
 *	libFuzzer harness: the report's line parser
 * SYNOPSIS
 *	fuzz_logline [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a log, one line per '\n', read as the report's scan
 *	driver (src/report/scan.c) reads each line: prefix_parse(), then
 *	recparse_is_record() and recparse_record() on the message, then
 *	recparse_clear(). Lines with a NUL byte are skipped, as the driver
 *	counts them malformed without parsing them.
 *
 *	Checked beyond the sanitizers: the prefix's host, tag, pid and
 *	message point into the line; a record read has a non-zero seq and
 *	the event recparse_is_record() announced; every field read is a
 *	terminated string (ASan sees an overrun).
 *
 *	Time is fixed (TZ=UTC, a fixed "now"), so that a crash reproduces.
 *--*/

/* System library. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "logread/prefix.h"
#include "record/recparse.h"

/* 2026-11-25, so that the traditional shape's year is inferred the same on every run. */
#define FIXED_NOW 1795600000

/* inside - [p, p+n) lies in [line, line+len] */
#define inside(p, n, line, len) ((n) == 0 || ((p) >= (line) && (p) + (n) <= (line) + (len)))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerInitialize - local time is UTC, whatever the machine's */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc, (void) argv;
    setenv("TZ", "UTC", 1);
    return 0;
}

/* one_line - what scan_line() does with one line */
static void one_line(char *line, size_t len)
{
    static const struct prefix_ctx pctx = {0, FIXED_NOW};
    enum rec_event ev;
    const char *why;
    struct prefix px;
    struct rec r;
    int f;

    prefix_parse(&pctx, line, &px);
    if (!inside(px.host, px.host_len, line, len) || !inside(px.tag, px.tag_len, line, len) ||
        !inside(px.pid, px.pid_len, line, len) || !inside(px.msg, strlen(px.msg), line, len))
        abort();
    if ((ev = recparse_is_record(px.msg)) == REC_NONE)
        return;
    if (recparse_record((char *) px.msg, &r, &why) == 0) {
        if (r.seq == 0 || r.event != ev)
            abort();
        for (f = 0; f < REC_NFIELDS; f++)
            if (r.f[f] != NULL)
                (void) strlen(r.f[f]);
    } else if (why == NULL) {
        abort(); /* a refusal always says why */
    }
    recparse_clear(&r);
}

/* LLVMFuzzerTestOneInput - every line of the input */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size, *nl;
    char *line;
    size_t n;

    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        n = (size_t) ((nl ? nl : end) - p);
        /* A copy of exactly the line, so that ASan sees any read past it. */
        if (memchr(p, 0, n) == NULL && (line = malloc(n + 1)) != NULL) {
            memcpy(line, p, n);
            line[n] = 0;
            one_line(line, n);
            free(line);
        }
        p += n + 1;
    }
    return 0;
}
