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
        fprintf(stderr, "nodegate: runs as /init (PID 1) of an initramfs; see --help\n");
        return EXIT_FAILURE;
}
