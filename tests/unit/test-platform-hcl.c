/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hcl_parse() and hcl_has_user_data() on the real Azure HCL blobs of tests/fixtures/cvm (never
 * edited: the hostile variants are derived here, one byte or length at a time). */

#include <fcntl.h>

#include "lib/fileio.h"
#include "platform/hcl.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#ifndef CVM_FIXTURES_DIR
#define CVM_FIXTURES_DIR "tests/fixtures/cvm"
#endif

struct row {
        const char *file;
        uint32_t version, report_type;
        size_t claims_size;
};

/* Sizes and types as tests/tools/cvm-reference.py and docs/cvm.md read them. */
static const struct row rows[] = {
    {"azure-snp/kinvolk-hcl-report-snp.bin", 1, HCL_REPORT_SNP, 583},
    {"azure-snp/trustee-ev-genoa-hcl.bin", 2, HCL_REPORT_SNP, 1200},
    {"azure-snp/trustee-ev-v0-hcl.bin", 1, HCL_REPORT_SNP, 1110},
    {"azure-snp/trustee-ev-v1-hcl.bin", 1, HCL_REPORT_SNP, 1110},
    {"azure-snp/trustee-ev-v2-hcl.bin", 1, HCL_REPORT_SNP, 1110},
    {"azure-snp/trustee-hcl-report.bin", 1, HCL_REPORT_SNP, 1110},
    {"azure-tdx/kinvolk-hcl-report-tdx.bin", 2, HCL_REPORT_TDX, 1202},
    {"azure-tdx/trustee-hcl-report.bin", 2, HCL_REPORT_TDX, 1201},
};

static uint8_t *load(const char *name, size_t *ret_size)
{
        char path[512], *data = NULL;

        snprintf(path, sizeof(path), "%s/%s", CVM_FIXTURES_DIR, name);
        assert_int_equal(read_file_bounded(path, 16384, &data, ret_size), 0);
        return (uint8_t *) data;
}

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void real_blobs(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ uint8_t *blob = NULL;
                struct hcl_report h = {};
                char err[256] = "";
                size_t size;

                blob = load(rows[i].file, &size);
                if (hcl_parse(blob, size, &h, err, sizeof(err)) != 0)
                        fail_msg("%s: %s", rows[i].file, err);
                assert_int_equal(h.version, rows[i].version);
                assert_int_equal(h.report_type, rows[i].report_type);
                assert_int_equal(h.claims_size, rows[i].claims_size);
                assert_ptr_equal(h.claims, blob + HCL_CLAIMS_OFFSET);
                assert_int_equal(h.claims[0], '{');
                assert_int_equal(h.claims[h.claims_size - 1], '}');
        }
}

/* Hostile variants of kinvolk's report: each must be refused, naming what is wrong. */
static void derived_refused(void **state)
{
        static const struct {
                const char *what;
                size_t offset; /* where a little-endian u32 is overwritten, or SIZE_MAX */
                uint32_t value;
                size_t size; /* the blob's length, 0: unchanged */
                const char *says;
        } cases[] = {
            {"signature", 0, 0x48434c41 /* "ALCH" */, 0, "HCLA"},
            {"request type", 0x0c, 1, 0, "request type"},
            {"report type 3", 0x4c8, 3, 0, "report type"},
            {"claims past the end", 0x4d0, 2048 - HCL_CLAIMS_OFFSET + 1, 0, "claims"},
            {"claims size huge", 0x4d0, 0xffffffff, 0, "claims"},
            {"data size disagrees", 0x4c0, 583 + 21, 0, "data size"},
            {"no claims", 0x4d0, 0, 0, "claims"},
            {"truncated header", SIZE_MAX, 0, HCL_CLAIMS_OFFSET - 1, "short"},
            {"truncated claims", SIZE_MAX, 0, HCL_CLAIMS_OFFSET + 582, "claims"},
            {"empty", SIZE_MAX, 0, 0, "short"},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ uint8_t *blob = NULL;
                struct hcl_report h = {};
                char err[256] = "";
                size_t size;

                blob = load("azure-snp/kinvolk-hcl-report-snp.bin", &size);
                if (cases[i].offset != SIZE_MAX)
                        put_le32(blob + cases[i].offset, cases[i].value);
                if (cases[i].offset == SIZE_MAX)
                        size = cases[i].size;
                if (hcl_parse(blob, size, &h, err, sizeof(err)) != -EBADMSG)
                        fail_msg("%s: accepted", cases[i].what);
                if (!strstr(err, cases[i].says))
                        fail_msg("%s: \"%s\" does not say %s", cases[i].what, err, cases[i].says);
        }
}

static int unhex(const char *s, uint8_t *ret, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (sscanf(s + 2 * i, "%2hhx", &ret[i]) != 1)
                        return -EINVAL;
        return 0;
}

static void user_data(void **state)
{
        /* trustee's v2 report carries this user-data (a SHA-384 and 16 zero bytes). */
        static const char v2[] = "982F5C6E45DF0ED3F10B6F60B02F0C8390E281300F3805E2279C16168CD6AE9A"
                                 "A398F647CAA2338748CD0FD9F5F819EF00000000000000000000000000000000";
        _cleanup_free_ uint8_t *blob = NULL, *old = NULL;
        uint8_t binding[HCL_BINDING_SIZE], zero[HCL_BINDING_SIZE] = {};
        struct hcl_report h = {}, o = {};
        char err[256];
        size_t size, old_size;

        (void) state;
        assert_int_equal(unhex(v2, binding, sizeof(binding)), 0);
        blob = load("azure-snp/trustee-ev-v2-hcl.bin", &size);
        assert_int_equal(hcl_parse(blob, size, &h, err, sizeof(err)), 0);
        assert_true(hcl_has_user_data(&h, binding));
        assert_false(hcl_has_user_data(&h, zero));
        binding[63] ^= 1;
        assert_false(hcl_has_user_data(&h, binding));
        binding[63] ^= 1;
        binding[0] ^= 0x80;
        assert_false(hcl_has_user_data(&h, binding));

        /* The 2023 report has no user-data at all: never fresh. */
        old = load("azure-snp/kinvolk-hcl-report-snp.bin", &old_size);
        assert_int_equal(hcl_parse(old, old_size, &o, err, sizeof(err)), 0);
        assert_false(hcl_has_user_data(&o, zero));

        /* Lower-case hex is not what the paravisor writes: the verifier would refuse it. */
        for (size_t i = 0; i < h.claims_size - 9; i++)
                if (memcmp(h.claims + i, "982F5C6E", 8) == 0)
                        memcpy((uint8_t *) h.claims + i, "982f5c6e", 8);
        binding[0] ^= 0x80;
        assert_false(hcl_has_user_data(&h, binding));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(real_blobs),
            cmocka_unit_test(derived_refused),
            cmocka_unit_test(user_data),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
