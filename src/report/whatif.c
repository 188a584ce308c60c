/*++
 * NAME
 *	whatif 3
 * SUMMARY
 *	impact forecast: the recorded facts under another configuration
 * SYNOPSIS
 *	#include "report/whatif.h"
 *
 *	struct whatif *whatif_open(path, prog)
 *	void	whatif_consumer(w, consumer)
 *	void	whatif_free(w)
 * DESCRIPTION
 *	See whatif.h. Each record of the period is replayed the record as the one reader
 *	(record/recparse.c) read it, kv or json: every field, by the
 *	REC_* indices of the field table the writer uses, so the replay
 *	cannot look for a field under a name the daemon does not write.
 *
 *	Facts are rebuilt through the same setters the milter uses, so the
 *	derived values (address domains, certificate CN, version order) are
 *	derived the same way:
 * .IP \(bu
 *	tls_version "none" is no TLS; cipher_bits "-" is unknown.
 * .IP \(bu
 *	cert_subject and cert_issuer are logged xtext-decoded, and the
 *	setters decode again: every '+' is re-encoded as "+2B", so that a
 *	decoded "CA+12" does not turn into "CA\x12".
 * .IP \(bu
 *	cert_verified yes/no becomes {verify} OK/NO.
 * .IP \(bu
 *	A recorded exemption sets a placeholder {auth_type}: records do not
 *	say whether the session was authenticated.
 * .IP \(bu
 *	An address that does not carry the recorded domain (log.addresses
 *	domain, "@dom"; or a local part resolved by Postfix) becomes
 *	"x@DOMAIN": policies select by domain only.
 * .PP
 *	Each change is kept as one map key: its fields, made printable by
 *	report_safe() (so they hold no tab), joined by tabs.
 * DIAGNOSTICS
 *	whatif_open() prints every configuration error as FILE:LINE: message.
 *	When memory runs out the counts are incomplete (w->oom); the
 *	writers (whatif_out.c) say so.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "config/config.h"
#include "core/facts.h"
#include "core/policy.h"
#include "util/map.h"
#include "report/out.h"
#include "report/scan.h"
#include "report/whatif.h"
#include "report/whatif_impl.h"
#include "util/strbuf.h"

#define ADDR_BUF 600 /* "x@" and a domain as long as a kv value may be */

/* One re-evaluated record; v is the record's fields, by enum rec_field. */
struct wi_case {
    const char *const *v;
    struct session_facts sf;
    struct rcpt_facts rf;
    struct decision d;
};

/* whatif_open - the configuration to forecast */
struct whatif *whatif_open(const char *path, const char *prog)
{
    char line[TP_ERROR_FILE_MAX + TP_ERROR_MSG_MAX + 32];
    struct tp_errlist errs;
    struct whatif *w;
    size_t i;

    if ((w = calloc(1, sizeof(*w))) == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return NULL;
    }
    tp_errlist_init(&errs);
    if ((w->cfg = config_load(path, &errs)) == NULL) {
        for (i = 0; i < errs.n; i++) {
            tp_error_format(&errs.items[i], line, sizeof(line));
            fprintf(stderr, "%s\n", line);
        }
        if (errs.dropped)
            fprintf(stderr, "%s: %zu more errors not shown\n", prog, errs.dropped);
        free(w);
        return NULL;
    }
    w->path = path;
    map_init(&w->transitions);
    map_init(&w->by_rcpt);
    map_init(&w->by_client);
    return w;
}

/* xtext_plus - value with every '+' as "+2B": the setters decode xtext */
static const char *xtext_plus(const char *value, struct strbuf *sb)
{
    const char *p;

    if (value == NULL || strchr(value, '+') == NULL)
        return value;
    for (p = value; *p; p++)
        if (*p == '+')
            strbuf_puts(sb, "+2B");
        else
            strbuf_putc(sb, *p);
    return strbuf_str(sb);
}

/* address_for - the recorded address, or "x@DOMAIN" where the log hid it */
static const char *address_for(const char *addr, const char *domain, char *buf, size_t len)
{
    struct address a;
    int n;

    if (domain == NULL)
        return addr;
    if (addr != NULL) {
        address_parse(addr, &a);
        if (a.kind == ADDR_DOMAIN && strcmp(a.domain, domain) == 0)
            return addr;
    }
    n = snprintf(buf, len, "x@%s", domain);
    return n > 0 && (size_t) n < len ? buf : addr;
}

/* set_tls - version, cipher, bits, verification and certificate names */
static int set_tls(struct session_facts *sf, const char *const *v)
{
    struct strbuf subj, iss;
    const char *verified = v[REC_CERT_VERIFIED];
    int rc = 0;

    if (v[REC_TLS_VERSION] != NULL && strcmp(v[REC_TLS_VERSION], "none") != 0)
        rc |= facts_set_tls_version(sf, v[REC_TLS_VERSION]);
    rc |= facts_set_cipher(sf, v[REC_CIPHER]);
    rc |= facts_set_cipher_bits(sf, v[REC_CIPHER_BITS]);
    if (verified != NULL)
        rc |= facts_set_verify(sf, strcmp(verified, "yes") == 0 ? "OK" : "NO");
    strbuf_init(&subj);
    strbuf_init(&iss);
    rc |= facts_set_cert_subject(sf, xtext_plus(v[REC_CERT_SUBJECT], &subj));
    rc |= facts_set_cert_issuer(sf, xtext_plus(v[REC_CERT_ISSUER], &iss));
    if (strbuf_failed(&subj) || strbuf_failed(&iss))
        rc = -1;
    strbuf_free(&subj);
    strbuf_free(&iss);
    return rc;
}

/* rebuild - session and recipient facts from one record */
static int rebuild(struct wi_case *c)
{
    const char *const *v = c->v;
    char buf[ADDR_BUF];
    int rc = 0;

    /* A client_addr that is no address stays text, as in the milter. */
    if (facts_set_client_addr(&c->sf, v[REC_CLIENT_ADDR]) != 0 && c->sf.client_addr == NULL)
        rc = -1;
    rc |= facts_set_client_name(&c->sf, v[REC_CLIENT_NAME]);
    rc |= facts_set_helo(&c->sf, v[REC_HELO]);
    rc |= set_tls(&c->sf, v);
    if (v[REC_REASON] != NULL && strcmp(v[REC_REASON], "exempt") == 0)
        rc |= facts_set_auth_type(&c->sf, "unknown");
    rc |= facts_set_sender(&c->sf, address_for(v[REC_SENDER], v[REC_SENDER_DOMAIN], buf, sizeof(buf)));
    rc |= facts_set_rcpt(&c->rf, address_for(v[REC_RCPT], v[REC_RCPT_DOMAIN], buf, sizeof(buf)));
    return rc;
}

/* outcome - "action", or "action (would W)" when they differ */
static void outcome(struct strbuf *sb, const char *action, const char *would)
{
    strbuf_puts(sb, action);
    if (would != NULL && strcmp(would, action) != 0)
        strbuf_printf(sb, " (would %s)", would);
}

/* reason_fact - the new reason and the recorded fact that fails it */
static void reason_fact(struct strbuf *sb, const struct wi_case *c)
{
    const char *fact = NULL;

    switch (c->d.reason) {
    case REASON_TLS_VERSION:
        fact = c->v[REC_TLS_VERSION];
        break;
    case REASON_CIPHER:
        fact = c->v[REC_CIPHER];
        break;
    case REASON_CIPHER_BITS:
        fact = c->v[REC_CIPHER_BITS];
        break;
    default:
        break;
    }
    strbuf_puts(sb, decision_reason_name(c->d.reason));
    if (c->d.reason == REASON_CERT_MISMATCH)
        strbuf_printf(sb, ": subject %s, issuer %s", c->sf.cert_subject_cn ? c->sf.cert_subject_cn : "-",
                      c->sf.cert_issuer_cn ? c->sf.cert_issuer_cn : "-");
    else if (fact != NULL)
        strbuf_printf(sb, ": %s", fact);
    if (c->d.would != DECISION_ACCEPT && c->d.policy != NULL && c->d.policy->name != NULL)
        strbuf_printf(sb, " (policy %s)", c->d.policy->name);
}

/* client_label - "name[addr]" as Postfix shows a client */
static void client_label(struct strbuf *sb, const char *const *v)
{
    const char *name = v[REC_CLIENT_NAME];

    if (name != NULL && strcmp(name, "unknown") != 0)
        strbuf_puts(sb, name);
    if (v[REC_CLIENT_ADDR] != NULL)
        strbuf_printf(sb, "[%s]", v[REC_CLIENT_ADDR]);
    else if (name == NULL)
        strbuf_putc(sb, '-');
}

/* key_field - one printable key field and a tab */
static void key_field(struct strbuf *sb, const char *value)
{
    report_safe(sb, value != NULL ? value : "-");
    strbuf_putc(sb, '\t');
}

/* count - one more under key */
static void count(struct whatif *w, struct map *m, const struct strbuf *key)
{
    struct map_entry *e;

    if (strbuf_failed(key) || (e = map_get(m, strbuf_str(key))) == NULL)
        w->oom = 1;
    else
        e->count++;
}

/* sender_of - the sender domain, or "<>" for the null sender */
static const char *sender_of(const char *const *v)
{
    if (v[REC_SENDER_DOMAIN] == NULL && v[REC_SENDER] != NULL && strcmp(v[REC_SENDER], "<>") == 0)
        return "<>";
    return v[REC_SENDER_DOMAIN];
}

/* note_change - count a change by transition, rcpt_domain and client */
static void note_change(struct whatif *w, const struct wi_case *c, const char *old_would)
{
    struct strbuf change, why, client, key;

    strbuf_init(&change);
    strbuf_init(&why);
    strbuf_init(&client);
    strbuf_init(&key);
    outcome(&change, c->v[REC_ACTION], old_would);
    strbuf_puts(&change, " -> ");
    outcome(&change, decision_action_name(c->d.action), decision_action_name(c->d.would));
    reason_fact(&why, c);
    client_label(&client, c->v);
    report_safe(&key, strbuf_str(&change));
    count(w, &w->transitions, &key);
    strbuf_reset(&key);
    key_field(&key, c->v[REC_RCPT_DOMAIN]);
    key_field(&key, strbuf_str(&change));
    key_field(&key, strbuf_str(&why));
    key_field(&key, strbuf_str(&client));
    key_field(&key, sender_of(c->v));
    count(w, &w->by_rcpt, &key);
    strbuf_reset(&key);
    key_field(&key, strbuf_str(&client));
    key_field(&key, strbuf_str(&change));
    key_field(&key, strbuf_str(&why));
    key_field(&key, c->v[REC_RCPT_DOMAIN]);
    key_field(&key, sender_of(c->v));
    count(w, &w->by_client, &key);
    if (strbuf_failed(&change) || strbuf_failed(&why) || strbuf_failed(&client))
        w->oom = 1;
    strbuf_free(&change);
    strbuf_free(&why);
    strbuf_free(&client);
    strbuf_free(&key);
}

/* fallback_unknown - plaintext the fallback rules would judge by a history we lack */
static bool fallback_unknown(const struct whatif *w, const struct wi_case *c)
{
    return w->cfg->policies.fallback.enabled && c->d.reason == REASON_PLAINTEXT_ALLOWED &&
           c->d.level == TLS_LEVEL_OPPORTUNISTIC;
}

/* recorded_fallback - the recorded decision came from the fallback history */
static bool recorded_fallback(const char *reason)
{
    return reason != NULL && (strcmp(reason, "downgrade") == 0 || strcmp(reason, "downgrade_accepted") == 0 ||
                              strcmp(reason, "state_error") == 0);
}

/* auth_assumed - exempt only because of the placeholder authentication */
static bool auth_assumed(const struct whatif *w, const struct wi_case *c)
{
    const struct policy_set *ps = &w->cfg->policies;

    return c->d.reason == REASON_EXEMPT && c->sf.auth_type != NULL &&
           !(c->sf.has_client_addr && cidr_list_match(&ps->exempt_clients, &c->sf.client_ip));
}

/* compare - the new decision against the recorded one */
static void compare(struct whatif *w, const struct wi_case *c)
{
    const char *old_action = c->v[REC_ACTION];
    const char *old_would = c->v[REC_WOULD] != NULL ? c->v[REC_WOULD] : old_action;

    if (auth_assumed(w, c))
        w->auth_assumed++;
    if (fallback_unknown(w, c)) {
        w->fb_unknown++;
        /* Without the history, a recorded downgrade stays what it was. */
        if (recorded_fallback(c->v[REC_REASON])) {
            w->fb_kept++;
            return;
        }
    }
    if (strcmp(old_action, decision_action_name(c->d.action)) == 0 &&
        strcmp(old_would, decision_action_name(c->d.would)) == 0)
        return;
    w->changed++;
    note_change(w, c, old_would);
}

/* whatif_record - rebuild the facts of one decision record and decide again */
static void whatif_record(struct whatif *w, const struct rec *r)
{
    struct wi_case c;

    if (w == NULL || r->event != REC_DECISION || r->f[REC_ACTION] == NULL)
        return;
    c.v = r->f;
    session_facts_init(&c.sf);
    rcpt_facts_init(&c.rf);
    if (rebuild(&c) != 0) {
        w->oom = 1;
    } else {
        policy_decide(&w->cfg->policies, &c.sf, &c.rf, NULL, 0, NULL, &c.d);
        w->decisions++;
        compare(w, &c);
    }
    session_facts_clear(&c.sf);
    rcpt_facts_clear(&c.rf);
}

/* whatif_free - the configuration and the counts */
void whatif_free(struct whatif *w)
{
    if (w == NULL)
        return;
    config_free(w->cfg);
    map_free(&w->transitions, NULL);
    map_free(&w->by_rcpt, NULL);
    map_free(&w->by_client, NULL);
    free(w);
}

/* on_record - the scan event, to whatif_record() */
static void on_record(void *ctx, const struct rec *r, const struct scan_at *at)
{
    (void) at;
    whatif_record(ctx, r);
}

/* whatif_consumer - the records of the period */
void whatif_consumer(struct whatif *w, struct scan_consumer *c)
{
    memset(c, 0, sizeof(*c));
    c->name = "--what-if";
    c->pass = 1;
    c->ctx = w;
    c->record = on_record;
}
