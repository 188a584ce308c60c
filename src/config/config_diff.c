/*++
 * NAME
 *	config_diff 3
 * SUMMARY
 *	what a new configuration removes or weakens, for the reload notice
 * SYNOPSIS
 *	#include "config/config_diff.h"
 *
 *	size_t	config_weakening(old, new, out)
 * DESCRIPTION
 *	A reload that loses protection must be visible at once: a file cut
 *	short that still parses, a policy deleted by mistake, a level typed
 *	one step too low. The daemon logs what this module finds as one
 *	notice; the reload itself goes ahead, since a deliberate weakening
 *	is the administrator's right.
 *
 *	What counts as weaker, each named in the text:
 *	- the global mode from enforce to monitor;
 *	- a named policy (matched by name) removed; the default or a named
 *	  policy with a lower level, lower min_tls_version, lower
 *	  min_cipher_bits, a cipher set that allows a cipher the old one
 *	  did not, a certificate constraint dropped or changed, pinning
 *	  (cert_fingerprint) dropped or a pin added to the list, action
 *	  reject -> tempfail, an effective mode enforce -> monitor;
 *	- a recipient or sender domain rule of a required or verified policy
 *	  that the new policies (or the new default) no longer cover at that
 *	  level, whatever the policies are called now: at most DOMAINS_SHOWN
 *	  rules are named, then how many more;
 *	- exempt growing (new clients, authenticated sessions); the fallback
 *	  rules switched off.
 *	Rules under a policy that also selects by client or by another kind
 *	are compared as if they applied alone (a narrower new policy is not
 *	noticed). Changes that only tighten are not reported.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Application. */
#include "config/config_diff.h"

#define DOMAINS_SHOWN 10

/* What one comparison collects. */
struct diff {
    struct strbuf *out;
    size_t found;
};

/* note - one finding, "; "-separated */
static void note(struct diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct diff *d, const char *fmt, ...)
{
    char text[4096]; /* DOMAINS_SHOWN rules of at most 254 bytes, and words */
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (d->found++ > 0)
        strbuf_puts(d->out, "; ");
    strbuf_puts(d->out, text);
}

/* effective_mode - a policy's mode, the global one when it inherits */
static enum policy_mode effective_mode(const struct config *cfg, const struct policy *p)
{
    return p->mode == POLICY_MODE_INHERIT ? cfg->policies.mode : p->mode;
}

/* Does a new cipher set allow a cipher the old one did not? */
struct cipher_probe {
    const struct cipher_set *old;
    bool wider;
};

/* probe_cipher - note a cipher of the new set the old one lacks */
static void probe_cipher(const char *name, void *arg)
{
    struct cipher_probe *p = arg;

    if (!cipher_set_contains(p->old, name))
        p->wider = true;
}

/* cipher_wider - set b allows a cipher a does not (NULL: any) */
static bool cipher_wider(const struct cipher_set *a, const struct cipher_set *b)
{
    struct cipher_probe p = {a, false};

    if (a == NULL)
        return false;
    if (b == NULL)
        return true;
    cipher_set_walk(b, probe_cipher, &p);
    return p.wider;
}

/* changed_text - a constraint dropped or changed */
static bool changed_text(const char *a, const char *b)
{
    return a != NULL && (b == NULL || strcmp(a, b) != 0);
}

/* has_pin - is fp among a policy's pins */
static bool has_pin(const struct policy *p, const struct certfp *fp)
{
    size_t i;

    for (i = 0; i < p->npins; i++)
        if (certfp_equal(&p->pins[i], fp))
            return true;
    return false;
}

/* compare_pins - pinning dropped, or a pin added: either accepts a
   certificate the old list refused (dropping pins only tightens) */
static void compare_pins(struct diff *d, const struct policy *a, const struct policy *b, const char *label)
{
    size_t i, added = 0;

    if (a->npins == 0)
        return;
    if (b->npins == 0) {
        note(d, "%s: cert_fingerprint removed (%zu pin%s)", label, a->npins, a->npins == 1 ? "" : "s");
        return;
    }
    for (i = 0; i < b->npins; i++)
        if (!has_pin(a, &b->pins[i]))
            added++;
    if (added > 0)
        note(d, "%s: cert_fingerprint: %zu pin%s added, more certificates accepted", label, added,
             added == 1 ? "" : "s");
}

/* compare_policy - every way in which policy b requires less than a */
static void compare_policy(struct diff *d, const struct config *o, const struct policy *a,
                           const struct config *n, const struct policy *b, const char *label)
{
    if (b->level < a->level)
        note(d, "%s: level %s -> %s", label, policy_level_name(a->level), policy_level_name(b->level));
    if (b->min_version < a->min_version)
        note(d, "%s: min_tls_version %s -> %s", label, tlsinfo_version_name(a->min_version),
             tlsinfo_version_name(b->min_version));
    if (b->min_cipher_bits < a->min_cipher_bits)
        note(d, "%s: min_cipher_bits lowered", label);
    if (cipher_wider(a->ciphers, b->ciphers) || cipher_wider(a->ciphersuites, b->ciphersuites))
        note(d, "%s: ciphers or ciphersuites allow more", label);
    if (changed_text(a->cert_subject, b->cert_subject) || changed_text(a->cert_issuer, b->cert_issuer))
        note(d, "%s: cert_subject or cert_issuer dropped or changed", label);
    compare_pins(d, a, b, label);
    if (a->action == POLICY_ACTION_REJECT && b->action == POLICY_ACTION_TEMPFAIL)
        note(d, "%s: action reject -> tempfail", label);
    /* Both inheriting: the global mode's change is reported once. */
    if ((a->mode != POLICY_MODE_INHERIT || b->mode != POLICY_MODE_INHERIT) &&
        effective_mode(o, a) == POLICY_MODE_ENFORCE && effective_mode(n, b) == POLICY_MODE_MONITOR)
        note(d, "%s: mode enforce -> monitor", label);
}

/* find_named - the policy called name in cfg, or NULL */
static const struct policy *find_named(const struct config *cfg, const char *name)
{
    size_t i;

    for (i = 0; name && i < cfg->policies.npolicies; i++)
        if (cfg->policies.policies[i].name && strcmp(cfg->policies.policies[i].name, name) == 0)
            return &cfg->policies.policies[i];
    return NULL;
}

/* compare_named - removed or weakened named policies */
static void compare_named(struct diff *d, const struct config *o, const struct config *n)
{
    char label[128];
    const struct policy *a, *b;
    size_t i;

    for (i = 0; i < o->policies.npolicies; i++) {
        a = &o->policies.policies[i];
        snprintf(label, sizeof(label), "policy %s", a->name ? a->name : "?");
        if ((b = find_named(n, a->name)) == NULL)
            note(d, "%s (level %s) removed", label, policy_level_name(a->level));
        else
            compare_policy(d, o, a, n, b, label);
    }
}

/* Rule-level comparison: does the new configuration still cover a rule? */
struct rule_walk {
    const struct config *o, *n;
    const struct domain_map *new_map;
    const char *kind;                /* "recipient" or "sender" */
    const struct policy *old_policy; /* of the rule being checked */
    enum tls_level got;              /* the best level new policies give it */
    size_t lost;
    struct strbuf names;
};

/* new_level - raise got by a new policy that covers the rule on its own */
static void new_level(unsigned idx, void *arg)
{
    struct rule_walk *w = arg;
    const struct policy *p = &w->n->policies.policies[idx];

    /* A new policy narrowed by another selector kind covers less. */
    if ((p->by_client && !w->old_policy->by_client) || (p->by_sender && !w->old_policy->by_sender) ||
        (p->by_rcpt && !w->old_policy->by_rcpt))
        return;
    if (p->level > w->got)
        w->got = p->level;
}

/* check_rule - one old (rule, policy) pair of level required or verified */
static void check_rule(const char *rule, unsigned idx, void *arg)
{
    struct rule_walk *w = arg;

    w->old_policy = &w->o->policies.policies[idx];
    if (w->old_policy->level < TLS_LEVEL_REQUIRED)
        return;
    w->got = w->n->policies.dflt.level;
    domain_map_lookup_rule(w->new_map, rule, new_level, w);
    if (w->got >= w->old_policy->level)
        return;
    if (w->lost++ < DOMAINS_SHOWN)
        strbuf_printf(&w->names, "%s%s (%s -> %s)", w->lost > 1 ? ", " : "", rule,
                      policy_level_name(w->old_policy->level), policy_level_name(w->got));
}

/* compare_rules - domain rules that lose required or verified */
static void compare_rules(struct diff *d, const struct config *o, const struct config *n, bool rcpt)
{
    struct rule_walk w = {.o = o,
                          .n = n,
                          .new_map = rcpt ? n->policies.rcpt_map : n->policies.sender_map,
                          .kind = rcpt ? "recipient" : "sender"};
    char more[48] = "";

    strbuf_init(&w.names);
    domain_map_walk(rcpt ? o->policies.rcpt_map : o->policies.sender_map, check_rule, &w);
    if (w.lost > DOMAINS_SHOWN)
        snprintf(more, sizeof(more), " and %zu more", w.lost - DOMAINS_SHOWN);
    if (w.lost > 0)
        note(d, "%s domains losing their level: %s%s", w.kind, strbuf_str(&w.names), more);
    strbuf_free(&w.names);
}

/* compare_exempt - exempt may only shrink quietly */
static void compare_exempt(struct diff *d, const struct config *o, const struct config *n)
{
    char a[64], b[64];
    size_t i, j;

    if (n->policies.exempt_authenticated && !o->policies.exempt_authenticated)
        note(d, "exempt: authenticated sessions now exempt");
    for (i = 0; i < n->policies.exempt_clients.n; i++) {
        cidr_format(&n->policies.exempt_clients.items[i], b, sizeof(b));
        for (j = 0; j < o->policies.exempt_clients.n; j++) {
            cidr_format(&o->policies.exempt_clients.items[j], a, sizeof(a));
            if (strcmp(a, b) == 0)
                break;
        }
        if (j == o->policies.exempt_clients.n)
            note(d, "exempt: clients %s added", b);
    }
}

/* config_weakening - every way in which new protects less than old */
size_t config_weakening(const struct config *o, const struct config *n, struct strbuf *out)
{
    struct diff d = {out, 0};

    if (o->policies.mode == POLICY_MODE_ENFORCE && n->policies.mode == POLICY_MODE_MONITOR)
        note(&d, "mode enforce -> monitor");
    compare_policy(&d, o, &o->policies.dflt, n, &n->policies.dflt, "default");
    compare_named(&d, o, n);
    compare_rules(&d, o, n, true);
    compare_rules(&d, o, n, false);
    compare_exempt(&d, o, n);
    if (o->policies.fallback.enabled && !n->policies.fallback.enabled)
        note(&d, "fallback rules switched off");
    return d.found;
}
