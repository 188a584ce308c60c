/*++
 * NAME
 *	facts 3
 * SUMMARY
 *	session and recipient facts, parsed from MTA macro values
 * SYNOPSIS
 *	#include "core/facts.h"
 *
 *	void	session_facts_init(sf)
 *	void	session_facts_clear(sf)
 *	int	facts_set_client_addr(sf, value)	(and one setter per macro)
 *	void	rcpt_facts_init(rf)
 *	void	rcpt_facts_clear(rf)
 *	int	facts_set_rcpt(rf, rcpt)
 *	int	facts_set_rcpt_resolved(rf, rcpt_addr)
 *
 *	void	address_parse(raw, addr)
 *	char	*xtext_decode(in)
 *	char	*cert_cn(decoded_name)
 *	enum verify_result facts_verify_parse(value)
 * DESCRIPTION
 *	The MTA hands us macro values as text; this module turns them into
 *	facts once, so that the decision core never parses anything.
 *	Every setter keeps a copy of the raw value (the records log it) and
 *	recomputes what is derived from it.
 *
 *	Certificate names differ between the MTAs: Postfix sends the CN alone
 *	and only for a trusted certificate; Sendmail 8.17 sends the whole DN,
 *	xtext-encoded ("/O=Partner+20GmbH/CN=mx.partner.example"), and an
 *	empty {cert_subject} when the client sent no certificate. Both reduce
 *	to the same *_cn fact: the CN, or NULL when there is none.
 *
 *	Certificate fingerprints (Postfix's policy service: ccert_fingerprint
 *	and ccert_pubkey_fingerprint; Sendmail: {cert_md5}) are read by
 *	certfp(3): hex with or without colons, the digest known by its
 *	length. An empty or unparsable value is no fingerprint, which no pin
 *	matches.
 *
 *	address_parse() reads a mailbox the way a lenient MTA does. It never
 *	copies more than a bounded domain and never reads past the NUL, so
 *	any hostile input ends as ADDR_INVALID.
 * DIAGNOSTICS
 *	Setters return -1 when memory runs out; facts_set_client_addr() also
 *	when the value is not an IP address.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Application. */
#include "core/facts.h"
#include "util/hex.h"

/* Longest domain text we try to normalise: U-labels take more bytes than
   their A-label form, so this is well above DOMAIN_MAX. */
#define ADDR_DOMAIN_TEXT_MAX 1024
#define ADDR_LITERAL_MAX     128

static const char *const verify_names[] = {
    "absent", "OK", "NO", "NOT", "FAIL", "NONE", "TEMP", "PROTOCOL", "SOFTWARE", "other",
};

/* facts_verify_parse - Sendmail's {verify} value, case-insensitive */
enum verify_result facts_verify_parse(const char *value)
{
    int v;

    if (value == NULL)
        return VERIFY_ABSENT;
    for (v = VERIFY_OK; v < VERIFY_OTHER; v++)
        if (strcasecmp(value, verify_names[v]) == 0)
            return (enum verify_result) v;
    return VERIFY_OTHER;
}

/* facts_verify_name - the Sendmail spelling, or "absent" / "other" */
const char *facts_verify_name(enum verify_result v)
{
    if ((unsigned) v > VERIFY_OTHER)
        return "other";
    return verify_names[v];
}

/* xtext_decode - RFC 3461 xtext; malformed escapes stay as they are */
char *xtext_decode(const char *in)
{
    char *out, *q;
    int hi, lo;

    if (in == NULL)
        return NULL;
    if ((out = malloc(strlen(in) + 1)) == NULL)
        return NULL;
    for (q = out; *in; in++) {
        /* "+00" would cut the string short and hide what follows it from
           the CN extraction, so it is kept literally like any bad escape. */
        if (*in == '+' && (hi = hex_value((unsigned char) in[1])) >= 0 &&
            (lo = hex_value((unsigned char) in[2])) >= 0 && (hi | lo) != 0) {
            *q++ = (char) (hi << 4 | lo);
            in += 2;
        } else {
            *q++ = *in;
        }
    }
    *q = 0;
    return out;
}

/* cn_span - where the CN value is: the last CN= of a DN, or all of it */
static bool cn_span(const char *name, const char **val, size_t *vlen)
{
    const char *p, *end;

    *val = NULL;
    *vlen = 0;
    if (name == NULL || *name == 0)
        return false;
    if (*name != '/') {
        *val = name;
        *vlen = strlen(name);
        return true;
    }
    /* OpenSSL's one-line form does not escape '/' inside a value; a CA
       that signs such a name is trusted by the policy anyway. */
    for (p = name; *p == '/'; p = end) {
        p++;
        if ((end = strchr(p, '/')) == NULL)
            end = p + strlen(p);
        if (end - p >= 3 && strncasecmp(p, "CN=", 3) == 0) {
            *val = p + 3;
            *vlen = (size_t) (end - *val);
        }
    }
    return *vlen > 0;
}

/* cert_cn - the common name in a certificate name macro */
char *cert_cn(const char *name)
{
    const char *val;
    size_t vlen;

    if (!cn_span(name, &val, &vlen))
        return NULL;
    return strndup(val, vlen);
}

/* is_space - SMTP white space */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* is_special - bytes that end an unquoted local part or domain */
static bool is_special(char c)
{
    return c == 0 || is_space(c) || strchr("()<>[]:;@\\,\"", c) != NULL || (unsigned char) c < 0x20 ||
           c == 0x7f;
}

/* skip_route - past an RFC 5321 source route "@a,@b:", which MTAs ignore */
static bool skip_route(const char **pp)
{
    const char *p = *pp;

    if (*p != '@')
        return true;
    while (*p && *p != ':') {
        if (is_space(*p) || *p == '<' || *p == '>' || *p == '"' || *p == '[')
            return false;
        p++;
    }
    if (*p != ':' || p - *pp < 2)
        return false;
    *pp = p + 1;
    return true;
}

/* skip_local - past a local part: a quoted string or an atom with escapes */
static bool skip_local(const char **pp)
{
    const char *p = *pp;

    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            if (*p == 0)
                return false;
            if (*p == '\\' && *++p == 0)
                return false;
        }
        *pp = p + 1;
        return true;
    }
    /* Sendmail honours a backslash outside quotes as well ("a\@b"). */
    while (!is_special(*p) || *p == '\\') {
        if (*p == '\\' && *++p == 0)
            return false;
        p++;
    }
    if (p == *pp)
        return false;
    *pp = p;
    return true;
}

/* parse_literal - "[192.0.2.1]" or "[IPv6:...]"; *pp is at '[' */
static enum addr_kind parse_literal(const char **pp)
{
    const char *p = *pp + 1;
    char buf[ADDR_LITERAL_MAX];
    size_t n = 0;
    struct ip_addr ip;

    while (*p && *p != ']') {
        if (n + 1 >= sizeof(buf) || is_space(*p) || *p == '[')
            return ADDR_INVALID;
        buf[n++] = *p++;
    }
    if (*p != ']')
        return ADDR_INVALID;
    buf[n] = 0;
    *pp = p + 1;
    return ip_addr_parse(buf, &ip) == 0 ? ADDR_LITERAL : ADDR_INVALID;
}

/* parse_domain - a domain name, normalised into out->domain */
static enum addr_kind parse_domain(const char **pp, struct address *out)
{
    const char *p = *pp;
    char buf[ADDR_DOMAIN_TEXT_MAX];
    size_t n = 0;
    struct tp_error err;

    if (*p == '[')
        return parse_literal(pp);
    while (!is_special(*p)) {
        if (n + 1 >= sizeof(buf))
            return ADDR_INVALID;
        buf[n++] = *p++;
    }
    buf[n] = 0;
    *pp = p;
    if (n == 0 || domain_normalize(buf, out->domain, &err) != 0) {
        out->domain[0] = 0;
        return ADDR_INVALID;
    }
    return ADDR_DOMAIN;
}

/* local_routes - an unquoted '%' or '!' in the local part [p, end) */
static bool local_routes(const char *p, const char *end)
{
    if (*p == '"')
        return false;
    for (; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '%' || *p == '!')
            return true;
    }
    return false;
}

/* parse_mailbox - [route] local [@ domain], then brackets and parameters */
static enum addr_kind parse_mailbox(const char *p, struct address *out)
{
    bool bracket = false;
    enum addr_kind kind = ADDR_LOCAL;
    const char *local;

    if (*p == '<') {
        bracket = true;
        if (*++p == '>')
            return is_space(p[1]) || p[1] == 0 ? ADDR_NULL : ADDR_INVALID;
    }
    if (!skip_route(&p))
        return ADDR_INVALID;
    local = p;
    if (!skip_local(&p))
        return ADDR_INVALID;
    out->routed = local_routes(local, p);
    if (*p == '@') {
        p++;
        kind = parse_domain(&p, out);
        if (kind == ADDR_INVALID)
            return ADDR_INVALID;
    }
    if (bracket && *p++ != '>')
        return ADDR_INVALID;
    /* After '>' and white space come ESMTP parameters ("SIZE=100"). Without
       brackets nothing can mark where the address ends, so text after white
       space makes it unreadable rather than a guess. */
    if (*p != 0 && !is_space(*p))
        return ADDR_INVALID;
    while (!bracket && is_space(*p))
        p++;
    if (!bracket && *p != 0)
        return ADDR_INVALID;
    return kind;
}

/* address_parse - the domain of a mailbox as an MTA would find it */
void address_parse(const char *raw, struct address *out)
{
    out->domain[0] = 0;
    out->routed = false;
    if (raw == NULL) {
        out->kind = ADDR_INVALID;
        return;
    }
    while (is_space(*raw))
        raw++;
    out->kind = parse_mailbox(raw, out);
    if (out->kind != ADDR_DOMAIN)
        out->domain[0] = 0;
}

/* set_copy - replace *slot by a copy of value (NULL clears) */
static int set_copy(char **slot, const char *value)
{
    free(*slot);
    *slot = NULL;
    if (value != NULL && (*slot = strdup(value)) == NULL)
        return -1;
    return 0;
}

/* address_clear - the state of "no address given" */
static void address_clear(struct address *a)
{
    a->kind = ADDR_INVALID;
    a->domain[0] = 0;
}

/* session_facts_init - nothing known yet */
void session_facts_init(struct session_facts *sf)
{
    memset(sf, 0, sizeof(*sf));
    sf->tls_version = TLS_V_NONE;
    sf->cipher_bits = -1;
    sf->verify = VERIFY_ABSENT;
    address_clear(&sf->sender_addr);
    address_clear(&sf->sender_resolved_addr);
}

/* session_facts_clear - release every value; the facts are as after init */
void session_facts_clear(struct session_facts *sf)
{
    free(sf->client_addr);
    free(sf->client_name);
    free(sf->helo);
    free(sf->tls_version_raw);
    free(sf->cipher);
    free(sf->cert_subject);
    free(sf->cert_issuer);
    free(sf->cert_subject_cn);
    free(sf->cert_issuer_cn);
    free(sf->cert_fingerprint);
    free(sf->cert_pubkey_fingerprint);
    free(sf->auth_type);
    free(sf->sender);
    free(sf->sender_resolved);
    session_facts_init(sf);
}

/* facts_set_client_addr - {client_addr}; Sendmail writes "IPv6:..." */
int facts_set_client_addr(struct session_facts *sf, const char *value)
{
    sf->has_client_addr = false;
    memset(&sf->client_ip, 0, sizeof(sf->client_ip));
    if (set_copy(&sf->client_addr, value) != 0)
        return -1;
    if (value == NULL)
        return 0;
    if (ip_addr_parse(value, &sf->client_ip) != 0) {
        memset(&sf->client_ip, 0, sizeof(sf->client_ip));
        return -1;
    }
    sf->has_client_addr = true;
    return 0;
}

/* facts_set_client_name - {client_name} */
int facts_set_client_name(struct session_facts *sf, const char *value)
{
    /* Postfix hands a milter only a verified name, else "unknown"; an
       address in brackets is what Sendmail gives for a client without one. */
    sf->client_name_verified = value && *value && *value != '[' && strcasecmp(value, "unknown") != 0;
    return set_copy(&sf->client_name, value);
}

/* facts_set_client_resolve - Sendmail's {client_resolve}: OK, FAIL, FORGED, TEMP */
int facts_set_client_resolve(struct session_facts *sf, const char *value)
{
    if (value != NULL)
        sf->client_name_verified = sf->client_name_verified && strcasecmp(value, "OK") == 0;
    return 0;
}

/* facts_set_helo - the HELO/EHLO argument */
int facts_set_helo(struct session_facts *sf, const char *value)
{
    return set_copy(&sf->helo, value);
}

/* facts_set_tls_version - {tls_version}; empty or absent means plaintext */
int facts_set_tls_version(struct session_facts *sf, const char *value)
{
    sf->tls_version = tlsinfo_version_from_macro(value);
    return set_copy(&sf->tls_version_raw, value);
}

/* facts_set_cipher - {cipher} */
int facts_set_cipher(struct session_facts *sf, const char *value)
{
    return set_copy(&sf->cipher, value);
}

/* facts_set_cipher_bits - {cipher_bits}: digits only, else unknown (-1) */
int facts_set_cipher_bits(struct session_facts *sf, const char *value)
{
    long bits = 0;
    const char *p;

    sf->cipher_bits = -1;
    if (value == NULL || *value == 0)
        return 0;
    /* strtol would accept " +12" and overflow quietly; a bit floor must
       never be met by a value we only half understood. */
    for (p = value; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        bits = bits * 10 + (*p - '0');
        if (bits > 65535)
            return 0;
    }
    sf->cipher_bits = (int) bits;
    return 0;
}

/* set_cert_name - raw value plus its CN; empty (Sendmail: no cert) is no CN */
static int set_cert_name(char **raw, char **cn, const char *value)
{
    char *decoded;
    const char *val;
    size_t vlen;
    int ret = 0;

    free(*cn);
    *cn = NULL;
    if (set_copy(raw, value) != 0)
        return -1;
    if (value == NULL || *value == 0)
        return 0;
    if ((decoded = xtext_decode(value)) == NULL)
        return -1;
    if (cn_span(decoded, &val, &vlen) && (*cn = strndup(val, vlen)) == NULL)
        ret = -1;
    free(decoded);
    return ret;
}

/* facts_set_cert_subject - {cert_subject} */
int facts_set_cert_subject(struct session_facts *sf, const char *value)
{
    return set_cert_name(&sf->cert_subject, &sf->cert_subject_cn, value);
}

/* facts_set_cert_issuer - {cert_issuer} */
int facts_set_cert_issuer(struct session_facts *sf, const char *value)
{
    return set_cert_name(&sf->cert_issuer, &sf->cert_issuer_cn, value);
}

/* facts_set_verify - Sendmail's {verify} */
int facts_set_verify(struct session_facts *sf, const char *value)
{
    sf->verify = facts_verify_parse(value);
    return 0;
}

/* set_fingerprint - raw value plus its digest; unparsable is none, never a guess */
static int set_fingerprint(char **raw, struct certfp *fp, const char *value)
{
    (void) certfp_parse_hex(value, fp);
    return set_copy(raw, value);
}

/* facts_set_cert_fingerprint - ccert_fingerprint, Sendmail {cert_md5} */
int facts_set_cert_fingerprint(struct session_facts *sf, const char *value)
{
    return set_fingerprint(&sf->cert_fingerprint, &sf->cert_fp, value);
}

/* facts_set_cert_pubkey_fingerprint - ccert_pubkey_fingerprint */
int facts_set_cert_pubkey_fingerprint(struct session_facts *sf, const char *value)
{
    return set_fingerprint(&sf->cert_pubkey_fingerprint, &sf->cert_pubkey_fp, value);
}

/* facts_set_auth_type - {auth_type} */
int facts_set_auth_type(struct session_facts *sf, const char *value)
{
    return set_copy(&sf->auth_type, value);
}

/* facts_set_mta - which MTA this is, from the {v} macro */
int facts_set_mta(struct session_facts *sf, const char *v)
{
    if (v == NULL || *v == 0)
        sf->mta = MTA_UNKNOWN;
    else
        sf->mta = strncasecmp(v, "Postfix", 7) == 0 ? MTA_POSTFIX : MTA_OTHER;
    return 0;
}

/* facts_cert_verified - did the MTA verify the client certificate */
bool facts_cert_verified(const struct session_facts *sf)
{
    if (sf->tls_version == TLS_V_NONE)
        return false;
    if (sf->verify != VERIFY_ABSENT)
        return sf->verify == VERIFY_OK;
    /* Sendmail sends {cert_subject} for any certificate, trusted or not:
       without {verify} only Postfix's subject means "trusted". */
    return sf->mta == MTA_POSTFIX && (sf->cert_subject_cn != NULL || sf->cert_issuer_cn != NULL);
}

/* facts_authenticated - a non-empty {auth_type} means SASL succeeded */
bool facts_authenticated(const struct session_facts *sf)
{
    return sf->auth_type != NULL && sf->auth_type[0] != 0;
}

/* facts_set_sender - the MAIL FROM argument */
int facts_set_sender(struct session_facts *sf, const char *value)
{
    address_clear(&sf->sender_addr);
    if (set_copy(&sf->sender, value) != 0)
        return -1;
    if (value != NULL)
        address_parse(value, &sf->sender_addr);
    return 0;
}

/* facts_set_sender_resolved - the sender as the MTA parsed it ({mail_addr}) */
int facts_set_sender_resolved(struct session_facts *sf, const char *value)
{
    address_clear(&sf->sender_resolved_addr);
    if (set_copy(&sf->sender_resolved, value) != 0)
        return -1;
    /* Postfix sends the null sender's {mail_addr} as an empty string. */
    if (value != NULL && *value == 0)
        sf->sender_resolved_addr.kind = ADDR_NULL;
    else if (value != NULL)
        address_parse(value, &sf->sender_resolved_addr);
    return 0;
}

/* facts_sender_domain - the sender's domain, as sent or else as resolved */
const char *facts_sender_domain(const struct session_facts *sf)
{
    if (sf->sender && sf->sender_addr.kind == ADDR_DOMAIN)
        return sf->sender_addr.domain;
    if (sf->sender_resolved && sf->sender_resolved_addr.kind == ADDR_DOMAIN)
        return sf->sender_resolved_addr.domain;
    return NULL;
}

/* rcpt_facts_init - no recipient yet */
void rcpt_facts_init(struct rcpt_facts *rf)
{
    memset(rf, 0, sizeof(*rf));
    address_clear(&rf->addr);
    address_clear(&rf->resolved_addr);
}

/* rcpt_facts_clear - release every value; the facts are as after init */
void rcpt_facts_clear(struct rcpt_facts *rf)
{
    free(rf->rcpt);
    free(rf->rcpt_resolved);
    rcpt_facts_init(rf);
}

/* facts_set_rcpt - the RCPT TO argument as the client sent it */
int facts_set_rcpt(struct rcpt_facts *rf, const char *rcpt)
{
    address_clear(&rf->addr);
    if (set_copy(&rf->rcpt, rcpt) != 0)
        return -1;
    if (rcpt != NULL)
        address_parse(rcpt, &rf->addr);
    return 0;
}

/* facts_set_rcpt_resolved - Postfix {rcpt_addr}, after its rewriting */
int facts_set_rcpt_resolved(struct rcpt_facts *rf, const char *rcpt_addr)
{
    address_clear(&rf->resolved_addr);
    if (set_copy(&rf->rcpt_resolved, rcpt_addr) != 0)
        return -1;
    if (rcpt_addr != NULL)
        address_parse(rcpt_addr, &rf->resolved_addr);
    return 0;
}
