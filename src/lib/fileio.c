/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounded whole-file reads for /proc/cmdline and nodegate.conf. */

#include <fcntl.h>

#include "lib/fileio.h"
#include "util.h"

int read_file_bounded(const char *path, size_t max, char **ret_text, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        /* One byte more than allowed tells "exactly max" apart from "too long", and one more
         * holds the terminator. */
        buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;

        while (n < max + 1) {
                ssize_t k = read(fd, buf + n, max + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > max)
                return -E2BIG;

        buf[n] = '\0';
        *ret_text = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}
