/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The stateless challenge of docs/PROTOCOL.md: 98 bytes, HMAC-authenticated, expiring, bound
 * to the EK and AK names; the credential secret and quote nonce derived from it; the keys. */
#pragma once

#include "appraisal/verdict.h"

#include <stddef.h>
#include <stdint.h>

#define CHALLENGE_SIZE       98
#define CHALLENGE_VERSION    1
#define CHALLENGE_SECRET_MIN 32
#define CHALLENGE_SECRET_MAX 4096

/* How round 1 trusted the EK, carried in byte 65. */
enum ek_trust_kind {
        EK_TRUST_CHAIN = 1,     /* certificate chain to a configured CA */
        EK_TRUST_ALLOWLIST = 2, /* SPKI hash on the allowlist */
        EK_TRUST_PLATFORM = 3,  /* neither: admitted for the platform evidence of round 2 to
                                 * vouch for (policy platform.tpm_trust tee or none) */
};

/* Both keys from the shared secret: HMAC-SHA-256(secret, "nodegate challenge v1") and
 * HMAC-SHA-256(secret, "nodegate credential v1"). @return 0 or -EINVAL (short secret) */
int challenge_derive_keys(const uint8_t *secret, size_t size, uint8_t ret_challenge_key[32],
                          uint8_t ret_credential_key[32]);

/* The key tokens are derived with (docs/PROTOCOL.md, "One token per boot"):
 * HMAC-SHA-256(secret, "nodegate token v2"). @return 0, -EINVAL (short secret) or -EIO */
int challenge_derive_token_key(const uint8_t *secret, size_t size, uint8_t ret[32]);

/* Reads the shared secret file (the whole file, as is: 32..4096 bytes) and derives both keys,
 * and the token key when ret_token_key is not NULL.
 * The file must be a regular file that neither group nor others may access: a key others can
 * read lets them mint challenges. Every copy of the secret is wiped.
 * @return 0, or negative errno with a one-line reason in err: -ENOENT (missing), -EPERM (group
 * or other access), -EINVAL (not a regular file, shorter than 32 or longer than 4096 bytes) */
int challenge_load_secret(const char *path, uint8_t ret_challenge_key[32],
                          uint8_t ret_credential_key[32], uint8_t ret_token_key[32], char *err,
                          size_t errlen);

/* SHA-256(EK name || AK name). */
void challenge_binding(const uint8_t *ek_name, size_t ek_name_size, const uint8_t *ak_name,
                       size_t ak_name_size, uint8_t ret[32]);

/* A new challenge issued at now, valid for lifetime seconds. @return 0 or -EIO (no random) */
int challenge_issue(const uint8_t key[32], uint64_t now, unsigned lifetime,
                    const uint8_t binding[32], enum ek_trust_kind trust,
                    uint8_t ret[CHALLENGE_SIZE]);

/* Checks, in the order of docs/PROTOCOL.md: length, MAC (constant time), version and trust
 * byte, expiry against now, binding.
 * @return REASON_OK and the EK's trust kind in *ret_trust (may be NULL), or
 * REASON_CHALLENGE_INVALID / _EXPIRED / _BINDING with v filled */
enum reason challenge_verify(const uint8_t key[32], const uint8_t *challenge, size_t size,
                             uint64_t now, const uint8_t binding[32], enum ek_trust_kind *ret_trust,
                             struct verdict *v);

/* The credential secret: HMAC-SHA-256(credential key, challenge). Wipe it after use. */
void challenge_credential(const uint8_t credential_key[32], const uint8_t challenge[CHALLENGE_SIZE],
                          uint8_t ret[32]);

/* The quote's qualifyingData: SHA-256(challenge). */
void challenge_qualifying_data(const uint8_t challenge[CHALLENGE_SIZE], uint8_t ret[32]);

/* The expires_at field of a (verified or just issued) challenge. */
uint64_t challenge_expires_at(const uint8_t challenge[CHALLENGE_SIZE]);
