/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Challenges: key derivation against known answers (Python's hmac), the 98-byte layout, round
 * trip, expiry at the exact second, every byte tampered, binding, and the secret file's rules. */

#include "appraisal/challenge.h"
#include "util.h"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

#define NOW 1795000000ull

static const uint8_t secret[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* HMAC-SHA-256(secret, "nodegate challenge v1" / "nodegate credential v1"), from Python. */
static const char kat_challenge_key[] =
    "9984e3c1ce02ac5a5cb546bca28546afbd4aed5915fc63177b0a6fa79572181c";
static const char kat_credential_key[] =
    "7e101b4dc3a3680ced6df2db0d308e4c28c86c37fce744502a584b93fcf57617";

static uint8_t key[32], credential_key[32], binding[32];

/* challenge_binding() of two short names: 0x000b (SHA-256) and the text. */
static void bind_names(const char *ek, const char *ak, uint8_t ret[32])
{
        uint8_t e[2 + 16] = {0x00, 0x0b}, a[2 + 16] = {0x00, 0x0b};

        assert_true(strlen(ek) <= 16 && strlen(ak) <= 16);
        memcpy(e + 2, ek, strlen(ek));
        memcpy(a + 2, ak, strlen(ak));
        challenge_binding(e, 2 + strlen(ek), a, 2 + strlen(ak), ret);
}

static int setup(void **state)
{
        (void) state;
        assert_int_equal(challenge_derive_keys(secret, sizeof(secret), key, credential_key), 0);
        bind_names("ek-name", "ak-name", binding);
        return 0;
}

static void test_derive_keys(void **state)
{
        uint8_t a[32], b[32];
        char h[65];

        (void) state;
        assert_int_equal(challenge_derive_keys(secret, sizeof(secret), a, b), 0);
        hex_encode(a, 32, h);
        assert_string_equal(h, kat_challenge_key);
        hex_encode(b, 32, h);
        assert_string_equal(h, kat_credential_key);
        assert_int_equal(challenge_derive_keys(secret, 31, a, b), -EINVAL);
}

static void test_layout(void **state)
{
        uint8_t c[CHALLENGE_SIZE], mac[32];
        unsigned len = 32;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_ALLOWLIST, c), 0);
        assert_int_equal(c[0], 1);
        for (int i = 0; i < 8; i++) {
                assert_int_equal(c[1 + i], (uint8_t) (NOW >> (56 - 8 * i)));
                assert_int_equal(c[9 + i], (uint8_t) ((NOW + 60) >> (56 - 8 * i)));
        }
        assert_memory_equal(c + 33, binding, 32);
        assert_int_equal(c[65], 2);
        assert_non_null(HMAC(EVP_sha256(), key, 32, c, 66, mac, &len));
        assert_memory_equal(c + 66, mac, 32);
        assert_int_equal(challenge_expires_at(c), NOW + 60);
}

static void test_round_trip(void **state)
{
        uint8_t c[CHALLENGE_SIZE], d[CHALLENGE_SIZE];
        enum ek_trust_kind trust = 0;
        struct verdict v;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW, binding, &trust, &v), REASON_OK);
        assert_int_equal(trust, EK_TRUST_CHAIN);
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW + 60, binding, NULL, &v),
                         REASON_OK);
        /* 16 random bytes: two challenges of the same second differ */
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, d), 0);
        assert_memory_not_equal(c + 17, d + 17, 16);
}

static void test_expiry(void **state)
{
        uint8_t c[CHALLENGE_SIZE];
        struct verdict v;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW + 61, binding, NULL, &v),
                         REASON_CHALLENGE_EXPIRED);
        assert_string_equal(v.message, "the challenge expired 1 s ago: start again from round 1");
        assert_int_equal(challenge_verify(key, c, sizeof(c), UINT64_MAX, binding, NULL, &v),
                         REASON_CHALLENGE_EXPIRED);
        /* a lifetime of 0: valid in its own second only */
        assert_int_equal(challenge_issue(key, NOW, 0, binding, EK_TRUST_CHAIN, c), 0);
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW, binding, NULL, &v), REASON_OK);
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW + 1, binding, NULL, &v),
                         REASON_CHALLENGE_EXPIRED);
}

/* Any single bit flipped anywhere, MAC included, is refused as invalid: never as expired or
 * unbound, which would mean a field was trusted before the MAC. */
static void test_tamper_each_byte(void **state)
{
        uint8_t c[CHALLENGE_SIZE];
        struct verdict v;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        for (size_t i = 0; i < sizeof(c); i++)
                for (int bit = 0; bit < 8; bit++) {
                        uint8_t t[CHALLENGE_SIZE];

                        memcpy(t, c, sizeof(t));
                        t[i] ^= (uint8_t) (1u << bit);
                        if (challenge_verify(key, t, sizeof(t), NOW, binding, NULL, &v) !=
                            REASON_CHALLENGE_INVALID)
                                fail_msg("byte %zu bit %d: %s", i, bit, v.message);
                        assert_string_equal(v.message,
                                            "the challenge was not issued by this verifier (MAC)");
                }
}

static void test_length_and_key(void **state)
{
        uint8_t c[CHALLENGE_SIZE + 1], other[32];
        struct verdict v;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        c[CHALLENGE_SIZE] = 0;
        assert_int_equal(challenge_verify(key, c, CHALLENGE_SIZE - 1, NOW, binding, NULL, &v),
                         REASON_CHALLENGE_INVALID);
        assert_string_equal(v.message, "the challenge has 97 bytes, not 98");
        assert_int_equal(challenge_verify(key, c, CHALLENGE_SIZE + 1, NOW, binding, NULL, &v),
                         REASON_CHALLENGE_INVALID);
        assert_int_equal(challenge_verify(key, c, 0, NOW, binding, NULL, &v),
                         REASON_CHALLENGE_INVALID);
        /* another replica's key: another secret */
        memcpy(other, key, 32);
        other[31] ^= 1;
        assert_int_equal(challenge_verify(other, c, CHALLENGE_SIZE, NOW, binding, NULL, &v),
                         REASON_CHALLENGE_INVALID);
        /* the credential key is not the challenge key */
        assert_int_equal(
            challenge_verify(credential_key, c, CHALLENGE_SIZE, NOW, binding, NULL, &v),
            REASON_CHALLENGE_INVALID);
}

/* Authentic challenges with fields this version does not issue. */
static void test_authentic_but_wrong(void **state)
{
        uint8_t c[CHALLENGE_SIZE];
        unsigned len = 32;
        struct verdict v;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        c[0] = 2;
        assert_non_null(HMAC(EVP_sha256(), key, 32, c, 66, c + 66, &len));
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW, binding, NULL, &v),
                         REASON_CHALLENGE_INVALID);
        assert_string_equal(v.message, "challenge version 2, not 1");
        c[0] = 1;
        c[65] = 4; /* 3 is EK_TRUST_PLATFORM (protocol version 3) */
        assert_non_null(HMAC(EVP_sha256(), key, 32, c, 66, c + 66, &len));
        assert_int_equal(challenge_verify(key, c, sizeof(c), NOW, binding, NULL, &v),
                         REASON_CHALLENGE_INVALID);
        assert_string_equal(v.message, "challenge EK trust 4 unknown");
}

static void test_binding(void **state)
{
        static const char *const others[][2] = {
            {"ek-name", "ak-namf"}, {"ek-namf", "ak-name"}, {"ak-name", "ek-name"}};
        uint8_t c[CHALLENGE_SIZE], b[32], expect[32], cat[18];
        struct verdict v;

        (void) state;
        memcpy(cat,
               "\x00\x0b"
               "ek-name"
               "\x00\x0b"
               "ak-name",
               18);
        SHA256(cat, 18, expect);
        assert_memory_equal(binding, expect, 32);

        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        /* another AK, another EK, the two swapped: each is another binding */
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                bind_names(others[i][0], others[i][1], b);
                assert_int_equal(challenge_verify(key, c, sizeof(c), NOW, b, NULL, &v),
                                 REASON_CHALLENGE_BINDING);
        }
        /* a long name takes the other path through challenge_binding() */
        uint8_t big[100] = {1}, both[200];
        memcpy(both, big, 100);
        memcpy(both + 100, big, 100);
        challenge_binding(big, 100, big, 100, b);
        SHA256(both, 200, expect);
        assert_memory_equal(b, expect, 32);
}

static void test_credential_and_nonce(void **state)
{
        uint8_t c[CHALLENGE_SIZE], d[CHALLENGE_SIZE], s1[32], s2[32], expect[32];
        unsigned len = 32;

        (void) state;
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, c), 0);
        assert_int_equal(challenge_issue(key, NOW, 60, binding, EK_TRUST_CHAIN, d), 0);
        challenge_credential(credential_key, c, s1);
        assert_non_null(HMAC(EVP_sha256(), credential_key, 32, c, CHALLENGE_SIZE, expect, &len));
        assert_memory_equal(s1, expect, 32);
        challenge_credential(credential_key, d, s2);
        assert_memory_not_equal(s1, s2, 32);

        challenge_qualifying_data(c, s1);
        SHA256(c, CHALLENGE_SIZE, expect);
        assert_memory_equal(s1, expect, 32);
}

static char dir[] = "/tmp/test-verifier-challenge-XXXXXX";

static void write_secret(const char *name, size_t size, mode_t mode)
{
        char path[256];
        uint8_t buf[5000];

        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t) i;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        test_write_file(path, buf, size, mode);
}

static int load(const char *name, uint8_t a[32], uint8_t b[32], char *err, size_t errlen)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return challenge_load_secret(path, a, b, NULL, err, errlen);
}

static void test_load_secret(void **state)
{
        uint8_t a[32], b[32];
        char err[512], h[65], path[256];

        (void) state;
        assert_non_null(mkdtemp(dir));
        write_secret("ok", 32, 0600);
        write_secret("ro", 32, 0400);
        write_secret("group", 32, 0640);
        write_secret("kubelet", 32, 0440);
        write_secret("othergroup", 32, 0440);
        write_secret("world", 32, 0604);
        write_secret("gwrite", 32, 0620);
        write_secret("short", 31, 0600);
        write_secret("max", 4096, 0600);
        write_secret("long", 4097, 0600);

        assert_int_equal(load("ok", a, b, err, sizeof(err)), 0);
        hex_encode(a, 32, h);
        assert_string_equal(h, kat_challenge_key);
        hex_encode(b, 32, h);
        assert_string_equal(h, kat_credential_key);
        assert_int_equal(load("ro", a, b, err, sizeof(err)), 0);
        assert_int_equal(load("max", a, b, err, sizeof(err)), 0);

        /* Group read by the verifier's own group: a Secret volume of a non-root pod. */
        assert_int_equal(load("group", a, b, err, sizeof(err)), 0);
        assert_int_equal(load("kubelet", a, b, err, sizeof(err)), 0);
        /* ...but not by a group it does not run as. */
        snprintf(path, sizeof(path), "%s/othergroup", dir);
        assert_int_equal(chown(path, (uid_t) -1, getegid() + 4242), 0);
        assert_int_equal(load("othergroup", a, b, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "has mode 0440, group "));
        assert_non_null(strstr(err, "others must have no access, the group at most read access"));
        assert_int_equal(load("world", a, b, err, sizeof(err)), -EPERM);
        assert_int_equal(load("gwrite", a, b, err, sizeof(err)), -EPERM);
        assert_int_equal(load("short", a, b, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "has 31 bytes: it must have 32 to 4096"));
        assert_int_equal(load("long", a, b, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "has more than 4096 bytes"));
        assert_int_equal(load("missing", a, b, err, sizeof(err)), -ENOENT);
        assert_int_equal(challenge_load_secret(dir, a, b, NULL, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "is not a regular file"));
        /* err may be NULL */
        assert_int_equal(load("othergroup", a, b, NULL, 0), -EPERM);

        assert_int_equal(test_remove_tree(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_derive_keys),          cmocka_unit_test(test_layout),
            cmocka_unit_test(test_round_trip),           cmocka_unit_test(test_expiry),
            cmocka_unit_test(test_tamper_each_byte),     cmocka_unit_test(test_length_and_key),
            cmocka_unit_test(test_authentic_but_wrong),  cmocka_unit_test(test_binding),
            cmocka_unit_test(test_credential_and_nonce), cmocka_unit_test(test_load_secret),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
