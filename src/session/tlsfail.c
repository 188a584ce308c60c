/*++
 * NAME
 *	tlsfail 3
 * SUMMARY
 *	recent sessions that look like a failed STARTTLS
 * SYNOPSIS
 *	#include "session/tlsfail.h"
 *
 *	struct tlsfail *tlsfail_new(capacity, window)
 *	void	tlsfail_note(table, addr, now)
 *	bool	tlsfail_take(table, addr, now)
 * DESCRIPTION
 *	Layout: nsets sets of WAYS entries; an address hashes to one set. A
 *	note replaces the entry for the same address, else an empty or
 *	expired entry, else the oldest in the set. So memory is fixed at
 *	creation, a flood of probing clients can only push out entries (a
 *	missed flag, never a false one), and lookups touch WAYS entries.
 *	One mutex guards the table; the work under it is a few compares.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "session/tlsfail.h"
#include "util/hash.h"

#define WAYS 4

struct entry {
    struct ip_addr addr;
    long when; /* 0: empty */
};

struct tlsfail {
    pthread_mutex_t lock;
    size_t nsets;
    long window;
    struct entry *entries; /* nsets * WAYS */
};

/* tlsfail_new - fixed-size table */
struct tlsfail *tlsfail_new(size_t capacity, long window)
{
    struct tlsfail *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->nsets = capacity / WAYS ? capacity / WAYS : 1;
    t->window = window;
    if ((t->entries = calloc(t->nsets * WAYS, sizeof(*t->entries))) == NULL) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

/* set_of - the set an address belongs to (FNV-1a over the 16 bytes) */
static struct entry *set_of(const struct tlsfail *t, const struct ip_addr *a)
{
    uint32_t h = hash_bytes32(HASH32_INIT, a->b, sizeof(a->b));

    return &t->entries[(h % t->nsets) * WAYS];
}

/* live - entry holds addr and is within the window */
static bool live(const struct tlsfail *t, const struct entry *e, const struct ip_addr *a, long now)
{
    return e->when != 0 && now - e->when <= t->window && now >= e->when &&
           memcmp(&e->addr, a, sizeof(*a)) == 0;
}

/* tlsfail_note - remember a session that ended after EHLO without TLS or MAIL */
void tlsfail_note(struct tlsfail *t, const struct ip_addr *a, long now)
{
    struct entry *set, *victim;
    size_t i;

    pthread_mutex_lock(&t->lock);
    set = set_of(t, a);
    victim = &set[0];
    for (i = 0; i < WAYS; i++) {
        if (memcmp(&set[i].addr, a, sizeof(*a)) == 0 || set[i].when == 0) {
            victim = &set[i];
            break;
        }
        if (set[i].when < victim->when)
            victim = &set[i];
    }
    victim->addr = *a;
    victim->when = now ? now : 1;
    pthread_mutex_unlock(&t->lock);
}

/* tlsfail_take - was there one within the window; forget it either way */
bool tlsfail_take(struct tlsfail *t, const struct ip_addr *a, long now)
{
    struct entry *set;
    bool found = false;
    size_t i;

    pthread_mutex_lock(&t->lock);
    set = set_of(t, a);
    for (i = 0; i < WAYS; i++) {
        if (memcmp(&set[i].addr, a, sizeof(*a)) != 0)
            continue;
        found = live(t, &set[i], a, now);
        set[i].when = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

/* tlsfail_free - release the table */
void tlsfail_free(struct tlsfail *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->entries);
    free(t);
}
