/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmdline_read() against fixture files standing in for /proc/cmdline: one row per file with the
 * result beside it, then the read text through cmdline_parse(). */

#include "config/cmdline.h"
#include "fixture.h"
#include "settings-dump.h"

/* After our headers: cmocka defines a fail() macro that would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct row {
        const char *name;
        const char *head; /* start of the file's text */
        size_t head_len;  /* 0: strlen(head); set for heads with NUL bytes */
        size_t size;      /* 0: head_len; more: head followed by spaces up to size */
        bool create;      /* false: the path does not exist */
        bool directory;   /* the path is a directory */
        int ret;
        const char *parsed; /* when read: settings_dump() after cmdline_parse(), or its error */
};

static const struct row rows[] = {
    {"typical", "BOOT_IMAGE=/vmlinuz console=ttyS0 roothash=" H64 " quiet\n", 0, 0, true, false, 0,
     "roothash=" H64},
    {"empty", "", 0, 0, true, false, 0, ""},
    {"newline-only", "\n", 0, 0, true, false, 0, ""},
    {"no-newline", "nodegate.timeout=4", 0, 0, true, false, 0, "timeout=4"},
    {"exactly-max", "nodegate.debug ", 0, CMDLINE_MAX, true, false, 0, "debug=1"},
    {"max-plus-one", "nodegate.debug ", 0, CMDLINE_MAX + 1, true, false, -E2BIG, NULL},
    {"one-mebibyte", "", 0, 1024 * 1024, true, false, -E2BIG, NULL},
    {"nul-byte", "quiet\0roothash=zz\n", 18, 0, true, false, 0, "NUL byte at offset 5"},
    {"bad-key", "nodegate.bogus=1\n", 0, 0, true, false, 0, "unknown key nodegate.bogus"},
    {"missing", NULL, 0, 0, false, false, -ENOENT, NULL},
    {"a-directory", NULL, 0, 0, false, true, -EISDIR, NULL},
};

static void test_rows(void **state)
{
        struct fixture_dir dir;

        (void) state;
        assert_int_equal(fixture_dir_make(&dir), 0);

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct row *row = &rows[i];
                char path[256], *text = (char *) "untouched";
                size_t len = 4242;
                int r;

                snprintf(path, sizeof(path), "%s/%s", dir.path, row->name);
                if (row->create) {
                        size_t head = row->head_len ? row->head_len : strlen(row->head);
                        size_t size = row->size ? row->size : head;
                        char *content = malloc(size);

                        assert_non_null(content);
                        memset(content, ' ', size);
                        memcpy(content, row->head, head);
                        assert_int_equal(
                            fixture_write(&dir, row->name, content, size, path, sizeof(path)), 0);
                        free(content);
                }
                if (row->directory)
                        assert_int_equal(mkdir(path, 0755), 0);

                r = cmdline_read(path, &text, &len);
                print_message("row %s: %d\n", row->name, r);
                assert_int_equal(r, row->ret);
                if (r < 0) {
                        assert_string_equal(text, "untouched");
                        assert_int_equal(len, 4242);
                        continue;
                }

                assert_int_equal(len, row->size       ? row->size
                                      : row->head_len ? row->head_len
                                                      : strlen(row->head));
                assert_int_equal(text[len], '\0');
                {
                        char err[256] = "", dump[512];
                        struct settings s;

                        settings_init(&s);
                        r = cmdline_parse(text, len, &s, err, sizeof(err));
                        assert_string_equal(r == 0 ? settings_dump(&s, dump, sizeof(dump)) : err,
                                            row->parsed);
                        settings_done(&s);
                }
                free(text);
        }

        fixture_dir_remove(&dir);
}

/* The real file, whatever this machine booted with, is readable and within the limit. */
static void test_proc_cmdline(void **state)
{
        char *text = NULL;
        size_t len = 0;

        (void) state;
        if (access("/proc/cmdline", R_OK) < 0)
                skip();
        assert_int_equal(cmdline_read("/proc/cmdline", &text, &len), 0);
        assert_true(len <= CMDLINE_MAX);
        assert_int_equal(strlen(text), len);
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
            cmocka_unit_test(test_proc_cmdline),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
