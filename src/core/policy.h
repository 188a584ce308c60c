/*++
 * NAME
 *	policy 3h
 * SUMMARY
 *	the policy model and the pure decision
 * DESCRIPTION
 *	A policy_set is built once from the configuration and never changed;
 *	the daemon shares it read-only between threads and swaps it as a whole
 *	on reload. policy_decide() is a pure function of its arguments: no
 *	I/O, no clock, no globals, no allocation.
 *
 *	Which policies are in force for one recipient: every named policy all
 *	of whose selectors match (recipient_domains, sender_domains,
 *	client_addresses; a policy with several kinds of selector needs all of
 *	them to match); when none is, the default policy. A recipient whose
 *	domain cannot be determined matches every recipient_domains selector.
 *	The requirement in force is the strictest combination of the policies
 *	in force, which is the same as requiring each of them to be met.
 * LAYER
 *	src/core/ is the pure decision, on tls/ and util/: facts (MTA
 *	values -> facts), decision.h (levels, actions, reasons, struct
 *	decision), this module (predicates, driver, trace), reply, the
 *	domain map and CIDR lists. No I/O, no clock, no globals: the
 *	session service, --explain and --what-if all call policy_decide().
 *--*/
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cidr.h"
#include "core/decision.h"
#include "core/domain_map.h"
#include "core/facts.h"
#include "core/reply.h"
#include "tls/tlsinfo.h"

/* Ordered so that the larger value wins: reject beats tempfail. */
enum policy_action {
    POLICY_ACTION_TEMPFAIL = 0,
    POLICY_ACTION_REJECT,
};

struct policy {
    char *name;
    size_t metric_slot; /* its "policy" label (session/stats.h); 0 until named */
    int line;                        /* where it was configured, for --explain */
    enum tls_level level;
    enum tls_version min_version;    /* TLS_V_NONE: no floor */
    char *ciphers_str;               /* as configured, NULL when unset */
    struct cipher_set *ciphers;      /* TLS <= 1.2; NULL: any */
    char *ciphersuites_str;
    struct cipher_set *ciphersuites; /* TLS 1.3; NULL: any */
    int min_cipher_bits;             /* 0: no floor */
    enum policy_action action;
    enum policy_mode mode;
    char *reply;                     /* text after the codes; NULL: default */
    char *cert_subject;              /* compared with the certificate CN */
    char *cert_issuer;
    struct certfp *pins;             /* cert_fingerprint: one must match; NULL: no pinning */
    size_t npins;
    bool by_rcpt;                    /* has recipient_domains(_file) */
    bool by_sender;                  /* has sender_domains(_file) */
    bool by_client;                  /* has client_addresses */
    struct cidr_list clients;
};

/* The opportunistic-fallback rules (SPEC.md "fallback"). */
enum fallback_key { FB_KEY_CLIENT_DOMAIN = 0, FB_KEY_CLIENT_NET, FB_KEY_CLIENT_ADDR, FB_KEY_SENDER_DOMAIN };
enum fallback_action { FB_ACTION_TEMPFAIL = 0, FB_ACTION_REJECT, FB_ACTION_LOG };
enum fallback_then { FB_THEN_ACCEPT = 0, FB_THEN_REJECT };

struct fallback_rules {
    bool enabled;
    enum fallback_key key;
    long window;                     /* a TLS sighting this recent makes plaintext a downgrade */
    enum fallback_action action;
    int max_deferrals;               /* after this many deferrals ... */
    long defer_period;               /* ... within this period ... */
    enum fallback_then then;         /* ... this */
    bool tempfail_on_error;          /* state.on_error = tempfail */
};

struct policy_set {
    enum policy_mode mode;           /* global: ENFORCE or MONITOR */
    struct policy dflt;              /* always in force: the baseline */
    struct policy *policies;
    size_t npolicies;
    struct domain_map *rcpt_map;     /* values index policies[] */
    struct domain_map *sender_map;
    struct cidr_list exempt_clients;
    bool exempt_authenticated;
    struct fallback_rules fallback;
};

/*
 * What the fallback rules learned about this sender, under the configured
 * key. The daemon fills it from the state store before calling
 * policy_decide(); NULL means "nothing known", and no downgrade rule
 * applies.
 */
struct learned {
    const char *key;                 /* "client_domain:partner.example", ... */
    bool error;                      /* the store could not be read */
    long last_tls;                   /* last TLS session, 0: never */
    int deferrals;                   /* deferrals since defer_start */
    long defer_start;
};

/* A trace receives one line per step of the evaluation, for --explain. */
struct policy_trace {
    void (*line)(void *arg, const char *text);
    void *arg;
};

/*
 * policy_decide - the decision for one recipient of one session.
 * now is seconds since the epoch, used only by the fallback rules.
 * trace may be NULL.
 */
void policy_decide(const struct policy_set *, const struct session_facts *,
                   const struct rcpt_facts *, const struct learned *, long now,
                   const struct policy_trace *, struct decision *out);

const char *policy_level_name(enum tls_level);
const char *policy_action_name(enum policy_action);
const char *policy_mode_name(enum policy_mode);
const char *decision_action_name(enum decision_action);
const char *decision_reason_name(enum reason);

/* Lifetime of the model, used by config.c and the tests. */
void policy_init(struct policy *);
void policy_clear(struct policy *);
void policy_set_init(struct policy_set *);
void policy_set_clear(struct policy_set *);

#endif
