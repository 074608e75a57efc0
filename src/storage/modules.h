/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading the kernel modules the initramfs builder listed, in the order it resolved. */
#pragma once

#include <stddef.h>

#define MODULES_LIST_PATH      "/etc/nodegate/modules"
#define MODULES_LIST_MAX_BYTES (256U * 1024U)
#define MODULES_MAX            1024U

struct module_list {
        char **paths;
        size_t n;
};

/* Parses the list: one absolute .ko path per line, '#' comments and blank lines ignored,
 * leading/trailing whitespace trimmed. A relative path, or more than MODULES_MAX entries,
 * is an error (the line number goes to *ret_bad_line).
 * @return 0 on success, -EINVAL, -E2BIG or -ENOMEM */
int modules_parse_list(const char *text, size_t len, struct module_list *ret, size_t *ret_bad_line);
void module_list_done(struct module_list *list);

/* Loads every module of the list at root/MODULES_LIST_PATH with finit_module(), in order.
 * A missing list means nothing to load (a kernel with everything built in). A module that is
 * already loaded counts as loaded; one that refuses this machine (ENODEV: e.g. a CPU-specific
 * crypto driver) is skipped, as modprobe does.
 * @return the number of modules loaded or already present, or negative errno; on a failed
 *         module its path is stored in *ret_failed (caller frees), on a malformed list the
 *         number of the offending line in *ret_bad_line (may be NULL) */
int modules_load(const char *root, char **ret_failed, size_t *ret_bad_line);
