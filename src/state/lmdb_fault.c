/*++
 * NAME
 *	lmdb_fault 3
 * SUMMARY
 *	the open LMDB stores' map ranges, readable from a signal handler
 * SYNOPSIS
 *	#include "state/lmdb_fault.h"
 *
 *	int	lmdb_fault_claim(dir)
 *	void	lmdb_fault_publish(slot, env)
 *	void	lmdb_fault_release(slot)
 *	const char *store_fault_dir(addr)
 * DESCRIPTION
 *	A fixed table, no lock: store_fault_dir() runs in a SIGBUS handler
 *	and may only load atomics. A slot is claimed by a CAS on its dir;
 *	hi is 0 while the range changes, so a reader never sees half of one.
 *	store_lmdb.c republishes after a resize, which remaps under its
 *	exclusive lock while no transaction can touch the map.
 *
 *	LMDB does not tell where it mapped the file (mdb_env_info()'s
 *	me_mapaddr is the fixed address recorded in the file, NULL unless
 *	MDB_FIXEDMAP), so the range is the line of /proc/self/maps whose
 *	device and inode are data.mdb's: LMDB maps the whole map size in one
 *	piece, also past the end of the file.
 * DIAGNOSTICS
 *	None: without /proc, or with every slot taken, a fault in the map
 *	is not recognised and kills the process as before.
 *--*/

/* System library. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Application. */
#include "state/lmdb_fault.h"
#include "state/store.h"

#define FAULT_SLOTS 8

static struct {
    _Atomic(const char *) dir;
    _Atomic uintptr_t lo, hi;
} maps[FAULT_SLOTS];

/* lmdb_fault_claim - the first free slot */
int lmdb_fault_claim(const char *dir)
{
    for (int i = 0; i < FAULT_SLOTS; i++) {
        const char *none = NULL;

        if (atomic_compare_exchange_strong(&maps[i].dir, &none, dir))
            return i;
    }
    return -1;
}

/* find_range - the span of every mapping of (dev, ino) in /proc/self/maps;
   0 or -1. The kernel may show one mmap() as several lines (areas split by
   madvise or protection changes): a fault in any of them is the store's. */
static int find_range(dev_t dev, ino_t ino, uintptr_t *lo, uintptr_t *hi)
{
    unsigned long long start, end, inode;
    unsigned maj, min;
    char line[4096];
    FILE *fp = fopen("/proc/self/maps", "re");
    int rc = -1;

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (sscanf(line, "%llx-%llx %*s %*s %x:%x %llu", &start, &end, &maj, &min, &inode) == 5 &&
            maj == major(dev) && min == minor(dev) && inode == (unsigned long long) ino) {
            if (rc < 0 || (uintptr_t) start < *lo)
                *lo = (uintptr_t) start;
            if (rc < 0 || (uintptr_t) end > *hi)
                *hi = (uintptr_t) end;
            rc = 0;
        }
    fclose(fp);
    return rc;
}

/* lmdb_fault_publish - env's current map range into slot */
void lmdb_fault_publish(int slot, MDB_env *env)
{
    struct stat sb;
    uintptr_t lo, hi;
    int fd;

    if (slot < 0)
        return;
    atomic_store(&maps[slot].hi, 0);
    if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &sb) < 0 || find_range(sb.st_dev, sb.st_ino, &lo, &hi) < 0)
        return;
    atomic_store(&maps[slot].lo, lo);
    atomic_store(&maps[slot].hi, hi);
}

/* lmdb_fault_release - forget the slot */
void lmdb_fault_release(int slot)
{
    if (slot < 0)
        return;
    atomic_store(&maps[slot].hi, 0);
    atomic_store(&maps[slot].dir, NULL);
}

/* store_fault_dir - the store whose map holds addr; async-signal-safe */
const char *store_fault_dir(const void *addr)
{
    uintptr_t a = (uintptr_t) addr;

    for (int i = 0; i < FAULT_SLOTS; i++) {
        uintptr_t hi = atomic_load(&maps[i].hi);

        if (hi != 0 && a >= atomic_load(&maps[i].lo) && a < hi)
            return atomic_load(&maps[i].dir);
    }
    return NULL;
}
