/*++
 * NAME
 *	profiles 3h
 * SUMMARY
 *	the client profiles file of tlspolicy-probe
 * DESCRIPTION
 *	profiles_load() reads and checks a libconfig file of the form
 *	profiles = ( { name = "..."; ... }, ... ); see tlspolicy-probe(1).
 *	Every mistake is reported as FILE:LINE: message; a file with any
 *	mistake is refused as a whole.
 *--*/
#ifndef PROBE_PROFILES_H
#define PROBE_PROFILES_H

/* System library. */
#include <stddef.h>

/* Application. */
#include "probe/probe.h"
#include "util/tp_error.h"

struct profiles {
    struct probe_profile *v;
    size_t n;
};

/* profiles_load - read and check path into *ps; -1 with errs filled */
int profiles_load(const char *path, struct profiles *ps, struct tp_errlist *errs);

/* profiles_find - the profile called name, or NULL */
const struct probe_profile *profiles_find(const struct profiles *ps, const char *name);

/* profiles_free - release what profiles_load() allocated */
void profiles_free(struct profiles *ps);

/* profiles_valid_name - letters, digits, '_', '.' and '-', 1 to PROFILES_NAME_MAX */
#define PROFILES_NAME_MAX 64
int profiles_valid_name(const char *name);

#endif
