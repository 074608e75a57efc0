/* SPDX-License-Identifier: GPL-2.0-or-later */
/* modules_parse_list() one row per list text, and modules_load() on fixture roots. No row ever
 * names a .ko that exists: the host kernel must never be asked to load anything. */

#include <limits.h>
#include <sys/stat.h>

#include "fixtures/fixture-util.h"
#include "storage/modules.h"
#include "util.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define KO  "/lib/modules/6.1.0-test/kernel/drivers/md/dm-verity.ko"
#define KO2 "/lib/modules/6.1.0-test/kernel/drivers/virtio/virtio_blk.ko.xz"

struct parse_row {
        const char *text;
        size_t len; /* 0: strlen(text); set for texts with NUL bytes */
        int ret;
        size_t bad_line;   /* ret < 0: the line reported */
        const char *paths; /* ret == 0: the paths, separated by '|' */
};

static const struct parse_row parse_rows[] = {
    /* nothing to load */
    {"", 0, 0, 0, ""},
    {"\n\n\n", 0, 0, 0, ""},
    {"# modules for nodegate\n", 0, 0, 0, ""},
    {"  \t \r\n#\n   # indented comment\n", 0, 0, 0, ""},

    /* one path a line, trimmed, in order */
    {KO "\n", 0, 0, 0, KO},
    {KO, 0, 0, 0, KO}, /* no final newline */
    {KO "\n" KO2 "\n", 0, 0, 0, KO "|" KO2},
    {KO2 "\n" KO "\n", 0, 0, 0, KO2 "|" KO},
    {"  " KO "  \n\t" KO2 "\t\n", 0, 0, 0, KO "|" KO2},
    {KO "\r\n" KO2 "\r\n", 0, 0, 0, KO "|" KO2},
    {"# header\n\n" KO "\n   # dependency of the next\n\n" KO2, 0, 0, 0, KO "|" KO2},
    {"/a b.ko\n", 0, 0, 0, "/a b.ko"},          /* inner whitespace is part of the path */
    {"/a.ko\n/a.ko\n", 0, 0, 0, "/a.ko|/a.ko"}, /* written as the builder resolved it */
    {"/\n", 0, 0, 0, "/"},

    /* relative paths, with the line they are on */
    {"dm-verity.ko\n", 0, -EINVAL, 1, NULL},
    {KO "\n\n# comment\nkernel/drivers/md/dm-verity.ko\n", 0, -EINVAL, 4, NULL},
    {KO "\n ./dm-verity.ko\n", 0, -EINVAL, 2, NULL},
    {KO "\n" KO2 "\n~/x.ko", 0, -EINVAL, 3, NULL},
    {"\n\n\n\n\nx\n" KO, 0, -EINVAL, 6, NULL},
    {"\v" KO "\n", 0, -EINVAL, 1, NULL}, /* only space, tab and CR are trimmed */

    /* NUL bytes */
    {"\0", 1, -EINVAL, 1, NULL},
    {"/a\0.ko\n", 7, -EINVAL, 1, NULL},
    {KO "\n/b.ko\0\n", sizeof(KO "\n/b.ko\0\n") - 1, -EINVAL, 2, NULL},
    {KO "\n  \0  \n", sizeof(KO "\n  \0  \n") - 1, -EINVAL, 2, NULL},
    {KO "\0", sizeof(KO "\0") - 1, -EINVAL, 1, NULL},
};

static void check_paths(const struct module_list *list, const char *expect)
{
        _cleanup_free_ char *joined = NULL;
        size_t size = 1;

        for (size_t i = 0; i < list->n; i++)
                size += strlen(list->paths[i]) + 1;
        joined = calloc(1, size);
        assert_non_null(joined);
        for (size_t i = 0; i < list->n; i++) {
                if (i > 0)
                        strcat(joined, "|");
                strcat(joined, list->paths[i]);
        }
        assert_string_equal(joined, expect);
}

static void test_parse_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(parse_rows); i++) {
                const struct parse_row *row = &parse_rows[i];
                size_t len = row->len ? row->len : strlen(row->text);
                char *sentinel = (char *) "untouched";
                struct module_list list = {.paths = &sentinel, .n = 1};
                size_t bad_line = 4242;
                int r;

                r = modules_parse_list(row->text, len, &list, &bad_line);
                print_message("parse row %zu: %d, line %zu\n", i, r, bad_line);
                assert_int_equal(r, row->ret);
                if (r < 0) {
                        assert_int_equal(bad_line, row->bad_line);
                        assert_ptr_equal(list.paths, &sentinel); /* ret not written */
                        assert_int_equal(list.n, 1);
                        continue;
                }
                assert_int_equal(bad_line, 4242); /* only written on failure */
                check_paths(&list, row->paths);
                module_list_done(&list);
                assert_null(list.paths);
                assert_int_equal(list.n, 0);
                module_list_done(&list); /* twice is harmless */
        }
        module_list_done(NULL);
}

/* Lists too long to write out: exactly MODULES_MAX entries, one more, and one more again with
 * a comment before every entry (the line number counts every line). */
struct generated_row {
        size_t entries;
        bool comments;
        int ret;
        size_t bad_line;
};

static const struct generated_row generated_rows[] = {
    {MODULES_MAX, false, 0, 0},
    {MODULES_MAX, true, 0, 0},
    {MODULES_MAX + 1, false, -E2BIG, MODULES_MAX + 1},
    {MODULES_MAX + 1, true, -E2BIG, 2 * (MODULES_MAX + 1)},
    {MODULES_MAX + 100, false, -E2BIG, MODULES_MAX + 1},
};

static void test_parse_generated(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(generated_rows); i++) {
                const struct generated_row *row = &generated_rows[i];
                size_t size = row->entries * 64, len = 0, bad_line = 0;
                _cleanup_free_ char *text = malloc(size);
                struct module_list list = {};
                int r;

                assert_non_null(text);
                for (size_t e = 0; e < row->entries; e++) {
                        if (row->comments)
                                len += (size_t) sprintf(text + len, "# entry %zu\n", e);
                        len += (size_t) sprintf(text + len, "/lib/modules/m%zu.ko\n", e);
                        assert_true(len < size - 64);
                }
                r = modules_parse_list(text, len, &list, &bad_line);
                print_message("generated row %zu: %d, line %zu\n", i, r, bad_line);
                assert_int_equal(r, row->ret);
                if (r < 0) {
                        assert_int_equal(bad_line, row->bad_line);
                        continue;
                }
                assert_int_equal(list.n, row->entries);
                assert_string_equal(list.paths[0], "/lib/modules/m0.ko");
                assert_string_equal(list.paths[list.n - 1], "/lib/modules/m1023.ko");
                module_list_done(&list);
        }
        /* ret_bad_line is optional */
        {
                struct module_list list = {};
                assert_int_equal(modules_parse_list("x", 1, &list, NULL), -EINVAL);
        }
}

/* ---- modules_load() ---- */

static char fixture[PATH_MAX];

static int group_setup(void **state)
{
        (void) state;
        return fixture_mkdtemp("test-modules", fixture, sizeof(fixture));
}

static int group_teardown(void **state)
{
        (void) state;
        return fixture_rm_rf(fixture) == 0 ? 0 : -1;
}

enum list_kind {
        NO_LIST,
        LIST_TEXT,
        LIST_IS_DIRECTORY,
        LIST_TOO_BIG,
};

struct load_row {
        const char *what;
        enum list_kind kind;
        const char *text;
        int ret;
        const char *failed; /* the *ret_failed expected, NULL: not written */
};

static const struct load_row load_rows[] = {
    {"no list: everything built in", NO_LIST, NULL, 0, NULL},
    {"empty list", LIST_TEXT, "", 0, NULL},
    {"only comments and blank lines", LIST_TEXT, "# none needed\n\n  \n", 0, NULL},
    {"a missing module", LIST_TEXT, KO "\n", -ENOENT, KO},
    {"the first missing one is named", LIST_TEXT, "# deps first\n" KO2 "\n" KO "\n", -ENOENT, KO2},
    /* a file the host has but the root does not: looked up below the root only (were
     * it opened on the host, the kernel would refuse it as no module, and the row fail) */
    {"a path that exists only outside the root", LIST_TEXT, "/etc/passwd\n", -ENOENT,
     "/etc/passwd"},
    {"a relative path in the list", LIST_TEXT, KO "\nvirtio_blk.ko\n", -EINVAL, NULL},
    {"a list over MODULES_LIST_MAX_BYTES", LIST_TOO_BIG, NULL, -E2BIG, NULL},
    {"a list that is a directory", LIST_IS_DIRECTORY, NULL, -EISDIR, NULL},
};

static void make_root(const struct load_row *row, char *root, size_t size)
{
        char dir[PATH_MAX], list[PATH_MAX];

        assert_int_equal(fixture_pathf(root, size, "%s/root.XXXXXX", fixture), 0);
        assert_non_null(mkdtemp(root));
        if (row->kind == NO_LIST)
                return;
        assert_int_equal(fixture_pathf(dir, sizeof(dir), "%s/etc/nodegate", root), 0);
        assert_int_equal(fixture_sh("mkdir -p '%s'", dir), 0);
        assert_int_equal(fixture_pathf(list, sizeof(list), "%s%s", root, MODULES_LIST_PATH), 0);
        switch (row->kind) {
        case LIST_TEXT:
                assert_int_equal(fixture_write(list, row->text, strlen(row->text), 0644), 0);
                break;
        case LIST_IS_DIRECTORY:
                assert_int_equal(mkdir(list, 0755), 0);
                break;
        case LIST_TOO_BIG: {
                /* comments only, so that nothing would be loaded even if it were read */
                size_t len = MODULES_LIST_MAX_BYTES + 1;
                _cleanup_free_ char *text = malloc(len);

                assert_non_null(text);
                memset(text, '#', len);
                assert_int_equal(fixture_write(list, text, len, 0644), 0);
                break;
        }
        default:
                break;
        }
}

static void test_load(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(load_rows); i++) {
                const struct load_row *row = &load_rows[i];
                char root[PATH_MAX];
                char *failed = (char *) "untouched";
                int r;

                make_root(row, root, sizeof(root));
                r = modules_load(root, &failed, NULL);
                print_message("load row %zu (%s): %d %s\n", i, row->what, r, failed);
                assert_int_equal(r, row->ret);
                if (row->failed) {
                        /* the path as listed, not prefixed with the root */
                        assert_string_equal(failed, row->failed);
                        free(failed);
                } else
                        assert_string_equal(failed, "untouched");
                /* ret_failed is optional */
                assert_int_equal(modules_load(root, NULL, NULL), row->ret);
                assert_int_equal(fixture_rm_rf(root), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_rows),
            cmocka_unit_test(test_parse_generated),
            cmocka_unit_test(test_load),
        };

        print_message("%zu parse rows, %zu generated rows, %zu load rows\n", ELEMENTSOF(parse_rows),
                      ELEMENTSOF(generated_rows), ELEMENTSOF(load_rows));
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
