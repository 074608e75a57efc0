/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TPM 2.0 structures as the TPM marshals them (Part 2, big-endian): parsed from the bytes the
 * node sent, and written for the blobs the node's TPM will read. No tpm2-tss here: the
 * verifier must not trust a re-encoding, and it runs where no TPM is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPMW_ALG_RSA       0x0001
#define TPMW_ALG_SHA1      0x0004
#define TPMW_ALG_HMAC      0x0005
#define TPMW_ALG_AES       0x0006
#define TPMW_ALG_KEYEDHASH 0x0008
#define TPMW_ALG_SHA256    0x000B
#define TPMW_ALG_SHA384    0x000C
#define TPMW_ALG_SHA512    0x000D
#define TPMW_ALG_NULL      0x0010
#define TPMW_ALG_RSASSA    0x0014
#define TPMW_ALG_RSAPSS    0x0016
#define TPMW_ALG_ECDSA     0x0018
#define TPMW_ALG_ECC       0x0023
#define TPMW_ALG_CFB       0x0043

#define TPMW_ECC_NIST_P256 0x0003
#define TPMW_ECC_NIST_P384 0x0004

#define TPMW_OA_FIXED_TPM             0x00000002u
#define TPMW_OA_FIXED_PARENT          0x00000010u
#define TPMW_OA_SENSITIVE_DATA_ORIGIN 0x00000020u
#define TPMW_OA_USER_WITH_AUTH        0x00000040u
#define TPMW_OA_ADMIN_WITH_POLICY     0x00000080u
#define TPMW_OA_NO_DA                 0x00000400u
#define TPMW_OA_RESTRICTED            0x00010000u
#define TPMW_OA_DECRYPT               0x00020000u
#define TPMW_OA_SIGN                  0x00040000u

#define TPMW_GENERATED_VALUE 0xff544347u
#define TPMW_ST_ATTEST_QUOTE 0x8018
#define TPMW_PCRS            24
#define TPMW_DIGEST_MAX      64
#define TPMW_RSA_MAX         512 /* bytes of modulus: RSA 4096, read to be refused */
#define TPMW_ECC_MAX         66  /* bytes of a P-521 coordinate */

/* A parsed TPM2B_PUBLIC (RSA, ECC or KEYEDHASH). */
struct tpm_public {
        uint16_t type;
        uint16_t name_alg;
        uint32_t attributes;
        uint8_t auth_policy[TPMW_DIGEST_MAX];
        size_t auth_policy_size;
        /* symmetric parameters of a storage (restricted decrypt) key; TPMW_ALG_NULL otherwise */
        uint16_t sym_alg, sym_bits, sym_mode;
        /* signing or decryption scheme and its hash; TPMW_ALG_NULL when none */
        uint16_t scheme, scheme_hash;
        uint16_t rsa_bits;
        uint32_t rsa_exponent; /* 0 in the area means 65537; stored here already as 65537 */
        uint8_t rsa_n[TPMW_RSA_MAX];
        size_t rsa_n_size;
        uint16_t curve, ecc_kdf;
        uint8_t ecc_x[TPMW_ECC_MAX], ecc_y[TPMW_ECC_MAX];
        size_t ecc_x_size, ecc_y_size;
        /* TPM name: nameAlg (2 bytes) || H_nameAlg(TPMT_PUBLIC bytes) */
        uint8_t name[2 + TPMW_DIGEST_MAX];
        size_t name_size;
};

/* A parsed TPMS_ATTEST of type quote, with the exact bytes that were signed. */
struct tpm_quote {
        uint32_t magic;
        uint16_t type;
        uint8_t extra_data[TPMW_DIGEST_MAX];
        size_t extra_data_size;
        uint64_t clock;
        uint32_t reset_count, restart_count;
        uint8_t safe;
        uint64_t firmware_version;
        uint16_t pcr_hash; /* the one bank quoted; nodegate quotes SHA-256 only */
        uint32_t pcr_mask; /* bit n = PCR n */
        uint8_t pcr_digest[TPMW_DIGEST_MAX];
        size_t pcr_digest_size;
        const uint8_t *signed_data; /* points into the caller's buffer: the TPMS_ATTEST bytes */
        size_t signed_size;
};

/* A parsed TPMT_SIGNATURE: ECDSA (r, s) or RSASSA/RSAPSS (sig). */
struct tpm_signature {
        uint16_t alg, hash;
        uint8_t r[TPMW_ECC_MAX], s[TPMW_ECC_MAX];
        size_t r_size, s_size;
        uint8_t sig[TPMW_RSA_MAX];
        size_t sig_size;
};

/* Output of the writers: a marshalled TPM2B_* with its size prefix. */
struct tpm_blob {
        uint8_t data[1024];
        size_t size;
};

/* Each parser takes the whole TPM2B (size prefix included), refuses trailing bytes, and
 * returns 0 or -EBADMSG (malformed) / -EOPNOTSUPP (well-formed but an algorithm or key size
 * nodegate does not take: RSA other than 2048, curves other than P-256/P-384). */
int tpm_public_parse(const uint8_t *buf, size_t size, struct tpm_public *ret);
int tpm_quote_parse(const uint8_t *buf, size_t size, struct tpm_quote *ret); /* TPM2B_ATTEST */
int tpm_signature_parse(const uint8_t *buf, size_t size, struct tpm_signature *ret);

/* Digest size of a TPM hash algorithm, 0 if unknown. */
size_t tpm_hash_size(uint16_t alg);

/* Bytes of one coordinate of a point on a curve nodegate takes (P-256, P-384), 0 for others. */
size_t tpm_ecc_coordinate_size(uint16_t curve);

/* TPM name of an object: nameAlg (2 bytes, big-endian) || H_nameAlg(tpmt_public), where
 * tpmt_public is the marshalled TPMT_PUBLIC (no size prefix). Writes ret only on success.
 * @return 0, -EOPNOTSUPP (unknown nameAlg) or -EIO */
int tpm_name_compute(uint16_t name_alg, const uint8_t *tpmt_public, size_t size,
                     uint8_t ret[static 2 + TPMW_DIGEST_MAX], size_t *ret_size);
