/*++
 * NAME
 *	scan 3
 * SUMMARY
 *	one input file through prefix, record parser and aggregation
 * SYNOPSIS
 *	#include "report/scan.h"
 *
 *	int	scan_file(s, path, err)
 *	int	scan_input(s, in, file, err)
 * DESCRIPTION
 *	See scan.h. Lines are handled one at a time and forgotten, so the
 *	size of the input does not matter.
 * DIAGNOSTICS
 *	An unreadable file, or a read error part way (a truncated gzip
 *	file), returns -1; what was read before still counts.
 *--*/

/* System library. */
#include <string.h>

/* Application. */
#include "logread/input.h"
#include "record/recparse.h"
#include "report/scan.h"

/* in_period - the time filter; counts what it leaves out */
static bool in_period(struct scan *s, const struct prefix *px)
{
    if (!s->has_since && !s->has_until)
        return true;
    if (!px->has_time) {
        s->agg->untimed++;
        return false;
    }
    if ((s->has_since && px->when < s->since) || (s->has_until && px->when >= s->until)) {
        s->agg->out_of_period++;
        return false;
    }
    return true;
}

/* scan_line - one line of input */
static void scan_line(struct scan *s, const char *file, struct input_line *line)
{
    struct prefix px;
    struct rec r;
    const char *why;

    s->agg->lines++;
    prefix_parse(&s->pctx, line->text, &px);
    if (recparse_is_record(px.msg) == REC_NONE) {
        if (s->diagnose != NULL && !line->too_long && !line->has_nul)
            diagnose_line(s->diagnose, &px);
        return;
    }
    if (line->too_long || line->has_nul) {
        agg_malformed(s->agg, file, line->lineno, line->too_long ? "line too long" : "NUL byte in line");
        return;
    }
    whatif_keep(s->whatif, px.msg);
    if (recparse_record((char *) px.msg, &r, &why) != 0) {
        agg_malformed(s->agg, file, line->lineno, why);
    } else {
        /* A record outside the period is not lost: the seq check sees it. */
        agg_seq(s->agg, &r);
        if (in_period(s, &px)) {
            agg_record(s->agg, &r, px.day);
            whatif_record(s->whatif, &r);
            transitions_record(s->transitions, &r, &px);
            diagnose_record(s->diagnose, &r, &px);
        }
    }
    recparse_clear(&r);
}

/* scan_file - every line of one file */
int scan_file(struct scan *s, const char *path, struct tp_error *err)
{
    return scan_input(s, input_open(path, err), strcmp(path, "-") == 0 ? "(stdin)" : path, err);
}

/* scan_input - every line of an open input, closed after */
int scan_input(struct scan *s, struct input *in, const char *file, struct tp_error *err)
{
    struct input_line line;
    int rc;

    if (in == NULL)
        return -1;
    s->agg->files++;
    while ((rc = input_next(in, &line, err)) > 0)
        scan_line(s, file, &line);
    input_close(in);
    return rc;
}
