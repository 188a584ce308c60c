/*++
 * NAME
 *	mtafail 3h
 * SUMMARY
 *	TLS handshake failures in the logs of Postfix, Sendmail and Exim
 * DESCRIPTION
 *	A milter never sees a failed handshake (to it the session is
 *	connect, EHLO, close); the MTA logs it. mtafail_parse() reads one
 *	log line, already split by prefix_parse(), and says whether it is
 *	part of such a failure:
 *
 *	Postfix (program "*\/smtpd" or "*\/tlsproxy", so "postfix-out/smtpd"
 *	and "postfix/submission/smtpd" too), one failure in up to three
 *	lines of one process:
 *	"SSL_accept error from NAME[ADDR]: -1", then "warning: TLS library
 *	problem: error:0A0000C1:SSL routines::no shared cipher:FILE:LINE:"
 *	with OpenSSL's reason, then "lost connection after STARTTLS from
 *	NAME[ADDR]". NAME[ADDR]:PORT (smtpd_client_port_logging) and
 *	tlsproxy's "[ADDR]:PORT" (no name) are read too. Postfix logs an
 *	SSL_accept line for every failed handshake, so a lost connection
 *	line alone followed a handshake that worked: it is emitted with
 *	closed set, not as a failure (the client rejected what it saw,
 *	typically our certificate).
 *
 *	Sendmail (any program name): "STARTTLS=server, error: accept
 *	failed=-1, reason=no shared cipher, SSL_error=1, errno=0,
 *	retry=-1, relay=NAME [ADDR]", and, at LogLevel 10 and above,
 *	"STARTTLS=server: error:0A0000C1:SSL routines::no shared
 *	cipher:FILE:LINE:", which gives the reason when the first line
 *	says "reason=unknown".
 *
 *	Exim (syslog, or its own mainlog with or without "[pid]"): "TLS
 *	error on connection from NAME (HELO) [ADDR]:PORT (SSL_accept):
 *	error:0A0000C1:SSL routines::no shared cipher" (or
 *	"(gnutls_handshake): TEXT"), one line; with log_selector
 *	+incoming_interface, " I=[OUR ADDR]:PORT" before the operation is
 *	skipped.
 *
 *	The client's name is kept only when the MTA vouches for it: not
 *	Postfix's "unknown", not a Sendmail name "(may be forged)", never
 *	Exim's HELO. Names must be DNS names of at most 253 bytes,
 *	addresses IPv4 or IPv6 (Sendmail's "IPv6:" dropped); they are
 *	stored in inet_ntop()'s form. A line that starts like a failure
 *	but breaks these rules is MTAFAIL_BAD and never a failure: the
 *	address is taken from the fixed end of Exim's line, after any
 *	HELO, so a HELO cannot name another client.
 *
 *	mtafail_track joins the lines of one failure: a START waits,
 *	per logging host, program and pid, for its reason; the next other
 *	line of that process, a new START, or mtafail_track_flush() (at
 *	the end of each file) ends it. At most MTAFAIL_PENDING_MAX wait;
 *	beyond that the oldest is ended as it is.
 *--*/
#ifndef REPORT_MTAFAIL_H
#define REPORT_MTAFAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "logread/prefix.h"

#define MTAFAIL_HOST_MAX    64
#define MTAFAIL_NAME_MAX    253
#define MTAFAIL_ADDR_MAX    45 /* INET6_ADDRSTRLEN - 1 */
#define MTAFAIL_REASON_MAX  120
#define MTAFAIL_PENDING_MAX 256

enum mtafail_mta { MTAFAIL_POSTFIX, MTAFAIL_SENDMAIL, MTAFAIL_EXIM };

/* One failed handshake. */
struct mtafail {
    enum mtafail_mta mta;
    bool has_time;
    time_t when;
    char host[MTAFAIL_HOST_MAX + 1];     /* the logging host, or "" */
    char name[MTAFAIL_NAME_MAX + 1];     /* the client's verified name, or "" */
    char addr[MTAFAIL_ADDR_MAX + 1];     /* the client's address */
    char reason[MTAFAIL_REASON_MAX + 1]; /* OpenSSL's reason, or "" */
    bool lib_reason;                     /* reason is the TLS library's own text */
    bool closed;                         /* not a failure: closed after STARTTLS */
};

enum mtafail_kind {
    MTAFAIL_NONE,   /* not about a failed handshake */
    MTAFAIL_BAD,    /* starts like one, but breaks the rules */
    MTAFAIL_START,  /* a failure, whose reason may follow */
    MTAFAIL_REASON, /* the reason of the waiting failure (only reason set) */
    MTAFAIL_LOST,   /* Postfix: ends the waiting failure, or one without reason */
    MTAFAIL_DONE,   /* a whole failure in one line */
};

/* mtafail_parse - what one line says; out filled but for host and time */
enum mtafail_kind mtafail_parse(const struct prefix *, struct mtafail *out);

/* mtafail_openssl_reason - the REASON of "[N:]error:CODE:LIB:FUNC:REASON[:...]"
   (OpenSSL 1.0 to 3 spell FUNC differently); 0, or -1 when s is not one */
int mtafail_openssl_reason(const char *s, char *out, size_t len);

/* mtafail_addr - n bytes of s as an IPv4 or IPv6 address ("IPv6:" dropped)
   in inet_ntop() form, so that every spelling of one address compares
   equal; 0, or -1 when it is none */
int mtafail_addr(const char *s, size_t n, char out[MTAFAIL_ADDR_MAX + 1]);

/* mtafail_mta_name - "postfix", "sendmail", "exim" */
const char *mtafail_mta_name(enum mtafail_mta);

struct mtafail_track;

/* Called once per failure; the struct is valid during the call. */
typedef void (*mtafail_emit)(void *ctx, const struct mtafail *);

/* mtafail_track_new - a joiner that emits to fn; NULL when memory runs out */
struct mtafail_track *mtafail_track_new(mtafail_emit fn, void *ctx);
/* mtafail_track_line - one line of input */
void mtafail_track_line(struct mtafail_track *, const struct prefix *);
/* mtafail_track_flush - end every waiting failure */
void mtafail_track_flush(struct mtafail_track *);
/* mtafail_track_bad - lines that started like a failure but were refused */
unsigned long long mtafail_track_bad(const struct mtafail_track *);
void mtafail_track_free(struct mtafail_track *);

#endif
