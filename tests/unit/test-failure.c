/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The failure list as an interface: names unique and well-formed, every entry described, the
 * on_failure actions round-tripping, fail() returning and recording what it was given.
 * It walks NODEGATE_FAILURES generically and names no failure on purpose: which failures the
 * boot paths really produce is for tests/check-failure-coverage.sh to count elsewhere. */

#include <regex.h>

#include "boot/failure.h"
#include "lib/log.h"

/* After our headers: cmocka defines a fail() macro; below, fail() is failure.h's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#undef fail

/* The list as the header spells it, to check failure_name() against. */
static const struct {
        enum failure f;
        const char *name, *step, *what;
} spelled[] = {
#define SPELLED(id, name, step, what) {FAILURE_##id, name, step, what},
    NODEGATE_FAILURES(SPELLED)
#undef SPELLED
};

static void test_names(void **state)
{
        regex_t re;

        (void) state;
        assert_int_equal(ELEMENTSOF(spelled), _FAILURE_MAX);
        assert_int_equal(regcomp(&re, "^[a-z]+(-[a-z]+)*$", REG_EXTENDED | REG_NOSUB), 0);
        for (size_t i = 0; i < ELEMENTSOF(spelled); i++) {
                const char *name = failure_name(spelled[i].f);
                const char *description = failure_description(spelled[i].f);

                print_message("%-18s %-8s %s\n", strempty(name), spelled[i].step,
                              strempty(description));
                assert_int_equal(spelled[i].f, (enum failure) i); /* the enum is dense */
                assert_non_null(name);
                assert_string_equal(name, spelled[i].name);
                assert_int_equal(regexec(&re, name, 0, NULL, 0), 0);
                assert_non_null(description);
                assert_string_equal(description, spelled[i].what);
                assert_true(strlen(description) > 0);
                assert_true(strlen(spelled[i].step) > 0);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(name, failure_name(spelled[j].f));
        }
        regfree(&re);

        assert_null(failure_name(_FAILURE_MAX));
        assert_null(failure_name((enum failure) - 1));
        assert_null(failure_description(_FAILURE_MAX));
        assert_null(failure_description((enum failure) - 1));
}

/* The regex itself: it must refuse what a console grep could confuse. */
static void test_name_pattern(void **state)
{
        static const struct {
                const char *s;
                bool ok;
        } rows[] = {
            {"deadline", true},
            {"device-timeout", true},
            {"a-b-c", true},
            {"", false},
            {"-deadline", false},
            {"deadline-", false},
            {"device--timeout", false},
            {"Device", false},
            {"device_timeout", false},
            {"init1", false},
            {"exec init", false},
        };
        regex_t re;

        (void) state;
        assert_int_equal(regcomp(&re, "^[a-z]+(-[a-z]+)*$", REG_EXTENDED | REG_NOSUB), 0);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                assert_int_equal(regexec(&re, rows[i].s, 0, NULL, 0) == 0, rows[i].ok);
        regfree(&re);
}

static void test_actions(void **state)
{
        static const struct {
                const char *s;
                int ret;
        } rows[] = {
            {"halt", FAILURE_ACTION_HALT},
            {"poweroff", FAILURE_ACTION_POWEROFF},
            {"reboot", FAILURE_ACTION_REBOOT},
            {"", -EINVAL},
            {"Halt", -EINVAL},
            {"HALT", -EINVAL},
            {"shutdown", -EINVAL},
            {"power-off", -EINVAL},
            {"halt ", -EINVAL},
            {" halt", -EINVAL},
            {"reboot\n", -EINVAL},
            {"rebootx", -EINVAL},
            {"hal", -EINVAL},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = failure_action_from_string(rows[i].s);

                print_message("action row %zu: '%s' -> %d\n", i, rows[i].s, r);
                assert_int_equal(r, rows[i].ret);
                if (r >= 0)
                        assert_string_equal(failure_action_to_string(r), rows[i].s);
        }
        assert_int_equal(failure_action_from_string(NULL), -EINVAL);

        /* every action round-trips, and nothing outside the enum has a name */
        for (int a = 0; a < _FAILURE_ACTION_MAX; a++) {
                const char *s = failure_action_to_string(a);

                assert_non_null(s);
                assert_int_equal(failure_action_from_string(s), a);
        }
        assert_null(failure_action_to_string(_FAILURE_ACTION_MAX));
        assert_null(failure_action_to_string((enum failure_action) - 1));
}

/* fail() returns -abs(err) (-EIO for 0), failure_last() names what failed, errno is left as
 * it was, and the console gets exactly one line "nodegate[STEP]: FAILED NAME: REASON" (the form
 * the QEMU scenarios grep for) - for every entry of the list. */
static void test_fail(void **state)
{
        static const struct {
                int err, ret;
        } rows[] = {
            {ENOENT, -ENOENT}, {-ENOENT, -ENOENT},       {0, -EIO},
            {EPERM, -EPERM},   {-ETIMEDOUT, -ETIMEDOUT}, {-ENOTUNIQ, -ENOTUNIQ},
        };
        /* results are kept and checked after stderr is back, where cmocka reports */
        struct {
                int ret, saved_errno;
                enum failure last;
        } got[_FAILURE_MAX][ELEMENTSOF(rows)];
        FILE *console = tmpfile();
        char *line = NULL;
        size_t size = 0;
        int saved_stderr;

        (void) state;
        assert_non_null(console);
        saved_stderr = dup(STDERR_FILENO);
        assert_true(saved_stderr >= 0);
        assert_true(dup2(fileno(console), STDERR_FILENO) >= 0);

        log_set_step("test");
        for (int f = 0; f < _FAILURE_MAX; f++)
                for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                        errno = EXDEV;
                        got[f][i].ret =
                            fail((enum failure) f, rows[i].err, "row %zu: %s", i, "reason");
                        got[f][i].saved_errno = errno;
                        got[f][i].last = failure_last();
                }
        log_set_step(NULL);
        fflush(stderr);
        assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
        assert_int_equal(close(saved_stderr), 0);

        rewind(console);
        for (int f = 0; f < _FAILURE_MAX; f++)
                for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                        char expect[256];
                        const char *p;

                        assert_int_equal(got[f][i].ret, rows[i].ret);
                        assert_int_equal(got[f][i].saved_errno, EXDEV);
                        assert_int_equal(got[f][i].last, (enum failure) f);

                        snprintf(expect, sizeof(expect),
                                 "nodegate[test]: FAILED %s: row %zu: reason\n",
                                 failure_name((enum failure) f), i);
                        assert_true(getline(&line, &size, console) > 0);
                        p = strstr(line, "] "); /* after the timestamp */
                        assert_non_null(p);
                        assert_string_equal(p + 2, expect);
                }
        assert_int_equal(getline(&line, &size, console), -1); /* nothing else */
        free(line);
        fclose(console);
}

/* Before any fail() there is no failure to report. cmocka runs the tests in order in one
 * process, so this one comes first in main(), before test_fail() records any. */
static void test_failure_last_initially(void **state)
{
        (void) state;
        assert_int_equal(failure_last(), _FAILURE_MAX);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_failure_last_initially),
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_name_pattern),
            cmocka_unit_test(test_actions),
            cmocka_unit_test(test_fail),
        };

        print_message("%d failures, %d actions\n", (int) _FAILURE_MAX, (int) _FAILURE_ACTION_MAX);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
