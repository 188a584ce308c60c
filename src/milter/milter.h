/*++
 * NAME
 *	milter 3h
 * SUMMARY
 *	libmilter adapter: callbacks and macros in, session calls out
 * LAYER
 *	src/milter/ is a front end: it sits on the session service
 *	(session/) and config_ref, and is the only folder that speaks
 *	libmilter. It translates; it never decides, learns or logs.
 *--*/
#ifndef MILTER_H
#define MILTER_H

#include "util/tp_error.h"

struct session_service;

/*
 * milter_register - register the callbacks, open the socket (before
 * dropping privileges); every session goes to svc. 0, or -1 with err set.
 */
int milter_register(const char *socket_spec, struct session_service *svc, struct tp_error *err);

/* milter_serve - libmilter's loop, until milter_stop(); 0 or -1 */
int milter_serve(void);

/* milter_stop - end milter_serve() (any thread); sessions close first */
void milter_stop(void);

/* milter_version - the libmilter version in use */
void milter_version(unsigned int *major, unsigned int *minor, unsigned int *patch);

#endif
