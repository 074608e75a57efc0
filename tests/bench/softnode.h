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

/* ---- SEV-SNP evidence (protocol version 3): a guest whose REPORT_DATA carries the binding ----
 * The VCEK and the chain above it are made once by tests/tools/snp-test-chain.py; only what
 * changes per attestation is done here: the binding and the signed report. */

#define SOFTNODE_SNP_REPORT_SIZE 1184

struct softnode_snp {
        EVP_PKEY *vcek; /* P-384: signs the reports */
        uint8_t measurement[48];
        uint8_t chip_id[64];
        uint64_t tcb; /* CURRENT, REPORTED, COMMITTED and LAUNCH TCB: the VCEK's SPLs */
};

/* DIR/vcek.key and DIR/snp-params as snp-test-chain.py writes them. @return 0, -EBADMSG for a
 * malformed file, or other negative errno */
int softnode_snp_load(const char *dir, struct softnode_snp *ret);
void softnode_snp_done(struct softnode_snp *s);

/* P = SHA-512("nodegate platform v3" || 0x00 || challenge || EK name || AK name), PROTOCOL.md
 * "The platform binding". @return 0, or -EINVAL for a challenge over 256 bytes */
int softnode_platform_binding(const struct softnode *n, const uint8_t *challenge,
                              size_t challenge_size, uint8_t ret[64]);

/* A version-3 ATTESTATION_REPORT of a Milan guest at VMPL 0 with REPORT_DATA = report_data,
 * signed by the VCEK (ECDSA P-384 over bytes 0x000-0x29F with SHA-384, r and s 72 bytes
 * little-endian each): the bytes snp-test-chain.py's snp_report() builds, up to the
 * signature's random nonce.
 * @return 0 or negative errno */
int softnode_snp_report(const struct softnode_snp *s, const uint8_t report_data[64],
                        uint8_t ret[SOFTNODE_SNP_REPORT_SIZE]);
