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
 *
 *	Duplicates: each pass keeps its own seqset per instance (struct
 *	dedup), so that pass two, which reads every record again, tells
 *	each once too. Records come in runs of one instance: the set of
 *	the last instance is kept at hand, and the map is asked only when
 *	the instance changes.
 * DIAGNOSTICS
 *	An unreadable input, or a read error part way (a truncated gzip
 *	file), goes to s->error and makes scan_run() return 1; what was
 *	read before still counts. In pass two, an input pass one could not
 *	read is skipped: its error was told once. When memory for the seq
 *	sets runs out, a record that cannot be checked counts (as before
 *	this check), and the pass tells "out of memory".
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "logread/input.h"
#include "record/recparse.h"
#include "report/reread.h"
#include "report/scan.h"
#include "util/map.h"
#include "util/seqset.h"

/* The ident of records when --ident is not given: tlspolicyd's own. */
#define SCAN_IDENT_DEFAULT "tlspolicyd"

/* The consumers of the running pass that have a callback for one event. */
struct hook {
    const struct scan_consumer *c[SCAN_CONSUMERS_MAX];
    size_t n;
};

/* The (instance, seq) pairs of a pass; see above. */
struct dedup {
    struct map sets;         /* instance -> struct seqset */
    char last[64];           /* the instance of last_set */
    struct seqset *last_set; /* NULL: ask the map */
    bool oom;
};

/* The running pass: its consumers with something to do, by event. */
struct pass {
    const struct scan *s;
    const char *name; /* in messages: NULL in pass one */
    const char *ident;
    size_t ident_len;
    struct dedup *dd;
    struct hook file_begin, file_end, line, other, malformed, foreign, seen, record, left_out, duplicate;
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

/* foreign - a record line whose syslog tag names another program, or
   that has a syslog prefix without a tag */
static bool foreign(const struct pass *p, const struct prefix *px, const char *line)
{
    size_t n = p->ident_len, len = px->tag_len;

    /* No prefix at all (journalctl -o cat, tlspolicyd -f): the admin
       chose the input. A prefix without a tag is a message sent to the
       log socket without one (syslog(3) always sends the ident). */
    if (len == 0)
        return px->msg != line;
    if (len == n)
        return memcmp(px->tag, p->ident, n) != 0;
    /* "postfix/tlspolicyd": a program named under Postfix's syslog_name. */
    return len < n + 2 || px->tag[len - n - 1] != '/' || memcmp(px->tag + len - n, p->ident, n) != 0;
}

/* seqs_of - the seq set of an instance in the pass, NULL when memory ran out */
static struct seqset *seqs_of(struct dedup *d, const char *instance)
{
    struct map_entry *e;

    if (d->last_set != NULL && strcmp(d->last, instance) == 0)
        return d->last_set;
    if ((e = map_get(&d->sets, instance)) == NULL)
        return NULL;
    if (e->ptr == NULL && (e->ptr = malloc(sizeof(struct seqset))) != NULL)
        seqset_init(e->ptr);
    d->last_set = NULL;
    if (e->ptr != NULL && strlen(instance) < sizeof(d->last)) {
        strcpy(d->last, instance);
        d->last_set = e->ptr;
    }
    return e->ptr;
}

/* first_copy - the record's (instance, seq) is new in the pass */
static bool first_copy(struct dedup *d, const struct rec *r)
{
    struct seqset *set = seqs_of(d, r->f[REC_INSTANCE]);
    unsigned long long before;

    if (set == NULL) {
        d->oom = true;
        return true; /* cannot tell: counted, and the pass says why */
    }
    before = set->duplicates;
    if (seqset_add(set, r->seq) != 0)
        d->oom = true;
    return set->duplicates == before;
}

/* scan_record - a parsed record to the consumers: seen, then once per
   (instance, seq) record or left_out, else duplicate */
static void scan_record(const struct pass *p, const struct rec *r, const struct scan_at *at)
{
    enum scan_left why_out;

    CALL(p, seen, r);
    if (!first_copy(p->dd, r))
        CALL(p, duplicate, r, at);
    else if (period(p->s, at->px, &why_out))
        CALL(p, record, r, at);
    else
        CALL(p, left_out, why_out);
}

/* scan_line - one line of input */
static void scan_line(const struct pass *p, const char *file, struct input_line *line)
{
    struct prefix px;
    struct scan_at at = {file, line, &px};
    struct rec r;
    const char *why;

    CALL(p, line, &at);
    prefix_parse(&p->s->pctx, line->text, &px);
    if (recparse_is_record(px.msg) == REC_NONE) {
        if (!line->too_long && !line->has_nul)
            CALL(p, other, &at);
        return;
    }
    if (foreign(p, &px, line->text)) {
        CALL(p, foreign, &at);
        return;
    }
    if (line->too_long || line->has_nul) {
        CALL(p, malformed, &at, line->too_long ? "line too long" : "NUL byte in line");
        return;
    }
    if (recparse_record((char *) px.msg, &r, &why) != 0)
        CALL(p, malformed, &at, why);
    else
        scan_record(p, &r, &at);
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
   hooked to their events, and an empty dedup; how many */
static size_t pass_begin(const struct scan *s, int k, struct pass *p, struct dedup *dd)
{
    const struct scan_consumer *c;
    size_t i, n = 0;

    memset(p, 0, sizeof(*p));
    memset(dd, 0, sizeof(*dd));
    map_init(&dd->sets);
    p->s = s;
    p->dd = dd;
    p->ident = s->ident != NULL ? s->ident : SCAN_IDENT_DEFAULT;
    p->ident_len = strlen(p->ident);
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
        HOOK(p, c, foreign);
        HOOK(p, c, seen);
        HOOK(p, c, record);
        HOOK(p, c, left_out);
        HOOK(p, c, duplicate);
        n++;
    }
    return n;
}

/* seqset_release - map_free's callback for the dedup sets */
static void seqset_release(void *ptr)
{
    seqset_free(ptr);
    free(ptr);
}

/* pass_end - after the last input of pass k: the consumers' pass_end,
   the dedup freed; 0, or 1 when it ran out of memory (told) */
static int pass_end(const struct scan *s, int k, const struct pass *p)
{
    struct tp_error err;
    int status = 0;
    size_t i;

    if (p->dd->oom) {
        tp_error_set(&err, NULL, 0, "out of memory: duplicate records may be counted");
        tell(p, &err);
        status = 1;
    }
    map_free(&p->dd->sets, seqset_release);

    for (i = 0; i < s->n; i++)
        if (s->consumers[i].pass == k && s->consumers[i].pass_end != NULL)
            s->consumers[i].pass_end(s->consumers[i].ctx);
    return status;
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
    struct dedup dd;
    struct pass p;
    int i, status = 0;

    pass_begin(s, 1, &p, &dd);
    for (i = 0; files[i] != NULL; i++) {
        if (scan_input(&p, input_open(files[i], &err), input_name(files[i]), &err) != 0) {
            tell(&p, &err);
            status = failed[i] = 1;
        }
    }
    return pass_end(s, 1, &p) | status;
}

/* read_first - pass one over inputs that stay open for the next */
static int read_first(const struct scan *s, char **files, struct reread *rr, bool *failed)
{
    struct tp_error err;
    struct dedup dd;
    struct pass p;
    int i, rc, status = 0;

    pass_begin(s, 1, &p, &dd);
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
    return pass_end(s, 1, &p) | status;
}

/* read_again - pass k > 1 over the inputs pass one read */
static int read_again(const struct scan *s, int k, char **files, const struct reread *rr, const bool *failed)
{
    struct tp_error err;
    struct dedup dd;
    struct pass p;
    size_t active = pass_begin(s, k, &p, &dd);
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
    return pass_end(s, k, &p) | status;
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
