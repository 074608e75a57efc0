/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier's TPM cryptography in software (OpenSSL): quote signatures, the EK's public key,
 * TPM2_MakeCredential and the TPM2_Import blob of the sealed token (docs/PROTOCOL.md). */
#pragma once

#include "tpm2b.h"

#include <openssl/evp.h>

/* The public key of a parsed RSA or ECC area as OpenSSL's key. @return key or NULL */
EVP_PKEY *tpm_public_to_pkey(const struct tpm_public *pub);

/* SHA-256 of the key's DER SubjectPublicKeyInfo: the EK allowlist's identifier.
 * @return 0 or negative errno */
int tpm_public_spki_sha256(const struct tpm_public *pub, uint8_t ret[32]);

/* Verifies sig over the quote's signed bytes with the AK. @return 0 when it verifies,
 * -EBADMSG when it does not, other negative errno on failure to check */
int tpm_quote_verify(const struct tpm_public *ak, const struct tpm_quote *quote,
                     const struct tpm_signature *sig);

/* SHA-256 policy digest: PolicyPCR(SHA-256 bank, pcr_mask, pcr_digest) then
 * PolicyCounterTimer(resetCount == reset_count). */
void tpm_policy_pcr_reset_count(uint32_t pcr_mask, const uint8_t pcr_digest[32],
                                uint32_t reset_count, uint8_t ret[32]);

/* TPM2_MakeCredential to ek for the object named ak_name. @return 0 or negative errno */
int tpm_make_credential(const struct tpm_public *ek, const uint8_t *ak_name, size_t ak_name_size,
                        const uint8_t *secret, size_t secret_size, struct tpm_blob *ret_id_object,
                        struct tpm_blob *ret_encrypted_secret);

struct tpm_sealed {
        struct tpm_blob public;         /* TPM2B_PUBLIC of the sealed data object */
        struct tpm_blob duplicate;      /* TPM2B_PRIVATE, outer wrapper only */
        struct tpm_blob encrypted_seed; /* TPM2B_ENCRYPTED_SECRET */
};

/* Seals data (≤ 128 bytes) in a KEYEDHASH object whose authPolicy is policy_digest, wrapped
 * for TPM2_Import under ek. Every intermediate secret is wiped before returning.
 * @return 0 or negative errno */
int tpm_seal_for_import(const struct tpm_public *ek, const uint8_t *data, size_t data_size,
                        const uint8_t policy_digest[32], struct tpm_sealed *ret);
