/*++
 * NAME
 *	config_state 3
 * SUMMARY
 *	the fallback and state groups of the configuration
 * SYNOPSIS
 *	#include "config/config_internal.h"
 *
 *	void	cfg_load_fallback_state(ctx, root)
 * DESCRIPTION
 *	The opportunistic-fallback rules (fallback) and where what they learn
 *	is kept (state): LMDB's path and map, Redis's servers or sentinels,
 *	prefix, database, timeout and password file, on_error and on_damage.
 *	A key of the other backend is an error, not silently ignored. The
 *	Redis password is read here, at load and as root, and only when the
 *	rules use Redis, so that a missing file stops a reload instead of
 *	every decision.
 * DIAGNOSTICS
 *	FILE:LINE: message for every mistake (tlspolicyd.conf(5), DIAGNOSTICS).
 *--*/

/* System library. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* External libraries. */
#include <libconfig.h>
#include <openssl/crypto.h>

/* Application. */
#include "config/config_internal.h"

/* load_fallback - the opportunistic-fallback group */
static void load_fallback(struct cfg_ctx *ctx, const config_setting_t *g)
{
    static const struct cfg_key keys[] = {
        {"enabled", CT_BOOL},  {"key", CT_STRING},        {"window", CT_DURATION},
        {"action", CT_STRING}, {"max_deferrals", CT_INT}, {"defer_period", CT_DURATION},
        {"then", CT_STRING},   {NULL, CT_STRING},
    };
    static const char *const fb_keys[] = {"client_domain", "client_net", "client_addr", "sender_domain"};
    static const char *const actions[] = {"tempfail", "reject", "log"};
    static const char *const thens[] = {"accept", "reject"};
    const config_setting_t *s;
    struct config *cfg = ctx->cfg;
    int i;

    if (g == NULL)
        return;
    cfg_check_keys(&ctx->rd, g, keys, "in fallback");
    if ((s = cfg_get(g, "enabled", CT_BOOL)) != NULL)
        cfg->policies.fallback.enabled = config_setting_get_bool(s);
    if ((i = cfg_enum(&ctx->rd, g, "key", fb_keys, CFG_NELEM(fb_keys))) >= 0)
        cfg->policies.fallback.key = (enum fallback_key) i;
    cfg_duration(&ctx->rd, g, "window", &cfg->policies.fallback.window);
    if ((i = cfg_enum(&ctx->rd, g, "action", actions, CFG_NELEM(actions))) >= 0)
        cfg->policies.fallback.action = (enum fallback_action) i;
    cfg_int(&ctx->rd, g, "max_deferrals", 0, INT_MAX, &cfg->policies.fallback.max_deferrals);
    cfg_duration(&ctx->rd, g, "defer_period", &cfg->policies.fallback.defer_period);
    if ((i = cfg_enum(&ctx->rd, g, "then", thens, CFG_NELEM(thens))) >= 0)
        cfg->policies.fallback.then = (enum fallback_then) i;
}

/* valid_redis_server - HOST:PORT or unix:/PATH */
static bool valid_redis_server(const char *s)
{
    const char *p = cfg_after_prefix(s, "unix:");

    return p ? *p == '/' : cfg_valid_host_port(s);
}

/* load_servers - redis servers or sentinels (key name), HOST:PORT or unix:PATH each, NULL-terminated */
static void load_servers(struct cfg_ctx *ctx, const config_setting_t *s, const char *name, char ***out)
{
    int i, n = config_setting_length(s);
    const char *v;
    char **servers, q[CFG_QUOTE_MAX];

    if (n == 0) {
        cfg_error(&ctx->rd, s, "%s: must not be empty", name);
        return;
    }
    if ((servers = calloc((size_t) n + 1, sizeof(*servers))) == NULL) {
        ctx->rd.oom = true;
        return;
    }
    for (i = 0; i < n; i++) {
        v = config_setting_get_string_elem(s, i);
        if (!valid_redis_server(v))
            cfg_error(&ctx->rd, config_setting_get_elem(s, (unsigned) i),
                      "%s: invalid value \"%s\" (expected HOST:PORT, PORT 1 to 65535, or unix:/PATH)", name,
                      cfg_quote(v, q));
        servers[i] = cfg_strdup(&ctx->rd, v);
    }
    *out = servers;
}

/* valid_master_name - what a sentinel configuration can name a primary:
   printable ASCII without blanks or quotes */
static bool valid_master_name(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_:") == n;
}

/* load_where - where Redis is: servers, or sentinels and the master_name
   they know the primary by (both or neither; never with servers, which
   would be ignored) */
static void load_where(struct cfg_ctx *ctx, const config_setting_t *g)
{
    const config_setting_t *sv = cfg_get(g, "servers", CT_STRINGS), *sn = cfg_get(g, "sentinels", CT_STRINGS);
    const config_setting_t *mn = cfg_get(g, "master_name", CT_STRING);
    char q[CFG_QUOTE_MAX];

    if (sv)
        load_servers(ctx, sv, "servers", &ctx->cfg->state.servers);
    if (sn)
        load_servers(ctx, sn, "sentinels", &ctx->cfg->state.sentinels);
    cfg_string(&ctx->rd, g, "master_name", &ctx->cfg->state.master_name);
    if (ctx->cfg->state.backend != STATE_REDIS)
        return; /* check_backend_keys() said it */
    if (sv && sn)
        cfg_error(&ctx->rd, sv, "servers: not with sentinels (the sentinels name the primary)");
    if (sn && !mn)
        cfg_error(&ctx->rd, sn, "sentinels: master_name is needed too (the name the sentinels monitor)");
    if (mn && !sn)
        cfg_error(&ctx->rd, mn, "master_name: only with sentinels");
    if (mn && !valid_master_name(config_setting_get_string(mn)))
        cfg_error(&ctx->rd, mn, "master_name: invalid value \"%s\" (expected 1 to 64 of A-Z a-z 0-9 . - _ :)",
                  cfg_quote(config_setting_get_string(mn), q));
}

static const char *const backend_names[] = {"lmdb", "redis"}; /* enum state_backend */

/* check_backend_keys - a key the other backend reads would be silently
   ignored; the administrator who wrote it meant something */
static void check_backend_keys(struct cfg_ctx *ctx, const config_setting_t *g, enum state_backend backend)
{
    static const struct {
        const char *name;
        enum state_backend only;
    } only[] = {
        {"path", STATE_LMDB},           {"map_size", STATE_LMDB},    {"on_damage", STATE_LMDB},
        {"servers", STATE_REDIS},       {"timeout_ms", STATE_REDIS}, {"prefix", STATE_REDIS},
        {"password_file", STATE_REDIS}, {"db", STATE_REDIS},         {"sentinels", STATE_REDIS},
        {"master_name", STATE_REDIS},
    };
    const config_setting_t *s;
    size_t i;

    for (i = 0; i < CFG_NELEM(only); i++)
        if ((s = config_setting_get_member(g, only[i].name)) != NULL && only[i].only != backend)
            cfg_error(&ctx->rd, s, "%s: only valid with backend \"%s\" (backend is \"%s\")", only[i].name,
                      backend_names[only[i].only], backend_names[backend]);
}

/* load_map_size - "64M": the LMDB map to start with (it doubles when full) */
static void load_map_size(struct cfg_ctx *ctx, const config_setting_t *g)
{
    const config_setting_t *s = config_setting_get_member(g, "map_size");
    const char *text;
    char *end;
    unsigned long long n;

    if (s == NULL || (text = config_setting_get_string(s)) == NULL)
        return;
    n = strtoull(text, &end, 10);
    if (*end == 'K' || *end == 'M' || *end == 'G')
        n <<= *end == 'K' ? 10 : *end == 'M' ? 20 : 30, end++;
    if (end == text || *end != 0 || n < (1ULL << 20) || n > (1ULL << 40)) {
        cfg_error(&ctx->rd, s,
                  "map_size: invalid value \"%s\" (expected 1M to 1024G, with a K, M or G suffix)", text);
        return;
    }
    ctx->cfg->state.map_size = (size_t) n;
}

/* load_state - the state store group */
static void load_state(struct cfg_ctx *ctx, const config_setting_t *g)
{
    static const struct cfg_key keys[] = {
        {"backend", CT_STRING},
        {"path", CT_STRING},
        {"map_size", CT_STRING},
        {"servers", CT_STRINGS},
        {"timeout_ms", CT_INT},
        {"prefix", CT_STRING},
        {"password_file", CT_STRING},
        {"on_error", CT_STRING},
        {"on_damage", CT_STRING},
        {"db", CT_INT},
        {"sentinels", CT_STRINGS},
        {"master_name", CT_STRING},
        {NULL, CT_STRING},
    };
    static const char *const on_errors[] = {"accept", "tempfail"};
    static const char *const on_damages[] = {"reset", "refuse"}; /* enum state_on_damage */
    struct config *cfg = ctx->cfg;
    int i;

    if (g != NULL) {
        cfg_check_keys(&ctx->rd, g, keys, "in state");
        if ((i = cfg_enum(&ctx->rd, g, "backend", backend_names, CFG_NELEM(backend_names))) >= 0)
            cfg->state.backend = (enum state_backend) i;
        check_backend_keys(ctx, g, cfg->state.backend);
        cfg_string(&ctx->rd, g, "path", &cfg->state.path);
        load_map_size(ctx, g);
        load_where(ctx, g);
        cfg_int(&ctx->rd, g, "timeout_ms", 1, INT_MAX, &cfg->state.timeout_ms);
        cfg_string(&ctx->rd, g, "prefix", &cfg->state.prefix);
        cfg_string(&ctx->rd, g, "password_file", &cfg->state.password_file);
        cfg_int(&ctx->rd, g, "db", 0, INT_MAX, &cfg->state.db);
        if ((i = cfg_enum(&ctx->rd, g, "on_error", on_errors, CFG_NELEM(on_errors))) >= 0)
            cfg->state.on_error = (enum state_on_error) i;
        if ((i = cfg_enum(&ctx->rd, g, "on_damage", on_damages, CFG_NELEM(on_damages))) >= 0)
            cfg->state.on_damage = (enum state_on_damage) i;
    }
    if (cfg->state.backend == STATE_REDIS && cfg->state.servers == NULL && cfg->state.sentinels == NULL &&
        (cfg->state.servers = calloc(2, sizeof(char *))) != NULL)
        cfg->state.servers[0] = cfg_strdup(&ctx->rd, "127.0.0.1:6379"); /* redis-cli's default */
    if (cfg->state.backend == STATE_REDIS && cfg->state.servers == NULL && cfg->state.sentinels == NULL)
        ctx->rd.oom = true;
}

#define PASSWORD_MAX 512

/* read_password - state.password_file, read now (as root, before the
   daemon drops privileges) so that a missing file stops a reload instead
   of every decision. One line; the newline that ends it is not part of it. */
static void read_password(struct cfg_ctx *ctx, const config_setting_t *s, const char *path)
{
    char buf[PASSWORD_MAX + 2], q[CFG_QUOTE_MAX];
    size_t n = 0;
    int err = cfg_read_secret(path, buf, sizeof(buf), &n);

    if (!err && n > 0 && buf[n - 1] == '\n')
        n--;
    if (!err && n > 0 && buf[n - 1] == '\r')
        n--;
    if (err)
        cfg_error(&ctx->rd, s, "password_file: cannot read \"%s\": %s", cfg_quote(path, q), strerror(err));
    else if (n == 0 || n > PASSWORD_MAX || memchr(buf, '\n', n) != NULL)
        cfg_error(&ctx->rd, s, "password_file: \"%s\" must hold one line of 1 to %d bytes",
                  cfg_quote(path, q), PASSWORD_MAX);
    else if ((ctx->cfg->state.password = malloc(n + 1)) == NULL)
        ctx->rd.oom = true;
    else {
        memcpy(ctx->cfg->state.password, buf, n);
        ctx->cfg->state.password[n] = 0;
        ctx->cfg->state.password_len = n;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
}

/* check_state_usable - on_error for the rules, and the Redis password when they use Redis */
static void check_state_usable(struct cfg_ctx *ctx, const config_setting_t *g)
{
    struct config *cfg = ctx->cfg;
    const config_setting_t *s = g ? config_setting_get_member(g, "password_file") : NULL;

    cfg->policies.fallback.tempfail_on_error = cfg->state.on_error == STATE_ON_ERROR_TEMPFAIL;
    if (cfg->policies.fallback.enabled && cfg->state.backend == STATE_REDIS && s != NULL &&
        cfg->state.password_file != NULL)
        read_password(ctx, s, cfg->state.password_file);
}

/* cfg_load_fallback_state - the fallback and state groups, then what they need together */
void cfg_load_fallback_state(struct cfg_ctx *ctx, const config_setting_t *root)
{
    load_fallback(ctx, cfg_get(root, "fallback", CT_GROUP));
    load_state(ctx, cfg_get(root, "state", CT_GROUP));
    check_state_usable(ctx, cfg_get(root, "state", CT_GROUP));
}
