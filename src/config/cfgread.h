/*++
 * NAME
 *	cfgread 3h
 * SUMMARY
 *	reading a libconfig file strictly: typed values, FILE:LINE errors
 * DESCRIPTION
 *	The helpers with which tlspolicyd.conf is read, public so that
 *	every libconfig file of the project (the probe's client profiles
 *	too) reports the same mistakes in the same words.
 *
 *	A struct cfg_reader names the file for messages, collects the
 *	errors and remembers an allocation failure. Each group of the file
 *	first has its keys checked against a table of {name, type}
 *	(cfg_check_keys()): an unknown key or a value of the wrong libconfig
 *	type is reported there, once. The value readers that follow
 *	(cfg_get() and friends) then silently skip a setting of the wrong
 *	type, so that one mistake gives one message.
 *
 *	Every error goes to the error list as FILE:LINE: message and the
 *	walk continues, so that a reader can show every mistake at once;
 *	whether the file is accepted is the caller's decision, by counting
 *	errors.
 *--*/
#ifndef CONFIG_CFGREAD_H
#define CONFIG_CFGREAD_H

/* System library. */
#include <stdbool.h>
#include <stddef.h>

/* External libraries. */
#include <libconfig.h>

/* Application. */
#include "util/tp_error.h"

/* One file being read. */
struct cfg_reader {
    const char *path;        /* the file, for errors libconfig cannot place */
    struct tp_errlist *errs; /* where FILE:LINE: message goes */
    bool oom;                /* reported once, by the caller, at the end */
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

/* One allowed key of a group; a table ends with name NULL. */
struct cfg_key {
    const char *name;
    enum cfg_type type;
};

/* cfg_error - add FILE:LINE: message for the place of setting s */
void cfg_error(struct cfg_reader *, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cfg_strdup - copy, noting an allocation failure in the reader */
char *cfg_strdup(struct cfg_reader *, const char *);

/* cfg_check_keys - report unknown keys and wrong types in a group */
void cfg_check_keys(struct cfg_reader *, const config_setting_t *group, const struct cfg_key *keys,
                    const char *where);

/* cfg_get - member name of group when present and of the given type */
const config_setting_t *cfg_get(const config_setting_t *group, const char *name, enum cfg_type type);

/* cfg_parse_duration - "30d", "6h", "90m", "45s" or "120" (seconds) into
   *seconds; 0, or -1 for anything else (overflow too) */
int cfg_parse_duration(const char *text, long *seconds);

/* cfg_duration - a positive duration into *out when present and valid */
void cfg_duration(struct cfg_reader *, const config_setting_t *group, const char *name, long *out);

/* cfg_enum - index of the member's value in names[], or -1 (reported);
   -2 when the member is absent or of the wrong type */
int cfg_enum(struct cfg_reader *, const config_setting_t *group, const char *name, const char *const *names,
             size_t n);

/* cfg_string - replace *dst by the member's value when present; a
   non-empty value is required. Returns true when the member was set. */
bool cfg_string(struct cfg_reader *, const config_setting_t *group, const char *name, char **dst);

/* cfg_int - the member's value in [min, max] into *out; true when set */
bool cfg_int(struct cfg_reader *, const config_setting_t *group, const char *name, long min, long max,
             int *out);

/* cfg_quote - a value made safe to echo in a message: printable ASCII,
   other bytes as \xHH, cut at CFG_QUOTE_MAX - 4 with "..." */
#define CFG_QUOTE_MAX 96
const char *cfg_quote(const char *value, char *buf);

/* cfg_absolute - path is absolute, else an error at s naming key name */
bool cfg_absolute(struct cfg_reader *, const config_setting_t *s, const char *name, const char *path);

#define CFG_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
