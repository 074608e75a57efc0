/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading small text files whole, with a hard upper bound. */
#pragma once

#include <stddef.h>

/* Reads all of path into a NUL-terminated malloc'ed buffer, refusing more than max bytes.
 * Works on /proc files, whose st_size is 0. The terminator is not counted in *ret_len and
 * makes the text usable as a string only when it has no NUL of its own.
 * @return 0 on success, -E2BIG when the file holds more than max bytes, or negative errno
 *         from open()/read() (-ENOENT when it does not exist) */
int read_file_bounded(const char *path, size_t max, char **ret_text, size_t *ret_len);
