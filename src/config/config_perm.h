/*++
 * NAME
 *	config_perm 3h
 * SUMMARY
 *	warnings about configuration files others may change or read
 *--*/
#ifndef CONFIG_PERM_H
#define CONFIG_PERM_H

#include <stddef.h>

#include "config/config.h"
#include "util/tp_error.h"

/* config_check_modes - add "FILE: warning: ..." to warns for every file
   of cfg that group or others may write, and a hash key others may read;
   the number of warnings added */
size_t config_check_modes(const struct config *cfg, struct tp_errlist *warns);

#endif
