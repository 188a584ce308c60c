/*++
 * NAME
 *	pidfile 3
 * SUMMARY
 *	the pidfile, written by root without following a planted link
 * SYNOPSIS
 *	#include "daemon/pidfile.h"
 *
 *	int	pidfile_write(path, err)
 *	const char *path;
 *	struct tp_error *err;
 * DESCRIPTION
 *	The pidfile is written while the daemon still runs as root, in a
 *	directory (/run/tlspolicyd) that usually belongs to the daemon's
 *	user. That user could plant a symbolic link or a FIFO there and have
 *	root truncate and write any file on the system. So:
 *
 *	- the name is opened with O_NOFOLLOW | O_NONBLOCK: a symbolic link
 *	  fails (ELOOP) instead of being followed, a FIFO does not block;
 *	  what lstat() shows is not a regular file is not opened at all;
 *	- an existing file is truncated only when fstat() of what was opened
 *	  shows a regular file with one link, owned by root or by us; a hard
 *	  link to another file, a device or someone else's file is refused;
 *	- a missing file is created with O_CREAT | O_EXCL, which never
 *	  follows a link either.
 *
 *	A file or link that is refused is left as it is, and the error says
 *	what it is so that the administrator can remove it.
 * DIAGNOSTICS
 *	-1 with err set; the caller decides whether that is fatal.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Application. */
#include "daemon/pidfile.h"

#define OPEN_FLAGS (O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)

/* refuse_existing - why an existing pidfile must not be truncated, or NULL */
static const char *refuse_existing(const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return "is not a regular file";
    if (st->st_nlink != 1)
        return "has more than one hard link";
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return "belongs to another user";
    return NULL;
}

/* open_pidfile - a descriptor of a pidfile that is safe to write, or -1 */
static int open_pidfile(const char *path, struct tp_error *err)
{
    const char *why;
    struct stat st;
    int fd, saved;

    if ((fd = open(path, OPEN_FLAGS | O_CREAT | O_EXCL, 0644)) >= 0)
        return fd;
    saved = errno;
    /* Look before opening: opening a device or FIFO may have effects. */
    if (saved == EEXIST && lstat(path, &st) == 0 && !S_ISLNK(st.st_mode) && (why = refuse_existing(&st))) {
        tp_error_set(err, NULL, 0, "cannot write pidfile %s: it %s; remove it", path, why);
        return -1;
    }
    if (saved == EEXIST && (fd = open(path, OPEN_FLAGS)) < 0)
        saved = errno;
    if (fd < 0) {
        /* ELOOP: a symbolic link, which is exactly what we refuse. */
        tp_error_set(err, NULL, 0, "cannot write pidfile %s: %s", path,
                     saved == ELOOP ? "it is a symbolic link; remove it" : strerror(saved));
        return -1;
    }
    why = fstat(fd, &st) < 0 ? "cannot be examined" : refuse_existing(&st);
    if (why != NULL) {
        tp_error_set(err, NULL, 0, "cannot write pidfile %s: it %s; remove it", path, why);
        close(fd);
        return -1;
    }
    if (ftruncate(fd, 0) < 0) {
        tp_error_set(err, NULL, 0, "cannot truncate pidfile %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* pidfile_write - our pid into path, never through a link */
int pidfile_write(const char *path, struct tp_error *err)
{
    char text[32];
    int fd, n, rc = 0;

    if ((fd = open_pidfile(path, err)) < 0)
        return -1;
    n = snprintf(text, sizeof(text), "%ld\n", (long) getpid());
    if (write(fd, text, (size_t) n) != n) {
        tp_error_set(err, NULL, 0, "cannot write pidfile %s: %s", path, strerror(errno ? errno : EIO));
        rc = -1;
    }
    if (close(fd) < 0 && rc == 0) {
        tp_error_set(err, NULL, 0, "cannot write pidfile %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}
