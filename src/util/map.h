/*++
 * NAME
 *	map 3h
 * SUMMARY
 *	string-keyed hash map for tlspolicy-report
 * DESCRIPTION
 *	Open addressing with linear probing; the table doubles when it is
 *	half full, so a lookup is one probe on average. Each entry owns a
 *	copy of its key and carries a counter and one pointer for the
 *	caller (a group, a histogram). Entries are never removed: the report
 *	only ever adds groups, so memory grows with the number of distinct
 *	keys and never with the number of lines. map_next() walks the
 *	entries in table order, map_sorted() in an order fit to show.
 *--*/
#ifndef REPORT_MAP_H
#define REPORT_MAP_H

#include <stddef.h>
#include <stdint.h>

struct map_entry {
    char *key;
    unsigned long long count;
    void *ptr;
    uint64_t hash; /* map_hash(key) */
};

struct map {
    struct map_entry *slots;
    size_t cap;
    size_t len;
};

void map_init(struct map *);
/* map_get - the entry for key, added with count 0 and ptr NULL if new;
   NULL when memory runs out */
struct map_entry *map_get(struct map *, const char *key);
/* map_get_hashed - map_get when the caller knows map_hash(key): a value
   counted in several maps is hashed once */
struct map_entry *map_get_hashed(struct map *, const char *key, uint64_t hash);
/* map_hash - the hash map_get uses */
uint64_t map_hash(const char *key);
/* map_find - the entry for key, or NULL */
struct map_entry *map_find(const struct map *, const char *key);
/* map_next - the first entry at or after *pos, which then points past
   it; NULL when there is none. Start a walk with *pos = 0; every entry
   comes exactly once. The order is the table's (slot order): not
   sorted, but the same for the same keys added in the same order, so a
   walk is repeatable from run to run; show entries through
   map_sorted(). Adding a key may grow the table and move every entry:
   not during a walk. */
struct map_entry *map_next(const struct map *, size_t *pos);
/* map_sorted - a new array of the entries' addresses; NULL on OOM or when
   empty. by_count: descending count, then key; else by key (byte order). */
struct map_entry **map_sorted(const struct map *, int by_count);
/* map_free - release keys and table; free_ptr (may be NULL) frees ptr */
void map_free(struct map *, void (*free_ptr)(void *));

#endif
