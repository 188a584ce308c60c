/*++
 * NAME
 *	config 3h
 * SUMMARY
 *	libconfig file -> struct config, strictly validated
 * DESCRIPTION
 *	Every key of the configuration is checked: unknown keys, wrong types,
 *	bad enumeration values, CIDRs, durations, cipher strings, domain
 *	files. Each mistake is reported as FILE:LINE: message; a configuration
 *	with any mistake is refused as a whole, never half-applied, so that a
 *	typo can never silently weaken a compliance policy.
 * LAYER
 *	src/config/ sits on util/, tls/ and core/: the loader (config.c),
 *	the policy and domain-file validators (config_policy.c), libconfig
 *	helpers shared by every loader (config_util.c), and the
 *	reference-counted configuration in force that a reload swaps
 *	(config_ref.c), what a reload weakens (config_diff.c) and the
 *	file-mode warnings (config_perm.c). It writes no records and opens
 *	no sockets.
 *--*/
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>

#include "core/policy.h"
#include "util/tp_error.h"

/* How records are written (log.format, log.addresses). */
enum log_format { LOG_FORMAT_KV = 0, LOG_FORMAT_JSON };
enum log_addresses { LOG_ADDR_FULL = 0, LOG_ADDR_DOMAIN, LOG_ADDR_HASH };

enum state_backend { STATE_LMDB = 0, STATE_REDIS };
enum state_on_error { STATE_ON_ERROR_ACCEPT = 0, STATE_ON_ERROR_TEMPFAIL };
enum state_on_damage { STATE_ON_DAMAGE_RESET = 0, STATE_ON_DAMAGE_REFUSE };

#define CONFIG_HASH_LEN       12  /* hex digits of SHA-256 shown in records */
#define CONFIG_LOG_SOCKET_MAX 108 /* sizeof(sockaddr_un.sun_path) on Linux */

struct config {
    char *path;
    char hash[CONFIG_HASH_LEN + 1]; /* over the file and every domain file */

    char *socket;
    char *policy_socket; /* NULL: not configured */
    bool socket_set;     /* socket was in the file, not the default */
    char *pidfile;
    char *user;
    char *metrics_listen; /* metrics.listen: HOST:PORT or unix:PATH; NULL: no metrics page */

    struct {
        int facility; /* LOG_MAIL, ... */
        char *facility_name;
        char *ident;
        char *socket; /* the syslog socket, "/dev/log" */
        enum log_format format;
        enum log_addresses addresses;
        char *hash_key_file;
        unsigned char *hash_key; /* read at load when addresses = hash */
        size_t hash_key_len;
    } log;

    struct {
        enum state_backend backend;
        char *path;        /* lmdb */
        size_t map_size;   /* lmdb: initial map, doubles when full */
        char **servers;    /* redis, NULL-terminated: HOST:PORT or unix:PATH */
        char **sentinels;  /* redis, instead of servers: Sentinels, same forms */
        char *master_name; /* with sentinels: the primary's name */
        int timeout_ms;
        char *prefix;
        char *password_file;
        char *password; /* redis: read at load when the fallback rules use it */
        size_t password_len;
        int db; /* redis: SELECT */
        enum state_on_error on_error;
        enum state_on_damage on_damage; /* lmdb: a damaged store at start */
    } state;

    struct policy_set policies; /* with the fallback rules: policies.fallback */

    char **domain_files; /* every domain file read, for config_check_modes() */
    size_t ndomain_files;
};

/*
 * config_load - read and validate a configuration file.
 * Returns a new config, or NULL with every error found in errs.
 */
struct config *config_load(const char *path, struct tp_errlist *errs);

/* config_defaults - fill compiled-in defaults (used by config_load). */
void config_defaults(struct config *);

void config_free(struct config *);

/*
 * config_check_pins - add "FILE:LINE: warning: ..." to warns for every
 * policy with cert_fingerprint when no policy service runs: neither
 * cfg->policy_socket nor policy_served (the daemon serves one, -s). Only
 * the policy service (and Sendmail's {cert_md5}) passes fingerprints, so
 * through Postfix's milter such a policy decides cert_mismatch. The
 * configuration stays valid. The number of warnings added.
 */
size_t config_check_pins(const struct config *cfg, bool policy_served, struct tp_errlist *warns);

#endif
