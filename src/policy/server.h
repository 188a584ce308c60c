/*++
 * NAME
 *	server 3h
 * SUMMARY
 *	the policy delegation service: sockets, connections, threads
 * DESCRIPTION
 *	A libevent server for Postfix's check_policy_service. One acceptor
 *	thread hands each new connection to one of POLICY_THREADS event
 *	loops, round robin; a connection stays on its loop for life, so
 *	its dialogue (dialogue.c) is never touched by two threads. Postfix
 *	keeps its policy connections open across SMTP sessions: thousands
 *	of idle connections cost a few hundred bytes each and no thread.
 *
 *	Limits: a request line longer than POLICY_LINE_MAX or a request
 *	longer than POLICY_REQUEST_MAX is answered and the connection
 *	closed (the stream can no longer be trusted); so is a request
 *	started and not finished within POLICY_REQUEST_TIMEOUT seconds.
 *	At most POLICY_CONN_MAX connections are served at once; one more
 *	is closed at once and logged. A client that does not read its
 *	replies is not read from until it does.
 *--*/
#ifndef POLICY_SERVER_H
#define POLICY_SERVER_H

#include "session/session.h"
#include "util/tp_error.h"

#define POLICY_THREADS         4
#define POLICY_CONN_MAX        8192
#define POLICY_REQUEST_TIMEOUT 100 /* Postfix's smtpd_policy_service_timeout */

struct policy_server;

/*
 * policy_server_open - bind and listen on spec ("inet:HOST:PORT",
 * "unix:PATH"), as root, before detaching: no thread and no event base
 * yet. A stale unix socket is replaced (the daemon has made sure that
 * no live instance serves it).
 */
struct policy_server *policy_server_open(const char *spec, struct tp_error *);

/* policy_server_start - the threads, serving svc; after fork and setuid */
int policy_server_start(struct policy_server *, struct session_service *svc, struct tp_error *);

/*
 * policy_server_stop - stop accepting, end every open session (their
 * records are written), close every connection, join the threads, free.
 * NULL is allowed; also for a server that was never started.
 */
void policy_server_stop(struct policy_server *);

#endif
