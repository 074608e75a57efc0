/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One call for round 2: which collector, and the evidence in the protocol's shape. */
#include <stdio.h>

#include "attest/tpm.h"
#include "platform/azure.h"
#include "platform/configfs-tsm.h"
#include "platform/evidence.h"
#include "platform/imds.h"
#include "util.h"

bool platform_has_evidence(enum platform p)
{
        return p == PLATFORM_AZURE_SNP || p == PLATFORM_AZURE_TDX || p == PLATFORM_SNP ||
               p == PLATFORM_TDX;
}

static int collect_azure(enum platform p, struct tpm *t,
                         const uint8_t binding[PLATFORM_BINDING_SIZE], uint64_t wait_usec,
                         uint64_t deadline_usec, struct platform_evidence *ret,
                         enum failure *ret_failure, char *errbuf, size_t errlen)
{
        uint32_t want = p == PLATFORM_AZURE_TDX ? HCL_REPORT_TDX : HCL_REPORT_SNP;
        struct azure_evidence a = {};
        uint8_t *quote = NULL;
        size_t quote_size = 0;
        int r;

        r = azure_collect(t, binding, wait_usec, &a, errbuf, errlen);
        if (r < 0)
                return r;
        /* Detection read the same index: a report that changed its kind since is not this
         * platform's, and the verifier would refuse what it could not match anyway. */
        if (a.report_type != want) {
                snprintf(errbuf, errlen,
                         "the HCL report holds hardware report type %u, not the %s report (%u) "
                         "detection found",
                         a.report_type, platform_to_string(p), want);
                azure_evidence_done(&a);
                return -EPROTO;
        }
        if (p == PLATFORM_AZURE_TDX) {
                /* The TDREPORT, right after the HCL header; its MAC is for the CPU only, so
                 * the verifier needs the quote the metadata service makes of it. */
                r = imds_td_quote(a.report + HCL_HEADER_SIZE, IMDS_TDREPORT_SIZE, deadline_usec,
                                  &quote, &quote_size, ret_failure, errbuf, errlen);
                if (r < 0) {
                        azure_evidence_done(&a);
                        return r;
                }
        }
        *ret = (struct platform_evidence){
            .kind = p == PLATFORM_AZURE_TDX ? PLATFORM_KIND_AZURE_TDX : PLATFORM_KIND_AZURE,
            .report = a.report,
            .report_size = a.size,
            .td_quote = quote,
            .td_quote_size = quote_size,
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
                     uint64_t deadline_usec, struct platform_evidence *ret,
                     enum failure *ret_failure, char *errbuf, size_t errlen)
{
        *ret = (struct platform_evidence){};
        *ret_failure = FAILURE_PLATFORM_EVIDENCE;
        switch (p) {
        case PLATFORM_AZURE_SNP:
        case PLATFORM_AZURE_TDX:
                return collect_azure(p, t, binding, wait_usec, deadline_usec, ret, ret_failure,
                                     errbuf, errlen);
        case PLATFORM_SNP:
        case PLATFORM_TDX:
                return collect_tsm(p, tsm_dir ? tsm_dir : TSM_REPORT_DIR, binding, ret, errbuf,
                                   errlen);
        default:
                return 0;
        }
}
