/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The arguments of nodegate --mode=initrd, the gate run by dracut or mkinitcpio. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define INITRD_ARGS_SYSROOT_MAX 256U

enum initrd_phase {
        INITRD_PHASE_ALL,    /* both, in one run */
        INITRD_PHASE_ROOT,   /* devices, verity, read-only mount at the sysroot, init checked */
        INITRD_PHASE_ATTEST, /* the root of an earlier run checked, attest, cap, handover */
};

struct initrd_args {
        enum initrd_phase phase;
        char sysroot[INITRD_ARGS_SYSROOT_MAX]; /* absolute, no "." or ".." components */
        bool network;                          /* the gate brings up ip= itself */
};

/* Parses argv[1..argc) of: --mode=initrd [--phase=root|attest] [--sysroot=DIR] [--network].
 * Each option at most once, --mode=initrd required; DIR absolute and not "/". On failure
 * errbuf says which argument is wrong. Does not log.
 * @return 0 on success (ret written), -EINVAL for anything else */
int initrd_args_parse(int argc, char *const *argv, struct initrd_args *ret, char *errbuf,
                      size_t errlen);
