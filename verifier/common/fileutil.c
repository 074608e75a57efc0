/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounded whole-file reads and atomic replacement (temporary file, fsync, rename). */
#include "common/fileutil.h"

#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <sys/stat.h>

int read_file_all(const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* Read to EOF, not to st_size: /proc files and pipes have none. */
        for (;;) {
                ssize_t n;

                if (size == cap) {
                        size_t nc = cap ? 2 * cap : 4096;
                        char *nb;

                        if (cap > max)
                                return -EFBIG;
                        nb = realloc(buf, nc + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = nc;
                }
                n = read(fd, buf + size, cap - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > max)
                return -EFBIG;
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t got = 0;
        char *buf;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        buf = calloc(1, (size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* 0: the file shrank under us; a torn read is no configuration. */
                        int r = n < 0 ? negative_errno() : -EIO;

                        erase_and_free(buf);
                        return r;
                }
                got += (size_t) n;
        }
        *ret = buf;
        if (ret_size)
                *ret_size = got;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode, uid_t uid,
                      gid_t gid)
{
        _cleanup_free_ char *tmp = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1, dfd = -1;
        const char *p = data;
        int r;

        if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fchmod(fd, mode) < 0)
                goto fail;
        /* Only root can give a file away; anyone else keeps the owner they are. */
        if ((uid != (uid_t) -1 || gid != (gid_t) -1) && fchown(fd, uid, gid) < 0 && errno != EPERM)
                goto fail;
        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        goto fail;
                p += n;
                size -= (size_t) n;
        }
        if (fsync(fd) < 0 || close(TAKE_FD(fd)) < 0)
                goto fail;
        if (rename(tmp, path) < 0)
                goto fail;

        /* The rename is durable once the directory is. */
        dir = strdup(path);
        if (dir) {
                dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) fsync(dfd);
        }
        return 0;

fail:
        r = negative_errno();
        (void) unlink(tmp);
        return r;
}
