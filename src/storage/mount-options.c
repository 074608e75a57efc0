/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parser of rootflags= into mount(2) flags and filesystem data. */

#include <sys/mount.h>

#include "storage/mount-options.h"
#include "lib/parse-util.h"

/* Older libc headers lack it; the value is the kernel's UAPI one. */
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static const struct mount_flag {
        const char *name;
        unsigned long set;
        unsigned long clear;
} mount_flag_table[] = {
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"mand", MS_MANDLOCK, 0},
    {"nomand", 0, MS_MANDLOCK},
    {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0},
    {"nostrictatime", 0, MS_STRICTATIME},
    {"lazytime", MS_LAZYTIME, 0},
    {"nolazytime", 0, MS_LAZYTIME},
    {"iversion", MS_I_VERSION, 0},
    {"noiversion", 0, MS_I_VERSION},
    {"nosymfollow", MS_NOSYMFOLLOW, 0},
    {"symfollow", 0, MS_NOSYMFOLLOW},
    {"silent", MS_SILENT, 0},
    {"loud", 0, MS_SILENT},
};

/* As flags these would turn the root mount into a bind, move, remount or propagation change;
 * as data a filesystem would reject them later with a vaguer message. */
static const char *const refused_words[] = {
    "bind",  "rbind",  "move",    "remount",  "shared",     "rshared",
    "slave", "rslave", "private", "rprivate", "unbindable", "runbindable",
};

int mount_options_parse(const char *options, unsigned long *ret_flags, char **ret_data,
                        char *errbuf, size_t errlen)
{
        _cleanup_free_ char *copy = NULL, *data = NULL;
        unsigned long flags = 0;
        size_t data_len = 0, len = strlen(options);

        if (len > MOUNT_OPTIONS_MAX)
                return parse_error(errbuf, errlen, -E2BIG, "longer than %u bytes",
                                   MOUNT_OPTIONS_MAX);

        for (size_t i = 0; i < len; i++)
                if ((unsigned char) options[i] < 0x20 || options[i] == 0x7f)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "control character at position %zu", i + 1);

        copy = strdup(options);
        data = malloc(len + 1);
        if (!copy || !data)
                return -ENOMEM;

        for (char *item = copy, *next; len > 0 && item; item = next) {
                const struct mount_flag *flag = NULL;

                next = strchr(item, ',');
                if (next)
                        *next++ = '\0';
                if (!*item)
                        return parse_error(errbuf, errlen, -EINVAL, "empty option (stray comma)");

                for (size_t i = 0; i < ELEMENTSOF(refused_words); i++)
                        if (streq(item, refused_words[i]))
                                return parse_error(errbuf, errlen, -EINVAL,
                                                   "%s is not allowed for the root mount", item);

                for (size_t i = 0; i < ELEMENTSOF(mount_flag_table); i++)
                        if (streq(item, mount_flag_table[i].name)) {
                                flag = &mount_flag_table[i];
                                break;
                        }
                if (flag) {
                        flags = (flags | flag->set) & ~flag->clear;
                        continue;
                }

                /* Everything else is the filesystem's business, kept in order. */
                if (data_len > 0)
                        data[data_len++] = ',';
                memcpy(data + data_len, item, strlen(item));
                data_len += strlen(item);
        }
        data[data_len] = '\0';

        if (ret_flags)
                *ret_flags = flags;
        if (ret_data)
                *ret_data = data_len > 0 ? TAKE_PTR(data) : NULL;
        return 0;
}
