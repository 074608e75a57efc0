/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/nodegate/nodegate.conf: optional settings baked into the initramfs, applied before the
 * kernel command line so that the command line wins. */
#pragma once

#include <stddef.h>

#include "config/settings.h"

#define CONFIG_PATH "/etc/nodegate/nodegate.conf"
#define CONFIG_MAX  (64U * 1024U)

/* Applies a config text onto s. Format: UTF-8 text, one key=value per line with the keys and
 * value rules of the kernel command line (a value may be double-quoted: key="a b"); blank lines
 * and lines starting with '#' (after optional whitespace) are ignored; a line holds exactly one
 * word, so a trailing comment or a space around '=' is an error. Unlike the command line, an
 * unknown key of any name is an error: nothing but nodegate reads this file. Later lines win,
 * except that ip= may be given only once.
 * On failure s is unchanged and errbuf holds "nodegate.conf:LINE: what is wrong". Does not log.
 * @return 0 on success, -E2BIG when len > CONFIG_MAX, -EINVAL for a NUL byte, invalid UTF-8,
 *         bad syntax, an unknown key or a bad value, the other negative errno of
 *         settings_apply(), -ENOMEM */
int config_parse(const char *text, size_t len, struct settings *s, char *errbuf, size_t errlen);

/* Reads path (CONFIG_PATH in the gate) and applies it with config_parse(). The file is
 * optional: when it does not exist, s is left alone and 0 is returned.
 * @return 0 on success or when path does not exist, -E2BIG when it holds more than CONFIG_MAX
 *         bytes, the negative errno of open()/read(), or that of config_parse() */
int config_load(const char *path, struct settings *s, char *errbuf, size_t errlen);
