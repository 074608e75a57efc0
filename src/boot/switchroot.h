/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leaving the initramfs for the verified root: util-linux's order, busybox's sanity checks. */
#pragma once

#include <stdbool.h>

#define SWITCHROOT_DEFAULT_INIT "/sbin/init"

/* Opens init inside new_root (symlinks resolved inside it, never escaping it), checks that it is
 * an executable regular file and reads it, and its interpreter (#! line or ELF PT_INTERP), in
 * full: on a dm-verity root that makes every block of them verified before anything runs.
 * A file that is neither ELF nor a #! script is refused with -ENOEXEC, as execve() would.
 * @return 0 when all is there and readable; negative errno otherwise, with *ret_read_failed
 *         true when the file exists but a read failed (dm-verity reports corruption as -EIO),
 *         and the path that failed in *ret_failed_path (caller frees; may be NULL on -ENOMEM) */
int switchroot_verify_init(const char *new_root, const char *init, bool *ret_read_failed,
                           char **ret_failed_path);

/* Removes everything below dir_fd that lives on device dev, never descending into other
 * mounts, at most max_depth levels deep. Best effort: it does not stop at the first error.
 * @return 0, or the first negative errno met */
int switchroot_remove_tree(int dir_fd, unsigned long long dev, unsigned max_depth);

/* Busybox's checks (PID 1, "/" is ramfs/tmpfs, new_root is another file system), then moves
 * /dev, /proc, /sys and /run into new_root, makes it "/" and deletes the old initramfs contents.
 * After a successful return the process is inside the new root; on failure before the move
 * nothing was deleted.
 * @return 0 on success or negative errno */
int switchroot_move(const char *new_root);
