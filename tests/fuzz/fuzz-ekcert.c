/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the EK certificate path of round 1 (verifier/tpm/ekcheck.c): ek_trust_check() on a
 * DER certificate from the input against a configured CA (tests/fuzz/data/ek-ca.pem: a root and
 * an intermediate), with an EK that carries the certificate's own key (input byte 0, bit 0: so
 * a mutated certificate still reaches the chain check and the key comparison) or a fixed one;
 * then the allowlist identifier of the certificate against the EK's, which must agree. Each
 * input is checked twice, so a replayed input goes through both the verification and the
 * cache of verified certificates (keyed by the exact bytes) whatever ran before it. */

#include "tpm/ekcheck.h"
#include "tpm/tpm2b.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_DATA
#error "FUZZ_DATA: the directory of tests/fuzz/data"
#endif

#define EK_ATTRIBUTES 0x000300b2u /* TCG EK template L-1/L-2 */

static struct tpm_public fixed_ek;
static struct ek_trust *trust;

static size_t read_file(const char *name, uint8_t *buf, size_t max)
{
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", FUZZ_DATA, name);
        f = fopen(path, "re");
        if (!f)
                abort();
        n = fread(buf, 1, max, f);
        fclose(f);
        return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        uint8_t buf[1024];
        size_t n = read_file("ek-rsa.pub", buf, sizeof(buf));
        char err[256];

        (void) argc;
        (void) argv;
        if (tpm_public_parse(buf, n, &fixed_ek) < 0 || ek_trust_new(&trust) < 0 ||
            ek_trust_add_ca(trust, FUZZ_DATA "/ek-ca.pem", err, sizeof(err)) < 0)
                abort();
        /* The certificate path is what this target is for: no inventory in front of it. */
        ek_trust_set_ca_only(trust, true);
        return 0;
}

static bool bn_into(EVP_PKEY *key, const char *param, uint8_t *out, size_t size)
{
        BIGNUM *bn = NULL;
        bool ok = EVP_PKEY_get_bn_param(key, param, &bn) == 1 &&
                  BN_bn2binpad(bn, out, (int) size) == (int) size;

        BN_free(bn);
        return ok;
}

/* The EK template around the certificate's key, as a TPM would hold it. @return true if the
 * key is RSA or NIST P-256/P-384 */
static bool ek_from_certificate(X509 *x, struct tpm_public *ek)
{
        EVP_PKEY *key = X509_get0_pubkey(x);
        char group[64];
        size_t c;

        memset(ek, 0, sizeof(*ek));
        ek->name_alg = TPMW_ALG_SHA256;
        ek->attributes = EK_ATTRIBUTES;
        ek->sym_alg = TPMW_ALG_AES;
        ek->sym_bits = 128;
        ek->sym_mode = TPMW_ALG_CFB;
        ek->scheme = ek->scheme_hash = ek->ecc_kdf = TPMW_ALG_NULL;
        if (!key)
                return false;
        if (EVP_PKEY_is_a(key, "RSA")) {
                BIGNUM *e = NULL;
                int bits = EVP_PKEY_get_bits(key);

                if (bits <= 0 || bits > TPMW_RSA_MAX * 8 || bits % 8)
                        return false;
                ek->type = TPMW_ALG_RSA;
                ek->rsa_bits = (uint16_t) bits;
                ek->rsa_n_size = (size_t) bits / 8;
                if (!bn_into(key, OSSL_PKEY_PARAM_RSA_N, ek->rsa_n, ek->rsa_n_size) ||
                    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
                        return false;
                bool fits = BN_num_bits(e) <= 32 && !BN_is_zero(e);

                ek->rsa_exponent = fits ? (uint32_t) BN_get_word(e) : 0;
                BN_free(e);
                return fits;
        }
        if (!EVP_PKEY_is_a(key, "EC") ||
            EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           NULL) != 1)
                return false;
        if (strcmp(group, "prime256v1") == 0)
                ek->curve = TPMW_ECC_NIST_P256, c = 32;
        else if (strcmp(group, "secp384r1") == 0)
                ek->curve = TPMW_ECC_NIST_P384, c = 48;
        else
                return false;
        ek->type = TPMW_ALG_ECC;
        ek->ecc_x_size = ek->ecc_y_size = c;
        return bn_into(key, OSSL_PKEY_PARAM_EC_PUB_X, ek->ecc_x, c) &&
               bn_into(key, OSSL_PKEY_PARAM_EC_PUB_Y, ek->ecc_y, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct tpm_public derived, *ek = &fixed_ek;
        const uint8_t *cert, *p;
        enum ek_trust_kind kind;
        struct verdict v;
        X509 *x = NULL;
        uint8_t a[32], b[32];
        enum reason r;

        if (size < 1)
                return 0;
        cert = data + 1;
        p = cert;
        x = d2i_X509(NULL, &p, (long) (size - 1));
        if (x && (data[0] & 1) && ek_from_certificate(x, &derived))
                ek = &derived;

        for (int pass = 0; pass < 2; pass++) { /* the second from the cache, if it verified */
                r = ek_trust_check(trust, ek, cert, size - 1, NULL, &kind, &v);
                if (r == REASON_OK && kind != EK_TRUST_CHAIN)
                        abort();
                if (r != REASON_OK &&
                    (r != v.reason || !memchr(v.message, '\0', sizeof(v.message))))
                        abort();
                if (r != REASON_OK && r != REASON_EK_NOT_STORAGE_KEY &&
                    r != REASON_EK_CERTIFICATE_UNTRUSTED && r != REASON_EK_CERTIFICATE_MISMATCH &&
                    r != REASON_INTERNAL)
                        abort();
                /* only a certificate that parses can be trusted */
                if (r == REASON_OK && !x)
                        abort();
        }
        if (x) {
                const char *what;

                (void) ek_certificate_is_ca(x, &what);
                /* one allowlist entry per key, from the certificate or from the TPM's area */
                if (ek == &derived && ek_certificate_spki_sha256(x, a) == 0 &&
                    ek_spki_sha256(ek, b) == 0 && memcmp(a, b, 32) != 0)
                        abort();
        }
        X509_free(x);
        ERR_clear_error();
        return 0;
}
