/*++
 * NAME
 *	metrics 3h
 * SUMMARY
 *	the metrics page: Prometheus text format at /metrics
 * DESCRIPTION
 *	metrics.listen (HOST:PORT or unix:PATH) is served by libmicrohttpd's
 *	own thread. The page is rendered from atomic counters (session/
 *	stats.h, the state store's, the logger's) and from what this module
 *	keeps: the reloads by result and the configuration hash in force.
 *	Nothing a decision locks is locked to render it.
 *--*/
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>

#include "session/session.h"
#include "util/strbuf.h"
#include "util/tp_error.h"

/* metrics_listen - bind spec (as root, before privileges are dropped); 0 or -1 (err set) */
int metrics_listen(const char *spec, struct tp_error *err);

/* metrics_start - serve what metrics_listen bound, from now on (after detaching); 0 or -1 */
int metrics_start(const struct session_service *, struct tp_error *err);

/* metrics_stop - stop serving, close the socket (a unix socket's file is removed) */
void metrics_stop(void);

/* metrics_config - the configuration with this hash is in force now */
void metrics_config(const char *hash);

/* metrics_reload - one SIGHUP handled: ok or refused */
void metrics_reload(bool ok);

/* metrics_render - the whole page (for the server and the tests) */
void metrics_render(const struct session_service *, struct strbuf *out);

#endif
