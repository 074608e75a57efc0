/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What platform evidence adds to one attestation on the verifier: platform_verify() on a real
 * SEV-SNP report (tests/fixtures/cvm/snp/trustee-report.bin with its VCEK, at the fixtures'
 * pinned time) and a real Azure HCL blob, each check as round 2 runs it (the AMD chain walked
 * once, then cached as in the service; ECDSA P-384 every time), and a real TDX quote and Azure
 * TDX blob (the PCK chain in the quote verified every time: five ECDSA P-256 verifications;
 * the TCB status not evaluated), and a real TDX quote with Intel's real PCS collateral (read
 * from tdx/pcs and authenticated every time: two more P-256 verifications and two CRLs), N
 * times; prints the mean CPU and wall time per verification.
 * Usage: bench-platform FIXTURES-DIR [N] */
#include "platform/platform.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t slurp(const char *dir, const char *name, uint8_t *buf, size_t max)
{
        char path[1024];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "re");
        if (!f) {
                perror(path);
                exit(1);
        }
        n = fread(buf, 1, max, f);
        fclose(f);
        return n;
}

static double clock_s(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void run_at(const char *what, const struct amd_roots *roots,
                   const struct platform_policy *pol, const struct platform_evidence *ev, int64_t t,
                   long n)
{
        struct platform_expect ex = {};
        struct verdict v;
        double t0, c0;

        t0 = clock_s(CLOCK_MONOTONIC);
        c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        for (long i = 0; i < n; i++)
                if (platform_verify(roots, pol, ev, &ex, t, NULL, NULL, NULL, &v) != REASON_OK) {
                        fprintf(stderr, "%s: refused: %s\n", what, v.message);
                        exit(1);
                }
        /* CPU time is the cost; wall time shows what else the machine was doing. */
        printf("%-26s %8.1f us CPU, %8.1f us wall per verification (%ld runs)\n", what,
               (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double) n * 1e6,
               (clock_s(CLOCK_MONOTONIC) - t0) / (double) n * 1e6, n);
}

static void run(const char *what, const struct amd_roots *roots, const struct platform_evidence *ev,
                long n)
{
        struct platform_policy pol;

        platform_policy_default(&pol);
        pol.tdx_tcb_unchecked = true; /* the collateral's cost has its own row */
        run_at(what, roots, &pol, ev, 1748736000, n);
}

int main(int argc, char **argv)
{
        static uint8_t report[4096], hcl[4096], vcek[8192], vcek_az[8192], quote[8192];
        struct platform_evidence ev = {};
        struct amd_roots *roots;
        long n = argc > 2 ? atol(argv[2]) : 2000;
        size_t size;
        char err[256];

        if (argc < 2 || n <= 0) {
                fprintf(stderr, "usage: bench-platform FIXTURES-DIR [N]\n");
                return 2;
        }
        if (amd_roots_load(NULL, &roots, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        ev.kind = PLATFORM_KIND_SNP_REPORT;
        ev.report = report;
        ev.report_size = slurp(argv[1], "snp/trustee-report.bin", report, sizeof(report));
        size = slurp(argv[1], "snp/trustee-vcek.der", vcek, sizeof(vcek));
        ev.vek = amd_cert_load(vcek, size);
        run("SEV-SNP report (Milan)", roots, &ev, n);
        X509_free(ev.vek);

        ev.kind = PLATFORM_KIND_AZURE_SNP_HCL;
        ev.report = hcl;
        ev.report_size = slurp(argv[1], "azure-snp/trustee-hcl-report.bin", hcl, sizeof(hcl));
        size = slurp(argv[1], "azure-snp/trustee-vcek-chain.pem", vcek_az, sizeof(vcek_az));
        ev.vek = amd_cert_load(vcek_az, size);
        run("Azure HCL blob (Milan)", roots, &ev, n);
        X509_free(ev.vek);

        /* TDX: the PCK chain is in the quote and verified every time (no cache). */
        ev = (struct platform_evidence){.kind = PLATFORM_KIND_TDX_QUOTE, .report = quote};
        ev.report_size = slurp(argv[1], "azure-tdx/trustee-td-quote.bin", quote, sizeof(quote));
        run("TDX quote v4", roots, &ev, n);
        ev.kind = PLATFORM_KIND_AZURE_TDX_HCL;
        ev.tdx_quote = quote;
        ev.tdx_quote_size = ev.report_size;
        ev.report = hcl;
        ev.report_size = slurp(argv[1], "azure-tdx/trustee-hcl-report.bin", hcl, sizeof(hcl));
        run("Azure TDX HCL blob + quote", roots, &ev, n);

        /* The TCB status from Intel's collateral, at the time EXPECTED accepts this pair. */
        {
                static char dir[1024];
                struct platform_policy pol;

                snprintf(dir, sizeof(dir), "%s/tdx/pcs", argv[1]);
                roots->tdx_collateral = dir;
                platform_policy_default(&pol);
                pol.tdx_allow_debug = true; /* trustee's quote 4 is of a DEBUG TD */
                ev = (struct platform_evidence){.kind = PLATFORM_KIND_TDX_QUOTE, .report = quote};
                ev.report_size = slurp(argv[1], "tdx/trustee-quote-4.dat", quote, sizeof(quote));
                run_at("TDX quote v4 + collateral", roots, &pol, &ev, 1688169600, n);
        }
        amd_roots_free(roots);
        return 0;
}
