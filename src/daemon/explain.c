/*++
 * NAME
 *	explain 3
 * SUMMARY
 *	tlspolicyd --explain: one hypothetical session, decided and explained
 * SYNOPSIS
 *	#include "daemon/explain.h"
 *
 *	int	explain_run(config, argc, argv, out, err)
 * DESCRIPTION
 *	Builds session and recipient facts from KEY=VALUE arguments exactly
 *	as the milter builds them from macros, runs the same policy_decide()
 *	and the same record writer, and prints the records followed by the
 *	evaluation trace. Nothing touches the network or syslog, so an
 *	administrator can ask "what would happen if ..." on a live host.
 * DIAGNOSTICS
 *	An unknown key, an argument without '=', an unparsable client
 *	address or a missing rcpt is a usage error.
 *--*/

/* System library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "daemon/explain.h"
#include "record/record.h"
#include "util/strbuf.h"

#define EXPLAIN_RCPT_MAX 100

struct explain_input {
    struct session_facts session;
    const char *rcpts[EXPLAIN_RCPT_MAX];
    size_t nrcpts;
};

typedef int (*setter_fn)(struct session_facts *, const char *);

static const struct explain_key {
    const char *name;
    setter_fn set;
} explain_keys[] = {
    {"client_addr", facts_set_client_addr},
    {"client_name", facts_set_client_name},
    {"helo", facts_set_helo},
    {"tls_version", facts_set_tls_version},
    {"cipher", facts_set_cipher},
    {"cipher_bits", facts_set_cipher_bits},
    {"cert_subject", facts_set_cert_subject},
    {"cert_issuer", facts_set_cert_issuer},
    {"verify", facts_set_verify},
    {"auth_type", facts_set_auth_type},
    {"sender", facts_set_sender},
    {"rcpt", NULL},
};

#define NKEYS (sizeof(explain_keys) / sizeof(explain_keys[0]))

/* find_key - the table entry for a key of length len */
static const struct explain_key *find_key(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (strlen(explain_keys[i].name) == len && strncmp(explain_keys[i].name, name, len) == 0)
            return &explain_keys[i];
    return NULL;
}

/* parse_arg - one KEY=VALUE argument into the input */
static int parse_arg(struct explain_input *in, const char *arg, struct tp_error *err)
{
    const char *eq = strchr(arg, '=');
    const struct explain_key *key;

    if (eq == NULL) {
        tp_error_set(err, NULL, 0, "--explain: \"%s\" is not KEY=VALUE", arg);
        return -1;
    }
    if ((key = find_key(arg, (size_t) (eq - arg))) == NULL) {
        tp_error_set(err, NULL, 0,
                     "--explain: unknown key \"%.*s\" (expected client_addr, client_name, helo, tls_version,"
                     " cipher, cipher_bits, cert_subject, cert_issuer, verify, auth_type, sender or rcpt)",
                     (int) (eq - arg), arg);
        return -1;
    }
    if (key->set == NULL) {
        if (in->nrcpts >= EXPLAIN_RCPT_MAX) {
            tp_error_set(err, NULL, 0, "--explain: at most %d rcpt arguments", EXPLAIN_RCPT_MAX);
            return -1;
        }
        in->rcpts[in->nrcpts++] = eq + 1;
        return 0;
    }
    if (key->set(&in->session, eq + 1) < 0) {
        tp_error_set(err, NULL, 0, "--explain: invalid value for %s: \"%s\"", key->name, eq + 1);
        return -1;
    }
    return 0;
}

/* trace_to_buf - policy_trace sink collecting indented lines */
static void trace_to_buf(void *arg, const char *text)
{
    strbuf_printf(arg, "  %s\n", text);
}

/* explain_one - record and account for one recipient */
static void explain_one(const struct config *cfg, const struct explain_input *in, const char *rcpt,
                        unsigned long long seq, struct strbuf *records, struct strbuf *account)
{
    struct record_opts opts = record_opts_from_config(cfg);
    struct policy_trace trace = {trace_to_buf, account};
    struct decision_record rec;
    struct rcpt_facts r;
    struct decision d;

    rcpt_facts_init(&r);
    if (facts_set_rcpt(&r, rcpt) < 0) {
        strbuf_puts(account, "  out of memory\n");
        return;
    }
    strbuf_printf(account, "\nRecipient %s:\n", rcpt);
    policy_decide(&cfg->policies, &in->session, &r, NULL, 0, &trace, &d);
    rec = (struct decision_record){seq, "explain", cfg->hash, NULL, &d, &in->session, &r};
    record_format_decision(&opts, &rec, records);
    strbuf_putc(records, '\n');
    rcpt_facts_clear(&r);
}

/* session_summary - what the hypothetical session looks like */
static void session_summary(const struct config *cfg, const struct session_facts *s, struct strbuf *out)
{
    strbuf_printf(out, "\nConfiguration %s (hash %s), global mode %s.\n", cfg->path, cfg->hash,
                  policy_mode_name(cfg->policies.mode));
    strbuf_printf(out, "Session: client %s, %s", s->client_addr ? s->client_addr : "unknown",
                  s->tls_version == TLS_V_NONE ? "plaintext" : tlsinfo_version_name(s->tls_version));
    if (s->tls_version != TLS_V_NONE)
        strbuf_printf(out, ", cipher %s (%d bits), client certificate %s", s->cipher ? s->cipher : "unknown",
                      s->cipher_bits, s->cert_subject_cn ? s->cert_subject_cn : "none");
    strbuf_printf(out, ", sender %s.\n", s->sender ? s->sender : "unknown");
}

/* explain_run - decide and explain every rcpt argument */
int explain_run(const struct config *cfg, int argc, char **argv, FILE *out, struct tp_error *err)
{
    struct explain_input in;
    struct strbuf records, account;
    int i, rc = -1;

    memset(&in, 0, sizeof(in));
    session_facts_init(&in.session);
    /* Without verify=, cert_subject is read as Postfix sends it: the CN
       of a trusted certificate. */
    facts_set_mta(&in.session, "Postfix");
    strbuf_init(&records);
    strbuf_init(&account);
    for (i = 0; i < argc; i++)
        if (parse_arg(&in, argv[i], err) < 0)
            goto out;
    if (in.nrcpts == 0) {
        tp_error_set(err, NULL, 0, "--explain: at least one rcpt=ADDRESS is needed");
        goto out;
    }
    session_summary(cfg, &in.session, &account);
    for (i = 0; i < (int) in.nrcpts; i++)
        explain_one(cfg, &in, in.rcpts[i], (unsigned long long) i + 1, &records, &account);
    if (strbuf_failed(&records) || strbuf_failed(&account)) {
        tp_error_set(err, NULL, 0, "--explain: out of memory");
        goto out;
    }
    fputs(strbuf_str(&records), out);
    fputs(strbuf_str(&account), out);
    rc = 0;
out:
    strbuf_free(&records);
    strbuf_free(&account);
    session_facts_clear(&in.session);
    return rc;
}
