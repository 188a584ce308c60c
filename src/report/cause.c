/*++
 * NAME
 *	cause 3
 * SUMMARY
 *	--diagnose: the cause of a client's handshake failures, and a remedy
 * SYNOPSIS
 *	#include "report/cause.h"
 *
 *	size_t	cause_find(client, implies, out)
 * DESCRIPTION
 *	See cause.h. The rules are a table of predicates walked in order,
 *	as a policy is a list of requirements: adding a pattern is adding
 *	one predicate and one row. The reasons are OpenSSL's own strings
 *	(ERR_reason_error_string), the same in OpenSSL 1.0 to 3, and
 *	GnuTLS's (gnutls_strerror) for Exim built with GnuTLS.
 *--*/

/* System library. */
#include <stdbool.h>
#include <string.h>

/* Application. */
#include "report/cause.h"

/* What a failure's reason says, as far as the rules go. */
enum reason_class { REASON_NONE, REASON_NO_SHARED_CIPHER, REASON_PROTOCOL, REASON_SIGALG, REASON_OTHER };

/* What the rules look at. */
struct facts {
    enum reason_class reason;
    bool tls_before; /* a decision over TLS before the first failure */
    const struct transitions_implies *im;
    const struct diagnose_client *c;
};

/* OpenSSL's reason strings, and GnuTLS's (gnutls_strerror(), Exim built
   with GnuTLS, as Debian's exim4 is), by class. */
static const struct reason_text {
    const char *text;
    enum reason_class class;
} reason_texts[] = {
    {"no shared cipher", REASON_NO_SHARED_CIPHER},
    {"No supported cipher suites have been found.", REASON_NO_SHARED_CIPHER},
    {"Could not negotiate a supported cipher suite.", REASON_NO_SHARED_CIPHER},
    {"unsupported protocol", REASON_PROTOCOL},
    {"version too low", REASON_PROTOCOL},
    {"no protocols available", REASON_PROTOCOL},
    {"A packet with illegal or unsupported version was received.", REASON_PROTOCOL},
    /* OpenSSL 3 against a TLS 1.0/1.1 client at security level 1 and up:
       the SHA-1 signatures those versions need are refused (alert 80). */
    {"no suitable signature algorithm", REASON_SIGALG},
};

/* classify - the class of a reason ("" when none was logged) */
static enum reason_class classify(const char *reason)
{
    size_t i;

    if (*reason == 0)
        return REASON_NONE;
    for (i = 0; i < sizeof(reason_texts) / sizeof(reason_texts[0]); i++)
        if (strcmp(reason, reason_texts[i].text) == 0)
            return reason_texts[i].class;
    return REASON_OTHER;
}

/* cause_reason_known - a reason of a class the rules look at */
bool cause_reason_known(const char *reason)
{
    enum reason_class c = classify(reason);

    return c != REASON_NONE && c != REASON_OTHER;
}

/* Predicates: one per pattern. */

/* rsa_certificate - RSA-authenticated only, now no shared cipher, and no
   client negotiated an RSA-authenticated suite since */
static bool rsa_certificate(const struct facts *f)
{
    return f->reason == REASON_NO_SHARED_CIPHER && f->im->imp[TRANSITIONS_IMP_RSA_AUTH] && !f->c->rsa_after;
}

/* rsa_elsewhere - the same, but some client did since: the records refute
   "no RSA certificate" for at least one server */
static bool rsa_elsewhere(const struct facts *f)
{
    return f->reason == REASON_NO_SHARED_CIPHER && f->im->imp[TRANSITIONS_IMP_RSA_AUTH] && f->c->rsa_after;
}

/* static_rsa - static-RSA key exchange only, now no shared cipher */
static bool static_rsa(const struct facts *f)
{
    return f->reason == REASON_NO_SHARED_CIPHER && f->im->imp[TRANSITIONS_IMP_RSA_KX];
}

/* cbc_removed - CBC/3DES only, now no shared cipher; not when they were
   all 3DES/RC4, whose pattern says why adding them back may not work */
static bool cbc_removed(const struct facts *f)
{
    return f->reason == REASON_NO_SHARED_CIPHER && f->im->imp[TRANSITIONS_IMP_CBC] &&
           !f->im->imp[TRANSITIONS_IMP_LEGACY];
}

/* legacy_removed - 3DES/RC4 only, now no shared cipher */
static bool legacy_removed(const struct facts *f)
{
    return f->reason == REASON_NO_SHARED_CIPHER && f->im->imp[TRANSITIONS_IMP_LEGACY];
}

/* protocol_floor - TLS 1.0/1.1 only, now a protocol error */
static bool protocol_floor(const struct facts *f)
{
    return f->reason == REASON_PROTOCOL && f->im->imp[TRANSITIONS_IMP_OLD_TLS];
}

/* security_level - TLS 1.0/1.1 only, now no signature algorithm OpenSSL 3 allows */
static bool security_level(const struct facts *f)
{
    return f->reason == REASON_SIGALG && f->im->imp[TRANSITIONS_IMP_OLD_TLS];
}

static const struct rule {
    bool (*holds)(const struct facts *);
    struct cause cause;
} rules[] = {
    {rsa_certificate,
     {"rsa_certificate",
      "last negotiated only RSA-authenticated suites, now fails with \"no shared cipher\": our server no "
      "longer "
      "offers an RSA certificate",
      "serve an RSA certificate beside the ECDSA one (Postfix smtpd_tls_chain_files, Sendmail a second "
      "confSERVER_CERT, Exim a list in tls_certificate and tls_privatekey)"}},
    {rsa_elsewhere,
     {"rsa_certificate",
      "last negotiated only RSA-authenticated suites, now fails with \"no shared cipher\"; but while it kept "
      "failing, clients negotiated RSA-authenticated suites: an RSA certificate is still offered somewhere, "
      "probably not by the server that logged the failure",
      "make the server that logged the failure serve an RSA certificate beside the ECDSA one (Postfix "
      "smtpd_tls_chain_files, Sendmail a second confSERVER_CERT, Exim a list in tls_certificate and "
      "tls_privatekey)"}},
    {static_rsa,
     {"static_rsa",
      "last used only static-RSA key exchange, now fails with \"no shared cipher\": our server stopped "
      "offering "
      "kRSA suites",
      "offer the static-RSA suites it used again (no !kRSA in the server's cipher list), or ask it to "
      "support "
      "ECDHE"}},
    {cbc_removed,
     {"cbc_removed",
      "last used only CBC/3DES suites, now fails with \"no shared cipher\": our server's cipher list dropped "
      "them",
      "add the CBC suites it used to the server's cipher list again (Postfix tls_*_cipherlist, Sendmail "
      "CipherList, Exim tls_require_ciphers), or ask it to support AES-GCM or ChaCha20"}},
    {legacy_removed,
     {"legacy_removed",
      "last used only 3DES/RC4 suites, now fails with \"no shared cipher\": our server no longer offers them "
      "(an OpenSSL 3 as Debian 12 builds it has neither)",
      "ask it to support AES (GCM, or at least CBC) suites; the server can offer 3DES/RC4 again only with an "
      "OpenSSL built with them and @SECLEVEL=0 in its cipher list"}},
    {protocol_floor,
     {"protocol_floor",
      "last used only TLS 1.0/1.1, now fails with a protocol error: our protocol floor locks it out",
      "allow TLSv1/TLSv1.1 for this client (Postfix smtpd_tls_protocols, Sendmail ServerSSLOptions, Exim "
      "openssl_options; with OpenSSL 3 also @SECLEVEL=0 in the cipher list) or ask it to upgrade"}},
    {security_level,
     {"security_level",
      "last used only TLS 1.0/1.1, now fails with \"no suitable signature algorithm\": OpenSSL 3's default "
      "security level refuses the SHA-1 signatures TLS 1.0/1.1 need",
      "allow TLSv1/TLSv1.1 and SHA-1 signatures for this client: @SECLEVEL=0 in the server's cipher list "
      "(Postfix tls_*_cipherlist, Sendmail CipherList, Exim tls_require_ciphers) with TLSv1 allowed, or ask it "
      "to upgrade to TLS 1.2"}},
};

/* The pattern of connections closed after STARTTLS without a failure. */
static const struct cause closed_cause = {
    "closed_after_handshake",
    "the client completed the TLS handshake and then closed the connection: it probably does not accept our "
    "certificate (name, chain or DANE/MTA-STS)",
    "check the certificate chain and name the client expects (and TLSA/MTA-STS records)"};

/* unknown - the one cause when no pattern holds: why, and what would tell */
static struct cause unknown(const struct facts *f)
{
    struct cause c = {"unknown", NULL, NULL};

    if (f->reason == REASON_NONE)
        c.cause = "unknown: no reason was logged for its failed handshakes; facts needed: the TLS library's "
                  "reason (Postfix logs it as \"TLS library problem\", Sendmail at LogLevel 10 and above)";
    else if (f->reason == REASON_OTHER)
        c.cause = "unknown: not a known pattern of this reason and these facts";
    else if (!f->tls_before)
        c.cause =
            "unknown: no decision over TLS before the first failure in the records read; facts needed: "
            "what it negotiated before (tlspolicyd's records from before the change), or the suites and "
            "protocol versions it offers";
    else if (f->im->unknown != NULL)
        c.cause = "unknown: a cipher it negotiated is unknown to this OpenSSL, so its facts imply nothing; "
                  "facts needed: the suites, groups and protocol versions it offers (its profile in "
                  "tlspolicy-probe)";
    else
        c.cause = "unknown: what it last negotiated does not explain the failure; facts needed: the suites, "
                  "groups and protocol versions it offers (its profile in tlspolicy-probe)";
    return c;
}

/* cause_find - every pattern that holds, else one "unknown" */
size_t cause_find(const struct diagnose_client *c, const struct transitions_implies *im, struct cause *out)
{
    struct facts f;
    size_t i, n = 0;

    if (c->failures > 0) {
        f.reason = classify(c->reason);
        f.tls_before = c->tls_before;
        f.im = im;
        f.c = c;
        for (i = 0; i < sizeof(rules) / sizeof(rules[0]) && n < CAUSE_MAX - 1; i++)
            if (rules[i].holds(&f))
                out[n++] = rules[i].cause;
        if (n == 0)
            out[n++] = unknown(&f);
    }
    if (c->closed > 0) /* a handshake that worked: its own pattern */
        out[n++] = closed_cause;
    return n; /* none: nothing logged says why it stopped using TLS */
}
