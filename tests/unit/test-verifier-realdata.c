/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Real data, not ours: the firmware event logs and vendor EK certificates of
 * tests/fixtures/{eventlogs,ek-certs} (PROVENANCE there), replayed against the values their
 * sources recorded (NAME.expect: the oracle, the outcome, the PCRs), and hostile variants of
 * them derived here in memory (the fixtures stay byte for byte as published). */

#include "cli/ek-cli.h"
#include "tpm/ekcheck.h"
#include "tpm/eventlog.h"
#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"
#include "util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

#define EVENTLOGS REALDATA_DIR "/eventlogs"
#define EKCERTS   REALDATA_DIR "/ek-certs"

/* ---- event logs ---- */

/* @return whether the row holds; says why not. */
static bool check_log(const char *name)
{
        char path[512], line[256], got[129], reason[64] = "", oracle[256] = "";
        _cleanup_free_ uint8_t *buf = NULL;
        struct eventlog log = {};
        struct verdict v = {};
        size_t size, n_values = 0;
        bool ok = true;
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/%s.bin", EVENTLOGS, name);
        buf = (uint8_t *) test_read_file(path, &size);
        r = eventlog_parse(buf, size, &log, &v);

        snprintf(path, sizeof(path), "%s/%s.expect", EVENTLOGS, name);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char bank[16], hex[129];
                unsigned pcr;

                line[strcspn(line, "\n")] = 0;
                if (startswith(line, "oracle ")) {
                        snprintf(oracle, sizeof(oracle), "%s", line + 7);
                        continue;
                }
                if (sscanf(line, "result %63s", reason) == 1) {
                        if (streq(reason, "ok")) {
                                if (r != 0 && (ok = false))
                                        print_error(
                                            "%s: refused (%s: %s), the oracle (%s) replays it\n",
                                            name, reason_name(v.reason), v.message, oracle);
                        } else if ((r == 0 || !streq(reason_name(v.reason), reason)) &&
                                   !(ok = false))
                                print_error("%s: got %s (%s), want %s\n", name,
                                            r == 0 ? "accepted" : reason_name(v.reason), v.message,
                                            reason);
                        continue;
                }
                assert_int_equal(sscanf(line, "%15s %u %128s", bank, &pcr, hex), 3);
                assert_true(pcr < EVENTLOG_PCRS);
                if (streq(bank, "sha256"))
                        hex_encode(log.pcr_sha256[pcr], 32, got);
                else if (streq(bank, "sha1")) {
                        if (!log.has_sha1) {
                                print_error("%s: no SHA-1 replay, the oracle has one\n", name);
                                ok = false;
                                continue;
                        }
                        hex_encode(log.pcr_sha1[pcr], 20, got);
                } else
                        fail_msg("%s: bank %s", name, bank);
                if (r == 0 && !streq(got, hex) && !(ok = false))
                        print_error("%s: %s PCR %u is %s, the oracle (%s) says %s\n", name, bank,
                                    pcr, got, oracle, hex);
                n_values++;
        }
        fclose(f);
        assert_true(reason[0]);
        print_message("%-34s %-20s %2zu PCR values  oracle: %s  %s\n", name,
                      r == 0 ? "ok" : reason_name(v.reason), n_values, oracle,
                      ok ? "PASS" : "FAIL");
        if (r == 0)
                eventlog_done(&log);
        return ok;
}

/* Every NAME.bin has a NAME.expect, and every row replays as its oracle says. */
static void test_eventlog_corpus(void **state)
{
        struct dirent **entries;
        size_t n_logs = 0, n_failed = 0;
        int n;

        (void) state;
        n = scandir(EVENTLOGS, &entries, NULL, alphasort);
        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
                char name[256];
                size_t l = strlen(entries[i]->d_name);

                if (l > 4 && streq(entries[i]->d_name + l - 4, ".bin")) {
                        snprintf(name, sizeof(name), "%.*s", (int) (l - 4), entries[i]->d_name);
                        n_failed += !check_log(name);
                        n_logs++;
                }
                free(entries[i]);
        }
        free(entries);
        assert_true(n_logs >= 15);
        if (n_failed > 0)
                fail_msg("%zu of %zu logs do not replay as their oracle says", n_failed, n_logs);
}

/* H-CRTM: PCR 0 starts at 4 only when EV_EFI_HCRTM_EVENT is PCR 0's first event. Moved behind
 * another PCR 0 event, the same log must no longer replay to the value the platform reported
 * (a log may not claim the H-CRTM start after the fact). */
static void test_hcrtm_rules(void **state)
{
        _cleanup_free_ uint8_t *buf = NULL;
        struct eventlog good = {}, log = {};
        struct verdict v = {};
        size_t size;

        (void) state;
        buf = (uint8_t *) test_read_file(EVENTLOGS "/tss-hcrtm.bin", &size);
        assert_int_equal(eventlog_parse(buf, size, &good, &v), 0);
        assert_true(good.hcrtm);
        assert_int_equal(good.events[0].type, 0x80000010u); /* EV_EFI_HCRTM_EVENT first */
        assert_int_equal(good.events[0].pcr, 0);

        /* The H-CRTM event with its PCR changed from 0 to 1: PCR 0 starts at zero again. */
        size_t off = 0;
        for (size_t i = 0; i + 8 <= size; i++)
                if (buf[i] == 0x10 && buf[i + 1] == 0 && buf[i + 2] == 0 && buf[i + 3] == 0x80 &&
                    i >= 4 && buf[i - 4] == 0 && buf[i - 3] == 0 && buf[i - 2] == 0 &&
                    buf[i - 1] == 0) {
                        off = i - 4;
                        break;
                }
        assert_true(off > 0);
        buf[off] = 1;
        assert_int_equal(eventlog_parse(buf, size, &log, &v), 0);
        assert_false(log.hcrtm);
        assert_memory_not_equal(log.pcr_sha256[0], good.pcr_sha256[0], 32);
        eventlog_done(&log);
        buf[off] = 0;
        eventlog_done(&good);
}

/* The H-CRTM event after a StartupLocality event, or a second H-CRTM event: the platform
 * cannot have done both, the log is refused as malformed. Built from the real log's events. */
static void test_hcrtm_conflicts(void **state)
{
        _cleanup_free_ uint8_t *buf = NULL, *twice = NULL;
        struct eventlog good = {}, log = {};
        struct verdict v = {};
        size_t size, spec_end, first_end;

        (void) state;
        buf = (uint8_t *) test_read_file(EVENTLOGS "/tss-hcrtm.bin", &size);
        assert_int_equal(eventlog_parse(buf, size, &good, &v), 0);
        /* The Spec ID event ends where its data ends; the H-CRTM event ends at its data's end. */
        spec_end = 32 + (size_t) (buf[28] | buf[29] << 8 | buf[30] << 16 | (size_t) buf[31] << 24);
        first_end = (size_t) (good.events[0].data - buf) + good.events[0].data_size;
        eventlog_done(&good);

        /* The H-CRTM event twice in a row. */
        twice = malloc(size + (first_end - spec_end));
        assert_non_null(twice);
        memcpy(twice, buf, first_end);
        memcpy(twice + first_end, buf + spec_end, first_end - spec_end);
        memcpy(twice + first_end + (first_end - spec_end), buf + first_end, size - first_end);
        assert_int_equal(eventlog_parse(twice, size + (first_end - spec_end), &log, &v), -EBADMSG);
        assert_int_equal(v.reason, REASON_EVENTLOG_MALFORMED);
        assert_non_null(strstr(v.message, "H-CRTM"));
}

/* ---- EK certificates ---- */

/* The DER bytes of a PEM or DER fixture, exactly as published (no re-encoding). */
static uint8_t *read_der(const char *name, size_t *ret_size)
{
        char path[512], *pem_name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        uint8_t *ret;
        BIO *bio;

        snprintf(path, sizeof(path), "%s/%s", EKCERTS, name);
        if (!endswith(name, ".pem"))
                return (uint8_t *) test_read_file(path, ret_size);
        bio = BIO_new_file(path, "rb");
        assert_non_null(bio);
        assert_int_equal(PEM_read_bio(bio, &pem_name, &header, &data, &len), 1);
        BIO_free(bio);
        ret = malloc((size_t) len);
        assert_non_null(ret);
        memcpy(ret, data, (size_t) len);
        *ret_size = (size_t) len;
        OPENSSL_free(pem_name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        return ret;
}

/* The TPM public area the EK certificate describes: the TCG default EK template (RSA 2048,
 * AES-128-CFB, policy A) with the certificate's modulus, as TPM2_ReadPublic would return it.
 * The modulus is taken by OpenSSL's own ASN.1 walk of the BIT STRING, not by the code under
 * test. */
static void ek_of_certificate(const uint8_t *der, size_t size, struct tpm_public *ret)
{
        const unsigned char *p = der, *pk;
        ASN1_OBJECT *alg;
        X509_ALGOR *algor;
        X509 *x = d2i_X509(NULL, &p, (long) size);
        EVP_PKEY *key;
        BIGNUM *n = NULL;
        uint8_t nb[256];
        struct tbuf t = {};
        int pklen;

        assert_non_null(x);
        assert_int_equal(X509_PUBKEY_get0_param(&alg, &pk, &pklen, &algor, X509_get_X509_PUBKEY(x)),
                         1);
        key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &pk, pklen);
        assert_non_null(key);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        assert_int_equal(BN_bn2binpad(n, nb, sizeof(nb)), 256);
        tbuf_be16(&t, TPMW_ALG_RSA);
        tbuf_be16(&t, TPMW_ALG_SHA256);
        tbuf_be32(&t, TEST_EK_ATTRIBUTES);
        tbuf_tpm2b(&t, test_ek_policy_sha256, 32);
        tbuf_be16(&t, TPMW_ALG_AES);
        tbuf_be16(&t, 128);
        tbuf_be16(&t, TPMW_ALG_CFB);
        tbuf_be16(&t, TPMW_ALG_NULL);
        tbuf_be16(&t, 2048);
        tbuf_be32(&t, 0);
        tbuf_tpm2b(&t, nb, sizeof(nb));
        struct tbuf b = {};
        tbuf_tpm2b(&b, t.b, t.n);
        assert_int_equal(tpm_public_parse(b.b, b.n, ret), 0);
        BN_free(n);
        EVP_PKEY_free(key);
        X509_free(x);
        ERR_clear_error();
}

static struct ek_trust *stm_trust(bool with_intermediate)
{
        static const char *const cas[] = {"gs-tpm-root.crt", "stm-root.crt", "stm-int02.crt"};
        struct ek_trust *t;
        char path[512], err[512] = "";

        assert_int_equal(ek_trust_new(&t), 0);
        ek_trust_set_ca_only(t, true); /* the chain path: no allowlist here */
        for (size_t i = 0; i < ELEMENTSOF(cas) - !with_intermediate; i++) {
                snprintf(path, sizeof(path), "%s/%s", EKCERTS, cas[i]);
                if (ek_trust_add_ca(t, path, err, sizeof(err)) != 0)
                        fail_msg("%s", err);
        }
        /* The STM EK certificates expired in 2024 (the TPMs did not): verify as of 2020. */
        ek_trust_set_time(t, 1577836800);
        return t;
}

static void expect(struct ek_trust *t, const struct tpm_public *ek, const uint8_t *cert,
                   size_t size, enum reason want, const char *want_message)
{
        enum ek_trust_kind kind = 0;
        struct verdict v = {};
        enum reason r = ek_trust_check(t, ek, cert, size, NULL, &kind, &v);

        if (r != want)
                fail_msg("got %s (%s), want %s", reason_name(r), v.message, reason_name(want));
        if (r == REASON_OK)
                assert_int_equal(kind, EK_TRUST_CHAIN);
        else if (want_message && !strstr(v.message, want_message))
                fail_msg("message \"%s\" lacks \"%s\"", v.message, want_message);
        print_message("  %s%s%s\n", reason_name(r), r ? ": " : "", r ? v.message : "");
}

/* STMicro's EK certificates give the key as id-RSAES-OAEP, which OpenSSL 3 cannot load: the
 * chain still verifies (the issuer's signature over the TBS, the issuer's own chain), the key
 * still has to be the EK's, and one flipped bit anywhere in the TBS is refused. */
static void test_stm_oaep(void **state)
{
        static const char *const certs[] = {"stm-ek-nuc1.pem", "stm-ek-ab21ccf2.pem"};
        struct tpm_public ek, other;

        (void) state;
        for (size_t c = 0; c < ELEMENTSOF(certs); c++) {
                _cleanup_free_ uint8_t *der = NULL, *flipped = NULL;
                struct ek_trust *t = stm_trust(true);
                size_t size;

                print_message("%s\n", certs[c]);
                der = read_der(certs[c], &size);
                ek_of_certificate(der, size, &ek);
                expect(t, &ek, der, size, REASON_OK, NULL);
                /* Cached now: the second check takes the cached key, same answer. */
                expect(t, &ek, der, size, REASON_OK, NULL);

                /* Another TPM's EK with this certificate. */
                _cleanup_free_ uint8_t *der2 = read_der(certs[1 - c], &size);
                ek_of_certificate(der2, size, &other);
                free(TAKE_PTR(der2));
                der2 = read_der(certs[c], &size);
                expect(t, &other, der2, size, REASON_EK_CERTIFICATE_MISMATCH, NULL);

                /* One bit flipped in the serial number, in notAfter's year (2024 -> 2025), in
                 * the modulus (offsets from `openssl asn1parse`). A fresh trust each time, so
                 * the cache cannot answer. */
                static const size_t offsets[] = {20, 157, 300};
                for (size_t i = 0; i < ELEMENTSOF(offsets); i++) {
                        struct ek_trust *t2 = stm_trust(true);
                        flipped = malloc(size);
                        assert_non_null(flipped);
                        memcpy(flipped, der, size);
                        flipped[offsets[i]] ^= 0x01;
                        expect(t2, &ek, flipped, size, REASON_EK_CERTIFICATE_UNTRUSTED,
                               "signature");
                        free(TAKE_PTR(flipped));
                        ek_trust_free(t2);
                }
                ek_trust_free(t);

                /* Without the intermediate the issuer is unknown: a clear reason. */
                t = stm_trust(false);
                expect(t, &ek, der, size, REASON_EK_CERTIFICATE_UNTRUSTED,
                       "STM TPM EK Intermediate CA 02");
                ek_trust_free(t);

                /* The intermediate alone: its signature verifies, but it reaches no root. */
                assert_int_equal(ek_trust_new(&t), 0);
                ek_trust_set_ca_only(t, true);
                ek_trust_set_ca_only(t, true); /* the chain path: no allowlist here */
                char err[512];
                assert_int_equal(ek_trust_add_ca(t, EKCERTS "/stm-int02.crt", err, sizeof(err)), 0);
                ek_trust_set_time(t, 1577836800);
                expect(t, &ek, der, size, REASON_EK_CERTIFICATE_UNTRUSTED,
                       "does not chain to a configured root");
                ek_trust_free(t);

                /* As of now (2026) the certificate has expired. */
                assert_int_equal(ek_trust_new(&t), 0);
                ek_trust_set_ca_only(t, true);
                ek_trust_set_ca_only(t, true); /* the chain path: no allowlist here */
                assert_int_equal(ek_trust_add_ca(t, EKCERTS "/gs-tpm-root.crt", err, sizeof(err)),
                                 0);
                assert_int_equal(ek_trust_add_ca(t, EKCERTS "/stm-root.crt", err, sizeof(err)), 0);
                assert_int_equal(ek_trust_add_ca(t, EKCERTS "/stm-int02.crt", err, sizeof(err)), 0);
                expect(t, &ek, der, size, REASON_EK_CERTIFICATE_UNTRUSTED, "expired");
                ek_trust_free(t);
        }
}

/* An STM EK certificate as read from the TPM's NV index, 7 bytes of header before the DER: not
 * a certificate, refused with that reason. Without the header (derived here) it verifies. */
static void test_stm_nv_header(void **state)
{
        _cleanup_free_ uint8_t *nv = NULL;
        struct ek_trust *t = stm_trust(true);
        struct tpm_public ek;
        size_t nv_size;

        (void) state;
        nv = read_der("stm-ek-nv-header.der", &nv_size);
        assert_true(nv_size > 7 + 4);
        assert_int_equal(nv[7], 0x30);
        ek_of_certificate(nv + 7, nv_size - 7, &ek);
        expect(t, &ek, nv, nv_size, REASON_EK_CERTIFICATE_UNTRUSTED, "not a DER X.509");
        expect(t, &ek, nv + 7, nv_size - 7, REASON_OK, NULL);
        ek_trust_free(t);
}

/* Nuvoton's OAEP EK certificate, with NV padding after the DER: its root (Nuvoton TPM Root CA
 * 2010) is not configured, and the reason says so; `ek allow --certificate` enrols its key
 * under the same hash the EK's public area gives. */
static void test_nuvoton_oaep_padded(void **state)
{
        _cleanup_free_ uint8_t *der = NULL;
        struct ek_trust *t = stm_trust(true);
        uint8_t spki[32], want[32];
        char dir[] = "/tmp/test-verifier-realdata-XXXXXX", list[300], cert[300], hex[65];
        struct tpm_public ek;
        size_t size;
        char *text;

        (void) state;
        der = read_der("nuvoton-ek-padded.der", &size);
        ek_of_certificate(der, size, &ek);
        expect(t, &ek, der, size, REASON_EK_CERTIFICATE_UNTRUSTED, "Nuvoton TPM Root CA 2010");
        ek_trust_free(t);

        assert_int_equal(ek_spki_sha256(&ek, want), 0);
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long) size);
        assert_non_null(x);
        assert_int_equal(ek_certificate_spki_sha256(x, spki), 0);
        assert_memory_equal(spki, want, 32);
        X509_free(x);

        assert_non_null(mkdtemp(dir));
        snprintf(list, sizeof(list), "%s/allow", dir);
        snprintf(cert, sizeof(cert), "%s", EKCERTS "/stm-ek-nuc1.pem");
        char *allow_stm[] = {"ek", "allow", list, "--certificate", cert, NULL};
        assert_int_equal(ek_cli(5, allow_stm), 0);
        snprintf(cert, sizeof(cert), "%s", EKCERTS "/nuvoton-ek-padded.der");
        char *allow_nuvoton[] = {"ek", "allow", list, "--certificate", cert, NULL};
        assert_int_equal(ek_cli(5, allow_nuvoton), 0);
        text = test_read_file(list, NULL);
        hex_encode(want, 32, hex);
        assert_non_null(strstr(text, hex));
        free(text);
        assert_int_equal(test_remove_tree(dir), 0);
}

/* A GCE vTPM's ECC P-256 EK certificate: OpenSSL's own path. Its CA is not configured, and
 * the reason says so; the allowlist entry `ek allow --certificate` computes from it is the
 * EK's, and with it on the allowlist the EK passes whatever its certificate. */
static void test_gce_ecc(void **state)
{
        _cleanup_free_ uint8_t *der = NULL;
        struct ek_trust *t = stm_trust(true);
        uint8_t spki[32], want[32], x_b[32], y_b[32];
        char dir[] = "/tmp/test-verifier-realdata-XXXXXX", list[300], err[512] = "", hex[65];
        const unsigned char *p;
        enum ek_trust_kind kind = 0;
        struct tpm_public ek;
        struct verdict v = {};
        struct tbuf a = {}, b = {};
        BIGNUM *qx = NULL, *qy = NULL;
        EVP_PKEY *key;
        size_t size;
        X509 *x;

        (void) state;
        der = read_der("gce-ek-ecc.pem", &size);
        p = der;
        x = d2i_X509(NULL, &p, (long) size);
        assert_non_null(x);
        key = X509_get0_pubkey(x);
        assert_non_null(key);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &qx), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &qy), 1);
        assert_int_equal(BN_bn2binpad(qx, x_b, 32), 32);
        assert_int_equal(BN_bn2binpad(qy, y_b, 32), 32);
        BN_free(qx);
        BN_free(qy);
        tbuf_be16(&a, TPMW_ALG_ECC);
        tbuf_be16(&a, TPMW_ALG_SHA256);
        tbuf_be32(&a, TEST_EK_ATTRIBUTES);
        tbuf_tpm2b(&a, test_ek_policy_sha256, 32);
        tbuf_be16(&a, TPMW_ALG_AES);
        tbuf_be16(&a, 128);
        tbuf_be16(&a, TPMW_ALG_CFB);
        tbuf_be16(&a, TPMW_ALG_NULL);
        tbuf_be16(&a, TPMW_ECC_NIST_P256);
        tbuf_be16(&a, TPMW_ALG_NULL);
        tbuf_tpm2b(&a, x_b, 32);
        tbuf_tpm2b(&a, y_b, 32);
        tbuf_tpm2b(&b, a.b, a.n);
        assert_int_equal(tpm_public_parse(b.b, b.n, &ek), 0);

        expect(t, &ek, der, size, REASON_EK_CERTIFICATE_UNTRUSTED, "does not chain");
        ek_trust_free(t);

        assert_int_equal(ek_spki_sha256(&ek, want), 0);
        assert_int_equal(ek_certificate_spki_sha256(x, spki), 0);
        assert_memory_equal(spki, want, 32);
        X509_free(x);

        assert_non_null(mkdtemp(dir));
        snprintf(list, sizeof(list), "%s/allow", dir);
        char *allow[] = {"ek", "allow", list, "--certificate", EKCERTS "/gce-ek-ecc.pem", NULL};
        assert_int_equal(ek_cli(5, allow), 0);
        t = stm_trust(true);
        assert_int_equal(ek_trust_load_allowlist(t, list, err, sizeof(err)), 0);
        assert_int_equal(ek_trust_check(t, &ek, der, size, NULL, &kind, &v), REASON_OK);
        assert_int_equal(kind, EK_TRUST_ALLOWLIST);
        hex_encode(want, 32, hex);
        print_message("  allowlisted as %s\n", hex);
        ek_trust_free(t);
        assert_int_equal(test_remove_tree(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_eventlog_corpus), cmocka_unit_test(test_hcrtm_rules),
            cmocka_unit_test(test_hcrtm_conflicts), cmocka_unit_test(test_stm_oaep),
            cmocka_unit_test(test_stm_nv_header),   cmocka_unit_test(test_nuvoton_oaep_padded),
            cmocka_unit_test(test_gce_ecc),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
