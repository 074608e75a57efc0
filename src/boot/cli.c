/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Commands for people debugging a node: which libraries were linked in, and what the TPM is. */
#include <blkid/blkid.h>
#include <curl/curl.h>
#include <json-c/json_c_version.h>
#include <libdevmapper.h>
#include <mbedtls/version.h>
#include <stdio.h>

#include "boot/cli.h"
#include "attest/tpm.h"
#include "lib/log.h"
#include "platform/azure.h"
#include "platform/configfs-tsm.h"
#include "platform/evidence.h"
#include "platform/imds.h"
#include "util.h"

/* Set by the Makefile from pkg-config: these libraries have no run-time version call. */
#ifndef CRYPTSETUP_VERSION
#define CRYPTSETUP_VERSION "unknown"
#endif
#ifndef TSS2_VERSION
#define TSS2_VERSION "unknown"
#endif

static void print_help(void)
{
        printf("nodegate %s: the initramfs gate of a verified node.\n\n"
               "As /init (PID 1) of an initramfs it activates the dm-verity root named by\n"
               "roothash= on the kernel command line and mounts it at /sysroot, attests the\n"
               "boot with the TPM to the verifier at nodegate.url=, unseals the kubelet join\n"
               "token it receives, caps the PCR, writes /run/nodegate/bootstrap-kubelet.conf\n"
               "and switches root; on any failure it halts, powers off or reboots\n"
               "(nodegate.on_failure=) and never starts the root's init.\n"
               "Reference: docs/cmdline.md, docs/failures.md, docs/PROTOCOL.md.\n\n"
               "Run by hand:\n"
               "  --help              this text\n"
               "  --version           version and the statically linked library versions\n"
               "  --tpm-info [DEVICE] TPM manufacturer, firmware and allocated PCR banks\n"
               "                      (DEVICE defaults to /dev/tpmrm0, then /dev/tpm0)\n"
               "  --platform-evidence DEVICE CHALLENGE-HEX OUT\n"
               "                      detect the confidential-VM platform (TPM DEVICE,\n"
               "                      configfs-tsm), bind CHALLENGE-HEX, the EK and the AK as\n"
               "                      round 2 does (docs/PROTOCOL.md) and write the TEE report\n"
               "                      to OUT (docs/cvm.md); on Azure TDX the TD quote from\n"
               "                      the metadata service to OUT.td-quote\n"
               "  --cap-failed        before any shell in the initramfs: extend PCR 15 with\n"
               "                      \"nodegate: failed\" (TPM of nodegate.tpm=, else the\n"
               "                      default) and wipe /run/nodegate; exit 0 when capped or\n"
               "                      there is no TPM (docs/failures.md)\n",
               NODEGATE_VERSION);
}

static void print_version(void)
{
        const char *blkid_version = NULL;
        char dm_version[64] = "unknown", mbedtls_version[32];

        blkid_get_library_version(&blkid_version, NULL);
        (void) dm_get_library_version(dm_version, sizeof(dm_version));
        mbedtls_version_get_string(mbedtls_version);
        printf("nodegate %s\n", NODEGATE_VERSION);
        printf("statically linked: libcryptsetup %s, libdevmapper %s, libblkid %s, tpm2-tss %s, "
               "%s, json-c %s, mbedTLS %s\n",
               CRYPTSETUP_VERSION, dm_version, blkid_version ? blkid_version : "unknown",
               TSS2_VERSION, curl_version(), json_c_version(), mbedtls_version);
}

static int print_tpm_info(const char *device)
{
        struct tpm *t = NULL;
        struct tpm_info info;
        char err[TPM_ERROR_MAX];
        int r;

        r = tpm_open(device, &t, err, sizeof(err));
        if (r >= 0) {
                r = tpm_get_info(t, &info, err, sizeof(err));
                tpm_close(t);
        }
        if (r < 0) {
                fprintf(stderr, "nodegate: %s (%s)\n", err, strerror(-r));
                return EXIT_FAILURE;
        }
        printf("manufacturer: %s\nvendor: %s\nfirmware: 0x%08x\nspec revision: %u.%02u\n"
               "pcr banks:",
               info.manufacturer, info.vendor, info.firmware, info.spec_revision / 100,
               info.spec_revision % 100);
        for (unsigned i = 0; i < info.n_banks; i++)
                printf(" %s", info.banks[i]);
        printf("\n");
        return EXIT_SUCCESS;
}

static void print_hex(const char *what, const uint8_t *p, size_t n)
{
        printf("%s: ", what);
        for (size_t i = 0; i < n; i++)
                printf("%02x", p[i]);
        printf("\n");
}

static int parse_hex(const char *s, uint8_t *ret, size_t max, size_t *ret_size)
{
        size_t n = strlen(s);

        if (n == 0 || n % 2 || n / 2 > max)
                return -EINVAL;
        for (size_t i = 0; i < n / 2; i++)
                if (sscanf(s + 2 * i, "%2hhx", &ret[i]) != 1)
                        return -EINVAL;
        *ret_size = n / 2;
        return 0;
}

/* What round 2 collects, without a verifier: for operators checking a CVM, and for the
 * integration test against swtpm (tests/integration/test-platform.py). */
static int platform_evidence(const char *device, const char *challenge_hex, const char *out)
{
        _cleanup_(platform_evidence_done) struct platform_evidence ev = {};
        struct platform_probe probe = {.tsm_dir = TSM_REPORT_DIR};
        uint8_t challenge[256], binding[PLATFORM_BINDING_SIZE];
        struct tpm_blob ak = {};
        struct tpm_ek ek = {};
        struct tpm *t = NULL;
        enum failure failure = FAILURE_PLATFORM_EVIDENCE;
        enum platform p;
        bool azure = false;
        size_t challenge_size = 0;
        char err[512];
        FILE *f;
        int r;

        if (parse_hex(challenge_hex, challenge, sizeof(challenge), &challenge_size) < 0) {
                fprintf(stderr, "nodegate: CHALLENGE-HEX must be 1-256 bytes of hex\n");
                return EXIT_FAILURE;
        }
        r = tpm_open(device, &t, err, sizeof(err));
        if (r >= 0) {
                probe.tpm = t;
                p = platform_detect(PLATFORM_SETTING_AUTO, &probe);
                printf("platform: %s (%s)\n", platform_to_string(p), probe.detail);
                azure = p == PLATFORM_AZURE_SNP || p == PLATFORM_AZURE_TDX;
                r = tpm_create_ek(t, azure ? TPM_EK_RSA_2048 : TPM_EK_AUTO, &ek, err, sizeof(err));
        }
        if (r >= 0)
                r = azure ? tpm_use_persistent_ak(t, AZURE_HCL_AK, &ak, err, sizeof(err))
                          : tpm_create_ak(t, &ak, err, sizeof(err));
        if (r >= 0)
                r = platform_binding(challenge, challenge_size, ek.public.data, ek.public.size,
                                     ak.data, ak.size, binding);
        if (r >= 0) {
                print_hex("ek_public", ek.public.data, ek.public.size);
                print_hex("ak_public", ak.data, ak.size);
                print_hex("binding", binding, sizeof(binding));
                r = platform_collect(p, t, probe.tsm_dir, binding, 3000000U,
                                     now_usec() + IMDS_TIMEOUT_USEC, &ev, &failure, err,
                                     sizeof(err));
        }
        tpm_ek_done(&ek);
        tpm_close(t);
        if (r < 0) {
                fprintf(stderr, "nodegate: %s: %s (%s)\n", failure_name(failure), err,
                        strerror(-r));
                return EXIT_FAILURE;
        }
        if (!ev.kind) {
                printf("evidence: none\n");
                return EXIT_SUCCESS;
        }
        f = fopen(out, "we");
        if (!f || fwrite(ev.report, 1, ev.report_size, f) != ev.report_size || fclose(f) != 0) {
                fprintf(stderr, "nodegate: cannot write %s: %m\n", out);
                return EXIT_FAILURE;
        }
        printf("evidence: %s, %zu bytes%s%s\n", ev.kind, ev.report_size,
               ev.fresh ? ", carries the binding" : ", does NOT carry the binding",
               ev.n_certificates ? ", with the VCEK/VLEK" : "");
        if (ev.chunk)
                printf("nv chunk: %zu bytes\n", ev.chunk);
        if (ev.td_quote) {
                _cleanup_free_ char *quote_path = NULL;

                /* Beside OUT, as OUT.td-quote: the two files round 2 would send. */
                if (asprintf(&quote_path, "%s.td-quote", out) < 0)
                        return EXIT_FAILURE;
                f = fopen(quote_path, "we");
                if (!f || fwrite(ev.td_quote, 1, ev.td_quote_size, f) != ev.td_quote_size ||
                    fclose(f) != 0) {
                        fprintf(stderr, "nodegate: cannot write %s: %m\n", quote_path);
                        return EXIT_FAILURE;
                }
                printf("td quote: %zu bytes from IMDS, in %s\n", ev.td_quote_size, quote_path);
        }
        return EXIT_SUCCESS;
}

int cli_main(int argc, char **argv)
{
        if (argc == 2 && streq(argv[1], "--version")) {
                print_version();
                return EXIT_SUCCESS;
        }
        if (argc == 2 && streq(argv[1], "--help")) {
                print_help();
                return EXIT_SUCCESS;
        }
        if ((argc == 2 || argc == 3) && streq(argv[1], "--tpm-info"))
                return print_tpm_info(argc == 3 ? argv[2] : NULL);
        if (argc == 5 && streq(argv[1], "--platform-evidence"))
                return platform_evidence(argv[2], argv[3], argv[4]);
        fprintf(stderr, "nodegate: runs as /init (PID 1) of an initramfs; see --help\n");
        return EXIT_FAILURE;
}
