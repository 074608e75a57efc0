/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The attacker's log edit of issue 11 (reattest-after-cap): the firmware's TCG log with one more
 * event claiming the gate's cap, so that the replay of PCR 15 matches a capped TPM. Shared by
 * node-client (against swtpm) and the test root's helper (qemu/rootfs/unseal-again.c). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 of "nodegate: token released" (no NUL): what TPM2_PCR_Event put in PCR 15. */
static const uint8_t FORGE_CAP_RELEASED_SHA256[32] = {
    0x45, 0x35, 0xf9, 0x33, 0x3c, 0x95, 0x34, 0x17, 0x38, 0x39, 0x30, 0x1f, 0x08, 0x79, 0x44, 0x96,
    0x91, 0x39, 0x33, 0x8b, 0xa4, 0xb5, 0x6d, 0x51, 0xc9, 0x53, 0x63, 0xff, 0x59, 0xb3, 0x1f, 0x63};

#define FORGE_EV_IPL 0x0000000du

static inline uint32_t forge_le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static inline uint8_t *forge_put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                *p++ = (uint8_t) (v >> (8 * i));
        return p;
}

/* Appends a TCG_PCR_EVENT2 (pcr, EV_IPL, text) whose SHA-256 digest is sha256; the other banks
 * of the log's Spec ID event get zeros (the verifier replays SHA-256 alone, and so would an
 * attacker). @return 0 with a malloc'ed copy in ret, -EBADMSG when the log does not start with
 * a crypto-agile Spec ID event with a SHA-256 bank, -ENOMEM */
static inline int forge_append_event(const uint8_t *log, size_t size, unsigned pcr,
                                     const uint8_t sha256[32], const char *text, uint8_t **ret,
                                     size_t *ret_size)
{
        /* TCG_PCR_EVENT: pcr, type, SHA-1, size, then TCG_EfiSpecIDEvent. */
        uint32_t spec_size, n_algs, digests_size = 0;
        const uint8_t *spec;
        bool has_sha256 = false;
        size_t len = strlen(text), out_size;
        uint8_t *out, *p;

        if (size < 32)
                return -EBADMSG;
        spec_size = forge_le32(log + 28);
        spec = log + 32;
        if (spec_size < 28 || spec_size > size - 32 || memcmp(spec, "Spec ID Event03", 16) != 0)
                return -EBADMSG;
        n_algs = forge_le32(spec + 24);
        if (n_algs == 0 || n_algs > 16 || 28 + 4 * (size_t) n_algs > spec_size)
                return -EBADMSG;
        for (uint32_t i = 0; i < n_algs; i++) {
                const uint8_t *a = spec + 28 + 4 * i;
                uint16_t alg = (uint16_t) (a[0] | a[1] << 8), dsize = (uint16_t) (a[2] | a[3] << 8);

                if (alg == 0x000b && dsize == 32)
                        has_sha256 = true;
                digests_size += 2 + dsize;
        }
        if (!has_sha256)
                return -EBADMSG;

        out_size = size + 12 + digests_size + 4 + len;
        out = malloc(out_size);
        if (!out)
                return -ENOMEM;
        memcpy(out, log, size);
        p = forge_put32(out + size, pcr);
        p = forge_put32(p, FORGE_EV_IPL);
        p = forge_put32(p, n_algs);
        for (uint32_t i = 0; i < n_algs; i++) {
                const uint8_t *a = spec + 28 + 4 * i;
                uint16_t alg = (uint16_t) (a[0] | a[1] << 8), dsize = (uint16_t) (a[2] | a[3] << 8);

                *p++ = a[0];
                *p++ = a[1];
                if (alg == 0x000b)
                        memcpy(p, sha256, 32);
                else
                        memset(p, 0, dsize);
                p += dsize;
        }
        p = forge_put32(p, (uint32_t) len);
        memcpy(p, text, len);
        *ret = out;
        *ret_size = out_size;
        return 0;
}
