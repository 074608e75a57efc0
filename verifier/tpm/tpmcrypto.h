/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier's TPM cryptography in software (OpenSSL): quote signatures, the EK's public key,
 * TPM2_MakeCredential and the TPM2_Import blob of the sealed token (docs/PROTOCOL.md). */
#pragma once

#include "tpm/tpm2b.h"

#include <openssl/evp.h>

/* The OpenSSL digest of a TPM hash algorithm (SHA-1, SHA-256, SHA-384, SHA-512), fetched once
 * per process (thread-safe) so no hot path fetches. @return digest or NULL if unknown */
const EVP_MD *tpm_hash_md(uint16_t alg);

/* KDFa (TPM 2.0 Part 1 §11.4.10.2, SP800-108 counter mode with HMAC-hash_alg): bits/8 bytes
 * of HMAC(key, [i]₄ || label || 0x00 || context_u || context_v || [bits]₄), i = 1, 2, …
 * label is a C string; its NUL is part of the input, as the TPM's labels include it.
 * bits must be a positive multiple of 8, at most 8192. @return 0 or negative errno */
int tpm_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_size, const char *label,
             const uint8_t *context_u, size_t u_size, const uint8_t *context_v, size_t v_size,
             size_t bits, uint8_t *ret);

/* KDFe (Part 1 §11.4.10.3, SP800-56A concatenation KDF): bits/8 bytes of
 * H([i]₄ || z || label || 0x00 || party_u || party_v), i = 1, 2, … Same limits as tpm_kdfa.
 * @return 0 or negative errno */
int tpm_kdfe(uint16_t hash_alg, const uint8_t *z, size_t z_size, const char *label,
             const uint8_t *party_u, size_t u_size, const uint8_t *party_v, size_t v_size,
             size_t bits, uint8_t *ret);

/* The public key of a parsed RSA or ECC area as OpenSSL's key. @return key or NULL */
EVP_PKEY *tpm_public_to_pkey(const struct tpm_public *pub);

/* SHA-256 of the key's DER SubjectPublicKeyInfo: the EK allowlist's identifier.
 * @return 0 or negative errno */
int tpm_public_spki_sha256(const struct tpm_public *pub, uint8_t ret[32]);

/* Verifies sig over the quote's signed bytes with the AK. @return 0 when it verifies,
 * -EBADMSG when it does not (also: magic not TPM_GENERATED_VALUE, not a quote, a scheme other
 * than the AK's, an AK that is no valid key), -EOPNOTSUPP for a hash other than SHA-256, other
 * negative errno on failure to check */
int tpm_quote_verify(const struct tpm_public *ak, const struct tpm_quote *quote,
                     const struct tpm_signature *sig);

/* SHA-256 policy digest: PolicyPCR(SHA-256 bank, pcr_mask, pcr_digest) then
 * PolicyCounterTimer(resetCount == reset_count: offset 16 of TPMS_TIME_INFO) then
 * PolicyCounterTimer(restartCount == restart_count: offset 20), as a trial session computes it. The
 * TPML_PCR_SELECTION is marshalled with sizeofSelect = 3 (PCRs 0-23), as tpm2-tools and
 * ESAPI callers pass it: the node must use the same, the digest covers it.
 * @return 0, -EINVAL (a PCR above 23 or none) or -EIO */
int tpm_policy_pcr_boot(uint32_t pcr_mask, const uint8_t pcr_digest[32], uint32_t reset_count,
                        uint32_t restart_count, uint8_t ret[32]);

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
