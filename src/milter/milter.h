/*++
 * NAME
 *	milter 3h
 * SUMMARY
 *	libmilter callbacks: macros in, decisions out
 *--*/
#ifndef MILTER_H
#define MILTER_H

/* milter_register - register the callbacks, open the socket (before dropping privileges) */
int milter_register(const char *socket_spec);

struct store;

/* milter_set_store - the fallback rules' memory (NULL: rules off); set before serving */
void milter_set_store(struct store *);

/* milter_serve - libmilter's loop, until smfi_stop(); 0 or -1 */
int milter_serve(void);

#endif
