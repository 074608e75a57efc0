/* SPDX-License-Identifier: GPL-2.0-or-later */
/* platform_evidence_from_tsm(): what configfs-tsm's answer is sent as. The provider must be the
 * detected platform's, a TDX guest's quote goes as tdx-quote without certificates, an SNP
 * report as snp-report with the VCEK of its certificate table. */

#include "platform/configfs-tsm.h"
#include "platform/evidence.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* The VCEK's GUID in the GHCB certificate table (63da758d-e664-4564-adc5-f4b93be8accd). */
static const uint8_t vcek_guid[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};

/* A configfs-tsm answer as tsm_report() returns it: provider, outblob, and an auxblob whose
 * certificate table holds a VCEK. */
static void answer(struct tsm_evidence *t, const char *provider)
{
        uint8_t *aux = calloc(1, 128);

        assert_non_null(aux);
        *t = (struct tsm_evidence){.generation = 1};
        snprintf(t->provider, sizeof(t->provider), "%s", provider);
        t->outblob = malloc(5000);
        assert_non_null(t->outblob);
        memset(t->outblob, 0x5a, 5000);
        t->outblob_size = 5000;
        memcpy(aux, vcek_guid, 16);
        aux[16] = 100; /* offset */
        aux[20] = 5;   /* length */
        memcpy(aux + 100, "VCEK!", 5);
        t->auxblob = aux;
        t->auxblob_size = 128;
}

static void tdx_quote(void **state)
{
        struct tsm_evidence t;
        struct platform_evidence e = {};
        char err[256] = "";

        (void) state;
        answer(&t, "tdx_guest");
        assert_int_equal(platform_evidence_from_tsm(PLATFORM_TDX, &t, &e, err, sizeof(err)), 0);
        assert_string_equal(e.kind, "tdx-quote");
        assert_int_equal(e.report_size, 5000);
        assert_int_equal(e.report[4999], 0x5a);
        assert_true(e.fresh);
        /* The quote carries its PCK chain; nothing of an auxblob is sent for TDX. */
        assert_int_equal(e.n_certificates, 0);
        assert_null(t.outblob); /* moved, freed once */
        platform_evidence_done(&e);
        tsm_evidence_done(&t);
}

static void snp_report(void **state)
{
        struct tsm_evidence t;
        struct platform_evidence e = {};
        char err[256] = "";

        (void) state;
        answer(&t, "sev_guest");
        assert_int_equal(platform_evidence_from_tsm(PLATFORM_SNP, &t, &e, err, sizeof(err)), 0);
        assert_string_equal(e.kind, "snp-report");
        assert_int_equal(e.report_size, 5000);
        assert_int_equal(e.n_certificates, 1);
        assert_memory_equal(e.certificates[0], "VCEK!", 5);
        platform_evidence_done(&e);
        tsm_evidence_done(&t);
}

/* Detected as one TEE, answered by the other's driver: refused here, nothing to send. */
static void provider_mismatch(void **state)
{
        struct tsm_evidence t;
        struct platform_evidence e = {};
        char err[256] = "";

        (void) state;
        answer(&t, "sev_guest");
        assert_int_equal(platform_evidence_from_tsm(PLATFORM_TDX, &t, &e, err, sizeof(err)),
                         -EPROTO);
        assert_non_null(strstr(err, "not tdx_guest"));
        assert_null(e.kind);
        assert_null(e.report);
        tsm_evidence_done(&t);

        answer(&t, "tdx_guest");
        assert_int_equal(platform_evidence_from_tsm(PLATFORM_SNP, &t, &e, err, sizeof(err)),
                         -EPROTO);
        assert_non_null(strstr(err, "not sev_guest"));
        assert_null(e.kind);
        tsm_evidence_done(&t);

        /* Azure's evidence is in the vTPM, never in configfs-tsm. */
        answer(&t, "tdx_guest");
        assert_int_equal(platform_evidence_from_tsm(PLATFORM_AZURE_TDX, &t, &e, err, sizeof(err)),
                         -EINVAL);
        assert_null(e.kind);
        tsm_evidence_done(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(tdx_quote),
            cmocka_unit_test(snp_report),
            cmocka_unit_test(provider_mismatch),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
