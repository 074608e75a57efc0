/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot's derived token (same inputs, same token; any input changed, another; kubeadm's
 * format; a known answer from Python's hmac), the memory of issued boots and the per-EK
 * round-2 bucket. */

#include "issuance/issuance.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t name[34] = {0x00, 0x0b, 0xaa, 0xbb, 0xcc}; /* SHA-256 nameAlg, a digest */

static void test_derivation(void **state)
{
        struct issuance_boot a, b;
        uint8_t other_key[32];

        (void) state;
        assert_int_equal(issuance_boot(key, name, sizeof(name), 7, 0, &a), 0);
        assert_true(token_is_valid(a.token, strlen(a.token)));
        /* Python: n = int.from_bytes(hmac.new(key, b"nodegate token v2" + name +
         * (7).to_bytes(4, "big") + (0).to_bytes(4, "big"), "sha256").digest(), "big"), then 22
         * times c = n % 36, n //= 36, the '.' after the sixth character. */
        assert_string_equal(a.token, "ir3mno.0x2rmkq3m9p5t0h2");

        /* the same boot, the same token and tags */
        assert_int_equal(issuance_boot(key, name, sizeof(name), 7, 0, &b), 0);
        assert_string_equal(a.token, b.token);
        assert_memory_equal(a.tag, b.tag, 32);
        assert_memory_equal(a.ek_key, b.ek_key, 32);
        assert_memory_equal(a.pool_pad, b.pool_pad, 32);

        /* a reboot (resetCount), a TPM Restart (restartCount): another boot of the same EK */
        assert_int_equal(issuance_boot(key, name, sizeof(name), 8, 0, &b), 0);
        assert_string_not_equal(a.token, b.token);
        assert_memory_not_equal(a.tag, b.tag, 32);
        assert_memory_equal(a.ek_key, b.ek_key, 32);
        assert_int_equal(issuance_boot(key, name, sizeof(name), 7, 1, &b), 0);
        assert_string_not_equal(a.token, b.token);
        assert_memory_not_equal(a.tag, b.tag, 32);
        /* resetCount 7, restartCount 1 is not resetCount 1, restartCount 7 */
        struct issuance_boot c;
        assert_int_equal(issuance_boot(key, name, sizeof(name), 1, 7, &c), 0);
        assert_memory_not_equal(b.tag, c.tag, 32);

        /* another EK, another secret */
        uint8_t other_name[34];
        memcpy(other_name, name, sizeof(name));
        other_name[33] ^= 1;
        assert_int_equal(issuance_boot(key, other_name, sizeof(other_name), 7, 0, &b), 0);
        assert_string_not_equal(a.token, b.token);
        assert_memory_not_equal(a.ek_key, b.ek_key, 32);
        memcpy(other_key, key, 32);
        other_key[0] ^= 1;
        assert_int_equal(issuance_boot(other_key, name, sizeof(name), 7, 0, &b), 0);
        assert_string_not_equal(a.token, b.token);

        /* the parts are independent: no tag is the token's MAC */
        assert_memory_not_equal(a.tag, a.ek_key, 32);
        assert_memory_not_equal(a.tag, a.pool_pad, 32);

        /* a name longer than any TPM's is refused, nothing is left behind */
        uint8_t long_name[80] = {0};
        assert_int_equal(issuance_boot(key, long_name, sizeof(long_name), 7, 0, &b), -EINVAL);
        for (size_t i = 0; i < sizeof(b); i++)
                assert_int_equal(((const uint8_t *) &b)[i], 0);

        issuance_boot_done(&a);
        for (size_t i = 0; i < sizeof(a); i++)
                assert_int_equal(((const uint8_t *) &a)[i], 0);
        issuance_boot_done(&c);
}

/* Many boots: the derived tokens use the whole alphabet at every position. */
static void test_alphabet(void **state)
{
        bool seen[TOKEN_SIZE][36] = {};

        (void) state;
        for (uint32_t n = 0; n < 4000; n++) {
                struct issuance_boot b;

                assert_int_equal(issuance_boot(key, name, sizeof(name), n, 0, &b), 0);
                assert_true(token_is_valid(b.token, TOKEN_SIZE));
                for (size_t i = 0; i < TOKEN_SIZE; i++) {
                        char ch = b.token[i];
                        if (i == TOKEN_ID_SIZE)
                                continue;
                        seen[i][ch <= '9' ? ch - '0' : ch - 'a' + 10] = true;
                }
        }
        for (size_t i = 0; i < TOKEN_SIZE; i++)
                for (size_t k = 0; i != TOKEN_ID_SIZE && k < 36; k++)
                        if (!seen[i][k])
                                fail_msg("position %zu never had character %zu", i, k);
}

static void test_memory(void **state)
{
        struct issuance *is;
        struct issuance_boot a, b;

        (void) state;
        assert_int_equal(issuance_new(&is), 0);
        assert_int_equal(issuance_boot(key, name, sizeof(name), 7, 0, &a), 0);
        assert_int_equal(issuance_boot(key, name, sizeof(name), 8, 0, &b), 0);
        assert_false(issuance_seen(is, a.tag, 1000));
        issuance_remember(is, a.tag, 1000);
        assert_true(issuance_seen(is, a.tag, 1000));
        assert_true(issuance_seen(is, a.tag, 1000 + ISSUANCE_REMEMBER_SEC - 1));
        assert_false(issuance_seen(is, a.tag, 1000 + ISSUANCE_REMEMBER_SEC));
        assert_false(issuance_seen(is, b.tag, 1000));
        issuance_free(is);
}

static void test_bucket(void **state)
{
        struct issuance *is;
        struct issuance_boot a, b;

        (void) state;
        assert_int_equal(issuance_new(&is), 0);
        assert_int_equal(issuance_boot(key, name, sizeof(name), 7, 0, &a), 0);
        uint8_t other_name[34];
        memcpy(other_name, name, sizeof(name));
        other_name[2] ^= 0xff;
        assert_int_equal(issuance_boot(key, other_name, sizeof(other_name), 7, 0, &b), 0);

        for (int i = 0; i < ISSUANCE_EK_BURST; i++)
                assert_int_equal(issuance_ek_take(is, a.ek_key, 100), 0);
        assert_int_equal(issuance_ek_take(is, a.ek_key, 100), ISSUANCE_EK_REFILL_SEC);
        assert_int_equal(issuance_ek_take(is, a.ek_key, 100 + ISSUANCE_EK_REFILL_SEC - 1), 1);
        /* another EK is not held back by this one */
        assert_int_equal(issuance_ek_take(is, b.ek_key, 100), 0);
        /* one more after each refill period, never more than the burst */
        assert_int_equal(issuance_ek_take(is, a.ek_key, 100 + ISSUANCE_EK_REFILL_SEC), 0);
        assert_true(issuance_ek_take(is, a.ek_key, 100 + ISSUANCE_EK_REFILL_SEC) > 0);
        for (int i = 0; i < ISSUANCE_EK_BURST; i++)
                assert_int_equal(issuance_ek_take(is, a.ek_key, 100000), 0);
        assert_true(issuance_ek_take(is, a.ek_key, 100000) > 0);
        issuance_free(is);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_derivation),
            cmocka_unit_test(test_alphabet),
            cmocka_unit_test(test_memory),
            cmocka_unit_test(test_bucket),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
