/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mount_options_parse(): rootflags= values, one row per input with the MS_* flags and the
 * filesystem data it gives (or the exact error) beside it. */

#include <sys/mount.h>

#include "storage/mount-options.h"
#include "lib/parse-util.h"

/* After our headers: cmocka defines a fail() macro that would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct row {
        const char *input;
        int ret;
        unsigned long flags;
        const char *data; /* NULL: no data string */
        const char *err;  /* the exact message when ret < 0 */
};

static const struct row rows[] = {
    {"", 0, 0, NULL, NULL},
    {"defaults", 0, 0, NULL, NULL},
    {"ro", 0, MS_RDONLY, NULL, NULL},
    /* rw parses, and clears ro; the caller adds MS_RDONLY back regardless */
    {"rw", 0, 0, NULL, NULL},
    {"ro,rw", 0, 0, NULL, NULL},
    {"rw,ro", 0, MS_RDONLY, NULL, NULL},
    {"nosuid,nodev,noexec", 0, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, NULL},
    {"nosuid,suid,nodev,dev,noexec,exec", 0, 0, NULL, NULL},
    {"sync", 0, MS_SYNCHRONOUS, NULL, NULL},
    {"sync,async", 0, 0, NULL, NULL},
    {"dirsync", 0, MS_DIRSYNC, NULL, NULL},
    {"mand,nomand", 0, 0, NULL, NULL},
    {"noatime,nodiratime", 0, MS_NOATIME | MS_NODIRATIME, NULL, NULL},
    {"noatime,atime,nodiratime,diratime", 0, 0, NULL, NULL},
    {"relatime", 0, MS_RELATIME, NULL, NULL},
    {"relatime,norelatime", 0, 0, NULL, NULL},
    {"strictatime", 0, MS_STRICTATIME, NULL, NULL},
    {"strictatime,nostrictatime", 0, 0, NULL, NULL},
    {"lazytime", 0, MS_LAZYTIME, NULL, NULL},
    {"lazytime,nolazytime", 0, 0, NULL, NULL},
    {"iversion", 0, MS_I_VERSION, NULL, NULL},
    {"nosymfollow", 0, MS_NOSYMFOLLOW, NULL, NULL},
    {"nosymfollow,symfollow", 0, 0, NULL, NULL},
    {"silent", 0, MS_SILENT, NULL, NULL},
    {"silent,loud", 0, 0, NULL, NULL},

    /* everything else is the filesystem's, in order */
    {"errors=panic", 0, 0, "errors=panic", NULL},
    {"ro,errors=panic,noatime,data=ordered,commit=5", 0, MS_RDONLY | MS_NOATIME,
     "errors=panic,data=ordered,commit=5", NULL},
    {"cache=none,nodev,dax=never", 0, MS_NODEV, "cache=none,dax=never", NULL},
    {"user_xattr", 0, 0, "user_xattr", NULL},
    {"RO", 0, 0, "RO", NULL},
    {"noatime=1", 0, 0, "noatime=1", NULL},
    {"a=b=c", 0, 0, "a=b=c", NULL},

    /* refused */
    {"noatime,,nodev", -EINVAL, 0, NULL, "empty option (stray comma)"},
    {",ro", -EINVAL, 0, NULL, "empty option (stray comma)"},
    {"ro,", -EINVAL, 0, NULL, "empty option (stray comma)"},
    {",", -EINVAL, 0, NULL, "empty option (stray comma)"},
    {"bind", -EINVAL, 0, NULL, "bind is not allowed for the root mount"},
    {"ro,rbind", -EINVAL, 0, NULL, "rbind is not allowed for the root mount"},
    {"move", -EINVAL, 0, NULL, "move is not allowed for the root mount"},
    {"remount,rw", -EINVAL, 0, NULL, "remount is not allowed for the root mount"},
    {"shared", -EINVAL, 0, NULL, "shared is not allowed for the root mount"},
    {"rslave", -EINVAL, 0, NULL, "rslave is not allowed for the root mount"},
    {"private", -EINVAL, 0, NULL, "private is not allowed for the root mount"},
    {"runbindable", -EINVAL, 0, NULL, "runbindable is not allowed for the root mount"},
    {"errors=panic\nro", -EINVAL, 0, NULL, "control character at position 13"},
    {"noatime,\x1b[2J", -EINVAL, 0, NULL, "control character at position 9"},
    {"a\x7f", -EINVAL, 0, NULL, "control character at position 2"},
};

static void test_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct row *row = &rows[i];
                char err[PARSE_ERRBUF_SIZE] = "";
                unsigned long flags = 0xdead;
                char *data = (char *) "untouched";
                int r;

                r = mount_options_parse(row->input, &flags, &data, err, sizeof(err));
                if (r != row->ret)
                        print_message("row %zu \"%s\": got %d \"%s\"\n", i, row->input, r, err);
                assert_int_equal(r, row->ret);
                if (r < 0) {
                        /* outputs are written only on success */
                        assert_int_equal(flags, 0xdead);
                        assert_string_equal(data, "untouched");
                        assert_string_equal(err, row->err);
                        continue;
                }
                if (flags != row->flags || !streq_ptr(data, row->data))
                        print_message("row %zu \"%s\": got flags %#lx data \"%s\"\n", i, row->input,
                                      flags, strempty(data));
                assert_int_equal(flags, row->flags);
                if (row->data)
                        assert_string_equal(data, row->data);
                else
                        assert_null(data);
                free(data);

                /* validation only, as the command-line parser calls it */
                assert_int_equal(mount_options_parse(row->input, NULL, NULL, NULL, 0), 0);
        }
}

static void test_length_limit(void **state)
{
        static const struct {
                size_t len;
                int ret;
        } long_rows[] = {
            {MOUNT_OPTIONS_MAX, 0},
            {MOUNT_OPTIONS_MAX + 1, -E2BIG},
            {64 * 1024, -E2BIG},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(long_rows); i++) {
                char err[PARSE_ERRBUF_SIZE] = "", *s = calloc(1, long_rows[i].len + 1),
                     *data = NULL;
                unsigned long flags;

                assert_non_null(s);
                /* "x=xxxx…": one data option of the full length */
                memset(s, 'x', long_rows[i].len);
                s[1] = '=';
                assert_int_equal(mount_options_parse(s, &flags, &data, err, sizeof(err)),
                                 long_rows[i].ret);
                if (long_rows[i].ret == 0) {
                        assert_string_equal(data, s);
                        free(data);
                } else
                        assert_string_equal(err, "longer than 4095 bytes");
                free(s);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
            cmocka_unit_test(test_length_limit),
        };

        print_message("%zu table rows\n", ELEMENTSOF(rows));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
