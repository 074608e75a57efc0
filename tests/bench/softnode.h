/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A node without a TPM, for the load generator: an ECC P-256 EK (TCG L-2 template) and AK in
 * software, TPM2_ActivateCredential's inverse of MakeCredential, and a signed TPM2_Quote. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SOFTNODE_NAME_SIZE 34 /* nameAlg SHA-256 (2 bytes) + digest */

struct softnode {
        EVP_PKEY *ek, *ak;
        uint8_t ek_public[256]; /* TPM2B_PUBLIC, size prefix included */
        size_t ek_public_size;
        uint8_t ak_public[256];
        size_t ak_public_size;
        uint8_t ek_name[SOFTNODE_NAME_SIZE], ak_name[SOFTNODE_NAME_SIZE];
        uint8_t ek_x[32];
        uint8_t ek_spki_sha256[32]; /* the EK allowlist's identifier */
};

/* A fresh EK and AK. @return 0 or negative errno */
int softnode_generate(struct softnode *ret);
/* Both private keys, EK then AK, as PEM: a file of nodes is these pairs one after the other.
 * @return 0 or negative errno; load returns -ENODATA at the end of the file */
int softnode_save(const struct softnode *n, FILE *f);
int softnode_load(FILE *f, struct softnode *ret);
void softnode_done(struct softnode *n);

/* TPM2_ActivateCredential with this EK for the AK: recovers the secret MakeCredential wrapped
 * in id_object (TPM2B_ID_OBJECT) and encrypted_secret (TPM2B_ENCRYPTED_SECRET, an ECC point).
 * @return 0, -EBADMSG when a structure is malformed or the integrity HMAC does not match, or
 * other negative errno */
int softnode_activate_credential(const struct softnode *n, const uint8_t *id_object,
                                 size_t id_object_size, const uint8_t *encrypted_secret,
                                 size_t encrypted_secret_size, uint8_t ret_secret[64],
                                 size_t *ret_secret_size);

struct softnode_quote {
        uint8_t attest[256]; /* TPM2B_ATTEST, size prefix included */
        size_t attest_size;
        uint8_t signature[128]; /* TPMT_SIGNATURE (ECDSA, SHA-256) */
        size_t signature_size;
};

/* TPM2_Quote by the AK over the SHA-256 PCRs in pcr_mask whose values hash to pcr_digest, with
 * qualifyingData = SHA-256(challenge). @return 0 or negative errno */
int softnode_quote(const struct softnode *n, const uint8_t *challenge, size_t challenge_size,
                   uint32_t pcr_mask, const uint8_t pcr_digest[32], uint64_t clock,
                   uint32_t reset_count, struct softnode_quote *ret);

/* KDFa (TPM 2.0 Part 1, 11.4.10.2) with SHA-256, for bits ≤ 512. */
int softnode_kdfa(const uint8_t *key, size_t key_size, const char *label, const uint8_t *u,
                  size_t u_size, const uint8_t *v, size_t v_size, unsigned bits, uint8_t *ret);
