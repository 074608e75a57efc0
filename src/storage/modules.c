/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The initramfs has no modprobe: dependencies and softdeps were resolved when it was built, so
 * loading is a plain walk over the list. */
#include <fcntl.h>
#include <sys/syscall.h>

#include "lib/fileio.h"
#include "storage/modules.h"
#include "util.h"

void module_list_done(struct module_list *list)
{
        if (!list)
                return;
        for (size_t i = 0; i < list->n; i++)
                free(list->paths[i]);
        free(list->paths);
        list->paths = NULL;
        list->n = 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

int modules_parse_list(const char *text, size_t len, struct module_list *ret, size_t *ret_bad_line)
{
        struct module_list list = {};
        size_t line = 0, pos = 0;
        int r = 0;

        while (pos < len) {
                const char *start = text + pos, *end = memchr(start, '\n', len - pos);
                size_t l = end ? (size_t) (end - start) : len - pos;

                pos += l + 1;
                line++;
                while (l > 0 && is_blank(*start))
                        start++, l--;
                while (l > 0 && is_blank(start[l - 1]))
                        l--;
                if (l == 0 || *start == '#')
                        continue;
                if (*start != '/' || memchr(start, 0, l)) {
                        r = -EINVAL;
                        break;
                }
                if (list.n >= MODULES_MAX) {
                        r = -E2BIG;
                        break;
                }
                if (list.n % 32 == 0) {
                        char **p = realloc(list.paths, (list.n + 32) * sizeof(char *));
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        list.paths = p;
                }
                list.paths[list.n] = strndup(start, l);
                if (!list.paths[list.n]) {
                        r = -ENOMEM;
                        break;
                }
                list.n++;
        }
        if (r < 0) {
                if (ret_bad_line)
                        *ret_bad_line = line;
                module_list_done(&list);
                return r;
        }
        *ret = list;
        return 0;
}

static int load_one(const char *root, const char *path)
{
        char full[4096];
        _cleanup_close_ int fd = -1;
        int r;

        r = pathf(full, sizeof(full), "%s%s", root, path);
        if (r < 0)
                return r;
        fd = open(full, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* musl has no wrapper for finit_module(). ENODEV: the module does not apply to this
         * machine (crc32c-intel on a CPU without SSE4.2, pulled in as a softdep); modprobe
         * ignores that too, and whatever really needed it fails later, by name. */
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST && errno != ENODEV)
                return negative_errno();
        return 0;
}

int modules_load(const char *root, char **ret_failed, size_t *ret_bad_line)
{
        _cleanup_free_ char *text = NULL;
        struct module_list list = {};
        char listpath[4096];
        size_t len;
        int r;

        if (streq(root, "/"))
                root = "";
        r = pathf(listpath, sizeof(listpath), "%s%s", root, MODULES_LIST_PATH);
        if (r < 0)
                return r;
        r = read_file_bounded(listpath, MODULES_LIST_MAX_BYTES, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = modules_parse_list(text, len, &list, ret_bad_line);
        if (r < 0)
                return r;

        for (size_t i = 0; i < list.n; i++) {
                r = load_one(root, list.paths[i]);
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = TAKE_PTR(list.paths[i]);
                        module_list_done(&list);
                        return r;
                }
        }
        r = (int) list.n;
        module_list_done(&list);
        return r;
}
