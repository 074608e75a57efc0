/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the platform evidence parsers and checks (verifier/platform/): input byte 0 picks
 * the kind (even: a bare SEV-SNP report, odd: an Azure HCL blob), the rest is the report. Each
 * input goes through platform_verify() as round 2 runs it — parse, the pinned AMD chain, the
 * VEK against the report, the signature, the policy, the binding and the claims JSON — with
 * the real VCEK of the seed's chip (tests/fixtures/cvm, at the fixtures' pinned time), so a
 * mutated report reaches every check; and the parsers' invariants are checked on the way. */

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
static X509 *vcek_bare, *vcek_hcl;

static X509 *load(const char *name)
{
        static uint8_t buf[16384];
        char path[512];
        FILE *f;
        size_t n;
        X509 *c;

        snprintf(path, sizeof(path), "%s/%s", CVM_FIXTURES, name);
        f = fopen(path, "re");
        if (!f)
                abort();
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        c = amd_cert_load(buf, n);
        if (!c)
                abort();
        return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char err[256];

        (void) argc;
        (void) argv;
        if (amd_roots_load(NULL, &roots, err, sizeof(err)) < 0)
                abort();
        vcek_bare = load("snp/trustee-vcek.der");
        vcek_hcl = load("azure-snp/trustee-vcek-chain.pem");
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct platform_policy pol;
        struct platform_evidence ev = {};
        struct platform_expect ex = {.check_binding = (size & 1) != 0};
        struct platform_facts facts;
        struct snp_report r;
        struct hcl_report h;
        struct hcl_claims c;
        struct verdict v;
        enum reason k;

        if (size < 1)
                return 0;
        ev.kind = data[0] & 1 ? PLATFORM_KIND_AZURE_SNP_HCL : PLATFORM_KIND_SNP_REPORT;
        ev.report = data + 1;
        ev.report_size = size - 1;

        /* The parsers alone, and what a parse that succeeds promises. */
        if (snp_report_parse(ev.report, ev.report_size, &r, &v) == REASON_OK) {
                if (r.version < 2 || r.version > 5 || r.sig_algo != 1 ||
                    ev.report_size != SNP_REPORT_SIZE)
                        abort();
        }
        if (hcl_parse(ev.report, ev.report_size, &h, &v) == REASON_OK) {
                if (h.report_type != HCL_REPORT_SNP ||
                    (size_t) (h.claims - ev.report) + h.claims_size > ev.report_size)
                        abort();
                if (hcl_claims_parse(h.claims, h.claims_size, &c, &v) == REASON_OK &&
                    (c.user_data_size > sizeof(c.user_data) || c.ak_n_size > sizeof(c.ak_n) ||
                     c.ek_n_size > sizeof(c.ek_n)))
                        abort();
        }

        /* Every check in order. */
        platform_policy_default(&pol);
        memset(ex.binding, 0, sizeof(ex.binding));
        ev.vek = ev.kind == PLATFORM_KIND_AZURE_SNP_HCL ? vcek_hcl : vcek_bare;
        k = platform_verify(roots, &pol, &ev, &ex, PINNED_TIME, NULL, NULL, &facts, &v);
        if (k == REASON_OK && !facts.have_report)
                abort();
        if (k != REASON_OK && v.reason != k)
                abort();
        ERR_clear_error();
        return 0;
}
