/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: TDX quotes and Azure TDX HCL blobs (verifier/platform/tdx-quote.c, tdx-verify.c,
 * platform.c). Input byte 0 picks the kind: bit 0 clear, the rest is a TDX quote (v4/v5) to
 * verify alone; bit 0 set, an Azure TDX pairing — bit 1 clear, the rest is the HCL blob and the
 * TD quote is trustee's real one; bit 1 set, the rest is the TD quote and the HCL blob is
 * trustee's real one (tests/fixtures/cvm/azure-tdx). Each input goes through platform_verify()
 * at the fixtures' pinned time — parse, quote matches TDREPORT, PCK chain to the pinned Intel
 * root, QE report, signature, policy, binding — and the parser's promises are checked. */

#include "platform/platform.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CVM_FIXTURES
#error "CVM_FIXTURES: the directory of tests/fixtures/cvm"
#endif

#define PINNED_TIME 1748736000 /* 2025-06-01, EXPECTED's time */

static struct amd_roots *roots;
static uint8_t hcl[4096], quote[8192];
static size_t hcl_size, quote_size;

static size_t load(const char *name, uint8_t *buf, size_t size)
{
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", CVM_FIXTURES, name);
        f = fopen(path, "re");
        if (!f)
                abort();
        n = fread(buf, 1, size, f);
        fclose(f);
        if (n == 0 || n == size)
                abort();
        return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char err[256];

        (void) argc;
        (void) argv;
        if (amd_roots_load(NULL, &roots, err, sizeof(err)) < 0)
                abort();
        hcl_size = load("azure-tdx/trustee-hcl-report.bin", hcl, sizeof(hcl));
        quote_size = load("azure-tdx/trustee-td-quote.bin", quote, sizeof(quote));
        return 0;
}

/* What a parse that succeeds promises: everything it points to lies inside the input. */
static void check_quote(const uint8_t *b, size_t size)
{
        struct tdx_quote q;
        struct verdict v;

        if (tdx_quote_parse(b, size, &q, &v) != REASON_OK)
                return;
        if ((q.version != 4 && q.version != 5) || (q.body_type != 2 && q.body_type != 3) ||
            q.signed_part != b || q.signed_size > size || q.qe_report < b ||
            q.pck_chain < q.qe_report || q.pck_chain + q.pck_chain_size > b + size ||
            q.qe_auth + q.qe_auth_size > q.pck_chain || q.trailing > size ||
            q.pck_chain + q.pck_chain_size + q.trailing != b + size)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct platform_policy pol;
        struct platform_evidence ev = {};
        struct platform_expect ex = {.check_binding = (size & 1) != 0};
        struct platform_facts facts;
        struct verdict v;
        enum reason k;

        if (size < 1)
                return 0;
        if (!(data[0] & 1)) {
                ev.kind = PLATFORM_KIND_TDX_QUOTE;
                ev.report = data + 1;
                ev.report_size = size - 1;
                check_quote(ev.report, ev.report_size);
        } else if (!(data[0] & 2)) {
                ev.kind = PLATFORM_KIND_AZURE_TDX_HCL;
                ev.report = data + 1;
                ev.report_size = size - 1;
                ev.tdx_quote = quote;
                ev.tdx_quote_size = quote_size;
        } else {
                ev.kind = PLATFORM_KIND_AZURE_TDX_HCL;
                ev.report = hcl;
                ev.report_size = hcl_size;
                ev.tdx_quote = data + 1;
                ev.tdx_quote_size = size - 1;
                check_quote(ev.tdx_quote, ev.tdx_quote_size);
        }
        platform_policy_default(&pol);
        /* Past the signatures to the TD policy and the binding: the collateral has its own
         * target (fuzz-tdx-collateral). */
        pol.tdx_tcb_unchecked = true;
        memset(ex.binding, 0, sizeof(ex.binding));
        k = platform_verify(roots, &pol, &ev, &ex, PINNED_TIME, NULL, NULL, &facts, &v);
        if (k == REASON_OK && !facts.have_tdx)
                abort();
        if (k != REASON_OK && v.reason != k)
                abort();
        ERR_clear_error();
        return 0;
}
