/*++
 * NAME
 *	config_internal 3h
 * SUMMARY
 *	the loader's shared state
 * DESCRIPTION
 *	Three files fill one struct config: config.c the top level, log,
 *	fallback, state and the hash; config_policy.c default, policies and
 *	exempt; config_include.c the @include scan of the hashed bytes. The
 *	generic libconfig helpers they use are public (cfgread.h), since
 *	other files of the project are read the same way.
 *
 *	The loader walks the libconfig tree once; see cfgread.h for how
 *	keys, types and errors are handled.
 *--*/
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H

/* System library. */
#include <stdbool.h>
#include <stddef.h>

/* External libraries. */
#include <libconfig.h>
#include <openssl/evp.h>

/* Application. */
#include "config/cfgread.h"
#include "config/config.h"

/* State of one config_load() call: the file being read, and what it fills. */
struct cfg_ctx {
    struct cfg_reader rd; /* path, errors, allocation failure */
    struct config *cfg;   /* being filled */
    EVP_MD_CTX *md;       /* running SHA-256 for config->hash */
};

/* Where the @include scan of the configuration file stands. */
struct cfg_scan {
    int line;  /* line of the next byte, from 1 */
    int state; /* libconfig's lexical state, see config_include.c */
    int bol;   /* bytes of "@include" seen first on the line; -1: none can be */
    int found; /* @include lines reported */
};

/* cfg_scan_init - the state at the start of a file */
void cfg_scan_init(struct cfg_scan *);

/* cfg_scan_include - report every @include in the file's next len bytes */
void cfg_scan_include(struct cfg_ctx *, struct cfg_scan *, const unsigned char *buf, size_t len);

/* cfg_hash_file - feed a file's bytes to the hash; -1 with errno set (config.c) */
int cfg_hash_file(struct cfg_ctx *, const char *path);

/* cfg_mode - "enforce" or "monitor" into *out; cfg_enum's return value
   (config_policy.c, also used for the global mode) */
int cfg_mode(struct cfg_ctx *, const config_setting_t *group, enum policy_mode *out);

/* cfg_load_policies - default, policies and exempt (config_policy.c) */
void cfg_load_policies(struct cfg_ctx *, const config_setting_t *root);

/* cfg_load_fallback_state - the fallback and state groups (config_state.c) */
void cfg_load_fallback_state(struct cfg_ctx *, const config_setting_t *root);

/* cfg_valid_host_port - HOST:PORT, HOST possibly a bracketed IPv6 address (config.c) */
bool cfg_valid_host_port(const char *p);

/* cfg_after_prefix - the text after prefix, or NULL (config.c) */
const char *cfg_after_prefix(const char *s, const char *prefix);

/* cfg_read_secret - up to size bytes of a secret file (*n: how many); 0 or an errno (config.c) */
int cfg_read_secret(const char *path, void *buf, size_t size, size_t *n);

#endif
