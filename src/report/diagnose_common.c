/*++
 * NAME
 *	diagnose_common 3
 * SUMMARY
 *	--diagnose: what its pass one, its failures and its pass two share
 * SYNOPSIS
 *	#include "report/diagnose_impl.h"
 *
 *	int	diagnose_bump(m, key, n, max)
 *	const char *diagnose_record_key(rec, buf, addr)
 * DESCRIPTION
 *	diagnose_bump() counts into a map of at most max keys: a key that
 *	finds the map full is counted under "(other)", so that hostile
 *	input cannot grow a client's lists of reasons, recipients or
 *	addresses. diagnose_record_key() is the client of a decision
 *	record as every part of --diagnose keys it: agg_client_key(), an
 *	address in inet_ntop() form, so that a record and an MTA's line
 *	about the same connection meet.
 * DIAGNOSTICS
 *	diagnose_bump() returns -1 when memory runs out.
 *--*/

/* System library. */
#include <string.h>

/* Application. */
#include "core/domain_map.h"
#include "logread/mtafail.h"
#include "report/agg.h"
#include "report/diagnose_impl.h"
#include "util/map.h"

/* diagnose_bump - add n to key in a map of at most max keys (then to "(other)") */
int diagnose_bump(struct map *m, const char *key, unsigned long long n, size_t max)
{
    struct map_entry *e = map_find(m, key);

    if (e == NULL && m->len >= max)
        e = map_get(m, "(other)");
    else if (e == NULL)
        e = map_get(m, key);
    if (e == NULL)
        return -1;
    e->count += n;
    return 0;
}

/* diagnose_record_key - the client key of a record, an address in inet_ntop form;
   NULL when it has none. buf holds DOMAIN_MAX + 1 bytes. */
const char *diagnose_record_key(const struct rec *r, char *buf, char *addr)
{
    const char *key = agg_client_key(r, buf, DOMAIN_MAX + 1), *raw = r->f[REC_CLIENT_ADDR];

    addr[0] = 0;
    if (raw != NULL && mtafail_addr(raw, strlen(raw), addr) != 0)
        addr[0] = 0;
    if (key == NULL || *key == 0)
        return NULL;
    return key == raw && addr[0] != 0 ? addr : key;
}
