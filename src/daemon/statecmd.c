/*++
 * NAME
 *	statecmd 3
 * SUMMARY
 *	tlspolicyd --state: inspect and clear what the fallback rules learned
 * SYNOPSIS
 *	#include "daemon/statecmd.h"
 *
 *	int	statecmd_run(config, argc, argv, out, err)
 *	struct store *statecmd_open_redis(config, err)
 * DESCRIPTION
 *	One line per key, in key order, as key=value fields with times in
 *	UTC (RFC 3339), so that an administrator can grep it and a script can
 *	parse it. "forget" is how a sender that legitimately lost TLS is
 *	taken off the list before its deferrals run out. With Redis the
 *	keys come from SCAN (never KEYS, which would stall every MX host
 *	sharing the server) and are sorted here.
 *--*/

/* System library. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Application. */
#include "record/record.h"
#include "daemon/statecmd.h"
#include "state/store.h"
#include "util/strbuf.h"

static const char *const level_names[] = {"none", "tls", "verified"};

/* put_time - a time field, "-" for never */
static void put_time(struct strbuf *sb, const char *name, int64_t when)
{
    time_t t = (time_t) when;
    struct tm tm;
    char text[32];

    if (when <= 0 || gmtime_r(&t, &tm) == NULL) {
        strbuf_printf(sb, " %s=-", name);
        return;
    }
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    strbuf_printf(sb, " %s=%s", name, text);
}

/* print_record - one key and what was learned under it */
static int print_record(const char *key, const struct fb_record *rec, void *arg)
{
    struct strbuf sb;

    strbuf_init(&sb);
    strbuf_puts(&sb, "key=");
    record_kv_value(&sb, key);
    strbuf_printf(&sb, " best_level=%s best_version=%s",
                  rec->best_level <= FB_LEVEL_VERIFIED ? level_names[rec->best_level] : "?",
                  rec->best_version == TLS_V_NONE ? "-" : tlsinfo_version_name(rec->best_version));
    put_time(&sb, "first_seen", rec->first_seen);
    put_time(&sb, "last_tls", rec->last_tls);
    put_time(&sb, "last_plain", rec->last_plain);
    put_time(&sb, "last_tls_failure", rec->last_tls_failure);
    strbuf_printf(&sb, " deferrals=%u", (unsigned) rec->deferrals);
    put_time(&sb, "defer_start", rec->defer_start);
    put_time(&sb, "updated", rec->updated);
    fprintf(arg, "%s\n", strbuf_str(&sb));
    strbuf_free(&sb);
    return 0;
}

/* run - one subcommand against an open store */
static int run(struct store *st, const char *cmd, const char *key, FILE *out, struct tp_error *err)
{
    struct fb_record rec;
    int rc;

    if (strcmp(cmd, "list") == 0)
        return store_walk(st, print_record, out, err) < 0 ? 1 : 0;
    if (strcmp(cmd, "show") == 0) {
        if ((rc = store_get(st, key, &rec, err)) < 0)
            return 1;
        if (rc == 0) {
            tp_error_set(err, NULL, 0, "--state show: no entry for %s", key);
            return 1;
        }
        print_record(key, &rec, out);
        return 0;
    }
    if ((rc = store_forget(st, key, err)) < 0)
        return 1;
    if (rc == 0) {
        tp_error_set(err, NULL, 0, "--state forget: no entry for %s", key);
        return 1;
    }
    fprintf(out, "forgot %s\n", key);
    return 0;
}

/* statecmd_open_redis - the Redis store as the configuration describes it */
struct store *statecmd_open_redis(const struct config *cfg, struct tp_error *err)
{
    struct store_redis_opts o = {
        .servers = (const char *const *) cfg->state.servers,
        .sentinels = (const char *const *) cfg->state.sentinels,
        .master_name = cfg->state.master_name,
        .prefix = cfg->state.prefix,
        .password = cfg->state.password,
        .password_len = cfg->state.password_len,
        .db = cfg->state.db,
        .timeout_ms = cfg->state.timeout_ms,
    };

    return store_open_redis(&o, err);
}

/* open_lmdb - the LMDB store for --state, never created or moved from here */
static struct store *open_lmdb(const struct config *cfg, struct tp_error *err)
{
    char data[1100];

    /* Never create the store here: files made by root would lock the
       daemon's unprivileged user out of its own state. */
    snprintf(data, sizeof(data), "%s/data.mdb", cfg->state.path);
    if (access(data, F_OK) != 0) {
        tp_error_set(err, NULL, 0, "--state: no state store in %s (nothing learned yet)", cfg->state.path);
        return NULL;
    }
    /* Never move the daemon's files from here (it may have them open):
       a damaged store is reported, whatever state.on_damage says. */
    return store_open_lmdb(cfg->state.path, 0, STORE_DAMAGE_REFUSE, err);
}

/* statecmd_run - list, show KEY, forget KEY */
int statecmd_run(const struct config *cfg, int argc, char **argv, FILE *out, struct tp_error *err)
{
    struct store *st;
    int rc;

    if (argc < 1 || (strcmp(argv[0], "list") == 0
                         ? argc != 1
                         : (strcmp(argv[0], "show") != 0 && strcmp(argv[0], "forget") != 0) || argc != 2)) {
        tp_error_set(err, NULL, 0, "usage: --state list | --state show KEY | --state forget KEY");
        return 2;
    }
    if (cfg->state.backend == STATE_REDIS) {
        /* The password is read at load only for the rules that use it. */
        if (cfg->state.password_file && !cfg->state.password) {
            tp_error_set(err, NULL, 0,
                         "--state: state.password_file is read only with fallback.enabled = true");
            return 1;
        }
        /* Not answering: say why now, not "every server failed" on the first use. */
        if ((st = statecmd_open_redis(cfg, err)) != NULL && err->msg[0]) {
            store_close(st);
            return 1;
        }
    } else {
        st = open_lmdb(cfg, err);
    }
    if (st == NULL)
        return 1;
    rc = run(st, argv[0], argc > 1 ? argv[1] : NULL, out, err);
    store_close(st);
    return rc;
}
