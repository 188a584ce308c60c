/*++
 * NAME
 *	config_include 3
 * SUMMARY
 *	refuse @include in the configuration file
 * SYNOPSIS
 *	#include "config/config_internal.h"
 *
 *	void	cfg_scan_init(scan)
 *	void	cfg_scan_include(ctx, scan, buf, len)
 * DESCRIPTION
 *	cfg_scan_include() reads the configuration file's bytes as they go
 *	to the hash and reports every @include directive, before libconfig
 *	sees the file: libconfig would read the included file behind the
 *	hash's back. It follows libconfig's own lexical rules: a directive
 *	is "@include" first on a line after blanks, outside a string and
 *	outside a comment (#, // or C style). It runs chunk by chunk, so the
 *	whole file is never held in memory.
 * DIAGNOSTICS
 *	FILE:LINE: message, added to the loader's error list.
 *--*/

/* System library. */
#include <stddef.h>

/* Application. */
#include "config/config_internal.h"

/*
  * The @include scan. libconfig (scanner.l) honours "^[ \t]*@include" only
  * in its initial state, that is outside strings and comments; a string
  * may span lines, a C-style comment too, and # or // end at the line's
  * end. The states below are those of that scanner, plus two that hold
  * the first byte of a comment's opening and closing pair. Only the
  * directive's first word is
  * matched: whatever follows, the line is one libconfig would take as
  * an include or refuse anyway.
  */

static const char directive[] = "@include";

enum {
    SCAN_CODE,      /* libconfig's initial state */
    SCAN_SLASH,     /* code, after a '/' */
    SCAN_STRING,    /* in "..." */
    SCAN_ESCAPE,    /* in "...", after a backslash */
    SCAN_LINE,      /* in a # or // comment */
    SCAN_BLOCK,     /* in a C-style comment */
    SCAN_BLOCK_END, /* in a C-style comment, after a '*' */
};

/* cfg_scan_init - the state at the start of a file */
void cfg_scan_init(struct cfg_scan *scan)
{
    scan->line = 1;
    scan->state = SCAN_CODE;
    scan->bol = 0;
    scan->found = 0;
}

/* scan_line_start - a byte of code: part of "@include" first on a line? */
static bool scan_line_start(struct cfg_ctx *ctx, struct cfg_scan *scan, int c)
{
    if (scan->bol < 0)
        return false;
    if (scan->bol == 0 && (c == ' ' || c == '\t'))
        return true;
    if (c != directive[scan->bol]) {
        scan->bol = -1;
        return false;
    }
    if (directive[++scan->bol] == 0) {
        tp_errlist_add(ctx->rd.errs, ctx->rd.path, scan->line,
                       "@include is not supported: the configuration hash must cover every file"
                       " (use recipient_domains_file for long lists)");
        scan->found++;
        scan->bol = -1;
    }
    return true;
}

/* scan_code - one byte in libconfig's initial state */
static void scan_code(struct cfg_ctx *ctx, struct cfg_scan *scan, int c)
{
    if (scan_line_start(ctx, scan, c))
        return;
    if (c == '\n')
        scan->bol = 0;
    else if (c == '"')
        scan->state = SCAN_STRING;
    else if (c == '#')
        scan->state = SCAN_LINE;
    else if (c == '/')
        scan->state = SCAN_SLASH;
}

/* scan_byte - advance the scan by one byte */
static void scan_byte(struct cfg_ctx *ctx, struct cfg_scan *scan, int c)
{
    switch (scan->state) {
    case SCAN_SLASH:
        if (c == '/' || c == '*') {
            scan->state = c == '/' ? SCAN_LINE : SCAN_BLOCK;
            break;
        }
        scan->state = SCAN_CODE;
        /* FALLTHROUGH */
    case SCAN_CODE:
        scan_code(ctx, scan, c);
        break;
    case SCAN_STRING:
        scan->state = c == '\\' ? SCAN_ESCAPE : c == '"' ? SCAN_CODE : SCAN_STRING;
        break;
    case SCAN_ESCAPE:
        scan->state = SCAN_STRING;
        break;
    case SCAN_LINE:
        if (c == '\n') {
            scan->state = SCAN_CODE;
            scan->bol = 0;
        }
        break;
    case SCAN_BLOCK_END:
        if (c == '/') {
            scan->state = SCAN_CODE;
            break;
        }
        /* FALLTHROUGH */
    default: /* SCAN_BLOCK */
        scan->state = c == '*' ? SCAN_BLOCK_END : SCAN_BLOCK;
        break;
    }
    if (c == '\n')
        scan->line++;
}

/* cfg_scan_include - report every @include in the next len bytes */
void cfg_scan_include(struct cfg_ctx *ctx, struct cfg_scan *scan, const unsigned char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        scan_byte(ctx, scan, buf[i]);
}
