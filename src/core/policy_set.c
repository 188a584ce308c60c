/*++
 * NAME
 *	policy_set 3
 * SUMMARY
 *	the policy model's life cycle and names
 * SYNOPSIS
 *	#include "core/policy.h"
 *
 *	void	policy_init(policy)
 *	void	policy_clear(policy)
 *	void	policy_set_init(set)
 *	void	policy_set_clear(set)
 *	const char *policy_level_name(level)
 *	const char *decision_reason_name(reason)
 * DESCRIPTION
 *	Building and releasing policies and policy sets (the configuration
 *	reader fills them), and the names of levels, modes, actions and
 *	reason codes as configurations and records spell them (SPEC.md).
 *	The decision over a set is policy.c's.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "core/policy.h"

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
    free(p->pins);
    cidr_list_free(&p->clients);
    policy_init(p);
}

/* policy_set_init - an empty set: default policy only, enforcing */
void policy_set_init(struct policy_set *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->mode = POLICY_MODE_ENFORCE;
    policy_init(&ps->dflt);
    /* SPEC.md's defaults; off until configured. */
    ps->fallback.enabled = false;
    ps->fallback.key = FB_KEY_CLIENT_DOMAIN;
    ps->fallback.window = 30L * 86400;
    ps->fallback.action = FB_ACTION_TEMPFAIL;
    ps->fallback.max_deferrals = 3;
    ps->fallback.defer_period = 6L * 3600;
    ps->fallback.then = FB_THEN_ACCEPT;
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
    "tls_ok",          "plaintext_allowed", "plaintext", "tls_version",        "cipher", "cipher_bits",
    "cert_unverified", "cert_mismatch",     "downgrade", "downgrade_accepted", "exempt", "state_error",
};

#define NAME_OF(table, v) ((size_t) (v) < sizeof(table) / sizeof(table[0]) ? table[v] : "?")

/* policy_level_name - configuration and record name of a level */
const char *policy_level_name(enum tls_level v)
{
    return NAME_OF(level_names, v);
}

/* policy_action_name - configuration name of a policy action */
const char *policy_action_name(enum policy_action v)
{
    return NAME_OF(paction_names, v);
}

/* policy_mode_name - configuration and record name of a mode */
const char *policy_mode_name(enum policy_mode v)
{
    return NAME_OF(mode_names, v);
}

/* decision_action_name - record name of a decision action */
const char *decision_action_name(enum decision_action v)
{
    return NAME_OF(daction_names, v);
}

/* decision_reason_name - record name of a reason code */
const char *decision_reason_name(enum reason v)
{
    return NAME_OF(reason_names, v);
}
