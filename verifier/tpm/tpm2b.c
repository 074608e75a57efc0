/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for the TPM structures a node sends (TPM2B_PUBLIC, TPM2B_ATTEST of a quote,
 * TPMT_SIGNATURE) and TPM names. Every length is checked against what is left. */
#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"
#include "util.h"

#include <openssl/evp.h>

#define TPMW_ALG_RSAES          0x0015
#define TPMW_ALG_OAEP           0x0017
#define TPMW_ALG_ECDH           0x0019
#define TPMW_ALG_ECDAA          0x001A
#define TPMW_ALG_SM2            0x001B
#define TPMW_ALG_ECSCHNORR      0x001C
#define TPMW_ALG_XOR            0x000A
#define TPMW_ALG_MGF1           0x0007
#define TPMW_ALG_KDF1_SP800_56A 0x0020
#define TPMW_ALG_KDF2           0x0021
#define TPMW_ALG_KDF1_SP800_108 0x0022
#define TPMW_NAME_MAX           (2 + TPMW_DIGEST_MAX) /* sizeof(TPMU_NAME) */
#define TPMW_HASH_COUNT_MAX     16                    /* far above any TPM's number of banks */
#define TPMW_PCR_SELECT_MAX     4 /* 32 PCRs; nodegate's mask holds TPMW_PCRS of them */

/* A cursor over untrusted bytes. A read past the end, or a value that breaks the format, marks
 * it bad and yields zeros from then on, so a parser checks `bad` once at the end — and before
 * any decision that would otherwise turn a truncation into "unsupported". */
struct reader {
        const uint8_t *p;
        size_t left;
        bool bad;
        bool unsupported; /* well-formed so far, but a value nodegate does not take */
};

static const uint8_t *rd_bytes(struct reader *r, size_t n)
{
        const uint8_t *p;

        if (r->bad || n > r->left) {
                r->bad = true;
                return NULL;
        }
        p = r->p;
        r->p += n;
        r->left -= n;
        return p;
}

static uint64_t rd_be(struct reader *r, size_t n)
{
        const uint8_t *p = rd_bytes(r, n);
        uint64_t v = 0;

        if (!p)
                return 0;
        for (size_t i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

static uint8_t rd_u8(struct reader *r)
{
        return (uint8_t) rd_be(r, 1);
}

static uint16_t rd_u16(struct reader *r)
{
        return (uint16_t) rd_be(r, 2);
}

static uint32_t rd_u32(struct reader *r)
{
        return (uint32_t) rd_be(r, 4);
}

static uint64_t rd_u64(struct reader *r)
{
        return rd_be(r, 8);
}

/* A TPM2B of at most max bytes, copied to dst (which holds max bytes; NULL to skip it).
 * @return the payload size, 0 when bad */
static size_t rd_tpm2b(struct reader *r, uint8_t *dst, size_t max)
{
        size_t n = rd_u16(r);
        const uint8_t *p;

        if (n > max) {
                r->bad = true;
                return 0;
        }
        p = rd_bytes(r, n);
        if (!p)
                return 0;
        if (dst && n > 0)
                memcpy(dst, p, n);
        return n;
}

/* The size prefix of a whole TPM2B: it must cover exactly the rest of the buffer. */
static bool rd_tpm2b_header(struct reader *r)
{
        size_t n = rd_u16(r);

        return !r->bad && n == r->left && n > 0;
}

/* The error of a parse that cannot go on: malformed wins over unsupported, because an
 * unsupported value read from a truncated buffer is a zero the reader made up. */
static int rd_stop(const struct reader *r, int error)
{
        return r->bad ? -EBADMSG : error;
}

/* The error of a parse that reached its end, or 0. */
static int rd_finish(const struct reader *r)
{
        if (r->bad || r->left != 0)
                return -EBADMSG;
        return r->unsupported ? -EOPNOTSUPP : 0;
}

size_t tpm_hash_size(uint16_t alg)
{
        switch (alg) {
        case TPMW_ALG_SHA1:
                return 20;
        case TPMW_ALG_SHA256:
                return 32;
        case TPMW_ALG_SHA384:
                return 48;
        case TPMW_ALG_SHA512:
                return 64;
        }
        return 0;
}

/* A hash algorithm field: unknown ones are well-formed but not nodegate's. */
static uint16_t rd_hash_alg(struct reader *r)
{
        uint16_t alg = rd_u16(r);

        if (tpm_hash_size(alg) == 0)
                r->unsupported = true;
        return alg;
}

/* TPMT_SYM_DEF_OBJECT: NULL, or AES with a key size and CFB mode (the only symmetric
 * definition a parent can have; TPM 2.0 Part 2 §11.1.7). */
static int rd_sym_def_object(struct reader *r, struct tpm_public *pub)
{
        pub->sym_alg = rd_u16(r);
        pub->sym_bits = pub->sym_mode = 0;
        if (pub->sym_alg == TPMW_ALG_NULL)
                return 0;
        if (pub->sym_alg != TPMW_ALG_AES)
                return rd_stop(r, -EOPNOTSUPP); /* SM4, Camellia: same layout, but not ours */
        pub->sym_bits = rd_u16(r);
        pub->sym_mode = rd_u16(r);
        if ((pub->sym_bits != 128 && pub->sym_bits != 256) || pub->sym_mode != TPMW_ALG_CFB)
                r->unsupported = true;
        return 0;
}

/* TPMT_RSA_SCHEME or TPMT_ECC_SCHEME. Every scheme nodegate knows carries a hash algorithm;
 * ECDAA adds a counter. */
static int rd_asym_scheme(struct reader *r, struct tpm_public *pub)
{
        pub->scheme = rd_u16(r);
        pub->scheme_hash = TPMW_ALG_NULL;
        switch (pub->scheme) {
        case TPMW_ALG_NULL:
        case TPMW_ALG_RSAES: /* TPMS_EMPTY */
                return 0;
        case TPMW_ALG_RSASSA:
        case TPMW_ALG_RSAPSS:
        case TPMW_ALG_OAEP:
                if (pub->type != TPMW_ALG_RSA)
                        return rd_stop(r, -EBADMSG);
                break;
        case TPMW_ALG_ECDSA:
        case TPMW_ALG_ECDH:
        case TPMW_ALG_SM2:
        case TPMW_ALG_ECSCHNORR:
        case TPMW_ALG_ECDAA:
                if (pub->type != TPMW_ALG_ECC)
                        return rd_stop(r, -EBADMSG);
                break;
        default:
                return rd_stop(r, -EOPNOTSUPP);
        }
        pub->scheme_hash = rd_hash_alg(r);
        if (pub->scheme == TPMW_ALG_ECDAA)
                (void) rd_u16(r);
        if (pub->scheme == TPMW_ALG_SM2 || pub->scheme == TPMW_ALG_ECSCHNORR ||
            pub->scheme == TPMW_ALG_ECDAA)
                r->unsupported = true;
        return 0;
}

/* What TPMS_RSA_PARMS and TPMS_ECC_PARMS begin with: the symmetric definition, the scheme. */
static int rd_asym_parms(struct reader *r, struct tpm_public *pub)
{
        int ret = rd_sym_def_object(r, pub);

        return ret < 0 ? ret : rd_asym_scheme(r, pub);
}

static int rd_rsa(struct reader *r, struct tpm_public *pub)
{
        int ret;

        ret = rd_asym_parms(r, pub);
        if (ret < 0)
                return ret;
        pub->rsa_bits = rd_u16(r);
        pub->rsa_exponent = rd_u32(r);
        if (pub->rsa_exponent == 0)
                pub->rsa_exponent = 65537;
        pub->rsa_n_size = rd_tpm2b(r, pub->rsa_n, sizeof(pub->rsa_n));
        /* 3072 and 4096 are well-formed (their modulus must still fit keyBits), but no EK or
         * AK nodegate takes is: refused here, before anything hashes or encodes the key. */
        if (pub->rsa_bits != 2048 && pub->rsa_bits != 3072 && pub->rsa_bits != 4096)
                r->unsupported = true;
        else if (pub->rsa_n_size != pub->rsa_bits / 8u)
                r->bad = true; /* a public key's modulus has exactly keyBits */
        else if (pub->rsa_bits != 2048)
                r->unsupported = true;
        return 0;
}

size_t tpm_ecc_coordinate_size(uint16_t curve)
{
        switch (curve) {
        case TPMW_ECC_NIST_P256:
                return 32;
        case TPMW_ECC_NIST_P384:
                return 48;
        }
        return 0;
}

static int rd_ecc(struct reader *r, struct tpm_public *pub)
{
        size_t coordinate;
        int ret;

        ret = rd_asym_parms(r, pub);
        if (ret < 0)
                return ret;
        pub->curve = rd_u16(r);
        pub->ecc_kdf = rd_u16(r); /* TPMT_KDF_SCHEME */
        switch (pub->ecc_kdf) {
        case TPMW_ALG_NULL:
                break;
        case TPMW_ALG_MGF1:
        case TPMW_ALG_KDF1_SP800_56A:
        case TPMW_ALG_KDF2:
        case TPMW_ALG_KDF1_SP800_108:
                (void) rd_hash_alg(r);
                r->unsupported = true; /* EKs and AKs leave the KDF to the scheme */
                break;
        default:
                return rd_stop(r, -EOPNOTSUPP);
        }
        pub->ecc_x_size = rd_tpm2b(r, pub->ecc_x, sizeof(pub->ecc_x));
        pub->ecc_y_size = rd_tpm2b(r, pub->ecc_y, sizeof(pub->ecc_y));
        coordinate = tpm_ecc_coordinate_size(pub->curve);
        if (coordinate == 0)
                r->unsupported = true;
        else if (pub->ecc_x_size != coordinate || pub->ecc_y_size != coordinate)
                r->bad = true; /* the TPM pads coordinates to the curve's size */
        return 0;
}

/* TPMS_KEYEDHASH_PARMS + TPM2B_DIGEST unique. */
static int rd_keyedhash(struct reader *r, struct tpm_public *pub)
{
        uint8_t unique[TPMW_DIGEST_MAX];

        pub->sym_alg = TPMW_ALG_NULL;
        pub->scheme = rd_u16(r);
        pub->scheme_hash = TPMW_ALG_NULL;
        switch (pub->scheme) {
        case TPMW_ALG_NULL:
                break;
        case TPMW_ALG_HMAC:
                pub->scheme_hash = rd_hash_alg(r);
                break;
        case TPMW_ALG_XOR:
                pub->scheme_hash = rd_hash_alg(r);
                (void) rd_u16(r); /* its KDF */
                r->unsupported = true;
                break;
        default:
                return rd_stop(r, -EOPNOTSUPP);
        }
        (void) rd_tpm2b(r, unique, sizeof(unique));
        return 0;
}

int tpm_name_compute(uint16_t name_alg, const uint8_t *tpmt_public, size_t size,
                     uint8_t ret[static 2 + TPMW_DIGEST_MAX], size_t *ret_size)
{
        const EVP_MD *md = tpm_hash_md(name_alg);
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (!md)
                return -EOPNOTSUPP;
        if (EVP_Digest(tpmt_public, size, digest, &n, md, NULL) != 1 || n > TPMW_DIGEST_MAX)
                return -EIO;
        ret[0] = name_alg >> 8;
        ret[1] = name_alg & 0xff;
        memcpy(ret + 2, digest, n);
        *ret_size = 2 + n;
        return 0;
}

int tpm_public_parse(const uint8_t *buf, size_t size, struct tpm_public *ret)
{
        struct reader r = {.p = buf, .left = size};
        struct tpm_public pub = {};
        int k;

        if (!buf || !rd_tpm2b_header(&r))
                return -EBADMSG;
        pub.type = rd_u16(&r);
        pub.name_alg = rd_hash_alg(&r);
        pub.attributes = rd_u32(&r);
        pub.auth_policy_size = rd_tpm2b(&r, pub.auth_policy, sizeof(pub.auth_policy));
        switch (pub.type) {
        case TPMW_ALG_RSA:
                k = rd_rsa(&r, &pub);
                break;
        case TPMW_ALG_ECC:
                k = rd_ecc(&r, &pub);
                break;
        case TPMW_ALG_KEYEDHASH:
                k = rd_keyedhash(&r, &pub);
                break;
        default:
                k = rd_stop(&r, -EOPNOTSUPP); /* SYMCIPHER or unknown: layout not ours */
        }
        if (k < 0)
                return k;
        k = rd_finish(&r);
        if (k < 0)
                return k;
        /* The TPM accepts an authPolicy of nameAlg's size or none (Part 1 §27.3). */
        if (pub.auth_policy_size != 0 && pub.auth_policy_size != tpm_hash_size(pub.name_alg))
                return -EBADMSG;

        k = tpm_name_compute(pub.name_alg, buf + 2, size - 2, pub.name, &pub.name_size);
        if (k < 0)
                return k;
        *ret = pub;
        return 0;
}

/* TPML_PCR_SELECTION of a quote: nodegate quotes exactly one bank. */
static void rd_pcr_selection(struct reader *r, struct tpm_quote *q)
{
        uint32_t count = rd_u32(r);

        if (count > TPMW_HASH_COUNT_MAX) {
                r->bad = true;
                return;
        }
        if (count != 1)
                r->unsupported = true;
        for (uint32_t i = 0; i < count && !r->bad; i++) {
                uint16_t hash = rd_hash_alg(r);
                uint8_t n = rd_u8(r);
                const uint8_t *bits;
                uint32_t mask = 0;

                if (n > TPMW_PCR_SELECT_MAX) {
                        r->bad = true;
                        return;
                }
                bits = rd_bytes(r, n);
                if (!bits)
                        return;
                for (uint8_t j = 0; j < n; j++)
                        mask |= (uint32_t) bits[j] << (8 * j);
                if (mask >> TPMW_PCRS)
                        r->unsupported = true;
                q->pcr_hash = hash;
                q->pcr_mask = mask;
        }
}

int tpm_quote_parse(const uint8_t *buf, size_t size, struct tpm_quote *ret)
{
        struct reader r = {.p = buf, .left = size};
        struct tpm_quote q = {};
        int k;

        if (!buf || !rd_tpm2b_header(&r))
                return -EBADMSG;
        q.signed_data = buf + 2;
        q.signed_size = size - 2;

        q.magic = rd_u32(&r);
        q.type = rd_u16(&r);
        if (q.type != TPMW_ST_ATTEST_QUOTE)
                return rd_stop(&r, -EOPNOTSUPP);  /* certify, time, …: another union member */
        (void) rd_tpm2b(&r, NULL, TPMW_NAME_MAX); /* qualifiedSigner */
        q.extra_data_size = rd_tpm2b(&r, q.extra_data, sizeof(q.extra_data));
        q.clock = rd_u64(&r);
        q.reset_count = rd_u32(&r);
        q.restart_count = rd_u32(&r);
        q.safe = rd_u8(&r);
        if (q.safe > 1)
                r.bad = true; /* TPMI_YES_NO */
        q.firmware_version = rd_u64(&r);
        rd_pcr_selection(&r, &q);
        q.pcr_digest_size = rd_tpm2b(&r, q.pcr_digest, sizeof(q.pcr_digest));
        k = rd_finish(&r);
        if (k < 0)
                return k;
        *ret = q;
        return 0;
}

int tpm_signature_parse(const uint8_t *buf, size_t size, struct tpm_signature *ret)
{
        struct reader r = {.p = buf, .left = size};
        struct tpm_signature s = {};
        int k;

        if (!buf)
                return -EBADMSG;
        s.alg = rd_u16(&r);
        switch (s.alg) {
        case TPMW_ALG_RSASSA:
        case TPMW_ALG_RSAPSS:
                s.hash = rd_hash_alg(&r);
                s.sig_size = rd_tpm2b(&r, s.sig, sizeof(s.sig));
                break;
        case TPMW_ALG_ECDSA:
        case TPMW_ALG_ECDAA:
        case TPMW_ALG_SM2:
        case TPMW_ALG_ECSCHNORR:
                /* TPMS_SIGNATURE_ECC for all four; only ECDSA is nodegate's */
                s.hash = rd_hash_alg(&r);
                s.r_size = rd_tpm2b(&r, s.r, sizeof(s.r));
                s.s_size = rd_tpm2b(&r, s.s, sizeof(s.s));
                if (s.alg != TPMW_ALG_ECDSA)
                        r.unsupported = true;
                break;
        default:
                /* NULL (TPMS_EMPTY), HMAC (a TPMT_HA): a quote by an AK is neither */
                return rd_stop(&r, -EOPNOTSUPP);
        }
        k = rd_finish(&r);
        if (k < 0)
                return k;
        *ret = s;
        return 0;
}
