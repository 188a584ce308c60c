/*++
 * NAME
 *	policy 3
 * SUMMARY
 *	the policy model and the pure decision
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	void	policy_decide(set, session, rcpt, learned, now, trace, decision)
 *	int	decision_format_reply(decision, buf, len)
 * DESCRIPTION
 *	policy_decide() finds the policies in force for one recipient, then
 *	runs each requirement predicate (TLS, version, cipher, bits, verified
 *	certificate, certificate name) against each of them, in that order.
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
#include "policy.h"
#include "reply.h"

/* policy_init - a policy that requires nothing */
void policy_init(struct policy *p)
{
    memset(p, 0, sizeof(*p));
    p->level = TLS_LEVEL_OPPORTUNISTIC;
    p->min_version = TLS_V_NONE;
    p->action = POLICY_ACTION_REJECT;
    p->mode = POLICY_MODE_INHERIT;
}

/* policy_clear - release what a policy owns */
void policy_clear(struct policy *p)
{
    free(p->name);
    free(p->ciphers_str);
    free(p->ciphersuites_str);
    cipher_set_free(p->ciphers);
    cipher_set_free(p->ciphersuites);
    free(p->reply);
    free(p->cert_subject);
    free(p->cert_issuer);
    cidr_list_free(&p->clients);
    policy_init(p);
}

/* policy_set_init - an empty set: default policy only, enforcing */
void policy_set_init(struct policy_set *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->mode = POLICY_MODE_ENFORCE;
    policy_init(&ps->dflt);
}

/* policy_set_clear - release what a set owns */
void policy_set_clear(struct policy_set *ps)
{
    size_t i;

    for (i = 0; i < ps->npolicies; i++)
        policy_clear(&ps->policies[i]);
    free(ps->policies);
    policy_clear(&ps->dflt);
    if (ps->rcpt_map)
        domain_map_free(ps->rcpt_map);
    if (ps->sender_map)
        domain_map_free(ps->sender_map);
    cidr_list_free(&ps->exempt_clients);
    policy_set_init(ps);
}

static const char *const level_names[] = {"none", "opportunistic", "required", "verified"};
static const char *const paction_names[] = {"tempfail", "reject"};
static const char *const mode_names[] = {"inherit", "enforce", "monitor"};
static const char *const daction_names[] = {"accept", "tempfail", "reject"};
static const char *const reason_names[] = {
    "tls_ok", "plaintext_allowed", "plaintext", "tls_version", "cipher", "cipher_bits",
    "cert_unverified", "cert_mismatch", "downgrade", "downgrade_accepted", "exempt",
    "state_error",
};

#define NAME_OF(table, v) ((size_t) (v) < sizeof(table) / sizeof(table[0]) ? table[v] : "?")

/* policy_level_name - configuration and record name of a level */
const char *policy_level_name(enum tls_level v) { return NAME_OF(level_names, v); }

/* policy_action_name - configuration name of a policy action */
const char *policy_action_name(enum policy_action v) { return NAME_OF(paction_names, v); }

/* policy_mode_name - configuration and record name of a mode */
const char *policy_mode_name(enum policy_mode v) { return NAME_OF(mode_names, v); }

/* decision_action_name - record name of a decision action */
const char *decision_action_name(enum decision_action v) { return NAME_OF(daction_names, v); }

/* decision_reason_name - record name of a reason code */
const char *decision_reason_name(enum reason v) { return NAME_OF(reason_names, v); }

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
  * Which policies are in force. Domain lookups report policy indexes
  * through a callback; we collect them in a small array. A domain matched
  * by more policies than fit is treated as matched by every policy of that
  * kind: stricter, never weaker.
  */
#define HITS_MAX 64

struct hits {
    unsigned idx[HITS_MAX];
    size_t n;
    bool all; /* overflow, or the domain cannot be determined */
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

/* rcpt_lookup - recipient-domain hits for the address as sent and as resolved */
static void rcpt_lookup(const struct policy_set *ps, const struct rcpt_facts *r,
                        const struct policy_trace *trace, struct hits *h)
{
    const struct address *addrs[2] = {&r->addr, r->rcpt_resolved ? &r->resolved_addr : NULL};
    size_t i;

    memset(h, 0, sizeof(*h));
    for (i = 0; i < 2; i++) {
        if (addrs[i] == NULL)
            continue;
        /* The domain decides which policies apply; where we cannot tell
           it, every recipient_domains policy could apply, so all do. */
        if (addrs[i]->kind != ADDR_DOMAIN) {
            tracef(trace, "recipient %s has no domain that can be determined:"
                   " every recipient_domains policy applies", i ? "(as resolved by the MTA)" : "");
            h->all = true;
            continue;
        }
        tracef(trace, "recipient domain%s: %s", i ? " (as resolved by the MTA)" : "", addrs[i]->domain);
        if (ps->rcpt_map)
            domain_map_lookup(ps->rcpt_map, addrs[i]->domain, hits_add, h);
    }
}

/* sender_lookup - sender-domain hits; the null sender matches none */
static void sender_lookup(const struct policy_set *ps, const struct session_facts *s, struct hits *h)
{
    memset(h, 0, sizeof(*h));
    /* Sender domains are the client's claim, not a fact we can verify:
       a sender_domains policy only ever adds requirements, and a sender
       without a domain (bounces: <>) is held to no sender's policy. */
    if (s->sender && s->sender_addr.kind == ADDR_DOMAIN && ps->sender_map)
        domain_map_lookup(ps->sender_map, s->sender_addr.domain, hits_add, h);
}

/* policy_applies - do all selectors of policy idx match */
static bool policy_applies(const struct policy_set *ps, unsigned idx, const struct session_facts *s,
                           const struct hits *rcpt, const struct hits *sender, const char **why)
{
    const struct policy *p = &ps->policies[idx];

    if (p->by_rcpt && !hits_has(rcpt, idx)) {
        *why = "recipient domain not listed";
        return false;
    }
    if (p->by_sender && !hits_has(sender, idx)) {
        *why = "sender domain not listed";
        return false;
    }
    /* An unknown client address could be any client: the policy applies. */
    if (p->by_client && s->has_client_addr && !cidr_list_match(&p->clients, &s->client_ip)) {
        *why = "client address not listed";
        return false;
    }
    *why = "all selectors match";
    return true;
}

/* find_inforce - the policies in force, in configuration order */
static void find_inforce(const struct policy_set *ps, const struct session_facts *s,
                         const struct rcpt_facts *r, const struct policy_trace *trace, struct decision *d)
{
    struct hits rcpt, sender;
    const char *why;
    unsigned i;

    rcpt_lookup(ps, r, trace, &rcpt);
    sender_lookup(ps, s, &sender);
    d->ninforce = 0;
    for (i = 0; i < ps->npolicies; i++) {
        bool yes = policy_applies(ps, i, s, &rcpt, &sender, &why);

        tracef(trace, "policy %s (line %d): %s (%s)", ps->policies[i].name, ps->policies[i].line,
               yes ? "in force" : "not in force", why);
        if (!yes)
            continue;
        if (d->ninforce < DECISION_INFORCE_MAX)
            d->inforce[d->ninforce] = &ps->policies[i];
        d->ninforce++;
    }
    if (d->ninforce == 0) {
        tracef(trace, "policy default: in force (no named policy is)");
        d->inforce[0] = &ps->dflt;
        d->ninforce = 1;
    }
}

/* inforce_count - how many of the in-force policies are listed */
static size_t inforce_count(const struct decision *d)
{
    return d->ninforce < DECISION_INFORCE_MAX ? d->ninforce : DECISION_INFORCE_MAX;
}

 /*
  * Requirement predicates: each answers "met" for one policy and the
  * session. Only levels required and verified constrain the TLS session;
  * below that, refusing a weak cipher would push the sender to plaintext.
  */

/* is_tls13 - does the session use a TLS 1.3 suite */
static bool is_tls13(const struct session_facts *s)
{
    if (s->tls_version == TLS_V_TLS13)
        return true;
    return s->tls_version == TLS_V_UNKNOWN && s->cipher && tlsinfo_is_tls13_suite(s->cipher);
}

/* cert_verified - did the MTA verify the client certificate */
static bool cert_verified(const struct session_facts *s)
{
    if (s->tls_version == TLS_V_NONE)
        return false;
    /* Sendmail says so in {verify}; Postfix sends no {verify} and sends
       {cert_subject}/{cert_issuer} only for a trusted certificate. */
    if (s->verify != VERIFY_ABSENT)
        return s->verify == VERIFY_OK;
    return s->cert_subject_cn != NULL || s->cert_issuer_cn != NULL;
}

/* met_tls - level required or above needs an encrypted session */
static bool met_tls(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_REQUIRED || s->tls_version != TLS_V_NONE;
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

/* met_verified - level verified needs a verified client certificate */
static bool met_verified(const struct policy *p, const struct session_facts *s)
{
    return p->level < TLS_LEVEL_VERIFIED || cert_verified(s);
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
    return name_matches(p->cert_subject, s->cert_subject_cn) && name_matches(p->cert_issuer, s->cert_issuer_cn);
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
};

#define NREQUIREMENTS (sizeof(requirements) / sizeof(requirements[0]))

/* The first failure per mode, and whether a failing policy says reject. */
struct failures {
    const struct requirement *req[2]; /* [0] enforce, [1] monitor */
    const struct policy *policy[2];
    bool reject[2];
};

/* check_requirements - run every predicate against every policy in force */
static void check_requirements(const struct policy_set *ps, const struct session_facts *s,
                               const struct decision *d, const struct policy_trace *trace,
                               struct failures *f)
{
    size_t i, k;

    memset(f, 0, sizeof(*f));
    for (k = 0; k < NREQUIREMENTS; k++) {
        for (i = 0; i < inforce_count(d); i++) {
            const struct policy *p = d->inforce[i];
            int m = effective_mode(ps, p) == POLICY_MODE_MONITOR;

            if (requirements[k].met(p, s))
                continue;
            tracef(trace, "policy %s: %s requirement not met (%s, %s)", p->name, requirements[k].what,
                   policy_mode_name(effective_mode(ps, p)), policy_action_name(p->action));
            if (f->req[m] == NULL) {
                f->req[m] = &requirements[k];
                f->policy[m] = p;
            }
            if (p->action == POLICY_ACTION_REJECT)
                f->reject[m] = true;
        }
    }
}

/* combined_level - the highest level in force */
static enum tls_level combined_level(const struct decision *d)
{
    enum tls_level level = TLS_LEVEL_NONE;
    size_t i;

    for (i = 0; i < inforce_count(d); i++)
        if (d->inforce[i]->level > level)
            level = d->inforce[i]->level;
    return level;
}

/* all_monitoring - true when no policy in force enforces */
static bool all_monitoring(const struct policy_set *ps, const struct decision *d)
{
    size_t i;

    for (i = 0; i < inforce_count(d); i++)
        if (effective_mode(ps, d->inforce[i]) != POLICY_MODE_MONITOR)
            return false;
    return true;
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
    d->deferrals = -1;
    d->text_rcpt_at = -1;
    if (r->addr.kind == ADDR_DOMAIN)
        d->rcpt_domain = r->addr.domain;
    else if (r->rcpt_resolved && r->resolved_addr.kind == ADDR_DOMAIN)
        d->rcpt_domain = r->resolved_addr.domain;
}

/* conclude - turn the failures into action, reason, mode and deciding policy */
static void conclude(const struct policy_set *ps, const struct session_facts *s, const struct failures *f,
                     struct decision *d)
{
    int m = f->req[0] ? 0 : 1;

    if (f->req[m] == NULL) {
        d->reason = s->tls_version == TLS_V_NONE ? REASON_PLAINTEXT_ALLOWED : REASON_TLS_OK;
        d->mode = all_monitoring(ps, d) ? POLICY_MODE_MONITOR : POLICY_MODE_ENFORCE;
        return;
    }
    d->reason = f->req[m]->reason;
    d->policy = f->policy[m];
    d->would = f->reject[m] ? DECISION_REJECT : DECISION_TEMPFAIL;
    d->mode = m ? POLICY_MODE_MONITOR : POLICY_MODE_ENFORCE;
    d->action = m ? DECISION_ACCEPT : d->would;
}

/* policy_decide - the decision for one recipient */
void policy_decide(const struct policy_set *ps, const struct session_facts *s, const struct rcpt_facts *r,
                   const struct learned *learned, long now, const struct policy_trace *trace,
                   struct decision *d)
{
    struct failures f;

    /* The fallback rules enter here once the state store exists; until
       then nothing is learned and no downgrade rule applies. */
    (void) learned;
    (void) now;

    decision_init(d, ps, r);
    d->cert_verified = cert_verified(s);
    if (is_exempt(ps, s, trace)) {
        d->reason = REASON_EXEMPT;
        return;
    }
    find_inforce(ps, s, r, trace, d);
    d->level = combined_level(d);
    tracef(trace, "level in force: %s", policy_level_name(d->level));
    check_requirements(ps, s, d, trace, &f);
    conclude(ps, s, &f, d);
    if (d->would != DECISION_ACCEPT)
        reply_set(d, s, r);
    tracef(trace, "decision: %s, reason %s%s%s (%s)", decision_action_name(d->action),
           decision_reason_name(d->reason), d->policy ? ", policy " : "", d->policy ? d->policy->name : "",
           policy_mode_name(d->mode));
}
