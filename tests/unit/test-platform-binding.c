/* SPDX-License-Identifier: GPL-2.0-or-later */
/* platform_binding(): a known answer computed independently (Python hashlib, the recipe of
 * docs/PROTOCOL.md), and a change of any input changes P. Linked with the gate's own mbedTLS. */

#include "platform/binding.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void unhex(const char *s, uint8_t *ret, size_t n)
{
        assert_int_equal(strlen(s), 2 * n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(sscanf(s + 2 * i, "%2hhx", &ret[i]), 1);
}

/* A P-384-named "EK" (nameAlg SHA-384) and a SHA-256-named "AK": the names hash the bytes. */
static const char ek_hex[] = "002c0023000c000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
                             "1c1d1e1f2021222324252627";
static const char ak_hex[] = "00220023000b6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                             "8081";
/* python3: sha512(b"nodegate platform v3\0" + challenge + name(ek) + name(ak)) */
static const char p_hex[] = "2420c88c86899a8f6c7f594da77b4658bf56d05f5c12862c6b8b5d87409411b853e1c"
                            "3911ffed7ddefaf74ea1a284d6ded15756310f6b0f8c7edc8763d26fbeb";

static void known_answer(void **state)
{
        uint8_t ek[46], ak[36], challenge[98], want[64], got[64];

        (void) state;
        unhex(ek_hex, ek, sizeof(ek));
        unhex(ak_hex, ak, sizeof(ak));
        unhex(p_hex, want, sizeof(want));
        for (size_t i = 0; i < sizeof(challenge); i++)
                challenge[i] = (uint8_t) (i * 3);
        assert_int_equal(
            platform_binding(challenge, sizeof(challenge), ek, sizeof(ek), ak, sizeof(ak), got), 0);
        assert_memory_equal(got, want, sizeof(want));

        /* Every input counts. */
        challenge[97] ^= 1;
        assert_int_equal(
            platform_binding(challenge, sizeof(challenge), ek, sizeof(ek), ak, sizeof(ak), got), 0);
        assert_memory_not_equal(got, want, sizeof(want));
        challenge[97] ^= 1;
        ak[35] ^= 1;
        assert_int_equal(
            platform_binding(challenge, sizeof(challenge), ek, sizeof(ek), ak, sizeof(ak), got), 0);
        assert_memory_not_equal(got, want, sizeof(want));
        ak[35] ^= 1;
        /* EK and AK swapped is another binding. */
        assert_int_equal(
            platform_binding(challenge, sizeof(challenge), ak, sizeof(ak), ek, sizeof(ek), got), 0);
        assert_memory_not_equal(got, want, sizeof(want));
}

static void no_name(void **state)
{
        uint8_t ek[46], ak[36], challenge[98] = {}, got[64];

        (void) state;
        unhex(ek_hex, ek, sizeof(ek));
        unhex(ak_hex, ak, sizeof(ak));
        /* A size that disagrees with the blob, an unknown nameAlg (SHA-1 has no place here). */
        assert_int_equal(platform_binding(challenge, 98, ek, sizeof(ek) - 1, ak, sizeof(ak), got),
                         -EBADMSG);
        ak[5] = 0x04;
        assert_int_equal(platform_binding(challenge, 98, ek, sizeof(ek), ak, sizeof(ak), got),
                         -EBADMSG);
        assert_int_equal(platform_binding(challenge, 98, ek, 3, ak, sizeof(ak), got), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(known_answer),
            cmocka_unit_test(no_name),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
