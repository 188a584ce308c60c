/*++
 * NAME
 *	config_ref 3
 * SUMMARY
 *	the configuration in force: reference-counted, swapped whole on reload
 * SYNOPSIS
 *	#include "config/config_ref.h"
 *
 *	int	config_ref_install(cfg)
 *	struct config_ref *config_ref_acquire(void)
 *	void	config_ref_release(ref)
 *	void	config_ref_shutdown(void)
 * DESCRIPTION
 *	A front end takes a reference when a connection starts and keeps it
 *	until the connection closes, so one SMTP session is decided under one
 *	configuration even when a reload happens half way. A reload installs
 *	a new configuration for new connections; the old one is freed when
 *	its last reference is released. One mutex guards the counts and the
 *	pointer; the decision path itself takes no lock.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdlib.h>

/* Application. */
#include "config/config_ref.h"

static pthread_mutex_t ref_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config_ref *current;

/* config_ref_acquire - a reference to the configuration in force */
struct config_ref *config_ref_acquire(void)
{
    struct config_ref *ref;

    pthread_mutex_lock(&ref_lock);
    ref = current;
    ref->refs++;
    pthread_mutex_unlock(&ref_lock);
    return ref;
}

/* config_ref_release - drop a reference; the last one frees */
void config_ref_release(struct config_ref *ref)
{
    int left;

    if (ref == NULL)
        return;
    pthread_mutex_lock(&ref_lock);
    left = --ref->refs;
    pthread_mutex_unlock(&ref_lock);
    if (left == 0) {
        config_free(ref->cfg);
        free(ref);
    }
}

/* config_ref_install - make cfg the configuration in force */
int config_ref_install(struct config *cfg)
{
    struct config_ref *ref = calloc(1, sizeof(*ref)), *old;

    if (ref == NULL)
        return -1;
    ref->cfg = cfg;
    ref->refs = 1; /* held by "current" */
    pthread_mutex_lock(&ref_lock);
    old = current;
    current = ref;
    pthread_mutex_unlock(&ref_lock);
    config_ref_release(old);
    return 0;
}

/* config_ref_shutdown - release the reference "current" holds */
void config_ref_shutdown(void)
{
    struct config_ref *old;

    pthread_mutex_lock(&ref_lock);
    old = current;
    current = NULL;
    pthread_mutex_unlock(&ref_lock);
    config_ref_release(old);
}
