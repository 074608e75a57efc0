/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The firmware's TCG event log as the kernel exposes it in securityfs: read whole and bounded,
 * sent to the verifier as is (the gate never parses it; the verifier does). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define EVENTLOG_PATH     "/sys/kernel/security/tpm0/binary_bios_measurements"
#define SECURITYFS_PATH   "/sys/kernel/security"
#define EVENTLOG_SIZE_MAX (512U * 1024U) /* docs/PROTOCOL.md: event_log ≤ 512 KiB decoded */

/* Reads <root>EVENTLOG_PATH (root "/" in the initramfs, a directory in tests) into a malloc'ed
 * buffer. securityfs files report st_size 0, so it reads until EOF, and never more than
 * EVENTLOG_SIZE_MAX + 1 bytes.
 * @return 0 (ret, ret_size written), or with a one-line reason in errbuf:
 *         -ENOENT    no log file: securityfs is mounted but has no tpm0 (no TPM driver bound,
 *                    or the firmware handed the kernel no log);
 *         -ENOMEDIUM securityfs is not mounted at <root>SECURITYFS_PATH;
 *         -ENODATA   the log is empty;
 *         -EFBIG     the log is larger than EVENTLOG_SIZE_MAX;
 *         other negative errno of open()/read(), -ENOMEM */
int eventlog_read(const char *root, uint8_t **ret, size_t *ret_size, char *errbuf, size_t errlen);
