/*++
 * NAME
 *	record 3
 * SUMMARY
 *	decision and session records: kv and json
 * SYNOPSIS
 *	#include "record/record.h"
 *
 *	int	record_format_decision(opts, rec, out)
 *	int	record_format_session(opts, rec, out)
 *	void	record_address(opts, addr, out)
 *	void	record_kv_value(out, value)
 * DESCRIPTION
 *	The one record writer. Both formats go through one small emitter that
 *	is given (key, value) pairs in the order of SPEC.md, so the two
 *	formats cannot drift apart; a NULL value is the absent marker ("-" in
 *	kv, null in json).
 *
 *	kv: a value that is not a plain token is quoted, and inside the quotes
 *	every byte outside printable ASCII is escaped, so a record is one line
 *	of pure ASCII whatever a client or a certificate put into a value.
 *	json: strings per RFC 8259; valid UTF-8 passes through, every byte
 *	that is not part of valid UTF-8 becomes U+FFFD, so the object is
 *	always valid JSON.
 *
 *	Addresses under "log.addresses": "full" logs them as sent; "domain"
 *	logs "@domain"; "hash" logs the first 16 hex digits of
 *	HMAC-SHA256(key, local part) and "@domain". The local part is hashed
 *	without its quotes and backslash escapes and in ASCII lower case, so
 *	that the spellings of one mailbox give one hash. The domain is the
 *	normalised (lower case, A-label) domain, or an address literal as
 *	written; a source route is dropped. An address without a domain
 *	("postmaster") logs in hash mode as the hash of its local part alone,
 *	an unparsable one as the hash of its whole text (treated like a local
 *	part: quotes and escapes removed, lower case); in domain mode both
 *	log as absent, since nothing in them is a domain. The null sender
 *	logs as "<>" in every mode.
 * DIAGNOSTICS
 *	The formatters return -1 when memory runs out.
 *--*/

/* System library. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Application. */
#include "record/record.h"

#define HASH_HEX_DIGITS 16

/* Escapes with a letter: kv has \" \\ \n \t \r (SPEC.md), json adds \b \f. */
#define KV_ESCAPES   5
#define JSON_ESCAPES 7

/* Only an encrypted session has a certificate verdict to log. */
#define IS_TLS(sf) ((sf)->tls_version != TLS_V_NONE)

/* An emitter writes one record; the format is decided once, here. */
struct emitter {
    enum log_format format;
    struct strbuf *out;
    bool first;
};

/* utf8_seq - length of the valid UTF-8 sequence at p (RFC 3629), or 0 */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    /* The second byte's range excludes overlong forms, the UTF-16
       surrogates (ED A0..BF) and code points above U+10FFFF. */
    if (p[0] == 0xe0)
        lo = 0xa0;
    else if (p[0] == 0xed)
        hi = 0x9f;
    else if (p[0] == 0xf0)
        lo = 0x90;
    else if (p[0] == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* short_escape - the letter after '\\' for c, or 0; kv knows the first 5 */
static char short_escape(unsigned char c, size_t known)
{
    static const char from[] = "\"\\\n\t\r\b\f", to[] = "\"\\ntrbf";
    const char *p;

    if (c == 0 || (p = memchr(from, c, known)) == NULL)
        return 0;
    return to[p - from];
}

/* json_string - a JSON string literal */
static void json_string(struct strbuf *out, const char *value)
{
    const unsigned char *p;
    size_t n;
    char esc;

    strbuf_putc(out, '"');
    for (p = (const unsigned char *) value; *p; p += n) {
        n = 1;
        if ((esc = short_escape(*p, JSON_ESCAPES)) != 0) {
            strbuf_putc(out, '\\');
            strbuf_putc(out, esc);
        } else if (*p < 0x20) {
            strbuf_printf(out, "\\u%04x", *p);
        } else if ((n = utf8_seq(p)) == 0) {
            strbuf_puts(out, "\xef\xbf\xbd"); /* U+FFFD for one bad byte */
            n = 1;
        } else {
            strbuf_putn(out, (const char *) p, n);
        }
    }
    strbuf_putc(out, '"');
}

/* kv_plain - a value that needs no quotes and cannot be read as absent */
static bool kv_plain(const char *value)
{
    const unsigned char *p = (const unsigned char *) value;

    if (*p == 0 || strcmp(value, "-") == 0)
        return false;
    for (; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\' || *p == '=')
            return false;
    return true;
}

/* record_kv_value - a kv value: a plain token, or quoted and escaped */
void record_kv_value(struct strbuf *out, const char *value)
{
    const unsigned char *p = (const unsigned char *) value;
    char esc;

    if (kv_plain(value)) {
        strbuf_puts(out, value);
        return;
    }
    strbuf_putc(out, '"');
    for (; *p; p++) {
        if ((esc = short_escape(*p, KV_ESCAPES)) != 0) {
            strbuf_putc(out, '\\');
            strbuf_putc(out, esc);
        } else if (*p < 0x20 || *p > 0x7e) {
            strbuf_printf(out, "\\x%02x", *p);
        } else {
            strbuf_putc(out, (char) *p);
        }
    }
    strbuf_putc(out, '"');
}

/* emit_begin - start one record */
static void emit_begin(struct emitter *e, const struct record_opts *opts, struct strbuf *out)
{
    e->format = opts->format;
    e->out = out;
    e->first = true;
    if (e->format == LOG_FORMAT_JSON)
        strbuf_putc(out, '{');
}

/* emit_key - separator and key */
static void emit_key(struct emitter *e, const char *key)
{
    if (!e->first)
        strbuf_putc(e->out, e->format == LOG_FORMAT_JSON ? ',' : ' ');
    e->first = false;
    if (e->format == LOG_FORMAT_JSON)
        strbuf_printf(e->out, "\"%s\":", key);
    else
        strbuf_printf(e->out, "%s=", key);
}

/* emit_str - a string field; NULL is absent */
static void emit_str(struct emitter *e, const char *key, const char *value)
{
    emit_key(e, key);
    if (value == NULL)
        strbuf_puts(e->out, e->format == LOG_FORMAT_JSON ? "null" : "-");
    else if (e->format == LOG_FORMAT_JSON)
        json_string(e->out, value);
    else
        record_kv_value(e->out, value);
}

/* emit_nonempty - a string field where "" is absent too */
static void emit_nonempty(struct emitter *e, const char *key, const char *value)
{
    emit_str(e, key, value != NULL && *value != 0 ? value : NULL);
}

/* emit_num - a number field: a JSON number, a plain kv token */
static void emit_num(struct emitter *e, const char *key, long long value)
{
    emit_key(e, key);
    strbuf_printf(e->out, "%lld", value);
}

/* emit_seq - the record counter, unsigned 64 bits */
static void emit_seq(struct emitter *e, unsigned long long seq)
{
    emit_key(e, "seq");
    strbuf_printf(e->out, "%llu", seq);
}

/* emit_end - finish one record */
static int emit_end(struct emitter *e)
{
    if (e->format == LOG_FORMAT_JSON)
        strbuf_putc(e->out, '}');
    return strbuf_failed(e->out) ? -1 : 0;
}

/* local_span - where the local part is, past brackets and a source route */
static const char *local_span(const char *s, const char **end)
{
    const char *p, *start;

    for (p = s; *p == ' ' || *p == '\t'; p++)
        /* void */;
    if (*p == '<')
        p++;
    if (*p == '@' && strchr(p, ':') != NULL)
        p = strchr(p, ':') + 1;
    start = p;
    for (bool quoted = false; *p && (quoted || (*p != '@' && *p != '>' && *p != ' ')); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\\' && p[1] != 0)
            p++;
    }
    *end = p;
    return start;
}

/* canonical_local - local part without quotes and escapes, ASCII lower case */
static void canonical_local(const char *p, const char *end, struct strbuf *out)
{
    for (; p < end; p++) {
        if (*p == '"')
            continue;
        if (*p == '\\' && p + 1 < end)
            p++;
        strbuf_putc(out, *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : *p);
    }
}

/* put_hash - first 16 hex digits of HMAC-SHA256(key, text) */
static void put_hash(const struct record_opts *opts, const struct strbuf *text, struct strbuf *out)
{
    static const unsigned char no_key[1];
    const unsigned char *key = opts->hash_key ? opts->hash_key : no_key;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int i;

    if (opts->hash_key_len > INT_MAX || strbuf_failed(text) ||
        HMAC(EVP_sha256(), key, opts->hash_key ? (int) opts->hash_key_len : 0,
             (const unsigned char *) strbuf_str(text), text->len, md, &mdlen) == NULL ||
        mdlen * 2 < HASH_HEX_DIGITS) {
        /* Never fall back to the clear text: the point is not to log it. */
        strbuf_puts(out, "?");
        return;
    }
    for (i = 0; i < HASH_HEX_DIGITS / 2; i++)
        strbuf_printf(out, "%02x", md[i]);
}

/* put_domain - "@" and the domain to log: normalised, or a literal as written */
static void put_domain(const struct address *a, const char *at, struct strbuf *out)
{
    const char *end;

    strbuf_putc(out, '@');
    if (a->kind == ADDR_DOMAIN) {
        strbuf_puts(out, a->domain);
    } else if ((end = strchr(at + 1, ']')) != NULL) {
        strbuf_putn(out, at + 1, (size_t) (end - at));
    }
}

/* record_address - the address as logged under opts->addresses */
void record_address(const struct record_opts *opts, const char *addr, struct strbuf *out)
{
    struct address a;
    struct strbuf text;
    const char *start, *end;

    if (addr == NULL)
        return;
    if (opts->addresses == LOG_ADDR_FULL) {
        strbuf_puts(out, addr);
        return;
    }
    address_parse(addr, &a);
    if (a.kind == ADDR_NULL) {
        strbuf_puts(out, "<>");
        return;
    }
    if (opts->addresses == LOG_ADDR_DOMAIN && a.kind != ADDR_DOMAIN && a.kind != ADDR_LITERAL)
        return;
    start = local_span(addr, &end);
    if (opts->addresses == LOG_ADDR_HASH) {
        strbuf_init(&text);
        /* An unreadable address has no known local part: all of it is hashed. */
        if (a.kind == ADDR_INVALID)
            canonical_local(addr, addr + strlen(addr), &text);
        else
            canonical_local(start, end, &text);
        put_hash(opts, &text, out);
        if (strbuf_failed(&text))
            out->failed = true;
        strbuf_free(&text);
    }
    if (a.kind == ADDR_DOMAIN || a.kind == ADDR_LITERAL)
        put_domain(&a, end, out);
}

/* strip_brackets - the address without one pair of surrounding <> */
static const char *strip_brackets(const char *addr, struct strbuf *tmp)
{
    size_t len = strlen(addr);

    if (len < 2 || addr[0] != '<' || addr[len - 1] != '>')
        return addr;
    strbuf_putn(tmp, addr + 1, len - 2);
    return strbuf_str(tmp);
}

/* emit_address - an address field; the null sender is "<>" in every mode */
static void emit_address(struct emitter *e, const struct record_opts *opts, const char *key, const char *raw,
                         const struct address *parsed)
{
    struct strbuf tmp, val;

    if (raw == NULL) {
        emit_str(e, key, NULL);
        return;
    }
    if (parsed->kind == ADDR_NULL) {
        emit_str(e, key, "<>");
        return;
    }
    strbuf_init(&tmp);
    strbuf_init(&val);
    /* Only "full" shows the text as sent; the other modes parse the raw
       value, which may carry parameters after its brackets. */
    if (opts->addresses == LOG_ADDR_FULL)
        raw = strip_brackets(raw, &tmp);
    record_address(opts, raw, &val);
    if (strbuf_failed(&tmp) || strbuf_failed(&val))
        e->out->failed = true;
    emit_nonempty(e, key, strbuf_str(&val));
    strbuf_free(&tmp);
    strbuf_free(&val);
}

/* emit_domain - the normalised domain of an address, if it has one */
static void emit_domain(struct emitter *e, const char *key, const char *domain, const struct address *a)
{
    if (domain == NULL && a->kind == ADDR_DOMAIN)
        domain = a->domain;
    emit_nonempty(e, key, domain);
}

/* emit_client - the connect and HELO facts, as the MTA sent them */
static void emit_client(struct emitter *e, const struct session_facts *sf)
{
    emit_str(e, "client_addr", sf->client_addr);
    emit_str(e, "client_name", sf->client_name);
    emit_str(e, "helo", sf->helo);
}

/* emit_tls - protocol version, cipher and its strength */
static void emit_tls(struct emitter *e, const struct session_facts *sf)
{
    const char *version;

    if (sf->tls_version == TLS_V_NONE)
        version = "none";
    else if (sf->tls_version == TLS_V_UNKNOWN)
        version = sf->tls_version_raw; /* what we could not read is what the auditor needs */
    else
        version = tlsinfo_version_name(sf->tls_version);
    emit_str(e, "tls_version", version);
    emit_str(e, "cipher", sf->cipher);
    if (sf->cipher_bits < 0)
        emit_str(e, "cipher_bits", NULL);
    else
        emit_num(e, "cipher_bits", sf->cipher_bits);
}

/* emit_cert_name - a certificate name, xtext-decoded; "" is no certificate */
static int emit_cert_name(struct emitter *e, const char *key, const char *raw)
{
    char *decoded = NULL;

    if (raw != NULL && *raw != 0 && (decoded = xtext_decode(raw)) == NULL)
        return -1;
    emit_nonempty(e, key, decoded);
    free(decoded);
    return 0;
}

/* emit_policy - the deciding policy of a refusal, else every policy in force */
static void emit_policy(struct emitter *e, const struct decision *d)
{
    struct strbuf names;
    size_t i, n = d->ninforce < DECISION_INFORCE_MAX ? d->ninforce : DECISION_INFORCE_MAX;

    /* A refusal names the policy that refused; a downgrade has none of
       its own and, like an acceptance, lists the policies in force. */
    if (d->would != DECISION_ACCEPT && d->policy) {
        emit_nonempty(e, "policy", d->policy->name);
        return;
    }
    strbuf_init(&names);
    for (i = 0; i < n; i++) {
        if (d->inforce[i] == NULL || d->inforce[i]->name == NULL)
            continue;
        if (names.len > 0)
            strbuf_putc(&names, ',');
        strbuf_puts(&names, d->inforce[i]->name);
    }
    if (strbuf_failed(&names))
        e->out->failed = true;
    emit_nonempty(e, "policy", strbuf_str(&names));
    strbuf_free(&names);
}

/* emit_verdict - action, would, reason, policy, level, mode */
static void emit_verdict(struct emitter *e, const struct decision *d)
{
    bool exempt = d->reason == REASON_EXEMPT;

    emit_str(e, "action", decision_action_name(d->action));
    emit_str(e, "would", d->mode == POLICY_MODE_MONITOR ? decision_action_name(d->would) : NULL);
    emit_str(e, "reason", decision_reason_name(d->reason));
    emit_policy(e, d);
    emit_str(e, "level", exempt ? NULL : policy_level_name(d->level));
    emit_str(e, "mode", policy_mode_name(d->mode));
}

/* logged_reply - the reply, with the recipient as log.addresses shows it */
static void logged_reply(const struct record_opts *opts, const struct decision *d, const struct rcpt_facts *rf,
                         struct strbuf *out)
{
    int at = d->text_rcpt_at, len = d->text_rcpt_len;

    if (d->rcode[0] == 0)
        return;
    strbuf_printf(out, "%s %s ", d->rcode, d->xcode);
    /* The reply names the recipient; a log that hides addresses must not
       show it there either. */
    if (opts->addresses == LOG_ADDR_FULL || at < 0 || len <= 0 || rf->rcpt == NULL
        || (size_t) (at + len) > strlen(d->text)) {
        strbuf_puts(out, d->text);
        return;
    }
    strbuf_putn(out, d->text, (size_t) at);
    record_address(opts, rf->rcpt, out);
    strbuf_puts(out, d->text + at + len);
}

/* emit_outcome - fallback seam and the reply the MTA was given */
static void emit_outcome(struct emitter *e, const struct record_opts *opts, const struct decision *d,
                         const struct rcpt_facts *rf)
{
    struct strbuf reply;

    emit_nonempty(e, "fallback_key", d->fallback_key);
    if (d->deferrals < 0)
        emit_str(e, "deferrals", NULL);
    else
        emit_num(e, "deferrals", d->deferrals);
    strbuf_init(&reply);
    logged_reply(opts, d, rf, &reply);
    if (strbuf_failed(&reply))
        e->out->failed = true;
    emit_nonempty(e, "reply", strbuf_str(&reply));
    strbuf_free(&reply);
}

/* record_opts_from_config - the log settings the record writer needs */
struct record_opts record_opts_from_config(const struct config *cfg)
{
    return (struct record_opts){cfg->log.format, cfg->log.addresses, cfg->log.hash_key, cfg->log.hash_key_len};
}

/* record_format_decision - one event=decision record */
int record_format_decision(const struct record_opts *opts, const struct decision_record *r,
                           struct strbuf *out)
{
    const struct decision *d = r->decision;
    struct session_facts no_session;
    struct rcpt_facts no_rcpt;
    const struct session_facts *sf = r->session;
    const struct rcpt_facts *rf = r->rcpt;
    struct emitter e;

    /* Missing facts log as absent fields rather than crash the writer. */
    session_facts_init(&no_session);
    rcpt_facts_init(&no_rcpt);
    if (sf == NULL)
        sf = &no_session;
    if (rf == NULL)
        rf = &no_rcpt;
    emit_begin(&e, opts, out);
    emit_str(&e, "event", "decision");
    emit_seq(&e, r->seq);
    emit_str(&e, "instance", r->instance);
    emit_str(&e, "config", r->config);
    emit_str(&e, "qid", r->qid);
    emit_verdict(&e, d);
    emit_address(&e, opts, "rcpt", rf->rcpt, &rf->addr);
    emit_domain(&e, "rcpt_domain", d->rcpt_domain, &rf->addr);
    emit_address(&e, opts, "sender", sf->sender, &sf->sender_addr);
    emit_domain(&e, "sender_domain", facts_sender_domain(sf), &sf->sender_addr);
    emit_client(&e, sf);
    emit_tls(&e, sf);
    emit_str(&e, "cert_verified", IS_TLS(sf) ? (d->cert_verified ? "yes" : "no") : NULL);
    if (emit_cert_name(&e, "cert_subject", sf->cert_subject) != 0 ||
        emit_cert_name(&e, "cert_issuer", sf->cert_issuer) != 0)
        return -1;
    emit_outcome(&e, opts, d, rf);
    return emit_end(&e);
}

/* record_format_session - one event=session record, at close */
int record_format_session(const struct record_opts *opts, const struct session_record *r, struct strbuf *out)
{
    struct session_facts no_session;
    const struct session_facts *sf = r->session;
    struct emitter e;

    session_facts_init(&no_session);
    if (sf == NULL)
        sf = &no_session;
    emit_begin(&e, opts, out);
    emit_str(&e, "event", "session");
    emit_seq(&e, r->seq);
    emit_str(&e, "instance", r->instance);
    emit_client(&e, sf);
    emit_tls(&e, sf);
    emit_num(&e, "messages", r->messages);
    emit_num(&e, "rcpt_accepted", r->rcpt_accepted);
    emit_num(&e, "rcpt_rejected", r->rcpt_rejected);
    emit_num(&e, "rcpt_tempfailed", r->rcpt_tempfailed);
    emit_str(&e, "suspected_tls_failure", r->suspected_tls_failure ? "yes" : "no");
    emit_num(&e, "duration_ms", r->duration_ms);
    return emit_end(&e);
}
