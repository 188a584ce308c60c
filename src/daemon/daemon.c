/*++
 * NAME
 *	daemon 3
 * SUMMARY
 *	daemon life cycle: privileges, pidfile, signals, reload
 * SYNOPSIS
 *	#include "daemon/daemon.h"
#include "daemon/fault.h"
 *
 *	int	daemon_run(cfg, options)
 * DESCRIPTION
 *	Order of start-up: warn about file modes (config_perm.c), make sure
 *	no other process serves the milter socket (sockcheck.c), open it (as
 *	root, so that it may live in a root-owned directory), give it to
 *	USER:GROUP with mode 0660 so that an MTA in GROUP can connect, detach
 *	unless -f, write the pidfile (pidfile.c: never through a link), drop
 *	privileges, and only then start threads. A refused start has touched
 *	neither a live instance's socket nor its pidfile.
 *
 *	Signals. libmilter runs its own signal thread which treats SIGHUP
 *	like SIGTERM (stop). To make SIGHUP a reload, the main thread never
 *	blocks SIGHUP, SIGTERM and SIGINT and catches them with a handler that
 *	writes to a pipe; libmilter runs in a second thread, where it blocks
 *	them. Linux delivers a process-directed signal to the thread-group
 *	leader (our main thread) whenever that thread does not block it, so
 *	libmilter's thread does not see them.
 *
 *	Reload. A valid new configuration replaces the current one for new
 *	connections; a connection in progress keeps the configuration it
 *	started with until it closes, and the old configuration is freed when
 *	its last connection ends. An invalid one is refused with its errors
 *	logged and the old one stays in force. A valid one that protects less
 *	is installed after one notice naming what it weakens (config_diff.c),
 *	so that a slip or a file cut short is seen at once. Socket, user and
 *	pidfile changes take effect only at restart.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* Application. */
#include "config/config_diff.h"
#include "config/config_perm.h"
#include "config/config_ref.h"
#include "daemon/daemon.h"
#include "daemon/fault.h"
#include "daemon/logger.h"
#include "daemon/metrics.h"
#include "daemon/pidfile.h"
#include "daemon/sockcheck.h"
#include "milter/milter.h"
#include "policy/server.h"
#include "session/session.h"
#include "daemon/statecmd.h"
#include "state/store.h"

static int signal_pipe[2] = {-1, -1};
static int ready_fd = -1;               /* detached child -> waiting parent */
static struct session_service *service; /* every session, both front ends */
static struct store *store;             /* the fallback rules' memory, opened once */
static struct policy_server *policy;    /* NULL: no policy_socket */
static bool policy_served;              /* from start: pins get fingerprints */
static char store_id[1024];             /* what the open store is, for reloads */
static bool pidfile_written;            /* only then is the name at exit ours to remove */

#define WEAKENING_SHOWN 800 /* bytes of the weakening list in its notice */

/* append_list - " LABEL A B ..." at buf + n, as far as it fits; the new length */
static size_t append_list(char *buf, size_t size, size_t n, const char *label, char *const *list)
{
    if (n < size)
        n += (size_t) snprintf(buf + n, size - n, " %s", label);
    for (; list && *list && n < size; list++)
        n += (size_t) snprintf(buf + n, size - n, " %s", *list);
    return n;
}

/* store_identity - what names the open store: a change takes effect at restart */
static void store_identity(const struct config *cfg, char *buf, size_t size)
{
    size_t n;
    char label[128];

    if (cfg->state.backend == STATE_LMDB) {
        snprintf(buf, size, "lmdb %s", cfg->state.path);
        return;
    }
    n = (size_t) snprintf(buf, size, "redis db %d prefix \"%s\"", cfg->state.db, cfg->state.prefix);
    if (cfg->state.sentinels == NULL) {
        append_list(buf, size, n, "servers", cfg->state.servers);
        return;
    }
    snprintf(label, sizeof(label), "master_name %s sentinels", cfg->state.master_name);
    append_list(buf, size, n, label, cfg->state.sentinels);
}

/* open_backend - the configured backend; NULL after logging why */
static struct store *open_backend(const struct config *cfg, const char *what)
{
    struct tp_error err;
    struct store *st;

    if (cfg->state.backend == STATE_REDIS)
        st = statecmd_open_redis(cfg, &err);
    else
        st = store_open_lmdb(
            cfg->state.path, cfg->state.map_size,
            cfg->state.on_damage == STATE_ON_DAMAGE_REFUSE ? STORE_DAMAGE_REFUSE : STORE_DAMAGE_RESET, &err);
    if (st == NULL) {
        logger_notice(LOG_ERR, "cannot open state store %s%s: %s", what,
                      cfg->state.backend == STATE_LMDB && cfg->state.on_damage == STATE_ON_DAMAGE_REFUSE
                          ? " (state.on_damage = \"refuse\")"
                          : "",
                      err.msg);
        return NULL;
    }
    /* A damaged store moved aside, a check that ran out of time, a Redis not answering yet. */
    if (err.msg[0])
        logger_notice(LOG_ERR, "%s", err.msg);
    return st;
}

/* open_store - the state store, when the rules are on and it is not open yet */
static int open_store(const struct config *cfg)
{
    char id[sizeof(store_id)];

    if (!cfg->policies.fallback.enabled)
        return 0;
    store_identity(cfg, id, sizeof(id));
    if (store == NULL) {
        if ((store = open_backend(cfg, cfg->state.backend == STATE_LMDB ? cfg->state.path : id)) == NULL)
            return -1;
        snprintf(store_id, sizeof(store_id), "%s", id);
        session_service_set_store(service, store);
    } else if (strcmp(store_id, id) != 0) {
        /* LMDB's locks are per process: one handle per directory, kept. */
        logger_notice(LOG_WARNING, "state store %s takes effect at restart; still using %s", id, store_id);
    }
    /* Redis forgets a sender nobody saw within the window by itself. */
    store_set_ttl(store, cfg->policies.fallback.window);
    return 0;
}

/* log_mode_warnings - files others may change or read (config_perm.c),
   pinned policies no front end can satisfy (config_policy.c) */
static void log_mode_warnings(const struct config *cfg)
{
    char line[TP_ERROR_FILE_MAX + TP_ERROR_MSG_MAX + 32];
    struct tp_errlist warns;
    size_t i;

    tp_errlist_init(&warns);
    config_check_modes(cfg, &warns);
    config_check_pins(cfg, policy_served, &warns);
    for (i = 0; i < warns.n; i++) {
        tp_error_format(&warns.items[i], line, sizeof(line));
        logger_notice(LOG_WARNING, "%s", line);
    }
}

/* warn_weakening - one notice naming what a reload to cfg removes or
   weakens, so that a file cut short or a slip is seen at once */
static void warn_weakening(const struct config *cfg)
{
    struct config_ref *old = config_ref_acquire();
    struct strbuf text;
    size_t n;

    strbuf_init(&text);
    /* A notice holds about 1000 bytes: cut the list, say so, keep the count. */
    if ((n = config_weakening(old->cfg, cfg, &text)) > 0)
        logger_notice(LOG_WARNING, "reload weakens the policy in %zu ways (hash %s -> %s): %.*s%s", n,
                      old->cfg->hash, cfg->hash, WEAKENING_SHOWN,
                      strbuf_failed(&text) ? "(out of memory describing it)" : strbuf_str(&text),
                      strlen(strbuf_str(&text)) > WEAKENING_SHOWN ? " ...(cut)" : "");
    strbuf_free(&text);
    config_ref_release(old);
}

/* The metrics address in force: a reload cannot move a bound socket. */
static char metrics_spec[1024];

/* warn_restart_keys - keys a reload accepts but that take effect at restart */
static void warn_restart_keys(const struct config *cfg)
{
    const char *m = cfg->metrics_listen ? cfg->metrics_listen : "";

    if (strcmp(m, metrics_spec) != 0)
        logger_notice(LOG_WARNING,
                      "metrics.listen changed to \"%s\": it takes effect at restart, \"%s\" is served", m,
                      metrics_spec);
}

/* reload - SIGHUP: a valid configuration replaces the current one */
static void reload(const char *path)
{
    struct tp_errlist errs;
    struct config *cfg;
    char line[TP_ERROR_FILE_MAX + TP_ERROR_MSG_MAX + 32];
    size_t i;

    tp_errlist_init(&errs);
    if ((cfg = config_load(path, &errs)) == NULL) {
        metrics_reload(false);
        for (i = 0; i < errs.n; i++) {
            tp_error_format(&errs.items[i], line, sizeof(line));
            logger_notice(LOG_ERR, "reload refused: %s", line);
        }
        logger_notice(LOG_ERR, "reload refused: configuration %s has errors; the old one stays in force",
                      path);
        return;
    }
    if (open_store(cfg) < 0) {
        config_free(cfg);
        metrics_reload(false);
        logger_notice(LOG_ERR, "reload refused: the fallback rules need their state store");
        return;
    }
    warn_weakening(cfg);
    log_mode_warnings(cfg);
    warn_restart_keys(cfg);
    session_service_name_policies(service, cfg);
    if (config_ref_install(cfg) < 0) {
        config_free(cfg);
        metrics_reload(false);
        logger_notice(LOG_ERR, "reload refused: out of memory");
        return;
    }
    metrics_reload(true);
    metrics_config(cfg->hash);
    logger_notice(LOG_INFO, "configuration %s reloaded, hash %s", path, cfg->hash);
}

/* on_signal - async-signal-safe: tell the main loop */
static void on_signal(int sig)
{
    char c = sig == SIGHUP ? 'H' : 'T';
    int saved = errno;

    if (write(signal_pipe[1], &c, 1) < 0) {
        /* nothing safe to do here */
    }
    errno = saved;
}

/* catch_signals - handlers in the main thread, which never blocks them */
static int catch_signals(void)
{
    struct sigaction sa;
    sigset_t set;

    if (pipe(signal_pipe) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    /* SA_NODEFER: a second signal during the handler must find our thread
       willing, or the kernel hands it to libmilter's thread, which stops. */
    sa.sa_flags = SA_NODEFER | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* serve_thread - libmilter's loop; tells the main loop when it ends */
static void *serve_thread(void *arg)
{
    char c = 'X';

    *(int *) arg = milter_serve();
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* the main loop is gone too */
    }
    return NULL;
}

/* start_serving - the libmilter thread, created with our signals blocked */
static int start_serving(pthread_t *tid, int *status)
{
    sigset_t set, old;
    int rc;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    rc = pthread_create(tid, NULL, serve_thread, status);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

/* find_ids - uid and gid of "USER[:GROUP]" */
static int find_ids(const char *spec, uid_t *uid, gid_t *gid, char *name, size_t len)
{
    const char *colon = strchr(spec, ':');
    struct passwd *pw;
    struct group *gr;

    snprintf(name, len, "%.*s", colon ? (int) (colon - spec) : (int) strlen(spec), spec);
    if ((pw = getpwnam(name)) == NULL) {
        logger_notice(LOG_ERR, "unknown user %s", name);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (colon) {
        if ((gr = getgrnam(colon + 1)) == NULL) {
            logger_notice(LOG_ERR, "unknown group %s", colon + 1);
            return -1;
        }
        *gid = gr->gr_gid;
    }
    return 0;
}

/* unix_path - the file of a unix: or local: socket, or NULL */
static const char *unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    return NULL;
}

/* hand_socket - a unix socket to USER:GROUP; the MTA connects as a member of GROUP */
static int hand_socket(const char *socket_spec, const char *spec, uid_t uid, gid_t gid)
{
    const char *path = socket_spec ? unix_path(socket_spec) : NULL;

    if (path && (chown(path, uid, gid) < 0 || chmod(path, 0660) < 0)) {
        logger_notice(LOG_ERR, "cannot hand socket %s to %s: %s", path, spec, strerror(errno));
        return -1;
    }
    return 0;
}

/* drop_privileges - become USER:GROUP when started as root; the sockets go along */
static int drop_privileges(const char *spec, const char *socket_spec, const char *policy_spec)
{
    char name[256];
    uid_t uid;
    gid_t gid;

    if (getuid() != 0 || spec == NULL || *spec == 0)
        return 0;
    if (find_ids(spec, &uid, &gid, name, sizeof(name)) < 0)
        return -1;
    if (hand_socket(socket_spec, spec, uid, gid) < 0 || hand_socket(policy_spec, spec, uid, gid) < 0 ||
        hand_socket(metrics_spec, spec, uid, gid) < 0)
        return -1;
    if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        logger_notice(LOG_ERR, "cannot become %s: %s", spec, strerror(errno));
        return -1;
    }
    return 0;
}

/* write_pidfile - our pid, for init scripts; never through a link (pidfile.c) */
static int write_pidfile(const char *path)
{
    struct tp_error err;

    if (path == NULL || *path == 0)
        return 0;
    if (pidfile_write(path, &err) < 0) {
        logger_notice(LOG_ERR, "%s", err.msg);
        return -1;
    }
    pidfile_written = true;
    return 0;
}

/* detach - become a background daemon; the parent waits until we are ready */
static int detach(void)
{
    int fds[2];
    pid_t pid;
    char c = 0;

    if (pipe(fds) < 0 || (pid = fork()) < 0)
        return -1;
    if (pid > 0) {
        /* An init script must learn whether the daemon really started:
           exit 0 only when the child says it is serving. */
        close(fds[1]);
        _exit(read(fds[0], &c, 1) == 1 && c == '0' ? 0 : 1);
    }
    close(fds[0]);
    ready_fd = fds[1];
    if (setsid() < 0 || chdir("/") < 0)
        return -1;
    return 0;
}

/* announce_ready - release the waiting parent; from now on only syslog */
static void announce_ready(void)
{
    char c = '0';
    int fd;

    if (ready_fd < 0)
        return;
    logger_stderr(false);
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    if (write(ready_fd, &c, 1) < 0) {
        /* the parent is gone; nobody to tell */
    }
    close(ready_fd);
    ready_fd = -1;
}

/* main_loop - reload on SIGHUP, stop on SIGTERM/SIGINT, end with libmilter */
static void main_loop(const char *config_path, bool milter)
{
    bool stopping = false;
    char c;

    for (;;) {
        ssize_t n = read(signal_pipe[0], &c, 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == 'X')
            return;
        if (c == 'H' && !stopping) {
            reload(config_path);
        } else if (c == 'T' && !stopping) {
            logger_notice(LOG_INFO, "stopping");
            stopping = true;
            if (!milter)
                return; /* the policy service alone: nothing else to wait for */
            milter_stop();
        }
    }
}

/* start_service - the session service, its records to our logger */
static int start_service(void)
{
    struct session_sink sink = logger_sink();

    if ((service = session_service_new(&sink, logger_instance())) == NULL) {
        logger_notice(LOG_ERR, "out of memory");
        return -1;
    }
    return 0;
}

/* open_sockets - the milter's, the policy service's and the metrics page's, as root; 0 or -1 */
static int open_sockets(const char *socket_spec, const char *policy_spec)
{
    mode_t old = umask(007);
    struct tp_error err;
    int rc = -1;

    /* Before libmilter replaces a unix socket: it may be a live instance's. */
    if (socket_spec &&
        (sockcheck_free(socket_spec, &err) < 0 || milter_register(socket_spec, service, &err) < 0))
        goto out;
    if (policy_spec && (sockcheck_policy_free(policy_spec, &err) < 0 ||
                        (policy = policy_server_open(policy_spec, &err)) == NULL))
        goto out;
    if (*metrics_spec && ((unix_path(metrics_spec) && sockcheck_policy_free(metrics_spec, &err) < 0) ||
                          metrics_listen(metrics_spec, &err) < 0))
        goto out;
    rc = 0;
out:
    if (rc < 0)
        logger_notice(LOG_ERR, "%s", err.msg);
    umask(old);
    return rc;
}

/* start - everything up to serving; 0 or -1 */
static int start(const struct config *cfg, const struct daemon_options *o, const char *socket_spec,
                 const char *policy_spec)
{
    const char *pidfile = o->pidfile ? o->pidfile : cfg->pidfile;
    const char *user = o->user ? o->user : cfg->user;

    if (open_sockets(socket_spec, policy_spec) < 0)
        return -1;
    if (!o->foreground && detach() < 0)
        return -1;
    /* In the foreground (systemd, a terminal) nobody needs the pidfile:
       failing to write it is reported, not fatal. */
    if (write_pidfile(pidfile) < 0 && !o->foreground)
        return -1;
    return drop_privileges(user, socket_spec, policy_spec);
}

/* front_ends - the sockets to serve: -p/-s, else the configuration's;
   no milter socket when only policy_socket was configured */
static void front_ends(const struct config *cfg, const struct daemon_options *o, char *milter,
                       char *policy_spec, size_t len)
{
    const char *p = o->policy_socket ? o->policy_socket : cfg->policy_socket;
    const char *m = o->socket ? o->socket : cfg->socket;

    if (o->socket == NULL && !cfg->socket_set && p != NULL)
        m = NULL;
    snprintf(milter, len, "%s", m ? m : "");
    snprintf(policy_spec, len, "%s", p ? p : "");
}

/* raise_fd_limit - Postfix keeps a policy connection per smtpd process
   open: the soft limit of 1024 descriptors would cap them below the
   service's own POLICY_CONN_MAX; the hard limit is the administrator's */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
        rl.rlim_cur < POLICY_CONN_MAX + 256) {
        rl.rlim_cur = rl.rlim_max < POLICY_CONN_MAX + 256 ? rl.rlim_max : POLICY_CONN_MAX + 256;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            logger_notice(LOG_WARNING, "cannot raise the open file limit: %s", strerror(errno));
    }
}

/* start_front_ends - the metrics page, the policy service's threads, then libmilter's */
static int start_front_ends(bool milter, pthread_t *tid, int *status)
{
    struct tp_error err;

    if (metrics_start(service, &err) < 0) {
        logger_notice(LOG_ERR, "%s", err.msg);
        return -1;
    }
    if (policy)
        raise_fd_limit();
    if (policy && policy_server_start(policy, service, &err) < 0) {
        logger_notice(LOG_ERR, "%s", err.msg);
        return -1;
    }
    return milter ? start_serving(tid, status) : 0;
}

/* starting_notice - the readiness line: what is served, under which configuration */
static void starting_notice(const char *socket_spec, const char *policy_spec, const char *path,
                            const struct config *cfg)
{
    logger_notice(LOG_INFO, "starting: %s%s%s%s%s, configuration %s (hash %s), instance %s",
                  *socket_spec ? "socket " : "", socket_spec, *socket_spec && *policy_spec ? ", " : "",
                  *policy_spec ? "policy_socket " : "", policy_spec, path, cfg->hash, logger_instance());
}

/* daemon_run - the milter daemon and the policy service */
int daemon_run(struct config *cfg, const struct daemon_options *o)
{
    /* Copies: a reload frees the configuration these came from. */
    char socket_spec[1024], policy_spec[1024], pidfile[1024];
    int status = 0;
    pthread_t tid;
    bool milter;

    front_ends(cfg, o, socket_spec, policy_spec, sizeof(socket_spec));
    snprintf(metrics_spec, sizeof(metrics_spec), "%s", cfg->metrics_listen ? cfg->metrics_listen : "");
    milter = *socket_spec != 0;
    policy_served = *policy_spec != 0;
    snprintf(pidfile, sizeof(pidfile), "%s", o->pidfile ? o->pidfile : cfg->pidfile ? cfg->pidfile : "");

    /* Until the daemon is serving, errors go to the terminal as well. */
    logger_open(cfg->log.ident, cfg->log.facility, cfg->log.socket, true);
    if (start_service() < 0)
        return 1;
    log_mode_warnings(cfg);
    session_service_name_policies(service, cfg);
    metrics_config(cfg->hash);
    /* The store opens after detaching and dropping privileges: its files
       belong to the daemon's user, and LMDB handles do not survive fork. */
    if (config_ref_install(cfg) < 0 || catch_signals() < 0 ||
        start(cfg, o, milter ? socket_spec : NULL, *policy_spec ? policy_spec : NULL) < 0)
        return 1;
    /* After detaching (the message carries the pid), before the store's map exists. */
    if (fault_guard_install(cfg->log.ident, cfg->log.facility, cfg->log.socket, o->foreground) < 0 ||
        open_store(cfg) < 0)
        return 1;
    starting_notice(socket_spec, policy_spec, o->config_path, cfg);
    if (start_front_ends(milter, &tid, &status) < 0)
        return 1;
    if (!o->foreground)
        announce_ready();
    main_loop(o->config_path, milter);
    if (milter)
        pthread_join(tid, NULL);
    /* Every open policy session's record, while the store is still there. */
    policy_server_stop(policy);
    policy = NULL;
    metrics_stop();
    /* A refused name (a planted link, someone's file) is not ours to remove. */
    if (*pidfile && pidfile_written)
        unlink(pidfile);
    logger_notice(LOG_INFO, "stopped");
    /* The service stays: libmilter may still be closing a session whose
       record needs the sink. Such a session decides without the store. */
    session_service_set_store(service, NULL);
    store_close(store);
    config_ref_shutdown();
    return status == 0 ? 0 : 1;
}
