/*++
 * NAME
 *	config_diff 3h
 * SUMMARY
 *	what a new configuration removes or weakens, for the reload notice
 *--*/
#ifndef CONFIG_DIFF_H
#define CONFIG_DIFF_H

#include <stddef.h>

#include "config/config.h"
#include "util/strbuf.h"

/* config_weakening - append to out, "; "-separated, every way in which
   new protects less than old; the number of findings (0: none) */
size_t config_weakening(const struct config *old, const struct config *new, struct strbuf *out);

#endif
