/*++
 * NAME
 *	slots 3
 * SUMMARY
 *	small numbers for names, given once and never taken back
 * SYNOPSIS
 *	#include "util/slots.h"
 *
 *	size_t	slots_intern(slots, name)
 *	const char *slots_name(slots, i)
 * DESCRIPTION
 *	See slots.h. The search in slots_intern is linear: it runs once per
 *	policy per configuration load, over at most SLOTS_MAX names.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "util/slots.h"

/* slots_init - empty but for the overflow slot */
int slots_init(struct slots *s, const char *overflow_name)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    if ((s->names[SLOTS_OVERFLOW] = strdup(overflow_name)) == NULL)
        return -1;
    atomic_store_explicit(&s->n, 1, memory_order_release);
    return 0;
}

/* slots_free - release the names */
void slots_free(struct slots *s)
{
    size_t n = atomic_load(&s->n);

    for (size_t i = 0; i < n; i++)
        free(s->names[i]);
    pthread_mutex_destroy(&s->lock);
}

/* slots_intern - the number of name, given now if new */
size_t slots_intern(struct slots *s, const char *name)
{
    size_t n, i;

    pthread_mutex_lock(&s->lock);
    n = atomic_load_explicit(&s->n, memory_order_relaxed);
    for (i = 1; i < n; i++)
        if (strcmp(s->names[i], name) == 0)
            break;
    if (i == n && (n == SLOTS_MAX || (s->names[n] = strdup(name)) == NULL))
        i = SLOTS_OVERFLOW;
    else if (i == n)
        atomic_store_explicit(&s->n, n + 1, memory_order_release);
    pthread_mutex_unlock(&s->lock);
    return i;
}

/* slots_count - how many slots are in use */
size_t slots_count(const struct slots *s)
{
    return atomic_load_explicit(&((struct slots *) s)->n, memory_order_acquire);
}

/* slots_name - the name of slot i */
const char *slots_name(const struct slots *s, size_t i)
{
    return s->names[i];
}
