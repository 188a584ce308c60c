/*++
 * NAME
 *	domain_map 3h
 * SUMMARY
 *	domain name -> policy lookup (exact and suffix rules, IDN)
 * DESCRIPTION
 *	Rules are "example.org" (that domain) and ".example.org" (every
 *	subdomain of example.org, not example.org itself). Names are
 *	normalised before they are stored or looked up: lower case, no
 *	trailing dot, U-labels converted to A-labels, so that the two forms of
 *	an IDN are the same domain. A lookup costs one hash probe for the name
 *	and one per parent domain: independent of the number of rules.
 *	A map is built once and then only read, so concurrent lookups from
 *	many threads are safe.
 *--*/
#ifndef DOMAIN_MAP_H
#define DOMAIN_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/tp_error.h"

#define DOMAIN_MAX 253 /* RFC 1035, in A-label form, without trailing dot */

/*
 * domain_normalize - canonical A-label form of a domain name.
 * Accepts upper case, one trailing dot, UTF-8 U-labels (converted with
 * libidn2, IDNA2008 with TR46 non-transitional mapping) and A-labels.
 * Rejects empty labels, labels over 63 octets, names over DOMAIN_MAX,
 * and bytes that are not letters, digits, '-' or '_' after conversion.
 * out must hold DOMAIN_MAX + 1 bytes. Returns 0, or -1 with err->msg set.
 */
int domain_normalize(const char *in, char *out, struct tp_error *err);

struct domain_map;

struct domain_map *domain_map_new(void);

/* Adds rule ("x" or ".x") for policy index idx. The same rule may be
   added for several policies. Returns 0, or -1 with err->msg set (the
   caller adds file and line). */
int domain_map_add(struct domain_map *, const char *rule, unsigned idx, struct tp_error *err);

/*
 * domain_map_add_file - add every rule of a domain file for idx.
 * One rule per line; '#' starts a comment; blank lines are ignored;
 * white space around a rule is ignored. Each bad line is added to errs as
 * PATH:LINE: message and the rest of the file is still read. Returns the
 * number of errors; a file that cannot be opened or read is one error
 * reported as PATH: message.
 */
int domain_map_add_file(struct domain_map *, const char *path, unsigned idx, struct tp_errlist *errs);

/* Number of distinct (rule, idx) pairs stored. */
size_t domain_map_size(const struct domain_map *);

/*
 * Calls fn once for each policy index whose rule matches the already
 * normalised domain: an exact rule for the domain itself, a suffix rule
 * for any of its parents. An index may be reported more than once when
 * several of its rules match; fn must tolerate that.
 */
void domain_map_lookup(const struct domain_map *, const char *normalized_domain,
                       void (*fn)(unsigned idx, void *arg), void *arg);

/*
 * domain_map_lookup_rule - like domain_map_lookup, for a rule as
 * domain_map_walk reports it ("x" or ".x"): every index whose rules cover
 * every name the rule covers. Used to compare two configurations.
 */
void domain_map_lookup_rule(const struct domain_map *, const char *rule, void (*fn)(unsigned idx, void *arg),
                            void *arg);

/* domain_map_walk - fn for every stored (normalised rule, idx) pair */
void domain_map_walk(const struct domain_map *, void (*fn)(const char *rule, unsigned idx, void *arg),
                     void *arg);

void domain_map_free(struct domain_map *);

#endif
