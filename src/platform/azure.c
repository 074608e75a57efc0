/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Azure paravisor's report, collected the way kinvolk/azure-cvm-tooling
 * (az-cvm-vtpm/src/vtpm/mod.rs, get_report_with_report_data) does: NV_Write of the user data,
 * then NV_Read of the whole report index with the owner's auth, in NV-buffer-sized chunks. */
#include <stdio.h>
#include <time.h>

#include "lib/log.h"
#include "platform/azure.h"
#include "util.h"

#define POLL_USEC (100U * 1000U)

void azure_evidence_done(struct azure_evidence *e)
{
        if (!e)
                return;
        free(e->report);
        *e = (struct azure_evidence){};
}

int azure_collect(struct tpm *t, const uint8_t binding[HCL_BINDING_SIZE], uint64_t wait_usec,
                  struct azure_evidence *ret, char *errbuf, size_t errlen)
{
        uint64_t until = now_usec() + wait_usec;
        char err[TPM_ERROR_MAX];
        int r;

        r = tpm_nv_write_owner(t, AZURE_NV_USER_DATA, binding, HCL_BINDING_SIZE, err, sizeof(err));
        if (r < 0) {
                snprintf(errbuf, errlen, "writing the binding to NV 0x%08x: %s", AZURE_NV_USER_DATA,
                         err);
                return r;
        }
        for (;;) {
                _cleanup_free_ uint8_t *blob = NULL;
                struct timespec pause = {.tv_nsec = POLL_USEC * 1000};
                struct hcl_report h;
                size_t size = 0, chunk = 0;

                r = tpm_nv_read(t, AZURE_NV_REPORT, AZURE_REPORT_MAX, true, &blob, &size, &chunk,
                                err, sizeof(err));
                if (r < 0) {
                        snprintf(errbuf, errlen, "reading the HCL report: %s", err);
                        return r;
                }
                r = hcl_parse(blob, size, &h, errbuf, errlen);
                if (r < 0)
                        return r;
                if (hcl_has_user_data(&h, binding) || now_usec() >= until) {
                        *ret = (struct azure_evidence){
                            .size = size,
                            .chunk = chunk,
                            .report_type = h.report_type,
                            .fresh = hcl_has_user_data(&h, binding),
                        };
                        ret->report = TAKE_PTR(blob);
                        return 0;
                }
                nanosleep(&pause, NULL);
        }
}
