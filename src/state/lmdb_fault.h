/*++
 * NAME
 *	lmdb_fault 3h
 * SUMMARY
 *	where the open LMDB stores are mapped, for a SIGBUS handler
 * DESCRIPTION
 *	A store file truncated under a running process faults (SIGBUS) at
 *	the next access to a page past its new end. store_fault_dir()
 *	(store.h) tells a handler whether the faulting address is in a
 *	store's map and which one; store_lmdb.c keeps the ranges current
 *	with these. Private to src/state/.
 *--*/
#ifndef LMDB_FAULT_H
#define LMDB_FAULT_H

#include <lmdb.h>

/* lmdb_fault_claim - a slot for the store in dir (kept, not copied); -1 when all are taken */
int lmdb_fault_claim(const char *dir);

/* lmdb_fault_publish - (re)read env's map range into slot; after open and every resize */
void lmdb_fault_publish(int slot, MDB_env *env);

/* lmdb_fault_release - the map is going away; slot -1 is allowed */
void lmdb_fault_release(int slot);

#endif
