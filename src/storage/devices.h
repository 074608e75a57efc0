/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding block devices by path, PARTUUID, UUID, LABEL or PARTLABEL with libblkid, without udev. */
#pragma once

#include <stdint.h>

enum devspec_kind {
        DEVSPEC_PATH,
        DEVSPEC_PARTUUID,
        DEVSPEC_UUID,
        DEVSPEC_LABEL,
        DEVSPEC_PARTLABEL,
};

struct devspec {
        enum devspec_kind kind;
        char *value; /* the path, or the tag's value (UUIDs lowercase) */
};

#define DEVSPEC_UUID_STRING_MAX 37 /* 36 characters and NUL */

/* Parses "/dev/…", "PARTUUID=…", "UUID=…", "LABEL=…" or "PARTLABEL=…".
 * @return 0 on success or negative errno (-EINVAL for anything else). */
int devspec_parse(const char *s, struct devspec *ret);
void devspec_done(struct devspec *spec);

/* Formats a spec back, for messages: "PARTUUID=…". Returns buf. */
const char *devspec_to_string(const struct devspec *spec, char *buf, size_t size);

/* systemd's rule for verity partitions: the data partition's PARTUUID is the first 128 bits of
 * the root hash, the hash partition's the last 128 bits, used as they are.
 * @return 0 on success or -EINVAL when roothash_hex is not hex of at least 128 bits. */
int devices_partuuids_from_roothash(const char *roothash_hex,
                                    char ret_data[DEVSPEC_UUID_STRING_MAX],
                                    char ret_hash[DEVSPEC_UUID_STRING_MAX]);

/* Scans the block devices that root's /sys/class/block lists (root is "/" in the initramfs; tests
 * pass a fixture tree whose dev/ holds image files) and returns the node of the one device that
 * matches spec, as "<root>/dev/<name>".
 * @return 0 on success, -ENOENT when nothing matches, -ENOTUNIQ when more than one device
 *         matches: then, so that the message can name both, ret_node gets the first and
 *         ret_other (if not NULL) the second match; other negative errno. */
int devices_find(const char *root, const struct devspec *spec, char **ret_node, char **ret_other);

/* devices_find() again and again until it succeeds or deadline_usec (CLOCK_MONOTONIC) passes.
 * @return like devices_find(); -ETIMEDOUT when the deadline passed with nothing found. */
int devices_wait(const char *root, const struct devspec *spec, uint64_t deadline_usec,
                 char **ret_node, char **ret_other);
