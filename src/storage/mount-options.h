/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rootflags=: mount(2) flag words become MS_* flags, everything else stays in the data string
 * handed to the filesystem, as systemd's mount_option_mangle() splits them. */
#pragma once

#include <stddef.h>

/* One page of mount data, less its terminator: the kernel copies no more than that. */
#define MOUNT_OPTIONS_MAX 4095U

/* Splits "opt,opt=value,…". Known flag words (ro, rw, nosuid, suid, nodev, dev, noexec, exec,
 * sync, async, dirsync, mand, nomand, noatime, atime, nodiratime, diratime, relatime,
 * norelatime, strictatime, nostrictatime, lazytime, nolazytime, iversion, noiversion,
 * nosymfollow, symfollow, silent, loud) set or clear MS_* bits in the order given, so "ro,rw"
 * clears MS_RDONLY. "defaults" is accepted and does nothing. Anything else goes to the data
 * string unchanged and in order, for the filesystem to judge at mount time.
 * "rw" is accepted but cannot make the root writable: the caller always adds MS_RDONLY, the
 * only way a dm-verity device can be mounted anyway.
 * Refused: empty items ("a,,b", a leading or trailing comma), control characters, a string over
 * MOUNT_OPTIONS_MAX, and words that would change what kind of mount this is (bind, rbind, move,
 * remount, and the propagation types shared, slave, private, unbindable and their r* forms).
 * The empty string is valid and means no options.
 * ret_flags and ret_data may be NULL to only validate. *ret_data is NULL when there is no data.
 * @return 0 on success (outputs written), -EINVAL with a message in errbuf, -E2BIG for a
 *         string over MOUNT_OPTIONS_MAX, -ENOMEM */
int mount_options_parse(const char *options, unsigned long *ret_flags, char **ret_data,
                        char *errbuf, size_t errlen);
