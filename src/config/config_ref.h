/*++
 * NAME
 *	config_ref 3h
 * SUMMARY
 *	the configuration in force: reference-counted, swapped whole on reload
 *--*/
#ifndef CONFIG_REF_H
#define CONFIG_REF_H

#include "config/config.h"

/*
 * A reference-counted configuration. The current one is swapped as a
 * whole on reload; a connection keeps the reference it took at connect.
 */
struct config_ref {
    struct config *cfg;
    int refs; /* guarded by the module's lock */
};

/* config_ref_install - make cfg the configuration in force (takes it); -1: no memory */
int config_ref_install(struct config *cfg);

/* config_ref_acquire - a reference to the configuration in force (one must be installed) */
struct config_ref *config_ref_acquire(void);

/* config_ref_release - drop a reference; the last one frees. NULL is ignored. */
void config_ref_release(struct config_ref *);

/* config_ref_shutdown - drop the "in force" reference at exit */
void config_ref_shutdown(void);

#endif
