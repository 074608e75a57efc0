/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading binary_bios_measurements: bounded, and telling "securityfs is missing" apart from
 * "the kernel has no TPM log", because the fixes differ (the initramfs vs the firmware). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "attest/eventlog.h"
#include "util.h"

#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif

static const char *root_prefix(const char *root)
{
        return !root || streq(root, "/") ? "" : root;
}

/* Why the log file is not there: no securityfs at all, or securityfs without a TPM log. */
static int explain_missing(const char *root, const char *path, char *errbuf, size_t errlen)
{
        char dir[4096];
        struct statfs sf;

        if (pathf(dir, sizeof(dir), "%s%s", root_prefix(root), SECURITYFS_PATH) < 0 ||
            statfs(dir, &sf) < 0 || sf.f_type != SECURITYFS_MAGIC) {
                snprintf(errbuf, errlen, "securityfs is not mounted at %s: no TPM event log",
                         SECURITYFS_PATH);
                return -ENOMEDIUM;
        }
        snprintf(errbuf, errlen,
                 "%s does not exist: the kernel has no TPM event log (no TPM driver bound, or "
                 "the firmware passed no log)",
                 path);
        return -ENOENT;
}

int eventlog_read(const char *root, uint8_t **ret, size_t *ret_size, char *errbuf, size_t errlen)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        char path[4096];
        size_t size = 0;

        if (pathf(path, sizeof(path), "%s%s", root_prefix(root), EVENTLOG_PATH) < 0) {
                snprintf(errbuf, errlen, "event log path too long");
                return -ENAMETOOLONG;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return explain_missing(root, EVENTLOG_PATH, errbuf, errlen);
        if (fd < 0) {
                int r = negative_errno();
                snprintf(errbuf, errlen, "cannot open %s: %s", EVENTLOG_PATH, strerror(-r));
                return r;
        }
        buf = malloc(EVENTLOG_SIZE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        /* Bounded: at most EVENTLOG_SIZE_MAX + 1 bytes are ever read, one more than allowed, to
         * tell a log of exactly the limit from a larger one. */
        while (size <= EVENTLOG_SIZE_MAX) {
                ssize_t n = read(fd, buf + size, EVENTLOG_SIZE_MAX + 1 - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = negative_errno();
                        snprintf(errbuf, errlen, "cannot read %s: %s", EVENTLOG_PATH, strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > EVENTLOG_SIZE_MAX) {
                snprintf(errbuf, errlen, "%s is larger than the protocol's %u KiB", EVENTLOG_PATH,
                         EVENTLOG_SIZE_MAX / 1024U);
                return -EFBIG;
        }
        if (size == 0) {
                snprintf(errbuf, errlen, "%s is empty", EVENTLOG_PATH);
                return -ENODATA;
        }
        *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}
