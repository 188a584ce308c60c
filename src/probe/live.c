/*++
 * NAME
 *	live 3
 * SUMMARY
 *	one client profile against a running server, over the network
 * SYNOPSIS
 *	#include "probe/live.h"
 *
 *	int	live_target_parse(arg, target, err)
 *	void	live_probe(target, profile, result)
 * DESCRIPTION
 *	live_probe() opens one TCP connection per profile, so that each
 *	profile meets the server fresh, as a sender's retry would. With
 *	starttls it reads the greeting, says EHLO with our own address
 *	literal (always a valid EHLO argument, whatever the host is called),
 *	requires STARTTLS in the reply, sends it and waits for 220; then
 *	the handshake, with SNI when the target is a name. A completed
 *	handshake is followed by QUIT, so the server logs an orderly end
 *	rather than a lost connection.
 *
 *	The timeout is a deadline for the whole profile: connect, greeting,
 *	EHLO, STARTTLS, handshake and QUIT together. The socket is
 *	non-blocking and every wait is a poll() on the time that remains,
 *	so a server that drips its greeting a byte a second cannot stretch
 *	it. A handshake that runs out of time is a failure (a sender would
 *	give up too); a connection or SMTP dialogue that fails before TLS
 *	is an error: it says nothing about the server's TLS.
 *
 *	A reply is accepted only when each of its lines carries the same
 *	code: "554-no" then "220 ok" is not a greeting.
 *
 *	Replies are read line by line and nothing is read past the 220 to
 *	STARTTLS: bytes there would be plaintext injected ahead of TLS
 *	(CVE-2011-0411 and its kin), and are refused.
 * DIAGNOSTICS
 *	The result's error: "connect HOST:PORT: reason", the SMTP reply that
 *	was not what STARTTLS needs (made printable), or OpenSSL's reason.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Libraries. */
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Application. */
#include "probe/client.h"
#include "probe/handshake.h"
#include "probe/live.h"
#include "probe/sslerr.h"

#define LINE_MAX_SMTP   1024 /* RFC 5321: 512 per reply line; twice that is generous */
#define REPLY_LINES_MAX 100

/* A plaintext SMTP connection: the socket, the bytes read but not yet used, the deadline. */
struct smtp {
    int fd;
    char buf[LINE_MAX_SMTP];
    size_t len;
    long long deadline;
};

/* pre_tls - an error before TLS: the result says why, the verdict is ERROR; returns -1 */
static int pre_tls(struct probe_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pre_tls(struct probe_result *r, const char *fmt, ...)
{
    va_list ap;

    r->verdict = PROBE_ERROR;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    return -1;
}

/* live_target_parse - HOST, HOST:PORT, [ADDR] or [ADDR]:PORT; port 25 by default */
int live_target_parse(const char *arg, struct live_target *t, struct tp_error *err)
{
    const char *host = arg, *port = "25", *colon;
    size_t hlen;

    if (arg[0] == '[') {
        if ((colon = strchr(arg, ']')) == NULL || (colon[1] != 0 && colon[1] != ':'))
            goto bad;
        host = arg + 1;
        hlen = (size_t) (colon - host);
        if (colon[1] == ':')
            port = colon + 2;
    } else if ((colon = strchr(arg, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
        hlen = (size_t) (colon - arg);
        port = colon + 1;
    } else {
        hlen = strlen(arg); /* a name, or an IPv6 address without a port */
    }
    if (hlen == 0 || hlen >= sizeof(t->host) || port[0] == 0 || strlen(port) > 5 ||
        strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
        goto bad;
    snprintf(t->host, sizeof(t->host), "%.*s", (int) hlen, host);
    snprintf(t->port, sizeof(t->port), "%s", port);
    return 0;
bad:
    tp_error_set(err, NULL, 0, "--connect %s: expected HOST, HOST:PORT or [ADDRESS]:PORT", arg);
    return -1;
}

/* printable - text from the network made safe to print */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
            *s = '?';
}

/* now_ms - a monotonic clock in milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - until fd is ready for events or the deadline passes; 0 ready, -1 with errno */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd pfd = {fd, events, 0};
    long long left;
    int rc;

    do {
        if ((left = deadline - now_ms()) <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        rc = poll(&pfd, 1, left > 3600000 ? 3600000 : (int) left);
    } while ((rc < 0 && errno == EINTR) || rc == 0);
    return rc < 0 ? -1 : 0;
}

/* connect_one - a connected non-blocking socket, or -1 with errno */
static int connect_one(const struct addrinfo *ai, long long deadline)
{
    socklen_t len = sizeof(int);
    int fd, soerr = 0, saved;

    if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol)) < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0)
        goto fail;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        goto fail;
    if (soerr == 0)
        return fd;
    errno = soerr;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* connect_target - the first address of the target that answers in time; -1 with r set */
static int connect_target(const struct live_target *t, long long deadline, struct probe_result *r)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, rc, saved = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(t->host, t->port, &hints, &res)) != 0) {
        pre_tls(r, "connect %s:%s: %s", t->host, t->port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        if ((fd = connect_one(ai, deadline)) < 0)
            saved = errno;
    freeaddrinfo(res);
    if (fd < 0)
        pre_tls(r, "connect %s:%s: %s", t->host, t->port, saved == ETIMEDOUT ? "timed out" : strerror(saved));
    return fd;
}

/* read_line - one CRLF-terminated line into line (without CRLF); -1 with why */
static int read_line(struct smtp *s, char *line, size_t size, const char **why)
{
    char *nl;
    ssize_t n;

    while ((nl = memchr(s->buf, '\n', s->len)) == NULL) {
        if (s->len == sizeof(s->buf)) {
            *why = "reply line too long";
            return -1;
        }
        while ((n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0)) < 0 &&
               (errno == EINTR ||
                ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(s->fd, POLLIN, s->deadline) == 0)))
            continue;
        if (n <= 0) {
            *why = n == 0               ? "connection closed by the server"
                   : errno == ETIMEDOUT ? "timed out"
                                        : strerror(errno);
            return -1;
        }
        s->len += (size_t) n;
    }
    *nl = 0;
    if (nl > s->buf && nl[-1] == '\r')
        nl[-1] = 0;
    snprintf(line, size, "%s", s->buf);
    printable(line);
    s->len -= (size_t) (nl + 1 - s->buf);
    memmove(s->buf, nl + 1, s->len);
    return 0;
}

/*
 * read_reply - one (multi-line) reply: its code, its last line, and
 * whether a line announces STARTTLS; -1 with why for a broken reply,
 * including one whose lines carry different codes (RFC 5321 4.2.1)
 */
static int read_reply(struct smtp *s, int *code, char *last, size_t size, int *starttls, const char **why)
{
    char line[LINE_MAX_SMTP], first[4] = "";
    int i;

    for (i = 0; i < REPLY_LINES_MAX; i++) {
        if (read_line(s, line, sizeof(line), why) < 0)
            return -1;
        if (strlen(line) < 3 || strspn(line, "0123456789") < 3 ||
            (line[3] != 0 && line[3] != ' ' && line[3] != '-')) {
            *why = "not an SMTP reply";
            return -1;
        }
        if (i == 0)
            memcpy(first, line, 3);
        else if (memcmp(first, line, 3) != 0) {
            *why = "the lines of one reply carry different codes";
            return -1;
        }
        /* A bare "250" has no text: line + 4 would be past its end. */
        if (starttls && line[3] != 0 && strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
            (line[12] == 0 || line[12] == ' '))
            *starttls = 1;
        if (line[3] != '-') {
            *code = atoi(line);
            snprintf(last, size, "%s", line);
            return 0;
        }
    }
    *why = "reply too long";
    return -1;
}

/* send_line - a command and CRLF; -1 with why */
static int send_line(struct smtp *s, const char *cmd, const char **why)
{
    char buf[LINE_MAX_SMTP];
    size_t len = (size_t) snprintf(buf, sizeof(buf), "%s\r\n", cmd), off = 0;
    ssize_t n;

    for (; off < len; off += (size_t) n)
        if ((n = send(s->fd, buf + off, len - off, MSG_NOSIGNAL)) < 0) {
            if (errno == EINTR ||
                ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(s->fd, POLLOUT, s->deadline) == 0)) {
                n = 0;
                continue;
            }
            *why = errno == ETIMEDOUT ? "timed out" : strerror(errno);
            return -1;
        }
    return 0;
}

/* ehlo_command - "EHLO [our address]" for the connected socket */
static void ehlo_command(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char addr[INET6_ADDRSTRLEN] = "127.0.0.1";

    memset(&ss, 0, sizeof(ss));
    if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0 && ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, addr, sizeof(addr));
        snprintf(buf, size, "EHLO [IPv6:%s]", addr);
        return;
    }
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, addr, sizeof(addr));
    snprintf(buf, size, "EHLO [%s]", addr);
}

/* smtp_starttls - greeting, EHLO, STARTTLS; 0 when the server waits for our ClientHello */
static int smtp_starttls(int fd, long long deadline, struct probe_result *r)
{
    struct smtp s = {fd, "", 0, deadline};
    char last[LINE_MAX_SMTP], ehlo[80];
    const char *why = NULL;
    int code = 0, starttls = 0;

    if (read_reply(&s, &code, last, sizeof(last), NULL, &why) < 0 || code != 220)
        return pre_tls(r, "greeting: %s", why ? why : last);
    ehlo_command(fd, ehlo, sizeof(ehlo));
    if (send_line(&s, ehlo, &why) < 0 || read_reply(&s, &code, last, sizeof(last), &starttls, &why) < 0 ||
        code != 250)
        return pre_tls(r, "EHLO: %s", why ? why : last);
    if (!starttls)
        return pre_tls(r, "the server does not offer STARTTLS");
    if (send_line(&s, "STARTTLS", &why) < 0 || read_reply(&s, &code, last, sizeof(last), NULL, &why) < 0 ||
        code != 220)
        return pre_tls(r, "STARTTLS: %s", why ? why : last);
    if (s.len > 0)
        return pre_tls(r, "STARTTLS: the server sent data before the TLS handshake");
    return 0;
}

/* is_address - the host is an IP address (no SNI for those: RFC 6066) */
static int is_address(const char *host)
{
    unsigned char a[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* tls_handshake - the profile's handshake on the connected socket, within the deadline */
static void tls_handshake(SSL_CTX *cctx, int fd, const struct live_target *t, long long deadline,
                          struct probe_result *r)
{
    enum handshake_state st = HS_PENDING;
    SSL *ssl;

    if ((ssl = SSL_new(cctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
        (!is_address(t->host) && SSL_set_tlsext_host_name(ssl, t->host) != 1)) {
        r->verdict = PROBE_ERROR;
        sslerr_take(r->error, sizeof(r->error), "out of memory");
        SSL_free(ssl);
        return;
    }
    SSL_set_connect_state(ssl);
    /* Non-blocking: each "want" waits for the socket, never past the deadline. */
    for (handshake_step(ssl, &st, r->client_error, sizeof(r->client_error)); st == HS_PENDING;
         handshake_step(ssl, &st, r->client_error, sizeof(r->client_error)))
        if (wait_fd(fd, SSL_want_write(ssl) ? POLLOUT : POLLIN, deadline) < 0) {
            if (errno == ETIMEDOUT)
                snprintf(r->client_error, sizeof(r->client_error), "timed out after %d s", t->timeout);
            else
                snprintf(r->client_error, sizeof(r->client_error), "%s", strerror(errno));
            break;
        }
    if (st == HS_DONE) {
        client_outcome(ssl, r);
        /* Best effort and never waited for: the result is known. */
        SSL_write(ssl, "QUIT\r\n", 6);
        SSL_shutdown(ssl);
    } else {
        r->verdict = PROBE_FAIL;
        snprintf(r->error, sizeof(r->error), "%s", r->client_error);
    }
    ERR_clear_error();
    SSL_free(ssl);
}

/* live_probe - one connection, one handshake of profile p; the outcome into r */
void live_probe(const struct live_target *t, const struct probe_profile *p, struct probe_result *r)
{
    SSL_CTX *cctx;
    long long deadline;
    int fd;

    /* A profile this OpenSSL cannot offer costs the server no connection. */
    if ((cctx = client_ctx_new(p, r)) == NULL)
        return;
    deadline = now_ms() + (long long) t->timeout * 1000;
    if ((fd = connect_target(t, deadline, r)) >= 0) {
        if (!t->starttls || smtp_starttls(fd, deadline, r) == 0)
            tls_handshake(cctx, fd, t, deadline, r);
        close(fd);
    }
    SSL_CTX_free(cctx);
}
