/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the gate's event log reader (src/attest/eventlog.c) on a securityfs tree in a scratch
 * directory whose binary_bios_measurements holds the input: the bytes read are exactly the
 * file's, a log over the protocol's limit or an empty one is refused with its reason. The
 * first input byte also picks a tree without the file (0xff), or a log grown with zeros to
 * exactly the limit or one byte over it (0xfe), where the bound is. */

#include "attest/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/fuzz-gate-eventlog-XXXXXX";
static char dir[256], path[512];

static void cleanup(void)
{
        unlink(path);
        rmdir(dir);
        /* the parents of tpm0 */
        char p[512];
        snprintf(p, sizeof(p), "%s/sys/kernel/security", root);
        rmdir(p);
        snprintf(p, sizeof(p), "%s/sys/kernel", root);
        rmdir(p);
        snprintf(p, sizeof(p), "%s/sys", root);
        rmdir(p);
        rmdir(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char p[512];

        (void) argc;
        (void) argv;
        if (!mkdtemp(root))
                abort();
        atexit(cleanup);
        snprintf(p, sizeof(p), "%s/sys", root);
        mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/sys/kernel", root);
        mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/sys/kernel/security", root);
        mkdir(p, 0700);
        snprintf(dir, sizeof(dir), "%s/sys/kernel/security/tpm0", root);
        mkdir(dir, 0700);
        snprintf(path, sizeof(path), "%s%s", root, EVENTLOG_PATH);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t *log = NULL;
        size_t log_size = 0, want = size;
        char err[256];
        int fd, r;

        unlink(path);
        /* 0xff: no log file (the scratch tree is no securityfs: -ENOMEDIUM) */
        if (!(size > 0 && data[0] == 0xff)) {
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                        abort();
                if (size > 1 && data[0] == 0xfe) {
                        size_t grown = EVENTLOG_SIZE_MAX + (data[1] & 1);

                        if (size < grown && ftruncate(fd, (off_t) grown) < 0)
                                abort();
                        if (size < grown)
                                want = grown;
                }
                close(fd);
        }
        err[0] = '\0';
        r = eventlog_read(root, &log, &log_size, err, sizeof(err));
        if (size > 0 && data[0] == 0xff) {
                if (r != -ENOMEDIUM || !err[0])
                        abort();
        } else if (size == 0) {
                if (r != -ENODATA || !err[0])
                        abort();
        } else if (want > EVENTLOG_SIZE_MAX) {
                if (r != -EFBIG || !err[0] || log)
                        abort();
        } else if (r != 0 || log_size != want || memcmp(log, data, size) != 0)
                abort();
        free(log);
        return 0;
}
