/* SPDX-License-Identifier: GPL-2.0-or-later */
/* configfs-tsm's answer in the protocol's shape. The provider decides what the outblob is,
 * and it must be the detected platform's: a TDX quote sent as an SNP report (or the other
 * way round) would only be refused later by the verifier, less clearly. */
#include <stdio.h>

#include "platform/configfs-tsm.h"
#include "platform/evidence.h"
#include "util.h"

int platform_evidence_from_tsm(enum platform p, struct tsm_evidence *t,
                               struct platform_evidence *ret, char *errbuf, size_t errlen)
{
        const char *want = p == PLATFORM_SNP ? "sev_guest" : p == PLATFORM_TDX ? "tdx_guest" : NULL;

        if (!want) {
                snprintf(errbuf, errlen, "platform %d has no configfs-tsm evidence", (int) p);
                return -EINVAL;
        }
        if (!streq(t->provider, want)) {
                snprintf(errbuf, errlen, "configfs-tsm's provider is %s, not %s", t->provider,
                         want);
                return -EPROTO;
        }
        *ret = (struct platform_evidence){
            .kind = p == PLATFORM_SNP ? PLATFORM_KIND_SNP : PLATFORM_KIND_TDX,
            .report = TAKE_PTR(t->outblob),
            .report_size = t->outblob_size,
            .fresh = true,
        };
        /* TDX: the quote carries its PCK chain; an auxblob there is nothing the protocol takes. */
        if (p == PLATFORM_SNP && t->auxblob)
                platform_snp_certificates(t->auxblob, t->auxblob_size, ret);
        return 0;
}
