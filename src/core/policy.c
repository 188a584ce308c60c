/*++
 * NAME
 *	policy 3
 * SUMMARY
 *	the policy model and the pure decision
 * SYNOPSIS
 *	#include "core/policy.h"
 *
 *	void	policy_decide(set, session, rcpt, learned, now, trace, decision)
 * DESCRIPTION
 *	policy_decide() finds the policies in force for one recipient, then
 *	runs each requirement predicate (TLS, version, cipher, bits, verified
 *	certificate, certificate name, certificate pin) against each of them,
 *	in that order.
 *	Requiring every policy in force to be met is the strictest
 *	combination of SPEC.md: the highest level and version floor, the
 *	intersection of the cipher sets, the highest bit floor.
 *
 *	The first requirement that a policy in force fails is the reason;
 *	failures of enforcing policies outrank those of monitoring ones, and
 *	the decision rejects when any failing enforcing policy says reject
 *	(reject beats tempfail). The deciding policy, whose reply text is
 *	used, is the first in configuration order that fails that reason.
 *
 *	A policy with pins (cert_fingerprint) verifies the certificate by
 *	them instead of by a CA, as Postfix's "fingerprint" level does: it is
 *	met when the certificate or public-key fingerprint the front end
 *	passed equals one of its pins, and fails as cert_mismatch when none
 *	does or none was passed. A pin match of a policy in force makes the
 *	record's cert_verified yes.
 *
 *	Pure: no I/O, no clock, no allocation, no globals. The optional trace
 *	receives one line per step, for --explain.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Application. */
#include "core/policy.h"
#include "core/reply.h"

/*
  * Tracing. Formatting happens only when somebody listens.
  */

/* tracef - one line of the account, when tracing */
static void tracef(const struct policy_trace *trace, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tracef(const struct policy_trace *trace, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (trace == NULL || trace->line == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    trace->line(trace->arg, line);
}

/* effective_mode - a policy's mode, with the global mode filled in */
static enum policy_mode effective_mode(const struct policy_set *ps, const struct policy *p)
{
    return p->mode == POLICY_MODE_INHERIT ? ps->mode : p->mode;
}

/*
  * Which policies are in force: every named policy all of whose selectors
  * match, and always the default, last. Domain lookups report policy
  * indexes through a callback; we collect them in a small array. A domain
  * matched by more policies than fit is treated as matched by every
  * policy of that kind: stricter, never weaker.
  */
#define HITS_MAX 64

struct hits {
    unsigned idx[HITS_MAX];
    size_t n;
    bool all; /* overflow, or the domain cannot be determined */
};

/* One evaluation: what the policies in force are computed from. */
struct eval {
    const struct policy_set *ps;
    const struct session_facts *s;
    struct hits rcpt;
    struct hits sender;
};

/* hits_add - domain_map_lookup callback */
static void hits_add(unsigned idx, void *arg)
{
    struct hits *h = arg;
    size_t i;

    for (i = 0; i < h->n; i++)
        if (h->idx[i] == idx)
            return;
    if (h->n < HITS_MAX)
        h->idx[h->n++] = idx;
    else
        h->all = true;
}

/* hits_has - is policy idx among the hits */
static bool hits_has(const struct hits *h, unsigned idx)
{
    size_t i;

    if (h->all)
        return true;
    for (i = 0; i < h->n; i++)
        if (h->idx[i] == idx)
            return true;
    return false;
}

/* readable - an address whose domain decides */
static bool readable(const struct address *a)
{
    return a->kind == ADDR_DOMAIN && !a->routed;
}

/* rcpt_lookup - recipient-domain hits for the address as sent and as resolved */
static void rcpt_lookup(struct eval *ev, const struct rcpt_facts *r, const struct policy_trace *trace)
{
    const struct address *sent = &r->addr, *resolved = &r->resolved_addr;

    /* The domain decides which policies apply; where we cannot tell it,
       every recipient_domains policy could apply, so all do. */
    if (!readable(sent)) {
        tracef(trace, "recipient %s: every recipient_domains policy applies",
               sent->routed ? "routes through its local part ('%' or '!')"
                            : "has no domain that can be determined");
        ev->rcpt.all = true;
    } else {
        tracef(trace, "recipient domain: %s", sent->domain);
        domain_map_lookup(ev->ps->rcpt_map, sent->domain, hits_add, &ev->rcpt);
    }
    /* Postfix's {rcpt_addr} is the address after its own rewriting; the
       stricter result of the two applies. Sendmail's is the bare user for
       local delivery, which says nothing about the domain: ignored. */
    if (r->rcpt_resolved && readable(resolved)) {
        tracef(trace, "recipient domain as resolved by the MTA: %s", resolved->domain);
        domain_map_lookup(ev->ps->rcpt_map, resolved->domain, hits_add, &ev->rcpt);
    }
}

/* sender_lookup - sender-domain hits; the null sender matches none */
static void sender_lookup(struct eval *ev)
{
    const struct session_facts *s = ev->s;
    const struct address *sent = &s->sender_addr, *res = &s->sender_resolved_addr;
    bool has_res = s->sender_resolved != NULL;

    /* The null sender <> (bounces) is held to no sender's policy. */
    if ((s->sender == NULL && !has_res) || (s->sender && sent->kind == ADDR_NULL))
        return;
    if (readable(sent)) {
        domain_map_lookup(ev->ps->sender_map, sent->domain, hits_add, &ev->sender);
        if (has_res && readable(res))
            domain_map_lookup(ev->ps->sender_map, res->domain, hits_add, &ev->sender);
    } else if (has_res && readable(res)) {
        /* What the client sent is decorated (<<a@b>>, a comment), but the
           MTA read it ({mail_addr}): its reading is the sender it queues. */
        domain_map_lookup(ev->ps->sender_map, res->domain, hits_add, &ev->sender);
    } else if (!(has_res && res->kind == ADDR_NULL)) {
        /* A sender nobody can read could be any sender: every sender
           policy applies. */
        ev->sender.all = true;
    }
}

/* policy_applies - do all selectors of policy idx match */
static bool policy_applies(const struct eval *ev, unsigned idx, const char **why)
{
    const struct policy *p = &ev->ps->policies[idx];

    if (p->by_rcpt && !hits_has(&ev->rcpt, idx)) {
        *why = "recipient domain not listed";
        return false;
    }
    if (p->by_sender && !hits_has(&ev->sender, idx)) {
        *why = "sender domain not listed";
        return false;
    }
    /* An unknown client address could be any client: the policy applies. */
    if (p->by_client && ev->s->has_client_addr && !cidr_list_match(&p->clients, &ev->s->client_ip)) {
        *why = "client address not listed";
        return false;
    }
    *why = "all selectors match";
    return true;
}

/* next_inforce - the next policy in force from *pos on; the default last; NULL at the end */
static const struct policy *next_inforce(const struct eval *ev, size_t *pos)
{
    const char *why;

    while (*pos < ev->ps->npolicies) {
        size_t i = (*pos)++;

        if (policy_applies(ev, (unsigned) i, &why))
            return &ev->ps->policies[i];
    }
    if (*pos == ev->ps->npolicies) {
        (*pos)++;
        return &ev->ps->dflt;
    }
    return NULL;
}

/* eval_init - look up the domains once */
static void eval_init(struct eval *ev, const struct policy_set *ps, const struct session_facts *s,
                      const struct rcpt_facts *r, const struct policy_trace *trace)
{
    memset(ev, 0, sizeof(*ev));
    ev->ps = ps;
    ev->s = s;
    rcpt_lookup(ev, r, trace);
    sender_lookup(ev);
}

/* find_inforce - list (for the record) and trace the policies in force */
static void find_inforce(const struct eval *ev, const struct policy_trace *trace, struct decision *d)
{
    const struct policy_set *ps = ev->ps;
    const char *why;
    size_t pos = 0;
    const struct policy *p;
    unsigned i;

    for (i = 0; i < ps->npolicies; i++) {
        bool yes = policy_applies(ev, i, &why);

        tracef(trace, "policy %s (line %d): %s (%s)", ps->policies[i].name, ps->policies[i].line,
               yes ? "in force" : "not in force", why);
    }
    tracef(trace, "policy default: in force (always)");
    d->ninforce = 0;
    while ((p = next_inforce(ev, &pos)) != NULL) {
        if (d->ninforce < DECISION_INFORCE_MAX)
            d->inforce[d->ninforce] = p;
        d->ninforce++;
    }
}

/*
  * Requirement predicates: each answers "met" for one policy and the
  * session. Only levels required and verified constrain the TLS session;
  * below that, refusing a weak cipher would push the sender to plaintext.
  */
#define IS_TLS(s) ((s)->tls_version != TLS_V_NONE)

/* is_tls13 - does the session use a TLS 1.3 suite */
static bool is_tls13(const struct session_facts *s)
{
    if (s->tls_version == TLS_V_TLS13)
        return true;
    return s->tls_version == TLS_V_UNKNOWN && s->cipher && tlsinfo_is_tls13_suite(s->cipher);
}

/* met_tls - level required or above needs an encrypted session */
static bool met_tls(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_REQUIRED || IS_TLS(s);
}

/* met_version - protocol floor; an unknown version string meets none */
static bool met_version(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_REQUIRED || p->min_version == TLS_V_NONE || s->tls_version >= p->min_version;
}

/* met_cipher - the negotiated cipher is in the policy's set for its protocol */
static bool met_cipher(const struct policy *p, const struct session_facts *s)
{
    const struct cipher_set *set = is_tls13(s) ? p->ciphersuites : p->ciphers;

    if (p->level < TLS_LEVEL_REQUIRED || set == NULL)
        return true;
    return s->cipher != NULL && cipher_set_contains(set, s->cipher);
}

/* met_bits - symmetric key size floor; absent bits meet no floor */
static bool met_bits(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_REQUIRED || p->min_cipher_bits == 0 || s->cipher_bits >= p->min_cipher_bits;
}

/* pin_match - which passed fingerprint one of the policy's pins matches:
   "certificate", "public key", or NULL for none */
static const char *pin_match(const struct policy *p, const struct session_facts *s)
{
    size_t i;

    for (i = 0; i < p->npins; i++) {
        if (certfp_equal(&p->pins[i], &s->cert_fp))
            return "certificate";
        if (certfp_equal(&p->pins[i], &s->cert_pubkey_fp))
            return "public key";
    }
    return NULL;
}

/*
 * met_verified - level verified needs a verified client certificate. A
 * pinned policy verifies the certificate by its pins instead, as
 * Postfix's "fingerprint" level does without any CA: met_pins decides
 * it, so that a pinned policy without a matching fingerprint is always
 * cert_mismatch, CA-trusted or not.
 */
static bool met_verified(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_VERIFIED || p->npins > 0 || facts_cert_verified(s);
}

/* name_matches - configured name against the certificate CN, as host names compare */
static bool name_matches(const char *want, const char *cn)
{
    return want == NULL || (cn != NULL && strcasecmp(want, cn) == 0);
}

/* met_cert_names - subject and issuer constraints */
static bool met_cert_names(const struct policy *p, const struct session_facts *s)
{
    if (p->level < TLS_LEVEL_VERIFIED)
        return true;
    return name_matches(p->cert_subject, s->cert_subject_cn) &&
           name_matches(p->cert_issuer, s->cert_issuer_cn);
}

/* met_pins - a pinned policy needs a passed fingerprint that one pin
   matches; none passed (the milter under Postfix) matches no pin */
static bool met_pins(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_VERIFIED || p->npins == 0 || (IS_TLS(s) && pin_match(p, s) != NULL);
}

static const struct requirement {
    enum reason reason;
    bool (*met)(const struct policy *, const struct session_facts *);
    const char *what;
} requirements[] = {
    {REASON_PLAINTEXT, met_tls, "TLS"},
    {REASON_TLS_VERSION, met_version, "protocol version"},
    {REASON_CIPHER, met_cipher, "cipher"},
    {REASON_CIPHER_BITS, met_bits, "cipher bits"},
    {REASON_CERT_UNVERIFIED, met_verified, "verified client certificate"},
    {REASON_CERT_MISMATCH, met_cert_names, "certificate name"},
    {REASON_CERT_MISMATCH, met_pins, "certificate fingerprint"},
};

#define NREQUIREMENTS (sizeof(requirements) / sizeof(requirements[0]))

/* The first failure per mode, and whether a failing policy says reject. */
struct failures {
    const struct requirement *req[2]; /* [0] enforce, [1] monitor */
    const struct policy *policy[2];
    bool reject[2];
};

/* check_requirements - run every predicate against every policy in force */
static void check_requirements(const struct eval *ev, const struct policy_trace *trace, struct failures *f)
{
    const struct policy *p;
    size_t k, pos;

    memset(f, 0, sizeof(*f));
    for (k = 0; k < NREQUIREMENTS; k++) {
        for (pos = 0; (p = next_inforce(ev, &pos)) != NULL;) {
            enum policy_mode mode = effective_mode(ev->ps, p);
            int m = mode == POLICY_MODE_MONITOR;

            if (requirements[k].met(p, ev->s))
                continue;
            tracef(trace, "policy %s: %s requirement not met (%s, %s)", p->name, requirements[k].what,
                   policy_mode_name(mode), policy_action_name(p->action));
            if (f->req[m] == NULL) {
                f->req[m] = &requirements[k];
                f->policy[m] = p;
            }
            if (p->action == POLICY_ACTION_REJECT)
                f->reject[m] = true;
        }
    }
}

/* combine - the strictest level and floors in force, and whether all monitor */
static void combine(const struct eval *ev, struct decision *d, bool *all_monitoring)
{
    const struct policy *p;
    size_t pos = 0;

    d->level = TLS_LEVEL_NONE;
    *all_monitoring = true;
    while ((p = next_inforce(ev, &pos)) != NULL) {
        if (p->level > d->level)
            d->level = p->level;
        if (effective_mode(ev->ps, p) != POLICY_MODE_MONITOR)
            *all_monitoring = false;
        if (p->level < TLS_LEVEL_REQUIRED)
            continue;
        if (p->min_version > d->min_version)
            d->min_version = p->min_version;
        if (p->min_cipher_bits > d->min_cipher_bits)
            d->min_cipher_bits = p->min_cipher_bits;
    }
}

/* verified_by_pin - did a pin of a policy in force verify the certificate?
   The record's cert_verified says yes then: it was verified, by its
   fingerprint instead of a CA. */
static bool verified_by_pin(const struct eval *ev, const struct policy_trace *trace)
{
    const struct policy *p;
    const char *what;
    size_t pos = 0;
    bool any = false;

    while ((p = next_inforce(ev, &pos)) != NULL) {
        if (p->level < TLS_LEVEL_VERIFIED || p->npins == 0)
            continue;
        if (IS_TLS(ev->s) && (what = pin_match(p, ev->s)) != NULL) {
            tracef(trace, "policy %s: a pin matches the client's %s fingerprint", p->name, what);
            any = true;
        } else if (ev->s->cert_fp.digest == CERTFP_NONE && ev->s->cert_pubkey_fp.digest == CERTFP_NONE) {
            tracef(trace, "policy %s: pins the certificate, but no fingerprint was passed", p->name);
        } else {
            tracef(trace, "policy %s: none of its %zu pins matches the passed fingerprints", p->name,
                   p->npins);
        }
    }
    return any;
}

/* is_exempt - exempt clients and authenticated sessions skip every check */
static bool is_exempt(const struct policy_set *ps, const struct session_facts *s,
                      const struct policy_trace *trace)
{
    if (s->has_client_addr && cidr_list_match(&ps->exempt_clients, &s->client_ip)) {
        tracef(trace, "exempt: client %s is listed in exempt.clients", s->client_addr);
        return true;
    }
    if (ps->exempt_authenticated && facts_authenticated(s)) {
        tracef(trace, "exempt: session is authenticated and exempt.authenticated is true");
        return true;
    }
    return false;
}

/* decision_init - an accepting decision with nothing filled in */
static void decision_init(struct decision *d, const struct policy_set *ps, const struct rcpt_facts *r)
{
    memset(d, 0, sizeof(*d));
    d->action = d->would = DECISION_ACCEPT;
    d->mode = ps->mode;
    d->min_version = TLS_V_NONE;
    d->deferrals = -1;
    d->text_rcpt_at = -1;
    if (r->addr.kind == ADDR_DOMAIN)
        d->rcpt_domain = r->addr.domain;
    else if (r->rcpt_resolved && r->resolved_addr.kind == ADDR_DOMAIN)
        d->rcpt_domain = r->resolved_addr.domain;
}

/* conclude - turn the failures into action, reason, mode and deciding policy */
static void conclude(const struct session_facts *s, const struct failures *f, bool all_monitoring,
                     struct decision *d)
{
    int m = f->req[0] ? 0 : 1;

    if (f->req[m] == NULL) {
        d->reason = IS_TLS(s) ? REASON_TLS_OK : REASON_PLAINTEXT_ALLOWED;
        d->mode = all_monitoring ? POLICY_MODE_MONITOR : POLICY_MODE_ENFORCE;
        return;
    }
    d->reason = f->req[m]->reason;
    d->pin_mismatch = f->req[m]->met == met_pins;
    d->policy = f->policy[m];
    d->would = f->reject[m] ? DECISION_REJECT : DECISION_TEMPFAIL;
    d->mode = m ? POLICY_MODE_MONITOR : POLICY_MODE_ENFORCE;
    d->action = m ? DECISION_ACCEPT : d->would;
}

/* tls_seen_recently - a TLS sighting within the window makes plaintext a
   downgrade. A sighting up to a window ahead of now counts too: with
   shared state it is another MX host's, whose clock runs ahead of ours. */
static bool tls_seen_recently(const struct fallback_rules *fb, const struct learned *l, long now)
{
    long age = now - l->last_tls;

    return l->last_tls > 0 && (age < 0 ? -age : age) <= fb->window;
}

/* apply_fallback - the downgrade rules, for plaintext accepted at level opportunistic */
static void apply_fallback(const struct policy_set *ps, const struct learned *l, long now,
                           const struct policy_trace *trace, struct decision *d)
{
    const struct fallback_rules *fb = &ps->fallback;

    if (!fb->enabled || l == NULL || l->key == NULL)
        return;
    /* The key and count are logged for every decision that consulted them,
       so a report can follow a sender from its TLS days to its fallback. */
    snprintf(d->fallback_key, sizeof(d->fallback_key), "%s", l->key);
    d->deferrals = l->defer_start > 0 && now - l->defer_start <= fb->defer_period ? l->deferrals : 0;
    /* none: no rule applies; required and verified refused plaintext already. */
    if (d->reason != REASON_PLAINTEXT_ALLOWED || d->level != TLS_LEVEL_OPPORTUNISTIC)
        return;
    if (l->error) {
        /* Without the history we cannot tell a downgrade from a sender that
           never used TLS: state.on_error decides. */
        tracef(trace, "fallback: state store unavailable for %s", l->key);
        d->reason = REASON_STATE_ERROR;
        if (fb->tempfail_on_error) {
            d->would = DECISION_TEMPFAIL;
            d->action = d->mode == POLICY_MODE_MONITOR ? DECISION_ACCEPT : d->would;
        }
        return;
    }
    if (!tls_seen_recently(fb, l, now)) {
        tracef(trace, "fallback: %s used no TLS within the window: plaintext is no downgrade", l->key);
        return;
    }
    tracef(trace, "fallback: %s used TLS %ld s ago, now plaintext: downgrade (%d deferrals so far)", l->key,
           now - l->last_tls, d->deferrals);
    d->reason = REASON_DOWNGRADE;
    if (fb->action == FB_ACTION_LOG)
        return;
    if (d->deferrals >= fb->max_deferrals) {
        /* Never stuck forever: after max_deferrals, the "then" rule. */
        if (fb->then == FB_THEN_ACCEPT) {
            d->reason = REASON_DOWNGRADE_ACCEPTED;
            return;
        }
        d->would = DECISION_REJECT;
    } else {
        d->would = fb->action == FB_ACTION_REJECT ? DECISION_REJECT : DECISION_TEMPFAIL;
    }
    d->action = d->mode == POLICY_MODE_MONITOR ? DECISION_ACCEPT : d->would;
}

/* policy_decide - the decision for one recipient */
void policy_decide(const struct policy_set *ps, const struct session_facts *s, const struct rcpt_facts *r,
                   const struct learned *learned, long now, const struct policy_trace *trace,
                   struct decision *d)
{
    struct failures f;
    struct eval ev;
    bool all_monitoring;

    decision_init(d, ps, r);
    d->cert_verified = facts_cert_verified(s);
    if (is_exempt(ps, s, trace)) {
        d->reason = REASON_EXEMPT;
        return;
    }
    eval_init(&ev, ps, s, r, trace);
    find_inforce(&ev, trace, d);
    combine(&ev, d, &all_monitoring);
    if (verified_by_pin(&ev, trace))
        d->cert_verified = true;
    tracef(trace, "level in force: %s", policy_level_name(d->level));
    check_requirements(&ev, trace, &f);
    conclude(s, &f, all_monitoring, d);
    apply_fallback(ps, learned, now, trace, d);
    if (d->would != DECISION_ACCEPT)
        reply_set(d, d->policy != NULL ? d->policy->reply : NULL, s, r);
    tracef(trace, "decision: %s, reason %s%s%s (%s)", decision_action_name(d->action),
           decision_reason_name(d->reason), d->policy ? ", policy " : "", d->policy ? d->policy->name : "",
           policy_mode_name(d->mode));
}
