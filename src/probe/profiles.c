/*++
 * NAME
 *	profiles 3
 * SUMMARY
 *	load and check the client profiles file
 * SYNOPSIS
 *	#include "probe/profiles.h"
 *
 *	int	profiles_load(path, ps, errs)
 *	const struct probe_profile *profiles_find(ps, name)
 *	void	profiles_free(ps)
 *	int	profiles_valid_name(name)
 * DESCRIPTION
 *	The file has one setting, a list called profiles whose elements
 *	are groups. Each group's keys are checked against a table with the
 *	loader helpers tlspolicyd's own configuration uses (cfgread.h),
 *	so both files report the same mistakes in the same words.
 *
 *	Cipher, group and signature algorithm strings are not checked
 *	here: whether this OpenSSL can offer them is a property of the
 *	machine the probe runs on, reported per profile as "not testable",
 *	not a mistake in the file.
 * DIAGNOSTICS
 *	FILE:LINE: message for an unknown key, a value of the wrong type,
 *	an unknown protocol version, min_version above max_version, a
 *	missing, malformed or duplicate name, and libconfig's own syntax
 *	errors; FILE: message when the file cannot be read or holds no
 *	profile.
 *--*/

/* System library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Libraries. */
#include <libconfig.h>

/* Application. */
#include "config/cfgread.h"
#include "tls/tlsinfo.h"
#include "probe/profiles.h"

static const struct cfg_key root_keys[] = {
    {"profiles", CT_LIST},
    {NULL, CT_STRING},
};

static const struct cfg_key profile_keys[] = {
    {"name", CT_STRING},        {"note", CT_STRING},    {"min_version", CT_STRING},
    {"max_version", CT_STRING}, {"ciphers", CT_STRING}, {"ciphersuites", CT_STRING},
    {"groups", CT_STRING},      {"sigalgs", CT_STRING}, {"must_pass", CT_BOOL},
    {NULL, CT_STRING},
};

/* profiles_valid_name - a name that is safe in a table, in json and on a command line */
int profiles_valid_name(const char *name)
{
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

    return n > 0 && n <= PROFILES_NAME_MAX && name[n] == 0;
}

/* load_name - the profile's name: present, well formed, not seen before */
static void load_name(struct cfg_reader *rd, const config_setting_t *g, struct profiles *ps, size_t idx)
{
    const config_setting_t *s = cfg_get(g, "name", CT_STRING);
    char q[CFG_QUOTE_MAX];
    const char *name;
    size_t i;

    if (s == NULL) {
        if (config_setting_get_member(g, "name") == NULL)
            cfg_error(rd, g, "profile %zu has no name", idx + 1);
        return;
    }
    name = config_setting_get_string(s);
    if (!profiles_valid_name(name)) {
        cfg_error(rd, s, "name: invalid value \"%s\" (expected 1 to %d letters, digits, '_', '.' or '-')",
                  cfg_quote(name, q), PROFILES_NAME_MAX);
        return;
    }
    for (i = 0; i < idx; i++)
        if (ps->v[i].name && strcmp(ps->v[i].name, name) == 0) {
            cfg_error(rd, s, "duplicate profile name \"%s\" (first defined at line %d)", name, ps->v[i].line);
            return;
        }
    ps->v[idx].name = cfg_strdup(rd, name);
}

/* load_version - min_version or max_version: the names tlspolicyd.conf uses */
static void load_version(struct cfg_reader *rd, const config_setting_t *g, const char *key,
                         enum tls_version *out)
{
    const config_setting_t *s = cfg_get(g, key, CT_STRING);
    char q[CFG_QUOTE_MAX];

    if (s == NULL)
        return;
    if (tlsinfo_version_parse_config(config_setting_get_string(s), out) != 0)
        cfg_error(rd, s, "%s: invalid value \"%s\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", key,
                  cfg_quote(config_setting_get_string(s), q));
}

/* load_profile - one group of the list */
static void load_profile(struct cfg_reader *rd, const config_setting_t *g, struct profiles *ps, size_t idx)
{
    struct probe_profile *p = &ps->v[idx];
    const config_setting_t *s;

    p->line = config_setting_source_line(g);
    p->must_pass = true;
    cfg_check_keys(rd, g, profile_keys, "in a profile");
    load_name(rd, g, ps, idx);
    cfg_string(rd, g, "note", &p->note);
    load_version(rd, g, "min_version", &p->min_version);
    load_version(rd, g, "max_version", &p->max_version);
    if (p->min_version != TLS_V_NONE && p->max_version != TLS_V_NONE && p->min_version > p->max_version)
        cfg_error(rd, config_setting_get_member(g, "max_version"), "max_version: %s is below min_version %s",
                  tlsinfo_version_name(p->max_version), tlsinfo_version_name(p->min_version));
    cfg_string(rd, g, "ciphers", &p->ciphers);
    cfg_string(rd, g, "ciphersuites", &p->ciphersuites);
    cfg_string(rd, g, "groups", &p->groups);
    cfg_string(rd, g, "sigalgs", &p->sigalgs);
    if ((s = cfg_get(g, "must_pass", CT_BOOL)) != NULL)
        p->must_pass = config_setting_get_bool(s);
}

/* load_root - the profiles list */
static void load_root(struct cfg_reader *rd, const config_setting_t *root, struct profiles *ps)
{
    const config_setting_t *list;
    int i, n;

    cfg_check_keys(rd, root, root_keys, "at the top level");
    if ((list = cfg_get(root, "profiles", CT_LIST)) == NULL || (n = config_setting_length(list)) == 0) {
        if (config_setting_get_member(root, "profiles") == NULL || list != NULL)
            tp_errlist_add(rd->errs, rd->path, 0,
                           "no profiles: expected profiles = ( { name = ...; }, ... );");
        return;
    }
    if ((ps->v = calloc((size_t) n, sizeof(*ps->v))) == NULL) {
        rd->oom = true;
        return;
    }
    ps->n = (size_t) n;
    for (i = 0; i < n; i++)
        load_profile(rd, config_setting_get_elem(list, (unsigned) i), ps, (size_t) i);
}

/* profiles_load - read and check path into *ps */
int profiles_load(const char *path, struct profiles *ps, struct tp_errlist *errs)
{
    size_t before = errs->n + errs->dropped;
    struct cfg_reader rd = {path, errs, false};
    const char *file;
    config_t lc;
    FILE *fp;

    ps->v = NULL;
    ps->n = 0;
    /* Opened here, not by libconfig, so that the reason is errno's. */
    if ((fp = fopen(path, "r")) == NULL) {
        tp_errlist_add(errs, path, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    config_init(&lc);
    if (config_read(&lc, fp) != CONFIG_TRUE) {
        file = config_error_file(&lc);
        tp_errlist_add(errs, file ? file : path, config_error_line(&lc), "%s", config_error_text(&lc));
    } else {
        load_root(&rd, config_root_setting(&lc), ps);
    }
    config_destroy(&lc);
    fclose(fp);
    if (rd.oom)
        tp_errlist_add(errs, path, 0, "out of memory");
    if (errs->n + errs->dropped > before) {
        profiles_free(ps);
        return -1;
    }
    return 0;
}

/* profiles_find - the profile called name, or NULL */
const struct probe_profile *profiles_find(const struct profiles *ps, const char *name)
{
    size_t i;

    for (i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].name, name) == 0)
            return &ps->v[i];
    return NULL;
}

/* profiles_free - release what profiles_load() allocated */
void profiles_free(struct profiles *ps)
{
    size_t i;

    for (i = 0; i < ps->n; i++) {
        free(ps->v[i].name);
        free(ps->v[i].note);
        free(ps->v[i].ciphers);
        free(ps->v[i].ciphersuites);
        free(ps->v[i].groups);
        free(ps->v[i].sigalgs);
    }
    free(ps->v);
    ps->v = NULL;
    ps->n = 0;
}
