/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which confidential-VM platform the node runs on, found by looking (no setting needed), and
 * the nodegate.platform= override for tests and clouds the detection does not know. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct tpm;

enum platform {
        PLATFORM_NONE,      /* no TEE evidence: the TPM alone (version-2 behaviour) */
        PLATFORM_AZURE_SNP, /* Azure CVM: the paravisor's vTPM has NV 0x01400001 */
        PLATFORM_SNP,       /* SEV-SNP guest: configfs-tsm provider sev_guest */
        PLATFORM_TDX,       /* TDX guest: configfs-tsm provider tdx_guest */
        PLATFORM_AZURE_TDX, /* Azure TDX CVM: NV 0x01400001 holds a TDREPORT, whose TD quote comes
                             * from the metadata service (src/platform/imds.h, docs/cvm.md) */
        _PLATFORM_MAX,
};

/* nodegate.platform=: 0 (auto) detects; the others force a platform. */
enum platform_setting {
        PLATFORM_SETTING_AUTO,
        PLATFORM_SETTING_NONE,
        PLATFORM_SETTING_AZURE_SNP,
        PLATFORM_SETTING_SNP,
        PLATFORM_SETTING_TDX,
        PLATFORM_SETTING_AZURE_TDX,
        _PLATFORM_SETTING_MAX,
};

const char *platform_to_string(enum platform p);

/* "auto", "none", "azure-snp", "snp", "tdx", "azure-tdx". Inline: the command-line parser (and its
 * unit tests) use it without the TPM code. @return the setting, or -EINVAL */
static inline int platform_setting_from_string(const char *s)
{
        static const char *const names[_PLATFORM_SETTING_MAX] = {
            [PLATFORM_SETTING_AUTO] = "auto",
            [PLATFORM_SETTING_NONE] = "none",
            [PLATFORM_SETTING_AZURE_SNP] = "azure-snp",
            [PLATFORM_SETTING_SNP] = "snp",
            [PLATFORM_SETTING_TDX] = "tdx",
            [PLATFORM_SETTING_AZURE_TDX] = "azure-tdx",
        };

        for (int i = 0; i < _PLATFORM_SETTING_MAX; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -EINVAL;
}

/* configfs-tsm's provider name to the platform: sev_guest, tdx_guest; anything else none. */
enum platform platform_from_provider(const char *provider);

struct platform_probe {
        struct tpm *tpm;      /* open; NULL when there is none */
        const char *tsm_dir;  /* configfs-tsm's report directory (TSM_REPORT_DIR below root) */
        const char *configfs; /* where to mount configfs when tsm_dir is absent; NULL: never */
        char detail[320];     /* out: what was found, or why nothing, for the log */
};

/* Finds the platform, in this order: an Azure CVM (the TPM has NV 0x01400001: its paravisor
 * vTPM; azure-tdx when its report is a TDREPORT), a configfs-tsm provider sev_guest (SNP) or
 * tdx_guest (TDX), else none. A setting
 * other than auto is taken as it is, without looking.
 * @return the platform; detection itself never fails (what it could not check is in detail) */
enum platform platform_detect(enum platform_setting setting, struct platform_probe *probe);
