/*++
 * NAME
 *	reread 3
 * SUMMARY
 *	inputs that the report reads twice, the second time as the first
 * SYNOPSIS
 *	#include "report/reread.h"
 *
 *	int	reread_open(path, rr, err)
 *	int	reread_rewind(rr, name, err)
 *	void	reread_close(rr)
 *	void	reread_more_files()
 * DESCRIPTION
 *	See reread.h. A regular file is read from the offset it was
 *	opened at (standard input may be a file already partly read),
 *	and sought back there; a spooled copy from its start.
 * DIAGNOSTICS
 *	reread_open() names the input as given and says whether copying
 *	it failed; reread_rewind() names it as the report does.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Application. */
#include "report/reread.h"

/* write_all - n bytes to fd; 0, or -1 with errno set */
static int write_all(int fd, const char *buf, size_t n)
{
    ssize_t w;

    while (n > 0) {
        if ((w = write(fd, buf, n)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t) w;
    }
    return 0;
}

/* spool - copy src to an unlinked temporary file, at offset 0; its
   descriptor, or -1 with errno set */
static int spool(int src)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], buf[65536];
    ssize_t n;
    int fd, saved;

    snprintf(path, sizeof(path), "%s/tlspolicy-report.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    if ((fd = mkstemp(path)) < 0)
        return -1;
    unlink(path);
    while ((n = read(src, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || write_all(fd, buf, (size_t) n) != 0)
            break;
    }
    if (n != 0 || lseek(fd, 0, SEEK_SET) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* reread_open - a regular file as it is, anything else spooled */
int reread_open(const char *path, struct reread *rr, struct tp_error *err)
{
    struct stat st;
    const char *what = "";
    int src, saved;

    rr->fd = -1;
    rr->start = 0;
    src = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &st) != 0)
        goto fail;
    if (S_ISREG(st.st_mode) && (rr->start = lseek(src, 0, SEEK_CUR)) >= 0) {
        rr->fd = src;
        return 0;
    }
    rr->start = 0;
    what = "copying to a temporary file: ";
    if ((rr->fd = spool(src)) < 0)
        goto fail;
    close(src);
    return 0;
fail:
    saved = errno;
    if (src >= 0)
        close(src);
    tp_error_set(err, path, 0, "%s%s", what, strerror(saved));
    rr->fd = -1;
    return -1;
}

/* reread_rewind - where the first reading began */
int reread_rewind(const struct reread *rr, const char *name, struct tp_error *err)
{
    if (lseek(rr->fd, rr->start, SEEK_SET) >= 0)
        return 0;
    tp_error_set(err, name, 0, "%s", strerror(errno));
    return -1;
}

/* reread_close - release the descriptor */
void reread_close(struct reread *rr)
{
    if (rr->fd >= 0)
        close(rr->fd);
    rr->fd = -1;
}

/* reread_more_files - as many descriptors as the system allows */
void reread_more_files(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }
}
