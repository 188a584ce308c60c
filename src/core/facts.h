/*++
 * NAME
 *	facts 3h
 * SUMMARY
 *	session and recipient facts, parsed from MTA macro values
 * DESCRIPTION
 *	What the MTA told us about one SMTP session and one recipient, in a
 *	form the decision core can use without further parsing. Raw macro
 *	values are kept as well (for the records); derived values (normalised
 *	domains, the certificate CN) are computed once here.
 *
 *	Ownership: every string in these structs is owned by the struct and
 *	released by session_facts_clear() / rcpt_facts_clear().
 *--*/
#ifndef FACTS_H
#define FACTS_H

#include <stdbool.h>

#include "core/certfp.h"
#include "core/cidr.h"
#include "core/domain_map.h"
#include "tls/tlsinfo.h"

/* Sendmail's {verify}; Postfix sends none (VERIFY_ABSENT). */
enum verify_result {
    VERIFY_ABSENT = 0,
    VERIFY_OK,
    VERIFY_NO,       /* no client certificate */
    VERIFY_NOT,      /* no certificate requested */
    VERIFY_FAIL,     /* certificate failed verification */
    VERIFY_NONE,     /* no STARTTLS */
    VERIFY_TEMP,
    VERIFY_PROTOCOL,
    VERIFY_SOFTWARE,
    VERIFY_OTHER,    /* a value we do not know */
};

enum verify_result facts_verify_parse(const char *value);
const char *facts_verify_name(enum verify_result);

/* Outcome of parsing a mailbox as an MTA would. */
enum addr_kind {
    ADDR_DOMAIN = 0, /* local@domain, domain normalised */
    ADDR_NULL,       /* "<>": the null sender */
    ADDR_LOCAL,      /* no domain at all: "postmaster", "<postmaster>" */
    ADDR_LITERAL,    /* local@[192.0.2.1] or local@[IPv6:...] */
    ADDR_INVALID,    /* could not be parsed */
};

struct address {
    enum addr_kind kind;
    char domain[DOMAIN_MAX + 1]; /* ADDR_DOMAIN: normalised A-label form; else "" */
    bool routed;                 /* unquoted '%' or '!' in the local part: the
                                    percent hack or a bang path may send it
                                    elsewhere than the domain says */
};

/*
 * address_parse - the domain of a mailbox as an MTA would find it.
 * Handles surrounding white space, angle brackets, source routes
 * ("<@a,@b:user@c>"), quoted local parts containing '@' or '>' and
 * backslash escapes, SMTPUTF8 (UTF-8 local parts and U-label domains),
 * address literals, and ESMTP parameters that an MTA may leave after '>'.
 * Never fails: anything it cannot read is ADDR_INVALID.
 */
void address_parse(const char *raw, struct address *out);

/*
 * xtext_decode - RFC 3461 xtext ("+20" is a space) as Sendmail encodes
 * DNs in {cert_subject} and {cert_issuer}. Malformed escapes are kept
 * literally. Returns a new string (caller frees) or NULL on OOM.
 */
char *xtext_decode(const char *in);

/*
 * cert_cn - the common name in a certificate name macro. Postfix sends the
 * CN alone; Sendmail sends a decoded DN like "/O=Partner GmbH/CN=mx.p.example"
 * (the last CN wins, as OpenSSL prints the most specific one last).
 * A value that does not look like a "/K=V" DN is taken as the CN itself.
 * Returns a new string or NULL when there is no CN.
 */
char *cert_cn(const char *decoded_name);

/* Which MTA sent the macros; it decides what a missing {verify} means. */
enum mta_kind {
    MTA_UNKNOWN = 0, /* no {v} macro */
    MTA_POSTFIX,     /* {v} starts with "Postfix" */
    MTA_OTHER,       /* Sendmail and others: {verify} tells */
};

struct session_facts {
    enum mta_kind mta;
    /* connect */
    bool has_client_addr;
    struct ip_addr client_ip;
    char *client_addr;   /* text form as given */
    char *client_name;   /* Postfix: "unknown" when not verified */
    bool client_name_verified; /* forward-confirmed: Postfix gives no other name;
                                  Sendmail says so in {client_resolve} */
    /* HELO */
    char *helo;
    /* TLS */
    enum tls_version tls_version;
    char *tls_version_raw; /* the macro value as sent */
    char *cipher;
    int cipher_bits;       /* -1 when absent or unparsable */
    char *cert_subject;    /* raw macro value */
    char *cert_issuer;
    char *cert_subject_cn; /* derived: xtext-decoded, CN extracted */
    char *cert_issuer_cn;
    enum verify_result verify;
    char *cert_fingerprint;        /* raw: ccert_fingerprint, Sendmail {cert_md5} */
    char *cert_pubkey_fingerprint; /* raw: ccert_pubkey_fingerprint */
    struct certfp cert_fp;         /* derived; CERTFP_NONE: absent, empty or unparsable */
    struct certfp cert_pubkey_fp;
    char *auth_type;       /* SASL mechanism; non-empty means authenticated */
    /* MAIL */
    char *sender;          /* raw */
    struct address sender_addr;
    char *sender_resolved; /* Postfix {mail_addr}: the sender after its own parsing */
    struct address sender_resolved_addr;
};

struct rcpt_facts {
    char *rcpt;            /* as the client sent it (xxfi_envrcpt argv[0]) */
    struct address addr;
    char *rcpt_resolved;   /* Postfix {rcpt_addr}, or NULL */
    struct address resolved_addr;
};

void session_facts_init(struct session_facts *);
void session_facts_clear(struct session_facts *);

/*
 * Setters: each replaces the old value (NULL clears it) and updates what
 * is derived from it. Return 0, or -1 on OOM. facts_set_client_addr()
 * returns -1 as well when the text is not an address (the text is kept,
 * has_client_addr is false).
 */
int facts_set_mta(struct session_facts *, const char *v_macro);
int facts_set_client_addr(struct session_facts *, const char *);
int facts_set_client_name(struct session_facts *, const char *);
int facts_set_client_resolve(struct session_facts *, const char *);
int facts_set_helo(struct session_facts *, const char *);
int facts_set_tls_version(struct session_facts *, const char *);
int facts_set_cipher(struct session_facts *, const char *);
int facts_set_cipher_bits(struct session_facts *, const char *);
int facts_set_cert_subject(struct session_facts *, const char *);
int facts_set_cert_issuer(struct session_facts *, const char *);
int facts_set_verify(struct session_facts *, const char *);
/* "AB:CD:..." or plain hex, the digest known by its length; "" or
   anything unparsable is no fingerprint, which no pin matches */
int facts_set_cert_fingerprint(struct session_facts *, const char *);
int facts_set_cert_pubkey_fingerprint(struct session_facts *, const char *);
int facts_set_auth_type(struct session_facts *, const char *);
int facts_set_sender(struct session_facts *, const char *);
int facts_set_sender_resolved(struct session_facts *, const char *mail_addr);

/* facts_sender_domain - the sender's domain: as sent, else as the MTA resolved it; NULL if none */
const char *facts_sender_domain(const struct session_facts *);

/*
 * facts_cert_verified - did the MTA verify the client certificate?
 * Sendmail says so in {verify} (only OK counts). Postfix sends no
 * {verify} and sends {cert_subject}/{cert_issuer} only for a trusted
 * certificate, so there their presence means verified. Where {verify} is
 * absent and the MTA is not known to be Postfix, nothing is verified.
 */
bool facts_cert_verified(const struct session_facts *);

/* True when the session is authenticated (non-empty {auth_type}). */
bool facts_authenticated(const struct session_facts *);

void rcpt_facts_init(struct rcpt_facts *);
void rcpt_facts_clear(struct rcpt_facts *);
int facts_set_rcpt(struct rcpt_facts *, const char *rcpt);
int facts_set_rcpt_resolved(struct rcpt_facts *, const char *rcpt_addr);

#endif
