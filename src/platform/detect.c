/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Platform detection: the Azure paravisor's vTPM first (its report index is the one sure sign,
 * and Azure's guests reach no SNP firmware themselves), then configfs-tsm's provider. */
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "attest/tpm.h"
#include "platform/azure.h"
#include "platform/configfs-tsm.h"
#include "platform/detect.h"
#include "util.h"

static const char *const platform_names[_PLATFORM_MAX] = {
    [PLATFORM_NONE] = "none", [PLATFORM_AZURE_SNP] = "azure-snp", [PLATFORM_SNP] = "snp",
    [PLATFORM_TDX] = "tdx",   [PLATFORM_AZURE_TDX] = "azure-tdx",
};

const char *platform_to_string(enum platform p)
{
        return p < _PLATFORM_MAX ? platform_names[p] : "?";
}

enum platform platform_from_provider(const char *provider)
{
        if (streq(provider, "sev_guest"))
                return PLATFORM_SNP;
        if (streq(provider, "tdx_guest"))
                return PLATFORM_TDX;
        return PLATFORM_NONE;
}

/* configfs is not mounted by the kernel; the tsm module's directory appears once it is. */
static void mount_configfs(const char *where)
{
        struct stat st;

        if (!where || stat(where, &st) < 0 || !S_ISDIR(st.st_mode))
                return;
        (void) mount("configfs", where, "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* Azure TDX CVMs have the same index, with a TDREPORT inside; the gate cannot send their
 * evidence yet (the TD quote comes from the metadata service), so the node attests with the
 * TPM alone rather than stopping at round 2. A report that cannot be read here is left to
 * the collection, which names what is wrong. */
static bool azure_report_is_tdx(struct tpm *t)
{
        _cleanup_free_ uint8_t *blob = NULL;
        char err[TPM_ERROR_MAX];
        struct hcl_report h;
        size_t size = 0;

        if (tpm_nv_read(t, AZURE_NV_REPORT, AZURE_REPORT_MAX, true, &blob, &size, NULL, err,
                        sizeof(err)) < 0 ||
            hcl_parse(blob, size, &h, err, sizeof(err)) < 0)
                return false;
        return h.report_type == HCL_REPORT_TDX;
}

enum platform platform_detect(enum platform_setting setting, struct platform_probe *p)
{
        char err[TSM_ERROR_MAX], provider[TSM_PROVIDER_MAX];
        enum platform found;
        size_t size = 0;
        int r;

        switch (setting) {
        case PLATFORM_SETTING_NONE:
        case PLATFORM_SETTING_AZURE_SNP:
        case PLATFORM_SETTING_SNP:
        case PLATFORM_SETTING_TDX:
        case PLATFORM_SETTING_AZURE_TDX:
                found = setting == PLATFORM_SETTING_NONE        ? PLATFORM_NONE
                        : setting == PLATFORM_SETTING_AZURE_SNP ? PLATFORM_AZURE_SNP
                        : setting == PLATFORM_SETTING_SNP       ? PLATFORM_SNP
                        : setting == PLATFORM_SETTING_TDX       ? PLATFORM_TDX
                                                                : PLATFORM_AZURE_TDX;
                snprintf(p->detail, sizeof(p->detail), "set by nodegate.platform=%s",
                         platform_to_string(found));
                return found;
        default:
                break;
        }

        if (p->tpm) {
                r = tpm_nv_size(p->tpm, AZURE_NV_REPORT, &size, err, sizeof(err));
                if (r >= 0 && azure_report_is_tdx(p->tpm)) {
                        snprintf(p->detail, sizeof(p->detail),
                                 "the vTPM's Azure report index 0x%08x holds a TDX report",
                                 AZURE_NV_REPORT);
                        return PLATFORM_AZURE_TDX;
                }
                if (r >= 0) {
                        snprintf(p->detail, sizeof(p->detail),
                                 "the vTPM has the Azure paravisor's report index 0x%08x (%zu "
                                 "bytes)",
                                 AZURE_NV_REPORT, size);
                        return PLATFORM_AZURE_SNP;
                }
        }

        if (p->tsm_dir && access(p->tsm_dir, F_OK) < 0 && errno == ENOENT)
                mount_configfs(p->configfs);
        r = tsm_provider(p->tsm_dir ? p->tsm_dir : TSM_REPORT_DIR, provider, err, sizeof(err));
        if (r < 0) {
                snprintf(p->detail, sizeof(p->detail), "no Azure vTPM report; %s", err);
                return PLATFORM_NONE;
        }
        found = platform_from_provider(provider);
        snprintf(p->detail, sizeof(p->detail), "configfs-tsm provider %s%s", provider,
                 found == PLATFORM_NONE ? " (not one nodegate knows)" : "");
        return found;
}
