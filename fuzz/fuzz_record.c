/*++
 * NAME
 *	fuzz_record 1
 * SUMMARY
 *	libFuzzer harness: the record writer against the record reader
 * SYNOPSIS
 *	fuzz_record [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a control string and up to 16 values, separated by NUL
 *	bytes. The control bytes choose kv or json, a decision or a session
 *	record, the verdict and the numbers; the values go into every field
 *	the writer copies from the facts (instance, config, queue id, policy
 *	name, client address and name, HELO, TLS version, cipher, certificate
 *	names, sender, recipient, recipient domain, reply text, fallback key).
 *	The facts are set through core/facts.c's setters, as the session
 *	service sets them.
 *
 *	Property, as tests/unit/test_record_read.c states it: reading the
 *	written record with recparse_record() gives back every field of the
 *	event byte for byte, and no field of the other event. The expected
 *	text of each field is the value the writer was given (record.c's
 *	struct values: an address without one pair of <>, a certificate name
 *	xtext-decoded, "" as absent where the writer says so); json gives
 *	back U+FFFD for each byte that is not part of valid UTF-8 (RFC 3629),
 *	computed here independently of record.c.
 *
 *	Every value is cut to VALUE_MAX (200) bytes before it is written.
 *	The writer caps each value at RECORD_VALUE_MAX bytes as written
 *	(RECORD_REPLY_MAX for reply), so a value of bytes that are escaped
 *	can still be cut: then what is read back is a shorter prefix of
 *	what was wanted followed by RECORD_CUT_MARK, and nothing else.
 *--*/

/* System library. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "record/fields.h"
#include "record/recparse.h"
#include "record/record.h"
#include "tls/tlsinfo.h"

#define VALUE_MAX 200
#define NVALUES   16

/* The values, by use. */
enum {
    V_INSTANCE,
    V_CONFIG,
    V_QID,
    V_POLICY,
    V_CLIENT_ADDR,
    V_CLIENT_NAME,
    V_HELO,
    V_TLS_VERSION,
    V_CIPHER,
    V_SUBJECT,
    V_ISSUER,
    V_SENDER,
    V_RCPT,
    V_RCPT_DOMAIN,
    V_TEXT,
    V_FALLBACK_KEY
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input taken apart. */
struct input {
    unsigned char ctl[8];
    char v[NVALUES][VALUE_MAX + 1];
};

/* split - control bytes, then the values; missing ones are "" */
static void split(const uint8_t *data, size_t size, struct input *in)
{
    const uint8_t *p = data, *end = data + size, *z;
    size_t n, i;

    memset(in, 0, sizeof(*in));
    for (i = 0; i <= NVALUES && p < end; i++) {
        z = memchr(p, 0, (size_t) (end - p));
        n = (size_t) ((z ? z : end) - p);
        if (i == 0)
            memcpy(in->ctl, p, n < sizeof(in->ctl) ? n : sizeof(in->ctl));
        else
            memcpy(in->v[i - 1], p, n < VALUE_MAX ? n : VALUE_MAX);
        p += n + 1;
    }
}

/* utf8_len - length of the valid UTF-8 sequence at p (RFC 3629: no overlong
   form, no surrogate, nothing above U+10FFFF), or 0 */
static size_t utf8_len(const unsigned char *p)
{
    unsigned long cp;
    size_t n, i;

    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, cp = p[0] & 0x1f;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, cp = p[0] & 0x0f;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* json_view - what json gives back for s: each bad byte as U+FFFD; into out */
static const char *json_view(const char *s, struct strbuf *out)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t n;

    if (s == NULL)
        return NULL;
    for (; *p; p += n) {
        if ((n = utf8_len(p)) == 0) {
            strbuf_puts(out, "\xef\xbf\xbd");
            n = 1;
        } else {
            strbuf_putn(out, (const char *) p, n);
        }
    }
    return strbuf_str(out);
}

/* nonempty - a value the writer logs as absent when empty */
static const char *nonempty(const char *s)
{
    return s != NULL && *s != 0 ? s : NULL;
}

/* The facts of one record and what each field must read back as. */
struct fixture {
    struct session_facts sf;
    struct rcpt_facts rf;
    struct policy pol;
    struct decision d;
    const char *want[REC_NFIELDS];
    char num[REC_NFIELDS][24];
    struct strbuf sb[REC_NFIELDS]; /* composed expectations */
    char *subject, *issuer;
};

/* set_num - a number field's text; negative is absent where allowed */
static void set_num(struct fixture *x, enum rec_field f, long long v, bool negative_absent)
{
    if (negative_absent && v < 0)
        return;
    snprintf(x->num[f], sizeof(x->num[f]), "%lld", v);
    x->want[f] = x->num[f];
}

/* address_want - an address as "full" logs it: "<>" for the null sender, else without one pair of <> */
static const char *address_want(struct strbuf *sb, const char *raw, const struct address *a)
{
    size_t len;

    if (raw == NULL)
        return NULL;
    if (a->kind == ADDR_NULL)
        return "<>";
    len = strlen(raw);
    if (len >= 2 && raw[0] == '<' && raw[len - 1] == '>')
        strbuf_putn(sb, raw + 1, len - 2);
    else
        strbuf_puts(sb, raw);
    return nonempty(strbuf_str(sb));
}

/* session_want - client and TLS fields, both events */
static void session_want(struct fixture *x)
{
    const struct session_facts *sf = &x->sf;

    x->want[REC_CLIENT_ADDR] = sf->client_addr;
    x->want[REC_CLIENT_NAME] = sf->client_name;
    x->want[REC_HELO] = sf->helo;
    if (sf->tls_version == TLS_V_NONE)
        x->want[REC_TLS_VERSION] = "none";
    else if (sf->tls_version == TLS_V_UNKNOWN)
        x->want[REC_TLS_VERSION] = sf->tls_version_raw;
    else
        x->want[REC_TLS_VERSION] = tlsinfo_version_name(sf->tls_version);
    x->want[REC_CIPHER] = sf->cipher;
    set_num(x, REC_CIPHER_BITS, sf->cipher_bits, true);
}

/* set_facts - the values into the facts, through the setters */
static int set_facts(struct fixture *x, const struct input *in)
{
    session_facts_init(&x->sf);
    rcpt_facts_init(&x->rf);
    /* Not an address is no error for the record: the text is kept. */
    (void) facts_set_client_addr(&x->sf, in->v[V_CLIENT_ADDR]);
    if (facts_set_mta(&x->sf, in->ctl[0] & 1 ? "Postfix 3.7.11" : "8.17.1") != 0 ||
        facts_set_client_name(&x->sf, in->v[V_CLIENT_NAME]) != 0 ||
        facts_set_helo(&x->sf, in->ctl[0] & 2 ? in->v[V_HELO] : NULL) != 0 ||
        facts_set_tls_version(&x->sf, in->v[V_TLS_VERSION]) != 0 ||
        facts_set_cipher(&x->sf, in->ctl[0] & 4 ? in->v[V_CIPHER] : NULL) != 0 ||
        facts_set_cipher_bits(&x->sf, in->ctl[0] & 8 ? "256" : NULL) != 0 ||
        facts_set_cert_subject(&x->sf, in->v[V_SUBJECT]) != 0 ||
        facts_set_cert_issuer(&x->sf, in->v[V_ISSUER]) != 0 ||
        facts_set_sender(&x->sf, in->ctl[0] & 16 ? in->v[V_SENDER] : NULL) != 0 ||
        facts_set_rcpt(&x->rf, in->v[V_RCPT]) != 0)
        return -1;
    return 0;
}

/* decision_want - the verdict from the control bytes, and every field's text */
static int decision_want(struct fixture *x, const struct input *in, struct decision_record *r)
{
    struct decision *d = &x->d;
    const char *domain;

    policy_init(&x->pol);
    x->pol.name = (char *) in->v[V_POLICY];
    d->action = (enum decision_action)(in->ctl[1] % 3);
    d->would = (enum decision_action)(in->ctl[2] % 3);
    d->reason = (enum reason)(in->ctl[3] % (REASON_STATE_ERROR + 1));
    d->mode = in->ctl[4] & 1 ? POLICY_MODE_MONITOR : POLICY_MODE_ENFORCE;
    d->level = (enum tls_level)((in->ctl[4] >> 1) % 4);
    d->cert_verified = in->ctl[4] & 8;
    d->policy = d->inforce[0] = &x->pol;
    d->ninforce = 1;
    d->rcpt_domain = in->v[V_RCPT_DOMAIN];
    if (in->ctl[5] & 1) {
        strcpy(d->rcode, "550");
        strcpy(d->xcode, "5.7.1");
    }
    snprintf(d->text, sizeof(d->text), "%s", in->v[V_TEXT]);
    d->text_rcpt_at = -1;
    snprintf(d->fallback_key, sizeof(d->fallback_key), "%s", in->v[V_FALLBACK_KEY]);
    d->deferrals = (signed char) in->ctl[6];
    *r = (struct decision_record){
        0, in->v[V_INSTANCE], in->v[V_CONFIG], in->ctl[5] & 2 ? NULL : in->v[V_QID], d, &x->sf, &x->rf};
    memcpy(&r->seq, in->ctl, 8);
    r->seq |= 1; /* seq 0 is refused by the reader */

    x->want[REC_EVENT] = "decision";
    /* seq is unsigned 64-bit: set_num()'s long long would not hold it. */
    snprintf(x->num[REC_SEQ], sizeof(x->num[REC_SEQ]), "%llu", r->seq);
    x->want[REC_SEQ] = x->num[REC_SEQ];
    x->want[REC_INSTANCE] = r->instance;
    x->want[REC_CONFIG] = r->config;
    x->want[REC_QID] = r->qid;
    x->want[REC_ACTION] = decision_action_name(d->action);
    x->want[REC_WOULD] = d->mode == POLICY_MODE_MONITOR ? decision_action_name(d->would) : NULL;
    x->want[REC_REASON] = decision_reason_name(d->reason);
    x->want[REC_POLICY] = nonempty(x->pol.name);
    x->want[REC_LEVEL] = d->reason == REASON_EXEMPT ? NULL : policy_level_name(d->level);
    x->want[REC_MODE] = policy_mode_name(d->mode);
    x->want[REC_RCPT] = address_want(&x->sb[REC_RCPT], x->rf.rcpt, &x->rf.addr);
    x->want[REC_RCPT_DOMAIN] = nonempty(d->rcpt_domain);
    x->want[REC_SENDER] = address_want(&x->sb[REC_SENDER], x->sf.sender, &x->sf.sender_addr);
    domain = facts_sender_domain(&x->sf);
    if (domain == NULL && x->sf.sender_addr.kind == ADDR_DOMAIN)
        domain = x->sf.sender_addr.domain;
    x->want[REC_SENDER_DOMAIN] = nonempty(domain);
    session_want(x);
    if (x->sf.tls_version != TLS_V_NONE)
        x->want[REC_CERT_VERIFIED] = d->cert_verified ? "yes" : "no";
    if ((*in->v[V_SUBJECT] && (x->subject = xtext_decode(in->v[V_SUBJECT])) == NULL) ||
        (*in->v[V_ISSUER] && (x->issuer = xtext_decode(in->v[V_ISSUER])) == NULL))
        return -1;
    x->want[REC_CERT_SUBJECT] = nonempty(x->subject);
    x->want[REC_CERT_ISSUER] = nonempty(x->issuer);
    x->want[REC_FALLBACK_KEY] = nonempty(d->fallback_key);
    set_num(x, REC_DEFERRALS, d->deferrals, true);
    if (d->rcode[0]) {
        strbuf_printf(&x->sb[REC_REPLY], "%s %s %s", d->rcode, d->xcode, d->text);
        x->want[REC_REPLY] = strbuf_str(&x->sb[REC_REPLY]);
    }
    return 0;
}

/* session_record_want - the numbers from the control bytes, and every field's text */
static void session_record_want(struct fixture *x, const struct input *in, struct session_record *r)
{
    *r = (struct session_record){1,
                                 in->v[V_INSTANCE],
                                 &x->sf,
                                 in->ctl[1] * 16777216u,
                                 in->ctl[2],
                                 in->ctl[3],
                                 in->ctl[4],
                                 in->ctl[5] & 1,
                                 (long) (signed char) in->ctl[6] * 1000003L};
    x->want[REC_EVENT] = "session";
    set_num(x, REC_SEQ, 1, false);
    x->want[REC_INSTANCE] = r->instance;
    session_want(x);
    set_num(x, REC_MESSAGES, r->messages, false);
    set_num(x, REC_RCPT_ACCEPTED, r->rcpt_accepted, false);
    set_num(x, REC_RCPT_REJECTED, r->rcpt_rejected, false);
    set_num(x, REC_RCPT_TEMPFAILED, r->rcpt_tempfailed, false);
    x->want[REC_SUSPECTED] = r->suspected_tls_failure ? "yes" : "no";
    set_num(x, REC_DURATION_MS, r->duration_ms, false);
}

/* same - got is want, or a shorter prefix of it with the writer's cut mark */
static bool same(const char *got, const char *want)
{
    size_t n = strlen(got), mark = strlen(RECORD_CUT_MARK);

    if (strcmp(got, want) == 0)
        return true;
    return n >= mark && strcmp(got + n - mark, RECORD_CUT_MARK) == 0 && n - mark < strlen(want) &&
           strncmp(got, want, n - mark) == 0;
}

/* check - read the record back; every field as wanted (json's view where json) */
static void check(struct fixture *x, const struct strbuf *text, enum rec_event event, bool json)
{
    struct strbuf view;
    const char *why = NULL, *want;
    char *copy = strdup(strbuf_str(text));
    struct rec r;
    int f;

    if (copy == NULL)
        return;
    if (recparse_record(copy, &r, &why) != 0) {
        fprintf(stderr, "not read back: %s\n%s\n", why, strbuf_str(text));
        abort();
    }
    if (r.event != event)
        abort();
    for (f = 0; f < REC_NFIELDS; f++) {
        strbuf_init(&view);
        want = !rec_field_in((enum rec_field) f, event) ? NULL
               : json                                   ? json_view(x->want[f], &view)
                                                        : x->want[f];
        if ((r.f[f] == NULL) != (want == NULL) || (want != NULL && !same(r.f[f], want))) {
            fprintf(stderr, "field %s: got \"%s\", want \"%s\"\n%s\n", rec_fields[f].name,
                    r.f[f] ? r.f[f] : "(absent)", want ? want : "(absent)", strbuf_str(text));
            abort();
        }
        strbuf_free(&view);
    }
    recparse_clear(&r);
    free(copy);
}

/* LLVMFuzzerTestOneInput - write one record, read it back */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct input in;
    static struct fixture x;
    struct record_opts opts = {LOG_FORMAT_KV, LOG_ADDR_FULL, NULL, 0};
    struct decision_record dr;
    struct session_record sr;
    struct strbuf out;
    bool session;
    int f, rc = -1;

    split(data, size, &in);
    memset(&x, 0, sizeof(x));
    for (f = 0; f < REC_NFIELDS; f++)
        strbuf_init(&x.sb[f]);
    strbuf_init(&out);
    opts.format = in.ctl[7] & 1 ? LOG_FORMAT_JSON : LOG_FORMAT_KV;
    session = in.ctl[7] & 2;
    if (set_facts(&x, &in) == 0) {
        if (session) {
            session_record_want(&x, &in, &sr);
            rc = record_format_session(&opts, &sr, &out);
        } else if (decision_want(&x, &in, &dr) == 0) {
            rc = record_format_decision(&opts, &dr, &out);
        }
        if (rc == 0)
            check(&x, &out, session ? REC_SESSION : REC_DECISION, opts.format == LOG_FORMAT_JSON);
    }
    strbuf_free(&out);
    for (f = 0; f < REC_NFIELDS; f++)
        strbuf_free(&x.sb[f]);
    free(x.subject);
    free(x.issuer);
    session_facts_clear(&x.sf);
    rcpt_facts_clear(&x.rf);
    return 0;
}
