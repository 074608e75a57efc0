/* SPDX-License-Identifier: GPL-2.0-or-later */
/* eventlog_read(): the log read whole below a root directory, the 512 KiB bound on both sides,
 * an empty log, and the two kinds of "no log": securityfs missing, or securityfs without tpm0
 * (checked on this host's real securityfs when it has one and no TPM). */

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "attest/eventlog.h"
#include "fixtures/fixture-util.h"
#include "util.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static char fixture[PATH_MAX];

static int group_setup(void **state)
{
        (void) state;
        return fixture_mkdtemp("test-gate-eventlog", fixture, sizeof(fixture));
}

static int group_teardown(void **state)
{
        (void) state;
        return fixture_rm_rf(fixture) == 0 ? 0 : -1;
}

/* A root whose log holds size bytes of a pattern; log NULL: no log file at all. */
static void make_root(const char *name, const uint8_t *log, size_t size, char *ret, size_t len)
{
        char dir[PATH_MAX], path[PATH_MAX];

        assert_int_equal(fixture_pathf(ret, len, "%s/%s", fixture, name), 0);
        assert_int_equal(fixture_pathf(dir, sizeof(dir), "%s/sys/kernel/security/tpm0", ret), 0);
        assert_int_equal(fixture_sh("mkdir -p '%s'", dir), 0);
        if (!log)
                return;
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s/binary_bios_measurements", dir), 0);
        assert_int_equal(fixture_write(path, log, size, 0444), 0);
}

static uint8_t *pattern(size_t size)
{
        uint8_t *p = malloc(size ? size : 1);

        assert_non_null(p);
        for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t) (i * 7 + i / 251);
        return p;
}

static void check_read(const char *name, size_t size)
{
        _cleanup_free_ uint8_t *log = pattern(size);
        char root[PATH_MAX], err[256] = "";
        uint8_t *got = NULL;
        size_t got_size = 0;

        make_root(name, log, size, root, sizeof(root));
        assert_int_equal(eventlog_read(root, &got, &got_size, err, sizeof(err)), 0);
        assert_int_equal(got_size, size);
        assert_memory_equal(got, log, size);
        free(got);
}

static void test_read(void **state)
{
        (void) state;
        check_read("small", 1);
        check_read("typical", 38 * 1024 + 17);
        check_read("at-limit", EVENTLOG_SIZE_MAX);
}

static void test_too_large(void **state)
{
        _cleanup_free_ uint8_t *log = pattern(EVENTLOG_SIZE_MAX + 1);
        char root[PATH_MAX], err[256] = "";
        uint8_t *got = (uint8_t *) "untouched";
        size_t got_size = 42;

        (void) state;
        make_root("over-limit", log, EVENTLOG_SIZE_MAX + 1, root, sizeof(root));
        assert_int_equal(eventlog_read(root, &got, &got_size, err, sizeof(err)), -EFBIG);
        assert_string_equal(err, EVENTLOG_PATH " is larger than the protocol's 512 KiB");
        assert_string_equal((const char *) got, "untouched");
        assert_int_equal(got_size, 42);
}

static void test_empty(void **state)
{
        char root[PATH_MAX], err[256] = "";
        uint8_t *got = NULL;
        size_t got_size = 0;

        (void) state;
        make_root("empty", (const uint8_t *) "", 0, root, sizeof(root));
        assert_int_equal(eventlog_read(root, &got, &got_size, err, sizeof(err)), -ENODATA);
        assert_string_equal(err, EVENTLOG_PATH " is empty");
        assert_null(got);
}

static void test_not_a_file(void **state)
{
        char root[PATH_MAX], path[PATH_MAX], err[256] = "";
        uint8_t *got = NULL;
        size_t got_size = 0;

        (void) state;
        make_root("directory", NULL, 0, root, sizeof(root));
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s" EVENTLOG_PATH, root), 0);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(eventlog_read(root, &got, &got_size, err, sizeof(err)), -EISDIR);
        assert_non_null(strstr(err, "cannot read " EVENTLOG_PATH));
}

static void test_no_securityfs(void **state)
{
        char root[PATH_MAX], err[256] = "";
        uint8_t *got = NULL;
        size_t got_size = 0;

        (void) state;
        /* The directories exist, but they are not securityfs: as in an initramfs that did not
         * mount it. */
        make_root("no-securityfs", NULL, 0, root, sizeof(root));
        assert_int_equal(eventlog_read(root, &got, &got_size, err, sizeof(err)), -ENOMEDIUM);
        assert_string_equal(err, "securityfs is not mounted at /sys/kernel/security: no TPM "
                                 "event log");
        /* Nothing below the root at all. */
        assert_int_equal(eventlog_read(fixture, &got, &got_size, err, sizeof(err)), -ENOMEDIUM);
        assert_null(got);
}

static void test_host_securityfs(void **state)
{
        struct statfs sf;
        struct stat st;
        char err[256] = "";
        uint8_t *got = NULL;
        size_t got_size = 0;
        int r;

        (void) state;
        if (statfs(SECURITYFS_PATH, &sf) < 0 || sf.f_type != 0x73636673) {
                print_message("no securityfs on this host: skipped\n");
                return;
        }
        r = eventlog_read("/", &got, &got_size, err, sizeof(err));
        if (stat(EVENTLOG_PATH, &st) == 0) {
                /* A host with a TPM log: read, or refused by its permissions. */
                print_message("this host has a TPM log: %s\n", r == 0 ? "read" : err);
                assert_true(r == 0 || r == -EACCES || r == -EPERM || r == -ENODATA);
                free(got);
                return;
        }
        assert_int_equal(r, -ENOENT);
        assert_non_null(strstr(err, "the kernel has no TPM event log"));
        assert_null(got);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_read),          cmocka_unit_test(test_too_large),
            cmocka_unit_test(test_empty),         cmocka_unit_test(test_not_a_file),
            cmocka_unit_test(test_no_securityfs), cmocka_unit_test(test_host_securityfs),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
