/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/lib/base64.c and src/attest/protocol.c: strict base64, the two request bodies as the verifier
 * will read them, and the answer parsers, one row per body with the exact outcome beside it. */

#include <json-c/json.h>

#include "lib/base64.h"
#include "attest/protocol.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* ---- base64 ------------------------------------------------------------------------------- */

struct b64_row {
        const char *in;
        int ret;
        const char *out; /* decoded, when ret == 0 */
};

static const struct b64_row b64_rows[] = {
    {"", 0, ""},
    {"Zg==", 0, "f"},
    {"Zm8=", 0, "fo"},
    {"Zm9v", 0, "foo"},
    {"Zm9vYg==", 0, "foob"},
    {"Zm9vYmE=", 0, "fooba"},
    {"Zm9vYmFy", 0, "foobar"},
    {"Zm9vYmFy\n", -EBADMSG, NULL}, /* no line breaks */
    {" Zm9v", -EBADMSG, NULL},      /* no whitespace */
    {"Zm9", -EBADMSG, NULL},        /* padding is required */
    {"Zg", -EBADMSG, NULL},
    {"Zh==", -EBADMSG, NULL}, /* nonzero bits under the padding */
    {"Zm9=", -EBADMSG, NULL},
    {"Z===", -EBADMSG, NULL},
    {"====", -EBADMSG, NULL},
    {"Zg==Zg==", -EBADMSG, NULL}, /* padding only at the end */
    {"Zm=v", -EBADMSG, NULL},
    {"Zm9-", -EBADMSG, NULL}, /* base64url is another alphabet */
    {"Zm9_", -EBADMSG, NULL},
    {"Zm9vYmFyYmF6", -EFBIG, NULL}, /* 9 bytes into the test's 8 */
};

static void test_base64_decode(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(b64_rows); i++) {
                const struct b64_row *row = &b64_rows[i];
                uint8_t buf[8];
                size_t size = 99;
                int r = base64_decode(row->in, strlen(row->in), buf, sizeof(buf), &size);

                if (r != row->ret)
                        print_message("row %zu \"%s\": got %d, want %d\n", i, row->in, r, row->ret);
                assert_int_equal(r, row->ret);
                if (r == 0) {
                        assert_int_equal(size, strlen(row->out));
                        assert_memory_equal(buf, row->out, size);
                } else
                        assert_int_equal(size, 99); /* untouched on failure */
        }
}

static void test_base64_round_trip(void **state)
{
        uint8_t in[300], *out = NULL;
        size_t size;

        (void) state;
        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t) (i * 37 + 11);
        for (size_t n = 0; n <= sizeof(in); n++) {
                _cleanup_free_ char *s = base64_encode_alloc(in, n);

                assert_non_null(s);
                assert_int_equal(strlen(s), base64_encoded_size(n));
                assert_int_equal(base64_decode_alloc(s, strlen(s), n, &out, &size), 0);
                assert_int_equal(size, n);
                assert_memory_equal(out, in, n);
                free(out);
                if (n > 0)
                        assert_int_equal(base64_decode_alloc(s, strlen(s), n - 1, &out, &size),
                                         -EFBIG);
        }
}

/* ---- requests ----------------------------------------------------------------------------- */

static const char *member_string(struct json_object *o, const char *key)
{
        struct json_object *v;

        assert_true(json_object_object_get_ex(o, key, &v));
        assert_true(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

static void test_challenge_request(void **state)
{
        static const uint8_t ek[] = {0x00, 0x02, 0xaa, 0xbb}, ak[] = {0x00, 0x01, 0xcc},
                             cert[] = {0x30, 0x00};
        struct protocol_challenge_request req = {ek, sizeof(ek), NULL, 0, ak, sizeof(ak), 0};
        _cleanup_free_ char *body = NULL;
        struct json_object *root;

        (void) state;
        assert_int_equal(protocol_challenge_request(&req, &body), 0);
        assert_string_equal(body,
                            "{\"version\":2,\"ek_public\":\"AAKquw==\",\"ak_public\":\"AAHM\"}");
        free(body);
        body = NULL;

        req.ek_certificate = cert;
        req.ek_certificate_size = sizeof(cert);
        assert_int_equal(protocol_challenge_request(&req, &body), 0);
        root = json_tokener_parse(body);
        assert_non_null(root);
        assert_string_equal(member_string(root, "ek_certificate"), "MAA=");
        json_object_put(root);

        free(body);
        body = NULL;

        /* Version 3 (a node with platform evidence) says so in round 1 too. */
        req.version = 3;
        assert_int_equal(protocol_challenge_request(&req, &body), 0);
        root = json_tokener_parse(body);
        assert_non_null(root);
        assert_int_equal(json_object_get_int(json_object_object_get(root, "version")), 3);
        json_object_put(root);
        free(body);
        body = NULL;
        req.version = 4;
        assert_int_equal(protocol_challenge_request(&req, &body), -EINVAL);
        req.version = 0;

        req.ak_public_size = PROTOCOL_BLOB_MAX + 1;
        assert_int_equal(protocol_challenge_request(&req, &body), -EINVAL);
        req.ak_public_size = 0;
        assert_int_equal(protocol_challenge_request(&req, &body), -EINVAL);
}

struct node_row {
        const char *hostname, *machine_id, *product_uuid;
        int ret;
};

static const struct node_row node_rows[] = {
    {"node-1", NULL, NULL, 0},
    {"a.b-c.example", "0123456789abcdef0123456789abcdef", "4C4C4544-0042-3510-8052-B4C04F4E4D32",
     0},
    {"", NULL, NULL, -EINVAL},
    {"Node-1", NULL, NULL, -EINVAL}, /* lowercase only, as the verifier wants */
    {"node_1", NULL, NULL, -EINVAL},
    {"node-1", "0123456789ABCDEF0123456789abcdef", NULL, -EINVAL},
    {"node-1", "0123456789abcdef", NULL, -EINVAL},
    {"node-1", NULL, "4C4C4544004235108052B4C04F4E4D32", -EINVAL},
};

static void test_attest_request(void **state)
{
        static const uint8_t blob[] = {0x00, 0x01, 0x02}, log[] = {1, 2, 3, 4};
        uint8_t challenge[PROTOCOL_CHALLENGE_SIZE] = {1}, credential[32] = {9};
        uint8_t pcrs[PROTOCOL_PCRS][32] = {};
        struct json_object *root, *v, *bank;

        (void) state;
        pcrs[0][31] = 0xab;
        pcrs[15][0] = 0x3d;
        for (size_t i = 0; i < ELEMENTSOF(node_rows); i++) {
                _cleanup_(erase_and_freep) char *body = NULL;
                struct protocol_attest_request req = {
                    .challenge = challenge,
                    .ek_public = blob,
                    .ek_public_size = sizeof(blob),
                    .ak_public = blob,
                    .ak_public_size = sizeof(blob),
                    .credential = credential,
                    .attest = blob,
                    .attest_size = sizeof(blob),
                    .signature = blob,
                    .signature_size = sizeof(blob),
                    .pcr_mask = 1u << 0 | 1u << 15,
                    .pcrs = (const uint8_t(*)[32]) pcrs,
                    .event_log = log,
                    .event_log_size = sizeof(log),
                    .node = {node_rows[i].hostname, node_rows[i].machine_id,
                             node_rows[i].product_uuid},
                };
                int r = protocol_attest_request(&req, &body);

                if (r != node_rows[i].ret)
                        print_message("node row %zu: got %d\n", i, r);
                assert_int_equal(r, node_rows[i].ret);
                if (r < 0)
                        continue;
                root = json_tokener_parse(body);
                assert_non_null(root);
                assert_int_equal(json_object_object_length(root), 9);
                assert_true(json_object_object_get_ex(root, "version", &v));
                assert_int_equal(json_object_get_int(v), 2);
                assert_string_equal(member_string(root, "credential"),
                                    "CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
                assert_string_equal(member_string(root, "event_log"), "AQIDBA==");
                assert_true(json_object_object_get_ex(root, "quote", &v));
                assert_string_equal(member_string(v, "attest"), "AAEC");
                assert_string_equal(member_string(v, "signature"), "AAEC");
                assert_true(json_object_object_get_ex(root, "pcrs", &v));
                assert_true(json_object_object_get_ex(v, "sha256", &bank));
                assert_int_equal(json_object_object_length(bank), 2);
                assert_string_equal(member_string(bank, "0"), "00000000000000000000000000000000"
                                                              "000000000000000000000000000000ab");
                assert_string_equal(member_string(bank, "15"), "3d000000000000000000000000000000"
                                                               "00000000000000000000000000000000");
                assert_true(json_object_object_get_ex(root, "node", &v));
                assert_string_equal(member_string(v, "hostname"), node_rows[i].hostname);
                assert_int_equal(json_object_object_length(v),
                                 1 + !!node_rows[i].machine_id + !!node_rows[i].product_uuid);
                json_object_put(root);
        }
}

/* Version 3's platform field (PROTOCOL.md, "Platform evidence"). */
static void test_attest_request_platform(void **state)
{
        static const uint8_t blob[] = {0x00, 0x01, 0x02}, log[] = {1, 2, 3, 4},
                             report[] = {'H', 'C', 'L', 'A'}, vcek[] = {0x30, 0x82};
        static const uint8_t *const certs[] = {vcek};
        static const size_t cert_sizes[] = {sizeof(vcek)};
        uint8_t challenge[PROTOCOL_CHALLENGE_SIZE] = {1}, credential[32] = {9};
        uint8_t pcrs[PROTOCOL_PCRS][32] = {};
        struct protocol_platform platform = {
            .kind = "azure-snp-hcl",
            .report = report,
            .report_size = sizeof(report),
        };
        struct protocol_attest_request req = {
            .version = 3,
            .challenge = challenge,
            .ek_public = blob,
            .ek_public_size = sizeof(blob),
            .ak_public = blob,
            .ak_public_size = sizeof(blob),
            .credential = credential,
            .attest = blob,
            .attest_size = sizeof(blob),
            .signature = blob,
            .signature_size = sizeof(blob),
            .pcr_mask = 1,
            .pcrs = (const uint8_t(*)[32]) pcrs,
            .event_log = log,
            .event_log_size = sizeof(log),
            .node = {"node-1", NULL, NULL},
            .platform = &platform,
        };
        _cleanup_free_ uint8_t *big = calloc(1, PROTOCOL_PLATFORM_REPORT_MAX + 1);
        struct json_object *root, *v, *certificates;
        char *body = NULL;

        (void) state;
        assert_int_equal(protocol_attest_request(&req, &body), 0);
        root = json_tokener_parse(body);
        assert_non_null(root);
        assert_int_equal(json_object_object_length(root), 10);
        assert_int_equal(json_object_get_int(json_object_object_get(root, "version")), 3);
        assert_true(json_object_object_get_ex(root, "platform", &v));
        assert_int_equal(json_object_object_length(v), 2); /* no certificates: none sent */
        assert_string_equal(member_string(v, "kind"), "azure-snp-hcl");
        assert_string_equal(member_string(v, "report"), "SENMQQ==");
        json_object_put(root);
        erase_and_free(body);
        body = NULL;

        platform.kind = "snp-report";
        platform.certificates = certs;
        platform.certificate_sizes = cert_sizes;
        platform.n_certificates = 1;
        assert_int_equal(protocol_attest_request(&req, &body), 0);
        root = json_tokener_parse(body);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "platform", &v));
        assert_true(json_object_object_get_ex(v, "certificates", &certificates));
        assert_int_equal(json_object_array_length(certificates), 1);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(certificates, 0)),
                            "MII=");
        json_object_put(root);
        erase_and_free(body);
        body = NULL;

        /* Limits: the report, the number of certificates, a kind the protocol lacks, and no
         * platform field in a version-2 body. */
        assert_non_null(big);
        platform.report = big;
        platform.report_size = PROTOCOL_PLATFORM_REPORT_MAX + 1;
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        platform.report_size = PROTOCOL_PLATFORM_REPORT_MAX;
        assert_int_equal(protocol_attest_request(&req, &body), 0);
        erase_and_free(body);
        body = NULL;
        platform.n_certificates = PROTOCOL_PLATFORM_CERTS_MAX + 1;
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        platform.n_certificates = 0;
        platform.kind = "sev-snp";
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        platform.kind = "tdx-quote";
        assert_int_equal(protocol_attest_request(&req, &body), 0);
        erase_and_free(body);
        body = NULL;

        /* Azure TDX: the HCL blob and the TD quote from IMDS, as td_quote; the quote goes with
         * that kind and only there (PROTOCOL.md). */
        platform.kind = "azure-tdx-hcl";
        platform.report = report;
        platform.report_size = sizeof(report);
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        platform.td_quote = (const uint8_t *) "QUOTE";
        platform.td_quote_size = 5;
        assert_int_equal(protocol_attest_request(&req, &body), 0);
        root = json_tokener_parse(body);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "platform", &v));
        assert_int_equal(json_object_object_length(v), 3);
        assert_string_equal(member_string(v, "kind"), "azure-tdx-hcl");
        assert_string_equal(member_string(v, "report"), "SENMQQ==");
        assert_string_equal(member_string(v, "td_quote"), "UVVPVEU=");
        json_object_put(root);
        erase_and_free(body);
        body = NULL;
        platform.td_quote_size = PROTOCOL_PLATFORM_REPORT_MAX + 1;
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        platform.td_quote_size = 5;
        platform.kind = "azure-snp-hcl";
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        platform.td_quote = NULL;
        platform.td_quote_size = 0;
        platform.kind = "snp-report";
        req.version = 2;
        assert_int_equal(protocol_attest_request(&req, &body), -EINVAL);
        /* Version 3 without evidence is fine too. */
        req.version = 3;
        req.platform = NULL;
        assert_int_equal(protocol_attest_request(&req, &body), 0);
        erase_and_free(body);
}

/* ---- answers ------------------------------------------------------------------------------ */

#define CH                                                                                         \
        "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define CH99                                                                                       \
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define CHALLENGE(version, challenge, expires, blob, secret, sel, extra)                           \
        "{\"version\":" version ",\"challenge\":\"" challenge "\",\"expires_in\":" expires         \
        ",\"credential_blob\":\"" blob "\",\"encrypted_secret\":\"" secret                         \
        "\",\"pcr_selection\":" sel extra "}"
#define GOOD_SEL "{\"sha256\":[0,1,2,3,4,5,6,7,9,11,15]}"

struct answer_row {
        const char *body;
        int ret;
        const char *err; /* errbuf after a failure, "" on success */
};

static const struct answer_row challenge_rows[] = {
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", GOOD_SEL, ""), 0, ""},
    {" \n" CHALLENGE("2", CH, "60", "AAEC", "AAED", GOOD_SEL, "") "\n", 0, ""},
    {CHALLENGE("3", CH, "60", "AAEC", "AAED", GOOD_SEL, ""), 0, ""},
    {CHALLENGE("1", CH, "60", "AAEC", "AAED", GOOD_SEL, ""), -EBADMSG,
     "answer of version 1, expected 2 or 3"},
    {CHALLENGE("4", CH, "60", "AAEC", "AAED", GOOD_SEL, ""), -EBADMSG,
     "answer of version 4, expected 2 or 3"},
    {CHALLENGE("2.0", CH, "60", "AAEC", "AAED", GOOD_SEL, ""), -EBADMSG,
     "field \"version\" is not of type int"},
    {CHALLENGE("2", CH99, "60", "AAEC", "AAED", GOOD_SEL, ""), -EBADMSG,
     "field \"challenge\" is not base64 of 1–98 bytes"},
    {CHALLENGE("2", CH, "-1", "AAEC", "AAED", GOOD_SEL, ""), -EBADMSG,
     "field \"expires_in\" is out of range"},
    {CHALLENGE("2", CH, "\"60\"", "AAEC", "AAED", GOOD_SEL, ""), -EBADMSG,
     "field \"expires_in\" is not of type int"},
    {CHALLENGE("2", CH, "60", "AAE", "AAED", GOOD_SEL, ""), -EBADMSG,
     "field \"credential_blob\" is not base64 of 1–1024 bytes"},
    {CHALLENGE("2", CH, "60", "", "AAED", GOOD_SEL, ""), -EBADMSG,
     "field \"credential_blob\" is not base64 of 1–1024 bytes"},
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", "{\"sha256\":[0,2,1]}", ""), -EBADMSG,
     "field \"pcr_selection.sha256\" must be ascending PCR numbers 0–23"},
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", "{\"sha256\":[0,24]}", ""), -EBADMSG,
     "field \"pcr_selection.sha256\" must be ascending PCR numbers 0–23"},
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", "{\"sha256\":[]}", ""), -EBADMSG,
     "field \"pcr_selection.sha256\" must list 1–24 PCRs"},
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", "{\"sha256\":[0],\"sha1\":[0]}", ""), -EBADMSG,
     "unknown field \"pcr_selection.sha1\""},
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", GOOD_SEL, ",\"extra\":1"), -EBADMSG,
     "unknown field \"extra\""},
    {"{\"version\":2}", -EBADMSG, "missing field \"challenge\""},
    {CHALLENGE("2", CH, "60", "AAEC", "AAED", GOOD_SEL, "") "{}", -EBADMSG,
     "answer is not one JSON object"},
    {"[1]", -EBADMSG, "answer is not one JSON object"},
    {"{\"version\":1,", -EBADMSG, "answer is not one JSON object"},
    {"", -EBADMSG, "answer is not one JSON object"},
    {"{version:1}", -EBADMSG, "answer is not one JSON object"},
    {"{\"version\":1,}", -EBADMSG, "answer is not one JSON object"},
};

static void test_challenge_answer(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(challenge_rows); i++) {
                const struct answer_row *row = &challenge_rows[i];
                struct protocol_challenge_answer a = {};
                char err[256] = "";
                int r = protocol_parse_challenge_answer(row->body, strlen(row->body), &a, err,
                                                        sizeof(err));

                if (r != row->ret || !streq(err, row->err))
                        print_message("challenge row %zu: got %d \"%s\"\n", i, r, err);
                assert_int_equal(r, row->ret);
                assert_string_equal(err, row->err);
                if (r < 0)
                        continue;
                assert_int_equal(a.challenge[0], 1);
                assert_int_equal(a.expires_in, 60);
                assert_int_equal(a.credential_blob.size, 3);
                assert_int_equal(a.encrypted_secret.data[2], 3);
                assert_int_equal(a.pcr_mask, 0x8aff);
        }
}

static void test_answer_too_large(void **state)
{
        struct protocol_challenge_answer a;
        size_t size = PROTOCOL_ANSWER_MAX + 1;
        _cleanup_free_ char *body = malloc(size);
        char err[64] = "";

        (void) state;
        assert_non_null(body);
        memset(body, ' ', size);
        assert_int_equal(protocol_parse_challenge_answer(body, size, &a, err, sizeof(err)), -EFBIG);
}

#define CA_PEM "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define ATTEST(token, sealed_sel, reset, server, ca, cap_pcr, extra)                               \
        ATTEST_RESTART(token, sealed_sel, reset, "0", server, ca, cap_pcr, extra)
#define ATTEST_RESTART(token, sealed_sel, reset, restart, server, ca, cap_pcr, extra)              \
        "{\"version\":2,\"token_id\":\"" token "\",\"sealed\":{\"public\":\"AAEC\",\"duplicate\":" \
        "\"AAED\",\"encrypted_seed\":\"AAEE\",\"pcr_selection\":" sealed_sel                       \
        ",\"reset_count\":" reset ",\"restart_count\":" restart                                    \
        "},\"kubeconfig\":{\"server\":\"" server "\",\"certificate_authority_data\":\"" ca         \
        "\"},\"cap\":{\"pcr\":" cap_pcr                                                            \
        ",\"released\":\"nodegate: token released\",\"failed\":\"nodegate: failed\"}" extra "}"

static const struct answer_row attest_rows[] = {
    {ATTEST("abc123", GOOD_SEL, "7", "https://10.0.0.1:6443", CA_PEM, "15", ""), 0, ""},
    {ATTEST("abc123", GOOD_SEL, "4294967295", "https://k", CA_PEM, "15", ""), 0, ""},
    {ATTEST("abc123", GOOD_SEL, "4294967296", "https://k", CA_PEM, "15", ""), -EBADMSG,
     "field \"sealed.reset_count\" is out of range"},
    {ATTEST_RESTART("abc123", GOOD_SEL, "7", "4294967296", "https://k", CA_PEM, "15", ""), -EBADMSG,
     "field \"sealed.restart_count\" is out of range"},
    {ATTEST_RESTART("abc123", GOOD_SEL, "7", "\"0\"", "https://k", CA_PEM, "15", ""), -EBADMSG,
     "field \"sealed.restart_count\" is not of type int"},
    {ATTEST("ABC123", GOOD_SEL, "7", "https://k", CA_PEM, "15", ""), -EBADMSG,
     "field \"token_id\" is not 6 characters of [a-z0-9]"},
    {ATTEST("abc12", GOOD_SEL, "7", "https://k", CA_PEM, "15", ""), -EBADMSG,
     "field \"token_id\" is not 6 characters of [a-z0-9]"},
    {ATTEST("abc123", GOOD_SEL, "7", "http://k", CA_PEM, "15", ""), -EBADMSG,
     "field \"kubeconfig.server\" is not an https:// URL"},
    {ATTEST("abc123", GOOD_SEL, "7", "https://k j", CA_PEM, "15", ""), -EBADMSG,
     "field \"kubeconfig.server\" contains a space or control character"},
    {ATTEST("abc123", GOOD_SEL, "7", "https://k", "AAEC", "15", ""), -EBADMSG,
     "field \"kubeconfig.certificate_authority_data\" is not base64 of a PEM certificate"},
    {ATTEST("abc123", GOOD_SEL, "7", "https://k", CA_PEM, "10", ""), -EBADMSG,
     "cap PCR 10 is not in sealed.pcr_selection"},
    {ATTEST("abc123", GOOD_SEL, "7", "https://k", CA_PEM, "24", ""), -EBADMSG,
     "field \"cap.pcr\" is out of range"},
    {ATTEST("abc123", GOOD_SEL, "7", "https://k", CA_PEM, "15", ",\"token\":\"x\""), -EBADMSG,
     "unknown field \"token\""},
};

static void test_attest_answer(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(attest_rows); i++) {
                const struct answer_row *row = &attest_rows[i];
                struct protocol_attest_answer a = {};
                char err[256] = "";
                int r = protocol_parse_attest_answer(row->body, strlen(row->body), &a, err,
                                                     sizeof(err));

                if (r != row->ret || !streq(err, row->err))
                        print_message("attest row %zu: got %d \"%s\"\n", i, r, err);
                assert_int_equal(r, row->ret);
                assert_string_equal(err, row->err);
                if (r < 0) {
                        assert_null(a.server); /* nothing handed out on failure */
                        continue;
                }
                assert_string_equal(a.token_id, "abc123");
                assert_int_equal(a.sealed_public.size, 3);
                assert_int_equal(a.sealed_seed.data[2], 4);
                assert_int_equal(a.sealed_pcr_mask, 0x8aff);
                assert_int_equal(a.restart_count, 0);
                assert_int_equal(a.cap_pcr, 15);
                assert_string_equal(a.cap_released, "nodegate: token released");
                assert_true(startswith(a.ca_pem, "-----BEGIN CERTIFICATE-----\n"));
                assert_int_equal(a.ca_pem_size, strlen(a.ca_pem));
                protocol_attest_answer_done(&a);
        }
}

static void test_error_answer(void **state)
{
        static const char full[] =
            "{\"version\":2,\"error\":\"event-not-allowed\",\"message\":\"PCR 4 event 23 "
            "\\u001b[2J bad\",\"pcr\":4,\"event\":23,\"event_type\":"
            "\"EV_EFI_BOOT_SERVICES_APPLICATION\",\"digest\":\"3f2a\",\"later\":true}";
        struct protocol_error e;

        (void) state;
        assert_int_equal(protocol_parse_error(full, strlen(full), &e), 0);
        assert_string_equal(e.error, "event-not-allowed");
        assert_string_equal(e.message, "PCR 4 event 23 ?[2J bad"); /* no escape reaches a tty */
        assert_int_equal(e.pcr, 4);
        assert_int_equal(e.event, 23);
        assert_string_equal(e.event_type, "EV_EFI_BOOT_SERVICES_APPLICATION");
        assert_string_equal(e.digest, "3f2a");

        assert_int_equal(protocol_parse_error("{\"error\":\"x\",\"pcr\":99}", 22, &e), 0);
        assert_int_equal(e.pcr, -1);
        assert_int_equal(e.event, -1);
        assert_string_equal(e.message, "");
        assert_int_equal(protocol_parse_error("{\"message\":\"x\"}", 15, &e), -EBADMSG);
        assert_int_equal(protocol_parse_error("{\"error\":1}", 11, &e), -EBADMSG);
        assert_int_equal(protocol_parse_error("<html>", 6, &e), -EBADMSG);
}

static void test_pcr_list(void **state)
{
        char buf[64];

        (void) state;
        assert_string_equal(protocol_pcr_list(0x8aff, buf, sizeof(buf)), "0,1,2,3,4,5,6,7,9,11,15");
        assert_string_equal(protocol_pcr_list(0, buf, sizeof(buf)), "");
        assert_string_equal(protocol_pcr_list(0xffffff, buf, 8), "0,1,2,3");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_base64_decode),
            cmocka_unit_test(test_base64_round_trip),
            cmocka_unit_test(test_challenge_request),
            cmocka_unit_test(test_attest_request),
            cmocka_unit_test(test_attest_request_platform),
            cmocka_unit_test(test_challenge_answer),
            cmocka_unit_test(test_answer_too_large),
            cmocka_unit_test(test_attest_answer),
            cmocka_unit_test(test_error_answer),
            cmocka_unit_test(test_pcr_list),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
