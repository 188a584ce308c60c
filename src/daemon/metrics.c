/*++
 * NAME
 *	metrics 3
 * SUMMARY
 *	the metrics page: Prometheus text format at /metrics
 * SYNOPSIS
 *	#include "daemon/metrics.h"
 *
 *	int	metrics_listen(spec, err)
 *	int	metrics_start(service, err)
 *	void	metrics_render(service, out)
 * DESCRIPTION
 *	The listening socket is made by us (util/listen.c, as the policy
 *	service makes its own), as root and before detaching
 *	(a port below 1024, a unix socket in a root-owned directory), and
 *	handed to libmicrohttpd only after the fork, because threads do not
 *	survive one. GET /metrics answers the page; any other path 404, any
 *	other method 405. At most METRICS_CONNS connections at once, each
 *	closed after METRICS_TIMEOUT seconds of silence: a scraper is one
 *	client, not a crowd. The configuration hash in force is kept under a
 *	mutex that only reloads and scrapes take.
 *--*/

/* System library. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Utility library. */
#include <microhttpd.h>
#include <openssl/crypto.h>

/* Application. */
#include "build-config.h"
#include "config/config.h"
#include "daemon/logger.h"
#include "daemon/metrics.h"
#include "milter/milter.h"
#include "state/store.h"
#include "util/listen.h"

#define METRICS_CONNS   16
#define METRICS_TIMEOUT 10

static int listen_fd = -1;
static char unix_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
static struct MHD_Daemon *mhd;

static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static char hash_now[CONFIG_HASH_LEN + 1];
static _Atomic unsigned long long reloads_ok, reloads_failed;

/* metrics_config - the configuration with this hash is in force now */
void metrics_config(const char *hash)
{
    pthread_mutex_lock(&hash_lock);
    snprintf(hash_now, sizeof(hash_now), "%s", hash);
    pthread_mutex_unlock(&hash_lock);
}

/* metrics_reload - one SIGHUP handled */
void metrics_reload(bool ok)
{
    atomic_fetch_add_explicit(ok ? &reloads_ok : &reloads_failed, 1, memory_order_relaxed);
}

/* render_info - build and configuration */
static void render_info(struct strbuf *out)
{
    unsigned int maj, min, pl;
    char hash[sizeof(hash_now)];

    milter_version(&maj, &min, &pl);
    strbuf_printf(out,
                  "# HELP tlspolicyd_build_info The running tlspolicyd and the libraries it was built with.\n"
                  "# TYPE tlspolicyd_build_info gauge\n"
                  "tlspolicyd_build_info{version=\"%s\",openssl=\"%s\",libmilter=\"%u.%u.%u\"} 1\n",
                  PACKAGE_VERSION, OpenSSL_version(OPENSSL_VERSION_STRING), maj, min, pl);
    pthread_mutex_lock(&hash_lock);
    memcpy(hash, hash_now, sizeof(hash));
    pthread_mutex_unlock(&hash_lock);
    strbuf_printf(out,
                  "# HELP tlspolicyd_config_info The configuration in force, by the hash its records carry.\n"
                  "# TYPE tlspolicyd_config_info gauge\n"
                  "tlspolicyd_config_info{hash=\"%s\"} 1\n",
                  hash);
}

/* render_daemon - reloads and lost records */
static void render_daemon(struct strbuf *out)
{
    strbuf_printf(out,
                  "# HELP tlspolicyd_config_reloads_total Reloads (SIGHUP) by result.\n"
                  "# TYPE tlspolicyd_config_reloads_total counter\n"
                  "tlspolicyd_config_reloads_total{result=\"success\"} %llu\n"
                  "tlspolicyd_config_reloads_total{result=\"failure\"} %llu\n",
                  atomic_load(&reloads_ok), atomic_load(&reloads_failed));
    strbuf_printf(out,
                  "# HELP tlspolicyd_records_failed_total Records the syslog socket did not take.\n"
                  "# TYPE tlspolicyd_records_failed_total counter\n"
                  "tlspolicyd_records_failed_total %llu\n",
                  logger_records_failed());
}

/* metrics_render - the whole page */
void metrics_render(const struct session_service *svc, struct strbuf *out)
{
    render_info(out);
    render_daemon(out);
    session_stats_render(session_service_stats(svc), out);
    store_stats_render(out);
}

/* reply - a fixed answer with a status */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text, size_t len,
                             const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *) text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* handle - libmicrohttpd's access handler: GET /metrics */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **state)
{
    const struct session_service *svc = cls;
    struct strbuf page;
    enum MHD_Result rc;

    (void) version, (void) upload, (void) upload_size, (void) state;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n", 9, "text/plain");
    if (strcmp(url, "/metrics") != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "see /metrics\n", 13, "text/plain");
    strbuf_init(&page);
    metrics_render(svc, &page);
    rc = strbuf_failed(&page) ? reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", 14, "text/plain")
                              : reply(c, MHD_HTTP_OK, strbuf_str(&page), strlen(strbuf_str(&page)),
                                      "text/plain; version=0.0.4; charset=utf-8");
    strbuf_free(&page);
    return rc;
}

/* metrics_listen - bind spec, as root, before privileges are dropped */
int metrics_listen(const char *spec, struct tp_error *err)
{
    err->msg[0] = 0;
    if (strncmp(spec, "unix:", 5) != 0) {
        listen_fd = listen_inet(spec, "metrics socket", err);
    } else if ((listen_fd = listen_unix(spec + 5, "metrics socket", err)) >= 0) {
        snprintf(unix_path, sizeof(unix_path), "%s", spec + 5);
    }
    return listen_fd < 0 ? -1 : 0;
}

/* metrics_start - serve the bound socket from libmicrohttpd's thread */
int metrics_start(const struct session_service *svc, struct tp_error *err)
{
    if (listen_fd < 0)
        return 0;
    mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, handle,
                           (void *) svc, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
                           (unsigned) METRICS_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
                           (unsigned) METRICS_TIMEOUT, MHD_OPTION_END);
    if (mhd == NULL) {
        tp_error_set(err, NULL, 0, "metrics: libmicrohttpd did not start");
        return -1;
    }
    return 0;
}

/* metrics_stop - stop serving, close the socket */
void metrics_stop(void)
{
    /* libmicrohttpd closes the listening socket it was given. */
    if (mhd) {
        MHD_stop_daemon(mhd);
        listen_fd = -1;
    }
    mhd = NULL;
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    /* As the milter's and the policy service's: the file stays where the
       daemon's user cannot remove it, and the next start replaces it. */
    if (*unix_path)
        (void) unlink(unix_path);
    unix_path[0] = 0;
}
