/*++
 * NAME
 *	config_perm 3
 * SUMMARY
 *	warnings about configuration files others may change or read
 * SYNOPSIS
 *	#include "config/config_perm.h"
 *
 *	size_t	config_check_modes(cfg, warns)
 * DESCRIPTION
 *	Whoever can write the configuration file or a domain file decides
 *	which mail must arrive encrypted; whoever can read the hash key can
 *	undo the hashing of logged addresses. As postfix check does, every
 *	such file is examined after a successful load:
 *
 *	- the configuration file, recipient_domains_file and
 *	  sender_domains_file: a warning when group or others may write it;
 *	- hash_key_file (when addresses = "hash" read it) and the Redis
 *	  password_file (when read): the same, and a warning when others may
 *	  read it.
 *
 *	These are warnings, not errors: a file shared with a trusted admin
 *	group is a choice, and refusing to start over it would take mail
 *	down. stat() follows symbolic links, so the mode is the one of the
 *	file that was read.
 * DIAGNOSTICS
 *	One tp_error without a line per finding: "FILE: warning: ...".
 *--*/

/* System library. */
#include <sys/stat.h>

/* Application. */
#include "config/config_perm.h"

/* check_one - warn about one file; secret (1: hash key, 2: Redis password): also about reading by others */
static size_t check_one(const char *path, const char *what, int secret, struct tp_errlist *warns)
{
    struct stat st;
    size_t n = 0;

    if (path == NULL || stat(path, &st) < 0)
        return 0; /* the loader read it a moment ago; a race is not our finding */
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        tp_errlist_add(warns, path, 0,
                       "warning: %s is writable by %s (mode %04o): whoever can write it decides which"
                       " mail must arrive over TLS; chmod go-w",
                       what, (st.st_mode & S_IWOTH) ? "others" : "group", (unsigned) (st.st_mode & 07777));
        n++;
    }
    if (secret && (st.st_mode & S_IROTH)) {
        tp_errlist_add(warns, path, 0,
                       "warning: %s is readable by others (mode %04o): whoever can read it %s; chmod o-r",
                       what, (unsigned) (st.st_mode & 07777),
                       secret == 1 ? "can recover hashed addresses by trying them"
                                   : "can rewrite the TLS history every MX host sharing Redis decides by");
        n++;
    }
    return n;
}

/* config_check_modes - every file of cfg, in the order the loader read them */
size_t config_check_modes(const struct config *cfg, struct tp_errlist *warns)
{
    size_t i, n = check_one(cfg->path, "the configuration file", 0, warns);

    for (i = 0; i < cfg->ndomain_files; i++)
        n += check_one(cfg->domain_files[i], "the domain file", 0, warns);
    if (cfg->log.hash_key != NULL)
        n += check_one(cfg->log.hash_key_file, "the hash key file", 1, warns);
    if (cfg->state.password != NULL)
        n += check_one(cfg->state.password_file, "the Redis password file", 2, warns);
    return n;
}
