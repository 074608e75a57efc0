/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A TDX quote's signatures (tdx-quote.h): the PCK chain to the pinned Intel SGX Root CA, the
 * QE report signed by the PCK key, the attestation key bound by the QE report, the quote signed
 * by the attestation key. ECDSA P-256 with SHA-256 throughout; the quote's raw signatures are
 * r || s, 32 bytes each, big-endian. */
#include "platform/amd-chain.h"
#include "platform/platform.h"
#include "platform/tdx-quote.h"

#include "common/openssl-util.h"
#include "common/util-verifier.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <string.h>

static void cert_cn(X509 *c, char *buf, size_t size)
{
        amd_cert_cn(c, buf, size);
}

static bool is_p256(EVP_PKEY *key)
{
        char curve[32] = "";

        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
                return false;
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), NULL);
        ERR_clear_error();
        return streq(curve, "prime256v1");
}

bool tdx_p256_verify(EVP_PKEY *key, const uint8_t sig_raw[64], const uint8_t *data, size_t size)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        BIGNUM *r = BN_bin2bn(sig_raw, 32, NULL), *s = BN_bin2bn(sig_raw + 32, 32, NULL);
        int der_len;
        bool ok;

        if (!ctx || !sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
                BN_free(r);
                BN_free(s);
                ERR_clear_error();
                return false;
        }
        der_len = i2d_ECDSA_SIG(sig, &der);
        ok = is_p256(key) && der_len > 0 &&
             EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, der, (size_t) der_len, data, size) == 1;
        ERR_clear_error();
        return ok;
}

/* The attestation key: an uncompressed P-256 point x || y. @return the key or NULL */
static EVP_PKEY *p256_from_raw(const uint8_t xy[64])
{
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
            EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        uint8_t point[65];
        EVP_PKEY *key = NULL;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
            OSSL_PARAM_construct_end(),
        };

        point[0] = 0x04;
        memcpy(point + 1, xy, 64);
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
                ERR_clear_error();
                return NULL;
        }
        return key;
}

/* cert signed by issuer: by name, then the certificate's ECDSA signature by the issuer's key
 * (Intel signs its PCK chain with P-256 keys only). */
static enum reason signed_by(X509 *cert, X509 *issuer, enum reason issuer_mismatch,
                             enum reason invalid, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = X509_get_pubkey(issuer);
        char cn[64], issuer_cn[64];
        bool ok;

        cert_cn(cert, cn, sizeof(cn));
        cert_cn(issuer, issuer_cn, sizeof(issuer_cn));
        if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0)
                return verdict_set(v, issuer_mismatch, "%s is not issued by %s", cn, issuer_cn);
        ok = is_p256(key) && X509_verify(cert, key) == 1;
        ERR_clear_error();
        if (!ok)
                return verdict_set(v, invalid, "the signature of %s by %s does not verify", cn,
                                   issuer_cn);
        return REASON_OK;
}

static bool valid_at(X509 *c, int64_t t)
{
        bool ok = ASN1_TIME_cmp_time_t(X509_get0_notBefore(c), (time_t) t) <= 0 &&
                  ASN1_TIME_cmp_time_t(X509_get0_notAfter(c), (time_t) t) >= 0;

        ERR_clear_error();
        return ok;
}

enum reason tdx_pck_chain_verify(const struct tdx_quote *q, const uint8_t root_pin[32], int64_t t,
                                 X509 **ret_pck, X509 **ret_ca, char *pck_ca, size_t ca_size,
                                 struct verdict *v)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs =
            amd_certs_load(q->pck_chain, q->pck_chain_size);
        X509 *pck, *inter, *root;
        uint8_t digest[32];
        unsigned digest_len = 0;
        char cn[64];
        enum reason r;

        if (!certs || sk_X509_num(certs) != 3)
                return verdict_set(v, REASON_TDX_PCK_CHAIN_LENGTH,
                                   "the quote's PCK chain has %d certificates, not 3 (PCK, PCK "
                                   "CA, root)",
                                   certs ? sk_X509_num(certs) : 0);
        pck = sk_X509_value(certs, 0);
        inter = sk_X509_value(certs, 1);
        root = sk_X509_value(certs, 2);
        /* The root is the trust anchor: byte for byte the pinned one. */
        if (X509_digest(root, EVP_sha256(), digest, &digest_len) != 1 || digest_len != 32 ||
            memcmp(digest, root_pin, 32) != 0) {
                ERR_clear_error();
                cert_cn(root, cn, sizeof(cn));
                return verdict_set(v, REASON_TDX_ROOT_NOT_PINNED,
                                   "the PCK chain's root \"%s\" is not the pinned Intel SGX Root "
                                   "CA",
                                   cn);
        }
        for (int i = 0; i < 3; i++)
                if (!valid_at(sk_X509_value(certs, i), t)) {
                        cert_cn(sk_X509_value(certs, i), cn, sizeof(cn));
                        return verdict_set(v, REASON_TDX_PCK_CHAIN_EXPIRED,
                                           "%s is not valid at %lld (Unix time)", cn,
                                           (long long) t);
                }
        if ((r = signed_by(root, root, REASON_TDX_ROOT_ISSUER_MISMATCH,
                           REASON_TDX_ROOT_SIGNATURE_INVALID, v)) != REASON_OK ||
            (r = signed_by(inter, root, REASON_TDX_PCK_CA_ISSUER_MISMATCH,
                           REASON_TDX_PCK_CA_SIGNATURE_INVALID, v)) != REASON_OK ||
            (r = signed_by(pck, inter, REASON_TDX_PCK_ISSUER_MISMATCH,
                           REASON_TDX_PCK_SIGNATURE_INVALID, v)) != REASON_OK)
                return r;
        /* The root also signs Intel's TCB-signing certificate: only a PCK CA issues PCKs. */
        cert_cn(inter, cn, sizeof(cn));
        if (!streq(cn, "Intel SGX PCK Platform CA") && !streq(cn, "Intel SGX PCK Processor CA"))
                return verdict_set(v, REASON_TDX_PCK_CA_UNKNOWN,
                                   "the PCK chain's intermediate \"%s\" is not an Intel SGX PCK "
                                   "Platform or Processor CA",
                                   cn);
        if (pck_ca)
                snprintf(pck_ca, ca_size, "%s", cn);
        *ret_pck = sk_X509_shift(certs);
        if (ret_ca)
                *ret_ca = sk_X509_shift(certs);
        return REASON_OK;
}

enum reason tdx_qe_report_verify(const struct tdx_quote *q, X509 *pck, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pck_key = X509_get_pubkey(pck);
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        uint8_t want[64];
        unsigned len = 0;

        ERR_clear_error();
        /* The quoting enclave's report, signed by the platform's PCK key ... */
        if (!tdx_p256_verify(pck_key, q->qe_signature, q->qe_report, TDX_QE_REPORT_SIZE))
                return verdict_set(v, REASON_TDX_QE_REPORT_SIGNATURE_INVALID,
                                   "the QE report's signature does not verify with the PCK key");
        /* ... vouches for the attestation key: REPORTDATA = SHA-256(key || auth) || 0^32. */
        memset(want, 0, sizeof(want));
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, q->attest_key, 64) != 1 ||
            EVP_DigestUpdate(md, q->qe_auth, q->qe_auth_size) != 1 ||
            EVP_DigestFinal_ex(md, want, &len) != 1) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "SHA-256 failed");
        }
        if (CRYPTO_memcmp(q->qe_report + 320, want, 64) != 0)
                return verdict_set(v, REASON_TDX_QE_REPORT_DATA_MISMATCH,
                                   "the QE report does not bind the quote's attestation key "
                                   "(REPORTDATA != SHA-256(key || QE auth data) || 0^32)");
        return REASON_OK;
}

enum reason tdx_quote_signature_verify(const struct tdx_quote *q, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = p256_from_raw(q->attest_key);

        if (!key || !tdx_p256_verify(key, q->signature, q->signed_part, q->signed_size))
                return verdict_set(v, REASON_TDX_QUOTE_SIGNATURE_INVALID,
                                   "the quote's signature does not verify with its attestation "
                                   "key");
        return REASON_OK;
}

enum reason tdx_policy_check(const struct platform_policy *pol, const struct tdx_td_info *td,
                             struct verdict *v)
{
        char hex[97];

        /* A debug TD's memory and registers are open to the host (the oracle's order: first). */
        if ((td->td_attributes[0] & TDX_ATTR_DEBUG) && !pol->tdx_allow_debug)
                return verdict_set(v, REASON_TDX_TD_DEBUG,
                                   "TD_ATTRIBUTES has DEBUG set: the host can read and change "
                                   "the TD's memory");
        if (pol->n_mrtds && !digest48_on_list(pol->mrtds, pol->n_mrtds, td->mrtd)) {
                hex_encode(td->mrtd, 48, hex);
                return verdict_set(v, REASON_TDX_MRTD, "MRTD %s is not on the policy's list", hex);
        }
        for (int i = 0; i < 4; i++)
                if (pol->n_rtmrs[i] &&
                    !digest48_on_list(pol->rtmrs[i], pol->n_rtmrs[i], td->rtmr[i])) {
                        hex_encode(td->rtmr[i], 48, hex);
                        return verdict_set(v, REASON_TDX_RTMR,
                                           "RTMR%d %s is not on the policy's list", i, hex);
                }
        return REASON_OK;
}
