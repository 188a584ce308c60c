/*++
 * NAME
 *	fuzz_mtafail 1
 * SUMMARY
 *	libFuzzer harness: the MTA handshake-failure line parser
 * SYNOPSIS
 *	fuzz_mtafail [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a log, one line per '\n'. Each line is split by
 *	prefix_parse() and given to mtafail_parse() alone, then to one
 *	joiner (mtafail_track_line()), which is flushed and freed at the end,
 *	as the report's --diagnose reads a file.
 *
 *	Checked beyond the sanitizers, for every failure parsed or emitted:
 *	each text field is terminated within its array; the address is
 *	non-empty (but in a REASON line) and already in inet_ntop() form,
 *	so mtafail_addr() gives it back unchanged; the name, when present,
 *	is made of DNS name bytes. mtafail.h promises all of it.
 *--*/

/* System library. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "logread/mtafail.h"
#include "logread/prefix.h"

#define FIXED_NOW 1795600000 /* 2026-11-25: the same inferred year on every run */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerInitialize - local time is UTC, whatever the machine's */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc, (void) argv;
    setenv("TZ", "UTC", 1);
    return 0;
}

/* terminated - a NUL inside the array */
#define terminated(a) (memchr((a), 0, sizeof(a)) != NULL)

/* check_fail - what mtafail.h promises of a failure; abort() when broken */
static void check_fail(const struct mtafail *m, bool need_addr)
{
    char again[MTAFAIL_ADDR_MAX + 1];
    const char *p;

    if (!terminated(m->host) || !terminated(m->name) || !terminated(m->addr) || !terminated(m->reason))
        abort();
    if (need_addr && (mtafail_addr(m->addr, strlen(m->addr), again) != 0 || strcmp(again, m->addr) != 0))
        abort();
    for (p = m->name; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_' && *p != '.')
            abort();
}

/* emitted - the joiner's output */
static void emitted(void *ctx, const struct mtafail *m)
{
    (*(unsigned long *) ctx)++;
    check_fail(m, true);
}

/* LLVMFuzzerTestOneInput - every line, alone and through the joiner */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct prefix_ctx pctx = {0, FIXED_NOW};
    const uint8_t *p = data, *end = data + size, *nl;
    unsigned long emits = 0;
    struct mtafail_track *t;
    enum mtafail_kind kind;
    struct mtafail m;
    struct prefix px;
    char *line;
    size_t n;

    if ((t = mtafail_track_new(emitted, &emits)) == NULL)
        return 0;
    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        n = (size_t) ((nl ? nl : end) - p);
        /* Lines with a NUL never reach the parsers (logread/input.c flags them). */
        if (memchr(p, 0, n) == NULL && (line = malloc(n + 1)) != NULL) {
            memcpy(line, p, n);
            line[n] = 0;
            prefix_parse(&pctx, line, &px);
            memset(&m, 0, sizeof(m));
            kind = mtafail_parse(&px, &m);
            if (kind == MTAFAIL_START || kind == MTAFAIL_DONE || kind == MTAFAIL_LOST)
                check_fail(&m, true);
            mtafail_track_line(t, &px);
            free(line);
        }
        p += n + 1;
    }
    mtafail_track_flush(t);
    (void) mtafail_track_bad(t);
    mtafail_track_free(t);
    return 0;
}
