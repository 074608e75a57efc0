/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the gate was told to do: the merged result of nodegate.conf and the kernel command line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "boot/failure.h"

#define SETTINGS_DEFAULT_TIMEOUT_SEC 90U
#define SETTINGS_MAX_TIMEOUT_SEC     3600U
#define SETTINGS_INIT_MAX            1024U
#define SETTINGS_URL_MAX             1024U
#define SETTINGS_PATH_MAX            1024U
#define SETTINGS_TPM_DEVICE_MAX      63U /* tpm.c keeps the device path in 64 bytes */
#define SETTINGS_DEFAULT_CA          "/etc/nodegate/ca.pem"

struct settings {
        char *roothash;       /* lowercase hex, 40..128 digits, even; NULL when not given */
        char *verity_data;    /* device spec: /dev/…, PARTUUID=, UUID=, LABEL=, PARTLABEL= */
        char *verity_hash;    /* same forms; NULL: derived from roothash (systemd's rule) */
        char *verity_options; /* raw systemd.verity_root_options= value, parsed by verity.c */
        char *rootfstype;     /* NULL: probed with libblkid */
        char *rootflags;      /* raw rootflags= value, parsed by mount options code */
        char *init;           /* init=: the new root's init, absolute; NULL: /sbin/init */
        char *ip;             /* raw ip= value, parsed by ip-config.c; NULL: no network */
        char *url;            /* nodegate.url=: the verifier, https://; NULL: not configured */
        char *ca;             /* nodegate.ca=: absolute path; NULL: SETTINGS_DEFAULT_CA */
        char *tpm;            /* nodegate.tpm=: /dev/…; NULL: /dev/tpmrm0, then /dev/tpm0 */
        unsigned ek_type;     /* nodegate.ek=: enum tpm_ek_type, TPM_EK_AUTO by default */
        unsigned platform;    /* nodegate.platform=: enum platform_setting, detected by default */
        int verity_enabled;   /* systemd.verity= / rd.systemd.verity=: -1 unset, 0 no, 1 yes */
        enum failure_action on_failure;
        unsigned timeout_sec; /* overall deadline for the gate, 1..SETTINGS_MAX_TIMEOUT_SEC */
        bool debug;           /* nodegate.debug */
};

void settings_init(struct settings *s);
void settings_done(struct settings *s);
