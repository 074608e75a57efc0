/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict: these arguments come from the integration's unit or hook, so anything unexpected is
 * a packaging error that must stop the boot, not be guessed around. */
#include <stdio.h>

#include "boot/initrd-args.h"
#include "util.h"

static int arg_error(char *errbuf, size_t errlen, const char *fmt, const char *arg)
{
        if (errbuf && errlen)
                snprintf(errbuf, errlen, fmt, arg);
        return -EINVAL;
}

static bool sysroot_ok(const char *p)
{
        const char *c = p;

        if (p[0] != '/' || streq(p, "/") || strlen(p) >= INITRD_ARGS_SYSROOT_MAX)
                return false;
        /* Every component: not empty, not "." or "..". */
        while (*c) {
                size_t l;

                c++;
                l = strcspn(c, "/");
                if (l == 0 && c[0] == '/')
                        return false;
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += l;
        }
        return true;
}

int initrd_args_parse(int argc, char *const *argv, struct initrd_args *ret, char *errbuf,
                      size_t errlen)
{
        struct initrd_args a = {.phase = INITRD_PHASE_ALL, .sysroot = "/sysroot"};
        bool have_mode = false, have_phase = false, have_sysroot = false;
        const char *v;

        if (!ret || argc < 1 || !argv)
                return -EINVAL;
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];

                if (!arg)
                        return -EINVAL;
                if ((v = startswith(arg, "--mode="))) {
                        if (have_mode)
                                return arg_error(errbuf, errlen, "%s: given twice", "--mode");
                        if (!streq(v, "initrd"))
                                return arg_error(errbuf, errlen,
                                                 "--mode=%s: the only mode is 'initrd'", v);
                        have_mode = true;
                } else if ((v = startswith(arg, "--phase="))) {
                        if (have_phase)
                                return arg_error(errbuf, errlen, "%s: given twice", "--phase");
                        if (streq(v, "root"))
                                a.phase = INITRD_PHASE_ROOT;
                        else if (streq(v, "attest"))
                                a.phase = INITRD_PHASE_ATTEST;
                        else
                                return arg_error(errbuf, errlen,
                                                 "--phase=%s: expected root or attest", v);
                        have_phase = true;
                } else if ((v = startswith(arg, "--sysroot="))) {
                        if (have_sysroot)
                                return arg_error(errbuf, errlen, "%s: given twice", "--sysroot");
                        if (!sysroot_ok(v))
                                return arg_error(errbuf, errlen,
                                                 "--sysroot=%s: expected an absolute, normalized "
                                                 "directory other than /",
                                                 v);
                        snprintf(a.sysroot, sizeof(a.sysroot), "%s", v);
                        have_sysroot = true;
                } else if (streq(arg, "--network")) {
                        if (a.network)
                                return arg_error(errbuf, errlen, "%s: given twice", arg);
                        a.network = true;
                } else
                        return arg_error(errbuf, errlen, "unknown argument '%s'", arg);
        }
        if (!have_mode)
                return arg_error(errbuf, errlen, "%s", "--mode=initrd is required");
        *ret = a;
        return 0;
}
