/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dm-verity with libcryptsetup: activation for the boot, a userspace check for tests and tools. */
#pragma once

#include "storage/verity-options.h"

#define VERITY_ERROR_MAX 512

struct verity_request {
        const char *data_node;    /* data device (or image file, for verity_check) */
        const char *hash_node;    /* hash device; the same as data_node for an appended tree */
        const char *roothash_hex; /* validated hex, any case */
        const struct verity_options *options;
};

/* Sets up /dev/mapper/<name> read-only over the request's devices.
 * libcryptsetup's own last message (if any) is copied to errbuf.
 * The kernel checks the root hash only when blocks are read: a wrong one is not refused here,
 * so callers read a block before they trust the device.
 * @return 0 on success (ret_node = "/dev/mapper/<name>", owned by the caller), -EINVAL when the
 *         root hash's length does not fit the hash algorithm or there is no superblock, or
 *         another negative errno */
int verity_activate(const struct verity_request *req, const char *name, char **ret_node,
                    char *errbuf, size_t errlen);

/* Recomputes the whole hash tree in userspace and compares it with the root hash, without
 * device-mapper (the host running the tests has none).
 * @return 0 when every block verifies, -EPERM on a mismatch, other negative errno on errors */
int verity_check(const struct verity_request *req, char *errbuf, size_t errlen);

/* Checks that /dev/mapper/<name> is an active dm-verity device opened with this root hash, for
 * a gate that runs again after another step of the initramfs (nodegate --mode=initrd
 * --phase=attest): it attests only the root its own earlier run set up.
 * @return 0 on success (ret_node = "/dev/mapper/<name>", owned by the caller), -ENODEV when no
 *         such device is active, -EMEDIUMTYPE when it is not dm-verity, -EPERM when its root
 *         hash differs, other negative errno */
int verity_verify_active(const char *name, const char *roothash_hex, char **ret_node, char *errbuf,
                         size_t errlen);
