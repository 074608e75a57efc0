/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One call for round 2: which collector, and the evidence in the protocol's shape. */
#include <stdio.h>

#include "attest/tpm.h"
#include "platform/azure.h"
#include "platform/configfs-tsm.h"
#include "platform/evidence.h"
#include "util.h"

#define CERT_ENTRY_SIZE 24

/* EFI GUIDs as they lie in memory (first three fields little-endian): the VCEK's
 * 63da758d-e664-4564-adc5-f4b93be8accd and the VLEK's a8074bc2-a25a-483e-aae6-39c045a0b8a1. */
static const uint8_t guid_vcek[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t guid_vlek[16] = {0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

void platform_evidence_done(struct platform_evidence *e)
{
        if (!e)
                return;
        free(e->report);
        for (size_t i = 0; i < e->n_certificates; i++)
                free(e->certificates[i]);
        *e = (struct platform_evidence){};
}

bool platform_has_evidence(enum platform p)
{
        return p == PLATFORM_AZURE_SNP || p == PLATFORM_SNP;
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

void platform_snp_certificates(const uint8_t *table, size_t size, struct platform_evidence *e)
{
        static const uint8_t zero[CERT_ENTRY_SIZE] = {};

        for (size_t at = 0; at + CERT_ENTRY_SIZE <= size; at += CERT_ENTRY_SIZE) {
                const uint8_t *entry = table + at;
                uint32_t offset = le32(entry + 16), length = le32(entry + 20);
                uint8_t *copy;

                if (memcmp(entry, zero, sizeof(zero)) == 0)
                        return;
                if (memcmp(entry, guid_vcek, 16) != 0 && memcmp(entry, guid_vlek, 16) != 0)
                        continue;
                if (length == 0 || length > PLATFORM_CERT_MAX || offset > size ||
                    length > size - offset || e->n_certificates >= PLATFORM_CERTS_MAX)
                        continue;
                copy = malloc(length);
                if (!copy)
                        return;
                memcpy(copy, table + offset, length);
                e->certificates[e->n_certificates] = copy;
                e->certificate_sizes[e->n_certificates++] = length;
        }
}

static int collect_azure(struct tpm *t, const uint8_t binding[PLATFORM_BINDING_SIZE],
                         uint64_t wait_usec, struct platform_evidence *ret, char *errbuf,
                         size_t errlen)
{
        struct azure_evidence a = {};
        int r;

        r = azure_collect(t, binding, wait_usec, &a, errbuf, errlen);
        if (r < 0)
                return r;
        if (a.report_type != HCL_REPORT_SNP) {
                snprintf(errbuf, errlen,
                         "the HCL report holds a TDX report (type %u): Azure TDX has no "
                         "protocol kind yet",
                         a.report_type);
                azure_evidence_done(&a);
                return -EOPNOTSUPP;
        }
        *ret = (struct platform_evidence){
            .kind = PLATFORM_KIND_AZURE,
            .report = a.report,
            .report_size = a.size,
            .fresh = a.fresh,
            .chunk = a.chunk,
        };
        return 0;
}

static int collect_snp(const char *tsm_dir, const uint8_t binding[PLATFORM_BINDING_SIZE],
                       struct platform_evidence *ret, char *errbuf, size_t errlen)
{
        _cleanup_(tsm_evidence_done) struct tsm_evidence t = {};
        int r;

        r = tsm_report(tsm_dir, binding, &t, errbuf, errlen);
        if (r < 0)
                return r;
        /* A TDX quote sent as an SNP report would only be refused later, less clearly. */
        if (!streq(t.provider, "sev_guest")) {
                snprintf(errbuf, errlen, "configfs-tsm's provider is %s, not sev_guest",
                         t.provider);
                return -EPROTO;
        }
        *ret = (struct platform_evidence){
            .kind = PLATFORM_KIND_SNP,
            .report = TAKE_PTR(t.outblob),
            .report_size = t.outblob_size,
            .fresh = true,
        };
        if (t.auxblob)
                platform_snp_certificates(t.auxblob, t.auxblob_size, ret);
        return 0;
}

int platform_collect(enum platform p, struct tpm *t, const char *tsm_dir,
                     const uint8_t binding[PLATFORM_BINDING_SIZE], uint64_t wait_usec,
                     struct platform_evidence *ret, char *errbuf, size_t errlen)
{
        *ret = (struct platform_evidence){};
        switch (p) {
        case PLATFORM_AZURE_SNP:
                return collect_azure(t, binding, wait_usec, ret, errbuf, errlen);
        case PLATFORM_SNP:
                return collect_snp(tsm_dir ? tsm_dir : TSM_REPORT_DIR, binding, ret, errbuf,
                                   errlen);
        default:
                return 0;
        }
}
