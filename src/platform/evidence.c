/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One call for round 2: which collector, and the evidence in the protocol's shape. */
#include <stdio.h>

#include "attest/tpm.h"
#include "platform/azure.h"
#include "platform/configfs-tsm.h"
#include "platform/evidence.h"
#include "util.h"

bool platform_has_evidence(enum platform p)
{
        return p == PLATFORM_AZURE_SNP || p == PLATFORM_SNP || p == PLATFORM_TDX;
}

static int collect_azure(struct tpm *t, const uint8_t binding[PLATFORM_BINDING_SIZE],
                         uint64_t wait_usec, struct platform_evidence *ret, char *errbuf,
                         size_t errlen)
{
        struct azure_evidence a = {};
        int r;

        r = azure_collect(t, binding, wait_usec, &a, errbuf, errlen);
        if (r < 0)
                return r;
        if (a.report_type != HCL_REPORT_SNP) {
                snprintf(errbuf, errlen,
                         "the HCL report holds a TDX report (type %u): the gate cannot send "
                         "Azure TDX evidence yet",
                         a.report_type);
                azure_evidence_done(&a);
                return -EOPNOTSUPP;
        }
        *ret = (struct platform_evidence){
            .kind = PLATFORM_KIND_AZURE,
            .report = a.report,
            .report_size = a.size,
            .fresh = a.fresh,
            .chunk = a.chunk,
        };
        return 0;
}

static int collect_tsm(enum platform p, const char *tsm_dir,
                       const uint8_t binding[PLATFORM_BINDING_SIZE], struct platform_evidence *ret,
                       char *errbuf, size_t errlen)
{
        _cleanup_(tsm_evidence_done) struct tsm_evidence t = {};
        int r;

        r = tsm_report(tsm_dir, binding, &t, errbuf, errlen);
        if (r < 0)
                return r;
        return platform_evidence_from_tsm(p, &t, ret, errbuf, errlen);
}

int platform_collect(enum platform p, struct tpm *t, const char *tsm_dir,
                     const uint8_t binding[PLATFORM_BINDING_SIZE], uint64_t wait_usec,
                     struct platform_evidence *ret, char *errbuf, size_t errlen)
{
        *ret = (struct platform_evidence){};
        switch (p) {
        case PLATFORM_AZURE_SNP:
                return collect_azure(t, binding, wait_usec, ret, errbuf, errlen);
        case PLATFORM_SNP:
        case PLATFORM_TDX:
                return collect_tsm(p, tsm_dir ? tsm_dir : TSM_REPORT_DIR, binding, ret, errbuf,
                                   errlen);
        default:
                return 0;
        }
}
