/* SPDX-License-Identifier: GPL-2.0-or-later */
/* platform_detect() without a TPM: the override, and configfs-tsm roots that exist or not.
 * Azure detection (NV 0x01400001) runs against swtpm in tests/integration/test-platform.py. */

#include <dirent.h>

#include "fixture.h"
#include "attest/tpm.h"
#include "platform/detect.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* No TPM in this test: every probe has tpm = NULL, so this is never called. */
int tpm_nv_size(struct tpm *t, uint32_t nv_index, size_t *ret_size, char *errbuf, size_t errlen)
{
        (void) t;
        (void) nv_index;
        (void) ret_size;
        (void) errbuf;
        (void) errlen;
        fail_msg("tpm_nv_size() called without a TPM");
        return -ENOSYS;
}

int tpm_nv_read(struct tpm *t, uint32_t nv_index, size_t max, bool owner_first, uint8_t **ret,
                size_t *ret_size, size_t *ret_chunk, char *errbuf, size_t errlen)
{
        (void) t;
        (void) nv_index;
        (void) max;
        (void) owner_first;
        (void) ret;
        (void) ret_size;
        (void) ret_chunk;
        (void) errbuf;
        (void) errlen;
        fail_msg("tpm_nv_read() called without a TPM");
        return -ENOSYS;
}

static void override(void **state)
{
        struct platform_probe p = {.tsm_dir = "/nonexistent/tsm/report"};

        (void) state;
        assert_int_equal(platform_detect(PLATFORM_SETTING_NONE, &p), PLATFORM_NONE);
        assert_int_equal(platform_detect(PLATFORM_SETTING_AZURE_SNP, &p), PLATFORM_AZURE_SNP);
        assert_non_null(strstr(p.detail, "nodegate.platform="));
        assert_int_equal(platform_detect(PLATFORM_SETTING_SNP, &p), PLATFORM_SNP);
        assert_int_equal(platform_detect(PLATFORM_SETTING_TDX, &p), PLATFORM_TDX);
        assert_int_equal(platform_detect(PLATFORM_SETTING_AZURE_TDX, &p), PLATFORM_AZURE_TDX);
        assert_string_equal(platform_to_string(PLATFORM_AZURE_SNP), "azure-snp");
        assert_string_equal(platform_to_string(PLATFORM_SNP), "snp");
        assert_string_equal(platform_to_string(PLATFORM_TDX), "tdx");
        assert_string_equal(platform_to_string(PLATFORM_AZURE_TDX), "azure-tdx");
        assert_string_equal(platform_to_string(PLATFORM_NONE), "none");
        assert_int_equal(platform_setting_from_string("auto"), PLATFORM_SETTING_AUTO);
        assert_int_equal(platform_setting_from_string("azure-snp"), PLATFORM_SETTING_AZURE_SNP);
        assert_int_equal(platform_setting_from_string("tdx"), PLATFORM_SETTING_TDX);
        assert_int_equal(platform_setting_from_string("azure-tdx"), PLATFORM_SETTING_AZURE_TDX);
        assert_int_equal(platform_setting_from_string("azure"), -EINVAL);
        assert_int_equal(platform_setting_from_string(""), -EINVAL);
}

/* No configfs-tsm (Linux < 6.7, or not a guest): none, and the detail says why. */
static void auto_nothing(void **state)
{
        struct platform_probe p = {.tsm_dir = "/nonexistent/tsm/report"};

        (void) state;
        assert_int_equal(platform_detect(PLATFORM_SETTING_AUTO, &p), PLATFORM_NONE);
        assert_non_null(strstr(p.detail, "configfs-tsm"));
}

/* configfs-tsm is there but no TEE driver is bound: a plain directory's entry has no provider.
 * The probe's entry is removed again. */
static void auto_no_provider(void **state)
{
        struct fixture_dir d;
        struct platform_probe p = {};
        DIR *dir;
        struct dirent *de;
        int entries = 0;

        (void) state;
        assert_int_equal(fixture_dir_make(&d), 0);
        p.tsm_dir = d.path;
        assert_int_equal(platform_detect(PLATFORM_SETTING_AUTO, &p), PLATFORM_NONE);
        assert_non_null(strstr(p.detail, "provider"));
        dir = opendir(d.path);
        assert_non_null(dir);
        while ((de = readdir(dir)))
                entries += de->d_name[0] != '.';
        closedir(dir);
        assert_int_equal(entries, 0);
        fixture_dir_remove(&d);
}

static void providers(void **state)
{
        (void) state;
        assert_int_equal(platform_from_provider("sev_guest"), PLATFORM_SNP);
        assert_int_equal(platform_from_provider("tdx_guest"), PLATFORM_TDX);
        assert_int_equal(platform_from_provider("arm_cca_guest"), PLATFORM_NONE);
        assert_int_equal(platform_from_provider(""), PLATFORM_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(override),
            cmocka_unit_test(auto_nothing),
            cmocka_unit_test(auto_no_provider),
            cmocka_unit_test(providers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
