/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bench's software node against the verifier's own TPM code: the areas it marshals parse,
 * its ActivateCredential opens tpm_make_credential's blobs, its quotes verify. */
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

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ek_public), cmocka_unit_test(test_ak_public),
            cmocka_unit_test(test_kdfa),      cmocka_unit_test(test_activate_credential),
            cmocka_unit_test(test_quote),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
