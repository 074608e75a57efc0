/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verifier/tpm/tpm2b.c against structures a real TPM made (swtpm 0.7.1 + tpm2-tools 5.4, names from
 * `tpm2_readpublic -n`), and against every truncation, trailing byte and foreign algorithm. */

#include "tpm/tpm2b.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test-verifier-tpm-fixtures.h"

static void put16(uint8_t *p, unsigned v)
{
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

/* Parsers under test, one signature: the two TPM2B ones and the TPMT_SIGNATURE one. */
enum kind { PUBLIC, QUOTE, SIGNATURE };

static int parse(enum kind k, const uint8_t *b, size_t n)
{
        /* a canary: a failing parser must leave its output alone */
        union {
                struct tpm_public pub;
                struct tpm_quote quote;
                struct tpm_signature sig;
        } out, canary;
        int r;

        memset(&out, 0xa5, sizeof(out));
        memcpy(&canary, &out, sizeof(out));
        r = k == PUBLIC  ? tpm_public_parse(b, n, &out.pub)
            : k == QUOTE ? tpm_quote_parse(b, n, &out.quote)
                         : tpm_signature_parse(b, n, &out.sig);
        if (r < 0)
                assert_memory_equal(&out, &canary, sizeof(out));
        return r;
}

static int parse_hex_patched(enum kind k, const char *hex, size_t offset, const uint8_t *patch,
                             size_t patch_size)
{
        struct bytes f = unhex(hex);

        assert_true(offset + patch_size <= f.n);
        memcpy(f.b + offset, patch, patch_size);
        return parse(k, f.b, f.n);
}
#define PATCH(k, hex, offset, ...)                                                                 \
        parse_hex_patched(k, hex, offset, (const uint8_t[]){__VA_ARGS__},                          \
                          sizeof((const uint8_t[]){__VA_ARGS__}))

/* A fixture with remove bytes at offset replaced by insert; a TPM2B's size prefix follows. */
static int parse_hex_spliced(enum kind k, const char *hex, size_t offset, size_t remove,
                             const uint8_t *insert, size_t insert_size)
{
        struct bytes f = unhex(hex);

        assert_true(offset + remove <= f.n && f.n - remove + insert_size <= BUF_MAX);
        memmove(f.b + offset + insert_size, f.b + offset + remove, f.n - offset - remove);
        memcpy(f.b + offset, insert, insert_size);
        f.n = f.n - remove + insert_size;
        if (k != SIGNATURE)
                put16(f.b, f.n - 2);
        return parse(k, f.b, f.n);
}
#define SPLICE(k, hex, offset, remove, ...)                                                        \
        parse_hex_spliced(k, hex, offset, remove, (const uint8_t[]){__VA_ARGS__},                  \
                          sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_ek_rsa(void **state)
{
        struct bytes f = unhex(EK_RSA);
        struct tpm_public p;

        (void) state;
        assert_int_equal(tpm_public_parse(f.b, f.n, &p), 0);
        assert_int_equal(p.type, TPMW_ALG_RSA);
        assert_int_equal(p.name_alg, TPMW_ALG_SHA256);
        assert_int_equal(p.attributes, 0x000300b2);
        assert_int_equal(p.auth_policy_size, 32);
        assert_hex(p.auth_policy, 32,
                   "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");
        assert_int_equal(p.sym_alg, TPMW_ALG_AES);
        assert_int_equal(p.sym_bits, 128);
        assert_int_equal(p.sym_mode, TPMW_ALG_CFB);
        assert_int_equal(p.scheme, TPMW_ALG_NULL);
        assert_int_equal(p.rsa_bits, 2048);
        assert_int_equal(p.rsa_exponent, 65537); /* 0 in the area */
        assert_int_equal(p.rsa_n_size, 256);
        assert_memory_equal(p.rsa_n, f.b + 60, 256);
        assert_hex(p.name, p.name_size, EK_RSA_NAME);
}

static void test_ek_ecc(void **state)
{
        struct bytes f = unhex(EK_ECC);
        struct tpm_public p;

        (void) state;
        assert_int_equal(tpm_public_parse(f.b, f.n, &p), 0);
        assert_int_equal(p.type, TPMW_ALG_ECC);
        assert_int_equal(p.attributes, 0x000300b2);
        assert_int_equal(p.sym_bits, 128);
        assert_int_equal(p.curve, TPMW_ECC_NIST_P256);
        assert_int_equal(p.ecc_kdf, TPMW_ALG_NULL);
        assert_int_equal(p.scheme, TPMW_ALG_NULL);
        assert_hex(p.ecc_x, p.ecc_x_size,
                   "2ad80e8f10807e73c17220ebb9ffea8c08f31d4b0bd1d9f3419e3e25c93011d6");
        assert_hex(p.ecc_y, p.ecc_y_size,
                   "aa6649a901a259c6e3503ba3ffa62a6fb407af5a11ce6f2d36e9b40a234d9ee1");
        assert_hex(p.name, p.name_size, EK_ECC_NAME);
}

static void test_ek_p384(void **state)
{
        struct bytes f = unhex(EK_P384);
        struct tpm_public p;

        (void) state;
        assert_int_equal(tpm_public_parse(f.b, f.n, &p), 0);
        assert_int_equal(p.name_alg, TPMW_ALG_SHA384);
        /* the high-range template H-3: userWithAuth set, unlike the low range */
        assert_int_equal(p.attributes, 0x000300f2);
        assert_int_equal(p.auth_policy_size, 48);
        assert_int_equal(p.sym_bits, 256);
        assert_int_equal(p.curve, TPMW_ECC_NIST_P384);
        assert_int_equal(p.ecc_x_size, 48);
        assert_int_equal(p.ecc_y_size, 48);
        assert_int_equal(p.name_size, 50);
        assert_hex(p.name, p.name_size, EK_P384_NAME);
}

static void test_aks(void **state)
{
        struct bytes e = unhex(AK_ECC), r = unhex(AK_RSA);
        struct tpm_public p;

        (void) state;
        assert_int_equal(tpm_public_parse(e.b, e.n, &p), 0);
        assert_int_equal(p.attributes, 0x00050072);
        assert_int_equal(p.auth_policy_size, 0);
        assert_int_equal(p.sym_alg, TPMW_ALG_NULL);
        assert_int_equal(p.scheme, TPMW_ALG_ECDSA);
        assert_int_equal(p.scheme_hash, TPMW_ALG_SHA256);
        assert_hex(p.name, p.name_size, AK_ECC_NAME);

        assert_int_equal(tpm_public_parse(r.b, r.n, &p), 0);
        assert_int_equal(p.scheme, TPMW_ALG_RSASSA);
        assert_int_equal(p.scheme_hash, TPMW_ALG_SHA256);
        assert_int_equal(p.rsa_n_size, 256);
        assert_hex(p.name, p.name_size, AK_RSA_NAME);
}

static void test_sealed(void **state)
{
        struct bytes f = unhex(SEALED);
        struct tpm_public p;

        (void) state;
        assert_int_equal(tpm_public_parse(f.b, f.n, &p), 0);
        assert_int_equal(p.type, TPMW_ALG_KEYEDHASH);
        assert_int_equal(p.scheme, TPMW_ALG_NULL);
        assert_hex(p.name, p.name_size, SEALED_NAME);
}

static void test_quote(void **state)
{
        struct bytes f = unhex(QUOTE_ECC);
        struct tpm_quote q;

        (void) state;
        assert_int_equal(tpm_quote_parse(f.b, f.n, &q), 0);
        assert_int_equal(q.magic, TPMW_GENERATED_VALUE);
        assert_int_equal(q.type, TPMW_ST_ATTEST_QUOTE);
        assert_hex(q.extra_data, q.extra_data_size, "0011");
        assert_int_equal(q.clock, 0x1aba);
        assert_int_equal(q.reset_count, 1);
        assert_int_equal(q.restart_count, 0);
        assert_int_equal(q.safe, 1);
        assert_int_equal(q.firmware_version, 0x2019102300163636);
        assert_int_equal(q.pcr_hash, TPMW_ALG_SHA256);
        assert_int_equal(q.pcr_mask, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 7 | 1u << 15);
        assert_hex(q.pcr_digest, q.pcr_digest_size, PCR_DIGEST);
        assert_ptr_equal(q.signed_data, f.b + 2);
        assert_int_equal(q.signed_size, f.n - 2);
}

static void test_signatures(void **state)
{
        struct bytes e = unhex(SIG_ECC), r = unhex(SIG_RSA);
        struct tpm_signature s;

        (void) state;
        assert_int_equal(tpm_signature_parse(e.b, e.n, &s), 0);
        assert_int_equal(s.alg, TPMW_ALG_ECDSA);
        assert_int_equal(s.hash, TPMW_ALG_SHA256);
        assert_int_equal(s.r_size, 32);
        assert_int_equal(s.s_size, 32);
        assert_memory_equal(s.r, e.b + 6, 32);
        assert_memory_equal(s.s, e.b + 40, 32);
        assert_int_equal(tpm_signature_parse(r.b, r.n, &s), 0);
        assert_int_equal(s.alg, TPMW_ALG_RSASSA);
        assert_int_equal(s.sig_size, 256);
        assert_memory_equal(s.sig, r.b + 6, 256);
}

static const struct {
        enum kind kind;
        const char *hex;
        bool tpm2b; /* has its own size prefix */
} fixtures[] = {
    {PUBLIC, EK_RSA, true},   {PUBLIC, EK_ECC, true},      {PUBLIC, EK_P384, true},
    {PUBLIC, AK_ECC, true},   {PUBLIC, AK_RSA, true},      {PUBLIC, SEALED, true},
    {QUOTE, QUOTE_ECC, true}, {SIGNATURE, SIG_ECC, false}, {SIGNATURE, SIG_RSA, false},
};

/* Every prefix is refused: the buffer cut short, and (for a TPM2B) the buffer cut short with its
 * size prefix rewritten to match, so the cut lands inside the structure itself. */
static void test_truncations(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                struct bytes f = unhex(fixtures[i].hex);

                assert_int_equal(parse(fixtures[i].kind, f.b, f.n), 0);
                for (size_t n = 0; n < f.n; n++) {
                        struct bytes cut = f;

                        if (parse(fixtures[i].kind, f.b, n) != -EBADMSG)
                                fail_msg("fixture %zu cut to %zu bytes: not -EBADMSG", i, n);
                        if (!fixtures[i].tpm2b || n < 2)
                                continue;
                        put16(cut.b, n - 2);
                        if (parse(fixtures[i].kind, cut.b, n) != -EBADMSG)
                                fail_msg("fixture %zu cut inside to %zu bytes: not -EBADMSG", i, n);
                }
        }
        assert_int_equal(tpm_public_parse(NULL, 0, &(struct tpm_public){}), -EBADMSG);
}

/* One byte more is refused, after the TPM2B and inside it. */
static void test_trailing(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                struct bytes f = unhex(fixtures[i].hex);

                f.b[f.n] = 0;
                assert_int_equal(parse(fixtures[i].kind, f.b, f.n + 1), -EBADMSG);
                if (!fixtures[i].tpm2b)
                        continue;
                put16(f.b, f.n - 1);
                assert_int_equal(parse(fixtures[i].kind, f.b, f.n + 1), -EBADMSG);
        }
}

/* The RSA AK fixture with keyBits and a modulus of bits (all 0xff: the high bit set). */
static int parse_rsa_of(unsigned bits)
{
        struct bytes f = unhex(AK_RSA), g = {};
        size_t n = bits / 8;

        /* 18: keyBits, 20: exponent, 24: the modulus' size, 26: the 256 bytes of RSA 2048 */
        assert_true(f.n == 26 + 256 && 26 + n <= BUF_MAX);
        memcpy(g.b, f.b, 26);
        put16(g.b + 18, bits);
        put16(g.b + 24, (unsigned) n);
        memset(g.b + 26, 0xff, n);
        g.n = 26 + n;
        put16(g.b, (unsigned) (g.n - 2));
        return parse(PUBLIC, g.b, g.n);
}

static void test_unsupported(void **state)
{
        (void) state;
        /* RSA keys other than 2048 bits, before anything hashes them (issue 12 §1) */
        assert_int_equal(parse_rsa_of(2048), 0);
        assert_int_equal(parse_rsa_of(3072), -EOPNOTSUPP);
        assert_int_equal(parse_rsa_of(4096), -EOPNOTSUPP);
        assert_int_equal(parse_rsa_of(1024), -EOPNOTSUPP);
        /* object types, name algorithms */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 2, 0x00, 0x25), -EOPNOTSUPP); /* SYMCIPHER */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 2, 0x12, 0x34), -EOPNOTSUPP);
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 4, 0x00, 0x12), -EOPNOTSUPP); /* SM3 */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 4, 0x00, 0x10), -EOPNOTSUPP); /* NULL */
        /* curves, RSA sizes, schemes and their hashes */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 18, 0x00, 0x05), -EOPNOTSUPP); /* P-521 */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 18, 0x00, 0x10), -EOPNOTSUPP); /* BN-256 */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 14, 0x00, 0x1b), -EOPNOTSUPP); /* SM2 */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 14, 0x00, 0x99), -EOPNOTSUPP);
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 16, 0x00, 0x12), -EOPNOTSUPP);
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 20, 0x00, 0x20), -EBADMSG); /* KDF: 2 more bytes */
        assert_int_equal(PATCH(PUBLIC, AK_RSA, 18, 0x04, 0x00), -EOPNOTSUPP); /* RSA 1024 */
        /* symmetric definitions: SM4, an AES size or mode no EK has */
        assert_int_equal(PATCH(PUBLIC, EK_ECC, 44, 0x00, 0x13), -EOPNOTSUPP);
        assert_int_equal(PATCH(PUBLIC, EK_ECC, 46, 0x00, 0xc0), -EOPNOTSUPP);
        assert_int_equal(PATCH(PUBLIC, EK_ECC, 48, 0x00, 0x44), -EOPNOTSUPP); /* CBC */

        /* attestation other than a quote, two banks */
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 6, 0x80, 0x17), -EOPNOTSUPP);  /* certify */
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 77, 0x00, 0x12), -EOPNOTSUPP); /* SM3 bank */
        /* a fourth selection byte: PCRs 24-31 are beyond nodegate's mask, zero is fine */
        assert_int_equal(SPLICE(QUOTE, QUOTE_ECC, 79, 4, 0x04, 0x87, 0x80, 0x00, 0x01),
                         -EOPNOTSUPP);
        assert_int_equal(SPLICE(QUOTE, QUOTE_ECC, 79, 4, 0x04, 0x87, 0x80, 0x00, 0x00), 0);
        /* a second, empty SHA-1 selection: well-formed, not nodegate's; none at all either */
        assert_int_equal(SPLICE(QUOTE, QUOTE_ECC, 73, 10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x03,
                                0x87, 0x80, 0x00, 0x00, 0x04, 0x00),
                         -EOPNOTSUPP);
        assert_int_equal(SPLICE(QUOTE, QUOTE_ECC, 73, 10, 0x00, 0x00, 0x00, 0x00), -EOPNOTSUPP);

        /* signatures: HMAC, NULL, SM2, an unknown hash */
        assert_int_equal(PATCH(SIGNATURE, SIG_ECC, 0, 0x00, 0x05), -EOPNOTSUPP);
        assert_int_equal(PATCH(SIGNATURE, SIG_ECC, 0, 0x00, 0x10), -EOPNOTSUPP);
        assert_int_equal(PATCH(SIGNATURE, SIG_ECC, 0, 0x00, 0x1b), -EOPNOTSUPP);
        assert_int_equal(PATCH(SIGNATURE, SIG_ECC, 2, 0x00, 0x12), -EOPNOTSUPP);
        assert_int_equal(PATCH(SIGNATURE, SIG_RSA, 2, 0x00, 0x27), -EOPNOTSUPP);
}

static void test_malformed(void **state)
{
        (void) state;
        /* outer size zero, or larger than the buffer */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 0, 0x00, 0x00), -EBADMSG);
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 0, 0xff, 0xff), -EBADMSG);
        /* an authPolicy that is not of nameAlg's size (20 bytes: SHA-1's), or above any */
        assert_int_equal(SPLICE(PUBLIC, EK_RSA, 10, 14, 0x00, 0x14), -EBADMSG);
        assert_int_equal(SPLICE(PUBLIC, EK_RSA, 10, 34, 0x00, 0x00), 0);
        assert_int_equal(PATCH(PUBLIC, EK_RSA, 10, 0x00, 0x41), -EBADMSG);
        /* a coordinate not of the curve's size, a modulus not of keyBits */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 22, 0x00, 0x1f), -EBADMSG);
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 22, 0x00, 0x43), -EBADMSG);
        assert_int_equal(PATCH(PUBLIC, AK_RSA, 18, 0x0c, 0x00), -EBADMSG); /* 3072 bits */
        assert_int_equal(PATCH(PUBLIC, AK_RSA, 24, 0x02, 0x01), -EBADMSG); /* n > 512 bytes */
        /* a scheme of the other key type */
        assert_int_equal(PATCH(PUBLIC, AK_ECC, 14, 0x00, 0x14), -EBADMSG);
        assert_int_equal(PATCH(PUBLIC, AK_RSA, 14, 0x00, 0x18), -EBADMSG);
        /* quote: a TPMI_YES_NO above 1, a selection of 5 bytes, 17 banks, oversized digest */
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 64, 0x02), -EBADMSG);
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 79, 0x05), -EBADMSG);
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 73, 0x00, 0x00, 0x00, 0x11), -EBADMSG);
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 73, 0xff, 0xff, 0xff, 0xff), -EBADMSG);
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 83, 0x00, 0x41), -EBADMSG);
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 8, 0x00, 0x45), -EBADMSG); /* > TPMU_NAME */
        assert_int_equal(PATCH(QUOTE, QUOTE_ECC, 44, 0x00, 0x41), -EBADMSG);
        /* signature: r larger than any coordinate */
        assert_int_equal(PATCH(SIGNATURE, SIG_ECC, 4, 0x00, 0x43), -EBADMSG);
        assert_int_equal(PATCH(SIGNATURE, SIG_RSA, 4, 0x02, 0x01), -EBADMSG);
}

/* A wrong magic parses (the caller, and tpm_quote_verify, refuse it): it is a fact to report. */
static void test_magic_kept(void **state)
{
        struct bytes f = unhex(QUOTE_ECC);
        struct tpm_quote q;

        (void) state;
        f.b[2] ^= 0xff;
        assert_int_equal(tpm_quote_parse(f.b, f.n, &q), 0);
        assert_int_equal(q.magic, TPMW_GENERATED_VALUE ^ 0xff000000u);
}

static void test_hash_size(void **state)
{
        (void) state;
        assert_int_equal(tpm_hash_size(TPMW_ALG_SHA1), 20);
        assert_int_equal(tpm_hash_size(TPMW_ALG_SHA256), 32);
        assert_int_equal(tpm_hash_size(TPMW_ALG_SHA384), 48);
        assert_int_equal(tpm_hash_size(TPMW_ALG_SHA512), 64);
        assert_int_equal(tpm_hash_size(TPMW_ALG_NULL), 0);
        assert_int_equal(tpm_hash_size(0x0012), 0); /* SM3: not nodegate's */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ek_rsa),     cmocka_unit_test(test_ek_ecc),
            cmocka_unit_test(test_ek_p384),    cmocka_unit_test(test_aks),
            cmocka_unit_test(test_sealed),     cmocka_unit_test(test_quote),
            cmocka_unit_test(test_signatures), cmocka_unit_test(test_truncations),
            cmocka_unit_test(test_trailing),   cmocka_unit_test(test_unsupported),
            cmocka_unit_test(test_malformed),  cmocka_unit_test(test_magic_kept),
            cmocka_unit_test(test_hash_size),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
