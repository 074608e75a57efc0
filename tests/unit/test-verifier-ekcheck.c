/* SPDX-License-Identifier: GPL-2.0-or-later */
/* EK trust: EK areas marshalled from real OpenSSL keys, certificates from a throwaway CA built
 * here (with the TCG extensions real EK certificates have) and from swtpm's own local CA; the
 * allowlist, the cache, the attribute checks and the `ek`/`ca` commands. */

#include "cli/ek-cli.h"
#include "tpm/ekcheck.h"
#include "tpm/tpmcrypto.h"
#include "util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <ctype.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

static void bn_param(EVP_PKEY *key, const char *name, uint8_t *out, size_t size)
{
        BIGNUM *bn = NULL;

        assert_int_equal(EVP_PKEY_get_bn_param(key, name, &bn), 1);
        assert_int_equal(BN_bn2binpad(bn, out, (int) size), (int) size);
        BN_free(bn);
}

/* Options for the areas below, so a test can break one thing at a time. */
struct shape {
        uint16_t type, name_alg, sym_bits, sym_mode, scheme, scheme_hash, curve;
        uint32_t attributes;
        uint16_t rsa_bits;
        uint32_t exponent;
};

static void marshal_modulus(EVP_PKEY *key, const struct shape *s, const uint8_t *n, size_t n_size,
                            struct tbuf *ret);

/* A TPM2B_PUBLIC of key with shape s, as a TPM would marshal it. */
static void marshal(EVP_PKEY *key, const struct shape *s, struct tbuf *ret)
{
        marshal_modulus(key, s, NULL, 0, ret);
}

/* The same with an RSA modulus given as bytes (n_size of them) instead of key's. */
static void marshal_modulus(EVP_PKEY *key, const struct shape *s, const uint8_t *n, size_t n_size,
                            struct tbuf *ret)
{
        struct tbuf t = {};
        bool storage = s->sym_bits != 0; /* EK-shaped: a policy and a symmetric part */

        tbuf_be16(&t, s->type);
        tbuf_be16(&t, s->name_alg);
        tbuf_be32(&t, s->attributes);
        tbuf_tpm2b(&t, test_ek_policy_sha256,
                   storage && s->name_alg == TPMW_ALG_SHA256 ? sizeof(test_ek_policy_sha256) : 0);
        if (storage) {
                tbuf_be16(&t, TPMW_ALG_AES);
                tbuf_be16(&t, s->sym_bits);
                tbuf_be16(&t, s->sym_mode);
        } else
                tbuf_be16(&t, TPMW_ALG_NULL);
        tbuf_be16(&t, s->scheme);
        if (s->scheme != TPMW_ALG_NULL)
                tbuf_be16(&t, s->scheme_hash);
        if (s->type == TPMW_ALG_RSA) {
                uint8_t own[256];
                tbuf_be16(&t, s->rsa_bits);
                tbuf_be32(&t, s->exponent);
                if (!n) {
                        bn_param(key, OSSL_PKEY_PARAM_RSA_N, own, sizeof(own));
                        n = own;
                        n_size = sizeof(own);
                }
                tbuf_tpm2b(&t, n, n_size);
        } else {
                size_t c = s->curve == TPMW_ECC_NIST_P384 ? 48 : 32;
                uint8_t x[48], y[48];
                tbuf_be16(&t, s->curve);
                tbuf_be16(&t, TPMW_ALG_NULL); /* kdf */
                bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, x, c);
                bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, y, c);
                tbuf_tpm2b(&t, x, c);
                tbuf_tpm2b(&t, y, c);
        }
        ret->n = 0;
        tbuf_tpm2b(ret, t.b, t.n);
}

static const struct shape ek_p256 = {TPMW_ALG_ECC,
                                     TPMW_ALG_SHA256,
                                     128,
                                     TPMW_ALG_CFB,
                                     TPMW_ALG_NULL,
                                     0,
                                     TPMW_ECC_NIST_P256,
                                     TEST_EK_ATTRIBUTES,
                                     0,
                                     0};
static const struct shape ek_p384 = {TPMW_ALG_ECC,
                                     TPMW_ALG_SHA384,
                                     256,
                                     TPMW_ALG_CFB,
                                     TPMW_ALG_NULL,
                                     0,
                                     TPMW_ECC_NIST_P384,
                                     TEST_EK_ATTRIBUTES,
                                     0,
                                     0};
static const struct shape ek_rsa = {TPMW_ALG_RSA,
                                    TPMW_ALG_SHA256,
                                    128,
                                    TPMW_ALG_CFB,
                                    TPMW_ALG_NULL,
                                    0,
                                    0,
                                    TEST_EK_ATTRIBUTES,
                                    2048,
                                    0};
static const struct shape ak_p256 = {
    TPMW_ALG_ECC,       TPMW_ALG_SHA256,    0, 0, TPMW_ALG_ECDSA, TPMW_ALG_SHA256,
    TPMW_ECC_NIST_P256, TEST_AK_ATTRIBUTES, 0, 0};
static const struct shape ak_rsa = {TPMW_ALG_RSA,
                                    TPMW_ALG_SHA256,
                                    0,
                                    0,
                                    TPMW_ALG_RSASSA,
                                    TPMW_ALG_SHA256,
                                    0,
                                    TEST_AK_ATTRIBUTES,
                                    2048,
                                    0};

static void parse_shape(EVP_PKEY *key, const struct shape *s, struct tpm_public *ret)
{
        struct tbuf a;

        marshal(key, s, &a);
        assert_int_equal(tpm_public_parse(a.b, a.n, ret), 0);
}

/* ---- certificates ---- */

enum leaf_flags {
        LEAF_TCG = 1 << 0,              /* SAN dirName + subjectDirectoryAttributes, critical */
        LEAF_UNKNOWN_CRITICAL = 1 << 1, /* a critical extension nobody knows */
        LEAF_EXPIRED = 1 << 2,
        LEAF_NO_EKU = 1 << 3,    /* no extendedKeyUsage at all */
        LEAF_OTHER_EKU = 1 << 4, /* an extendedKeyUsage without tcg-kp-EKCertificate */
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509_EXTENSION *e;

        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
}

static void add_raw_ext(X509 *x, const char *oid, bool critical, const uint8_t *der, size_t n)
{
        ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
        ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
        X509_EXTENSION *e;

        assert_non_null(obj);
        assert_int_equal(ASN1_OCTET_STRING_set(data, der, (int) n), 1);
        e = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, data);
        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(data);
        ASN1_OBJECT_free(obj);
}

/* The TCG SAN: a directoryName of TPM manufacturer, model and version attributes. */
static void add_tcg_san(X509 *x)
{
        GENERAL_NAMES *names = GENERAL_NAMES_new();
        GENERAL_NAME *gn = GENERAL_NAME_new();
        X509_NAME *dn = X509_NAME_new();
        static const char *const attrs[][2] = {
            {"2.23.133.2.1", "id:00001014"},
            {"2.23.133.2.2", "swtpm"},
            {"2.23.133.2.3", "id:20191023"},
        };

        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                ASN1_OBJECT *o = OBJ_txt2obj(attrs[i][0], 1);
                assert_int_equal(X509_NAME_add_entry_by_OBJ(dn, o, MBSTRING_UTF8,
                                                            (const unsigned char *) attrs[i][1], -1,
                                                            -1, 0),
                                 1);
                ASN1_OBJECT_free(o);
        }
        GENERAL_NAME_set0_value(gn, GEN_DIRNAME, dn);
        assert_true(sk_GENERAL_NAME_push(names, gn) > 0);
        assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, names, 1, X509V3_ADD_DEFAULT),
                         1);
        GENERAL_NAMES_free(names);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       unsigned flags)
{
        X509 *x = X509_new();
        X509_NAME *name = X509_NAME_new();
        uint8_t serial[8];
        BIGNUM *bn;

        assert_int_equal(X509_set_version(x, 2), 1);
        assert_int_equal(RAND_bytes(serial, sizeof(serial)), 1);
        serial[0] &= 0x7f;
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
        BN_free(bn);
        if (flags & LEAF_EXPIRED) {
                X509_gmtime_adj(X509_getm_notBefore(x), -2 * 86400);
                X509_gmtime_adj(X509_getm_notAfter(x), -86400);
        } else {
                X509_gmtime_adj(X509_getm_notBefore(x), -86400);
                X509_gmtime_adj(X509_getm_notAfter(x), 365 * 86400);
        }
        /* EK certificates often have an empty subject, the TCG SAN saying what they are */
        if (cn)
                X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1,
                                           -1, 0);
        X509_set_subject_name(x, name);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
        X509_NAME_free(name);
        assert_int_equal(X509_set_pubkey(x, key), 1);
        if (ca) {
                add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
                add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
                add_ext(x, issuer, NID_subject_key_identifier, "hash");
        } else {
                add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
                add_ext(x, issuer, NID_key_usage, "critical,keyAgreement");
                if (flags & LEAF_OTHER_EKU)
                        add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
                else if (!(flags & LEAF_NO_EKU))
                        add_ext(x, issuer, NID_ext_key_usage, "2.23.133.8.1");
        }
        if (issuer)
                add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
        if (flags & LEAF_TCG) {
                /* subjectDirectoryAttributes: TPM specification 2.0, level 0, revision 164 */
                static const uint8_t sda[] = {0x30, 0x19, 0x30, 0x17, 0x06, 0x05, 0x67, 0x81, 0x05,
                                              0x02, 0x10, 0x31, 0x0e, 0x30, 0x0c, 0x0c, 0x03, 0x32,
                                              0x2e, 0x30, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0xa4};
                add_tcg_san(x);
                add_raw_ext(x, "2.5.29.9", true, sda, sizeof(sda));
        }
        if (flags & LEAF_UNKNOWN_CRITICAL) {
                static const uint8_t null_der[] = {0x05, 0x00};
                add_raw_ext(x, "1.3.6.1.4.1.99999.1", true, null_der, sizeof(null_der));
        }
        assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
        return x;
}

static size_t der(X509 *x, uint8_t *out, size_t max)
{
        unsigned char *p = NULL;
        int n = i2d_X509(x, &p);

        assert_true(n > 0 && (size_t) n <= max);
        memcpy(out, p, (size_t) n);
        OPENSSL_free(p);
        return (size_t) n;
}

static void write_pem(const char *path, X509 *a, X509 *b)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(PEM_write_X509(f, a), 1);
        if (b)
                assert_int_equal(PEM_write_X509(f, b), 1);
        fclose(f);
}

/* ---- fixture ---- */

struct fixture {
        char dir[64];
        EVP_PKEY *root_key, *inter_key, *other_key, *ek_key, *ek384_key, *rsa_key, *ak_key;
        X509 *root, *inter, *other_root;
        struct tpm_public ek, ek384, ekrsa, ak;
        uint8_t cert[4096], cert384[4096], cert_rsa[4096], cert_untrusted[4096],
            cert_unknown_crit[4096], cert_expired[4096], cert_other_key[4096];
        size_t cert_size, cert384_size, cert_rsa_size, cert_untrusted_size, cert_unknown_crit_size,
            cert_expired_size, cert_other_key_size;
};

static struct fixture F;

static void path_of(char *buf, size_t size, const char *name)
{
        snprintf(buf, size, "%s/%s", F.dir, name);
}

static int setup(void **state)
{
        char p[256];
        X509 *x;

        (void) state;
        strcpy(F.dir, "/tmp/test-verifier-ekcheck-XXXXXX");
        assert_non_null(mkdtemp(F.dir));

        F.root_key = EVP_EC_gen("P-384");
        F.inter_key = EVP_RSA_gen(2048);
        F.other_key = EVP_EC_gen("P-256");
        F.ek_key = EVP_EC_gen("P-256");
        F.ek384_key = EVP_EC_gen("P-384");
        F.rsa_key = EVP_RSA_gen(2048);
        F.ak_key = EVP_EC_gen("P-256");
        assert_true(F.root_key && F.inter_key && F.other_key && F.ek_key && F.ek384_key &&
                    F.rsa_key && F.ak_key);

        F.root = make_cert(F.root_key, "nodegate test root", NULL, F.root_key, true, 0);
        F.inter = make_cert(F.inter_key, "nodegate test intermediate", F.root, F.root_key, true, 0);
        F.other_root = make_cert(F.other_key, "someone else", NULL, F.other_key, true, 0);

        parse_shape(F.ek_key, &ek_p256, &F.ek);
        parse_shape(F.ek384_key, &ek_p384, &F.ek384);
        parse_shape(F.rsa_key, &ek_rsa, &F.ekrsa);
        parse_shape(F.ak_key, &ak_p256, &F.ak);

        x = make_cert(F.ek_key, NULL, F.inter, F.inter_key, false, LEAF_TCG);
        F.cert_size = der(x, F.cert, sizeof(F.cert));
        X509_free(x);
        x = make_cert(F.ek384_key, NULL, F.inter, F.inter_key, false, LEAF_TCG);
        F.cert384_size = der(x, F.cert384, sizeof(F.cert384));
        X509_free(x);
        x = make_cert(F.rsa_key, "rsa ek", F.inter, F.inter_key, false, 0);
        F.cert_rsa_size = der(x, F.cert_rsa, sizeof(F.cert_rsa));
        X509_free(x);
        x = make_cert(F.ek_key, NULL, F.other_root, F.other_key, false, LEAF_TCG);
        F.cert_untrusted_size = der(x, F.cert_untrusted, sizeof(F.cert_untrusted));
        X509_free(x);
        x = make_cert(F.ek_key, NULL, F.inter, F.inter_key, false,
                      LEAF_TCG | LEAF_UNKNOWN_CRITICAL);
        F.cert_unknown_crit_size = der(x, F.cert_unknown_crit, sizeof(F.cert_unknown_crit));
        X509_free(x);
        x = make_cert(F.ek_key, NULL, F.inter, F.inter_key, false, LEAF_TCG | LEAF_EXPIRED);
        F.cert_expired_size = der(x, F.cert_expired, sizeof(F.cert_expired));
        X509_free(x);
        x = make_cert(F.other_key, NULL, F.inter, F.inter_key, false, LEAF_TCG);
        F.cert_other_key_size = der(x, F.cert_other_key, sizeof(F.cert_other_key));
        X509_free(x);

        path_of(p, sizeof(p), "cas");
        assert_int_equal(mkdir(p, 0755), 0);
        path_of(p, sizeof(p), "cas/root.pem");
        write_pem(p, F.root, NULL);
        path_of(p, sizeof(p), "cas/intermediate.crt");
        write_pem(p, F.inter, NULL);
        path_of(p, sizeof(p), "cas/README");
        test_write_file(p, "not a certificate\n", 18, 0644);
        path_of(p, sizeof(p), "bundle.pem");
        write_pem(p, F.root, F.inter);
        path_of(p, sizeof(p), "intermediate-only.pem");
        write_pem(p, F.inter, NULL);
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        EVP_PKEY_free(F.root_key);
        EVP_PKEY_free(F.inter_key);
        EVP_PKEY_free(F.other_key);
        EVP_PKEY_free(F.ek_key);
        EVP_PKEY_free(F.ek384_key);
        EVP_PKEY_free(F.rsa_key);
        EVP_PKEY_free(F.ak_key);
        X509_free(F.root);
        X509_free(F.inter);
        X509_free(F.other_root);
        return test_remove_tree(F.dir);
}

static struct ek_trust *trust_from(const char *ca, const char *allowlist)
{
        struct ek_trust *t;
        char p[256], err[512] = "";

        assert_int_equal(ek_trust_new(&t), 0);
        /* The chain's own checks: CA trust alone, the opt-in (test_inventory has the default). */
        ek_trust_set_ca_only(t, ca != NULL);
        if (ca) {
                path_of(p, sizeof(p), ca);
                if (ek_trust_add_ca(t, p, err, sizeof(err)) != 0)
                        fail_msg("%s", err);
        }
        if (allowlist) {
                path_of(p, sizeof(p), allowlist);
                if (ek_trust_load_allowlist(t, p, err, sizeof(err)) != 0)
                        fail_msg("%s", err);
        }
        return t;
}

static void expect(struct ek_trust *t, const struct tpm_public *ek, const uint8_t *cert,
                   size_t size, enum reason want, enum ek_trust_kind want_kind,
                   const char *want_message)
{
        enum ek_trust_kind kind = 0;
        struct verdict v = {};
        enum reason r = ek_trust_check(t, ek, cert, size, NULL, &kind, &v);

        if (r != want)
                fail_msg("got %s (%s), want %s", reason_name(r), v.message, reason_name(want));
        if (r == REASON_OK)
                assert_int_equal(kind, want_kind);
        else if (want_message && !strstr(v.message, want_message))
                fail_msg("message \"%s\" lacks \"%s\"", v.message, want_message);
}

static void test_chain(void **state)
{
        struct ek_trust *t = trust_from("cas", NULL);

        (void) state;
        assert_int_equal(ek_trust_n_ca(t), 2);
        assert_int_equal(ek_trust_n_allowed(t), 0);
        expect(t, &F.ek, F.cert, F.cert_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        expect(t, &F.ek384, F.cert384, F.cert384_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        expect(t, &F.ekrsa, F.cert_rsa, F.cert_rsa_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        /* again, now from the cache */
        expect(t, &F.ek, F.cert, F.cert_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        /* a cached certificate still has to carry this EK's key */
        expect(t, &F.ek384, F.cert, F.cert_size, REASON_EK_CERTIFICATE_MISMATCH, 0,
               "the EK certificate is for another key than ek_public");
        /* NV padding after the DER is tolerated */
        uint8_t padded[4096 + 16];
        memcpy(padded, F.cert, F.cert_size);
        memset(padded + F.cert_size, 0xff, 16);
        expect(t, &F.ek, padded, F.cert_size + 16, REASON_OK, EK_TRUST_CHAIN, NULL);
        ek_trust_free(t);

        /* the bundle file: the same two */
        t = trust_from("bundle.pem", NULL);
        assert_int_equal(ek_trust_n_ca(t), 2);
        expect(t, &F.ek, F.cert, F.cert_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        ek_trust_free(t);
}

/* ca-trust-alone (issue 11): by default the allowlist is the inventory; a certificate from a
 * configured CA is not enough. */
static void test_inventory(void **state)
{
        struct ek_trust *t = trust_from("cas", NULL);
        struct ek_trust *u;
        char p[256], err[512] = "";
        FILE *f;
        char line[80];

        (void) state;
        assert_true(ek_trust_ca_only(t));
        ek_trust_set_ca_only(t, false);
        assert_false(ek_trust_ca_only(t));
        expect(t, &F.ek, F.cert, F.cert_size, REASON_EK_UNKNOWN, 0,
               "the EK's certificate chains to a configured CA, but the EK is not enrolled");
        expect(t, &F.ek384, F.cert384, F.cert384_size, REASON_EK_UNKNOWN, 0, "not enrolled");
        /* a certificate that does not chain still says why */
        expect(t, &F.ek384, F.cert, F.cert_size, REASON_EK_CERTIFICATE_MISMATCH, 0, NULL);
        ek_trust_free(t);

        /* enrolled: admitted, with or without the certificate */
        uint8_t spki[32];
        assert_int_equal(ek_spki_sha256(&F.ek, spki), 0);
        path_of(p, sizeof(p), "inventory");
        f = fopen(p, "w");
        assert_non_null(f);
        for (int i = 0; i < 32; i++)
                sprintf(line + 2 * i, "%02x", spki[i]);
        fprintf(f, "%s # node-1\n", line);
        fclose(f);
        u = trust_from("cas", "inventory");
        ek_trust_set_ca_only(u, false);
        expect(u, &F.ek, F.cert, F.cert_size, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        expect(u, &F.ek, NULL, 0, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        expect(u, &F.ek384, F.cert384, F.cert384_size, REASON_EK_UNKNOWN, 0, "not enrolled");
        (void) err;
        ek_trust_free(u);
}

static void test_untrusted(void **state)
{
        struct ek_trust *t = trust_from("cas", NULL);
        uint8_t garbage[64];

        (void) state;
        expect(t, &F.ek, F.cert_untrusted, F.cert_untrusted_size, REASON_EK_CERTIFICATE_UNTRUSTED,
               0,
               "(issuer /CN=someone else) does not chain to a configured CA: unable to get local "
               "issuer certificate (depth 0)");
        expect(t, &F.ek, F.cert_unknown_crit, F.cert_unknown_crit_size,
               REASON_EK_CERTIFICATE_UNTRUSTED, 0, "unhandled critical extension");
        expect(t, &F.ek, F.cert_expired, F.cert_expired_size, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "certificate has expired");
        memset(garbage, 0x30, sizeof(garbage));
        expect(t, &F.ek, garbage, sizeof(garbage), REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "not a DER X.509 certificate");
        expect(t, &F.ek, F.cert, 10, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "not a DER X.509 certificate");
        /* a certificate of another key from the right CA */
        expect(t, &F.ek, F.cert_other_key, F.cert_other_key_size, REASON_EK_CERTIFICATE_MISMATCH, 0,
               NULL);
        /* no certificate, no allowlist */
        expect(t, &F.ek, NULL, 0, REASON_EK_UNKNOWN, 0,
               "the EK has no certificate and is not on the allowlist");
        ek_trust_free(t);

        /* the intermediate alone is not a trust anchor */
        t = trust_from("intermediate-only.pem", NULL);
        expect(t, &F.ek, F.cert, F.cert_size, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "unable to get issuer certificate");
        ek_trust_free(t);

        /* no CA at all */
        t = trust_from(NULL, NULL);
        expect(t, &F.ek, F.cert, F.cert_size, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "unable to get local issuer certificate");
        ek_trust_free(t);
}

static void test_allowlist(void **state)
{
        uint8_t spki[32], spki384[32];
        char hex[65], hex384[65], text[512], p[256], err[512];
        struct ek_trust *t;

        (void) state;
        assert_int_equal(tpm_public_spki_sha256(&F.ek, spki), 0);
        assert_int_equal(tpm_public_spki_sha256(&F.ek384, spki384), 0);
        hex_encode(spki, 32, hex);
        hex_encode(spki384, 32, hex384);
        for (char *c = hex384; *c; c++) /* either case */
                *c = (char) toupper(*c);
        snprintf(text, sizeof(text), "# enrolled EKs\n\n  %s  # node-1\n%s\n%s\n", hex, hex384,
                 hex);
        path_of(p, sizeof(p), "allow");
        test_write_text(p, text, 0644);
        t = trust_from(NULL, "allow");
        assert_int_equal(ek_trust_n_allowed(t), 2); /* duplicates folded */
        expect(t, &F.ek, NULL, 0, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        expect(t, &F.ek384, NULL, 0, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        expect(t, &F.ekrsa, NULL, 0, REASON_EK_UNKNOWN, 0, NULL);
        /* either suffices: an enrolled EK passes with an untrusted certificate */
        expect(t, &F.ek, F.cert_untrusted, F.cert_untrusted_size, REASON_OK, EK_TRUST_ALLOWLIST,
               NULL);
        /* the caller's hash is used when given */
        {
                enum ek_trust_kind kind;
                struct verdict v;
                uint8_t wrong[32] = {};
                assert_int_equal(ek_trust_check(t, &F.ek, NULL, 0, wrong, &kind, &v),
                                 REASON_EK_UNKNOWN);
                assert_int_equal(ek_trust_check(t, &F.ekrsa, NULL, 0, spki, &kind, &v), REASON_OK);
        }
        ek_trust_free(t);

        /* broken lines name the line */
        static const char *const bad[] = {
            "abc\n", "%s x\n", "%s0\n", "%.63s\n", "g%.63s\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char line[200];
                snprintf(line, sizeof(line), bad[i], hex);
                snprintf(text, sizeof(text), "%s\n# ok\n%s", hex, line);
                test_write_text(p, text, 0644);
                assert_int_equal(ek_trust_new(&t), 0);
                assert_int_equal(ek_trust_load_allowlist(t, p, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "allow:3: expected 64 hex digits"));
                ek_trust_free(t);
        }
        assert_int_equal(ek_trust_new(&t), 0);
        path_of(p, sizeof(p), "no-such-file");
        assert_int_equal(ek_trust_load_allowlist(t, p, err, sizeof(err)), -ENOENT);
        ek_trust_free(t);
}

/* The allowlist identifier is the same from the TPM area, from the certificate, and from
 * `openssl pkey -pubin -outform DER | sha256sum` (i2d_PUBKEY) as PROTOCOL.md promises. */
static void test_spki_identity(void **state)
{
        const struct {
                EVP_PKEY *key;
                const struct tpm_public *pub;
                const uint8_t *cert;
                size_t size;
        } rows[] = {
            {F.ek_key, &F.ek, F.cert, F.cert_size},
            {F.ek384_key, &F.ek384, F.cert384, F.cert384_size},
            {F.rsa_key, &F.ekrsa, F.cert_rsa, F.cert_rsa_size},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint8_t a[32], b[32], c[32];
                unsigned char *d = NULL;
                const unsigned char *p = rows[i].cert;
                X509 *x = d2i_X509(NULL, &p, (long) rows[i].size);
                int n = i2d_PUBKEY(rows[i].key, &d);

                assert_true(n > 0);
                SHA256(d, (size_t) n, a);
                OPENSSL_free(d);
                assert_int_equal(tpm_public_spki_sha256(rows[i].pub, b), 0);
                assert_non_null(x);
                assert_int_equal(ek_certificate_spki_sha256(x, c), 0);
                X509_free(x);
                assert_memory_equal(a, b, 32);
                assert_memory_equal(a, c, 32);
                assert_int_equal(ek_spki_sha256(rows[i].pub, c), 0);
                assert_memory_equal(a, c, 32);
        }

        /* the DER writer against OpenSSL's for exponents of every length and a high bit */
        static const uint32_t exponents[] = {3, 65537, 65539, 0x00800001, 0x80000001, 0xffffffff};
        for (size_t i = 0; i < ELEMENTSOF(exponents); i++) {
                struct shape s = ek_rsa;
                struct tpm_public pub;
                uint8_t a[32], b[32];

                s.exponent = exponents[i];
                parse_shape(F.rsa_key, &s, &pub);
                assert_int_equal(tpm_public_spki_sha256(&pub, a), 0);
                assert_int_equal(ek_spki_sha256(&pub, b), 0);
                assert_memory_equal(a, b, 32);
        }
        /* a modulus with leading zero bytes is written without them */
        {
                struct tpm_public pub = F.ekrsa;
                uint8_t a[32], b[32];

                memset(pub.rsa_n, 0, 2);
                pub.rsa_n[2] = 0x01;
                assert_int_equal(tpm_public_spki_sha256(&pub, a), 0);
                assert_int_equal(ek_spki_sha256(&pub, b), 0);
                assert_memory_equal(a, b, 32);
                pub.type = TPMW_ALG_KEYEDHASH;
                assert_int_equal(ek_spki_sha256(&pub, b), -EOPNOTSUPP);
        }
}

/* RSA moduli of every size the TPM format has, with the high bit set (so the DER INTEGER
 * takes a padding byte) and the longest exponent: the allowlist identifier still equals
 * OpenSSL's, and nothing is written past a buffer (under ASan, issue 12 §1: a 4096-bit
 * modulus overflowed the SubjectPublicKeyInfo buffer by up to 4 bytes). */
static void test_spki_rsa_sizes(void **state)
{
        static const uint32_t exponents[] = {65537, 0x80000001, 0xffffffff};
        static const size_t sizes[] = {128, 256, 384, 512};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                for (size_t j = 0; j < ELEMENTSOF(exponents); j++) {
                        struct tpm_public pub = F.ekrsa;
                        uint8_t a[32], b[32];

                        assert_int_equal(RAND_bytes(pub.rsa_n, (int) sizes[i]), 1);
                        pub.rsa_n[0] |= 0x80;
                        pub.rsa_n[sizes[i] - 1] |= 1;
                        pub.rsa_n_size = sizes[i];
                        pub.rsa_bits = (uint16_t) (8 * sizes[i]);
                        pub.rsa_exponent = exponents[j];
                        assert_int_equal(tpm_public_spki_sha256(&pub, a), 0);
                        assert_int_equal(ek_spki_sha256(&pub, b), 0);
                        assert_memory_equal(a, b, 32);
                }
}

/* The EK kinds nodegate does not take are refused when the area is parsed, before any
 * hashing or key work: RSA 3072 and 4096 areas are well-formed but unsupported. */
static void test_rsa_sizes_refused(void **state)
{
        static const uint16_t bits[] = {1024, 3072, 4096};
        uint8_t n[512];

        (void) state;
        assert_int_equal(RAND_bytes(n, sizeof(n)), 1);
        n[0] |= 0x80;
        for (size_t i = 0; i < ELEMENTSOF(bits); i++) {
                struct shape s = ek_rsa;
                struct tpm_public pub;
                struct tbuf a;

                s.rsa_bits = bits[i];
                marshal_modulus(NULL, &s, n, bits[i] / 8u, &a);
                if (tpm_public_parse(a.b, a.n, &pub) != -EOPNOTSUPP)
                        fail_msg("RSA %u: not refused as unsupported", bits[i]);
        }
}

/* The TCG EK Credential Profile's extended key usage, tcg-kp-EKCertificate: a certificate from
 * a configured CA without it was not issued as an EK certificate (swtpm's, STMicro's and
 * Nuvoton's carry it), so the chain alone does not make the key an EK. The allowlist still
 * enrols such an EK on the operator's word. */
static void test_eku(void **state)
{
        struct ek_trust *t = trust_from("cas", NULL);
        uint8_t none[4096], other[4096], spki[32];
        size_t none_size, other_size;
        char hex[65], text[128], p[256];
        X509 *x;

        (void) state;
        x = make_cert(F.ek_key, NULL, F.inter, F.inter_key, false, LEAF_TCG | LEAF_NO_EKU);
        none_size = der(x, none, sizeof(none));
        X509_free(x);
        x = make_cert(F.ek_key, NULL, F.inter, F.inter_key, false, LEAF_TCG | LEAF_OTHER_EKU);
        other_size = der(x, other, sizeof(other));
        X509_free(x);
        expect(t, &F.ek, none, none_size, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "the EK certificate has no extended key usage tcg-kp-EKCertificate "
               "(2.23.133.8.1)");
        expect(t, &F.ek, other, other_size, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "the EK certificate has no extended key usage tcg-kp-EKCertificate "
               "(2.23.133.8.1)");
        /* twice: a refusal is not cached as a verified certificate */
        expect(t, &F.ek, other, other_size, REASON_EK_CERTIFICATE_UNTRUSTED, 0, NULL);
        expect(t, &F.ek, F.cert, F.cert_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        ek_trust_free(t);

        assert_int_equal(ek_spki_sha256(&F.ek, spki), 0);
        hex_encode(spki, 32, hex);
        snprintf(text, sizeof(text), "%s\n", hex);
        path_of(p, sizeof(p), "allow-eku");
        test_write_text(p, text, 0644);
        t = trust_from("cas", "allow-eku");
        expect(t, &F.ek, none, none_size, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        ek_trust_free(t);
}

/* ---- ROCA (Nemec et al., CCS 2017; CVE-2017-15361) ----
 * Infineon's library made primes p = k*M + (65537^a mod M), M a primorial, so N mod r lies in
 * the subgroup generated by 65537 mod r for every small prime r dividing M. Moduli of that
 * shape are built here from real primes, as the library built them. */

/* M of the 2048-bit keys: the product of the first 126 primes (970 bits). */
static BIGNUM *roca_m(void)
{
        BIGNUM *m = BN_new();
        unsigned found = 0;

        assert_non_null(m);
        assert_int_equal(BN_one(m), 1);
        for (unsigned c = 2; found < 126; c++) {
                bool prime = true;
                for (unsigned d = 2; d * d <= c; d++)
                        if (c % d == 0)
                                prime = false;
                if (!prime)
                        continue;
                assert_int_equal(BN_mul_word(m, c), 1);
                found++;
        }
        return m;
}

/* A prime k*M + (65537^a mod M) of bits bits, k and a random. */
static BIGNUM *roca_prime(const BIGNUM *m, int bits, BN_CTX *ctx)
{
        BIGNUM *p = BN_new(), *k = BN_new(), *a = BN_new(), *g = BN_new(), *r = BN_new();
        int kbits = bits - BN_num_bits(m);

        assert_true(p && k && a && g && r && kbits > 8);
        assert_int_equal(BN_set_word(g, 65537), 1);
        for (int tries = 0; tries < 100000; tries++) {
                assert_int_equal(BN_rand(k, kbits, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ANY), 1);
                assert_int_equal(BN_rand(a, 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), 1);
                assert_int_equal(BN_mod_exp(r, g, a, m, ctx), 1);
                assert_int_equal(BN_mul(p, k, m, ctx), 1);
                assert_int_equal(BN_add(p, p, r), 1);
                if (BN_num_bits(p) == bits && BN_check_prime(p, ctx, NULL) == 1)
                        break;
        }
        assert_int_equal(BN_num_bits(p), bits);
        BN_free(k);
        BN_free(a);
        BN_free(g);
        BN_free(r);
        return p;
}

static void test_roca(void **state)
{
        BN_CTX *ctx = BN_CTX_new();
        BIGNUM *m = roca_m(), *n = BN_new();
        uint8_t bytes[256];

        (void) state;
        /* Moduli shaped as the vulnerable library made them: flagged. */
        for (int i = 0; i < 3; i++) {
                BIGNUM *p = roca_prime(m, 1024, ctx), *q = roca_prime(m, 1024, ctx);

                assert_int_equal(BN_mul(n, p, q, ctx), 1);
                assert_int_equal(BN_num_bits(n) >= 2047, 1);
                assert_int_equal(BN_bn2binpad(n, bytes, sizeof(bytes)), (int) sizeof(bytes));
                assert_true(ek_rsa_modulus_has_roca_fingerprint(bytes, sizeof(bytes)));
                BN_free(p);
                BN_free(q);
        }
        /* OpenSSL's keys, ours from the fixture among them, and random odd numbers: not. */
        bn_param(F.rsa_key, OSSL_PKEY_PARAM_RSA_N, bytes, sizeof(bytes));
        assert_false(ek_rsa_modulus_has_roca_fingerprint(bytes, sizeof(bytes)));
        for (int i = 0; i < 4; i++) {
                EVP_PKEY *key = EVP_RSA_gen(2048);

                assert_non_null(key);
                bn_param(key, OSSL_PKEY_PARAM_RSA_N, bytes, sizeof(bytes));
                assert_false(ek_rsa_modulus_has_roca_fingerprint(bytes, sizeof(bytes)));
                EVP_PKEY_free(key);
        }
        for (int i = 0; i < 10000; i++) {
                assert_int_equal(RAND_bytes(bytes, sizeof(bytes)), 1);
                bytes[0] |= 0x80;
                bytes[255] |= 1;
                assert_false(ek_rsa_modulus_has_roca_fingerprint(bytes, sizeof(bytes)));
        }

        /* An EK with such a modulus is refused, even when it is on the allowlist. */
        {
                BIGNUM *p = roca_prime(m, 1024, ctx), *q = roca_prime(m, 1024, ctx);
                struct tpm_public pub;
                struct verdict v;
                struct ek_trust *t;
                struct tbuf a;
                uint8_t spki[32];
                char hex[65], text[128], path[256];
                enum ek_trust_kind kind;

                assert_int_equal(BN_mul(n, p, q, ctx), 1);
                assert_int_equal(BN_bn2binpad(n, bytes, sizeof(bytes)), (int) sizeof(bytes));
                marshal_modulus(NULL, &ek_rsa, bytes, sizeof(bytes), &a);
                assert_int_equal(tpm_public_parse(a.b, a.n, &pub), 0);
                assert_int_equal(ek_check_storage_key(&pub, &v), REASON_EK_WEAK_KEY);
                assert_non_null(strstr(v.message, "ROCA"));
                /* an AK of that key: its quotes could be forged by anyone */
                {
                        struct tpm_public akpub;
                        struct tbuf ak;

                        marshal_modulus(NULL, &ak_rsa, bytes, sizeof(bytes), &ak);
                        assert_int_equal(tpm_public_parse(ak.b, ak.n, &akpub), 0);
                        assert_int_equal(ak_check_signing_key(&akpub, &v),
                                         REASON_AK_NOT_SIGNING_KEY);
                        assert_non_null(strstr(v.message, "ROCA"));
                }
                assert_int_equal(ek_spki_sha256(&pub, spki), 0);
                hex_encode(spki, 32, hex);
                snprintf(text, sizeof(text), "%s\n", hex);
                path_of(path, sizeof(path), "allow-roca");
                test_write_text(path, text, 0644);
                t = trust_from(NULL, "allow-roca");
                assert_int_equal(ek_trust_check(t, &pub, NULL, 0, NULL, &kind, &v),
                                 REASON_EK_WEAK_KEY);
                ek_trust_free(t);
                /* and `ek allow --public` does not enrol it */
                path_of(path, sizeof(path), "roca.pub");
                test_write_file(path, a.b, a.n, 0644);
                char file[256];
                path_of(file, sizeof(file), "cli-allow-roca");
                char *allow[] = {"ek", "allow", file, "--public", path, NULL};
                assert_int_equal(ek_cli(5, allow), 1);
                /* nor `ek allow --certificate` with a certificate of that key */
                OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
                BIGNUM *e = BN_new();
                EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
                EVP_PKEY *roca = NULL;
                OSSL_PARAM *params;
                X509 *x;
                assert_true(bld && e && pctx && BN_set_word(e, 65537) == 1);
                assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
                assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
                params = OSSL_PARAM_BLD_to_param(bld);
                assert_int_equal(EVP_PKEY_fromdata_init(pctx), 1);
                assert_int_equal(EVP_PKEY_fromdata(pctx, &roca, EVP_PKEY_PUBLIC_KEY, params), 1);
                x = make_cert(roca, "roca ek", F.inter, F.inter_key, false, 0);
                path_of(path, sizeof(path), "roca.pem");
                write_pem(path, x, NULL);
                char *allow_cert[] = {"ek", "allow", file, "--certificate", path, NULL};
                assert_int_equal(ek_cli(5, allow_cert), 1);
                /* and its certificate from a configured CA does not help either */
                uint8_t cert[4096];
                size_t cert_size = der(x, cert, sizeof(cert));
                t = trust_from("cas", NULL);
                assert_int_equal(ek_trust_check(t, &pub, cert, cert_size, NULL, &kind, &v),
                                 REASON_EK_WEAK_KEY);
                ek_trust_free(t);
                X509_free(x);
                EVP_PKEY_free(roca);
                OSSL_PARAM_free(params);
                OSSL_PARAM_BLD_free(bld);
                EVP_PKEY_CTX_free(pctx);
                BN_free(e);
                BN_free(p);
                BN_free(q);
        }
        BN_free(n);
        BN_free(m);
        BN_CTX_free(ctx);
}

static void test_add_ca_errors(void **state)
{
        struct ek_trust *t;
        char p[256], err[512];
        X509 *leaf;
        const unsigned char *d = F.cert;

        (void) state;
        assert_int_equal(ek_trust_new(&t), 0);
        leaf = d2i_X509(NULL, &d, (long) F.cert_size);
        path_of(p, sizeof(p), "leaf.pem");
        write_pem(p, leaf, NULL);
        X509_free(leaf);
        assert_int_equal(ek_trust_add_ca(t, p, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "certificate 1 () is not a CA certificate"));
        path_of(p, sizeof(p), "cas/README");
        assert_int_equal(ek_trust_add_ca(t, p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "holds no PEM or DER certificate"));
        path_of(p, sizeof(p), "nothing-here");
        assert_int_equal(ek_trust_add_ca(t, p, err, sizeof(err)), -ENOENT);
        /* a DER root works as well */
        uint8_t buf[4096];
        size_t n = der(F.root, buf, sizeof(buf));
        path_of(p, sizeof(p), "root.der");
        test_write_file(p, buf, n, 0644);
        assert_int_equal(ek_trust_add_ca(t, p, err, sizeof(err)), 0);
        assert_int_equal(ek_trust_n_ca(t), 1);
        ek_trust_free(t);
}

/* Each row's key in its shape, marshalled and parsed, then judged by check. */
struct key_row {
        const char *what;
        struct shape s;
        EVP_PKEY **key;
        enum reason want;
};

static void check_key_rows(const struct key_row *rows, size_t n,
                           enum reason (*check)(const struct tpm_public *, struct verdict *))
{
        for (size_t i = 0; i < n; i++) {
                struct tpm_public pub;
                struct tbuf a;
                struct verdict v;
                int k;

                marshal(*rows[i].key, &rows[i].s, &a);
                k = tpm_public_parse(a.b, a.n, &pub);
                if (k != 0)
                        fail_msg("%s: tpm_public_parse %d", rows[i].what, k);
                if (check(&pub, &v) != rows[i].want)
                        fail_msg("%s: got \"%s\"", rows[i].what, v.message);
        }
}

static void test_storage_key(void **state)
{
        struct key_row rows[] = {
            {"P-256", ek_p256, &F.ek_key, REASON_OK},
            {"P-384", ek_p384, &F.ek384_key, REASON_OK},
            {"RSA", ek_rsa, &F.rsa_key, REASON_OK},
            {"AES-256", ek_p256, &F.ek_key, REASON_OK},
            {"sign", ek_p256, &F.ek_key, REASON_EK_NOT_STORAGE_KEY},
            {"no restricted", ek_p256, &F.ek_key, REASON_EK_NOT_STORAGE_KEY},
            {"no fixedTPM", ek_p256, &F.ek_key, REASON_EK_NOT_STORAGE_KEY},
            {"no adminWithPolicy", ek_p256, &F.ek_key, REASON_EK_NOT_STORAGE_KEY},
            {"SHA-1", ek_p256, &F.ek_key, REASON_EK_NOT_STORAGE_KEY},
            {"SHA-512", ek_p256, &F.ek_key, REASON_EK_NOT_STORAGE_KEY},
            {"RSA 65539", ek_rsa, &F.rsa_key, REASON_EK_NOT_STORAGE_KEY},
            {"an AK", ak_p256, &F.ak_key, REASON_EK_NOT_STORAGE_KEY},
        };

        (void) state;
        rows[3].s.sym_bits = 256;
        rows[4].s.attributes |= TPMW_OA_SIGN;
        rows[5].s.attributes &= ~TPMW_OA_RESTRICTED;
        rows[6].s.attributes &= ~TPMW_OA_FIXED_TPM;
        rows[7].s.attributes &= ~TPMW_OA_ADMIN_WITH_POLICY;
        rows[8].s.name_alg = TPMW_ALG_SHA1;
        rows[9].s.name_alg = TPMW_ALG_SHA512;
        rows[10].s.exponent = 65539;
        check_key_rows(rows, ELEMENTSOF(rows), ek_check_storage_key);
        {
                struct verdict v;
                struct tpm_public pub = F.ek;
                pub.attributes |= TPMW_OA_SIGN;
                pub.attributes &= ~TPMW_OA_FIXED_PARENT;
                assert_int_equal(ek_check_storage_key(&pub, &v), REASON_EK_NOT_STORAGE_KEY);
                assert_string_equal(v.message, "the EK is not a storage key: attributes 0x000700a2 "
                                               "(without fixedParent, with sign)");
        }
}

static void test_signing_key(void **state)
{
        struct key_row rows[] = {
            {"P-256", ak_p256, &F.ak_key, REASON_OK},
            {"RSA", ak_rsa, &F.rsa_key, REASON_OK},
            {"decrypt too", ak_p256, &F.ak_key, REASON_AK_NOT_SIGNING_KEY},
            {"not restricted", ak_p256, &F.ak_key, REASON_AK_NOT_SIGNING_KEY},
            {"no userWithAuth", ak_p256, &F.ak_key, REASON_AK_NOT_SIGNING_KEY},
            {"SHA-384 name", ak_p256, &F.ak_key, REASON_AK_NOT_SIGNING_KEY},
            {"ECDSA/SHA-384", ak_p256, &F.ak_key, REASON_AK_NOT_SIGNING_KEY},
            {"RSAPSS", ak_rsa, &F.rsa_key, REASON_AK_NOT_SIGNING_KEY},
            {"P-384", ak_p256, &F.ek384_key, REASON_AK_NOT_SIGNING_KEY},
            {"an EK", ek_p256, &F.ek_key, REASON_AK_NOT_SIGNING_KEY},
        };

        (void) state;
        rows[2].s.attributes |= TPMW_OA_DECRYPT;
        rows[3].s.attributes &= ~TPMW_OA_RESTRICTED;
        rows[4].s.attributes &= ~TPMW_OA_USER_WITH_AUTH;
        rows[5].s.name_alg = TPMW_ALG_SHA384;
        rows[6].s.scheme_hash = TPMW_ALG_SHA384;
        rows[7].s.scheme = TPMW_ALG_RSAPSS;
        rows[8].s.curve = TPMW_ECC_NIST_P384;
        /* decrypt with a sign scheme and no symmetric part is not what a TPM makes, but parses:
         * the attribute check must catch it. */
        check_key_rows(rows, ELEMENTSOF(rows), ak_check_signing_key);
}

/* Many threads through the cache at once, with more certificates than fit in one slot. */
struct thread_arg {
        struct ek_trust *t;
        int failures;
};

static void *hammer(void *p)
{
        struct thread_arg *a = p;

        for (int i = 0; i < 200; i++) {
                enum ek_trust_kind kind;
                struct verdict v;

                if (ek_trust_check(a->t, &F.ek, F.cert, F.cert_size, NULL, &kind, &v) !=
                        REASON_OK ||
                    ek_trust_check(a->t, &F.ek384, F.cert384, F.cert384_size, NULL, &kind, &v) !=
                        REASON_OK ||
                    ek_trust_check(a->t, &F.ek, F.cert384, F.cert384_size, NULL, &kind, &v) !=
                        REASON_EK_CERTIFICATE_MISMATCH ||
                    ek_trust_check(a->t, &F.ek, F.cert_untrusted, F.cert_untrusted_size, NULL,
                                   &kind, &v) != REASON_EK_CERTIFICATE_UNTRUSTED)
                        a->failures++;
        }
        return NULL;
}

static void test_threads(void **state)
{
        struct ek_trust *t = trust_from("cas", NULL);
        pthread_t th[4];
        struct thread_arg args[4];

        (void) state;
        for (int i = 0; i < 4; i++) {
                args[i] = (struct thread_arg){t, 0};
                assert_int_equal(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_int_equal(args[i].failures, 0);
        }
        ek_trust_free(t);
}

/* swtpm's own local CA (swtpm_localca, as `swtpm_setup --create-ek-cert` runs it) issues the
 * certificate: real EK certificates verify without loosening the chain checks. */
/* Runs swtpm_localca (the tool `swtpm_setup --create-ek-cert` calls) for the EK given as its
 * --ek argument, with a local CA of its own in the test directory. */
static size_t localca_issue(const char *name, const char *ek_arg, uint8_t *buf, size_t max)
{
        char p[256], cmd[4096];
        FILE *f;
        size_t n;

        snprintf(cmd, sizeof(cmd),
                 "set -e; cd '%s'; mkdir -p localca out-%s; "
                 "printf 'statedir = %%s\\nsigningkey = %%s\\nissuercert = %%s\\n"
                 "certserial = %%s\\n' \"$PWD/localca\" \"$PWD/localca/signkey.pem\" "
                 "\"$PWD/localca/issuercert.pem\" \"$PWD/localca/certserial\" > localca.conf; "
                 "printf -- '--platform-manufacturer nodegate\\n--platform-version 2.1\\n"
                 "--platform-model test\\n' > localca.options; "
                 "swtpm_localca --type ek --ek %s --dir \"$PWD/out-%s\" "
                 "--vmid test --tpm2 --configfile \"$PWD/localca.conf\" "
                 "--optsfile \"$PWD/localca.options\" --tpm-spec-family 2.0 "
                 "--tpm-spec-revision 164 --tpm-spec-level 0 --tpm-manufacturer id:00001014 "
                 "--tpm-model swtpm --tpm-version id:20191023 >localca.log 2>&1 || "
                 "{ cat localca.log; exit 1; }; "
                 "mkdir -p swtpm-cas; cp localca/swtpm-localca-rootca-cert.pem "
                 "localca/issuercert.pem swtpm-cas/",
                 F.dir, name, ek_arg, name);
        assert_int_equal(system(cmd), 0);
        snprintf(p, sizeof(p), "%s/out-%s/ek.cert", F.dir, name);
        f = fopen(p, "re");
        assert_non_null(f);
        n = fread(buf, 1, max, f);
        fclose(f);
        assert_true(n > 100);
        return n;
}

/* swtpm's own local CA issues the certificates: real EK certificates, for each of the three
 * EK kinds, verify without loosening the chain checks. */
static void test_swtpm_localca(void **state)
{
        char p[256], arg[1200], err[512], x[97], y[97];
        uint8_t xb[48], yb[48], n_bytes[256], buf[4096], buf384[4096], bufrsa[4096];
        struct ek_trust *t;
        size_t n, n384, nrsa;

        (void) state;
        bn_param(F.ek_key, OSSL_PKEY_PARAM_EC_PUB_X, xb, 32);
        bn_param(F.ek_key, OSSL_PKEY_PARAM_EC_PUB_Y, yb, 32);
        hex_encode(xb, 32, x);
        hex_encode(yb, 32, y);
        snprintf(arg, sizeof(arg), "x=%s,y=%s,id=secp256r1", x, y);
        n = localca_issue("p256", arg, buf, sizeof(buf));
        bn_param(F.ek384_key, OSSL_PKEY_PARAM_EC_PUB_X, xb, 48);
        bn_param(F.ek384_key, OSSL_PKEY_PARAM_EC_PUB_Y, yb, 48);
        hex_encode(xb, 48, x);
        hex_encode(yb, 48, y);
        snprintf(arg, sizeof(arg), "x=%s,y=%s,id=secp384r1", x, y);
        n384 = localca_issue("p384", arg, buf384, sizeof(buf384));
        bn_param(F.rsa_key, OSSL_PKEY_PARAM_RSA_N, n_bytes, sizeof(n_bytes));
        hex_encode(n_bytes, sizeof(n_bytes), arg);
        nrsa = localca_issue("rsa", arg, bufrsa, sizeof(bufrsa));

        t = trust_from("swtpm-cas", NULL);
        expect(t, &F.ek, buf, n, REASON_OK, EK_TRUST_CHAIN, NULL);
        expect(t, &F.ek384, buf384, n384, REASON_OK, EK_TRUST_CHAIN, NULL);
        expect(t, &F.ekrsa, bufrsa, nrsa, REASON_OK, EK_TRUST_CHAIN, NULL);
        expect(t, &F.ek384, buf, n, REASON_EK_CERTIFICATE_MISMATCH, 0, NULL);
        expect(t, &F.ek, bufrsa, nrsa, REASON_EK_CERTIFICATE_MISMATCH, 0, NULL);
        ek_trust_free(t);
        /* without the local CA's intermediate it does not chain */
        assert_int_equal(ek_trust_new(&t), 0);
        ek_trust_set_ca_only(t, true);
        path_of(p, sizeof(p), "localca/swtpm-localca-rootca-cert.pem");
        assert_int_equal(ek_trust_add_ca(t, p, err, sizeof(err)), 0);
        expect(t, &F.ek, buf, n, REASON_EK_CERTIFICATE_UNTRUSTED, 0,
               "unable to get local issuer certificate");
        ek_trust_free(t);
        /* and `ca add` takes swtpm's CA files */
        char dir[256], pem[256];
        path_of(dir, sizeof(dir), "cli-cas");
        path_of(pem, sizeof(pem), "localca/issuercert.pem");
        char *add1[] = {"ca", "add", dir, pem, NULL};
        assert_int_equal(ca_cli(4, add1), 0);
        path_of(pem, sizeof(pem), "localca/swtpm-localca-rootca-cert.pem");
        char *add2[] = {"ca", "add", dir, pem, NULL};
        assert_int_equal(ca_cli(4, add2), 0);
        char *list[] = {"ca", "list", dir, NULL};
        assert_int_equal(ca_cli(3, list), 0);
        t = trust_from("cli-cas", NULL);
        assert_int_equal(ek_trust_n_ca(t), 2);
        expect(t, &F.ek, buf, n, REASON_OK, EK_TRUST_CHAIN, NULL);
        ek_trust_free(t);
}

static void test_ek_cli(void **state)
{
        char file[256], pub[256], cert[256], hex[65], hexrsa[65], *text;
        uint8_t spki[32], spkirsa[32];
        struct tbuf a;
        struct ek_trust *t;

        (void) state;
        assert_int_equal(tpm_public_spki_sha256(&F.ek, spki), 0);
        assert_int_equal(tpm_public_spki_sha256(&F.ekrsa, spkirsa), 0);
        hex_encode(spki, 32, hex);
        hex_encode(spkirsa, 32, hexrsa);
        path_of(file, sizeof(file), "cli-allow");
        path_of(pub, sizeof(pub), "ek.pub");
        path_of(cert, sizeof(cert), "ek384.der");
        marshal(F.ek_key, &ek_p256, &a);
        test_write_file(pub, a.b, a.n, 0644);
        test_write_file(cert, F.cert384, F.cert384_size, 0644);

        /* --public (TPM2B_PUBLIC), then the same key by --hash: once only */
        char *allow_pub[] = {"ek", "allow", file, "--public", pub, "--comment", "node-1", NULL};
        assert_int_equal(ek_cli(7, allow_pub), 0);
        char *allow_hash[] = {"ek", "allow", "--hash", hex, file, NULL};
        assert_int_equal(ek_cli(5, allow_hash), 0);
        /* --public with a bare TPMT_PUBLIC (tpm2_readpublic -f tpmt) */
        marshal(F.rsa_key, &ek_rsa, &a);
        test_write_file(pub, a.b + 2, a.n - 2, 0644);
        char *allow_tpmt[] = {"ek", "allow", file, "--public", pub, NULL};
        assert_int_equal(ek_cli(5, allow_tpmt), 0);
        /* --certificate (DER) */
        char *allow_cert[] = {"ek", "allow", file, "--certificate", cert, NULL};
        assert_int_equal(ek_cli(5, allow_cert), 0);

        text = test_read_file(file, NULL);
        assert_non_null(strstr(text, hex));
        assert_non_null(strstr(text, "# node-1"));
        assert_non_null(strstr(text, hexrsa));
        assert_null(strstr(strstr(text, hex) + 64, hex)); /* once */
        free(text);

        t = trust_from(NULL, "cli-allow");
        assert_int_equal(ek_trust_n_allowed(t), 3);
        expect(t, &F.ek, NULL, 0, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        expect(t, &F.ek384, NULL, 0, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        expect(t, &F.ekrsa, NULL, 0, REASON_OK, EK_TRUST_ALLOWLIST, NULL);
        ek_trust_free(t);

        char *list[] = {"ek", "list", file, NULL};
        assert_int_equal(ek_cli(3, list), 0);

        /* remove: gone, the rest (and the comment line) stays */
        char *remove[] = {"ek", "remove", file, hexrsa, NULL};
        assert_int_equal(ek_cli(4, remove), 0);
        assert_int_equal(ek_cli(4, remove), 1); /* not there any more */
        text = test_read_file(file, NULL);
        assert_null(strstr(text, hexrsa));
        assert_non_null(strstr(text, hex));
        free(text);
        t = trust_from(NULL, "cli-allow");
        assert_int_equal(ek_trust_n_allowed(t), 2);
        expect(t, &F.ekrsa, NULL, 0, REASON_EK_UNKNOWN, 0, NULL);
        ek_trust_free(t);

        /* refusals */
        char *bad_hash[] = {"ek", "allow", file, "--hash", "xyz", NULL};
        assert_int_equal(ek_cli(5, bad_hash), 2);
        char *two[] = {"ek", "allow", file, "--hash", hex, "--public", pub, NULL};
        assert_int_equal(ek_cli(7, two), 2);
        char *none[] = {"ek", "allow", file, NULL};
        assert_int_equal(ek_cli(3, none), 2);
        marshal(F.ak_key, &ak_p256, &a); /* an AK is not an EK */
        test_write_file(pub, a.b, a.n, 0644);
        char *ak[] = {"ek", "allow", file, "--public", pub, NULL};
        assert_int_equal(ek_cli(5, ak), 1);
        char *unknown[] = {"ek", "frobnicate", NULL};
        assert_int_equal(ek_cli(2, unknown), 2);
        /* a broken allowlist is not rewritten */
        test_write_file(file, "not a hash\n", 11, 0644);
        assert_int_equal(ek_cli(5, allow_hash), 1);
        text = test_read_file(file, NULL);
        assert_string_equal(text, "not a hash\n");
        free(text);
}

static void test_ca_cli(void **state)
{
        char dir[256], pem[256], leaf[256];
        struct ek_trust *t;
        const unsigned char *d = F.cert;
        X509 *x = d2i_X509(NULL, &d, (long) F.cert_size);

        (void) state;
        path_of(dir, sizeof(dir), "cli-cas2");
        path_of(pem, sizeof(pem), "bundle.pem");
        path_of(leaf, sizeof(leaf), "leaf2.pem");
        write_pem(leaf, F.root, x); /* a CA, then a leaf: all or nothing */
        X509_free(x);

        char *add_leaf[] = {"ca", "add", dir, leaf, NULL};
        assert_int_equal(ca_cli(4, add_leaf), 1);
        char *add[] = {"ca", "add", dir, pem, NULL};
        assert_int_equal(ca_cli(4, add), 0);
        assert_int_equal(ca_cli(4, add), 0); /* again: same files */
        t = trust_from("cli-cas2", NULL);
        assert_int_equal(ek_trust_n_ca(t), 2);
        expect(t, &F.ek, F.cert, F.cert_size, REASON_OK, EK_TRUST_CHAIN, NULL);
        ek_trust_free(t);
        char *bad[] = {"ca", "add", dir, NULL};
        assert_int_equal(ca_cli(3, bad), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_chain),
            cmocka_unit_test(test_untrusted),
            cmocka_unit_test(test_allowlist),
            cmocka_unit_test(test_spki_identity),
            cmocka_unit_test(test_add_ca_errors),
            cmocka_unit_test(test_storage_key),
            cmocka_unit_test(test_signing_key),
            cmocka_unit_test(test_threads),
            cmocka_unit_test(test_swtpm_localca),
            cmocka_unit_test(test_ek_cli),
            cmocka_unit_test(test_ca_cli),
            cmocka_unit_test(test_spki_rsa_sizes),
            cmocka_unit_test(test_rsa_sizes_refused),
            cmocka_unit_test(test_eku),
            cmocka_unit_test(test_roca),
            cmocka_unit_test(test_inventory),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
