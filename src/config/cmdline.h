/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel command line: reading /proc/cmdline and applying its words onto the settings. */
#pragma once

#include <stddef.h>

#include "config/settings.h"

/* Far above any kernel's COMMAND_LINE_SIZE: anything longer is not a real command line. */
#define CMDLINE_MAX (64U * 1024U)

/* Applies the kernel command line onto s, after the config file so the command line wins.
 * Grammar: words separated by space, \t, \n, \v, \f or \r; double quotes group a word and are
 * removed wherever they appear (key="a b" and "key=a b" both give key, "a b"); a word "--" ends
 * the kernel's options (the rest is init's and ignored); a repeated key: the last one wins,
 * except ip=, which may be given once (-EINVAL for a second one).
 * Keys and values as settings_apply() reads them; keys that are not ours are ignored.
 * Input may be any bytes but NUL, which is refused anywhere in text[0..len).
 * On failure s is unchanged and errbuf says what is wrong, naming the key. Does not log.
 * @return 0 on success, -E2BIG when len > CMDLINE_MAX, -EINVAL for a NUL byte, an
 *         unterminated quote, an unknown nodegate.* key or a bad value, the other negative errno
 *         of settings_apply(), -ENOMEM */
int cmdline_parse(const char *text, size_t len, struct settings *s, char *errbuf, size_t errlen);

/* Best effort, for the failure path only: when cmdline_parse() refused the line, finds the
 * last valid nodegate.on_failure= among the words it can still read (up to a NUL, an
 * unterminated quote or "--"), so that a typo elsewhere does not also lose the operator's
 * choice of action. Safe because every action stops the boot.
 * @return the enum failure_action, -ENOENT when there is none, -ENOMEM */
int cmdline_failure_action(const char *text, size_t len);
/* The same for the failure path's cap: the last valid nodegate.on_failure= (*ret_action, or
 * -ENOENT) and the last valid nodegate.tpm= (*ret_tpm, malloc'ed, NULL when there is none), so
 * that a refused command line still caps the TPM it names rather than another one.
 * @return 0, or -ENOMEM */
int cmdline_failure_settings(const char *text, size_t len, int *ret_action, char **ret_tpm);

/* Reads the command line from path (/proc/cmdline; tests pass fixtures) into a malloc'ed,
 * NUL-terminated buffer, reading at most CMDLINE_MAX + 1 bytes to tell a too-long one apart.
 * @return 0 on success (ret_text and ret_len written, the terminator not counted), -E2BIG when
 *         the file holds more than CMDLINE_MAX bytes, or the negative errno of open()/read() */
int cmdline_read(const char *path, char **ret_text, size_t *ret_len);
