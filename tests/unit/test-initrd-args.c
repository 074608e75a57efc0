/* SPDX-License-Identifier: GPL-2.0-or-later */
/* initrd_args_parse(): the arguments dracut's units and hooks and mkinitcpio's hooks pass to
 * nodegate --mode=initrd, one row per argument list with the result or the exact error. */

#include <stdio.h>

#include "boot/initrd-args.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "row-check.h"

#define MAX_ARGS 6

struct row {
        const char *argv[MAX_ARGS]; /* after argv[0]; NULL-terminated */
        int ret;
        const char *expect; /* ret == 0: dump(); otherwise the exact error message */
};

static const char *const phase_names[] = {
    [INITRD_PHASE_ALL] = "all",
    [INITRD_PHASE_ROOT] = "root",
    [INITRD_PHASE_ATTEST] = "attest",
};

static void dump(const struct initrd_args *a, char *buf, size_t size)
{
        snprintf(buf, size, "phase=%s sysroot=%s%s", phase_names[a->phase], a->sysroot,
                 a->network ? " network" : "");
}

#define LONG_DIR                                                                                   \
        "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NOT_NORMAL ": expected an absolute, normalized directory other than /"

static const struct row rows[] = {
    {{"--mode=initrd"}, 0, "phase=all sysroot=/sysroot"},
    {{"--mode=initrd", "--phase=root"}, 0, "phase=root sysroot=/sysroot"},
    {{"--mode=initrd", "--phase=attest", "--sysroot=/sysroot"}, 0, "phase=attest sysroot=/sysroot"},
    {{"--phase=attest", "--mode=initrd", "--sysroot=/new_root", "--network"},
     0,
     "phase=attest sysroot=/new_root network"},
    {{"--mode=initrd", "--sysroot=/run/root/"}, 0, "phase=all sysroot=/run/root/"},
    {{"--mode=initrd", "--sysroot=/a/...b"}, 0, "phase=all sysroot=/a/...b"},
    /* Refusals */
    {{NULL}, -EINVAL, "--mode=initrd is required"},
    {{"--phase=root"}, -EINVAL, "--mode=initrd is required"},
    {{"--mode=dracut"}, -EINVAL, "--mode=dracut: the only mode is 'initrd'"},
    {{"--mode="}, -EINVAL, "--mode=: the only mode is 'initrd'"},
    {{"--mode=initrd", "--mode=initrd"}, -EINVAL, "--mode: given twice"},
    {{"--mode=initrd", "--phase=all"}, -EINVAL, "--phase=all: expected root or attest"},
    {{"--mode=initrd", "--phase=Root"}, -EINVAL, "--phase=Root: expected root or attest"},
    {{"--mode=initrd", "--phase=root", "--phase=attest"}, -EINVAL, "--phase: given twice"},
    {{"--mode=initrd", "--network", "--network"}, -EINVAL, "--network: given twice"},
    {{"--mode=initrd", "--network=yes"}, -EINVAL, "unknown argument '--network=yes'"},
    {{"--mode=initrd", "--sysroot"}, -EINVAL, "unknown argument '--sysroot'"},
    {{"--mode=initrd", "--sysroot=/a", "--sysroot=/b"}, -EINVAL, "--sysroot: given twice"},
    {{"--mode=initrd", "--sysroot="}, -EINVAL, "--sysroot=" NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=/"}, -EINVAL, "--sysroot=/" NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=sysroot"}, -EINVAL, "--sysroot=sysroot" NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=//sysroot"}, -EINVAL, "--sysroot=//sysroot" NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=/a//b"}, -EINVAL, "--sysroot=/a//b" NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=/a/./b"}, -EINVAL, "--sysroot=/a/./b" NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=/a/.."}, -EINVAL, "--sysroot=/a/.." NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=/.."}, -EINVAL, "--sysroot=/.." NOT_NORMAL},
    {{"--mode=initrd", "--sysroot=" LONG_DIR}, -EINVAL, "--sysroot=" LONG_DIR NOT_NORMAL},
    {{"--mode=initrd", "root=/dev/sda1"}, -EINVAL, "unknown argument 'root=/dev/sda1'"},
    {{"--mode=initrd", ""}, -EINVAL, "unknown argument ''"},
};

static void test_rows(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *argv[MAX_ARGS + 1] = {(char *) "nodegate"};
                struct initrd_args got = {.phase = INITRD_PHASE_ROOT, .sysroot = "untouched"};
                char buf[512] = "", err[512] = "";
                int argc = 1, r;

                while (argc <= MAX_ARGS && rows[i].argv[argc - 1]) {
                        argv[argc] = (char *) rows[i].argv[argc - 1];
                        argc++;
                }
                r = initrd_args_parse(argc, argv, &got, err, sizeof(err));
                if (r == 0)
                        dump(&got, buf, sizeof(buf));
                else {
                        /* Written only on success. */
                        assert_int_equal(got.phase, INITRD_PHASE_ROOT);
                        assert_string_equal(got.sysroot, "untouched");
                        snprintf(buf, sizeof(buf), "%s", err);
                }
                check_row("initrd args row", i, r, buf, rows[i].ret, rows[i].expect);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
