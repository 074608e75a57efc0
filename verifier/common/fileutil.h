/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole files: read with a bound (the management commands, ek-cli.c and policy-cli.c, also from
 * a pipe; the service only from regular files), and replaced atomically, so a verifier starting
 * meanwhile reads the old or the new file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Reads all of path (any file type: a pipe or /dev/stdin too) into a NUL-terminated malloc'ed
 * buffer. The NUL is not counted in *ret_size. ENOENT comes back as such, so a caller may
 * create the file. @return 0, -EFBIG (more than max bytes) or negative errno */
int read_file_all(const char *path, size_t max, char **ret, size_t *ret_size);

/* Reads a regular file of at most max bytes (its size checked before any read) into a
 * NUL-terminated malloc'ed buffer: the verifier's own configuration, keys and tokens, which a
 * FIFO or a device in their place must not stall or flood. On a read error the partial buffer
 * is wiped; free the result with erase_and_free() when it may be a secret.
 * @return 0, -EBADF (not a regular file), -EFBIG or negative errno */
int read_regular_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* Makes data path's content: a temporary file in the same directory with mode (and owner
 * uid:gid when not (uid_t) -1, as far as the caller may give files away), fsync, rename(2)
 * over path, fsync of the directory. @return 0 or negative errno */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode, uid_t uid,
                      gid_t gid);

/* Whether a secret file's mode keeps it to the verifier: no access for others, none for the
 * group either, except read access when the group is the verifier's own. That exception is
 * the layout the kubelet gives a Secret volume of a non-root pod (root:fsGroup, 0440, with
 * runAsGroup = fsGroup); a group the verifier merely belongs to may have other members. */
static inline bool secret_mode_private(const struct stat *st)
{
        if (st->st_mode & (S_IRWXO | S_IWGRP | S_IXGRP))
                return false;
        return !(st->st_mode & S_IRGRP) || st->st_gid == getegid();
}
