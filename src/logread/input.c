/*++
 * NAME
 *	input 3
 * SUMMARY
 *	line reader over plain and gzip files and stdin
 * SYNOPSIS
 *	#include "logread/input.h"
 *
 *	struct input *input_open(path, err)
 *	struct input *input_open_fd(fd, name, err)
 *	int	input_next(in, line, err)
 *	void	input_close(in)
 * DESCRIPTION
 *	See input.h. A plain file is read with read(2); gzip files and
 *	stdin go through zlib. The reader keeps one block of decompressed bytes and
 *	one line buffer; both are bounded (INPUT_BLOCK, INPUT_LINE_MAX).
 * DIAGNOSTICS
 *	Open and read errors carry the file name and zlib's or the system's
 *	message.
 *--*/

/* System library. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Libraries. */
#include <zlib.h>

/* Application. */
#include "logread/input.h"

#define INPUT_BLOCK (128 * 1024)

struct input {
    gzFile gz;
    int fd; /* a plain file read directly, or -1 */
    char *name;
    char *block;
    size_t pos;  /* next unread byte of block */
    size_t fill; /* bytes in block */
    bool eof;
    struct strbuf line;
    unsigned long lineno;
};

/* raw_read - the next block of a plain file */
static ssize_t raw_read(struct input *in)
{
    ssize_t n;

    while ((n = read(in->fd, in->block, INPUT_BLOCK)) < 0 && errno == EINTR)
        /* void */;
    return n;
}

/* input_alloc - a reader without a source yet; NULL with err set */
static struct input *input_alloc(const char *name, struct tp_error *err)
{
    struct input *in;

    if ((in = calloc(1, sizeof(*in))) != NULL)
        in->fd = -1;
    if (in == NULL || (in->block = malloc(INPUT_BLOCK)) == NULL || (in->name = strdup(name)) == NULL) {
        tp_error_set(err, name, 0, "out of memory");
        input_close(in);
        return NULL;
    }
    strbuf_init(&in->line);
    return in;
}

/*
 * input_open - a file that can be seeked goes to input_open_fd(), which
 * reads it with read(2) unless it starts with the gzip magic: zlib's
 * pass-through copies every byte once more (a tenth of a report). Stdin
 * and a pipe (/dev/fd/N), which cannot be peeked at, go through zlib,
 * which reads gzip and plain text alike.
 */
struct input *input_open(const char *path, struct tp_error *err)
{
    struct input *in;
    bool is_stdin = strcmp(path, "-") == 0, seekable;
    int fd;

    if (!is_stdin) {
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            tp_error_set(err, path, 0, "%s", strerror(errno));
            return NULL;
        }
        seekable = lseek(fd, 0, SEEK_CUR) >= 0;
        in = seekable ? input_open_fd(fd, path, err) : NULL;
        close(fd); /* input_open_fd() reads a dup */
        if (seekable)
            return in;
    }
    if ((in = input_alloc(is_stdin ? "(stdin)" : path, err)) == NULL)
        return NULL;
    /* gzdopen on a dup: gzclose must not close the caller's stdin. */
    in->gz = is_stdin ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path, "rb");
    if (in->gz == NULL) {
        tp_error_set(err, path, 0, "%s", errno ? strerror(errno) : "cannot open");
        input_close(in);
        return NULL;
    }
    gzbuffer(in->gz, INPUT_BLOCK);
    return in;
}

/* input_open_fd - read a seekable descriptor from its current offset */
struct input *input_open_fd(int fd, const char *name, struct tp_error *err)
{
    struct input *in;
    unsigned char magic[2];
    off_t at = lseek(fd, 0, SEEK_CUR);
    bool gz = at >= 0 && pread(fd, magic, sizeof(magic), at) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    int copy;

    if ((in = input_alloc(name, err)) == NULL)
        return NULL;
    /* A dup shares the offset: the caller seeks it back for a second pass. */
    if ((copy = dup(fd)) < 0 || (gz && (in->gz = gzdopen(copy, "rb")) == NULL)) {
        tp_error_set(err, name, 0, "%s", strerror(errno ? errno : ENOMEM));
        if (copy >= 0)
            close(copy);
        input_close(in);
        return NULL;
    }
    if (gz)
        gzbuffer(in->gz, INPUT_BLOCK);
    else
        in->fd = copy;
    return in;
}

/* refill - the next block; 0 at the end, -1 on error */
static int refill(struct input *in, struct tp_error *err)
{
    int n, zerr;
    ssize_t raw;
    const char *msg;

    if (in->eof)
        return 0;
    if (in->fd >= 0) {
        if ((raw = raw_read(in)) < 0) {
            tp_error_set(err, in->name, 0, "%s", strerror(errno));
            return -1;
        }
        in->eof = raw == 0;
        in->pos = 0;
        in->fill = (size_t) raw;
        return raw > 0;
    }
    n = gzread(in->gz, in->block, INPUT_BLOCK);
    if (n < 0) {
        msg = gzerror(in->gz, &zerr);
        tp_error_set(err, in->name, 0, "%s", zerr == Z_ERRNO ? strerror(errno) : msg);
        return -1;
    }
    if (n == 0) {
        /* A truncated gzip file ends without an error from gzread, but
           gzerror says so: a cut-off rotation is worth a diagnostic. */
        msg = gzerror(in->gz, &zerr);
        in->eof = true;
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            tp_error_set(err, in->name, 0, "%s", msg);
            return -1;
        }
        return 0;
    }
    in->pos = 0;
    in->fill = (size_t) n;
    return 1;
}

/* take - append up to n bytes of a line, keeping at most INPUT_LINE_MAX */
static void take(struct input *in, struct input_line *out, const char *p, size_t n)
{
    size_t room = INPUT_LINE_MAX - in->line.len;

    if (n > room) {
        out->too_long = true;
        n = room;
    }
    strbuf_putn(&in->line, p, n);
}

/* finish - hand out the collected line */
static int finish(struct input *in, struct input_line *out, struct tp_error *err)
{
    if (strbuf_failed(&in->line)) {
        tp_error_set(err, in->name, (int) in->lineno, "out of memory");
        return -1;
    }
    if (in->line.len > 0 && in->line.s[in->line.len - 1] == '\r')
        in->line.s[--in->line.len] = 0;
    out->text = in->line.s ? in->line.s : (char *) "";
    out->len = in->line.len;
    out->lineno = in->lineno;
    out->has_nul = out->len > 0 && memchr(out->text, 0, out->len) != NULL;
    return 1;
}

/* in_block - hand out a line that lies wholly in the block, in place:
   nearly every line does, and copying each one cost a tenth of a report */
static int in_block(struct input_line *out, char *text, size_t len, unsigned long lineno)
{
    text[len] = 0; /* the newline */
    if (len > 0 && text[len - 1] == '\r')
        text[--len] = 0;
    out->text = text;
    out->len = len;
    out->lineno = lineno;
    out->has_nul = len > 0 && memchr(text, 0, len) != NULL;
    return 1;
}

/* input_next - the next line */
int input_next(struct input *in, struct input_line *out, struct tp_error *err)
{
    const char *start, *nl;
    int rc;

    strbuf_reset(&in->line);
    out->too_long = false;
    for (;;) {
        if (in->pos == in->fill) {
            if ((rc = refill(in, err)) < 0)
                return -1;
            if (rc == 0) {
                if (in->line.len == 0 && !out->too_long)
                    return 0;
                in->lineno++;
                return finish(in, out, err);
            }
        }
        start = in->block + in->pos;
        nl = memchr(start, '\n', in->fill - in->pos);
        if (nl == NULL) {
            take(in, out, start, in->fill - in->pos);
            in->pos = in->fill;
            continue;
        }
        in->pos += (size_t) (nl - start) + 1;
        in->lineno++;
        if (in->line.len == 0 && !out->too_long && (size_t) (nl - start) <= INPUT_LINE_MAX)
            return in_block(out, (char *) start, (size_t) (nl - start), in->lineno);
        take(in, out, start, (size_t) (nl - start));
        return finish(in, out, err);
    }
}

/* input_close - release the reader */
void input_close(struct input *in)
{
    if (in == NULL)
        return;
    if (in->gz != NULL)
        gzclose(in->gz);
    if (in->fd >= 0)
        close(in->fd);
    free(in->block);
    free(in->name);
    strbuf_free(&in->line);
    free(in);
}
