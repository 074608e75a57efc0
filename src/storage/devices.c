/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Block device lookup for the initramfs, where no udev builds /dev/disk/by-* for us: sysfs lists
 * the devices, libblkid reads partition tables and superblocks. */
#include <blkid/blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "storage/devices.h"
#include "lib/log.h"
#include "lib/parse-util.h"
#include "util.h"

#define POLL_MIN_USEC 10000U
#define POLL_MAX_USEC 100000U

static const struct {
        enum devspec_kind kind;
        const char *prefix;
} tag_prefixes[] = {
    {DEVSPEC_PARTUUID, "PARTUUID="},
    {DEVSPEC_PARTLABEL, "PARTLABEL="},
    {DEVSPEC_UUID, "UUID="},
    {DEVSPEC_LABEL, "LABEL="},
};

static const char *kind_prefix(enum devspec_kind kind)
{
        for (size_t i = 0; i < ELEMENTSOF(tag_prefixes); i++)
                if (tag_prefixes[i].kind == kind)
                        return tag_prefixes[i].prefix;
        return "";
}

static bool kind_is_uuid(enum devspec_kind kind)
{
        return kind == DEVSPEC_PARTUUID || kind == DEVSPEC_UUID;
}

int devspec_parse(const char *s, struct devspec *ret)
{
        enum devspec_kind kind;
        const char *value = NULL;
        char *copy;

        if (!s || !ret)
                return -EINVAL;

        if (s[0] == '/') {
                const char *name = startswith(s, "/dev/");

                /* ".." could walk out of /dev (or a test's fixture root); no device path has it. */
                if (!name || !*name || streq(name, "..") || startswith(name, "../") ||
                    strstr(name, "/../") || endswith(name, "/.."))
                        return -EINVAL;
                kind = DEVSPEC_PATH;
                value = s;
        } else {
                for (size_t i = 0; i < ELEMENTSOF(tag_prefixes) && !value; i++) {
                        value = startswith(s, tag_prefixes[i].prefix);
                        kind = tag_prefixes[i].kind;
                }
                if (!value || !*value)
                        return -EINVAL;
        }

        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        if (kind_is_uuid(kind))
                for (char *p = copy; *p; p++)
                        *p = (char) tolower((unsigned char) *p);

        *ret = (struct devspec){.kind = kind, .value = copy};
        return 0;
}

void devspec_done(struct devspec *spec)
{
        if (!spec)
                return;
        free(spec->value);
        spec->value = NULL;
}

const char *devspec_to_string(const struct devspec *spec, char *buf, size_t size)
{
        snprintf(buf, size, "%s%s", kind_prefix(spec->kind), strempty(spec->value));
        return buf;
}

static void format_uuid(const char hex32[32], char out[DEVSPEC_UUID_STRING_MAX])
{
        size_t o = 0;

        for (size_t i = 0; i < 32; i++) {
                if (i == 8 || i == 12 || i == 16 || i == 20)
                        out[o++] = '-';
                out[o++] = (char) tolower((unsigned char) hex32[i]);
        }
        out[o] = 0;
}

int devices_partuuids_from_roothash(const char *roothash_hex,
                                    char ret_data[DEVSPEC_UUID_STRING_MAX],
                                    char ret_hash[DEVSPEC_UUID_STRING_MAX])
{
        size_t l;

        if (!roothash_hex)
                return -EINVAL;
        l = strlen(roothash_hex);
        if (l < 32 || l % 2 != 0)
                return -EINVAL;
        for (size_t i = 0; i < l; i++)
                if (!parse_is_hex_digit(roothash_hex[i]))
                        return -EINVAL;

        format_uuid(roothash_hex, ret_data);
        format_uuid(roothash_hex + l - 32, ret_hash);
        return 0;
}

static int read_sysfs_line(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -1;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static bool values_equal(const struct devspec *spec, const char *have)
{
        if (!have)
                return false;
        return kind_is_uuid(spec->kind) ? strcasecmp(spec->value, have) == 0
                                        : streq(spec->value, have);
}

struct scan {
        const char *root;
        const struct devspec *spec;
        char *found;
        char *other;
};

static int scan_record(struct scan *scan, const char *name)
{
        char *node;

        if (scan->found && streq(strrchr(scan->found, '/') + 1, name))
                return 0;
        if (asprintf(&node, "%s/dev/%s", scan->root, name) < 0)
                return -ENOMEM;
        if (!scan->found)
                scan->found = node;
        else if (!scan->other)
                scan->other = node;
        else
                free(node);
        return 0;
}

static blkid_probe probe_open(const char *root, const char *name)
{
        char node[4096];

        if (pathf(node, sizeof(node), "%s/dev/%s", root, name) < 0)
                return NULL;
        return blkid_new_probe_from_filename(node);
}

static int scan_superblock(struct scan *scan, const char *name)
{
        const char *key = scan->spec->kind == DEVSPEC_UUID ? "UUID" : "LABEL";
        const char *value = NULL;
        blkid_probe pr;
        int r = 0;

        /* A device that cannot be opened (empty CD drive, node not created yet) matches
         * nothing now; the caller polls again. */
        pr = probe_open(scan->root, name);
        if (!pr)
                return 0;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
                                                  BLKID_SUBLKS_TYPE);
        blkid_probe_enable_partitions(pr, 0);
        if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, key, &value, NULL) == 0 &&
            values_equal(scan->spec, value))
                r = scan_record(scan, name);
        blkid_free_probe(pr);
        return r;
}

/* Partition entries are read from the whole disk's table, which also works for tests whose
 * "disks" are image files; the partition's device is the disk's sysfs child with that number. */
static int partition_device_name(const char *root, const char *disk, int partno, char *ret,
                                 size_t size)
{
        char path[4096], buf[32];
        DIR *d;
        struct dirent *de;
        int r = -ENOENT;

        r = pathf(path, sizeof(path), "%s/sys/class/block/%s", root, disk);
        if (r < 0)
                return r;
        r = -ENOENT;
        d = opendir(path);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char file[4096];

                if (de->d_name[0] == '.')
                        continue;
                if (pathf(file, sizeof(file), "%s/%s/partition", path, de->d_name) < 0 ||
                    read_sysfs_line(file, buf, sizeof(buf)) < 0 || atoi(buf) != partno)
                        continue;
                snprintf(ret, size, "%s", de->d_name);
                r = 0;
                break;
        }
        closedir(d);
        return r;
}

static bool node_exists(const char *root, const char *name)
{
        char node[4096];

        return pathf(node, sizeof(node), "%s/dev/%s", root, name) == 0 && access(node, F_OK) == 0;
}

static int scan_partition_table(struct scan *scan, const char *disk)
{
        blkid_probe pr;
        blkid_partlist list;
        int n, r = 0;

        pr = probe_open(scan->root, disk);
        if (!pr)
                return 0;
        list = blkid_probe_get_partitions(pr);
        n = list ? blkid_partlist_numof_partitions(list) : 0;
        for (int i = 0; i < n && r >= 0; i++) {
                blkid_partition part = blkid_partlist_get_partition(list, i);
                const char *have = scan->spec->kind == DEVSPEC_PARTUUID
                                       ? blkid_partition_get_uuid(part)
                                       : blkid_partition_get_name(part);
                char name[256];

                if (!values_equal(scan->spec, have))
                        continue;
                /* The table names a partition the kernel has not announced yet, or whose node
                 * devtmpfs has not created yet (sysfs comes first): not there, for now. */
                if (partition_device_name(scan->root, disk, blkid_partition_get_partno(part), name,
                                          sizeof(name)) < 0 ||
                    !node_exists(scan->root, name))
                        continue;
                r = scan_record(scan, name);
        }
        blkid_free_probe(pr);
        return r;
}

static bool device_has_media(const char *dir)
{
        char path[4096], buf[32];

        return pathf(path, sizeof(path), "%s/size", dir) == 0 &&
               read_sysfs_line(path, buf, sizeof(buf)) == 0 && strtoull(buf, NULL, 10) > 0;
}

static int find_by_path(const char *root, const struct devspec *spec, char **ret_node)
{
        char *node;
        struct stat st;

        if (asprintf(&node, "%s%s", streq(root, "/") ? "" : root, spec->value) < 0)
                return -ENOMEM;
        if (stat(node, &st) < 0) {
                int r = negative_errno();
                free(node);
                return r;
        }
        /* Regular files are image files standing in for disks in fixtures. */
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
                free(node);
                return -ENOTBLK;
        }
        *ret_node = node;
        return 0;
}

int devices_find(const char *root, const struct devspec *spec, char **ret_node, char **ret_other)
{
        struct scan scan = {.root = streq(root, "/") ? "" : root, .spec = spec};
        char path[4096];
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (!spec || !spec->value || !ret_node)
                return -EINVAL;
        if (spec->kind == DEVSPEC_PATH)
                return find_by_path(root, spec, ret_node);

        r = pathf(path, sizeof(path), "%s/sys/class/block", scan.root);
        if (r < 0)
                return r;
        d = opendir(path);
        if (!d)
                return negative_errno();
        while (r >= 0 && (de = readdir(d))) {
                char dir[4096], probe[4096];
                bool is_partition;

                if (de->d_name[0] == '.')
                        continue;
                if (pathf(dir, sizeof(dir), "%s/%s", path, de->d_name) < 0 ||
                    pathf(probe, sizeof(probe), "%s/partition", dir) < 0 || !device_has_media(dir))
                        continue;
                is_partition = access(probe, F_OK) == 0;

                if (spec->kind == DEVSPEC_UUID || spec->kind == DEVSPEC_LABEL)
                        r = scan_superblock(&scan, de->d_name);
                else if (!is_partition)
                        r = scan_partition_table(&scan, de->d_name);
        }
        closedir(d);

        if (r < 0) {
                free(scan.found);
                free(scan.other);
                return r;
        }
        if (!scan.found)
                return -ENOENT;
        if (scan.other) {
                if (ret_other) {
                        *ret_node = scan.found;
                        *ret_other = scan.other;
                } else {
                        free(scan.found);
                        free(scan.other);
                }
                return -ENOTUNIQ;
        }
        *ret_node = scan.found;
        return 0;
}

int devices_wait(const char *root, const struct devspec *spec, uint64_t deadline_usec,
                 char **ret_node, char **ret_other)
{
        uint64_t delay = POLL_MIN_USEC;

        for (;;) {
                int r = devices_find(root, spec, ret_node, ret_other);
                uint64_t now;

                if (r != -ENOENT)
                        return r;
                now = now_usec();
                if (now >= deadline_usec)
                        return -ETIMEDOUT;
                if (delay > deadline_usec - now)
                        delay = deadline_usec - now;
                nanosleep(&(struct timespec){.tv_sec = (time_t) (delay / 1000000U),
                                             .tv_nsec = (long) (delay % 1000000U) * 1000L},
                          NULL);
                delay = delay * 2 > POLL_MAX_USEC ? POLL_MAX_USEC : delay * 2;
        }
}
