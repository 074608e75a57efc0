/* SPDX-License-Identifier: GPL-2.0-or-later */
/* platform_snp_certificates(): the VCEK/VLEK out of an SNP certificate table (configfs-tsm's
 * auxblob), built here the way the GHCB extended guest request lays it out. */

#include "platform/evidence.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const uint8_t vcek[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t vlek[16] = {0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48,
                                 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
/* ASK 4ab7b379-bbac-4fe4-a02f-05aef327c782: the verifier pins its own, the gate sends none. */
static const uint8_t ask[16] = {0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f,
                                0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};

static void entry(uint8_t *table, size_t i, const uint8_t guid[16], uint32_t offset,
                  uint32_t length)
{
        uint8_t *e = table + 24 * i;

        memcpy(e, guid, 16);
        for (int k = 0; k < 4; k++) {
                e[16 + k] = (uint8_t) (offset >> (8 * k));
                e[20 + k] = (uint8_t) (length >> (8 * k));
        }
}

static void table_rows(void **state)
{
        uint8_t table[512] = {};
        struct platform_evidence e = {};

        (void) state;
        /* ASK, VCEK, terminator; the blobs after the table. */
        entry(table, 0, ask, 200, 10);
        entry(table, 1, vcek, 300, 5);
        memcpy(table + 200, "ASK-CERT..", 10);
        memcpy(table + 300, "VCEK!", 5);
        platform_snp_certificates(table, sizeof(table), &e);
        assert_int_equal(e.n_certificates, 1);
        assert_int_equal(e.certificate_sizes[0], 5);
        assert_memory_equal(e.certificates[0], "VCEK!", 5);
        platform_evidence_done(&e);

        /* A VLEK past the end, a VCEK of length 0: skipped; a VLEK after the terminator: not
         * read. */
        memset(table, 0, sizeof(table));
        entry(table, 0, vlek, 500, 100);
        entry(table, 1, vcek, 300, 0);
        entry(table, 2, vlek, 0xffffffff, 2);
        entry(table, 4, vlek, 300, 5); /* entry 3 is the terminator */
        platform_snp_certificates(table, sizeof(table), &e);
        assert_int_equal(e.n_certificates, 0);

        /* A table cut in the middle of an entry. */
        memset(table, 0, sizeof(table));
        entry(table, 0, vcek, 300, 5);
        platform_snp_certificates(table, 20, &e);
        assert_int_equal(e.n_certificates, 0);

        /* At most PLATFORM_CERTS_MAX, each at most PLATFORM_CERT_MAX. */
        memset(table, 0, sizeof(table));
        for (size_t i = 0; i < 6; i++)
                entry(table, i, i % 2 ? vcek : vlek, 300, 5);
        memcpy(table + 300, "VCEK!", 5);
        platform_snp_certificates(table, sizeof(table), &e);
        assert_int_equal(e.n_certificates, PLATFORM_CERTS_MAX);
        platform_evidence_done(&e);
        assert_int_equal(e.n_certificates, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(table_rows),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
