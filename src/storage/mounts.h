/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The API file systems PID 1 needs in the initramfs, and the read-only mount of the root. */
#pragma once

#include <stdbool.h>

#define MOUNTS_NEW_ROOT "/sysroot"

/* Mounts devtmpfs on /dev, proc, sysfs and a tmpfs on /run below root, creating the
 * directories; a file system that is already there (EBUSY) is fine.
 * @return 0 on success or negative errno, with the mount point that failed in *ret_what */
int mounts_early(const char *root, const char **ret_what);

/* Which root file system types the gate mounts (those its initramfs carries modules for). */
bool mounts_fstype_supported(const char *fstype);

/* Reads the file system type from the device's superblock.
 * @return 0 (ret_fstype malloc'ed), -ENOENT when libblkid recognises nothing, or negative errno */
int mounts_probe_fstype(const char *node, char **ret_fstype);

/* Mounts node read-only at target. fstype NULL: probed. rootflags: the rootflags= string or
 * NULL; "rw" in it cannot make the mount writable.
 * @return 0 (the type used in *ret_fstype, malloc'ed, when ret_fstype is not NULL),
 *         -EMEDIUMTYPE for a type the gate does not mount, or negative errno of mount(2);
 *         a message for the log goes to errbuf */
int mounts_root(const char *node, const char *fstype, const char *rootflags, const char *target,
                char **ret_fstype, char *errbuf, size_t errlen);

/* Mounts securityfs at /sys/kernel/security below root unless it is there already, for a gate
 * run by an initramfs framework that mounted the other API file systems itself.
 * @return 0 on success or negative errno */
int mounts_securityfs(const char *root);

/* Checks that path is a read-only mount of the block device node, so a later step attests the
 * root an earlier one mounted and not whatever else sits there now.
 * @return 0 when it is, -EXDEV when path is on another device, -ENOTBLK when node is not a
 *         block device, -EACCES when the mount is writable, other negative errno */
int mounts_check_root(const char *path, const char *node);
