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
 *	void	record_kv_value(out, value)
 * DESCRIPTION
 *	The one record writer. A record is made in two steps: the facts
 *	and the decision become one value per field (struct values,
 *	indexed by enum rec_field), then one emitter walks the field table
 *	of fields.h and writes the fields the event has, in the table's
 *	order. Names and order therefore come from the table the reader
 *	uses too, and kv and json cannot drift apart; a NULL value is the
 *	absent marker ("-" in kv, null in json).
 *
 *	kv: a value that is not a plain token is quoted, and inside the quotes
 *	every byte outside printable ASCII is escaped, so a record is one line
 *	of pure ASCII whatever a client or a certificate put into a value.
 *	json: strings per RFC 8259; valid UTF-8 passes through, every byte
 *	that is not part of valid UTF-8 becomes U+FFFD, so the object is
 *	always valid JSON. Fields of kind REC_NUM are JSON numbers.
 *
 *	Addresses are logged under "log.addresses" by record_address()
 *	(recaddr.c).
 * DIAGNOSTICS
 *	The formatters return -1 when memory runs out.
 *--*/

/* System library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "record/fields.h"
#include "record/record.h"

/* Escapes with a letter: kv has \" \\ \n \t \r (SPEC.md), json adds \b \f. */
#define KV_ESCAPES   5
#define JSON_ESCAPES 7

/* Only an encrypted session has a certificate verdict to log. */
#define IS_TLS(sf) ((sf)->tls_version != TLS_V_NONE)

/* Room for the text of a 64-bit number and its sign. */
#define NUM_TEXT 24

/*
 * The values of one record, by field; NULL is absent. The strings that
 * the writer composes (addresses as logged, the policy list, the reply,
 * the decoded certificate names) live here until the record is written.
 */
struct values {
    const char *v[REC_NFIELDS];
    char num[REC_NFIELDS][NUM_TEXT];
    struct strbuf rcpt, sender, policy, reply;
    char *subject, *issuer;
    bool failed; /* memory ran out */
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

/*
 * A value is written with a cap on its length, quotes and escapes
 * included: a sender controls the HELO, the addresses and (through its
 * certificate) the subject and issuer, and a record that a syslog
 * daemon cuts at its message size loses its last fields. The value is
 * escaped one unit at a time (a byte, an escape, a UTF-8 sequence), so
 * a cut never splits an escape or a character; keep is where the value
 * can end with room for the cut mark and the closing quote.
 */
struct cap {
    size_t start; /* out->len before the value */
    size_t room;  /* what the value may use before the mark and the quote */
    size_t max;   /* the cap; SIZE_MAX: none */
    size_t keep;  /* out->len at the last unit within room */
    size_t quote; /* 1: a closing quote follows */
};

/* cap_begin - a value of at most max bytes starts at out->len */
static void cap_begin(struct cap *c, const struct strbuf *out, size_t max, size_t quote)
{
    c->start = c->keep = out->len;
    c->max = max;
    c->quote = quote;
    c->room = max > sizeof(RECORD_CUT_MARK) + quote ? max - (sizeof(RECORD_CUT_MARK) - 1) - quote : 0;
}

/* cap_ok - after a unit: true while the value, closed, stays within the cap */
static inline bool cap_ok(struct cap *c, const struct strbuf *out)
{
    size_t used = out->len - c->start;

    if (used <= c->room)
        c->keep = out->len;
    return used + c->quote <= c->max;
}

/* cap_cut - back to the last unit that fits, and the visible mark */
static void cap_cut(struct cap *c, struct strbuf *out)
{
    if (!strbuf_failed(out)) {
        out->len = c->keep;
        out->s[out->len] = 0;
    }
    strbuf_puts(out, RECORD_CUT_MARK);
}

/* json_string - a JSON string literal of at most max bytes */
static void json_string(struct strbuf *out, const char *value, size_t max)
{
    const unsigned char *p;
    struct cap c;
    size_t n;
    char esc;

    strbuf_putc(out, '"');
    cap_begin(&c, out, max - 1, 1);
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
        if (!cap_ok(&c, out)) {
            cap_cut(&c, out);
            break;
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

/* kv_value - a kv value of at most max bytes: a plain token, or quoted and escaped */
static void kv_value(struct strbuf *out, const char *value, size_t max)
{
    const unsigned char *p = (const unsigned char *) value;
    struct cap c;
    char esc;
    size_t len;

    if (kv_plain(value)) {
        /* A plain token cut and marked is still a plain token. */
        if ((len = strlen(value)) <= max) {
            strbuf_putn(out, value, len);
        } else {
            strbuf_putn(out, value, max - (sizeof(RECORD_CUT_MARK) - 1));
            strbuf_puts(out, RECORD_CUT_MARK);
        }
        return;
    }
    strbuf_putc(out, '"');
    cap_begin(&c, out, max - 1, 1);
    for (; *p; p++) {
        if ((esc = short_escape(*p, KV_ESCAPES)) != 0) {
            strbuf_putc(out, '\\');
            strbuf_putc(out, esc);
        } else if (*p < 0x20 || *p > 0x7e) {
            strbuf_printf(out, "\\x%02x", *p);
        } else {
            strbuf_putc(out, (char) *p);
        }
        if (!cap_ok(&c, out)) {
            cap_cut(&c, out);
            break;
        }
    }
    strbuf_putc(out, '"');
}

/* record_kv_value - a kv value, whole: a plain token, or quoted and escaped */
void record_kv_value(struct strbuf *out, const char *value)
{
    kv_value(out, value, SIZE_MAX);
}

/* values_init - every field absent */
static void values_init(struct values *vs)
{
    memset(vs->v, 0, sizeof(vs->v));
    strbuf_init(&vs->rcpt);
    strbuf_init(&vs->sender);
    strbuf_init(&vs->policy);
    strbuf_init(&vs->reply);
    vs->subject = vs->issuer = NULL;
    vs->failed = false;
}

/* values_free - what the composed values hold */
static void values_free(struct values *vs)
{
    strbuf_free(&vs->rcpt);
    strbuf_free(&vs->sender);
    strbuf_free(&vs->policy);
    strbuf_free(&vs->reply);
    free(vs->subject);
    free(vs->issuer);
}

/* put_nonempty - a string value where "" is absent too */
static void put_nonempty(struct values *vs, enum rec_field f, const char *value)
{
    vs->v[f] = value != NULL && *value != 0 ? value : NULL;
}

/* put_composed - a value built in sb; "" is absent */
static void put_composed(struct values *vs, enum rec_field f, const struct strbuf *sb)
{
    if (strbuf_failed(sb))
        vs->failed = true;
    put_nonempty(vs, f, strbuf_str(sb));
}

/* put_num - a number value; negative is absent where absent is allowed */
static void put_num(struct values *vs, enum rec_field f, long long value, bool negative_absent)
{
    if (negative_absent && value < 0)
        return;
    snprintf(vs->num[f], NUM_TEXT, "%lld", value);
    vs->v[f] = vs->num[f];
}

/* field_cap - the most a string value may take in a record, written */
static size_t field_cap(enum rec_field f)
{
    /* The reply is our text around the recipient: room for both. */
    return f == REC_REPLY ? RECORD_REPLY_MAX : RECORD_VALUE_MAX;
}

/* emit_field - separator, key and value of one field */
static void emit_field(struct strbuf *out, enum log_format format, enum rec_field f, const char *value,
                       bool first)
{
    bool json = format == LOG_FORMAT_JSON;

    if (!first)
        strbuf_putc(out, json ? ',' : ' ');
    if (json) {
        strbuf_putc(out, '"');
        strbuf_putn(out, rec_fields[f].name, rec_fields[f].len);
        strbuf_puts(out, "\":");
    } else {
        strbuf_putn(out, rec_fields[f].name, rec_fields[f].len);
        strbuf_putc(out, '=');
    }
    if (value == NULL)
        strbuf_puts(out, json ? "null" : "-");
    else if (json && rec_fields[f].kind == REC_NUM)
        strbuf_puts(out, value); /* put_num's digits */
    else if (json)
        json_string(out, value, field_cap(f));
    else
        kv_value(out, value, field_cap(f));
}

/* emit - the event's fields in table order; 0, or -1 when memory ran out */
static int emit(const struct record_opts *opts, enum rec_event event, struct values *vs, struct strbuf *out)
{
    bool first = true;
    int f;

    if (opts->format == LOG_FORMAT_JSON)
        strbuf_putc(out, '{');
    for (f = 0; f < REC_NFIELDS; f++) {
        if (!rec_field_in((enum rec_field) f, event))
            continue;
        emit_field(out, opts->format, (enum rec_field) f, vs->v[f], first);
        first = false;
    }
    if (opts->format == LOG_FORMAT_JSON)
        strbuf_putc(out, '}');
    if (vs->failed)
        out->failed = true;
    values_free(vs);
    return strbuf_failed(out) ? -1 : 0;
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

/* put_address - an address field; the null sender is "<>" in every mode */
static void put_address(struct values *vs, const struct record_opts *opts, enum rec_field f,
                        struct strbuf *val, const char *raw, const struct address *parsed)
{
    struct strbuf tmp;

    if (raw == NULL)
        return;
    if (parsed->kind == ADDR_NULL) {
        vs->v[f] = "<>";
        return;
    }
    strbuf_init(&tmp);
    /* Only "full" shows the text as sent; the other modes parse the raw
       value, which may carry parameters after its brackets. */
    if (opts->addresses == LOG_ADDR_FULL)
        raw = strip_brackets(raw, &tmp);
    record_address(opts, raw, val);
    if (strbuf_failed(&tmp))
        vs->failed = true;
    put_composed(vs, f, val);
    strbuf_free(&tmp);
}

/* put_domain_of - the normalised domain of an address, if it has one */
static void put_domain_of(struct values *vs, enum rec_field f, const char *domain, const struct address *a)
{
    if (domain == NULL && a->kind == ADDR_DOMAIN)
        domain = a->domain;
    put_nonempty(vs, f, domain);
}

/* put_client - the connect and HELO facts, as the MTA sent them */
static void put_client(struct values *vs, const struct session_facts *sf)
{
    vs->v[REC_CLIENT_ADDR] = sf->client_addr;
    vs->v[REC_CLIENT_NAME] = sf->client_name;
    vs->v[REC_HELO] = sf->helo;
}

/* put_tls - protocol version, cipher and its strength */
static void put_tls(struct values *vs, const struct session_facts *sf)
{
    if (sf->tls_version == TLS_V_NONE)
        vs->v[REC_TLS_VERSION] = "none";
    else if (sf->tls_version == TLS_V_UNKNOWN)
        vs->v[REC_TLS_VERSION] = sf->tls_version_raw; /* what we could not read is what the auditor needs */
    else
        vs->v[REC_TLS_VERSION] = tlsinfo_version_name(sf->tls_version);
    vs->v[REC_CIPHER] = sf->cipher;
    put_num(vs, REC_CIPHER_BITS, sf->cipher_bits, true);
}

/* put_cert_name - a certificate name, xtext-decoded; "" is no certificate */
static int put_cert_name(struct values *vs, enum rec_field f, char **decoded, const char *raw)
{
    if (raw != NULL && *raw != 0 && (*decoded = xtext_decode(raw)) == NULL)
        return -1;
    put_nonempty(vs, f, *decoded);
    return 0;
}

/* put_policy - the deciding policy of a refusal, else every policy in force */
static void put_policy(struct values *vs, const struct decision *d)
{
    size_t i, n = d->ninforce < DECISION_INFORCE_MAX ? d->ninforce : DECISION_INFORCE_MAX;

    /* A refusal names the policy that refused; a downgrade has none of
       its own and, like an acceptance, lists the policies in force. */
    if (d->would != DECISION_ACCEPT && d->policy) {
        put_nonempty(vs, REC_POLICY, d->policy->name);
        return;
    }
    for (i = 0; i < n; i++) {
        if (d->inforce[i] == NULL || d->inforce[i]->name == NULL)
            continue;
        if (vs->policy.len > 0)
            strbuf_putc(&vs->policy, ',');
        strbuf_puts(&vs->policy, d->inforce[i]->name);
    }
    put_composed(vs, REC_POLICY, &vs->policy);
}

/* put_verdict - action, would, reason, policy, level, mode */
static void put_verdict(struct values *vs, const struct decision *d)
{
    bool exempt = d->reason == REASON_EXEMPT;

    vs->v[REC_ACTION] = decision_action_name(d->action);
    vs->v[REC_WOULD] = d->mode == POLICY_MODE_MONITOR ? decision_action_name(d->would) : NULL;
    vs->v[REC_REASON] = decision_reason_name(d->reason);
    put_policy(vs, d);
    vs->v[REC_LEVEL] = exempt ? NULL : policy_level_name(d->level);
    vs->v[REC_MODE] = policy_mode_name(d->mode);
}

/* logged_reply - the reply, with the recipient as log.addresses shows it */
static void logged_reply(const struct record_opts *opts, const struct decision *d,
                         const struct rcpt_facts *rf, struct strbuf *out)
{
    int at = d->text_rcpt_at, len = d->text_rcpt_len;

    if (d->rcode[0] == 0)
        return;
    strbuf_printf(out, "%s %s ", d->rcode, d->xcode);
    /* The reply names the recipient; a log that hides addresses must not
       show it there either. */
    if (opts->addresses == LOG_ADDR_FULL || at < 0 || len <= 0 || rf->rcpt == NULL ||
        (size_t) (at + len) > strlen(d->text)) {
        strbuf_puts(out, d->text);
        return;
    }
    strbuf_putn(out, d->text, (size_t) at);
    record_address(opts, rf->rcpt, out);
    strbuf_puts(out, d->text + at + len);
}

/* put_outcome - fallback seam and the reply the MTA was given */
static void put_outcome(struct values *vs, const struct record_opts *opts, const struct decision *d,
                        const struct rcpt_facts *rf)
{
    put_nonempty(vs, REC_FALLBACK_KEY, d->fallback_key);
    put_num(vs, REC_DEFERRALS, d->deferrals, true);
    logged_reply(opts, d, rf, &vs->reply);
    put_composed(vs, REC_REPLY, &vs->reply);
}

/* record_opts_from_config - the log settings the record writer needs */
struct record_opts record_opts_from_config(const struct config *cfg)
{
    return (struct record_opts){cfg->log.format, cfg->log.addresses, cfg->log.hash_key,
                                cfg->log.hash_key_len};
}

/* put_head - event, seq and instance: what every record starts with */
static void put_head(struct values *vs, const char *event, unsigned long long seq, const char *instance)
{
    vs->v[REC_EVENT] = event;
    snprintf(vs->num[REC_SEQ], NUM_TEXT, "%llu", seq);
    vs->v[REC_SEQ] = vs->num[REC_SEQ];
    vs->v[REC_INSTANCE] = instance;
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
    struct values vs;

    /* Missing facts log as absent fields rather than crash the writer. */
    session_facts_init(&no_session);
    rcpt_facts_init(&no_rcpt);
    if (sf == NULL)
        sf = &no_session;
    if (rf == NULL)
        rf = &no_rcpt;
    values_init(&vs);
    put_head(&vs, "decision", r->seq, r->instance);
    vs.v[REC_CONFIG] = r->config;
    vs.v[REC_QID] = r->qid;
    put_verdict(&vs, d);
    put_address(&vs, opts, REC_RCPT, &vs.rcpt, rf->rcpt, &rf->addr);
    put_domain_of(&vs, REC_RCPT_DOMAIN, d->rcpt_domain, &rf->addr);
    put_address(&vs, opts, REC_SENDER, &vs.sender, sf->sender, &sf->sender_addr);
    put_domain_of(&vs, REC_SENDER_DOMAIN, facts_sender_domain(sf), &sf->sender_addr);
    put_client(&vs, sf);
    put_tls(&vs, sf);
    vs.v[REC_CERT_VERIFIED] = IS_TLS(sf) ? (d->cert_verified ? "yes" : "no") : NULL;
    if (put_cert_name(&vs, REC_CERT_SUBJECT, &vs.subject, sf->cert_subject) != 0 ||
        put_cert_name(&vs, REC_CERT_ISSUER, &vs.issuer, sf->cert_issuer) != 0) {
        values_free(&vs);
        return -1;
    }
    put_outcome(&vs, opts, d, rf);
    return emit(opts, REC_DECISION, &vs, out);
}

/* record_format_session - one event=session record, at close */
int record_format_session(const struct record_opts *opts, const struct session_record *r, struct strbuf *out)
{
    struct session_facts no_session;
    const struct session_facts *sf = r->session;
    struct values vs;

    session_facts_init(&no_session);
    if (sf == NULL)
        sf = &no_session;
    values_init(&vs);
    put_head(&vs, "session", r->seq, r->instance);
    put_client(&vs, sf);
    put_tls(&vs, sf);
    put_num(&vs, REC_MESSAGES, r->messages, false);
    put_num(&vs, REC_RCPT_ACCEPTED, r->rcpt_accepted, false);
    put_num(&vs, REC_RCPT_REJECTED, r->rcpt_rejected, false);
    put_num(&vs, REC_RCPT_TEMPFAILED, r->rcpt_tempfailed, false);
    vs.v[REC_SUSPECTED] = r->suspected_tls_failure ? "yes" : "no";
    put_num(&vs, REC_DURATION_MS, r->duration_ms, false);
    return emit(opts, REC_SESSION, &vs, out);
}
