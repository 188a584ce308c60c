/*++
 * NAME
 *	fault 3h
 * SUMMARY
 *	a SIGBUS in the state store's map: a logged error and a clean exit
 * DESCRIPTION
 *	LMDB reads its file through a memory map. When data.mdb is truncated
 *	or damaged while the daemon runs, the next lookup touches a page that
 *	is not there and the kernel sends SIGBUS: without this guard the
 *	daemon dies without a word, and a service manager restarts it into
 *	the same death. The guard recognises a fault inside a store's map
 *	(store_fault_dir()), logs one notice naming the store and exits with
 *	status 1; the next start checks the store (state.on_damage). Any
 *	other SIGBUS keeps its default action (a core dump).
 *--*/
#ifndef FAULT_H
#define FAULT_H

#include <stdbool.h>

/*
 * fault_guard_install - catch SIGBUS. ident, facility and socket are syslog's
 * (the message is sent straight to the socket, as no logger is safe in
 * a signal handler); also_stderr writes it to stderr as well. Call after
 * detaching (the message carries the final pid). 0, or -1 (errno set).
 */
int fault_guard_install(const char *ident, int facility, const char *socket, bool also_stderr);

#endif
