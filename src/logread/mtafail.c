/*++
 * NAME
 *	mtafail 3
 * SUMMARY
 *	TLS handshake failures in the logs of Postfix, Sendmail and Exim
 * SYNOPSIS
 *	#include "logread/mtafail.h"
 *
 *	enum mtafail_kind mtafail_parse(prefix, out)
 *	int	mtafail_openssl_reason(s, out, len)
 *	const char *mtafail_mta_name(mta)
 *	int	mtafail_addr(s, n, out)
 *
 *	struct mtafail_track *mtafail_track_new(fn, ctx)
 *	void	mtafail_track_line(t, prefix)
 *	void	mtafail_track_flush(t)
 *	unsigned long long mtafail_track_bad(t)
 *	void	mtafail_track_free(t)
 * DESCRIPTION
 *	See mtafail.h. The parser is pure: no I/O, no clock, no global
 *	state. Most lines of a mail log are about something else, so each
 *	MTA's shape is ruled out by its first bytes before anything is
 *	copied. The joiner keeps the waiting failures in a small array
 *	searched linearly: a Postfix reason follows its SSL_accept line at
 *	once, so the array holds one or two entries in practice.
 * DIAGNOSTICS
 *	mtafail_track_new() returns NULL when memory runs out; nothing
 *	else fails.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Application. */
#include "logread/mtafail.h"
#include "util/hash.h"

#define STARTS(s, lit) (strncmp((s), (lit), sizeof(lit) - 1) == 0)
#define SKIP(s, lit)   ((s) + sizeof(lit) - 1)

/* mtafail_mta_name - the MTA as a word */
const char *mtafail_mta_name(enum mtafail_mta mta)
{
    static const char *const names[] = {"postfix", "sendmail", "exim"};

    return names[mta];
}

/* copy_text - n bytes of s into out (len bytes), cut to fit */
static void copy_text(char *out, size_t len, const char *s, size_t n)
{
    if (n >= len)
        n = len - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

/* valid_name - a DNS host name: letters, digits, '-', '_' and dots, no empty label */
static bool valid_name(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > MTAFAIL_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
        if (s[i] == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

/* set_name - the client's name when valid; "" for Postfix's "unknown" */
static bool set_name(struct mtafail *out, const char *s, size_t n)
{
    out->name[0] = 0;
    if (n == 7 && strncasecmp(s, "unknown", 7) == 0)
        return true;
    if (!valid_name(s, n))
        return false;
    copy_text(out->name, sizeof(out->name), s, n);
    return true;
}

/* mtafail_addr - n bytes of s as an address in inet_ntop form */
int mtafail_addr(const char *s, size_t n, char out[MTAFAIL_ADDR_MAX + 1])
{
    char buf[64];
    unsigned char bin[16];

    if (n > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
        s += 5;
        n -= 5;
    }
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (inet_pton(AF_INET, buf, bin) == 1)
        return inet_ntop(AF_INET, bin, out, MTAFAIL_ADDR_MAX + 1) != NULL ? 0 : -1;
    if (inet_pton(AF_INET6, buf, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, MTAFAIL_ADDR_MAX + 1) != NULL ? 0 : -1;
    return -1;
}

/* set_addr - the client's address */
static bool set_addr(struct mtafail *out, const char *s, size_t n)
{
    return mtafail_addr(s, n, out->addr) == 0;
}

/* set_reason - a reason text, cut at MTAFAIL_REASON_MAX */
static void set_reason(struct mtafail *out, const char *s, size_t n)
{
    copy_text(out->reason, sizeof(out->reason), s, n);
}

/* mtafail_openssl_reason - the fifth field of an OpenSSL error string */
int mtafail_openssl_reason(const char *s, char *out, size_t len)
{
    const char *end;
    int i;

    while (isdigit((unsigned char) *s)) /* old Postfix and Sendmail: "PID:" */
        s++;
    if (*s == ':')
        s++;
    if (!STARTS(s, "error:"))
        return -1;
    s = SKIP(s, "error:");
    for (i = 0; i < 3; i++) { /* CODE, LIB, FUNC (empty in OpenSSL 3) */
        if ((s = strchr(s, ':')) == NULL)
            return -1;
        s++;
    }
    end = s + strcspn(s, ":");
    if (end == s)
        return -1;
    copy_text(out, len, s, (size_t) (end - s));
    return 0;
}

/* ---- Postfix */

/* postfix_smtpd - a tag of Postfix's SMTP server or TLS proxy */
static bool postfix_smtpd(const struct prefix *px)
{
    static const char *const tails[] = {"/smtpd", "/tlsproxy"};
    size_t i, n;

    for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        n = strlen(tails[i]);
        if (px->tag_len > n && memcmp(px->tag + px->tag_len - n, tails[i], n) == 0)
            return true;
    }
    return false;
}

/* postfix_client - "NAME[ADDR]", "NAME[ADDR]:PORT" (smtpd_client_port_logging)
   or "[ADDR]:PORT" (tlsproxy for postscreen: no name) at s; *end after it */
static bool postfix_client(const char *s, const char **end, struct mtafail *out)
{
    const char *lb = strchr(s, '['), *rb;
    size_t port;

    if (lb == NULL || (rb = strchr(lb, ']')) == NULL)
        return false;
    out->name[0] = 0;
    if ((lb > s && !set_name(out, s, (size_t) (lb - s))) || !set_addr(out, lb + 1, (size_t) (rb - lb - 1)))
        return false;
    port = rb[1] == ':' ? strspn(rb + 2, "0123456789") : 0;
    if (port > 0 && port <= 5 && (rb[2 + port] == 0 || rb[2 + port] == ':'))
        rb += 1 + port;
    *end = rb + 1;
    return true;
}

/* postfix_line - the three Postfix lines of a failed handshake */
static enum mtafail_kind postfix_line(const char *msg, struct mtafail *out)
{
    const char *p;

    out->mta = MTAFAIL_POSTFIX;
    if (STARTS(msg, "SSL_accept error from ")) {
        if (!postfix_client(SKIP(msg, "SSL_accept error from "), &p, out) || !STARTS(p, ": "))
            return MTAFAIL_BAD;
        /* "-1" or "0": the reason is on the next line; a text such as
           "lost connection" says what happened when there is none. */
        p = SKIP(p, ": ");
        if (*p != 0 && strspn(p, "-0123456789") != strlen(p))
            set_reason(out, p, strlen(p));
        return MTAFAIL_START;
    }
    if (STARTS(msg, "warning: TLS library problem: ")) {
        out->lib_reason = true;
        return mtafail_openssl_reason(SKIP(msg, "warning: TLS library problem: "), out->reason,
                                      sizeof(out->reason)) == 0
                   ? MTAFAIL_REASON
                   : MTAFAIL_BAD;
    }
    if (STARTS(msg, "lost connection after STARTTLS from "))
        return postfix_client(SKIP(msg, "lost connection after STARTTLS from "), &p, out) && *p == 0
                   ? MTAFAIL_LOST
                   : MTAFAIL_BAD;
    return MTAFAIL_NONE;
}

/* ---- Sendmail */

/* last_of - the last occurrence of lit in s, or NULL */
static const char *last_of(const char *s, const char *lit)
{
    const char *hit = NULL, *p;

    for (p = s; (p = strstr(p, lit)) != NULL; p++)
        hit = p;
    return hit;
}

/* sendmail_relay - "NAME [ADDR]", "[ADDR]" or "NAME [ADDR] (may be forged)" */
static bool sendmail_relay(const char *s, struct mtafail *out)
{
    const char *lb = strchr(s, '['), *rb;
    bool forged;

    if (lb == NULL || (rb = strchr(lb, ']')) == NULL || !set_addr(out, lb + 1, (size_t) (rb - lb - 1)))
        return false;
    forged = strcmp(rb + 1, " (may be forged)") == 0;
    if (!forged && rb[1] != 0)
        return false;
    out->name[0] = 0;
    if (lb == s)
        return true;
    if (lb[-1] != ' ' || !set_name(out, s, (size_t) (lb - 1 - s)))
        return false;
    if (forged) /* the name did not resolve back to the address */
        out->name[0] = 0;
    return true;
}

/* sendmail_accept - "accept failed=N, reason=R, SSL_error=..., relay=RELAY" */
static enum mtafail_kind sendmail_accept(const char *p, struct mtafail *out)
{
    const char *reason = strstr(p, ", reason="), *end, *relay = last_of(p, ", relay=");

    if (reason == NULL || relay == NULL || relay < reason || !sendmail_relay(SKIP(relay, ", relay="), out))
        return MTAFAIL_BAD;
    reason = SKIP(reason, ", reason=");
    if ((end = strstr(reason, ", SSL_error=")) == NULL || end > relay)
        end = strchr(reason, ',');
    out->reason[0] = 0;
    /* "unknown": OpenSSL's queue was empty; the error lines may tell. */
    if (end != NULL && !(end - reason == 7 && strncmp(reason, "unknown", 7) == 0)) {
        set_reason(out, reason, (size_t) (end - reason));
        out->lib_reason = true; /* ERR_reason_error_string() */
    }
    return MTAFAIL_START;
}

/* sendmail_line - Sendmail's accept failure and its OpenSSL error lines */
static enum mtafail_kind sendmail_line(const char *msg, struct mtafail *out)
{
    size_t n = strspn(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    if (n > 0 && n <= 20 && msg[n] == ':' && msg[n + 1] == ' ') /* "NOQUEUE: ", a queue id */
        msg += n + 2;
    if (!STARTS(msg, "STARTTLS=server"))
        return MTAFAIL_NONE;
    out->mta = MTAFAIL_SENDMAIL;
    msg = SKIP(msg, "STARTTLS=server");
    if (STARTS(msg, ", error: accept failed="))
        return sendmail_accept(msg, out);
    if (STARTS(msg, ": ") && mtafail_openssl_reason(SKIP(msg, ": "), out->reason, sizeof(out->reason)) == 0) {
        out->lib_reason = true;
        return MTAFAIL_REASON;
    }
    return MTAFAIL_NONE;
}

/* ---- Exim */

/* exim_op - the last "(SSL_accept): " or "(gnutls_handshake): ": the
   client's HELO comes before it and cannot fake the end of the line;
   *rest is the reason after it. NULL when there is none. */
static const char *exim_op(const char *s, const char **rest)
{
    static const char *const ops[] = {" (SSL_accept): ", " (gnutls_handshake): "};
    const char *hit = NULL;
    size_t i;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]) && hit == NULL; i++)
        if ((hit = last_of(s, ops[i])) != NULL)
            *rest = hit + strlen(ops[i]);
    return hit;
}

/* exim_addr_end - the ']' closing the address before op ("]" or "]:PORT"), or NULL */
static const char *exim_addr_end(const char *s, const char *op)
{
    const char *p;

    for (p = op; p > s && isdigit((unsigned char) p[-1]); p--)
        /* the port */;
    if (p < op && p > s && p[-1] == ':')
        p--;
    return p > s && p[-1] == ']' ? p - 1 : NULL;
}

/* skip_stamp - past Exim's "YYYY-MM-DD HH:MM:SS[.fff][ +ZZZZ] ", if any */
static const char *skip_stamp(const char *text)
{
    char day[24];
    const char *end;
    time_t t;

    if (!isdigit((unsigned char) *text) || prefix_time_parse(text, &end, &t, day) != 0 || *end != ' ')
        return text;
    end++;
    if ((*end == '+' || *end == '-') && strspn(end + 1, "0123456789") == 4 && end[5] == ' ')
        end += 6;
    return end;
}

/* exim_line - "TLS error on connection from NAME (HELO) [ADDR]:PORT (OP): REASON" */
static enum mtafail_kind exim_line(const char *text, struct mtafail *out)
{
    const char *end, *op, *rb, *lb, *rest, *sp;

    text = skip_stamp(text);
    if (*text == '[' && (end = strstr(text, "] ")) != NULL &&
        strspn(text + 1, "0123456789") == (size_t) (end - text - 1))
        text = end + 2; /* log_selector +pid */
    if (!STARTS(text, "TLS error on connection from "))
        return MTAFAIL_NONE;
    out->mta = MTAFAIL_EXIM;
    text = SKIP(text, "TLS error on connection from ");
    if ((op = exim_op(text, &rest)) == NULL)
        return MTAFAIL_NONE; /* an error after the handshake (recv, send) */
    if ((rb = exim_addr_end(text, op)) == NULL)
        return MTAFAIL_BAD;
    for (lb = rb; lb > text && lb[-1] != '['; lb--)
        /* the address */;
    /* log_selector +incoming_interface: " I=[OUR ADDR]:PORT" follows the client's */
    if (lb - text >= 4 && memcmp(lb - 4, " I=[", 4) == 0) {
        if ((rb = exim_addr_end(text, lb - 4)) == NULL)
            return MTAFAIL_BAD;
        for (lb = rb; lb > text && lb[-1] != '['; lb--)
            /* the client's address */;
    }
    if (lb == text || !set_addr(out, lb, (size_t) (rb - lb)))
        return MTAFAIL_BAD;
    lb--;
    out->name[0] = 0;
    /* A verified name comes first; "(HELO)" is the client's word only. */
    if (*text != '[' && *text != '(') {
        sp = strchr(text, ' ');
        if (sp == NULL || sp >= lb || !set_name(out, text, (size_t) (sp - text)))
            return MTAFAIL_BAD;
    }
    /* OpenSSL's error string, or GnuTLS's text: the library's words either way */
    out->lib_reason = mtafail_openssl_reason(rest, out->reason, sizeof(out->reason)) == 0 ||
                      strncmp(op, " (gnutls_handshake): ", 21) == 0;
    if (out->reason[0] == 0)
        set_reason(out, rest, strlen(rest));
    return MTAFAIL_DONE;
}

/* mtafail_parse - one line */
enum mtafail_kind mtafail_parse(const struct prefix *px, struct mtafail *out)
{
    const char *msg = px->msg;
    enum mtafail_kind k;

    out->name[0] = out->addr[0] = out->reason[0] = 0;
    out->lib_reason = out->closed = false;
    if (postfix_smtpd(px))
        return postfix_line(msg, out);
    if ((k = sendmail_line(msg, out)) != MTAFAIL_NONE)
        return k;
    /* Exim's mainlog has no tag: its message starts at the "host". */
    return exim_line(px->tag_len == 0 && px->host_len > 0 ? px->host : msg, out);
}

/* ---- Joining the lines of one failure */

/* A failure waiting for its reason, and the process that logs it. */
struct pending {
    uint64_t hash;                                    /* of src: see source_hash() */
    char src[MTAFAIL_HOST_MAX + 1 + 64 + 1 + 16 + 1]; /* "host tag pid" */
    bool lib_reason;                                  /* reason from OpenSSL's own line */
    unsigned long long order;
    struct mtafail f;
};

struct mtafail_track {
    mtafail_emit fn;
    void *ctx;
    struct pending *v; /* MTAFAIL_PENDING_MAX */
    size_t n;
    unsigned long long order, bad;
};

/* mtafail_track_new - an empty joiner */
struct mtafail_track *mtafail_track_new(mtafail_emit fn, void *ctx)
{
    struct mtafail_track *t = calloc(1, sizeof(*t));

    if (t == NULL || (t->v = calloc(MTAFAIL_PENDING_MAX, sizeof(*t->v))) == NULL) {
        free(t);
        return NULL;
    }
    t->fn = fn;
    t->ctx = ctx;
    return t;
}

/* source - "host tag pid" of a line; -1 when it names no process or
   does not fit (then its lines cannot be joined) */
static int source(const struct prefix *px, char *buf, size_t len)
{
    if (px->pid_len == 0 || px->host_len > MTAFAIL_HOST_MAX || px->tag_len > 64 || px->pid_len > 16)
        return -1;
    snprintf(buf, len, "%.*s %.*s %.*s", (int) px->host_len, px->host, (int) px->tag_len, px->tag,
             (int) px->pid_len, px->pid);
    return 0;
}

/* source_hash - FNV-1a of a line's host, tag and pid: every line is
   looked up among the waiting failures, and a hash compare spares the
   formatting and string compares of all but the one that matches */
static uint64_t source_hash(const struct prefix *px)
{
    const char *parts[3] = {px->host, px->tag, px->pid};
    size_t lens[3] = {px->host_len, px->tag_len, px->pid_len}, k;
    uint64_t h = HASH64_INIT;

    for (k = 0; k < 3; k++)
        h = hash_step64(hash_bytes64(h, parts[k], lens[k]), ' ');
    return h;
}

/* stamp - the time and host of the line on a failure; a line without
   a program name (Exim's own log) names no host: its first word is text */
static void stamp(struct mtafail *f, const struct prefix *px)
{
    f->has_time = px->has_time;
    f->when = px->when;
    copy_text(f->host, sizeof(f->host), px->host, px->tag_len > 0 ? px->host_len : 0);
}

/* finish - emit a waiting failure and forget it */
static void finish(struct mtafail_track *t, struct pending *p)
{
    t->fn(t->ctx, &p->f);
    *p = t->v[--t->n];
}

/* find - the failure waiting on src (of hash h), or NULL */
static struct pending *find(struct mtafail_track *t, uint64_t h, const char *src)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (t->v[i].hash == h && strcmp(t->v[i].src, src) == 0)
            return &t->v[i];
    return NULL;
}

/* waiting - whether a failure of the line's process may be waiting */
static bool waiting(const struct mtafail_track *t, uint64_t h)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (t->v[i].hash == h)
            return true;
    return false;
}

/* hold - keep f until its reason comes; emit it now when it cannot wait */
static void hold(struct mtafail_track *t, const char *src, uint64_t h, const struct mtafail *f)
{
    struct pending *p;
    size_t i, oldest = 0;

    if (src == NULL) {
        t->fn(t->ctx, f);
        return;
    }
    if (t->n == MTAFAIL_PENDING_MAX) {
        for (i = 1; i < t->n; i++)
            if (t->v[i].order < t->v[oldest].order)
                oldest = i;
        finish(t, &t->v[oldest]);
    }
    p = &t->v[t->n++];
    p->hash = h;
    snprintf(p->src, sizeof(p->src), "%s", src);
    p->lib_reason = false;
    p->order = t->order++;
    p->f = *f;
}

/* mtafail_track_line - one line: start, complete or end a failure */
void mtafail_track_line(struct mtafail_track *t, const struct prefix *px)
{
    struct mtafail f;
    struct pending *p = NULL;
    char src[sizeof(t->v[0].src)];
    bool has_src;
    uint64_t h;
    enum mtafail_kind k = mtafail_parse(px, &f);

    if (k == MTAFAIL_NONE && t->n == 0)
        return;
    h = source_hash(px);
    /* Most lines are no failure and come from no process with one waiting. */
    if (k == MTAFAIL_NONE && !waiting(t, h))
        return;
    has_src = source(px, src, sizeof(src)) == 0;
    if (has_src && t->n > 0)
        p = find(t, h, src);
    if (k == MTAFAIL_REASON) {
        /* OpenSSL's first error is the cause; later ones follow from it. */
        if (p != NULL && !p->lib_reason) {
            snprintf(p->f.reason, sizeof(p->f.reason), "%s", f.reason);
            p->lib_reason = p->f.lib_reason = true;
        }
        return;
    }
    if (p != NULL)
        finish(t, p); /* any other line of the process ends its failure */
    t->bad += k == MTAFAIL_BAD;
    if (k == MTAFAIL_START || (k == MTAFAIL_LOST && p == NULL) || k == MTAFAIL_DONE) {
        stamp(&f, px);
        /* Postfix logs "SSL_accept error" for every failed handshake: a
           lost connection without one came after a handshake that worked. */
        f.closed = k == MTAFAIL_LOST;
        if (k == MTAFAIL_START && !(f.mta == MTAFAIL_SENDMAIL && f.reason[0] != 0))
            hold(t, has_src ? src : NULL, h, &f);
        else
            t->fn(t->ctx, &f);
    }
}

/* mtafail_track_flush - end every waiting failure, oldest first */
void mtafail_track_flush(struct mtafail_track *t)
{
    size_t i, oldest;

    while (t->n > 0) {
        for (oldest = 0, i = 1; i < t->n; i++)
            if (t->v[i].order < t->v[oldest].order)
                oldest = i;
        finish(t, &t->v[oldest]);
    }
}

/* mtafail_track_bad - lines refused */
unsigned long long mtafail_track_bad(const struct mtafail_track *t)
{
    return t->bad;
}

/* mtafail_track_free - the joiner; waiting failures are dropped */
void mtafail_track_free(struct mtafail_track *t)
{
    if (t == NULL)
        return;
    free(t->v);
    free(t);
}
