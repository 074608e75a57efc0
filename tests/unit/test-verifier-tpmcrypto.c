/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verifier/tpm/tpmcrypto.c: KDFa/KDFe and policy known answers, quotes a real TPM signed, and the
 * MakeCredential / Import blobs opened again here with EK private keys made in OpenSSL. */

#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"
#include "util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test-verifier-tpm-fixtures.h"

/* Known answers computed independently with Python's hashlib/hmac, straight from the formulas
 * of TPM 2.0 Part 1 §11.4.10.2 (KDFa) and §11.4.10.3 (KDFe):
 *
 *   def kdfa(h, key, label, u, v, bits):
 *       out, i = b'', 1
 *       while len(out) < bits // 8:
 *           out += hmac.new(key, struct.pack('>I', i) + label + b'\0' + u + v +
 *                           struct.pack('>I', bits), h).digest(); i += 1
 *       return out[:bits // 8]
 *   def kdfe(h, z, label, u, v, bits):   # the same loop over
 *       hashlib.new(h, struct.pack('>I', i) + z + label + b'\0' + u + v).digest()
 *
 * with key = bytes(range(32)) (48 for SHA-384), name = b'\x00\x0b' + bytes(range(100, 132)),
 * z = bytes(range(200, 232)), u = bytes(range(32)), v = bytes(range(32, 64)); for SHA-384
 * z = bytes(range(48)), u = bytes(range(48, 96)), v = bytes(range(96, 144)). */
static void seq(uint8_t *b, size_t n, uint8_t first)
{
        for (size_t i = 0; i < n; i++)
                b[i] = first + i;
}

static void test_kdfa(void **state)
{
        uint8_t key[48], name[34] = {0x00, 0x0b}, out[65];

        (void) state;
        seq(key, 48, 0);
        seq(name + 2, 32, 100);

        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA256, key, 32, "STORAGE", name, 34, NULL, 0, 128, out),
                         0);
        assert_hex(out, 16, "d98939313878365f823837e2ce0286ca");
        assert_int_equal(
            tpm_kdfa(TPMW_ALG_SHA256, key, 32, "INTEGRITY", NULL, 0, NULL, 0, 256, out), 0);
        assert_hex(out, 32, "bacf689f634ece301e1f1b15b072d9c87db6a69585db42b1a0cb8f73ebe2692e");
        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA384, key, 48, "STORAGE", name, 34, NULL, 0, 256, out),
                         0);
        assert_hex(out, 32, "2677b68d80fc13c3d904899ba951d8bce06dea58c4beb1b7bcc8320f1d4aab21");
        /* three blocks, the last one cut: the counter and the truncation */
        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA256, key, 32, "IDENTITY", (const uint8_t[]){1, 2}, 2,
                                  (const uint8_t[]){3}, 1, 520, out),
                         0);
        assert_hex(out, 65,
                   "a7483123e3d6981be3a986ef09d5e8785a0d098636882fa272c04ec09e81512584108c8efe59c2"
                   "3dabd917c967a5715b3ec97dc2ca9646e0c80ae226e700dd1aac");

        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA256, key, 32, "X", NULL, 0, NULL, 0, 0, out),
                         -EINVAL);
        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA256, key, 32, "X", NULL, 0, NULL, 0, 12, out),
                         -EINVAL);
        assert_int_equal(tpm_kdfa(TPMW_ALG_SHA256, key, 32, "X", NULL, 0, NULL, 0, 8200, out),
                         -EINVAL);
        assert_int_equal(tpm_kdfa(0x0012, key, 32, "X", NULL, 0, NULL, 0, 128, out), -EOPNOTSUPP);
}

static void test_kdfe(void **state)
{
        uint8_t z[48], u[48], v[48], out[65];

        (void) state;
        seq(z, 32, 200);
        seq(u, 32, 0);
        seq(v, 32, 32);
        assert_int_equal(tpm_kdfe(TPMW_ALG_SHA256, z, 32, "DUPLICATE", u, 32, v, 32, 256, out), 0);
        assert_hex(out, 32, "83e9080222eaa5ee0bde5289218a67d4c5ebb7e93fc614a10f232d7b0895d212");
        assert_int_equal(tpm_kdfe(TPMW_ALG_SHA256, z, 32, "DUPLICATE", u, 32, v, 32, 520, out), 0);
        assert_hex(out, 65,
                   "83e9080222eaa5ee0bde5289218a67d4c5ebb7e93fc614a10f232d7b0895d212f9c06cd33ea289"
                   "f468454f719af05310416ee8997beb33cda3352be6c35064e3e7");
        seq(z, 48, 0);
        seq(u, 48, 48);
        seq(v, 48, 96);
        assert_int_equal(tpm_kdfe(TPMW_ALG_SHA384, z, 48, "IDENTITY", u, 48, v, 48, 384, out), 0);
        assert_hex(out, 48,
                   "e264e344d5c1dcadeaf103e06663b8c6a6d8b84092f91194b3e6be33cc28c433aa8a23fbcf3b94"
                   "2970347ddb3848d2e2");
        assert_int_equal(tpm_kdfe(TPMW_ALG_NULL, z, 48, "X", u, 48, v, 48, 384, out), -EOPNOTSUPP);
}

/* A second, independent implementation: OpenSSL's SP800-108 KBKDF (counter mode, HMAC) is
 * KDFa when its label is ours without the NUL (KBKDF writes the 0x00 separator) and its context
 * is contextU || contextV; its SP800-56C single-step KDF over a hash is KDFe with FixedInfo =
 * label || 0x00 || partyU || partyV. Random inputs, several sizes. */
static void openssl_kdf(const char *kdf_name, const char *digest, const uint8_t *key,
                        size_t key_size, const char *label, const uint8_t *info, size_t info_size,
                        uint8_t *out, size_t out_size)
{
        EVP_KDF *kdf = EVP_KDF_fetch(NULL, kdf_name, NULL);
        EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
        OSSL_PARAM params[8], *p = params;

        assert_non_null(ctx);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) digest, 0);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) key, key_size);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) info, info_size);
        if (label) {
                *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, "counter", 0);
                *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, "HMAC", 0);
                *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) label,
                                                         strlen(label));
        }
        *p = OSSL_PARAM_construct_end();
        assert_int_equal(EVP_KDF_derive(ctx, out, out_size, params), 1);
        EVP_KDF_CTX_free(ctx);
        EVP_KDF_free(kdf);
}

static void test_kdf_against_openssl(void **state)
{
        static const struct {
                uint16_t alg;
                const char *name;
        } hashes[] = {{TPMW_ALG_SHA256, "SHA256"}, {TPMW_ALG_SHA384, "SHA384"}};

        (void) state;
        for (size_t h = 0; h < ELEMENTSOF(hashes); h++)
                for (size_t bytes = 16; bytes <= 112; bytes += 16) {
                        uint8_t key[48], u[50], v[50], info[10 + 100], ours[112], theirs[112];

                        assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
                        assert_int_equal(RAND_bytes(u, sizeof(u)), 1);
                        assert_int_equal(RAND_bytes(v, sizeof(v)), 1);

                        assert_int_equal(tpm_kdfa(hashes[h].alg, key, 48, "STORAGE", u, 50, v, 50,
                                                  bytes * 8, ours),
                                         0);
                        memcpy(info, u, 50);
                        memcpy(info + 50, v, 50);
                        openssl_kdf("KBKDF", hashes[h].name, key, 48, "STORAGE", info, 100, theirs,
                                    bytes);
                        assert_memory_equal(ours, theirs, bytes);

                        assert_int_equal(tpm_kdfe(hashes[h].alg, key, 48, "DUPLICATE", u, 50, v, 50,
                                                  bytes * 8, ours),
                                         0);
                        memcpy(info, "DUPLICATE", 10);
                        memcpy(info + 10, u, 50);
                        memcpy(info + 60, v, 50);
                        openssl_kdf("SSKDF", hashes[h].name, key, 48, NULL, info, 110, theirs,
                                    bytes);
                        assert_memory_equal(ours, theirs, bytes);
                }
}

/* The digest of tpm2_policypcr -l sha256:0,1,2,7,15 (values hashing to the pcrDigest below) +
 * tpm2_policycountertimer resets=2 + tpm2_policycountertimer restarts=0, from Python's hashlib
 * and the formulas of Part 3 §23.7 and §23.10 (which gave e576de39… for the first two, the
 * digest swtpm's trial session printed; tests/integration/test-verifier-crypto.sh checks all
 * three against swtpm). */
static void test_policy(void **state)
{
        struct bytes pcr =
            unhex("ee73ab9492733282520789b60b83e5140827ed711074db5e8125843158db259c");
        uint8_t out[32], canary[32];
        uint32_t mask = 1u << 0 | 1u << 1 | 1u << 2 | 1u << 7 | 1u << 15;

        (void) state;
        assert_int_equal(tpm_policy_pcr_boot(mask, pcr.b, 2, 0, out), 0);
        assert_hex(out, 32, "e19d4f7ee5c6794fa9929c31e116ce41487d48ecf05455e07201d611ef181417");
        assert_int_equal(tpm_policy_pcr_boot(mask, pcr.b, 2, 1, canary), 0);
        assert_hex(canary, 32, "bcbac9d337b188d21d4b2de3ba4ad13844a3fb73176d365e406ff1077808876d");
        /* each input changes it */
        assert_int_equal(tpm_policy_pcr_boot(mask, pcr.b, 3, 0, canary), 0);
        assert_memory_not_equal(out, canary, 32);
        assert_int_equal(tpm_policy_pcr_boot(mask | 1u << 23, pcr.b, 2, 0, canary), 0);
        assert_memory_not_equal(out, canary, 32);
        pcr.b[31] ^= 1;
        assert_int_equal(tpm_policy_pcr_boot(mask, pcr.b, 2, 0, canary), 0);
        assert_memory_not_equal(out, canary, 32);

        memset(canary, 0x5a, 32);
        assert_int_equal(tpm_policy_pcr_boot(0, pcr.b, 2, 0, canary), -EINVAL);
        assert_int_equal(tpm_policy_pcr_boot(1u << 24, pcr.b, 2, 0, canary), -EINVAL);
        for (size_t i = 0; i < 32; i++)
                assert_int_equal(canary[i], 0x5a);
}

struct quote_fixture {
        struct bytes ak_area, attest, sig_area;
        struct tpm_public ak;
        struct tpm_quote quote;
        struct tpm_signature sig;
};

static void quote_fixture(const char *ak, const char *attest, const char *sig,
                          struct quote_fixture *f)
{
        f->ak_area = unhex(ak);
        f->attest = unhex(attest);
        f->sig_area = unhex(sig);
        assert_int_equal(tpm_public_parse(f->ak_area.b, f->ak_area.n, &f->ak), 0);
        assert_int_equal(tpm_quote_parse(f->attest.b, f->attest.n, &f->quote), 0);
        assert_int_equal(tpm_signature_parse(f->sig_area.b, f->sig_area.n, &f->sig), 0);
}

static void test_quote_verify(void **state)
{
        static struct quote_fixture e, r;
        struct tpm_signature s;
        struct tpm_quote q;

        (void) state;
        quote_fixture(AK_ECC, QUOTE_ECC, SIG_ECC, &e);
        quote_fixture(AK_RSA, QUOTE_RSA, SIG_RSA, &r);
        assert_int_equal(tpm_quote_verify(&e.ak, &e.quote, &e.sig), 0);
        assert_int_equal(tpm_quote_verify(&r.ak, &r.quote, &r.sig), 0);

        /* another key, another quote */
        assert_int_equal(tpm_quote_verify(&r.ak, &e.quote, &e.sig), -EBADMSG);
        assert_int_equal(tpm_quote_verify(&e.ak, &r.quote, &e.sig), -EBADMSG);
        /* every byte of the signed data counts */
        for (size_t i = 2; i < e.attest.n; i++) {
                e.attest.b[i] ^= 0x40;
                if (tpm_quote_parse(e.attest.b, e.attest.n, &q) == 0)
                        assert_int_equal(tpm_quote_verify(&e.ak, &q, &e.sig), -EBADMSG);
                e.attest.b[i] ^= 0x40;
        }
        /* the signature's values */
        s = e.sig;
        s.s[5] ^= 1;
        assert_int_equal(tpm_quote_verify(&e.ak, &e.quote, &s), -EBADMSG);
        s = e.sig;
        s.r_size = 0;
        assert_int_equal(tpm_quote_verify(&e.ak, &e.quote, &s), -EBADMSG);
        s = r.sig;
        s.sig[100] ^= 1;
        assert_int_equal(tpm_quote_verify(&r.ak, &r.quote, &s), -EBADMSG);
        s = r.sig;
        s.sig_size = 255;
        assert_int_equal(tpm_quote_verify(&r.ak, &r.quote, &s), -EBADMSG);
        /* a scheme other than the key's, a hash other than SHA-256 */
        s = r.sig;
        s.alg = TPMW_ALG_RSAPSS;
        assert_int_equal(tpm_quote_verify(&r.ak, &r.quote, &s), -EBADMSG);
        s = e.sig;
        s.hash = TPMW_ALG_SHA384;
        assert_int_equal(tpm_quote_verify(&e.ak, &e.quote, &s), -EOPNOTSUPP);
        /* a buffer the TPM did not make: a restricted key's signature over it means nothing */
        q = e.quote;
        q.magic ^= 1;
        assert_int_equal(tpm_quote_verify(&e.ak, &q, &e.sig), -EBADMSG);
        /* an AK whose point is off the curve */
        {
                struct tpm_public bad = e.ak;
                bad.ecc_y[0] ^= 1;
                assert_int_equal(tpm_quote_verify(&bad, &e.quote, &e.sig), -EBADMSG);
        }
        assert_int_equal(ERR_peek_error(), 0); /* nothing left behind for the next caller */
}

static void test_keys(void **state)
{
        static const struct {
                const char *area, *spki_sha256;
                int bits;
        } rows[] = {
            /* python3-cryptography: sha256(public_bytes(DER, SubjectPublicKeyInfo)) of the
             * same key; for the RSA and P-384 EKs the integration test also holds them to
             * swtpm's EK certificates */
            {EK_RSA, "3e36cc3e16a58afc9f5ceb898af98b84aa86a906f6473e54e5ab7fe0a493aada", 2048},
            {EK_ECC, "f666cd5df55ef2d730990e9525e45dbe6e4eff35d42f3a94201cedd450224685", 256},
            {EK_P384, "1b3b0d3b93c6d72cb072b34b1851c07b7492a52dc96605ca6a4f740b007aff6d", 384},
        };
        struct tpm_public pub;
        uint8_t digest[32];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct bytes a = unhex(rows[i].area);
                EVP_PKEY *k;

                assert_int_equal(tpm_public_parse(a.b, a.n, &pub), 0);
                k = tpm_public_to_pkey(&pub);
                assert_non_null(k);
                assert_int_equal(EVP_PKEY_get_bits(k), rows[i].bits);
                EVP_PKEY_free(k);
                assert_int_equal(tpm_public_spki_sha256(&pub, digest), 0);
                assert_hex(digest, 32, rows[i].spki_sha256);
        }

        /* a point off the curve is no key */
        struct bytes a = unhex(EK_ECC);
        assert_int_equal(tpm_public_parse(a.b, a.n, &pub), 0);
        pub.ecc_y[31] ^= 1;
        assert_null(tpm_public_to_pkey(&pub));
        assert_int_equal(tpm_public_spki_sha256(&pub, digest), -EINVAL);
        memset(pub.ecc_x, 0, 32);
        memset(pub.ecc_y, 0, 32);
        assert_null(tpm_public_to_pkey(&pub));
        /* a KEYEDHASH area has no public key */
        a = unhex(SEALED);
        assert_int_equal(tpm_public_parse(a.b, a.n, &pub), 0);
        assert_null(tpm_public_to_pkey(&pub));
        assert_int_equal(ERR_peek_error(), 0);
}

/* --- round trips: blobs made for an EK whose private key this test holds, opened the way a TPM
 * opens them (Part 1 §23.3.2.3 and §24; Part 3 TPM2_Import, TPM2_ActivateCredential). The
 * outer HMAC is checked with OpenSSL's own HMAC, the seed's OAEP with OpenSSL's decryption. */

struct writer {
        uint8_t b[BUF_MAX];
        size_t n;
};

static void w_bytes(struct writer *w, const void *p, size_t n)
{
        assert_true(w->n + n <= sizeof(w->b));
        memcpy(w->b + w->n, p, n);
        w->n += n;
}

static void w_u16(struct writer *w, unsigned v)
{
        w_bytes(w, (uint8_t[]){v >> 8, v & 0xff}, 2);
}

static void w_tpm2b(struct writer *w, const void *p, size_t n)
{
        w_u16(w, n);
        w_bytes(w, p, n);
}

/* The TPM2B_PUBLIC of an EK-like storage key for an OpenSSL key. */
static struct bytes ek_area(EVP_PKEY *key, uint16_t name_alg, uint16_t sym_bits)
{
        uint8_t policy[64] = {0x11}, buf[512];
        size_t n;
        struct writer w = {.n = 2};
        struct bytes r;

        w_u16(&w, EVP_PKEY_is_a(key, "RSA") ? TPMW_ALG_RSA : TPMW_ALG_ECC);
        w_u16(&w, name_alg);
        w_bytes(&w, (uint8_t[]){0x00, 0x03, 0x00, 0xb2}, 4);
        w_tpm2b(&w, policy, tpm_hash_size(name_alg));
        w_u16(&w, TPMW_ALG_AES);
        w_u16(&w, sym_bits);
        w_u16(&w, TPMW_ALG_CFB);
        w_u16(&w, TPMW_ALG_NULL);
        if (EVP_PKEY_is_a(key, "RSA")) {
                BIGNUM *bn = NULL;

                assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
                assert_int_equal(BN_bn2binpad(bn, buf, 256), 256);
                BN_free(bn);
                w_u16(&w, 2048);
                w_bytes(&w, (uint8_t[]){0, 0, 0, 0}, 4);
                w_tpm2b(&w, buf, 256);
        } else {
                size_t c;

                assert_int_equal(EVP_PKEY_get_octet_string_param(
                                     key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf), &n),
                                 1);
                c = (n - 1) / 2;
                w_u16(&w, c == 32 ? TPMW_ECC_NIST_P256 : TPMW_ECC_NIST_P384);
                w_u16(&w, TPMW_ALG_NULL);
                w_tpm2b(&w, buf + 1, c);
                w_tpm2b(&w, buf + 1 + c, c);
        }
        w.b[0] = (w.n - 2) >> 8;
        w.b[1] = (w.n - 2) & 0xff;
        memcpy(r.b, w.b, w.n);
        r.n = w.n;
        return r;
}

static const char *md_name(uint16_t alg)
{
        return alg == TPMW_ALG_SHA384 ? "SHA384" : "SHA256";
}

/* The seed, recovered with the EK's private key. */
static size_t open_seed(EVP_PKEY *priv, const struct tpm_public *ek, const char *label,
                        const struct tpm_blob *encrypted, uint8_t seed[64])
{
        size_t hlen = tpm_hash_size(ek->name_alg), n = 64;

        assert_int_equal((encrypted->data[0] << 8 | encrypted->data[1]) + 2, encrypted->size);
        if (ek->type == TPMW_ALG_RSA) {
                EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
                OSSL_PARAM params[] = {
                    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                                     OSSL_PKEY_RSA_PAD_MODE_OAEP, 0),
                    OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                     (char *) md_name(ek->name_alg), 0),
                    OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                                      (char *) label, strlen(label) + 1),
                    OSSL_PARAM_construct_end(),
                };
                assert_int_equal(encrypted->size, 2 + 256);
                assert_int_equal(EVP_PKEY_decrypt_init_ex(ctx, params), 1);
                uint8_t out[256]; /* OpenSSL wants room for a modulus */

                n = sizeof(out);
                assert_int_equal(
                    EVP_PKEY_decrypt(ctx, out, &n, encrypted->data + 2, encrypted->size - 2), 1);
                assert_true(n <= 64);
                memcpy(seed, out, n);
                EVP_PKEY_CTX_free(ctx);
        } else {
                /* TPMS_ECC_POINT: the ephemeral key; ECDH with the EK's private key, KDFe */
                const uint8_t *p = encrypted->data + 2;
                size_t c = p[1], zn = 64;
                uint8_t point[1 + 2 * 48] = {0x04}, z[64];
                EVP_PKEY *eph = EVP_PKEY_new();
                EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);

                assert_int_equal(p[0], 0);
                assert_int_equal(c, ek->ecc_x_size);
                assert_int_equal(encrypted->size, 2 + 2 + c + 2 + c);
                assert_int_equal(p[2 + c] << 8 | p[3 + c], c);
                memcpy(point + 1, p + 2, c);
                memcpy(point + 1 + c, p + 4 + c, c);
                assert_int_equal(EVP_PKEY_copy_parameters(eph, priv), 1);
                assert_int_equal(EVP_PKEY_set1_encoded_public_key(eph, point, 1 + 2 * c), 1);
                assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
                assert_int_equal(EVP_PKEY_derive_set_peer(ctx, eph), 1);
                assert_int_equal(EVP_PKEY_derive(ctx, z, &zn), 1);
                assert_int_equal(zn, c);
                assert_int_equal(tpm_kdfe(ek->name_alg, z, zn, label, p + 2, c, ek->ecc_x,
                                          ek->ecc_x_size, hlen * 8, seed),
                                 0);
                n = hlen;
                EVP_PKEY_CTX_free(ctx);
                EVP_PKEY_free(eph);
        }
        assert_int_equal(n, hlen);
        return n;
}

/* The outer wrapper's plaintext: HMAC checked, then decrypted. */
static struct bytes open_outer(const struct tpm_public *ek, const uint8_t *seed, size_t seed_size,
                               const uint8_t *name, size_t name_size, const struct tpm_blob *blob)
{
        size_t hlen = tpm_hash_size(ek->name_alg), enc_size;
        uint8_t hmac_key[64], sym_key[32], mac[64], macced[BUF_MAX + 68];
        const uint8_t *enc;
        unsigned mac_size = 0;
        struct bytes plain = {};
        char cipher_name[16];
        EVP_CIPHER *cipher;
        EVP_CIPHER_CTX *ctx;
        int n = 0, m = 0;

        assert_int_equal((blob->data[0] << 8 | blob->data[1]) + 2, blob->size);
        assert_int_equal(blob->data[2] << 8 | blob->data[3], hlen);
        enc = blob->data + 4 + hlen;
        enc_size = blob->size - 4 - hlen;

        assert_int_equal(tpm_kdfa(ek->name_alg, seed, seed_size, "INTEGRITY", NULL, 0, NULL, 0,
                                  hlen * 8, hmac_key),
                         0);
        memcpy(macced, enc, enc_size);
        memcpy(macced + enc_size, name, name_size);
        assert_non_null(HMAC(EVP_get_digestbyname(md_name(ek->name_alg)), hmac_key, hlen, macced,
                             enc_size + name_size, mac, &mac_size));
        assert_int_equal(mac_size, hlen);
        assert_memory_equal(mac, blob->data + 4, hlen);

        assert_int_equal(tpm_kdfa(ek->name_alg, seed, seed_size, "STORAGE", name, name_size, NULL,
                                  0, ek->sym_bits, sym_key),
                         0);
        snprintf(cipher_name, sizeof(cipher_name), "AES-%u-CFB", ek->sym_bits);
        cipher = EVP_CIPHER_fetch(NULL, cipher_name, NULL);
        ctx = EVP_CIPHER_CTX_new();
        assert_int_equal(EVP_DecryptInit_ex2(ctx, cipher, sym_key, (uint8_t[16]){}, NULL), 1);
        assert_int_equal(EVP_DecryptUpdate(ctx, plain.b, &n, enc, enc_size), 1);
        assert_int_equal(EVP_DecryptFinal_ex(ctx, plain.b + n, &m), 1);
        plain.n = n + m;
        EVP_CIPHER_CTX_free(ctx);
        EVP_CIPHER_free(cipher);
        return plain;
}

struct ek_case {
        const char *what;
        const char *type, *curve;
        int rsa_bits;
        uint16_t name_alg, sym_bits;
};

static const struct ek_case ek_cases[] = {
    {"RSA 2048, SHA-256, AES-128 (L-1)", "RSA", NULL, 2048, TPMW_ALG_SHA256, 128},
    {"P-256, SHA-256, AES-128 (L-2)", "EC", "P-256", 0, TPMW_ALG_SHA256, 128},
    {"P-384, SHA-384, AES-256 (H-3, swtpm)", "EC", "P-384", 0, TPMW_ALG_SHA384, 256},
};

static EVP_PKEY *ek_key(const struct ek_case *c, struct tpm_public *ret)
{
        EVP_PKEY *key = c->curve ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->curve)
                                 : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) c->rsa_bits);
        struct bytes area;

        assert_non_null(key);
        area = ek_area(key, c->name_alg, c->sym_bits);
        assert_int_equal(tpm_public_parse(area.b, area.n, ret), 0);
        return key;
}

static void test_make_credential_round_trip(void **state)
{
        struct bytes ak = unhex(AK_ECC_NAME);

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(ek_cases); i++) {
                struct tpm_public ek;
                EVP_PKEY *priv = ek_key(&ek_cases[i], &ek);
                struct tpm_blob id, enc, id2, enc2;
                uint8_t secret[48], seed[64];
                struct bytes plain;
                size_t seed_size;

                print_message("EK %s\n", ek_cases[i].what);
                seq(secret, sizeof(secret), 7);
                assert_int_equal(tpm_make_credential(&ek, ak.b, ak.n, secret, 32, &id, &enc), 0);
                seed_size = open_seed(priv, &ek, "IDENTITY", &enc, seed);
                plain = open_outer(&ek, seed, seed_size, ak.b, ak.n, &id);
                /* TPM2B_DIGEST of the secret */
                assert_int_equal(plain.n, 2 + 32);
                assert_int_equal(plain.b[0] << 8 | plain.b[1], 32);
                assert_memory_equal(plain.b + 2, secret, 32);

                /* fresh randomness each time */
                assert_int_equal(tpm_make_credential(&ek, ak.b, ak.n, secret, 32, &id2, &enc2), 0);
                assert_memory_not_equal(enc.data, enc2.data, enc.size);

                /* a secret above the EK's digest size, no name */
                assert_int_equal(tpm_make_credential(&ek, ak.b, ak.n, secret,
                                                     tpm_hash_size(ek.name_alg) + 1, &id, &enc),
                                 -EINVAL);
                assert_int_equal(tpm_make_credential(&ek, ak.b, 0, secret, 32, &id, &enc), -EINVAL);
                EVP_PKEY_free(priv);
        }
}

static void test_seal_round_trip(void **state)
{
        static const char token[] = "abcdef.0123456789abcdef";
        struct bytes policy =
            unhex("e576de398c4c72c442d61a1f24715fadf141bca9a5093435759612a75721a030");

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(ek_cases); i++) {
                struct tpm_public ek, obj;
                EVP_PKEY *priv = ek_key(&ek_cases[i], &ek);
                static struct tpm_sealed sealed, canary;
                uint8_t seed[64], unique[32];
                struct bytes plain;
                size_t seed_size;

                print_message("EK %s\n", ek_cases[i].what);
                assert_int_equal(
                    tpm_seal_for_import(&ek, (const uint8_t *) token, 23, policy.b, &sealed), 0);

                /* the object: KEYEDHASH, SHA-256, adminWithPolicy|noDA, our policy, no scheme */
                assert_int_equal(tpm_public_parse(sealed.public.data, sealed.public.size, &obj), 0);
                assert_int_equal(obj.type, TPMW_ALG_KEYEDHASH);
                assert_int_equal(obj.name_alg, TPMW_ALG_SHA256);
                assert_int_equal(obj.attributes, TPMW_OA_ADMIN_WITH_POLICY | TPMW_OA_NO_DA);
                assert_memory_equal(obj.auth_policy, policy.b, 32);
                assert_int_equal(obj.scheme, TPMW_ALG_NULL);

                seed_size = open_seed(priv, &ek, "DUPLICATE", &sealed.encrypted_seed, seed);
                plain =
                    open_outer(&ek, seed, seed_size, obj.name, obj.name_size, &sealed.duplicate);
                /* TPM2B_SENSITIVE: KEYEDHASH, no authValue, a 32-byte seedValue, the token */
                assert_int_equal(plain.n, 2 + 2 + 2 + 2 + 32 + 2 + 23);
                assert_int_equal(plain.b[0] << 8 | plain.b[1], plain.n - 2);
                assert_int_equal(plain.b[2] << 8 | plain.b[3], TPMW_ALG_KEYEDHASH);
                assert_int_equal(plain.b[4] << 8 | plain.b[5], 0);
                assert_int_equal(plain.b[6] << 8 | plain.b[7], 32);
                assert_int_equal(plain.b[40] << 8 | plain.b[41], 23);
                assert_memory_equal(plain.b + 42, token, 23);
                /* unique = SHA-256(seedValue || data): the TPM recomputes it on Import */
                {
                        uint8_t in[32 + 23];
                        memcpy(in, plain.b + 8, 32);
                        memcpy(in + 32, token, 23);
                        assert_int_equal(
                            EVP_Digest(in, sizeof(in), unique, NULL, EVP_sha256(), NULL), 1);
                }
                assert_memory_equal(sealed.public.data + sealed.public.size - 32, unique, 32);

                /* refused: no data, too much data; the output stays as it was */
                memset(&canary, 0x3c, sizeof(canary));
                sealed = canary;
                assert_int_equal(
                    tpm_seal_for_import(&ek, (const uint8_t *) token, 0, policy.b, &sealed),
                    -EINVAL);
                assert_int_equal(
                    tpm_seal_for_import(&ek, (const uint8_t *) token, 129, policy.b, &sealed),
                    -EINVAL);
                assert_memory_equal(&sealed, &canary, sizeof(canary));
                EVP_PKEY_free(priv);
        }
}

/* Keys nodegate does not send secrets to: an EK without AES-CFB, an AK (a signing key). */
static void test_refused_eks(void **state)
{
        struct bytes a = unhex(EK_ECC), ak = unhex(AK_ECC), name = unhex(AK_ECC_NAME);
        static struct tpm_sealed sealed;
        struct tpm_blob id, enc;
        struct tpm_public pub;
        uint8_t secret[32] = {}, policy[32] = {};

        (void) state;
        assert_int_equal(tpm_public_parse(ak.b, ak.n, &pub), 0);
        assert_int_equal(tpm_make_credential(&pub, name.b, name.n, secret, 32, &id, &enc),
                         -EOPNOTSUPP);
        assert_int_equal(tpm_seal_for_import(&pub, secret, 32, policy, &sealed), -EOPNOTSUPP);
        assert_int_equal(tpm_public_parse(a.b, a.n, &pub), 0);
        pub.sym_bits = 192;
        assert_int_equal(tpm_make_credential(&pub, name.b, name.n, secret, 32, &id, &enc),
                         -EOPNOTSUPP);
        pub.sym_bits = 128;
        pub.ecc_y[0] ^= 1; /* off the curve */
        assert_int_equal(tpm_make_credential(&pub, name.b, name.n, secret, 32, &id, &enc), -EINVAL);
        assert_int_equal(ERR_peek_error(), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kdfa),
            cmocka_unit_test(test_kdfe),
            cmocka_unit_test(test_kdf_against_openssl),
            cmocka_unit_test(test_policy),
            cmocka_unit_test(test_quote_verify),
            cmocka_unit_test(test_keys),
            cmocka_unit_test(test_make_credential_round_trip),
            cmocka_unit_test(test_seal_round_trip),
            cmocka_unit_test(test_refused_eks),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
