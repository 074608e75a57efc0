/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TPM through tpm2-tss ESAPI over the kernel's device TCTI. Every TSS2_RC becomes a
 * negative errno here, with the library's decoded text kept for the caller's message. */
#pragma once

#include <stdint.h>

#define TPM_ERROR_MAX 256
#define TPM_BANKS_MAX 8

struct tpm;

struct tpm_info {
        char manufacturer[5];   /* four ASCII characters, e.g. "IBM " for swtpm */
        char vendor[17];        /* TPM2_PT_VENDOR_STRING_1..4 */
        uint32_t firmware;      /* TPM2_PT_FIRMWARE_VERSION_1: vendor-defined, shown in hex */
        uint32_t spec_revision; /* TPM2_PT_REVISION: 138 means 1.38 */
        unsigned n_banks;       /* PCR banks with at least one PCR allocated */
        const char *banks[TPM_BANKS_MAX];
};

/* Opens device (NULL: /dev/tpmrm0, then /dev/tpm0).
 * @return 0 on success, -ENOENT when there is no TPM device, other negative errno; a message
 *         naming the device and the TSS error goes to errbuf */
int tpm_open(const char *device, struct tpm **ret, char *errbuf, size_t errlen);
void tpm_close(struct tpm *t);

/* @return 0 on success or negative errno (message in errbuf) */
int tpm_get_info(struct tpm *t, struct tpm_info *ret, char *errbuf, size_t errlen);
