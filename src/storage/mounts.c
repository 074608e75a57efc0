/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mount calls of the gate. The root is always mounted read-only: dm-verity could not take a
 * write anyway, and a journal replay attempt on ext4 would fail the mount in a confusing way. */
#include <blkid/blkid.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "storage/mount-options.h"
#include "storage/mounts.h"
#include "util.h"

#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif

static const char *const supported_fstypes[] = {"erofs", "squashfs", "ext4"};

bool mounts_fstype_supported(const char *fstype)
{
        for (size_t i = 0; i < ELEMENTSOF(supported_fstypes); i++)
                if (streq_ptr(fstype, supported_fstypes[i]))
                        return true;
        return false;
}

int mounts_early(const char *root, const char **ret_what)
{
        static const struct {
                const char *what, *where, *type, *data;
                unsigned long flags;
                mode_t mode;
                bool optional; /* a kernel without it still boots; its user names the gap */
        } table[] = {
            {"devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID, 0755, false},
            {"proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555, false},
            {"sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555, false},
            {"tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV, 0755, false},
            /* The TPM event log (eventlog.c); moved into the new root with /sys. */
            {"securityfs", "/sys/kernel/security", "securityfs", NULL,
             MS_NOSUID | MS_NODEV | MS_NOEXEC, 0755, true},
        };

        if (streq(root, "/"))
                root = "";
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char where[4096];
                int r = pathf(where, sizeof(where), "%s%s", root, table[i].where);

                if (r < 0 || (mkdir(where, table[i].mode) < 0 && errno != EEXIST) ||
                    (mount(table[i].what, where, table[i].type, table[i].flags, table[i].data) <
                         0 &&
                     errno != EBUSY)) {
                        if (table[i].optional)
                                continue;
                        if (ret_what)
                                *ret_what = table[i].where;
                        return r < 0 ? r : negative_errno();
                }
        }
        return 0;
}

int mounts_probe_fstype(const char *node, char **ret_fstype)
{
        const char *type = NULL;
        blkid_probe pr;
        char *copy = NULL;
        int r;

        pr = blkid_new_probe_from_filename(node);
        if (!pr)
                return errno > 0 ? -errno : -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        r = blkid_do_safeprobe(pr);
        if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0 && type)
                copy = strdup(type);
        blkid_free_probe(pr);
        if (r < 0)
                return -EIO;
        if (r == 1 || !type)
                return -ENOENT;
        if (!copy)
                return -ENOMEM;
        *ret_fstype = copy;
        return 0;
}

int mounts_root(const char *node, const char *fstype, const char *rootflags, const char *target,
                char **ret_fstype, char *errbuf, size_t errlen)
{
        _cleanup_free_ char *probed = NULL, *data = NULL;
        unsigned long flags = 0;
        int r;

        if (errbuf && errlen)
                errbuf[0] = 0;
        if (rootflags) {
                r = mount_options_parse(rootflags, &flags, &data, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        if (!fstype) {
                r = mounts_probe_fstype(node, &probed);
                if (r < 0) {
                        snprintf(errbuf, errlen, "cannot tell the file system type of %s%s", node,
                                 r == -ENOENT ? ": no known superblock" : "");
                        return r;
                }
                fstype = probed;
        }
        if (!mounts_fstype_supported(fstype)) {
                snprintf(errbuf, errlen, "%s holds %s, not one of erofs, squashfs, ext4", node,
                         fstype);
                return -EMEDIUMTYPE;
        }
        if (mkdir(target, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mount(node, target, fstype, (flags & ~(unsigned long) MS_RDONLY) | MS_RDONLY, data) <
            0) {
                r = negative_errno();
                snprintf(errbuf, errlen, "as %s%s%s", fstype, data ? " with " : "", strempty(data));
                return r;
        }
        if (ret_fstype) {
                char *t = strdup(fstype);
                if (!t)
                        return -ENOMEM;
                *ret_fstype = t;
        }
        return 0;
}

int mounts_securityfs(const char *root)
{
        char where[4096];
        struct statfs sf;
        int r;

        r = pathf(where, sizeof(where), "%s/sys/kernel/security", streq(root, "/") ? "" : root);
        if (r < 0)
                return r;
        if (statfs(where, &sf) == 0 && sf.f_type == (__typeof__(sf.f_type)) SECURITYFS_MAGIC)
                return 0;
        if (mount("securityfs", where, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
            errno != EBUSY)
                return negative_errno();
        return 0;
}

int mounts_check_root(const char *path, const char *node)
{
        struct stat mnt, dev;
        struct statvfs vfs;

        if (stat(node, &dev) < 0 || stat(path, &mnt) < 0 || statvfs(path, &vfs) < 0)
                return negative_errno();
        if (!S_ISBLK(dev.st_mode))
                return -ENOTBLK;
        if (mnt.st_dev != dev.st_rdev)
                return -EXDEV;
        if (!(vfs.f_flag & ST_RDONLY))
                return -EACCES;
        return 0;
}
