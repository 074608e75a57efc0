/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SNP report's signature (ECDSA P-384 with SHA-384; r and s 72 bytes little-endian each,
 * only the low 48 bytes significant) and the platform policy's checks of a verified report. */
#include "platform/platform.h"

#include "common/openssl-util.h"
#include "common/util-verifier.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <string.h>

void platform_binding(const uint8_t *challenge, size_t challenge_size, const uint8_t *ek_name,
                      size_t ek_name_size, const uint8_t *ak_name, size_t ak_name_size,
                      uint8_t ret[64])
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *c = EVP_MD_CTX_new();
        unsigned n = 0;

        /* The label with its NUL: no other protocol's 64 bytes can equal ours. Failure leaves
         * ret all zero, which no report of a real challenge carries. */
        memset(ret, 0, 64);
        if (!c || EVP_DigestInit_ex(c, EVP_sha512(), NULL) != 1 ||
            EVP_DigestUpdate(c, PLATFORM_BINDING_LABEL, sizeof(PLATFORM_BINDING_LABEL)) != 1 ||
            EVP_DigestUpdate(c, challenge, challenge_size) != 1 ||
            EVP_DigestUpdate(c, ek_name, ek_name_size) != 1 ||
            EVP_DigestUpdate(c, ak_name, ak_name_size) != 1 ||
            EVP_DigestFinal_ex(c, ret, &n) != 1 || n != 64) {
                memset(ret, 0, 64);
                ERR_clear_error();
        }
}

enum reason snp_signature_verify(const struct snp_report *r, X509 *vek, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = X509_get_pubkey(vek);
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(ECDSA_SIG_freep) ECDSA_SIG *sig = ECDSA_SIG_new();
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        BIGNUM *br = BN_lebin2bn(r->sig_r, SNP_SIG_COMPONENT, NULL);
        BIGNUM *bs = BN_lebin2bn(r->sig_s, SNP_SIG_COMPONENT, NULL);
        int der_len, ok;

        if (!key || !ctx || !sig || !br || !bs || ECDSA_SIG_set0(sig, br, bs) != 1) {
                BN_free(br);
                BN_free(bs);
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "cannot set up the report's signature");
        }
        der_len = i2d_ECDSA_SIG(sig, &der);
        ok = der_len > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, der, (size_t) der_len, r->raw, SNP_SIGNED_SIZE) == 1;
        ERR_clear_error();
        if (!ok)
                return verdict_set(v, REASON_SNP_SIGNATURE_INVALID,
                                   "the SNP report's signature does not verify with the VEK");
        return REASON_OK;
}

/* Each SPL at or above the minimum's (a TCB is not ordered as one number: AMD raises the
 * components independently). @return the first component below, or NULL */
static const char *tcb_below(const struct snp_tcb *got, const struct snp_tcb *min)
{
        if (got->has_fmc && got->fmc < min->fmc)
                return "fmc";
        if (got->bl < min->bl)
                return "bl";
        if (got->tee < min->tee)
                return "tee";
        if (got->snp < min->snp)
                return "snp";
        if (got->ucode < min->ucode)
                return "ucode";
        return NULL;
}

enum reason snp_policy_check(const struct platform_policy *pol, const struct snp_report *r,
                             enum snp_product product, struct verdict *v)
{
        char hex[97];
        const char *low;
        struct snp_tcb t;

        /* The two every sane policy wants first, in the oracle's order. */
        if ((r->policy & (UINT64_C(1) << SNP_POLICY_DEBUG)) && !pol->allow_debug)
                return verdict_set(v, REASON_SNP_POLICY_DEBUG,
                                   "the guest policy allows debugging (DEBUG=1): the host can "
                                   "read and change the guest's memory");
        if (r->vmpl != pol->vmpl)
                return verdict_set(v, REASON_SNP_VMPL,
                                   "the report was requested at VMPL %u; the policy wants %u",
                                   r->vmpl, pol->vmpl);
        if ((r->policy & (UINT64_C(1) << SNP_POLICY_MIGRATE_MA)) && !pol->allow_migrate_ma)
                return verdict_set(v, REASON_SNP_POLICY_MIGRATE_MA,
                                   "the guest policy allows a migration agent (MIGRATE_MA=1)");
        if (pol->n_measurements &&
            !digest48_on_list(pol->measurements, pol->n_measurements, r->measurement)) {
                hex_encode(r->measurement, 48, hex);
                return verdict_set(v, REASON_SNP_MEASUREMENT,
                                   "MEASUREMENT %s is not on the policy's list", hex);
        }
        if (pol->n_id_keys && !digest48_on_list(pol->id_keys, pol->n_id_keys, r->id_key_digest)) {
                hex_encode(r->id_key_digest, 48, hex);
                return verdict_set(v, REASON_SNP_ID_KEY,
                                   "ID_KEY_DIGEST %s is not on the policy's list", hex);
        }
        if (pol->n_author_keys &&
            !digest48_on_list(pol->author_keys, pol->n_author_keys, r->author_key_digest)) {
                hex_encode(r->author_key_digest, 48, hex);
                return verdict_set(v, REASON_SNP_AUTHOR_KEY,
                                   "AUTHOR_KEY_DIGEST %s is not on the policy's list", hex);
        }
        if (product > SNP_PRODUCT_NONE && product < SNP_PRODUCT_UNKNOWN) {
                if (pol->min_reported[product].set) {
                        snp_tcb_decode(r->reported_tcb, product, &t);
                        if ((low = tcb_below(&t, &pol->min_reported[product].tcb)))
                                return verdict_set(v, REASON_SNP_TCB_TOO_OLD,
                                                   "REPORTED_TCB's %s SPL is below the "
                                                   "policy's minimum for %s",
                                                   low, snp_product_name(product));
                }
                if (pol->min_launch[product].set) {
                        snp_tcb_decode(r->launch_tcb, product, &t);
                        if ((low = tcb_below(&t, &pol->min_launch[product].tcb)))
                                return verdict_set(v, REASON_SNP_LAUNCH_TCB_TOO_OLD,
                                                   "LAUNCH_TCB's %s SPL is below the policy's "
                                                   "minimum for %s",
                                                   low, snp_product_name(product));
                }
        }
        if (r->guest_svn < pol->min_guest_svn)
                return verdict_set(v, REASON_SNP_GUEST_SVN,
                                   "GUEST_SVN %u is below the policy's minimum %u", r->guest_svn,
                                   pol->min_guest_svn);
        return REASON_OK;
}
