/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TPM cryptography in software with OpenSSL 3: keys from public areas, quote signatures, policy
 * digests, and the two "secret to the EK" constructions of Part 1 (MakeCredential, Import). */
#include "tpm/tpmcrypto.h"
#include "common/openssl-util.h"
#include "util.h"

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#define TPMW_CC_POLICY_COUNTER_TIMER 0x0000016Du
#define TPMW_CC_POLICY_PCR           0x0000017Fu
#define TPMW_EO_EQ                   0x0000
#define TPMW_PCR_SELECT_SIZE         3  /* sizeofSelect for PCRs 0-23 */
#define TIME_INFO_RESET_COUNT_OFFSET 16 /* TPMS_TIME_INFO: time(8) clock(8) resetCount */
#define SEALED_ATTRIBUTES            (TPMW_OA_ADMIN_WITH_POLICY | TPMW_OA_NO_DA)
#define SEALED_DATA_MAX              128 /* MAX_SYM_DATA */
#define SEAL_SEED_VALUE_SIZE         32  /* the sealed object's nameAlg is SHA-256 */
#define KDF_BITS_MAX                 8192
#define HMAC_BLOCK_MAX               128 /* SHA-512's block */

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Fetched once: a fetch takes the store's lock and a lookup, which hot paths should not pay.
 * Read-only after pthread_once, so any thread may use them. Never freed: process lifetime. */
static struct {
        EVP_MD *sha1, *sha256, *sha384, *sha512;
        EVP_CIPHER *aes128_cfb, *aes256_cfb;
        /* Keys with the curve's parameters and no point: building a group from its name costs
         * ~25 µs, copying one ~5 µs, and every request needs two or three EC keys. */
        EVP_PKEY *p256, *p384;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static EVP_PKEY *ec_parameters(const char *group)
{
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) group, 0),
            OSSL_PARAM_construct_end(),
        };
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *pkey = NULL;

        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) != 1)
                pkey = NULL;
        EVP_PKEY_CTX_free(ctx);
        return pkey;
}

static void algs_fetch(void)
{
        algs.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
        algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        algs.sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
        algs.sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
        algs.aes128_cfb = EVP_CIPHER_fetch(NULL, "AES-128-CFB", NULL);
        algs.aes256_cfb = EVP_CIPHER_fetch(NULL, "AES-256-CFB", NULL);
        algs.p256 = ec_parameters(SN_X9_62_prime256v1);
        algs.p384 = ec_parameters(SN_secp384r1);
        ERR_clear_error();
}

const EVP_MD *tpm_hash_md(uint16_t alg)
{
        if (pthread_once(&algs_once, algs_fetch) != 0)
                return NULL;
        switch (alg) {
        case TPMW_ALG_SHA1:
                return algs.sha1;
        case TPMW_ALG_SHA256:
                return algs.sha256;
        case TPMW_ALG_SHA384:
                return algs.sha384;
        case TPMW_ALG_SHA512:
                return algs.sha512;
        }
        return NULL;
}

/* The EK's symmetric algorithm: AES-CFB (full-block feedback, CFB128) with its key size. */
static const EVP_CIPHER *aes_cfb(uint16_t bits)
{
        if (pthread_once(&algs_once, algs_fetch) != 0)
                return NULL;
        switch (bits) {
        case 128:
                return algs.aes128_cfb;
        case 256:
                return algs.aes256_cfb;
        }
        return NULL;
}

struct part {
        const void *p;
        size_t n;
};

/* One hash over the concatenation of parts. */
static int digest_parts(const EVP_MD *md, const struct part *parts, size_t n_parts, uint8_t *ret)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1)
                return -EIO;
        for (size_t i = 0; i < n_parts; i++)
                if (parts[i].n > 0 && EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
                        return -EIO;
        if (EVP_DigestFinal_ex(ctx, ret, NULL) != 1)
                return -EIO;
        return 0;
}

/* HMAC (RFC 2104) over the concatenation of parts, on the prefetched digest: EVP_MAC would
 * fetch the digest by name on every init. */
static int hmac_parts(const EVP_MD *md, const uint8_t *key, size_t key_size,
                      const struct part *parts, size_t n_parts, uint8_t *ret)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        size_t block = EVP_MD_get_block_size(md), hlen = EVP_MD_get_size(md);
        uint8_t k[HMAC_BLOCK_MAX] = {}, pad[HMAC_BLOCK_MAX], inner[EVP_MAX_MD_SIZE];
        int r = -EIO;

        if (!ctx)
                return -ENOMEM;
        if (block > sizeof(k) || hlen > sizeof(inner))
                return -EINVAL;
        if (key_size > block) {
                if (EVP_Digest(key, key_size, k, NULL, md, NULL) != 1)
                        goto out;
        } else if (key_size > 0)
                memcpy(k, key, key_size);

        for (size_t i = 0; i < block; i++)
                pad[i] = k[i] ^ 0x36;
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, pad, block) != 1)
                goto out;
        for (size_t i = 0; i < n_parts; i++)
                if (parts[i].n > 0 && EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
                        goto out;
        if (EVP_DigestFinal_ex(ctx, inner, NULL) != 1)
                goto out;

        for (size_t i = 0; i < block; i++)
                pad[i] = k[i] ^ 0x5c;
        if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, pad, block) != 1 ||
            EVP_DigestUpdate(ctx, inner, hlen) != 1 || EVP_DigestFinal_ex(ctx, ret, NULL) != 1)
                goto out;
        r = 0;
out:
        OPENSSL_cleanse(k, sizeof(k));
        OPENSSL_cleanse(pad, sizeof(pad));
        OPENSSL_cleanse(inner, sizeof(inner));
        return r;
}

static void put_be32(uint8_t b[4], uint32_t v)
{
        b[0] = v >> 24;
        b[1] = v >> 16;
        b[2] = v >> 8;
        b[3] = v;
}

static int kdf_check(const EVP_MD *md, size_t bits)
{
        if (!md)
                return -EOPNOTSUPP;
        if (bits == 0 || bits % 8 != 0 || bits > KDF_BITS_MAX)
                return -EINVAL;
        return 0;
}

int tpm_kdfa(uint16_t hash_alg, const uint8_t *key, size_t key_size, const char *label,
             const uint8_t *context_u, size_t u_size, const uint8_t *context_v, size_t v_size,
             size_t bits, uint8_t *ret)
{
        const EVP_MD *md = tpm_hash_md(hash_alg);
        uint8_t counter[4], bits_be[4], block[EVP_MAX_MD_SIZE];
        size_t hlen, done = 0, size = bits / 8;
        int r;

        r = kdf_check(md, bits);
        if (r < 0)
                return r;
        hlen = EVP_MD_get_size(md);
        put_be32(bits_be, bits);
        for (uint32_t i = 1; done < size; i++) {
                const struct part parts[] = {
                    {counter, 4},        {label, strlen(label) + 1},
                    {context_u, u_size}, {context_v, v_size},
                    {bits_be, 4},
                };
                size_t n = MIN(hlen, size - done);

                put_be32(counter, i);
                r = hmac_parts(md, key, key_size, parts, ELEMENTSOF(parts), block);
                if (r < 0)
                        break;
                memcpy(ret + done, block, n);
                done += n;
        }
        OPENSSL_cleanse(block, sizeof(block));
        if (r < 0)
                OPENSSL_cleanse(ret, size);
        return r;
}

int tpm_kdfe(uint16_t hash_alg, const uint8_t *z, size_t z_size, const char *label,
             const uint8_t *party_u, size_t u_size, const uint8_t *party_v, size_t v_size,
             size_t bits, uint8_t *ret)
{
        const EVP_MD *md = tpm_hash_md(hash_alg);
        uint8_t counter[4], block[EVP_MAX_MD_SIZE];
        size_t hlen, done = 0, size = bits / 8;
        int r;

        r = kdf_check(md, bits);
        if (r < 0)
                return r;
        hlen = EVP_MD_get_size(md);
        for (uint32_t i = 1; done < size; i++) {
                const struct part parts[] = {
                    {counter, 4},      {z, z_size},       {label, strlen(label) + 1},
                    {party_u, u_size}, {party_v, v_size},
                };
                size_t n = MIN(hlen, size - done);

                put_be32(counter, i);
                r = digest_parts(md, parts, ELEMENTSOF(parts), block);
                if (r < 0)
                        break;
                memcpy(ret + done, block, n);
                done += n;
        }
        OPENSSL_cleanse(block, sizeof(block));
        if (r < 0)
                OPENSSL_cleanse(ret, size);
        return r;
}

/* Marshalling into a struct tpm_blob. Overflow is sticky and checked once at the end. */
struct writer {
        uint8_t *p;
        size_t size, used;
        bool overflow;
};

static void w_bytes(struct writer *w, const void *p, size_t n)
{
        if (w->overflow || n > w->size - w->used) {
                w->overflow = true;
                return;
        }
        if (n > 0)
                memcpy(w->p + w->used, p, n);
        w->used += n;
}

static void w_u16(struct writer *w, uint16_t v)
{
        w_bytes(w, (uint8_t[]){v >> 8, v & 0xff}, 2);
}

static void w_u32(struct writer *w, uint32_t v)
{
        uint8_t b[4];

        put_be32(b, v);
        w_bytes(w, b, 4);
}

static void w_tpm2b(struct writer *w, const void *p, size_t n)
{
        if (n > UINT16_MAX) {
                w->overflow = true;
                return;
        }
        w_u16(w, n);
        w_bytes(w, p, n);
}

/* Starts a TPM2B whose size is filled in by w_end_tpm2b(). @return the size's offset */
static size_t w_begin_tpm2b(struct writer *w)
{
        size_t at = w->used;

        w_u16(w, 0);
        return at;
}

static void w_end_tpm2b(struct writer *w, size_t at)
{
        size_t n = w->used - at - 2;

        if (w->overflow || n > UINT16_MAX) {
                w->overflow = true;
                return;
        }
        w->p[at] = n >> 8;
        w->p[at + 1] = n & 0xff;
}

static EVP_PKEY *ecc_parameters(uint16_t curve)
{
        if (pthread_once(&algs_once, algs_fetch) != 0)
                return NULL;
        switch (curve) {
        case TPMW_ECC_NIST_P256:
                return algs.p256;
        case TPMW_ECC_NIST_P384:
                return algs.p384;
        }
        return NULL;
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM *params)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
            EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        EVP_PKEY *pkey = NULL;

        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return NULL;
        return pkey;
}

static EVP_PKEY *rsa_to_pkey(const struct tpm_public *pub)
{
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(BN_freep) BIGNUM *n = BN_bin2bn(pub->rsa_n, pub->rsa_n_size, NULL);
        _cleanup_(BN_freep) BIGNUM *e = BN_new();

        if (pub->rsa_n_size == 0 || !bld || !n || !e || BN_set_word(e, pub->rsa_exponent) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
                return NULL;
        params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return NULL;
        return pkey_fromdata("RSA", params);
}

static EVP_PKEY *ecc_to_pkey(const struct tpm_public *pub)
{
        EVP_PKEY *parameters = ecc_parameters(pub->curve);
        size_t c = tpm_ecc_coordinate_size(pub->curve);
        uint8_t point[1 + 2 * TPMW_ECC_MAX] = {0x04};
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;

        if (!parameters || pub->ecc_x_size == 0 || pub->ecc_x_size > c || pub->ecc_y_size == 0 ||
            pub->ecc_y_size > c)
                return NULL;
        /* uncompressed SEC1 point, each coordinate left-padded to the curve's size */
        memcpy(point + 1 + c - pub->ecc_x_size, pub->ecc_x, pub->ecc_x_size);
        memcpy(point + 1 + 2 * c - pub->ecc_y_size, pub->ecc_y, pub->ecc_y_size);
        /* Copying the shared parameters only reads them. Setting the point refuses one off the
         * curve (EC_POINT_set_affine_coordinates checks), and an uncompressed point is never the
         * point at infinity: with cofactor 1, that is all a valid public key needs. */
        pkey = EVP_PKEY_dup(parameters);
        if (!pkey || EVP_PKEY_set1_encoded_public_key(pkey, point, 1 + 2 * c) != 1)
                return NULL;
        return TAKE_PTR(pkey);
}

EVP_PKEY *tpm_public_to_pkey(const struct tpm_public *pub)
{
        EVP_PKEY *pkey = NULL;

        if (!pub)
                return NULL;
        if (pub->type == TPMW_ALG_RSA)
                pkey = rsa_to_pkey(pub);
        else if (pub->type == TPMW_ALG_ECC)
                pkey = ecc_to_pkey(pub);
        if (!pkey)
                ERR_clear_error(); /* a hostile key must not leave errors for the next caller */
        return pkey;
}

int tpm_public_spki_sha256(const struct tpm_public *pub, uint8_t ret[32])
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = tpm_public_to_pkey(pub);
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        const EVP_MD *md = tpm_hash_md(TPMW_ALG_SHA256);
        int n;

        if (!pkey || !md)
                return -EINVAL;
        n = i2d_PUBKEY(pkey, &der);
        if (n <= 0) {
                ERR_clear_error();
                return -EIO;
        }
        if (EVP_Digest(der, n, ret, NULL, md, NULL) != 1)
                return -EIO;
        return 0;
}

/* DER ECDSA-Sig-Value from the TPM's (r, s), which OpenSSL's verify takes. */
static int ecdsa_der(const struct tpm_signature *sig, size_t coordinate, uint8_t **ret,
                     size_t *ret_size)
{
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r, *s;
        uint8_t *der = NULL;
        int n;

        if (sig->r_size == 0 || sig->r_size > coordinate || sig->s_size == 0 ||
            sig->s_size > coordinate)
                return -EBADMSG;
        if (!es)
                return -ENOMEM;
        r = BN_bin2bn(sig->r, sig->r_size, NULL);
        s = BN_bin2bn(sig->s, sig->s_size, NULL);
        if (!r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                return -ENOMEM;
        }
        n = i2d_ECDSA_SIG(es, &der);
        if (n <= 0)
                return -ENOMEM;
        *ret = der;
        *ret_size = n;
        return 0;
}

int tpm_quote_verify(const struct tpm_public *ak, const struct tpm_quote *quote,
                     const struct tpm_signature *sig)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        const uint8_t *s;
        size_t s_size;
        uint8_t digest[EVP_MAX_MD_SIZE];
        const EVP_MD *md;
        int r;

        if (!ak || !quote || !sig || !quote->signed_data)
                return -EINVAL;
        /* A restricted key signs a buffer starting with TPM_GENERATED_VALUE only when the TPM
         * made it: without this check a signature proves nothing about a quote. */
        if (quote->magic != TPMW_GENERATED_VALUE || quote->type != TPMW_ST_ATTEST_QUOTE)
                return -EBADMSG;
        /* nodegate's AKs sign with SHA-256 (docs/PROTOCOL.md); the key's own scheme, when it
         * fixes one, must be the signature's */
        if (sig->hash != TPMW_ALG_SHA256)
                return -EOPNOTSUPP;
        if (ak->scheme != TPMW_ALG_NULL && (ak->scheme != sig->alg || ak->scheme_hash != sig->hash))
                return -EBADMSG;
        md = tpm_hash_md(sig->hash);
        if (!md)
                return -EOPNOTSUPP;

        if (ak->type == TPMW_ALG_ECC && sig->alg == TPMW_ALG_ECDSA) {
                r = ecdsa_der(sig, tpm_ecc_coordinate_size(ak->curve), &der, &s_size);
                if (r < 0)
                        return r;
                s = der;
        } else if (ak->type == TPMW_ALG_RSA &&
                   (sig->alg == TPMW_ALG_RSASSA || sig->alg == TPMW_ALG_RSAPSS)) {
                if (sig->sig_size != ak->rsa_n_size)
                        return -EBADMSG;
                s = sig->sig;
                s_size = sig->sig_size;
        } else
                return -EBADMSG; /* a signature of another kind than the key */

        /* an area that is no key (a point off the curve) verifies nothing: a refusal, not a
         * failure to check */
        pkey = tpm_public_to_pkey(ak);
        if (!pkey)
                return -EBADMSG;
        if (EVP_Digest(quote->signed_data, quote->signed_size, digest, NULL, md, NULL) != 1)
                return -EIO;
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!ctx)
                return -ENOMEM;
        if (EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
                goto fail;
        if (sig->alg == TPMW_ALG_RSASSA &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
                goto fail;
        /* TPMs use a salt of the digest's size or the largest that fits: accept either. */
        if (sig->alg == TPMW_ALG_RSAPSS &&
            (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
             EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_AUTO) != 1))
                goto fail;

        r = EVP_PKEY_verify(ctx, s, s_size, digest, EVP_MD_get_size(md)) == 1 ? 0 : -EBADMSG;
        ERR_clear_error();
        return r;
fail:
        ERR_clear_error();
        return -EIO;
}

int tpm_policy_pcr_boot(uint32_t pcr_mask, const uint8_t pcr_digest[32], uint32_t reset_count,
                        uint32_t restart_count, uint8_t ret[32])
{
        const EVP_MD *md = tpm_hash_md(TPMW_ALG_SHA256);
        uint8_t policy[32] = {}, cc[4], selection[4 + 2 + 1 + TPMW_PCR_SELECT_SIZE];
        uint8_t operand[4 + 2 + 2], args[32];
        int r;

        if (pcr_mask == 0 || pcr_mask >> (8 * TPMW_PCR_SELECT_SIZE))
                return -EINVAL;
        if (!md)
                return -EIO;

        /* TPML_PCR_SELECTION: count 1, SHA-256, sizeofSelect 3, the bitmap */
        put_be32(selection, 1);
        selection[4] = TPMW_ALG_SHA256 >> 8;
        selection[5] = TPMW_ALG_SHA256 & 0xff;
        selection[6] = TPMW_PCR_SELECT_SIZE;
        for (int i = 0; i < TPMW_PCR_SELECT_SIZE; i++)
                selection[7 + i] = (pcr_mask >> (8 * i)) & 0xff;
        put_be32(cc, TPMW_CC_POLICY_PCR);
        r = digest_parts(
            md,
            (const struct part[]){
                {policy, 32}, {cc, 4}, {selection, sizeof(selection)}, {pcr_digest, 32}},
            4, policy);
        if (r < 0)
                return r;

        /* Two PolicyCounterTimer, resetCount (a TPM Reset: every reboot) and restartCount (a
         * TPM Restart: resume from hibernation), each args = H(operandB || offset ||
         * operation). Two commands rather than one over both 8 bytes, so that tpm2-tools'
         * resets= and restarts= can check the digest (tests/integration). */
        for (int i = 0; i < 2; i++) {
                uint16_t offset =
                    i == 0 ? TIME_INFO_RESET_COUNT_OFFSET : TIME_INFO_RESET_COUNT_OFFSET + 4;

                put_be32(operand, i == 0 ? reset_count : restart_count);
                operand[4] = (uint8_t) (offset >> 8);
                operand[5] = (uint8_t) offset;
                operand[6] = TPMW_EO_EQ >> 8;
                operand[7] = TPMW_EO_EQ & 0xff;
                r = digest_parts(md, (const struct part[]){{operand, sizeof(operand)}}, 1, args);
                if (r < 0)
                        return r;
                put_be32(cc, TPMW_CC_POLICY_COUNTER_TIMER);
                r = digest_parts(md, (const struct part[]){{policy, 32}, {cc, 4}, {args, 32}}, 3,
                                 policy);
                if (r < 0)
                        return r;
        }
        memcpy(ret, policy, 32);
        return 0;
}

/* What the EK's parameters decide about a secret sent to it. */
struct ek_params {
        uint16_t name_alg;
        size_t seed_size; /* |H| of the EK's nameAlg */
        const EVP_CIPHER *cipher;
        size_t sym_bits;
};

static int ek_params(const struct tpm_public *ek, struct ek_params *ret)
{
        size_t seed_size = tpm_hash_size(ek->name_alg);
        const EVP_CIPHER *cipher;

        if (ek->type != TPMW_ALG_RSA && ek->type != TPMW_ALG_ECC)
                return -EOPNOTSUPP;
        if (seed_size == 0 || !tpm_hash_md(ek->name_alg))
                return -EOPNOTSUPP;
        if (ek->sym_alg != TPMW_ALG_AES || ek->sym_mode != TPMW_ALG_CFB)
                return -EOPNOTSUPP;
        cipher = aes_cfb(ek->sym_bits);
        if (!cipher)
                return -EOPNOTSUPP;
        *ret = (struct ek_params){
            .name_alg = ek->name_alg,
            .seed_size = seed_size,
            .cipher = cipher,
            .sym_bits = ek->sym_bits,
        };
        return 0;
}

/* RSA: seed encrypted with RSAES-OAEP, hash and MGF1 the EK's nameAlg, label with its NUL
 * (Part 1 §B.10.3). */
static int seed_rsa(const struct ek_params *p, EVP_PKEY *ekkey, const char *label,
                    const uint8_t *seed, struct tpm_blob *ret)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
            EVP_PKEY_CTX_new_from_pkey(NULL, ekkey, NULL);
        const char *md_name = EVP_MD_get0_name(tpm_hash_md(p->name_alg));
        size_t n = sizeof(ret->data) - 2;

        if (!ctx)
                return -ENOMEM;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                             (char *) OSSL_PKEY_RSA_PAD_MODE_OAEP, 0),
            OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, (char *) md_name,
                                             0),
            OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, (char *) md_name,
                                             0),
            OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, (char *) label,
                                              strlen(label) + 1),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_PKEY_encrypt_init_ex(ctx, params) != 1 ||
            EVP_PKEY_encrypt(ctx, ret->data + 2, &n, seed, p->seed_size) != 1)
                return -EIO;
        ret->data[0] = n >> 8;
        ret->data[1] = n & 0xff;
        ret->size = n + 2;
        return 0;
}

/* ECC: an ephemeral key on the EK's curve; Z is the x-coordinate of d_e·Q_EK and the seed is
 * KDFe(nameAlg, Z, label, ephemeral.x, EK.x) (Part 1 §C.6.4). The ephemeral point, marshalled
 * as TPMS_ECC_POINT, is the encrypted seed. */
static int seed_ecc(const struct ek_params *p, const struct tpm_public *ek, EVP_PKEY *ekkey,
                    const char *label, uint8_t *ret_seed, struct tpm_blob *ret)
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *gen = NULL, *derive = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *eph = NULL;
        size_t c = tpm_ecc_coordinate_size(ek->curve), point_size = 0, z_size, at;
        uint8_t point[1 + 2 * TPMW_ECC_MAX], z[TPMW_ECC_MAX];
        struct writer w = {.p = ret->data, .size = sizeof(ret->data)};
        int r = -EIO;

        if (c == 0)
                return -EOPNOTSUPP;
        /* a keygen context made from the EK's key takes its group */
        gen = EVP_PKEY_CTX_new_from_pkey(NULL, ekkey, NULL);
        if (!gen)
                return -ENOMEM;
        if (EVP_PKEY_keygen_init(gen) != 1 || EVP_PKEY_keygen(gen, &eph) != 1)
                return -EIO;
        if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                            sizeof(point), &point_size) != 1 ||
            point_size != 1 + 2 * c || point[0] != 0x04)
                return -EIO;

        derive = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
        if (!derive)
                return -ENOMEM;
        z_size = sizeof(z);
        /* the EK's point was checked when its key was made: no second, full validation */
        if (EVP_PKEY_derive_init(derive) != 1 ||
            EVP_PKEY_derive_set_peer_ex(derive, ekkey, 0) != 1 ||
            EVP_PKEY_derive(derive, z, &z_size) != 1 || z_size != c)
                goto out;
        r = tpm_kdfe(p->name_alg, z, z_size, label, point + 1, c, ek->ecc_x, ek->ecc_x_size,
                     p->seed_size * 8, ret_seed);
        if (r < 0)
                goto out;

        at = w_begin_tpm2b(&w);
        w_tpm2b(&w, point + 1, c);
        w_tpm2b(&w, point + 1 + c, c);
        w_end_tpm2b(&w, at);
        if (w.overflow) {
                r = -ENOBUFS;
                goto out;
        }
        ret->size = w.used;
        r = 0;
out:
        OPENSSL_cleanse(z, sizeof(z));
        return r;
}

/* A fresh seed of |H| bytes for the EK, and its TPM2B_ENCRYPTED_SECRET. */
static int seed_to_ek(const struct ek_params *p, const struct tpm_public *ek, const char *label,
                      uint8_t *ret_seed, struct tpm_blob *ret_encrypted)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ekkey = tpm_public_to_pkey(ek);
        int r;

        if (!ekkey)
                return -EINVAL;
        if (ek->type == TPMW_ALG_RSA) {
                if (RAND_priv_bytes(ret_seed, p->seed_size) != 1)
                        return -EIO;
                r = seed_rsa(p, ekkey, label, ret_seed, ret_encrypted);
        } else
                r = seed_ecc(p, ek, ekkey, label, ret_seed, ret_encrypted);
        if (r < 0) {
                OPENSSL_cleanse(ret_seed, p->seed_size);
                ERR_clear_error();
        }
        return r;
}

/* The outer wrapper (Part 1 §23.3.2.3, used by MakeCredential too):
 * symKey = KDFa(H, seed, "STORAGE", name, "", keyBits); enc = AES-CFB(symKey, IV 0, plain);
 * hmacKey = KDFa(H, seed, "INTEGRITY", "", "", |H|·8);
 * ret = TPM2B(TPM2B_DIGEST(HMAC(hmacKey, enc || name)) || enc). */
static int outer_wrap(const struct ek_params *p, const uint8_t *seed, const uint8_t *name,
                      size_t name_size, const uint8_t *plain, size_t plain_size,
                      struct tpm_blob *ret)
{
        _cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
        static const uint8_t iv[16] = {};
        uint8_t sym_key[32], hmac_key[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
        uint8_t *enc;
        struct writer w = {.p = ret->data, .size = sizeof(ret->data)};
        size_t at, hlen = p->seed_size;
        int r, n = 0, m = 0;

        if (!cctx)
                return -ENOMEM;
        /* room for size || TPM2B_DIGEST || enc, checked before anything is written */
        if (plain_size > sizeof(ret->data) - 4 - hlen || p->sym_bits / 8 > sizeof(sym_key))
                return -ENOBUFS;
        r = tpm_kdfa(p->name_alg, seed, p->seed_size, "STORAGE", name, name_size, NULL, 0,
                     p->sym_bits, sym_key);
        if (r < 0)
                goto out;
        r = tpm_kdfa(p->name_alg, seed, p->seed_size, "INTEGRITY", NULL, 0, NULL, 0, hlen * 8,
                     hmac_key);
        if (r < 0)
                goto out;

        enc = ret->data + 2 + 2 + hlen;
        r = -EIO;
        if (EVP_EncryptInit_ex2(cctx, p->cipher, sym_key, iv, NULL) != 1 ||
            EVP_EncryptUpdate(cctx, enc, &n, plain, plain_size) != 1 ||
            EVP_EncryptFinal_ex(cctx, enc + n, &m) != 1 || (size_t) (n + m) != plain_size)
                goto out;
        r = hmac_parts(tpm_hash_md(p->name_alg), hmac_key, hlen,
                       (const struct part[]){{enc, plain_size}, {name, name_size}}, 2, mac);
        if (r < 0)
                goto out;

        at = w_begin_tpm2b(&w);
        w_tpm2b(&w, mac, hlen);
        w.used += plain_size; /* enc is already in place */
        w_end_tpm2b(&w, at);
        ret->size = w.used;
        r = 0;
out:
        OPENSSL_cleanse(sym_key, sizeof(sym_key));
        OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
        return r;
}

int tpm_make_credential(const struct tpm_public *ek, const uint8_t *ak_name, size_t ak_name_size,
                        const uint8_t *secret, size_t secret_size, struct tpm_blob *ret_id_object,
                        struct tpm_blob *ret_encrypted_secret)
{
        struct tpm_blob id = {}, encrypted = {};
        uint8_t seed[TPMW_DIGEST_MAX], plain[2 + TPMW_DIGEST_MAX];
        struct ek_params p;
        int r;

        if (!ek || !ak_name || !secret || !ret_id_object || !ret_encrypted_secret)
                return -EINVAL;
        r = ek_params(ek, &p);
        if (r < 0)
                return r;
        /* TPM2_MakeCredential refuses a credential larger than the EK's nameAlg digest */
        if (secret_size == 0 || secret_size > p.seed_size || ak_name_size < 2 ||
            ak_name_size > 2 + TPMW_DIGEST_MAX)
                return -EINVAL;

        r = seed_to_ek(&p, ek, "IDENTITY", seed, &encrypted);
        if (r < 0)
                return r;
        plain[0] = secret_size >> 8;
        plain[1] = secret_size & 0xff;
        memcpy(plain + 2, secret, secret_size);
        r = outer_wrap(&p, seed, ak_name, ak_name_size, plain, 2 + secret_size, &id);
        OPENSSL_cleanse(seed, sizeof(seed));
        OPENSSL_cleanse(plain, sizeof(plain));
        if (r < 0) {
                ERR_clear_error();
                return r;
        }
        *ret_id_object = id;
        *ret_encrypted_secret = encrypted;
        return 0;
}

/* TPMT_PUBLIC of the sealed data object (docs/PROTOCOL.md, "The sealed object"). */
static void write_sealed_public(struct writer *w, const uint8_t policy_digest[32],
                                const uint8_t unique[32])
{
        w_u16(w, TPMW_ALG_KEYEDHASH);
        w_u16(w, TPMW_ALG_SHA256);
        w_u32(w, SEALED_ATTRIBUTES);
        w_tpm2b(w, policy_digest, 32);
        w_u16(w, TPMW_ALG_NULL); /* TPMT_KEYEDHASH_SCHEME: a sealed data object has none */
        w_tpm2b(w, unique, 32);
}

int tpm_seal_for_import(const struct tpm_public *ek, const uint8_t *data, size_t data_size,
                        const uint8_t policy_digest[32], struct tpm_sealed *ret)
{
        const EVP_MD *sha256 = tpm_hash_md(TPMW_ALG_SHA256);
        struct tpm_sealed sealed = {};
        struct writer pw = {.p = sealed.public.data, .size = sizeof(sealed.public.data)};
        uint8_t seed_value[SEAL_SEED_VALUE_SIZE], unique[32], seed[TPMW_DIGEST_MAX];
        uint8_t name[2 + TPMW_DIGEST_MAX];
        uint8_t sensitive[2 + 2 + 2 + 2 + SEAL_SEED_VALUE_SIZE + 2 + SEALED_DATA_MAX];
        struct writer sw = {.p = sensitive, .size = sizeof(sensitive)};
        size_t name_size, at;
        struct ek_params p;
        int r;

        if (!ek || !data || !policy_digest || !ret || !sha256)
                return -EINVAL;
        if (data_size == 0 || data_size > SEALED_DATA_MAX)
                return -EINVAL;
        r = ek_params(ek, &p);
        if (r < 0)
                return r;

        if (RAND_priv_bytes(seed_value, sizeof(seed_value)) != 1) {
                r = -EIO;
                goto out;
        }
        /* unique binds the public area to the sensitive one: the TPM recomputes it on Import */
        r = digest_parts(sha256,
                         (const struct part[]){{seed_value, sizeof(seed_value)}, {data, data_size}},
                         2, unique);
        if (r < 0)
                goto out;
        at = w_begin_tpm2b(&pw);
        write_sealed_public(&pw, policy_digest, unique);
        w_end_tpm2b(&pw, at);
        if (pw.overflow) {
                r = -ENOBUFS;
                goto out;
        }
        sealed.public.size = pw.used;
        r = tpm_name_compute(TPMW_ALG_SHA256, sealed.public.data + 2, sealed.public.size - 2, name,
                             &name_size);
        if (r < 0)
                goto out;

        /* TPM2B_SENSITIVE: the outer wrapper encrypts it with its size (no inner wrapper) */
        at = w_begin_tpm2b(&sw);
        w_u16(&sw, TPMW_ALG_KEYEDHASH);
        w_tpm2b(&sw, NULL, 0); /* authValue: only the policy opens the object */
        w_tpm2b(&sw, seed_value, sizeof(seed_value));
        w_tpm2b(&sw, data, data_size);
        w_end_tpm2b(&sw, at);
        if (sw.overflow) {
                r = -ENOBUFS;
                goto out;
        }

        r = seed_to_ek(&p, ek, "DUPLICATE", seed, &sealed.encrypted_seed);
        if (r < 0)
                goto out;
        r = outer_wrap(&p, seed, name, name_size, sensitive, sw.used, &sealed.duplicate);
        if (r < 0)
                goto out;
        *ret = sealed;
out:
        OPENSSL_cleanse(seed_value, sizeof(seed_value));
        OPENSSL_cleanse(seed, sizeof(seed));
        OPENSSL_cleanse(sensitive, sizeof(sensitive));
        if (r < 0)
                ERR_clear_error();
        return r;
}
