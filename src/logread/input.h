/*++
 * NAME
 *	input 3h
 * SUMMARY
 *	line reader over plain and gzip files and stdin
 * DESCRIPTION
 *	zlib reads gzip members and plain files alike (gzread passes bytes
 *	through when there is no gzip header), so the caller never looks at
 *	file names. Lines are split here, not with gzgets: gzgets cannot
 *	tell a NUL byte inside a line from its end, and a reader of hostile
 *	input must. A line longer than INPUT_LINE_MAX is cut there and the
 *	rest of it skipped, so one missing newline cannot make memory grow
 *	with the file; the line is flagged as too long. A final line without
 *	a newline is still a line. A trailing CR is removed.
 *--*/
#ifndef REPORT_INPUT_H
#define REPORT_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"
#include "util/tp_error.h"

#define INPUT_LINE_MAX 65536

struct input;

struct input_line {
    char *text; /* NUL-terminated, writable until the next line */
    size_t len;
    unsigned long lineno;
    bool too_long; /* cut at INPUT_LINE_MAX */
    bool has_nul;  /* a NUL byte inside the line: text stops there */
};

/* input_open - path, or "-" for stdin; NULL with err set */
struct input *input_open(const char *path, struct tp_error *err);
/* input_open_fd - a seekable descriptor (left open) from its current
   offset, named name in errors; NULL with err set */
struct input *input_open_fd(int fd, const char *name, struct tp_error *err);
/* input_next - 1 with a line, 0 at the end, -1 on a read error (err set) */
int input_next(struct input *, struct input_line *, struct tp_error *err);
/* input_close - release everything */
void input_close(struct input *);

#endif
