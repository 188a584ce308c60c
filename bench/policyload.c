/*++
 * NAME
 *	policyload 1
 * SUMMARY
 *	load generator that speaks Postfix's policy delegation protocol
 * SYNOPSIS
 *	policyload -p PORT [-H HOST] [-c CONC] [-n REQUESTS | -t SECONDS]
 *		[-r MAX_RCPTS] [-m MAX_MSGS] [--tls-share PCT]
 *		[--required-domain DOM] [--timeout MS] [--seed N]
 * DESCRIPTION
 *	Opens CONC persistent connections, as CONC smtpd processes of a
 *	busy Postfix would, and keeps one request outstanding on each: the
 *	next one is sent as soon as the reply to the last has been read.
 *	One thread drives them all with epoll(7), so that the generator
 *	needs as little of a shared machine as it can.
 *
 *	Each connection walks SMTP sessions one after the other. A session
 *	has a client port of its own (so the server sees it end when the
 *	next one starts, as it does with Postfix), a client address in
 *	192.0.2.0/24 and a client name, and is TLS (TLSv1.3 with its cipher
 *	and key size in the encryption_* attributes) with probability
 *	PCT % (default 50). It sends 1 to MAX_MSGS messages (default 3),
 *	each with an instance of its own: 1 to MAX_RCPTS RCPT requests
 *	(default 5; half of the recipients in the required domain, default
 *	gdpr.example; the queue_id empty until a recipient was accepted,
 *	as Postfix creates the queue file after the first accepted one), then,
 *	when a recipient was accepted, one END-OF-MESSAGE request, as
 *	smtpd_end_of_data_restrictions sends it. Every request carries the
 *	attributes Postfix 3.7 sends, in its order, empty ones as "name=".
 *
 *	Every reply is checked, so that a broken server cannot look fast: a
 *	plaintext RCPT to the required domain must get "action=530 ..." or
 *	"action=550 ...", every other request "action=DUNNO". An unexpected
 *	reply, a closed connection or a timeout fails the request and drops
 *	the connection; the first few failures are printed.
 *
 *	Timing starts once every connection is open. With -t the run lasts
 *	SECONDS (-n is then a cap); requests in flight at the end are
 *	completed and counted.
 * DIAGNOSTICS
 *	"key value" lines on standard output: connections, requests, failed,
 *	sessions, messages, rcpts, refused, elapsed_s, requests_per_s,
 *	latency_us_p50/p90/p99/max (per request: from sending it to reading
 *	the whole reply). Exit status 1 when a request failed, 2 on a usage
 *	or setup error.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Application. */
#include "percentile.h"

#define MAX_REQUEST 4096 /* ours are about 800 bytes */
#define MAX_REPLY   1024
#define MAX_SHOWN   10
#define MAX_CONC    10000

/* What the command line asks for. */
static struct {
    const char *host, *port;
    int conc;
    long requests; /* 0: no cap (with -t) */
    double seconds;
    int max_rcpts, max_msgs, tls_share, timeout_ms;
    const char *required;
    unsigned seed;
} opt = {"127.0.0.1", NULL, 1, 0, 0, 5, 3, 50, 5000, "gdpr.example", 1};

/* Where one connection is in its sessions. */
enum step { STEP_RCPT, STEP_EOM };

/* One persistent connection and the session it is walking. */
struct conn {
    int fd;
    int id;
    uint64_t rng;
    /* The session: drawn at its start. */
    long session;
    bool tls;
    unsigned client_port;
    char client_addr[32], client_name[64];
    int msgs_left;
    /* The message: drawn at its start. */
    char instance[48], qid[16];
    int rcpt_k, nrcpt, accepted;
    /* The request in flight. */
    enum step step;
    bool refuse; /* the reply must refuse */
    char out[MAX_REQUEST];
    size_t outlen, outoff;
    char in[MAX_REPLY];
    size_t inlen;
    double t_sent;
};

/* What the run measured. */
static struct {
    long requests, failed, sessions, messages, rcpts, refused;
    double *lat;
    size_t nlat, cap;
} stats;

static long next_session, next_msg, sent;
static int shown;
static int epfd;
static struct addrinfo *target;

/* now_s - monotonic time in seconds */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* rnd - xorshift64, one generator per connection, seeded: runs repeat */
static uint32_t rnd(struct conn *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (uint32_t) (c->rng >> 11);
}

/* note_latency - keep one request's latency */
static void note_latency(double us)
{
    if (stats.nlat == stats.cap) {
        stats.cap = stats.cap ? 2 * stats.cap : 65536;
        if ((stats.lat = realloc(stats.lat, stats.cap * sizeof(*stats.lat))) == NULL)
            abort();
    }
    stats.lat[stats.nlat++] = us;
}

/* conn_fail - count a failed request, say why (the first few), drop the connection */
static void conn_fail(struct conn *c, const char *why)
{
    stats.failed++;
    if (shown++ < MAX_SHOWN)
        fprintf(stderr, "policyload: connection %d, session %ld (%s), %s: %s\n", c->id, c->session,
                c->tls ? "TLS" : "plaintext", c->step == STEP_RCPT ? "RCPT" : "END-OF-MESSAGE", why);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* new_session - the facts of the connection's next SMTP session */
static void new_session(struct conn *c)
{
    c->session = next_session++;
    c->tls = (int) (rnd(c) % 100) < opt.tls_share;
    c->client_port = 1024 + (unsigned) (c->session % 64000);
    snprintf(c->client_addr, sizeof(c->client_addr), "192.0.2.%ld", 1 + c->session % 254);
    snprintf(c->client_name, sizeof(c->client_name), "mx.s%ld.load.example", c->session);
    c->msgs_left = 1 + (int) (rnd(c) % (unsigned) opt.max_msgs);
    stats.sessions++;
}

/* new_message - the next message of the session: a new instance and queue id */
static void new_message(struct conn *c)
{
    long m = next_msg++;

    /* Postfix's instance: pid, time, microseconds, a counter, in hex */
    snprintf(c->instance, sizeof(c->instance), "%x.%lx.%lx.%x", 4000 + c->id, 0x6750000L + m / 1000000,
             m % 1000000, (unsigned) c->msgs_left);
    snprintf(c->qid, sizeof(c->qid), "4Q%09lX", m);
    c->msgs_left--;
    c->rcpt_k = 0;
    c->nrcpt = 1 + (int) (rnd(c) % (unsigned) opt.max_rcpts);
    c->accepted = 0;
    stats.messages++;
}

/* build_request - the request for the connection's current step, as Postfix 3.7 sends it */
static void build_request(struct conn *c)
{
    bool rcpt = c->step == STEP_RCPT;
    bool req = rcpt && rnd(c) % 2 == 0;
    char recipient[128];
    int n;

    if (rcpt)
        snprintf(recipient, sizeof(recipient), "u%d@%s", c->rcpt_k, req ? opt.required : "other.example");
    else
        recipient[0] = 0; /* at END-OF-MESSAGE Postfix sends the recipient only when there was one */
    c->refuse = req && !c->tls;
    n = snprintf(c->out, sizeof(c->out),
                 "request=smtpd_access_policy\nprotocol_state=%s\nprotocol_name=ESMTP\n"
                 "helo_name=%s\nqueue_id=%s\nsender=sender%ld@load.example\nrecipient=%s\n"
                 "recipient_count=%d\nclient_address=%s\nclient_name=%s\nreverse_client_name=%s\n"
                 "instance=%s\nsasl_method=\nsasl_username=\nsasl_sender=\nsize=%d\n"
                 "ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
                 "encryption_protocol=%s\nencryption_cipher=%s\nencryption_keysize=%s\n"
                 "etrn_domain=\nstress=\nclient_port=%u\npolicy_context=\n"
                 "server_address=127.0.0.1\nserver_port=25\n\n",
                 rcpt ? "RCPT" : "END-OF-MESSAGE", c->client_name, c->accepted ? c->qid : "", c->session,
                 recipient, rcpt ? 0 : c->accepted, c->client_addr, c->client_name, c->client_name,
                 c->instance, rcpt ? 0 : 2048, c->tls ? "TLSv1.3" : "",
                 c->tls ? "TLS_AES_256_GCM_SHA384" : "", c->tls ? "256" : "", c->client_port);
    if (n < 0 || (size_t) n >= sizeof(c->out))
        abort(); /* our own request; it cannot be input */
    c->outlen = (size_t) n;
    c->outoff = 0;
    c->inlen = 0;
}

/* advance - the step after the reply just read: next RCPT, END-OF-MESSAGE, next message or session */
static void advance(struct conn *c)
{
    if (c->step == STEP_RCPT && c->rcpt_k < c->nrcpt) {
        c->rcpt_k++;
        return;
    }
    if (c->step == STEP_RCPT && c->accepted > 0) {
        c->step = STEP_EOM;
        return;
    }
    if (c->msgs_left == 0)
        new_session(c);
    new_message(c);
    c->step = STEP_RCPT;
    c->rcpt_k = 1;
}

/* flush - write what is left of the request; 0 when all of it went out */
static int flush(struct conn *c)
{
    ssize_t k;

    while (c->outoff < c->outlen) {
        k = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};

            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            return 1;
        }
        if (k <= 0) {
            conn_fail(c, strerror(errno));
            return -1;
        }
        c->outoff += (size_t) k;
    }
    return 0;
}

/* send_next - build and send the connection's next request, unless the run is over */
static void send_next(struct conn *c, bool more)
{
    if (!more) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        return;
    }
    build_request(c);
    sent++;
    c->t_sent = now_s();
    flush(c);
}

/* reply_ok - is the reply in C->in (without its empty line) what the request must get? */
static bool reply_ok(const struct conn *c)
{
    if (c->refuse)
        return strncmp(c->in, "action=530 ", 11) == 0 || strncmp(c->in, "action=550 ", 11) == 0;
    return strcmp(c->in, "action=DUNNO\n") == 0 || strcmp(c->in, "action=dunno\n") == 0;
}

/* on_reply - a whole reply was read: check it, time it, count it */
static int on_reply(struct conn *c)
{
    char why[MAX_REPLY + 64];

    note_latency((now_s() - c->t_sent) * 1e6);
    stats.requests++;
    if (!reply_ok(c)) {
        snprintf(why, sizeof(why), "%s reply \"%.*s\"", c->refuse ? "expected a refusal, got" : "unexpected",
                 (int) strcspn(c->in, "\n"), c->in);
        conn_fail(c, why);
        return -1;
    }
    if (c->step == STEP_RCPT) {
        stats.rcpts++;
        stats.refused += c->refuse;
        c->accepted += !c->refuse;
    }
    return 0;
}

/* on_readable - read what the server sent; a reply ends with an empty line */
static int on_readable(struct conn *c)
{
    ssize_t k;
    char *end;

    for (;;) {
        k = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        if (k <= 0) {
            conn_fail(c, k == 0 ? "the server closed the connection" : strerror(errno));
            return -1;
        }
        c->inlen += (size_t) k;
        c->in[c->inlen] = 0;
        if ((end = strstr(c->in, "\n\n")) != NULL)
            break;
        if (c->inlen == sizeof(c->in) - 1) {
            conn_fail(c, "reply too long");
            return -1;
        }
    }
    if (end + 2 != c->in + c->inlen || c->outoff < c->outlen) {
        conn_fail(c, "bytes beyond the reply, or a reply before the whole request");
        return -1;
    }
    end[1] = 0;
    return on_reply(c);
}

/* open_conn - a connected, non-blocking TCP socket watched by epoll */
static int open_conn(struct conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    int one = 1;

    if ((c->fd = socket(target->ai_family, SOCK_STREAM, 0)) < 0 ||
        connect(c->fd, target->ai_addr, target->ai_addrlen) < 0) {
        fprintf(stderr, "policyload: connection %d: %s\n", c->id, strerror(errno));
        return -1;
    }
    /* Small request-reply exchanges: Nagle would hold the next request back. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    return epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* more - may another request start? */
static bool more(double t_end)
{
    if (opt.seconds > 0 && now_s() >= t_end)
        return false;
    return opt.requests == 0 || sent < opt.requests;
}

/* check_timeouts - fail every request older than the timeout */
static void check_timeouts(struct conn *cs)
{
    double now = now_s();
    int i;

    for (i = 0; i < opt.conc; i++)
        if (cs[i].fd >= 0 && now - cs[i].t_sent > opt.timeout_ms / 1000.0)
            conn_fail(&cs[i], "timeout");
}

/* run - drive every connection until the count or the time is used up and none is in flight */
static void run(struct conn *cs, double t_end)
{
    struct epoll_event evs[256];
    double last_check = now_s();
    int i, n, open = opt.conc;

    for (i = 0; i < opt.conc; i++)
        send_next(&cs[i], more(t_end));
    while (open > 0) {
        n = epoll_wait(epfd, evs, 256, 100);
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;

            if (c->fd < 0)
                continue; /* dropped earlier in this batch */
            if ((evs[i].events & EPOLLOUT) && c->outoff < c->outlen) {
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

                if (flush(c) == 0)
                    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            }
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && on_readable(c) == 0) {
                advance(c);
                send_next(c, more(t_end));
            }
        }
        if (now_s() - last_check > 0.1) {
            check_timeouts(cs);
            last_check = now_s();
        }
        for (open = 0, i = 0; i < opt.conc; i++)
            open += cs[i].fd >= 0;
    }
}

/* report - print the figures; returns nonzero when the run must fail */
static int report(double elapsed)
{
    size_t n = stats.nlat;

    pct_sort(stats.lat, n);
    printf("connections %d\nrequests %ld\nfailed %ld\nsessions %ld\nmessages %ld\nrcpts %ld\nrefused %ld\n",
           opt.conc, stats.requests, stats.failed, stats.sessions, stats.messages, stats.rcpts,
           stats.refused);
    printf("elapsed_s %.3f\nrequests_per_s %.0f\n", elapsed, stats.requests / elapsed);
    printf("latency_us_p50 %.0f\nlatency_us_p90 %.0f\nlatency_us_p99 %.0f\nlatency_us_max %.0f\n",
           pct(stats.lat, n, 50), pct(stats.lat, n, 90), pct(stats.lat, n, 99), n ? stats.lat[n - 1] : 0.0);
    free(stats.lat);
    return stats.failed > 0 || stats.requests == 0;
}

/* usage - the synopsis, exit 2 */
static void usage(const char *why)
{
    fprintf(stderr,
            "policyload: %s\nusage: policyload -p PORT [-H HOST] [-c CONC] [-n REQUESTS | -t SECONDS] "
            "[-r MAX_RCPTS] [-m MAX_MSGS]\n       [--tls-share PCT] [--required-domain DOM] [--timeout MS] "
            "[--seed N]\n",
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
    static const struct option lo[] = {{"tls-share", 1, 0, 'S'},
                                       {"required-domain", 1, 0, 'D'},
                                       {"timeout", 1, 0, 'T'},
                                       {"seed", 1, 0, 'e'},
                                       {0, 0, 0, 0}};
    int ch;

    while ((ch = getopt_long(argc, argv, "p:H:c:n:t:r:m:", lo, NULL)) != -1) {
        switch (ch) {
        case 'p':
            opt.port = optarg;
            break;
        case 'H':
            opt.host = optarg;
            break;
        case 'c':
            opt.conc = (int) num(optarg, 1, MAX_CONC, "-c: 1 to 10000 connections");
            break;
        case 'n':
            opt.requests = num(optarg, 1, 1000000000L, "-n: a positive count");
            break;
        case 't':
            opt.seconds = (double) num(optarg, 1, 86400, "-t: 1 to 86400 seconds");
            break;
        case 'r':
            opt.max_rcpts = (int) num(optarg, 1, 1000, "-r: 1 to 1000 recipients");
            break;
        case 'm':
            opt.max_msgs = (int) num(optarg, 1, 1000, "-m: 1 to 1000 messages");
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
        default:
            usage("unknown option");
        }
    }
    if (optind != argc || opt.port == NULL)
        usage("-p PORT is required; no operands");
    if (opt.requests == 0 && opt.seconds == 0)
        opt.requests = 10000;
}

int main(int argc, char **argv)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct conn *cs;
    double t0;
    int i, rc;

    parse_args(argc, argv);
    if ((rc = getaddrinfo(opt.host, opt.port, &hints, &target)) != 0) {
        fprintf(stderr, "policyload: %s:%s: %s\n", opt.host, opt.port, gai_strerror(rc));
        return 2;
    }
    if ((epfd = epoll_create1(0)) < 0 || (cs = calloc((size_t) opt.conc, sizeof(*cs))) == NULL)
        return 2;
    for (i = 0; i < opt.conc; i++) {
        cs[i].id = i;
        cs[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t) (opt.seed * 100000ULL + (unsigned) i + 1);
        if (open_conn(&cs[i]) < 0)
            return 2;
        new_session(&cs[i]);
        new_message(&cs[i]);
        cs[i].rcpt_k = 1;
    }
    t0 = now_s();
    run(cs, t0 + opt.seconds);
    rc = report(now_s() - t0);
    freeaddrinfo(target);
    free(cs);
    return rc;
}
