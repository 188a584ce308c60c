/*++
 * NAME
 *	config_internal 3h
 * SUMMARY
 *	the loader's shared state and the helpers of config_util.c
 * DESCRIPTION
 *	Three files fill one struct config: config.c the top level, log,
 *	fallback, state and the hash; config_policy.c default, policies and
 *	exempt; config_util.c the generic libconfig helpers both use.
 *
 *	The loader walks the libconfig tree once. Each group first has its
 *	keys checked against a table of {name, type}: an unknown key or a
 *	value of the wrong libconfig type is reported there, once. The value
 *	readers that follow (cfg_get and friends) then silently skip a
 *	setting of the wrong type, so that one mistake gives one message.
 *
 *	Every error goes to the context's error list as FILE:LINE: message
 *	and the walk continues, so that `tlspolicyd -n` shows every mistake
 *	at once. Whether the configuration is accepted is decided only at
 *	the end, by counting errors.
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
#include "config/config.h"

/* State of one config_load() call. */
struct cfg_ctx {
    const char *path; /* the configuration file, for errors */
    struct tp_errlist *errs;
    struct config *cfg; /* being filled */
    EVP_MD_CTX *md;     /* running SHA-256 for config->hash */
    bool oom;           /* reported once, at the end */
};

/* Value types as the administrator writes them; no conversion between them. */
enum cfg_type {
    CT_STRING,   /* "text" */
    CT_INT,      /* 42 */
    CT_BOOL,     /* true | false */
    CT_DURATION, /* "30d" or an integer number of seconds */
    CT_STRINGS,  /* [ "a", "b" ] or ( "a", "b" ) */
    CT_GROUP,    /* { ... } */
    CT_LIST,     /* ( { ... }, { ... } ) */
};

struct cfg_key {
    const char *name;
    enum cfg_type type;
};

/* cfg_error - add FILE:LINE: message for the place of setting s */
void cfg_error(struct cfg_ctx *, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cfg_strdup - copy, noting an allocation failure in the context */
char *cfg_strdup(struct cfg_ctx *, const char *);

/* cfg_check_keys - report unknown keys and wrong types in a group */
void cfg_check_keys(struct cfg_ctx *, const config_setting_t *group, const struct cfg_key *keys,
                    const char *where);

/* cfg_get - member name of group when present and of the given type */
const config_setting_t *cfg_get(const config_setting_t *group, const char *name, enum cfg_type type);

/* cfg_duration - a positive duration into *out when present and valid */
void cfg_duration(struct cfg_ctx *, const config_setting_t *group, const char *name, long *out);

/* cfg_enum - index of the member's value in names[], or -1 (reported);
   -2 when the member is absent or of the wrong type */
int cfg_enum(struct cfg_ctx *, const config_setting_t *group, const char *name, const char *const *names,
             size_t n);

/* cfg_string - replace *dst by the member's value when present; a
   non-empty value is required. Returns true when the member was set. */
bool cfg_string(struct cfg_ctx *, const config_setting_t *group, const char *name, char **dst);

/* cfg_int - the member's value in [min, max] into *out; true when set */
bool cfg_int(struct cfg_ctx *, const config_setting_t *group, const char *name, long min, long max, int *out);

/* cfg_quote - a value made safe to echo in a message: printable ASCII,
   other bytes as \xHH, cut at CFG_QUOTE_MAX - 4 with "..." */
#define CFG_QUOTE_MAX 96
const char *cfg_quote(const char *value, char *buf);

/* cfg_absolute - path is absolute, else an error at s naming key name */
bool cfg_absolute(struct cfg_ctx *, const config_setting_t *s, const char *name, const char *path);

/* Where the @include scan of the configuration file stands. */
struct cfg_scan {
    int line;  /* line of the next byte, from 1 */
    int state; /* libconfig's lexical state, see config_util.c */
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

#define CFG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
