/*++
 * NAME
 *	sockcheck 3h
 * SUMMARY
 *	is the milter socket already served by another process?
 *--*/
#ifndef SOCKCHECK_H
#define SOCKCHECK_H

#include "util/tp_error.h"

/* sockcheck_free - 0 when the milter socket spec may be opened (no file,
   or a stale unix socket nobody accepts on); -1 with err set when another
   process serves it, or the address cannot be bound */
int sockcheck_free(const char *spec, struct tp_error *err);

/* sockcheck_policy_free - the same for a policy socket, inet:HOST:PORT or unix:PATH */
int sockcheck_policy_free(const char *spec, struct tp_error *err);

#endif
