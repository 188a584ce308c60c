/*++
 * NAME
 *	scan 3
 * SUMMARY
 *	the scan driver: every input line to the report's consumers
 * SYNOPSIS
 *	#include "report/scan.h"
 *
 *	int	scan_add(s, consumer)
 *	int	scan_run(s, files, failed)
 * DESCRIPTION
 *	See scan.h. Each pass works on the consumers of that pass that
 *	have something to do in it: pass_begin() hooks each to the events
 *	it has a callback for (struct pass), so that an event costs one
 *	call per consumer that wants it and nothing else. With one
 *	pass, an input is opened by input_open() and read once; with two,
 *	by reread_open(), and the inputs stay open until the last pass
 *	ends.
 * DIAGNOSTICS
 *	An unreadable input, or a read error part way (a truncated gzip
 *	file), goes to s->error and makes scan_run() return 1; what was
 *	read before still counts. In pass two, an input pass one could not
 *	read is skipped: its error was told once.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "logread/input.h"
#include "record/recparse.h"
#include "report/reread.h"
#include "report/scan.h"

/* The consumers of the running pass that have a callback for one event. */
struct hook {
    const struct scan_consumer *c[SCAN_CONSUMERS_MAX];
    size_t n;
};

/* The running pass: its consumers with something to do, by event. */
struct pass {
    const struct scan *s;
    const char *name; /* in messages: NULL in pass one */
    struct hook file_begin, file_end, line, other, malformed, seen, record, left_out;
};

/* HOOK - c takes part in event ev of the pass when it has a callback */
#define HOOK(p, c, ev)                                                                                       \
    do {                                                                                                     \
        if ((c)->ev != NULL)                                                                                 \
            (p)->ev.c[(p)->ev.n++] = (c);                                                                    \
    } while (0)

/* CALL - event ev, with these arguments, to every consumer hooked to it */
#define CALL(p, ev, ...)                                                                                     \
    do {                                                                                                     \
        size_t i_;                                                                                           \
        for (i_ = 0; i_ < (p)->ev.n; i_++)                                                                   \
            (p)->ev.c[i_]->ev((p)->ev.c[i_]->ctx, __VA_ARGS__);                                              \
    } while (0)

/* scan_add - one more consumer */
int scan_add(struct scan *s, const struct scan_consumer *c)
{
    if (s->n == SCAN_CONSUMERS_MAX || c->pass < 1 || c->pass > SCAN_PASSES)
        return -1;
    s->consumers[s->n++] = *c;
    return 0;
}

/* period - whether a record's line is of the period, or why not */
static int period(const struct scan *s, const struct prefix *px, enum scan_left *why)
{
    if (!s->has_since && !s->has_until)
        return 1;
    if (!px->has_time) {
        *why = SCAN_LEFT_UNTIMED;
        return 0;
    }
    if ((s->has_since && px->when < s->since) || (s->has_until && px->when >= s->until)) {
        *why = SCAN_LEFT_OUTSIDE;
        return 0;
    }
    return 1;
}

/* scan_line - one line of input */
static void scan_line(const struct pass *p, const char *file, struct input_line *line)
{
    struct prefix px;
    struct scan_at at = {file, line, &px};
    enum scan_left why_out;
    struct rec r;
    const char *why;

    CALL(p, line, &at);
    prefix_parse(&p->s->pctx, line->text, &px);
    if (recparse_is_record(px.msg) == REC_NONE) {
        if (!line->too_long && !line->has_nul)
            CALL(p, other, &at);
        return;
    }
    if (line->too_long || line->has_nul) {
        CALL(p, malformed, &at, line->too_long ? "line too long" : "NUL byte in line");
        return;
    }
    if (recparse_record((char *) px.msg, &r, &why) != 0) {
        CALL(p, malformed, &at, why);
    } else {
        CALL(p, seen, &r);
        if (period(p->s, &px, &why_out))
            CALL(p, record, &r, &at);
        else
            CALL(p, left_out, why_out);
    }
    recparse_clear(&r);
}

/* input_name - an input as named in messages and the report */
static const char *input_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "(stdin)" : path;
}

/* tell - an input's error to the caller */
static void tell(const struct pass *p, const struct tp_error *err)
{
    if (p->s->error != NULL)
        p->s->error(p->s->error_ctx, p->name, err);
}

/* scan_input - every line of an input (NULL when it could not be
   opened: err is set), then close it; 0, or -1 with err set */
static int scan_input(const struct pass *p, struct input *in, const char *file, struct tp_error *err)
{
    struct input_line line;
    unsigned long lines = 0;
    int rc;

    if (in == NULL)
        return -1;
    CALL(p, file_begin, file);
    while ((rc = input_next(in, &line, err)) > 0) {
        scan_line(p, file, &line);
        lines++;
    }
    input_close(in);
    CALL(p, file_end, file, lines);
    return rc;
}

/* pass_begin - the consumers of pass k with something to do in it,
   hooked to their events; how many */
static size_t pass_begin(const struct scan *s, int k, struct pass *p)
{
    const struct scan_consumer *c;
    size_t i, n = 0;

    memset(p, 0, sizeof(*p));
    p->s = s;
    for (i = 0; i < s->n; i++) {
        c = &s->consumers[i];
        if (c->pass != k)
            continue;
        if (k > 1 && p->name == NULL)
            p->name = c->name != NULL ? c->name : "";
        if (c->pass_begin != NULL && !c->pass_begin(c->ctx))
            continue;
        HOOK(p, c, file_begin);
        HOOK(p, c, file_end);
        HOOK(p, c, line);
        HOOK(p, c, other);
                HOOK(p, c, malformed);
        HOOK(p, c, seen);
        HOOK(p, c, record);
        HOOK(p, c, left_out);
        n++;
    }
    return n;
}

/* pass_end - after the last input of pass k */
static void pass_end(const struct scan *s, int k)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (s->consumers[i].pass == k && s->consumers[i].pass_end != NULL)
            s->consumers[i].pass_end(s->consumers[i].ctx);
}

/* last_pass - the highest pass of any consumer */
static int last_pass(const struct scan *s)
{
    size_t i;
    int k = 1;

    for (i = 0; i < s->n; i++)
        if (s->consumers[i].pass > k)
            k = s->consumers[i].pass;
    return k;
}

/* read_once - the one pass: each input opened, read and closed */
static int read_once(const struct scan *s, char **files, bool *failed)
{
    struct tp_error err;
    struct pass p;
    int i, status = 0;

    pass_begin(s, 1, &p);
    for (i = 0; files[i] != NULL; i++) {
        if (scan_input(&p, input_open(files[i], &err), input_name(files[i]), &err) != 0) {
            tell(&p, &err);
            status = failed[i] = 1;
        }
    }
    pass_end(s, 1);
    return status;
}

/* read_first - pass one over inputs that stay open for the next */
static int read_first(const struct scan *s, char **files, struct reread *rr, bool *failed)
{
    struct tp_error err;
    struct pass p;
    int i, rc, status = 0;

    pass_begin(s, 1, &p);
    for (i = 0; files[i] != NULL; i++) {
        if (reread_open(files[i], &rr[i], &err) == 0)
            rc = scan_input(&p, input_open_fd(rr[i].fd, input_name(files[i]), &err), input_name(files[i]),
                            &err);
        else
            rc = -1;
        if (rc != 0) {
            tell(&p, &err);
            status = failed[i] = 1; /* the next passes skip it: its error is told once */
        }
    }
    pass_end(s, 1);
    return status;
}

/* read_again - pass k > 1 over the inputs pass one read */
static int read_again(const struct scan *s, int k, char **files, const struct reread *rr, const bool *failed)
{
    struct tp_error err;
    struct pass p;
    size_t active = pass_begin(s, k, &p);
    int i, status = 0;

    for (i = 0; files[i] != NULL; i++) {
        if (failed[i])
            continue;
        if (reread_rewind(&rr[i], input_name(files[i]), &err) != 0 ||
            (active > 0 && scan_input(&p, input_open_fd(rr[i].fd, input_name(files[i]), &err),
                                      input_name(files[i]), &err) != 0)) {
            tell(&p, &err);
            status = 1;
        }
    }
    pass_end(s, k);
    return status;
}

/* scan_run - every pass over every input */
int scan_run(struct scan *s, char **files, bool *failed)
{
    struct tp_error err;
    struct reread *rr;
    int i, k, n, last = last_pass(s), status;

    if (last == 1)
        return read_once(s, files, failed);
    for (n = 0; files[n] != NULL; n++)
        /* void */;
    if ((rr = calloc((size_t) n + 1, sizeof(*rr))) == NULL) {
        tp_error_set(&err, NULL, 0, "out of memory");
        if (s->error != NULL)
            s->error(s->error_ctx, NULL, &err);
        return 1;
    }
    reread_more_files();
    status = read_first(s, files, rr, failed);
    for (k = 2; k <= last; k++)
        if (read_again(s, k, files, rr, failed) != 0)
            status = 1;
    for (i = 0; i < n; i++)
        reread_close(&rr[i]);
    free(rr);
    return status;
}
