/*++
 * NAME
 *	map 3
 * SUMMARY
 *	string-keyed hash map for tlspolicy-report
 * SYNOPSIS
 *	#include "util/map.h"
 *
 *	void	map_init(m)
 *	struct map_entry *map_get(m, key)
 *	struct map_entry *map_get_hashed(m, key, hash)
 *	uint64_t map_hash(key)
 *	struct map_entry *map_find(m, key)
 *	struct map_entry *map_next(m, pos)
 *	struct map_entry **map_sorted(m, by_count)
 *	void	map_free(m, free_ptr)
 * DESCRIPTION
 *	See map.h. The hash is FNV-1a: the keys are short domain names,
 *	version and cipher names, for which it is fast and spreads well.
 *	An empty slot has a NULL key.
 * DIAGNOSTICS
 *	map_get() and map_sorted() return NULL when memory runs out.
 *--*/

/* System library. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "util/hash.h"
#include "util/map.h"

#define MAP_INITIAL 16

/* map_hash - FNV-1a, 64 bits */
uint64_t map_hash(const char *s)
{
    return hash_str64(s);
}

/* map_init - an empty map, no memory yet */
void map_init(struct map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

/* probe - the slot holding key (hash h), or the empty slot where it belongs */
static struct map_entry *probe(struct map_entry *slots, size_t cap, const char *key, uint64_t h)
{
    size_t i = (size_t) h & (cap - 1);

    /* The stored hash spares the string comparison of every other key. */
    while (slots[i].key != NULL && (slots[i].hash != h || strcmp(slots[i].key, key) != 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* grow - double the table and move every entry */
static int grow(struct map *m)
{
    size_t cap = m->cap ? m->cap * 2 : MAP_INITIAL, i;
    struct map_entry *slots;

    if ((slots = calloc(cap, sizeof(*slots))) == NULL)
        return -1;
    /* The table itself, not map_next(): inlined into map_get_hashed(),
       the iterator costs every lookup of the report a few instructions. */
    for (i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL)
            *probe(slots, cap, m->slots[i].key, m->slots[i].hash) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* map_find - the entry for key, or NULL */
struct map_entry *map_find(const struct map *m, const char *key)
{
    struct map_entry *e;

    if (m->cap == 0)
        return NULL;
    e = probe(m->slots, m->cap, key, map_hash(key));
    return e->key != NULL ? e : NULL;
}

/* map_next - the next occupied slot, in slot order */
struct map_entry *map_next(const struct map *m, size_t *pos)
{
    struct map_entry *e;

    while (*pos < m->cap) {
        e = &m->slots[(*pos)++];
        if (e->key != NULL)
            return e;
    }
    return NULL;
}

/* map_get - the entry for key, added if new */
struct map_entry *map_get(struct map *m, const char *key)
{
    return map_get_hashed(m, key, map_hash(key));
}

/* map_get_hashed - map_get with the key's map_hash() already known */
struct map_entry *map_get_hashed(struct map *m, const char *key, uint64_t h)
{
    struct map_entry *e;

    /* Half full at most, so that probing always ends at an empty slot. */
    if ((m->len + 1) * 2 > m->cap && grow(m) != 0)
        return NULL;
    e = probe(m->slots, m->cap, key, h);
    if (e->key == NULL) {
        if ((e->key = strdup(key)) == NULL)
            return NULL;
        e->hash = h;
        e->count = 0;
        e->ptr = NULL;
        m->len++;
    }
    return e;
}

/* by_key - qsort order: key, byte order */
static int by_key(const void *a, const void *b)
{
    const struct map_entry *x = *(struct map_entry *const *) a, *y = *(struct map_entry *const *) b;

    return strcmp(x->key, y->key);
}

/* by_count_desc - qsort order: larger count first, then key */
static int by_count_desc(const void *a, const void *b)
{
    const struct map_entry *x = *(struct map_entry *const *) a, *y = *(struct map_entry *const *) b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* map_sorted - the entries in a stable, documented order */
struct map_entry **map_sorted(const struct map *m, int by_count)
{
    struct map_entry **v, *e;
    size_t pos = 0, n = 0;

    if (m->len == 0 || (v = calloc(m->len, sizeof(*v))) == NULL)
        return NULL;
    while ((e = map_next(m, &pos)) != NULL)
        v[n++] = e;
    qsort(v, n, sizeof(*v), by_count ? by_count_desc : by_key);
    return v;
}

/* map_free - release everything */
void map_free(struct map *m, void (*free_ptr)(void *))
{
    struct map_entry *e;
    size_t pos = 0;

    while ((e = map_next(m, &pos)) != NULL) {
        free(e->key);
        if (free_ptr != NULL && e->ptr != NULL)
            free_ptr(e->ptr);
    }
    free(m->slots);
    map_init(m);
}
