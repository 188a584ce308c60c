/*++
 * NAME
 *	config_policy 3
 * SUMMARY
 *	default, policies and exempt: libconfig -> struct policy_set
 * SYNOPSIS
 *	#include "config/config_internal.h"
 *
 *	void	cfg_load_policies(ctx, root)
 *	struct cfg_ctx *ctx;
 *	const config_setting_t *root;
 *
 *	int	cfg_mode(ctx, group, out)
 *	struct cfg_ctx *ctx;
 *	const config_setting_t *group;
 *	enum policy_mode *out;
 *
 *	size_t	config_check_pins(cfg, policy_served, warns)
 *	const struct config *cfg;
 *	bool	policy_served;
 *	struct tp_errlist *warns;
 * DESCRIPTION
 *	Fills ctx->cfg->policies. policies[i] is the i-th group of the
 *	policies list, and i is the value stored in the recipient and sender
 *	domain maps for its domains; the array is allocated for the whole list
 *	before any group is read, so that an index is never stale.
 *
 *	Beyond types, the rules catch what a typo would break silently: a
 *	named policy needs a name, a level and a selector, and a requirement
 *	its level never checks (a minimum version at level opportunistic) is
 *	an error, since whoever wrote it expects it to be enforced.
 *
 *	Levels, actions and modes are spelt as policy.h names them, so that
 *	the configuration, the records and --explain use one vocabulary.
 *
 *	cfg_mode() reads "enforce" or "monitor", for a policy's mode and
 *	for the global one.
 *
 *	config_check_pins() warns, after a successful load, about policies
 *	with cert_fingerprint when no policy_socket is configured: only the
 *	policy service (and Sendmail's {cert_md5}) passes fingerprints.
 * DIAGNOSTICS
 *	FILE:LINE: message, added to ctx->rd.errs; see tlspolicyd.conf(5).
 *--*/

/* System library. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "config/config_internal.h"

#define POLICY_NAME_MAX 64
#define REPLY_MAX       300 /* leaves room for codes and the domain in a 512-byte reply line */

/* The keys that say what a policy requires; shared by default and policies. */
/* clang-format off */
#define REQUIREMENT_KEYS                                                                           \
    {"level", CT_STRING}, {"min_tls_version", CT_STRING}, {"ciphers", CT_STRING},                  \
    {"ciphersuites", CT_STRING}, {"min_cipher_bits", CT_INT}, {"action", CT_STRING},               \
    {"mode", CT_STRING}, {"reply", CT_STRING}, {"cert_subject", CT_STRING},                        \
    {"cert_issuer", CT_STRING}, {"cert_fingerprint", CT_STRINGS}

static const struct cfg_key default_keys[] = {REQUIREMENT_KEYS, {NULL, CT_STRING}};

static const struct cfg_key policy_keys[] = {
    {"name", CT_STRING}, {"recipient_domains", CT_STRINGS}, {"recipient_domains_file", CT_STRING},
    {"sender_domains", CT_STRINGS}, {"sender_domains_file", CT_STRING}, {"client_addresses", CT_STRINGS},
    REQUIREMENT_KEYS, {NULL, CT_STRING},
};
/* clang-format on */

/* Values in the order the messages list them. */
static const enum policy_action action_values[] = {POLICY_ACTION_REJECT, POLICY_ACTION_TEMPFAIL};
static const enum policy_mode mode_values[] = {POLICY_MODE_ENFORCE, POLICY_MODE_MONITOR};

/* Requirements that only some levels check. */
static const struct {
    const char *name;
    enum tls_level min;
} level_bound[] = {
    {"min_tls_version", TLS_LEVEL_REQUIRED},  {"ciphers", TLS_LEVEL_REQUIRED},
    {"ciphersuites", TLS_LEVEL_REQUIRED},     {"min_cipher_bits", TLS_LEVEL_REQUIRED},
    {"cert_subject", TLS_LEVEL_VERIFIED},     {"cert_issuer", TLS_LEVEL_VERIFIED},
    {"cert_fingerprint", TLS_LEVEL_VERIFIED},
};

/* load_cidrs - append every CIDR of a string list */
static void load_cidrs(struct cfg_ctx *ctx, const config_setting_t *s, struct cidr_list *out)
{
    int i, n = config_setting_length(s);
    const char *v;
    struct cidr c;
    char q[CFG_QUOTE_MAX];

    for (i = 0; i < n; i++) {
        v = config_setting_get_string_elem(s, i);
        if (cidr_parse(v, &c) != 0)
            cfg_error(&ctx->rd, config_setting_get_elem(s, (unsigned) i),
                      "%s: invalid address or network \"%s\" (expected ADDRESS or ADDRESS/PREFIX"
                      " with the host bits zero)",
                      config_setting_name(s), cfg_quote(v, q));
        else if (cidr_list_add(out, &c) != 0)
            ctx->rd.oom = true;
    }
}

/*
 * check_reply - printable ASCII, bounded, and only the escapes the reply
 * builder expands: anything else would reach the SMTP client verbatim or
 * break the reply line.
 */
static bool check_reply(struct cfg_ctx *ctx, const config_setting_t *s)
{
    const unsigned char *v = (const unsigned char *) config_setting_get_string(s);
    size_t i, n = strlen((const char *) v);

    if (n == 0 || n > REPLY_MAX)
        cfg_error(&ctx->rd, s, "reply: %zu characters (expected 1 to %d)", n, REPLY_MAX);
    for (i = 0; n <= REPLY_MAX && i < n; i++) {
        if (v[i] >= 0x20 && v[i] <= 0x7e && v[i] != '%')
            continue;
        if (v[i] == '%' && (v[i + 1] == 'd' || v[i + 1] == '%')) {
            i++;
            continue;
        }
        if (v[i] != '%')
            cfg_error(&ctx->rd, s, "reply: byte 0x%02x at position %zu is not printable ASCII", v[i], i + 1);
        else if (isprint(v[i + 1]))
            cfg_error(&ctx->rd, s,
                      "reply: invalid escape \"%%%c\" at position %zu (only %%d and %%%% are allowed)",
                      v[i + 1], i + 1);
        else
            cfg_error(&ctx->rd, s, "reply: lone \"%%\" at position %zu (write %%%% for a percent sign)",
                      i + 1);
        return false;
    }
    return n > 0 && n <= REPLY_MAX;
}

/* load_cipher_set - ciphers or ciphersuites, expanded by OpenSSL now */
static void load_cipher_set(struct cfg_ctx *ctx, const config_setting_t *g, const char *name, char **str,
                            struct cipher_set **set,
                            struct cipher_set *(*expand)(const char *, struct tp_error *) )
{
    const config_setting_t *s = cfg_get(g, name, CT_STRING);
    struct tp_error err;

    if (s == NULL)
        return;
    err.msg[0] = 0;
    *str = cfg_strdup(&ctx->rd, config_setting_get_string(s));
    /* The message names the string and says why OpenSSL refused it. */
    if ((*set = expand(config_setting_get_string(s), &err)) == NULL)
        cfg_error(&ctx->rd, s, "%s: %s", name, err.msg[0] ? err.msg : "rejected by OpenSSL");
}

/* load_tls_keys - version floor, cipher sets and bit floor */
static void load_tls_keys(struct cfg_ctx *ctx, const config_setting_t *g, struct policy *p)
{
    const config_setting_t *s;
    char q[CFG_QUOTE_MAX];

    if ((s = cfg_get(g, "min_tls_version", CT_STRING)) != NULL &&
        tlsinfo_version_parse_config(config_setting_get_string(s), &p->min_version) != 0)
        cfg_error(&ctx->rd, s,
                  "min_tls_version: invalid value \"%s\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)",
                  cfg_quote(config_setting_get_string(s), q));
    load_cipher_set(ctx, g, "ciphers", &p->ciphers_str, &p->ciphers, cipher_set_from_ciphers);
    load_cipher_set(ctx, g, "ciphersuites", &p->ciphersuites_str, &p->ciphersuites,
                    cipher_set_from_ciphersuites);
    cfg_int(&ctx->rd, g, "min_cipher_bits", 1, 1024, &p->min_cipher_bits);
}

/*
 * load_pins - cert_fingerprint, every entry "DIGEST:HEX" of the digest's
 * length. An empty list is an error: read as "no pinning" it would
 * accept any verified certificate where the writer meant to pin one.
 */
static void load_pins(struct cfg_ctx *ctx, const config_setting_t *g, struct policy *p)
{
    const config_setting_t *s = cfg_get(g, "cert_fingerprint", CT_STRINGS);
    int i, n = s ? config_setting_length(s) : 0;
    struct tp_error err;
    char q[CFG_QUOTE_MAX];
    const char *v;

    if (s != NULL && n == 0)
        cfg_error(&ctx->rd, s, "cert_fingerprint: must not be empty");
    if (n == 0)
        return;
    if ((p->pins = calloc((size_t) n, sizeof(*p->pins))) == NULL) {
        ctx->rd.oom = true;
        return;
    }
    for (i = 0; i < n; i++) {
        v = config_setting_get_string_elem(s, i);
        err.msg[0] = 0;
        if (certfp_parse_pin(v, &p->pins[p->npins], &err) == 0)
            p->npins++;
        else
            cfg_error(&ctx->rd, config_setting_get_elem(s, (unsigned) i),
                      "cert_fingerprint: invalid value \"%s\": %s", cfg_quote(v, q), err.msg);
    }
}

/* check_level_bound - a requirement the level never checks is a mistake */
static void check_level_bound(struct cfg_ctx *ctx, const config_setting_t *g, const struct policy *p,
                              const char *label)
{
    const config_setting_t *s;
    size_t i;

    for (i = 0; i < CFG_NELEM(level_bound); i++)
        if ((s = config_setting_get_member(g, level_bound[i].name)) != NULL && p->level < level_bound[i].min)
            cfg_error(&ctx->rd, s, "%s: has no effect at level %s in %s (only at level %s)",
                      level_bound[i].name, policy_level_name(p->level), label,
                      level_bound[i].min == TLS_LEVEL_VERIFIED ? "verified" : "required or verified");
}

/* read_level - the level member; cfg_enum's return value */
static int read_level(struct cfg_ctx *ctx, const config_setting_t *g, enum tls_level *out)
{
    const char *names[TLS_LEVEL_VERIFIED + 1];
    int i;

    for (i = TLS_LEVEL_NONE; i <= TLS_LEVEL_VERIFIED; i++)
        names[i] = policy_level_name((enum tls_level) i);
    if ((i = cfg_enum(&ctx->rd, g, "level", names, CFG_NELEM(names))) >= 0)
        *out = (enum tls_level) i;
    return i;
}

/* read_action - the action member */
static void read_action(struct cfg_ctx *ctx, const config_setting_t *g, enum policy_action *out)
{
    const char *names[CFG_NELEM(action_values)];
    int i;

    for (i = 0; i < (int) CFG_NELEM(action_values); i++)
        names[i] = policy_action_name(action_values[i]);
    if ((i = cfg_enum(&ctx->rd, g, "action", names, CFG_NELEM(names))) >= 0)
        *out = action_values[i];
}

/* cfg_mode - "enforce" or "monitor"; cfg_enum's return value */
int cfg_mode(struct cfg_ctx *ctx, const config_setting_t *g, enum policy_mode *out)
{
    const char *names[CFG_NELEM(mode_values)];
    int i;

    for (i = 0; i < (int) CFG_NELEM(mode_values); i++)
        names[i] = policy_mode_name(mode_values[i]);
    if ((i = cfg_enum(&ctx->rd, g, "mode", names, CFG_NELEM(names))) >= 0)
        *out = mode_values[i];
    return i;
}

/* load_requirements - the keys default and named policies share */
static void load_requirements(struct cfg_ctx *ctx, const config_setting_t *g, struct policy *p,
                              const char *label, bool named)
{
    const config_setting_t *s;
    int level;

    level = read_level(ctx, g, &p->level);
    if (level < 0 && named && config_setting_get_member(g, "level") == NULL)
        cfg_error(&ctx->rd, g, "%s has no level (none, opportunistic, required or verified)", label);
    load_tls_keys(ctx, g, p);
    read_action(ctx, g, &p->action);
    cfg_mode(ctx, g, &p->mode);
    if ((s = cfg_get(g, "reply", CT_STRING)) != NULL && check_reply(ctx, s))
        p->reply = cfg_strdup(&ctx->rd, config_setting_get_string(s));
    cfg_string(&ctx->rd, g, "cert_subject", &p->cert_subject);
    cfg_string(&ctx->rd, g, "cert_issuer", &p->cert_issuer);
    load_pins(ctx, g, p);
    /* With the level missing or mistyped, a second message would be noise. */
    if (level >= 0 || (level == -2 && !named && config_setting_get_member(g, "level") == NULL))
        check_level_bound(ctx, g, p, label);
}

/* note_domain_file - remember the name, for config_check_modes() */
static void note_domain_file(struct cfg_ctx *ctx, const char *path)
{
    struct config *cfg = ctx->cfg;
    char **files = realloc(cfg->domain_files, (cfg->ndomain_files + 1) * sizeof(*files));

    if (files == NULL) {
        ctx->rd.oom = true;
        return;
    }
    cfg->domain_files = files;
    if ((files[cfg->ndomain_files] = cfg_strdup(&ctx->rd, path)) != NULL)
        cfg->ndomain_files++;
}

/* add_domain_file - hash the file, then let the map read it */
static void add_domain_file(struct cfg_ctx *ctx, const config_setting_t *f, struct domain_map *map,
                            unsigned idx)
{
    const char *name = config_setting_name(f), *path = config_setting_get_string(f);
    char q[CFG_QUOTE_MAX];

    if (!cfg_absolute(&ctx->rd, f, name, path))
        return;
    if (cfg_hash_file(ctx, path) != 0) {
        cfg_error(&ctx->rd, f, "%s: cannot read \"%s\": %s", name, cfg_quote(path, q), strerror(errno));
        return;
    }
    note_domain_file(ctx, path);
    /* Errors inside the file are reported as that file's PATH:LINE. */
    domain_map_add_file(map, path, idx, ctx->rd.errs);
}

/* add_domains - an inline domain list and/or a domain file; true when present */
static bool add_domains(struct cfg_ctx *ctx, const config_setting_t *g, const char *key, const char *file_key,
                        struct domain_map *map, unsigned idx)
{
    const config_setting_t *s = cfg_get(g, key, CT_STRINGS), *f = cfg_get(g, file_key, CT_STRING);
    struct tp_error err;
    const char *v;
    int i;

    if (s != NULL && config_setting_length(s) == 0)
        cfg_error(&ctx->rd, s, "%s: must not be empty", key);
    for (i = 0; s != NULL && i < config_setting_length(s); i++) {
        v = config_setting_get_string_elem(s, i);
        err.msg[0] = 0;
        if (domain_map_add(map, v, idx, &err) != 0)
            cfg_error(&ctx->rd, config_setting_get_elem(s, (unsigned) i), "%s: %s", key, err.msg);
    }
    if (f != NULL)
        add_domain_file(ctx, f, map, idx);
    return s != NULL || f != NULL;
}

/* load_selectors - what makes a named policy apply */
static void load_selectors(struct cfg_ctx *ctx, const config_setting_t *g, struct policy *p, unsigned idx,
                           const char *label)
{
    static const char *const selectors[] = {"recipient_domains", "recipient_domains_file", "sender_domains",
                                            "sender_domains_file", "client_addresses"};
    struct policy_set *ps = &ctx->cfg->policies;
    const config_setting_t *s;
    size_t i;

    p->by_rcpt = add_domains(ctx, g, "recipient_domains", "recipient_domains_file", ps->rcpt_map, idx);
    p->by_sender = add_domains(ctx, g, "sender_domains", "sender_domains_file", ps->sender_map, idx);
    if ((s = cfg_get(g, "client_addresses", CT_STRINGS)) != NULL) {
        p->by_client = true;
        if (config_setting_length(s) == 0)
            cfg_error(&ctx->rd, s, "client_addresses: must not be empty");
        load_cidrs(ctx, s, &p->clients);
    }
    /* A selector of the wrong type has been reported already. */
    for (i = 0; i < CFG_NELEM(selectors); i++)
        if (config_setting_get_member(g, selectors[i]) != NULL)
            return;
    cfg_error(&ctx->rd, g, "%s has no selector (recipient_domains, sender_domains or client_addresses)",
              label);
}

/* valid_name - a policy name is a token that needs no quoting in records */
static bool valid_name(const char *name)
{
    size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

    return n > 0 && n <= POLICY_NAME_MAX && name[n] == 0;
}

/* policy_label - how messages name the policy: by name when it has a usable one */
static void policy_label(const config_setting_t *g, size_t idx, char *buf, size_t len)
{
    const config_setting_t *s = cfg_get(g, "name", CT_STRING);

    if (s && valid_name(config_setting_get_string(s)))
        snprintf(buf, len, "policy \"%s\"", config_setting_get_string(s));
    else
        snprintf(buf, len, "policy #%zu", idx + 1);
}

/* load_name - required, well-formed, not "default", unique */
static void load_name(struct cfg_ctx *ctx, const config_setting_t *g, size_t idx, const char *label)
{
    struct policy_set *ps = &ctx->cfg->policies;
    const config_setting_t *s = cfg_get(g, "name", CT_STRING);
    const char *name;
    char q[CFG_QUOTE_MAX];
    size_t i;

    if (s == NULL) {
        if (config_setting_get_member(g, "name") == NULL)
            cfg_error(&ctx->rd, g, "%s has no name", label);
        return;
    }
    name = config_setting_get_string(s);
    if (!valid_name(name)) {
        cfg_error(&ctx->rd, s,
                  "name: invalid value \"%s\" (expected 1 to %d letters, digits, '_', '.' or '-')",
                  cfg_quote(name, q), POLICY_NAME_MAX);
        return;
    }
    if (strcmp(name, "default") == 0) {
        cfg_error(&ctx->rd, s, "name: \"default\" is reserved for the default group");
        return;
    }
    for (i = 0; i < idx; i++)
        if (ps->policies[i].name && strcmp(ps->policies[i].name, name) == 0) {
            cfg_error(&ctx->rd, s, "duplicate policy name \"%s\" (first defined at line %d)", name,
                      ps->policies[i].line);
            return;
        }
    ps->policies[idx].name = cfg_strdup(&ctx->rd, name);
}

/* load_policy - one group of the policies list */
static void load_policy(struct cfg_ctx *ctx, const config_setting_t *g, size_t idx)
{
    struct policy *p = &ctx->cfg->policies.policies[idx];
    char label[POLICY_NAME_MAX + 16], where[POLICY_NAME_MAX + 20];

    p->line = config_setting_source_line(g);
    policy_label(g, idx, label, sizeof(label));
    snprintf(where, sizeof(where), "in %s", label);
    cfg_check_keys(&ctx->rd, g, policy_keys, where);
    load_name(ctx, g, idx, label);
    load_requirements(ctx, g, p, label, true);
    load_selectors(ctx, g, p, (unsigned) idx, label);
}

/* load_named - the policies list */
static void load_named(struct cfg_ctx *ctx, const config_setting_t *list)
{
    struct policy_set *ps = &ctx->cfg->policies;
    size_t i, n = (size_t) config_setting_length(list);
    const config_setting_t *g;

    if (n == 0)
        return;
    if ((ps->policies = calloc(n, sizeof(*ps->policies))) == NULL) {
        ctx->rd.oom = true;
        return;
    }
    for (i = 0; i < n; i++)
        policy_init(&ps->policies[i]);
    ps->npolicies = n;
    for (i = 0; i < n; i++) {
        g = config_setting_get_elem(list, (unsigned) i);
        /* An element that is not a group has been reported already. */
        if (config_setting_type(g) == CONFIG_TYPE_GROUP)
            load_policy(ctx, g, i);
    }
}

/* load_default - the baseline policy, always in force */
static void load_default(struct cfg_ctx *ctx, const config_setting_t *g)
{
    struct policy *p = &ctx->cfg->policies.dflt;

    if (g == NULL)
        return;
    p->line = config_setting_source_line(g);
    cfg_check_keys(&ctx->rd, g, default_keys, "in default");
    load_requirements(ctx, g, p, "default", false);
}

/* load_exempt - sessions no policy applies to */
static void load_exempt(struct cfg_ctx *ctx, const config_setting_t *g)
{
    static const struct cfg_key keys[] = {
        {"clients", CT_STRINGS}, {"authenticated", CT_BOOL}, {NULL, CT_STRING}};
    struct policy_set *ps = &ctx->cfg->policies;
    const config_setting_t *s;

    if (g == NULL)
        return;
    cfg_check_keys(&ctx->rd, g, keys, "in exempt");
    if ((s = cfg_get(g, "clients", CT_STRINGS)) != NULL)
        load_cidrs(ctx, s, &ps->exempt_clients);
    if ((s = cfg_get(g, "authenticated", CT_BOOL)) != NULL)
        ps->exempt_authenticated = config_setting_get_bool(s);
}

/* warn_pinned - one warning for a policy that pins certificates */
static size_t warn_pinned(const struct config *cfg, const struct policy *p, struct tp_errlist *warns)
{
    if (p->npins == 0)
        return 0;
    tp_errlist_add(warns, cfg->path, p->line,
                   "warning: policy %s pins certificates (cert_fingerprint), but no policy_socket is"
                   " configured: fingerprints arrive only through the policy service (and Sendmail's"
                   " {cert_md5}); through Postfix's milter this policy decides cert_mismatch",
                   p->name ? p->name : "?");
    return 1;
}

/* config_check_pins - pinned policies without a front end that passes fingerprints */
size_t config_check_pins(const struct config *cfg, bool policy_served, struct tp_errlist *warns)
{
    size_t i, n = 0;

    if (cfg->policy_socket != NULL || policy_served)
        return 0;
    n += warn_pinned(cfg, &cfg->policies.dflt, warns);
    for (i = 0; i < cfg->policies.npolicies; i++)
        n += warn_pinned(cfg, &cfg->policies.policies[i], warns);
    return n;
}

/* cfg_load_policies - default, policies and exempt */
void cfg_load_policies(struct cfg_ctx *ctx, const config_setting_t *root)
{
    const config_setting_t *list;

    load_exempt(ctx, cfg_get(root, "exempt", CT_GROUP));
    load_default(ctx, cfg_get(root, "default", CT_GROUP));
    if ((list = config_setting_get_member(root, "policies")) != NULL &&
        config_setting_type(list) == CONFIG_TYPE_LIST)
        load_named(ctx, list);
}
