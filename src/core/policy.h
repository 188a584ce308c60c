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
 *--*/
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cidr.h"
#include "core/domain_map.h"
#include "core/facts.h"
#include "tls/tlsinfo.h"

enum tls_level {
    TLS_LEVEL_NONE = 0,
    TLS_LEVEL_OPPORTUNISTIC,
    TLS_LEVEL_REQUIRED,
    TLS_LEVEL_VERIFIED,
};

/* Ordered so that the larger value wins: reject beats tempfail. */
enum policy_action {
    POLICY_ACTION_TEMPFAIL = 0,
    POLICY_ACTION_REJECT,
};

enum policy_mode {
    POLICY_MODE_INHERIT = 0, /* per-policy: use the global mode */
    POLICY_MODE_ENFORCE,
    POLICY_MODE_MONITOR,
};

struct policy {
    char *name;
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

enum decision_action {
    DECISION_ACCEPT = 0,
    DECISION_TEMPFAIL,
    DECISION_REJECT,
};

/* The order of the requirement checks is the order here. */
enum reason {
    REASON_TLS_OK = 0,
    REASON_PLAINTEXT_ALLOWED,
    REASON_PLAINTEXT,
    REASON_TLS_VERSION,
    REASON_CIPHER,
    REASON_CIPHER_BITS,
    REASON_CERT_UNVERIFIED,
    REASON_CERT_MISMATCH,
    REASON_DOWNGRADE,
    REASON_DOWNGRADE_ACCEPTED,
    REASON_EXEMPT,
    REASON_STATE_ERROR,
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

#define DECISION_INFORCE_MAX 32
#define DECISION_TEXT_MAX 400 /* SMTP reply line limit is 512 with code */

struct decision {
    enum decision_action action;     /* what the MTA is told */
    enum decision_action would;      /* what enforcement does; == action unless monitoring */
    enum reason reason;
    const struct policy *policy;     /* the deciding policy; NULL when exempt */
    const struct policy *inforce[DECISION_INFORCE_MAX];
    size_t ninforce;                 /* may exceed DECISION_INFORCE_MAX; list truncated */
    enum tls_level level;            /* combined level in force */
    enum tls_version min_version;    /* combined floors in force (levels required and up) */
    int min_cipher_bits;
    enum policy_mode mode;           /* ENFORCE or MONITOR: the mode that decided */
    bool cert_verified;
    const char *rcpt_domain;         /* points into rcpt facts, or NULL */
    /* reply, for reject/tempfail and monitor would-refusals; empty for accept */
    char rcode[4];                   /* "530" */
    char xcode[8];                   /* "5.7.0" */
    char text[DECISION_TEXT_MAX];    /* printable ASCII, no CR/LF */
    int text_rcpt_at;                /* where the recipient stands in text, -1: nowhere; */
    int text_rcpt_len;               /* a log that hides addresses replaces it */
    /* fallback seam */
    char fallback_key[128];          /* empty: none */
    int deferrals;                   /* -1: not applicable */
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

/* "530 5.7.0 text", or "" when the decision has no reply. */
int decision_format_reply(const struct decision *, char *buf, size_t len);

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
