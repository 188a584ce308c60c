/*++
 * NAME
 *	reply 3
 * SUMMARY
 *	SMTP reply codes and texts for a decision
 * SYNOPSIS
 *	#include "core/reply.h"
 *
 *	void	reply_set(decision, tmpl, session, rcpt)
 *	int	decision_format_reply(decision, buf, len)
 * DESCRIPTION
 *	The codes of SPEC.md (530/550/450 with 5.7.0, 5.7.1, 4.7.0, 4.7.1)
 *	and a text that names the recipient and its domain and, for weak
 *	TLS, what was negotiated and what is required. A policy's reply
 *	replaces the text, with %d expanded to the recipient domain; the
 *	caller (policy_decide()) passes that text in, so that this module
 *	needs the decision (decision.h) but not the policy model.
 *	Part of the pure core: no I/O, no allocation.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Application. */
#include "core/reply.h"

/*
  * Replies. Everything that reaches the SMTP client is printable ASCII:
  * macro values are hostile input and SMTP replies are 7-bit.
  */
#define SHOW_MAX 128

/* textf - bounded formatting; a reply cut at its limit is still a valid reply */
static void textf(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void textf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

/* show - printable-ASCII copy of a value for a reply, bounded */
static void show(char *out, size_t len, const char *in)
{
    size_t n = 0;

    if (in == NULL)
        in = "-";
    for (; *in && n + 1 < len && n < SHOW_MAX; in++, n++)
        out[n] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
    out[n] = 0;
}

/* show_rcpt - the recipient without its angle brackets, for a reply */
static void show_rcpt(char *out, size_t len, const char *rcpt)
{
    char tmp[SHOW_MAX + 1];
    size_t n;

    show(tmp, sizeof(tmp), rcpt);
    n = strlen(tmp);
    if (n >= 2 && tmp[0] == '<' && tmp[n - 1] == '>') {
        tmp[n - 1] = 0;
        textf(out, len, "%s", tmp + 1);
    } else {
        textf(out, len, "%s", tmp);
    }
}

/* expand_reply - a configured text with %d expanded; %% is a percent sign */
static void expand_reply(char *out, size_t len, const char *tmpl, const char *domain)
{
    size_t n = 0;

    for (; *tmpl && n + 1 < len; tmpl++) {
        if (tmpl[0] == '%' && tmpl[1] == 'd') {
            n += (size_t) snprintf(out + n, len - n, "%s", domain);
            if (n >= len)
                n = len - 1;
            tmpl++;
        } else if (tmpl[0] == '%' && tmpl[1] == '%') {
            out[n++] = '%';
            tmpl++;
        } else {
            out[n++] = *tmpl;
        }
    }
    out[n] = 0;
}

/* weak_detail - what was negotiated and what is required */
static void weak_detail(char *out, size_t len, const struct decision *d, const struct session_facts *s)
{
    char ver[SHOW_MAX + 1], cipher[SHOW_MAX + 1];
    enum tls_version floor = d->min_version;
    int bits = d->min_cipher_bits;

    show(ver, sizeof(ver), s->tls_version == TLS_V_UNKNOWN ? s->tls_version_raw
                                                          : tlsinfo_version_name(s->tls_version));
    show(cipher, sizeof(cipher), s->cipher);
    if (d->reason == REASON_TLS_VERSION)
        textf(out, len, "requires %s or newer, negotiated %s", tlsinfo_version_name(floor), ver);
    else if (d->reason == REASON_CIPHER)
        textf(out, len, "requires an allowed cipher, negotiated %s with %s", ver, cipher);
    else
        textf(out, len, "requires at least %d-bit ciphers, negotiated %s with %d bits", bits, cipher,
                 s->cipher_bits < 0 ? 0 : s->cipher_bits);
}

/* default_text - SPEC.md's reply text for a reason */
static void default_text(char *out, size_t len, const struct decision *d, const struct session_facts *s,
                         const char *rcpt, const char *domain)
{
    char detail[300];

    switch (d->reason) {
    case REASON_PLAINTEXT:
        textf(out, len, "Must issue a STARTTLS command first: mail for <%s> (domain %s) requires TLS", rcpt,
              domain);
        return;
    case REASON_TLS_VERSION:
    case REASON_CIPHER:
    case REASON_CIPHER_BITS:
        weak_detail(detail, sizeof(detail), d, s);
        textf(out, len, "TLS protocol or cipher too weak: mail for <%s> (domain %s) %s", rcpt, domain, detail);
        return;
    case REASON_CERT_UNVERIFIED:
        textf(out, len, "Verified client certificate required for mail to <%s> (domain %s)", rcpt, domain);
        return;
    case REASON_CERT_MISMATCH:
        textf(out, len, "Verified client certificate required for mail to <%s> (domain %s):"
              " certificate %s not accepted", rcpt, domain, d->pin_mismatch ? "fingerprint" : "name");
        return;
    case REASON_DOWNGRADE:
        textf(out, len, "TLS downgrade suspected: your servers used TLS before; retry with STARTTLS"
              " (mail for <%s>)", rcpt);
        return;
    case REASON_STATE_ERROR:
        textf(out, len, "Temporary policy state failure");
        return;
    case REASON_TLS_OK:
    case REASON_PLAINTEXT_ALLOWED:
    case REASON_DOWNGRADE_ACCEPTED:
    case REASON_EXEMPT:
        break;
    }
    out[0] = 0; /* accepting reasons have no reply */
}

/* reply_codes - SMTP and enhanced status codes of SPEC.md */
static void reply_codes(struct decision *d)
{
    bool reject = d->would == DECISION_REJECT;
    bool cert = d->reason == REASON_CERT_UNVERIFIED || d->reason == REASON_CERT_MISMATCH;

    if (d->reason == REASON_STATE_ERROR) {
        textf(d->rcode, sizeof(d->rcode), "451");
        textf(d->xcode, sizeof(d->xcode), "4.3.0");
        return;
    }
    if (d->reason == REASON_PLAINTEXT)
        textf(d->rcode, sizeof(d->rcode), "%s", reject ? "530" : "450");
    else
        textf(d->rcode, sizeof(d->rcode), "%s", reject ? "550" : "450");
    textf(d->xcode, sizeof(d->xcode), "%s.7.%d", reject ? "5" : "4", cert ? 1 : 0);
}

/* locate_rcpt - where "<rcpt>" stands in the text, so a log can hide it */
static void locate_rcpt(struct decision *d, const char *rcpt)
{
    char quoted[SHOW_MAX + 3];
    const char *at;

    d->text_rcpt_at = -1;
    d->text_rcpt_len = 0;
    textf(quoted, sizeof(quoted), "<%s>", rcpt);
    /* The fixed texts hold no '<' before the recipient: the first match is it. */
    if ((at = strstr(d->text, quoted)) != NULL) {
        d->text_rcpt_at = (int) (at - d->text) + 1;
        d->text_rcpt_len = (int) strlen(rcpt);
    }
}

/* reply_set - codes and text for a refusal (or a monitored would-refusal) */
void reply_set(struct decision *d, const char *tmpl, const struct session_facts *s,
               const struct rcpt_facts *r)
{
    char rcpt[SHOW_MAX + 1], domain[SHOW_MAX + 1];

    reply_codes(d);
    show_rcpt(rcpt, sizeof(rcpt), r->rcpt);
    show(domain, sizeof(domain), d->rcpt_domain ? d->rcpt_domain : "unknown");
    if (tmpl != NULL)
        expand_reply(d->text, sizeof(d->text), tmpl, domain);
    else
        default_text(d->text, sizeof(d->text), d, s, rcpt, domain);
    locate_rcpt(d, rcpt);
}


/* decision_format_reply - "530 5.7.0 text", or "" without a reply */
int decision_format_reply(const struct decision *d, char *buf, size_t len)
{
    if (d->rcode[0] == 0)
        return snprintf(buf, len, "%s", "");
    return snprintf(buf, len, "%s %s %s", d->rcode, d->xcode, d->text);
}
