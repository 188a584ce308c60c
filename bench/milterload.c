/*++
 * NAME
 *	milterload 1
 * SUMMARY
 *	load generator that speaks the milter protocol to tlspolicyd
 * SYNOPSIS
 *	milterload -p PORT [-H HOST] [-c CONC] [-n SESSIONS | -t SECONDS]
 *		[-r MAX_RCPTS] [--tls-share PCT] [--required-domain DOM]
 *		[--timeout MS] [--seed N] [--name-tag TAG]
 * DESCRIPTION
 *	CONC threads each open one connection per session and walk it the
 *	way an MTA does: OPTNEG, CONNECT (with {client_addr} and friends in
 *	an SMFIC_MACRO packet before it), HELO, MAIL (with {tls_version},
 *	{cipher}, {cipher_bits} for a TLS session), 1 to MAX_RCPTS RCPTs,
 *	EOM with the queue id macro "i" (or ABORT when every recipient was
 *	refused, as an MTA does), QUIT. No libmilter: packets are built here
 *	(4-byte big-endian length, command byte, data; libmilter/mfdef.h).
 *
 *	Every reply is checked against what the session must get, so that
 *	a broken milter cannot look fast: a plaintext RCPT to the required
 *	domain must get SMFIR_REPLYCODE with 530 or 550, every other RCPT
 *	SMFIR_CONTINUE or SMFIR_ACCEPT. Half of the recipients are in the
 *	required domain. An unexpected reply, a short read or a timeout
 *	fails the session; the first few failures are printed.
 *
 *	Each session's client has a name of its own (mx.sN-TAG.example,
 *	TAG the process id unless --name-tag), so that fallback learning
 *	sees one new sender per session and never a downgrade.
 *
 *	With -t the run lasts SECONDS (-n is then a cap, default none).
 * DIAGNOSTICS
 *	"key value" lines on standard output: sessions, failed, rcpts,
 *	elapsed_s, sessions_per_s, rcpts_per_s, latency_us_p50/p90/p99/max
 *	(per RCPT: from sending it to reading its reply). Exit status 1 when
 *	any session failed, 2 on a usage error.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Milter protocol constants. */
#include <libmilter/mfapi.h> /* SMFIF_SETSYMLIST */
#include <libmilter/mfdef.h>

/* Application. */
#include "percentile.h"

#define MAX_PACKET  65536
#define MAX_SHOWN   10 /* failures printed in full */
#define MAX_RCPT_OK 1000

/* What the command line asks for; read-only once the threads run. */
struct options {
    const char *host;
    const char *port;
    int conc;
    long sessions; /* 0: no cap (with -t) */
    double seconds;
    int max_rcpts;
    int tls_share;
    const char *required;
    int timeout_ms;
    unsigned seed;
    char tag[32];
};

/* What one thread measured. */
struct worker {
    pthread_t tid;
    int id;
    uint64_t rng;
    long done, failed, rcpts;
    double *lat; /* per-RCPT latency, microseconds */
    size_t nlat, cap;
};

static struct options opt = {"127.0.0.1", NULL, 4, 0, 0, 5, 50, "gdpr.example", 5000, 1, ""};
static atomic_long next_session;
static atomic_int shown;
static double t_end; /* CLOCK_MONOTONIC deadline with -t */
static struct addrinfo *target;

/* now_s - monotonic time in seconds */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* rnd - xorshift64: a per-thread generator, seeded, so runs repeat */
static uint32_t rnd(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return (uint32_t) (w->rng >> 11);
}

/* A packet under construction. */
struct pkt {
    unsigned char b[MAX_PACKET];
    size_t n;
};

/* pkt_start - a new packet for command CMD (length filled in at send) */
static void pkt_start(struct pkt *p, char cmd)
{
    p->n = 4;
    p->b[p->n++] = (unsigned char) cmd;
}

/* pkt_put - append LEN bytes */
static void pkt_put(struct pkt *p, const void *data, size_t len)
{
    if (p->n + len > sizeof(p->b))
        abort(); /* our own packets are small; this cannot be input */
    memcpy(p->b + p->n, data, len);
    p->n += len;
}

/* pkt_str - append a NUL-terminated string */
static void pkt_str(struct pkt *p, const char *s)
{
    pkt_put(p, s, strlen(s) + 1);
}

/* pkt_u32 - append a big-endian 32-bit number */
static void pkt_u32(struct pkt *p, uint32_t v)
{
    uint32_t be = htonl(v);

    pkt_put(p, &be, 4);
}

/* pkt_send - fill in the length and write the whole packet */
static int pkt_send(int fd, struct pkt *p)
{
    uint32_t be = htonl((uint32_t) (p->n - 4));
    size_t off = 0;
    ssize_t k;

    memcpy(p->b, &be, 4);
    while (off < p->n) {
        k = send(fd, p->b + off, p->n - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t) k;
    }
    return 0;
}

/* read_full - LEN bytes or failure (EOF, error, SO_RCVTIMEO timeout) */
static int read_full(int fd, void *buf, size_t len)
{
    size_t off = 0;
    ssize_t k;

    while (off < len) {
        k = recv(fd, (char *) buf + off, len - off, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t) k;
    }
    return 0;
}

/* A reply read from the milter. */
struct reply {
    unsigned char cmd;
    char data[MAX_PACKET];
    size_t len;
};

/* read_reply - one packet; a length over MAX_PACKET is a protocol error */
static int read_reply(int fd, struct reply *r, char *why, size_t whylen)
{
    uint32_t be;
    size_t len;

    errno = 0; /* 0 after a failed read: the peer closed (EOF) */
    if (read_full(fd, &be, 4) < 0) {
        snprintf(why, whylen, "short read or timeout (%s)", errno ? strerror(errno) : "EOF");
        return -1;
    }
    len = ntohl(be);
    if (len < 1 || len > MAX_PACKET) {
        snprintf(why, whylen, "bad packet length %zu", len);
        return -1;
    }
    if (read_full(fd, r->data, len) < 0) {
        snprintf(why, whylen, "short read or timeout in a %zu-byte packet", len);
        return -1;
    }
    r->cmd = (unsigned char) r->data[0];
    memmove(r->data, r->data + 1, len - 1);
    r->len = len - 1;
    r->data[r->len] = 0;
    return 0;
}

/* One session's facts, drawn before it starts. */
struct session {
    long idx;
    bool tls;
    int nrcpt;
    char client_name[96], client_addr[32], qid[32];
};

/* A session in progress: its socket and the first failure's text. */
struct conn {
    int fd;
    struct worker *w;
    const struct session *s;
    char why[256];
};

/* fail - note why the session failed; always returns -1 */
static int fail(struct conn *c, const char *step, const char *what)
{
    if (c->why[0] == 0)
        snprintf(c->why, sizeof(c->why), "%s: %s", step, what);
    return -1;
}

/* expect_cont - one reply that must be SMFIR_CONTINUE or SMFIR_ACCEPT */
static int expect_cont(struct conn *c, const char *step)
{
    struct reply r;
    char why[128];

    if (read_reply(c->fd, &r, why, sizeof(why)) < 0)
        return fail(c, step, why);
    if (r.cmd != SMFIR_CONTINUE && r.cmd != SMFIR_ACCEPT) {
        snprintf(why, sizeof(why), "reply '%c' %.80s, expected continue", r.cmd, r.data);
        return fail(c, step, why);
    }
    return 0;
}

/* send_macros - SMFIC_MACRO for STAGE: NULL-terminated name, value pairs */
static int send_macros(struct conn *c, char stage, const char *const *nv)
{
    struct pkt p;

    pkt_start(&p, SMFIC_MACRO);
    pkt_put(&p, &stage, 1);
    for (; nv[0]; nv += 2) {
        pkt_str(&p, nv[0]);
        pkt_str(&p, nv[1]);
    }
    return pkt_send(c->fd, &p) < 0 ? fail(c, "macro", strerror(errno)) : 0;
}

/* symlist_ok - the daemon's macro lists: 4-byte stage, NUL-terminated list, each */
static bool symlist_ok(const char *d, size_t len)
{
    size_t off = 0;
    const char *nul;

    while (off < len) {
        if (len - off < 5 || (nul = memchr(d + off + 4, 0, len - off - 4)) == NULL)
            return false;
        off = (size_t) (nul - d) + 1;
    }
    return true;
}

/* do_optneg - offer version 6, SETSYMLIST, and that we send no body or headers */
static int do_optneg(struct conn *c)
{
    struct pkt p;
    struct reply r;
    char why[128];
    uint32_t ver;

    pkt_start(&p, SMFIC_OPTNEG);
    pkt_u32(&p, SMFI_PROT_VERSION);
    pkt_u32(&p, SMFIF_SETSYMLIST);
    /* No NR_* flags: every command we send must be answered, and checked. */
    pkt_u32(&p, SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA);
    if (pkt_send(c->fd, &p) < 0)
        return fail(c, "optneg", strerror(errno));
    if (read_reply(c->fd, &r, why, sizeof(why)) < 0)
        return fail(c, "optneg", why);
    if (r.cmd != SMFIC_OPTNEG || r.len < 12)
        return fail(c, "optneg", "reply is no option negotiation");
    memcpy(&ver, r.data, 4);
    if (ntohl(ver) < 2 || !symlist_ok(r.data + 12, r.len - 12))
        return fail(c, "optneg", "bad version or macro list");
    return 0;
}

/* do_connect - client macros, then SMFIC_CONNECT (IPv4, port 25) */
static int do_connect(struct conn *c)
{
    const char *const nv[] = {"j",
                              "mx.load.example",
                              "{daemon_name}",
                              "smtpd",
                              "{client_addr}",
                              c->s->client_addr,
                              "{client_name}",
                              c->s->client_name,
                              "{client_resolve}",
                              "OK",
                              NULL};
    struct pkt p;
    uint16_t port = htons(25);

    if (send_macros(c, SMFIC_CONNECT, nv) < 0)
        return -1;
    pkt_start(&p, SMFIC_CONNECT);
    pkt_str(&p, c->s->client_name);
    pkt_put(&p, "4", 1);
    pkt_put(&p, &port, 2);
    pkt_str(&p, c->s->client_addr);
    if (pkt_send(c->fd, &p) < 0)
        return fail(c, "connect", strerror(errno));
    return expect_cont(c, "connect");
}

/* do_cmd - one command with one string argument, answered with continue */
static int do_cmd(struct conn *c, char cmd, const char *arg, const char *step)
{
    struct pkt p;

    pkt_start(&p, cmd);
    pkt_str(&p, arg);
    if (pkt_send(c->fd, &p) < 0)
        return fail(c, step, strerror(errno));
    return expect_cont(c, step);
}

/* do_mail - MAIL with the TLS macros as Postfix sends them, or the queue id alone */
static int do_mail(struct conn *c)
{
    const char *const tls[] = {
        "i",   c->s->qid, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}",
        "256", NULL};
    const char *const plain[] = {"i", c->s->qid, NULL};

    if (send_macros(c, SMFIC_MAIL, c->s->tls ? tls : plain) < 0)
        return -1;
    return do_cmd(c, SMFIC_MAIL, "<sender@load.example>", "mail");
}

/* rcpt_reply_ok - is R what this RCPT must get? */
static bool rcpt_reply_ok(const struct reply *r, bool refuse)
{
    if (!refuse)
        return r->cmd == SMFIR_CONTINUE || r->cmd == SMFIR_ACCEPT;
    return r->cmd == SMFIR_REPLYCODE &&
           (strncmp(r->data, "530 ", 4) == 0 || strncmp(r->data, "550 ", 4) == 0);
}

/* note_latency - keep one RCPT's latency */
static void note_latency(struct worker *w, double us)
{
    if (w->nlat == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 4096;
        if ((w->lat = realloc(w->lat, w->cap * sizeof(*w->lat))) == NULL)
            abort();
    }
    w->lat[w->nlat++] = us;
}

/* do_rcpt - one RCPT, timed; returns 1 if accepted, 0 if refused as it must be */
static int do_rcpt(struct conn *c, int k)
{
    bool req = rnd(c->w) % 2 == 0;
    char addr[160], why[192];
    struct pkt p;
    struct reply r;
    double t0;

    snprintf(addr, sizeof(addr), "<u%d@%s>", k, req ? opt.required : "other.example");
    pkt_start(&p, SMFIC_RCPT);
    pkt_str(&p, addr);
    t0 = now_s();
    if (pkt_send(c->fd, &p) < 0)
        return fail(c, "rcpt", strerror(errno));
    if (read_reply(c->fd, &r, why, sizeof(why)) < 0)
        return fail(c, "rcpt", why);
    note_latency(c->w, (now_s() - t0) * 1e6);
    c->w->rcpts++;
    if (!rcpt_reply_ok(&r, req && !c->s->tls)) {
        snprintf(why, sizeof(why), "%s (%s): reply '%c' %.100s", addr, c->s->tls ? "TLS" : "plaintext", r.cmd,
                 r.data);
        return fail(c, "rcpt", why);
    }
    return r.cmd == SMFIR_REPLYCODE ? 0 : 1;
}

/* do_end - EOM with the queue id if a recipient was accepted, else ABORT; then QUIT */
static int do_end(struct conn *c, int accepted)
{
    const char *const nv[] = {"i", c->s->qid, NULL};
    struct pkt p;

    if (accepted) {
        if (send_macros(c, SMFIC_BODYEOB, nv) < 0)
            return -1;
        pkt_start(&p, SMFIC_BODYEOB);
        if (pkt_send(c->fd, &p) < 0)
            return fail(c, "eom", strerror(errno));
        if (expect_cont(c, "eom") < 0)
            return -1;
    } else {
        pkt_start(&p, SMFIC_ABORT); /* no reply to abort */
        if (pkt_send(c->fd, &p) < 0)
            return fail(c, "abort", strerror(errno));
    }
    pkt_start(&p, SMFIC_QUIT);
    return pkt_send(c->fd, &p) < 0 ? fail(c, "quit", strerror(errno)) : 0;
}

/* open_conn - a TCP connection with send and receive timeouts */
static int open_conn(struct conn *c)
{
    struct timeval tv = {opt.timeout_ms / 1000, (opt.timeout_ms % 1000) * 1000};
    int one = 1;

    if ((c->fd = socket(target->ai_family, SOCK_STREAM, 0)) < 0)
        return fail(c, "socket", strerror(errno));
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    /* Small request-reply packets: Nagle would add 40 ms to each. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, target->ai_addr, target->ai_addrlen) < 0)
        return fail(c, "connect(2)", strerror(errno));
    return 0;
}

/* run_session - one whole session; 0 if every reply was the expected one */
static int run_session(struct worker *w, const struct session *s, char *why, size_t whylen)
{
    struct conn c = {-1, w, s, ""};
    int k, rc, accepted = 0;

    rc = open_conn(&c) < 0 || do_optneg(&c) < 0 || do_connect(&c) < 0 ||
                 do_cmd(&c, SMFIC_HELO, s->client_name, "helo") < 0 || do_mail(&c) < 0
             ? -1
             : 0;
    for (k = 1; rc == 0 && k <= s->nrcpt; k++) {
        int got = do_rcpt(&c, k);

        if (got < 0)
            rc = -1;
        accepted += got > 0;
    }
    if (rc == 0)
        rc = do_end(&c, accepted);
    if (c.fd >= 0)
        close(c.fd);
    snprintf(why, whylen, "%s", c.why);
    return rc;
}

/* draw_session - the facts of session IDX */
static void draw_session(struct worker *w, long idx, struct session *s)
{
    s->idx = idx;
    s->tls = (int) (rnd(w) % 100) < opt.tls_share;
    s->nrcpt = 1 + (int) (rnd(w) % (unsigned) opt.max_rcpts);
    snprintf(s->client_name, sizeof(s->client_name), "mx.s%ld-%s.example", idx, opt.tag);
    /* 192.0.2.0/24 (TEST-NET-1): never an exempt loopback client */
    snprintf(s->client_addr, sizeof(s->client_addr), "192.0.2.%ld", 1 + idx % 254);
    snprintf(s->qid, sizeof(s->qid), "Q%08lX", idx);
}

/* more - may another session start? */
static bool more(long *idx)
{
    if (opt.seconds > 0 && now_s() >= t_end)
        return false;
    *idx = atomic_fetch_add(&next_session, 1);
    return opt.sessions == 0 || *idx < opt.sessions;
}

/* worker_main - sessions until the count or the time is used up */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct session s;
    char why[256];
    long idx;

    while (more(&idx)) {
        draw_session(w, idx, &s);
        if (run_session(w, &s, why, sizeof(why)) < 0) {
            w->failed++;
            if (atomic_fetch_add(&shown, 1) < MAX_SHOWN)
                fprintf(stderr, "milterload: session %ld (%s, %s) failed: %s\n", idx, s.client_name,
                        s.tls ? "TLS" : "plaintext", why);
        }
        w->done++;
    }
    return NULL;
}

/* report - merge the workers' figures and print them; returns the failure count */
static long report(struct worker *ws, double elapsed)
{
    long done = 0, failed = 0, rcpts = 0;
    size_t n = 0, i, off = 0;
    double *all;
    int t;

    for (t = 0; t < opt.conc; t++) {
        done += ws[t].done, failed += ws[t].failed, rcpts += ws[t].rcpts;
        n += ws[t].nlat;
    }
    if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
        abort();
    for (t = 0; t < opt.conc; t++) {
        for (i = 0; i < ws[t].nlat; i++)
            all[off++] = ws[t].lat[i];
        free(ws[t].lat);
    }
    pct_sort(all, n);
    printf("concurrency %d\nsessions %ld\nfailed %ld\nrcpts %ld\nelapsed_s %.3f\n", opt.conc, done, failed,
           rcpts, elapsed);
    printf("sessions_per_s %.0f\nrcpts_per_s %.0f\n", done / elapsed, rcpts / elapsed);
    printf("latency_us_p50 %.0f\nlatency_us_p90 %.0f\nlatency_us_p99 %.0f\nlatency_us_max %.0f\n",
           pct(all, n, 50), pct(all, n, 90), pct(all, n, 99), n ? all[n - 1] : 0.0);
    free(all);
    return failed + (done == 0);
}

/* usage - the synopsis, exit 2 */
static void usage(const char *why)
{
    fprintf(stderr,
            "milterload: %s\nusage: milterload -p PORT [-H HOST] [-c CONC] [-n SESSIONS | -t SECONDS] "
            "[-r MAX_RCPTS]\n       [--tls-share PCT] [--required-domain DOM] [--timeout MS] [--seed N] "
            "[--name-tag TAG]\n",
            why);
    exit(2);
}

/* num - a whole number in [LO, HI] or a usage error */
static long num(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        usage(what);
    return v;
}

/* parse_args - fill opt from the command line */
static void parse_args(int argc, char **argv)
{
    static const struct option lo[] = {{"tls-share", 1, 0, 'S'}, {"required-domain", 1, 0, 'D'},
                                       {"timeout", 1, 0, 'T'},   {"seed", 1, 0, 'e'},
                                       {"name-tag", 1, 0, 'g'},  {0, 0, 0, 0}};
    int ch;

    snprintf(opt.tag, sizeof(opt.tag), "%ld", (long) getpid());
    while ((ch = getopt_long(argc, argv, "p:H:c:n:t:r:", lo, NULL)) != -1) {
        switch (ch) {
        case 'p':
            opt.port = optarg;
            break;
        case 'H':
            opt.host = optarg;
            break;
        case 'c':
            opt.conc = (int) num(optarg, 1, 1000, "-c: 1 to 1000 connections");
            break;
        case 'n':
            opt.sessions = num(optarg, 1, 1000000000L, "-n: a positive count");
            break;
        case 't':
            opt.seconds = (double) num(optarg, 1, 86400, "-t: 1 to 86400 seconds");
            break;
        case 'r':
            opt.max_rcpts = (int) num(optarg, 1, MAX_RCPT_OK, "-r: 1 to 1000 recipients");
            break;
        case 'S':
            opt.tls_share = (int) num(optarg, 0, 100, "--tls-share: 0 to 100");
            break;
        case 'D':
            opt.required = optarg;
            break;
        case 'T':
            opt.timeout_ms = (int) num(optarg, 1, 600000, "--timeout: milliseconds");
            break;
        case 'e':
            opt.seed = (unsigned) num(optarg, 0, 1000000000L, "--seed: a number");
            break;
        case 'g':
            snprintf(opt.tag, sizeof(opt.tag), "%s", optarg);
            break;
        default:
            usage("unknown option");
        }
    }
    if (optind != argc || opt.port == NULL)
        usage("-p PORT is required; no operands");
    if (opt.sessions == 0 && opt.seconds == 0)
        opt.sessions = 1000;
}

int main(int argc, char **argv)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct worker *ws;
    double t0;
    int t, rc;

    parse_args(argc, argv);
    if ((rc = getaddrinfo(opt.host, opt.port, &hints, &target)) != 0) {
        fprintf(stderr, "milterload: %s:%s: %s\n", opt.host, opt.port, gai_strerror(rc));
        return 2;
    }
    if ((ws = calloc((size_t) opt.conc, sizeof(*ws))) == NULL)
        abort();
    t0 = now_s();
    t_end = t0 + opt.seconds;
    for (t = 0; t < opt.conc; t++) {
        ws[t].id = t;
        ws[t].rng = 0x9E3779B97F4A7C15ULL * (uint64_t) (opt.seed * 1000 + (unsigned) t + 1);
        if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0)
            abort();
    }
    for (t = 0; t < opt.conc; t++)
        pthread_join(ws[t].tid, NULL);
    rc = report(ws, now_s() - t0) ? 1 : 0;
    freeaddrinfo(target);
    free(ws);
    return rc;
}
