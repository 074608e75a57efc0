/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: a temporary directory of fixture files, removed again at the end of a test. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture_dir {
        char path[64];
};

/* @return 0 on success or negative errno */
static inline int fixture_dir_make(struct fixture_dir *d)
{
        const char *tmp = getenv("TMPDIR");

        snprintf(d->path, sizeof(d->path), "%s/nodegate-unit-XXXXXX",
                 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
        return mkdtemp(d->path) ? 0 : -errno;
}

/* Writes len bytes of text to dir/name; path receives the full name.
 * @return 0 on success or negative errno */
static inline int fixture_write(const struct fixture_dir *d, const char *name, const char *text,
                                size_t len, char *path, size_t path_size)
{
        int fd;

        snprintf(path, path_size, "%s/%s", d->path, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t k = write(fd, text, len);

                if (k < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                text += k;
                len -= (size_t) k;
        }
        return close(fd) < 0 ? -errno : 0;
}

static inline int fixture_remove_one(const char *path, const struct stat *st, int type,
                                     struct FTW *ftw)
{
        (void) st;
        (void) ftw;
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes the directory and everything the test put in it. */
static inline void fixture_dir_remove(struct fixture_dir *d)
{
        (void) nftw(d->path, fixture_remove_one, 8, FTW_DEPTH | FTW_PHYS);
}
