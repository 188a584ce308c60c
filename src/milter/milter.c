/*++
 * NAME
 *	milter 3
 * SUMMARY
 *	libmilter adapter: callbacks and macros in, session calls out
 * SYNOPSIS
 *	#include "milter/milter.h"
 *
 *	int	milter_register(socket, service, err)
 *	int	milter_serve(void)
 *	void	milter_stop(void)
 *	void	milter_version(major, minor, patch)
 * DESCRIPTION
 *	The milter front end of the session service (session/session.h).
 *	Each callback maps libmilter's arguments and macros to one session
 *	call, and the reply session_rcpt() returns to smfi_setreply() and a
 *	milter status. Nothing here decides, learns or logs: a second front
 *	end (the Postfix policy service) drives the same session calls, so
 *	whatever is not milter protocol lives there, and the two cannot drift.
 *
 *	Macros are asked for per stage (wanted_macros[]) so that no MTA
 *	configuration has to change; every stage passes on whatever TLS
 *	macros it was given, because Postfix sends them with the EHLO after
 *	STARTTLS and with MAIL, never at connect.
 *
 *	The session belongs to libmilter's per-connection private pointer
 *	from connect to close; close is the one place it is freed.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* Libraries. */
#include <libmilter/mfapi.h>

/* Application. */
#include "config/config_ref.h"
#include "milter/milter.h"
#include "session/session.h"

/* Every session of this daemon; set once before serving. */
static struct session_service *service;

/* session_of - our per-connection state */
static struct session *session_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* macro - a macro value, or NULL */
static const char *macro(SMFICTX *ctx, const char *name)
{
    return smfi_getsymval(ctx, (char *) name);
}

/*
 * TLS and SASL macros, and where the session service takes them. A macro
 * the MTA did not send at this stage stays NULL: the fact keeps its value.
 */
static const struct tls_macro {
    const char *name;
    size_t offset; /* in struct session_tls_values */
} tls_macros[] = {
    {"{tls_version}", offsetof(struct session_tls_values, version)},
    {"{cipher}", offsetof(struct session_tls_values, cipher)},
    {"{cipher_bits}", offsetof(struct session_tls_values, cipher_bits)},
    {"{cert_subject}", offsetof(struct session_tls_values, cert_subject)},
    {"{cert_issuer}", offsetof(struct session_tls_values, cert_issuer)},
    {"{verify}", offsetof(struct session_tls_values, verify)},
    {"{auth_type}", offsetof(struct session_tls_values, auth_type)},
    /* Sendmail: the MD5 of the certificate, or with CertFingerprintAlgorithm
       set the chosen digest as {cert_fp}; the later one wins when both
       come. Postfix's milter macros carry no fingerprint. */
    {"{cert_md5}", offsetof(struct session_tls_values, cert_fingerprint)},
    {"{cert_fp}", offsetof(struct session_tls_values, cert_fingerprint)},
};

/* pass_tls - hand every TLS and SASL macro sent at this stage to the session */
static void pass_tls(SMFICTX *ctx, struct session *s)
{
    struct session_tls_values v = {0};
    const char *value;
    size_t i;

    for (i = 0; i < sizeof(tls_macros) / sizeof(tls_macros[0]); i++)
        if ((value = macro(ctx, tls_macros[i].name)) != NULL)
            *(const char **) ((char *) &v + tls_macros[i].offset) = value;
    session_tls(s, &v);
}

/* addr_text - the text form of xxfi_connect's address, or NULL */
static const char *addr_text(const struct sockaddr *sa, char *buf, socklen_t len)
{
    const void *bytes = NULL;

    if (sa && sa->sa_family == AF_INET)
        bytes = &((const struct sockaddr_in *) sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6)
        bytes = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    return bytes ? inet_ntop(sa->sa_family, bytes, buf, len) : NULL;
}

/* tp_connect - a new SMTP session */
static sfsistat tp_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    char text[INET6_ADDRSTRLEN];
    struct session_client client = {addr_text(hostaddr, text, sizeof(text)), hostname,
                                    macro(ctx, "{client_resolve}"), macro(ctx, "v"), FRONT_END_MILTER};
    struct session *s = session_open(service, config_ref_acquire(), &client);

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    smfi_setpriv(ctx, s);
    return SMFIS_CONTINUE;
}

/* tp_helo - HELO/EHLO; after STARTTLS the TLS macros arrive here */
static sfsistat tp_helo(SMFICTX *ctx, char *helo)
{
    struct session *s = session_of(ctx);

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    session_helo(s, helo);
    pass_tls(ctx, s);
    return SMFIS_CONTINUE;
}

/* tp_envfrom - MAIL FROM: a new message */
static sfsistat tp_envfrom(SMFICTX *ctx, char **argv)
{
    struct session *s = session_of(ctx);

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    /* First: MAIL ends the previous message, and its queue id with it. */
    session_mail(s, argv && argv[0] ? argv[0] : NULL, macro(ctx, "{mail_addr}"));
    pass_tls(ctx, s);
    session_queue_id(s, macro(ctx, "i"));
    return SMFIS_CONTINUE;
}

/* set_reply - hand the reply to the MTA; '%' doubled as libmilter requires */
static void set_reply(SMFICTX *ctx, const struct session_reply *r)
{
    char text[2 * DECISION_TEXT_MAX];
    size_t i, n = 0;

    if (r->rcode[0] == 0)
        return; /* no text of ours: the MTA's default reply */
    for (i = 0; r->text[i] && n + 2 < sizeof(text); i++) {
        if (r->text[i] == '%')
            text[n++] = '%';
        text[n++] = r->text[i];
    }
    text[n] = 0;
    smfi_setreply(ctx, (char *) r->rcode, (char *) r->xcode, text);
}

/* tp_envrcpt - RCPT TO: the session decides, we answer */
static sfsistat tp_envrcpt(SMFICTX *ctx, char **argv)
{
    struct session *s = session_of(ctx);
    struct session_reply reply;

    if (s == NULL)
        return SMFIS_TEMPFAIL;
    pass_tls(ctx, s);
    session_queue_id(s, macro(ctx, "i"));
    switch (session_rcpt(s, argv && argv[0] ? argv[0] : "", macro(ctx, "{rcpt_addr}"), &reply)) {
    case DECISION_ACCEPT:
        return SMFIS_CONTINUE;
    case DECISION_REJECT:
        set_reply(ctx, &reply);
        return SMFIS_REJECT;
    default:
        set_reply(ctx, &reply);
        return SMFIS_TEMPFAIL;
    }
}

/* tp_eom - end of message: the queue id is known now */
static sfsistat tp_eom(SMFICTX *ctx)
{
    struct session *s = session_of(ctx);

    if (s == NULL)
        return SMFIS_CONTINUE;
    session_queue_id(s, macro(ctx, "i"));
    session_message_end(s);
    return SMFIS_CONTINUE;
}

/* tp_abort - the message was aborted (RSET, or the MTA gave up) */
static sfsistat tp_abort(SMFICTX *ctx)
{
    struct session *s = session_of(ctx);

    if (s)
        session_abort(s);
    return SMFIS_CONTINUE;
}

/* tp_close - the session is over; libmilter calls this on every exit path */
static sfsistat tp_close(SMFICTX *ctx)
{
    struct session *s = session_of(ctx);

    if (s == NULL)
        return SMFIS_CONTINUE;
    smfi_setpriv(ctx, NULL);
    session_close(s);
    return SMFIS_CONTINUE;
}

/* Macros we need at each stage, so that no MTA configuration must change. */
static const struct {
    int stage;
    const char *macros;
} wanted_macros[] = {
    {SMFIM_CONNECT, "j v {daemon_name} {client_addr} {client_name} {client_resolve}"},
    {SMFIM_HELO,
     "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} {cert_md5} {cert_fp}"},
    {SMFIM_ENVFROM,
     "i {mail_addr} {auth_type} {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"
     " {verify} {cert_md5} {cert_fp}"},
    {SMFIM_ENVRCPT,
     "i {rcpt_addr} {auth_type} {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"
     " {verify} {cert_md5} {cert_fp}"},
    {SMFIM_EOM, "i"},
};

/* tp_negotiate - ask for our macros; an MTA that cannot is still served */
static sfsistat tp_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                             unsigned long *pf3)
{
    size_t i;

    (void) f2;
    (void) f3;
    *pf0 = f0 & (SMFIF_SETSYMLIST);
    /* No body, no headers: we decide at RCPT and never need the data. */
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA);
    *pf2 = 0;
    *pf3 = 0;
    if (f0 & SMFIF_SETSYMLIST)
        for (i = 0; i < sizeof(wanted_macros) / sizeof(wanted_macros[0]); i++)
            smfi_setsymlist(ctx, wanted_macros[i].stage, (char *) wanted_macros[i].macros);
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "tlspolicyd",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_SETSYMLIST,
    .xxfi_connect = tp_connect,
    .xxfi_helo = tp_helo,
    .xxfi_envfrom = tp_envfrom,
    .xxfi_envrcpt = tp_envrcpt,
    .xxfi_eom = tp_eom,
    .xxfi_abort = tp_abort,
    .xxfi_close = tp_close,
    .xxfi_negotiate = tp_negotiate,
};

/* milter_register - register the callbacks and open the socket (as root) */
int milter_register(const char *socket_spec, struct session_service *svc, struct tp_error *err)
{
    service = svc;
    if (smfi_setconn((char *) socket_spec) == MI_FAILURE) {
        tp_error_set(err, NULL, 0, "invalid milter socket %s", socket_spec);
        return -1;
    }
    if (smfi_register(filter) == MI_FAILURE) {
        tp_error_set(err, NULL, 0, "smfi_register failed");
        return -1;
    }
    /* true: remove a stale unix socket left by a crashed run. */
    if (smfi_opensocket(true) == MI_FAILURE) {
        tp_error_set(err, NULL, 0, "cannot open milter socket %s", socket_spec);
        return -1;
    }
    return 0;
}

/* milter_serve - run libmilter's loop until smfi_stop() */
int milter_serve(void)
{
    return smfi_main() == MI_SUCCESS ? 0 : -1;
}

/* milter_stop - ask libmilter's loop to end */
void milter_stop(void)
{
    smfi_stop();
}

/* milter_version - the libmilter version we run with, for -V */
void milter_version(unsigned int *major, unsigned int *minor, unsigned int *patch)
{
    smfi_version(major, minor, patch);
}
