/*++
 * NAME
 *	slots 3h
 * SUMMARY
 *	small numbers for names, given once and never taken back
 * DESCRIPTION
 *	For label values that come from the configuration (policy names): a
 *	name gets the next free number the first time it is interned, and
 *	keeps it for the life of the process, across reloads, so that a
 *	counter indexed by it survives a reload as Prometheus expects.
 *	Interning takes a mutex (at configuration load, never on a decision);
 *	reading a slot's name takes none: a name is stored before the count
 *	that publishes it (release/acquire), and never changes or moves.
 *	Memory: SLOTS_MAX pointers plus the names interned; a name beyond
 *	SLOTS_MAX gets SLOTS_OVERFLOW, which counts them all together.
 *--*/
#ifndef SLOTS_H
#define SLOTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define SLOTS_MAX      1024
#define SLOTS_OVERFLOW 0 /* interned first by slots_init, under the name given there */

struct slots {
    pthread_mutex_t lock;
    _Atomic size_t n;
    char *names[SLOTS_MAX];
};

/* slots_init - empty but for slot 0, SLOTS_OVERFLOW, named overflow_name; 0 or -1 (no memory) */
int slots_init(struct slots *, const char *overflow_name);

/* slots_free - release the names */
void slots_free(struct slots *);

/* slots_intern - the number of name, given now if new; SLOTS_OVERFLOW when full or out of memory */
size_t slots_intern(struct slots *, const char *name);

/* slots_count - how many slots are in use; names below it can be read */
size_t slots_count(const struct slots *);

/* slots_name - the name of slot i < slots_count() */
const char *slots_name(const struct slots *, size_t i);

#endif
