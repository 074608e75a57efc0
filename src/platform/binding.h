/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The platform binding of protocol version 3 (docs/PROTOCOL.md, "The platform binding"):
 * P = SHA-512("nodegate platform v3" || 0x00 || challenge || EK name || AK name). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PLATFORM_BINDING_SIZE  64
#define PLATFORM_BINDING_LABEL "nodegate platform v3"

/* The TPM name (nameAlg || H(TPMT_PUBLIC)) of a marshalled TPM2B_PUBLIC, nameAlg SHA-256,
 * SHA-384 or SHA-512. @return the name's length, or -EBADMSG */
int platform_tpm_name(const uint8_t *public, size_t size, uint8_t ret[2 + 64]);

/* P of challenge (challenge_size bytes as received) and the marshalled TPM2B_PUBLICs of the EK
 * and the AK the request carries. @return 0, or -EBADMSG for a public area without a name */
int platform_binding(const uint8_t *challenge, size_t challenge_size, const uint8_t *ek_public,
                     size_t ek_size, const uint8_t *ak_public, size_t ak_size,
                     uint8_t ret[PLATFORM_BINDING_SIZE]);
