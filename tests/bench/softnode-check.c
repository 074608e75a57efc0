/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bench's software node against the verifier's own TPM code: the areas it marshals parse,
 * its ActivateCredential opens tpm_make_credential's blobs, its quotes verify; and against the
 * verifier's SEV-SNP code: its reports parse, carry the verifier's binding, meet the policy
 * snp-test-chain.py writes, and their signatures verify. */
#include "platform/platform.h"
#include "softnode.h"
#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

static struct softnode node;

static int setup(void **state)
{
        (void) state;
        return softnode_generate(&node) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        (void) state;
        softnode_done(&node);
        return 0;
}

static void test_ek_public(void **state)
{
        static const uint8_t policy[32] = {
            0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
            0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
            0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
        };
        struct tpm_public ek;
        uint8_t spki[32];

        (void) state;
        assert_int_equal(tpm_public_parse(node.ek_public, node.ek_public_size, &ek), 0);
        assert_int_equal(ek.type, TPMW_ALG_ECC);
        assert_int_equal(ek.name_alg, TPMW_ALG_SHA256);
        assert_int_equal(ek.attributes, 0x000300b2u);
        assert_int_equal(ek.auth_policy_size, 32);
        assert_memory_equal(ek.auth_policy, policy, 32);
        assert_int_equal(ek.sym_alg, TPMW_ALG_AES);
        assert_int_equal(ek.sym_bits, 128);
        assert_int_equal(ek.sym_mode, TPMW_ALG_CFB);
        assert_int_equal(ek.scheme, TPMW_ALG_NULL);
        assert_int_equal(ek.curve, TPMW_ECC_NIST_P256);
        assert_int_equal(ek.ecc_kdf, TPMW_ALG_NULL);
        assert_int_equal(ek.name_size, SOFTNODE_NAME_SIZE);
        assert_memory_equal(ek.name, node.ek_name, SOFTNODE_NAME_SIZE);
        /* The allowlist entry the bench enrolls is the one the verifier computes. */
        assert_int_equal(tpm_public_spki_sha256(&ek, spki), 0);
        assert_memory_equal(spki, node.ek_spki_sha256, 32);
}

static void test_ak_public(void **state)
{
        struct tpm_public ak;

        (void) state;
        assert_int_equal(tpm_public_parse(node.ak_public, node.ak_public_size, &ak), 0);
        assert_int_equal(ak.type, TPMW_ALG_ECC);
        assert_int_equal(ak.attributes, TPMW_OA_FIXED_TPM | TPMW_OA_FIXED_PARENT |
                                            TPMW_OA_SENSITIVE_DATA_ORIGIN | TPMW_OA_USER_WITH_AUTH |
                                            TPMW_OA_RESTRICTED | TPMW_OA_SIGN);
        assert_int_equal(ak.scheme, TPMW_ALG_ECDSA);
        assert_int_equal(ak.scheme_hash, TPMW_ALG_SHA256);
        assert_int_equal(ak.curve, TPMW_ECC_NIST_P256);
        assert_memory_equal(ak.name, node.ak_name, SOFTNODE_NAME_SIZE);
}

static void test_kdfa(void **state)
{
        uint8_t key[32], mine[64], theirs[64];

        (void) state;
        memset(key, 0x5a, sizeof(key));
        assert_int_equal(
            softnode_kdfa(key, 32, "STORAGE", node.ak_name, SOFTNODE_NAME_SIZE, NULL, 0, 128, mine),
            0);
        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA256, key, 32, "STORAGE", node.ak_name,
                                  SOFTNODE_NAME_SIZE, NULL, 0, 128, theirs),
                         0);
        assert_memory_equal(mine, theirs, 16);
        /* Two HMAC blocks: the counter must advance. */
        assert_int_equal(softnode_kdfa(key, 32, "INTEGRITY", NULL, 0, NULL, 0, 512, mine), 0);
        assert_int_equal(
            tpm_kdfa(TPMW_ALG_SHA256, key, 32, "INTEGRITY", NULL, 0, NULL, 0, 512, theirs), 0);
        assert_memory_equal(mine, theirs, 64);
}

static void test_activate_credential(void **state)
{
        struct tpm_blob id, es;
        struct tpm_public ek;
        uint8_t secret[32], got[64];
        size_t got_size = 0;

        (void) state;
        assert_int_equal(tpm_public_parse(node.ek_public, node.ek_public_size, &ek), 0);
        for (int i = 0; i < 20; i++) {
                assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
                assert_int_equal(tpm_make_credential(&ek, node.ak_name, SOFTNODE_NAME_SIZE, secret,
                                                     sizeof(secret), &id, &es),
                                 0);
                assert_int_equal(softnode_activate_credential(&node, id.data, id.size, es.data,
                                                              es.size, got, &got_size),
                                 0);
                assert_int_equal(got_size, sizeof(secret));
                assert_memory_equal(got, secret, sizeof(secret));
        }

        /* A flipped bit in the encrypted identity fails the integrity HMAC, as in a TPM. */
        id.data[id.size - 1] ^= 1;
        assert_int_equal(
            softnode_activate_credential(&node, id.data, id.size, es.data, es.size, got, &got_size),
            -EBADMSG);
        id.data[id.size - 1] ^= 1;
        /* Truncated structures are refused, never read past. */
        for (size_t n = 0; n < id.size; n++)
                assert_int_not_equal(softnode_activate_credential(&node, id.data, n, es.data,
                                                                  es.size, got, &got_size),
                                     0);
        for (size_t n = 0; n < es.size; n++)
                assert_int_not_equal(softnode_activate_credential(&node, id.data, id.size, es.data,
                                                                  n, got, &got_size),
                                     0);
}

static void test_quote(void **state)
{
        uint8_t challenge[98], nonce[32], digest[32];
        struct softnode_quote q;
        struct tpm_public ak;
        struct tpm_quote quote;
        struct tpm_signature sig;
        uint32_t mask = 0x8aff; /* PCRs 0-7, 9, 11, 15 */

        (void) state;
        assert_int_equal(RAND_bytes(challenge, sizeof(challenge)), 1);
        memset(digest, 0x42, sizeof(digest));
        assert_int_equal(
            softnode_quote(&node, challenge, sizeof(challenge), mask, digest, 123456, 7, &q), 0);
        assert_int_equal(tpm_public_parse(node.ak_public, node.ak_public_size, &ak), 0);
        assert_int_equal(tpm_quote_parse(q.attest, q.attest_size, &quote), 0);
        assert_int_equal(tpm_signature_parse(q.signature, q.signature_size, &sig), 0);
        SHA256(challenge, sizeof(challenge), nonce);
        assert_int_equal(quote.magic, TPMW_GENERATED_VALUE);
        assert_int_equal(quote.type, TPMW_ST_ATTEST_QUOTE);
        assert_int_equal(quote.extra_data_size, 32);
        assert_memory_equal(quote.extra_data, nonce, 32);
        assert_int_equal(quote.reset_count, 7);
        assert_int_equal(quote.clock, 123456);
        assert_int_equal(quote.pcr_hash, TPMW_ALG_SHA256);
        assert_int_equal(quote.pcr_mask, mask);
        assert_int_equal(quote.pcr_digest_size, 32);
        assert_memory_equal(quote.pcr_digest, digest, 32);
        assert_int_equal(tpm_quote_verify(&ak, &quote, &sig), 0);

        /* The signature covers the attest bytes: change one and it no longer verifies. */
        q.attest[q.attest_size - 1] ^= 1;
        assert_int_equal(tpm_quote_parse(q.attest, q.attest_size, &quote), 0);
        assert_int_equal(tpm_quote_verify(&ak, &quote, &sig), -EBADMSG);
}

/* A certificate for the VCEK's key: snp_signature_verify() takes the key from one. The chain
 * above a VCEK is amd-chain.c's business and tested there. */
static X509 *self_signed(EVP_PKEY *key)
{
        X509 *c = X509_new();

        if (!c || !X509_set_version(c, 2) || !X509_set_pubkey(c, key) ||
            !X509_gmtime_adj(X509_getm_notBefore(c), 0) ||
            !X509_gmtime_adj(X509_getm_notAfter(c), 3600) || !X509_sign(c, key, EVP_sha384())) {
                X509_free(c);
                return NULL;
        }
        return c;
}

static void test_snp_report(void **state)
{
        /* tests/tools/snp-test-chain.py's policy section, with its measurement and TCB. */
        static const char policy_json[] =
            "{\"require\": \"snp\", \"tpm_trust\": \"cloud-ca\", \"snp\": {\"measurements\": "
            "[\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728"
            "292a2b2c2d2e2f\"], \"vmpl\": 0, \"min_reported_tcb\": {\"Milan\": {\"bl\": 3, "
            "\"tee\": 0, \"snp\": 8, \"ucode\": 115}}}}";
        struct softnode_snp snp = {.tcb = 0x7308000000000003ull};
        uint8_t challenge[98], binding[64], expected[64], report[SOFTNODE_SNP_REPORT_SIZE];
        struct platform_policy pol;
        struct snp_report r;
        struct verdict v = {};
        json_object *section;
        char err[256];
        X509 *vcek;

        (void) state;
        snp.vcek = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        assert_non_null(snp.vcek);
        for (size_t i = 0; i < sizeof(snp.measurement); i++)
                snp.measurement[i] = (uint8_t) i;
        assert_int_equal(RAND_bytes(snp.chip_id, sizeof(snp.chip_id)), 1);
        assert_int_equal(RAND_bytes(challenge, sizeof(challenge)), 1);

        /* REPORT_DATA: the verifier's P for this challenge and these keys. */
        assert_int_equal(softnode_platform_binding(&node, challenge, sizeof(challenge), binding),
                         0);
        platform_binding(challenge, sizeof(challenge), node.ek_name, SOFTNODE_NAME_SIZE,
                         node.ak_name, SOFTNODE_NAME_SIZE, expected);
        assert_memory_equal(binding, expected, 64);

        assert_int_equal(softnode_snp_report(&snp, binding, report), 0);
        assert_int_equal(snp_report_parse(report, sizeof(report), &r, &v), REASON_OK);
        assert_int_equal(r.version, 3);
        assert_int_equal(r.vmpl, 0);
        assert_int_equal(r.product, SNP_PRODUCT_MILAN);
        assert_int_equal(r.signing_key, SNP_SIGNING_VCEK);
        assert_true(r.reported_tcb == snp.tcb && r.launch_tcb == snp.tcb);
        assert_memory_equal(r.report_data, binding, 64);
        assert_memory_equal(r.measurement, snp.measurement, 48);
        assert_memory_equal(r.chip_id, snp.chip_id, 64);

        section = json_tokener_parse(policy_json);
        assert_non_null(section);
        assert_int_equal(platform_policy_parse(section, &pol, err, sizeof(err)), 0);
        json_object_put(section);
        assert_int_equal(snp_policy_check(&pol, &r, r.product, &v), REASON_OK);

        vcek = self_signed(snp.vcek);
        assert_non_null(vcek);
        assert_int_equal(snp_signature_verify(&r, vcek, &v), REASON_OK);
        /* The signature covers REPORT_DATA: another binding no longer verifies. */
        report[0x50] ^= 1;
        assert_int_equal(snp_report_parse(report, sizeof(report), &r, &v), REASON_OK);
        assert_int_equal(snp_signature_verify(&r, vcek, &v), REASON_SNP_SIGNATURE_INVALID);
        X509_free(vcek);
        softnode_snp_done(&snp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ek_public), cmocka_unit_test(test_ak_public),
            cmocka_unit_test(test_kdfa),      cmocka_unit_test(test_activate_credential),
            cmocka_unit_test(test_quote),     cmocka_unit_test(test_snp_report),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
