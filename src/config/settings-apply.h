/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one table of keys nodegate understands and their value rules, shared by the kernel
 * command line and nodegate.conf so that both read every key the same way. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/settings.h"

/* Longest device spec accepted (a /dev/ path or TAG=value), and longest LABEL/PARTLABEL value. */
#define SETTINGS_DEVICE_MAX 4095U
#define SETTINGS_LABEL_MAX  255U

/* Applies one key, as written (value NULL when it had no "="), onto s.
 * Keys compare with "-" and "_" as equals, and a leading "rd." is dropped (systemd does so in
 * the initrd), so rd.systemd.verity, nodegate.on-failure and nodegate.on_failure all work.
 * A key that is not ours is ignored, unless it starts with "nodegate." or strict is set (the
 * config file, which nothing but nodegate reads).
 * On failure s is unchanged and errbuf names the key as written and what is wrong.
 * @return 1 when the key was applied, 0 when it was ignored, -EINVAL for an unknown nodegate.*
 *         key or a bad/missing value, -EPERM/-EOPNOTSUPP/-E2BIG passed on from the verity and
 *         mount option parsers, -ENOMEM */
int settings_apply(struct settings *s, const char *key, const char *value, bool strict,
                   char *errbuf, size_t errlen);

/* Whether key, as written, names the canonical key (spelt with "_"), by the rules of
 * settings_apply(): "rd." dropped, "-" and "_" equal. */
bool settings_key_is(const char *key, const char *canonical);

/* Deep copy, for parsers that work on a copy and commit only when all of the input is valid.
 * @return 0 on success (ret written), -ENOMEM */
int settings_copy(const struct settings *s, struct settings *ret);
