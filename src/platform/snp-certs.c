/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The evidence's memory, and the SNP certificate table of configfs-tsm's auxblob (the GHCB
 * extended guest request's layout), kept apart from the collectors so it is tested alone. */
#include "platform/evidence.h"
#include "util.h"

void platform_evidence_done(struct platform_evidence *e)
{
        if (!e)
                return;
        free(e->report);
        free(e->td_quote);
        for (size_t i = 0; i < e->n_certificates; i++)
                free(e->certificates[i]);
        *e = (struct platform_evidence){};
}

#define CERT_ENTRY_SIZE 24

/* EFI GUIDs as they lie in memory (first three fields little-endian): the VCEK's
 * 63da758d-e664-4564-adc5-f4b93be8accd and the VLEK's a8074bc2-a25a-483e-aae6-39c045a0b8a1. */
static const uint8_t guid_vcek[16] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t guid_vlek[16] = {0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

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
