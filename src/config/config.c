/*++
 * NAME
 *	config 3
 * SUMMARY
 *	libconfig file -> struct config, strictly validated
 * SYNOPSIS
 *	#include "config/config.h"
 *
 *	struct config *config_load(path, errs)
 *	const char *path;
 *	struct tp_errlist *errs;
 *
 *	void	config_defaults(cfg)
 *	struct config *cfg;
 *
 *	void	config_free(cfg)
 *	struct config *cfg;
 * DESCRIPTION
 *	config_load() opens the file once and reads it twice through the same
 *	descriptor: first into SHA-256, then into libconfig, so that the hash
 *	in every decision record describes exactly the text that was parsed.
 *	Domain files are fed to the same hash, in the order they are read,
 *	so that editing a domain list changes the hash an auditor sees. The
 *	first reading also looks for @include, which is refused: libconfig
 *	would read the included file behind the hash's back.
 *
 *	This file does the top level (sockets, pidfile, user, mode), log and
 *	the hash; config_policy.c does default, policies and exempt;
 *	config_state.c the fallback rules and their state store; config_include.c refuses @include; cfgread.c holds the
 *	generic libconfig helpers.
 *
 *	config_defaults() initialises every field of a struct config, which
 *	need not be initialised before; it does not free old contents.
 * DIAGNOSTICS
 *	Every mistake is added to errs as FILE:LINE: message; config_load()
 *	returns NULL when it found any. The messages are listed in
 *	tlspolicyd.conf(5).
 *--*/

/* System library. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* External libraries. */
#include <libconfig.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Application. */
#include "config/config_internal.h"

#define DEFAULT_SOCKET     "unix:/run/tlspolicyd/tlspolicyd.sock"
#define DEFAULT_PIDFILE    "/run/tlspolicyd/tlspolicyd.pid"
#define DEFAULT_USER       "tlspolicyd"
#define DEFAULT_STATE_PATH "/var/lib/tlspolicyd"
#define HASH_KEY_MIN       16   /* HMAC-SHA256 keys shorter than this are guessable */
#define HASH_KEY_MAX       4096 /* a bound, so that a device file cannot be read forever */

/* hash_stream - feed an open file to the configuration hash and,
   for the configuration file itself, to the @include scan */
static int hash_stream(struct cfg_ctx *ctx, FILE *fp, struct cfg_scan *scan)
{
    unsigned char buf[65536];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
        if (ctx->md && !EVP_DigestUpdate(ctx->md, buf, n))
            ctx->rd.oom = true;
        if (scan)
            cfg_scan_include(ctx, scan, buf, n);
    }
    if (ferror(fp)) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

/* cfg_hash_file - feed a file's bytes to the hash; -1 with errno set */
int cfg_hash_file(struct cfg_ctx *ctx, const char *path)
{
    FILE *fp;
    int rc, saved;

    if ((fp = fopen(path, "rb")) == NULL)
        return -1;
    errno = 0;
    rc = hash_stream(ctx, fp, NULL);
    saved = errno;
    fclose(fp);
    errno = saved;
    return rc;
}

/* valid_port - 1 to 65535, decimal digits only */
static bool valid_port(const char *p, size_t n)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return false;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char) p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* cfg_valid_host_port - HOST:PORT, HOST possibly a bracketed IPv6 address */
bool cfg_valid_host_port(const char *p)
{
    const char *colon = strrchr(p, ':');

    return colon && colon > p && valid_port(colon + 1, strlen(colon + 1));
}

/* cfg_after_prefix - the text after prefix, or NULL */
const char *cfg_after_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/*
 * valid_milter_socket - libmilter's forms. "inet:PORT" without @HOST would
 * listen on every interface; we insist on a host so that exposure of the
 * milter port is always a visible decision.
 */
static bool valid_milter_socket(const char *s)
{
    const char *p, *at;

    if ((p = cfg_after_prefix(s, "unix:")) != NULL || (p = cfg_after_prefix(s, "local:")) != NULL)
        return *p != 0;
    if ((p = cfg_after_prefix(s, "inet:")) == NULL && (p = cfg_after_prefix(s, "inet6:")) == NULL)
        return false;
    at = strchr(p, '@');
    return at && valid_port(p, (size_t) (at - p)) && at[1] != 0;
}

/* valid_policy_socket - inet:HOST:PORT as Postfix writes it, or unix:PATH */
static bool valid_policy_socket(const char *s)
{
    const char *p;

    if ((p = cfg_after_prefix(s, "unix:")) != NULL)
        return *p != 0;
    return (p = cfg_after_prefix(s, "inet:")) != NULL && cfg_valid_host_port(p);
}

/* valid_metrics_listen - HOST:PORT ([V6]:PORT) or unix:PATH with an absolute path */
static bool valid_metrics_listen(const char *s)
{
    const char *p;

    if ((p = cfg_after_prefix(s, "unix:")) != NULL)
        return *p == '/';
    return cfg_valid_host_port(s);
}

/* load_socket - one socket key, checked with its validator */
static void load_socket(struct cfg_ctx *ctx, const config_setting_t *root, const char *name, char **dst,
                        bool (*valid)(const char *), const char *expected)
{
    char q[CFG_QUOTE_MAX];

    if (cfg_string(&ctx->rd, root, name, dst) && *dst && !valid(*dst))
        cfg_error(&ctx->rd, cfg_get(root, name, CT_STRING), "%s: invalid value \"%s\" (expected %s)", name,
                  cfg_quote(*dst, q), expected);
}

/* load_daemon - the keys of the daemon's life cycle */
static void load_daemon(struct cfg_ctx *ctx, const config_setting_t *root)
{
    struct config *cfg = ctx->cfg;

    load_socket(ctx, root, "socket", &cfg->socket, valid_milter_socket,
                "unix:PATH, local:PATH, inet:PORT@HOST or inet6:PORT@HOST, PORT 1 to 65535");
    /* Without socket and with policy_socket, only the policy service runs. */
    cfg->socket_set = cfg_get(root, "socket", CT_STRING) != NULL;
    load_socket(ctx, root, "policy_socket", &cfg->policy_socket, valid_policy_socket,
                "inet:HOST:PORT, PORT 1 to 65535, or unix:PATH");
    cfg_string(&ctx->rd, root, "pidfile", &cfg->pidfile);
    cfg_string(&ctx->rd, root, "user", &cfg->user);
    cfg_mode(ctx, root, &cfg->policies.mode);
}

/* cfg_read_secret - up to size bytes of a secret file (*n: how many); 0 or an errno */
int cfg_read_secret(const char *path, void *buf, size_t size, size_t *n)
{
    FILE *fp;
    int err;

    if ((fp = fopen(path, "rb")) == NULL)
        return errno;
    errno = 0;
    *n = fread(buf, 1, size, fp);
    err = ferror(fp) ? (errno ? errno : EIO) : 0;
    fclose(fp);
    return err;
}

/* read_hash_key - the HMAC key for addresses = hash, read now so that a
   missing key stops a reload instead of the first record */
static void read_hash_key(struct cfg_ctx *ctx, const config_setting_t *s, const char *path)
{
    unsigned char buf[HASH_KEY_MAX + 1];
    char q[CFG_QUOTE_MAX];
    size_t n = 0;
    int err = cfg_read_secret(path, buf, sizeof(buf), &n);

    if (err)
        cfg_error(&ctx->rd, s, "hash_key_file: cannot read \"%s\": %s", cfg_quote(path, q), strerror(err));
    else if (n < HASH_KEY_MIN)
        cfg_error(&ctx->rd, s, "hash_key_file: \"%s\" holds %zu bytes, at least %d are needed",
                  cfg_quote(path, q), n, HASH_KEY_MIN);
    else if (n > HASH_KEY_MAX)
        cfg_error(&ctx->rd, s, "hash_key_file: \"%s\" holds more than %d bytes", cfg_quote(path, q),
                  HASH_KEY_MAX);
    else if ((ctx->cfg->log.hash_key = malloc(n)) == NULL)
        ctx->rd.oom = true;
    else {
        memcpy(ctx->cfg->log.hash_key, buf, n);
        ctx->cfg->log.hash_key_len = n;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
}

/* load_log_socket - log.socket: an absolute path that fits a sockaddr_un */
static void load_log_socket(struct cfg_ctx *ctx, const config_setting_t *g)
{
    const config_setting_t *s = cfg_get(g, "socket", CT_STRING);
    char *path;

    if (!cfg_string(&ctx->rd, g, "socket", &ctx->cfg->log.socket) || (path = ctx->cfg->log.socket) == NULL)
        return;
    /* sun_path holds 108 bytes with the NUL on Linux; a longer name
       would be cut and name another socket. */
    if (cfg_absolute(&ctx->rd, s, "socket", path) && strlen(path) >= CONFIG_LOG_SOCKET_MAX)
        cfg_error(&ctx->rd, s, "socket: longer than %d bytes", CONFIG_LOG_SOCKET_MAX - 1);
}

/* load_log - the log group */
static void load_log(struct cfg_ctx *ctx, const config_setting_t *g)
{
    static const struct cfg_key keys[] = {
        {"facility", CT_STRING},      {"ident", CT_STRING},  {"format", CT_STRING}, {"addresses", CT_STRING},
        {"hash_key_file", CT_STRING}, {"socket", CT_STRING}, {NULL, CT_STRING},
    };
    static const char *const facilities[] = {"mail",   "daemon", "user",   "local0", "local1", "local2",
                                             "local3", "local4", "local5", "local6", "local7"};
    static const int facility_values[] = {LOG_MAIL,   LOG_DAEMON, LOG_USER,   LOG_LOCAL0,
                                          LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4,
                                          LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7};
    static const char *const formats[] = {"kv", "json"};
    static const char *const addresses[] = {"full", "domain", "hash"};
    struct config *cfg = ctx->cfg;
    const config_setting_t *s;
    int i;

    if (g == NULL)
        return;
    cfg_check_keys(&ctx->rd, g, keys, "in log");
    if ((i = cfg_enum(&ctx->rd, g, "facility", facilities, CFG_NELEM(facilities))) >= 0) {
        cfg->log.facility = facility_values[i];
        free(cfg->log.facility_name);
        cfg->log.facility_name = cfg_strdup(&ctx->rd, facilities[i]);
    }
    cfg_string(&ctx->rd, g, "ident", &cfg->log.ident);
    load_log_socket(ctx, g);
    if ((i = cfg_enum(&ctx->rd, g, "format", formats, CFG_NELEM(formats))) >= 0)
        cfg->log.format = i == 0 ? LOG_FORMAT_KV : LOG_FORMAT_JSON;
    if ((i = cfg_enum(&ctx->rd, g, "addresses", addresses, CFG_NELEM(addresses))) >= 0)
        cfg->log.addresses = (enum log_addresses) i;
    cfg_string(&ctx->rd, g, "hash_key_file", &cfg->log.hash_key_file);
    if (i != LOG_ADDR_HASH)
        return;
    if (config_setting_get_member(g, "hash_key_file") == NULL)
        cfg_error(&ctx->rd, cfg_get(g, "addresses", CT_STRING), "addresses: \"hash\" needs hash_key_file");
    else if (cfg->log.hash_key_file == NULL)
        return; /* mistyped or empty: reported already */
    else if (cfg_absolute(&ctx->rd, (s = cfg_get(g, "hash_key_file", CT_STRING)), "hash_key_file",
                          cfg->log.hash_key_file))
        read_hash_key(ctx, s, cfg->log.hash_key_file);
}

/*
 * check_not_truncated - an empty file, or one without a policies list, is
 * most likely cut short (an editor's crash, ": > file", a full disk): read
 * as it stands it would quietly drop every required domain. Reported at
 * line 1, as a problem of the whole file. "policies = ();" says "the
 * default alone" on purpose.
 */
static void check_not_truncated(struct cfg_ctx *ctx, const config_setting_t *root)
{
    if (config_setting_length(root) == 0)
        tp_errlist_add(ctx->rd.errs, ctx->rd.path, 1,
                       "the file is empty (or only comments): no policies, no default; refused, as a file"
                       " cut short would drop every policy");
    else if (config_setting_get_member(root, "policies") == NULL)
        tp_errlist_add(ctx->rd.errs, ctx->rd.path, 1,
                       "no policies list: is the file cut short? write \"policies = ();\" to run with the"
                       " default policy alone");
}

/* load_metrics - metrics = { listen = "..."; }: the metrics page, off when absent */
static void load_metrics(struct cfg_ctx *ctx, const config_setting_t *g)
{
    static const struct cfg_key keys[] = {{"listen", CT_STRING}, {NULL, CT_STRING}};

    if (g == NULL)
        return;
    cfg_check_keys(&ctx->rd, g, keys, "in metrics");
    load_socket(ctx, g, "listen", &ctx->cfg->metrics_listen, valid_metrics_listen,
                "HOST:PORT, [IPv6]:PORT, PORT 1 to 65535, or unix:/PATH");
}

/* load_root - the whole file */
static void load_root(struct cfg_ctx *ctx, const config_setting_t *root)
{
    static const struct cfg_key keys[] = {
        {"socket", CT_STRING},  {"policy_socket", CT_STRING}, {"pidfile", CT_STRING},
        {"user", CT_STRING},    {"mode", CT_STRING},          {"log", CT_GROUP},
        {"exempt", CT_GROUP},   {"default", CT_GROUP},        {"policies", CT_LIST},
        {"fallback", CT_GROUP}, {"state", CT_GROUP},          {"metrics", CT_GROUP},
        {NULL, CT_STRING},
    };

    size_t before = ctx->rd.errs->n + ctx->rd.errs->dropped;

    cfg_check_keys(&ctx->rd, root, keys, "at top level");
    load_daemon(ctx, root);
    load_log(ctx, cfg_get(root, "log", CT_GROUP));
    cfg_load_policies(ctx, root);
    cfg_load_fallback_state(ctx, root);
    load_metrics(ctx, cfg_get(root, "metrics", CT_GROUP));
    /* After other mistakes, a missing list would only add noise. */
    if (ctx->rd.errs->n + ctx->rd.errs->dropped == before)
        check_not_truncated(ctx, root);
}

/* config_defaults - the compiled-in configuration */
void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg)); /* fallback.enabled = false, no policy_socket, ... */
    cfg->socket = strdup(DEFAULT_SOCKET);
    cfg->pidfile = strdup(DEFAULT_PIDFILE);
    cfg->user = strdup(DEFAULT_USER);
    cfg->log.facility = LOG_MAIL;
    cfg->log.facility_name = strdup("mail");
    cfg->log.ident = strdup("tlspolicyd");
    cfg->log.socket = strdup("/dev/log");
    cfg->log.format = LOG_FORMAT_KV;
    cfg->log.addresses = LOG_ADDR_FULL;
    cfg->state.backend = STATE_LMDB;
    cfg->state.path = strdup(DEFAULT_STATE_PATH);
    cfg->state.map_size = 64UL << 20;
    cfg->state.timeout_ms = 50;
    cfg->state.prefix = strdup("tlspolicyd:");
    cfg->state.on_error = STATE_ON_ERROR_ACCEPT;
    cfg->state.on_damage = STATE_ON_DAMAGE_RESET;
    policy_set_init(&cfg->policies);
    cfg->policies.mode = POLICY_MODE_ENFORCE;
    cfg->policies.exempt_authenticated = true;
    cfg->policies.dflt.name = strdup("default");
    /* Always present, so that the decision code never tests for NULL. */
    cfg->policies.rcpt_map = domain_map_new();
    cfg->policies.sender_map = domain_map_new();
}

/* defaults_complete - config_defaults() got all its memory */
static bool defaults_complete(const struct config *cfg)
{
    return cfg->socket && cfg->pidfile && cfg->user && cfg->log.facility_name && cfg->log.ident &&
           cfg->log.socket && cfg->state.path && cfg->state.prefix && cfg->policies.dflt.name &&
           cfg->policies.rcpt_map && cfg->policies.sender_map;
}

/* free_domain_files - the names config_policy.c recorded */
static void free_domain_files(struct config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->ndomain_files; i++)
        free(cfg->domain_files[i]);
    free(cfg->domain_files);
}

/* config_free - release a configuration and all it owns */
void config_free(struct config *cfg)
{
    char **sv;

    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->socket);
    free(cfg->policy_socket);
    free(cfg->metrics_listen);
    free(cfg->pidfile);
    free(cfg->user);
    free(cfg->log.facility_name);
    free(cfg->log.ident);
    free(cfg->log.socket);
    free(cfg->log.hash_key_file);
    if (cfg->log.hash_key)
        OPENSSL_cleanse(cfg->log.hash_key, cfg->log.hash_key_len);
    free(cfg->log.hash_key);
    free(cfg->state.path);
    for (sv = cfg->state.servers; sv && *sv; sv++)
        free(*sv);
    free(cfg->state.servers);
    for (sv = cfg->state.sentinels; sv && *sv; sv++)
        free(*sv);
    free(cfg->state.sentinels);
    free(cfg->state.master_name);
    free(cfg->state.prefix);
    free(cfg->state.password_file);
    if (cfg->state.password)
        OPENSSL_cleanse(cfg->state.password, cfg->state.password_len);
    free(cfg->state.password);
    policy_set_clear(&cfg->policies);
    free_domain_files(cfg);
    free(cfg);
}

/*
 * parse_file - hash the file, then parse the same bytes and walk them.
 * An @include would let libconfig read a file the hash never saw (and,
 * relative, resolve it against "/" after a reload): it is refused before
 * libconfig can open anything.
 */
static void parse_file(struct cfg_ctx *ctx, FILE *fp)
{
    struct cfg_scan scan;
    config_t lc;
    const char *file;

    cfg_scan_init(&scan);
    errno = 0;
    if (hash_stream(ctx, fp, &scan) < 0) {
        tp_errlist_add(ctx->rd.errs, ctx->rd.path, 0, "cannot read: %s", strerror(errno));
        return;
    }
    if (scan.found > 0)
        return;
    rewind(fp);
    config_init(&lc);
    if (config_read(&lc, fp) != CONFIG_TRUE) {
        file = config_error_file(&lc);
        tp_errlist_add(ctx->rd.errs, file ? file : ctx->rd.path, config_error_line(&lc), "%s",
                       config_error_text(&lc));
    } else {
        load_root(ctx, config_root_setting(&lc));
    }
    config_destroy(&lc);
}

/* finish_hash - the first CONFIG_HASH_LEN hex digits of the digest */
static void finish_hash(struct cfg_ctx *ctx)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;

    if (ctx->md == NULL || !EVP_DigestFinal_ex(ctx->md, md, &len) || len * 2 < CONFIG_HASH_LEN) {
        ctx->rd.oom = true;
        return;
    }
    for (i = 0; i < CONFIG_HASH_LEN; i++)
        ctx->cfg->hash[i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    ctx->cfg->hash[CONFIG_HASH_LEN] = 0;
}

/* config_load - read and validate a configuration file */
struct config *config_load(const char *path, struct tp_errlist *errs)
{
    size_t before = errs->n + errs->dropped;
    struct cfg_ctx ctx = {{path, errs, false}, NULL, NULL};
    FILE *fp;

    if ((ctx.cfg = malloc(sizeof(*ctx.cfg))) == NULL) {
        tp_errlist_add(errs, path, 0, "out of memory");
        return NULL;
    }
    config_defaults(ctx.cfg);
    ctx.cfg->path = cfg_strdup(&ctx.rd, path);
    if (!defaults_complete(ctx.cfg) || (ctx.md = EVP_MD_CTX_new()) == NULL ||
        !EVP_DigestInit_ex(ctx.md, EVP_sha256(), NULL))
        ctx.rd.oom = true;
    /* Without memory, reading on would only add noise to the one error. */
    if (!ctx.rd.oom && (fp = fopen(path, "r")) == NULL)
        tp_errlist_add(errs, path, 0, "cannot open: %s", strerror(errno));
    else if (!ctx.rd.oom) {
        parse_file(&ctx, fp);
        fclose(fp);
    }
    finish_hash(&ctx);
    EVP_MD_CTX_free(ctx.md);
    if (ctx.rd.oom)
        tp_errlist_add(errs, path, 0, "out of memory");
    if (errs->n + errs->dropped > before) {
        config_free(ctx.cfg);
        return NULL;
    }
    return ctx.cfg;
}
