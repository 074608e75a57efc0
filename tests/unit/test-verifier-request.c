/* SPDX-License-Identifier: GPL-2.0-or-later */
/* request_parse_challenge() / request_parse_attest(): one row per body with the reason and
 * message it must get; then the limits at their exact edges, built at run time. */

#include "common/base64.h"
#include "service/request.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CH98                                                                                       \
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"     \
        "P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGE="
#define C32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define H64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Each field of a valid body; a row swaps one for a broken variant. */
#define V "\"version\":2"
#define HOSTNAME_RULE                                                                              \
        "field \"node.hostname\" must be 1-253 characters of [a-z0-9.-] starting with a letter "   \
        "or "                                                                                      \
        "digit"
#define EK "\"ek_public\":\"AAEC\""
#define AK "\"ak_public\":\"AAEC\""
#define CT "\"ek_certificate\":\"MIIB\""
#define CH "\"challenge\":\"" CH98 "\""
#define CR "\"credential\":\"" C32 "\""
#define QU "\"quote\":{\"attest\":\"AAEC\",\"signature\":\"AAECAw==\"}"
#define PC "\"pcrs\":{\"sha256\":{\"0\":\"" H64 "\",\"15\":\"" H64 "\"}}"
#define EL "\"event_log\":\"AAECAwQ=\""
#define ND "\"node\":{\"hostname\":\"node-1.example\"}"

#define CHALLENGE(v, ek, ak) "{" v "," ek "," ak "}"
#define ATTEST(v, ch, ek, ak, cr, qu, pc, el, nd)                                                  \
        "{" v "," ch "," ek "," ak "," cr "," qu "," pc "," el "," nd "}"
#define ATTEST_OK ATTEST(V, CH, EK, AK, CR, QU, PC, EL, ND)

struct row {
        const char *body;
        enum reason reason;
        const char *message; /* a prefix of the message; NULL: not checked */
};

static const struct row challenge_rows[] = {
    {CHALLENGE(V, EK, AK), REASON_OK, NULL},
    {"{" V "," EK "," CT "," AK "}", REASON_OK, NULL},
    {CHALLENGE(V, EK, AK) " \n\t\r", REASON_OK, NULL},
    {" " CHALLENGE(V, EK, AK), REASON_OK, NULL},
    {"{" AK "," EK "," V "}", REASON_OK, NULL}, /* any order */

    /* not a JSON object */
    {"", REASON_BAD_REQUEST, "body is not complete JSON"},
    {"{", REASON_BAD_REQUEST, "body is not complete JSON"},
    {"not json", REASON_BAD_REQUEST, "body is not JSON: "},
    {"[1,2]", REASON_BAD_REQUEST, "body is not a JSON object"},
    {"\"str\"", REASON_BAD_REQUEST, "body is not a JSON object"},
    {"null", REASON_BAD_REQUEST, NULL}, /* json-c waits for more after a literal */
    {"null ", REASON_BAD_REQUEST, "body is not a JSON object"},
    {"1", REASON_BAD_REQUEST, "body is not complete JSON"},
    {CHALLENGE(V, EK, AK) "x", REASON_BAD_REQUEST, NULL},
    {CHALLENGE(V, EK, AK) CHALLENGE(V, EK, AK), REASON_BAD_REQUEST, NULL},
    {"{" V "," EK "," AK ",}", REASON_BAD_REQUEST, "body is not JSON: "},
    {"{'version':1}", REASON_BAD_REQUEST, "body is not JSON: "},
    {"{\"version\":1,\"x\":\"\xff\xfe\"}", REASON_BAD_REQUEST, "body is not JSON: "},
    {"{\"version\":1,\"x\":[[[[[[[[[[1]]]]]]]]]]}", REASON_BAD_REQUEST, "body is not JSON: "},
    {"{\"ek_public\\u0000x\":\"AAEC\"," V "," EK "," AK "}", REASON_BAD_REQUEST,
     "body contains an escaped NUL"},

    /* version */
    {"{" EK "," AK "}", REASON_MISSING_FIELD, "missing field \"version\""},
    {CHALLENGE("\"version\":1", EK, AK), REASON_UNSUPPORTED_VERSION,
     "version 1 is not supported: this verifier speaks 2 and 3"},
    {CHALLENGE("\"version\":4", EK, AK), REASON_UNSUPPORTED_VERSION, "version 4 is not supported"},
    {CHALLENGE("\"version\":3", EK, AK), REASON_OK, NULL},
    {CHALLENGE("\"version\":0", EK, AK), REASON_UNSUPPORTED_VERSION, "version 0 is not supported"},
    {CHALLENGE("\"version\":2.0", EK, AK), REASON_UNSUPPORTED_VERSION,
     "version must be the integer 2 or 3"},
    {CHALLENGE("\"version\":\"2\"", EK, AK), REASON_BAD_REQUEST,
     "field \"version\" must be a number"},
    {CHALLENGE("\"version\":null", EK, AK), REASON_BAD_REQUEST,
     "field \"version\" must be a number"},
    /* the version is judged before fields that version may have added */
    {"{\"version\":4,\"new\":1}", REASON_UNSUPPORTED_VERSION, "version 4"},

    /* unknown and missing fields */
    {"{" V "," EK "," AK ",\"extra\":1}", REASON_UNKNOWN_FIELD, "unknown field \"extra\""},
    {"{" V "," EK "," AK ",\"ak_certificate\":\"AAEC\"}", REASON_UNKNOWN_FIELD,
     "unknown field \"ak_certificate\""},
    {"{" V "," EK "," AK ",\"a\\nb\":1}", REASON_UNKNOWN_FIELD, "unknown field \"a?b\""},
    {"{" V "," AK "}", REASON_MISSING_FIELD, "missing field \"ek_public\""},
    {"{" V "," EK "}", REASON_MISSING_FIELD, "missing field \"ak_public\""},

    /* types and encodings */
    {CHALLENGE(V, "\"ek_public\":1", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" must be a string"},
    {CHALLENGE(V, "\"ek_public\":null", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" must be a string"},
    {CHALLENGE(V, EK, "\"ak_public\":[\"AAEC\"]"), REASON_BAD_REQUEST,
     "field \"ak_public\" must be a string"},
    {"{" V "," EK ",\"ek_certificate\":null," AK "}", REASON_BAD_REQUEST,
     "field \"ek_certificate\" must be a string"},
    {CHALLENGE(V, "\"ek_public\":\"AAE\"", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" is not base64"},
    {CHALLENGE(V, "\"ek_public\":\"AA EC\"", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" is not base64"},
    {CHALLENGE(V, "\"ek_public\":\"AAEC\\n\"", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" is not base64"},
    {CHALLENGE(V, "\"ek_public\":\"QR==\"", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" is not base64"},
    {CHALLENGE(V, "\"ek_public\":\"-_-_\"", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" is not base64"},
    {CHALLENGE(V, "\"ek_public\":\"AA==AAAA\"", AK), REASON_BAD_REQUEST,
     "field \"ek_public\" is not base64"},
    /* JSON escapes are JSON's business: "\/" is a '/' */
    {CHALLENGE(V, "\"ek_public\":\"AA\\/A\"", AK), REASON_OK, NULL},
};

static const struct row attest_rows[] = {
    {ATTEST_OK, REASON_OK, NULL},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL,
            "\"node\":{\"hostname\":\"n\",\"machine_id\":\"0123456789abcdef0123456789abcdef\","
            "\"product_uuid\":\"6C1C0B5A-1f2e-4d3c-8b9a-0e1f2a3b4c5d\"}"),
     REASON_OK, NULL},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{}}", "\"event_log\":\"\"", ND), REASON_OK,
     NULL},

    {ATTEST("\"version\":4", CH, EK, AK, CR, QU, PC, EL, ND), REASON_UNSUPPORTED_VERSION,
     "version 4"},
    /* platform: version 3 only, strictly shaped */
    {"{" V "," CH "," EK "," AK "," CR "," QU "," PC "," EL "," ND
     ",\"platform\":{\"kind\":\"snp-report\",\"report\":\"AAEC\"}}",
     REASON_UNKNOWN_FIELD, "unknown field \"platform\""},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"snp-report\",\"report\":\"AAEC\","
               "\"certificates\":[\"AAEC\"]}"),
     REASON_OK, NULL},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"sgx-quote\",\"report\":\"AAEC\"}"),
     REASON_BAD_REQUEST, "field \"platform.kind\" must be"},
    /* TDX: a quote alone; an Azure blob with its TD quote, which no other kind carries */
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"tdx-quote\",\"report\":\"AAEC\"}"),
     REASON_OK, NULL},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"azure-tdx-hcl\",\"report\":\"AAEC\","
               "\"td_quote\":\"AAEC\"}"),
     REASON_OK, NULL},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"azure-tdx-hcl\",\"report\":\"AAEC\"}"),
     REASON_BAD_REQUEST, "field \"platform.td_quote\" goes with kind \"azure-tdx-hcl\""},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"tdx-quote\",\"report\":\"AAEC\","
               "\"td_quote\":\"AAEC\"}"),
     REASON_BAD_REQUEST, "field \"platform.td_quote\" goes with kind \"azure-tdx-hcl\""},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"azure-tdx-hcl\",\"report\":\"AAEC\","
               "\"td_quote\":1}"),
     REASON_BAD_REQUEST, "field \"platform.td_quote\" must be a string"},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"snp-report\"}"),
     REASON_MISSING_FIELD, "missing field \"platform.report\""},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"snp-report\",\"report\":\"AAEC\",\"x\":1}"),
     REASON_UNKNOWN_FIELD, "unknown field \"platform.x\""},
    {ATTEST("\"version\":3", CH, EK, AK, CR, QU, PC, EL,
            ND ",\"platform\":{\"kind\":\"snp-report\",\"report\":\"AAEC\","
               "\"certificates\":[\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\"]}"),
     REASON_FIELD_TOO_LARGE, "field \"platform.certificates\" has more than 4"},
    {"{" V "," CH "," EK "," AK "," CR "," QU "," PC "," EL "," ND ",\"ek_certificate\":\"\"}",
     REASON_UNKNOWN_FIELD, "unknown field \"ek_certificate\""},
    {"{" V "," EK "," AK "," CR "," QU "," PC "," EL "," ND "}", REASON_MISSING_FIELD,
     "missing field \"challenge\""},
    {"{" V "," CH "," EK "," AK "," QU "," PC "," EL "," ND "}", REASON_MISSING_FIELD,
     "missing field \"credential\""},
    {"{" V "," CH "," EK "," AK "," CR "," PC "," EL "," ND "}", REASON_MISSING_FIELD,
     "missing field \"quote\""},
    {"{" V "," CH "," EK "," AK "," CR "," QU "," EL "," ND "}", REASON_MISSING_FIELD,
     "missing field \"pcrs\""},
    {"{" V "," CH "," EK "," AK "," CR "," QU "," PC "," ND "}", REASON_MISSING_FIELD,
     "missing field \"event_log\""},
    {"{" V "," CH "," EK "," AK "," CR "," QU "," PC "," EL "}", REASON_MISSING_FIELD,
     "missing field \"node\""},

    /* challenge and credential: at most their size; shorter is for the checks to refuse */
    {ATTEST(V, "\"challenge\":\"AAEC\"", EK, AK, CR, QU, PC, EL, ND), REASON_OK, NULL},
    {ATTEST(V, "\"challenge\":\"AAAA" CH98 "\"", EK, AK, CR, QU, PC, EL, ND),
     REASON_FIELD_TOO_LARGE, "field \"challenge\" is larger than 98 bytes"},
    {ATTEST(V, CH, EK, AK, "\"credential\":\"AAAA" C32 "\"", QU, PC, EL, ND),
     REASON_FIELD_TOO_LARGE, "field \"credential\" is larger than 32 bytes"},

    /* quote */
    {ATTEST(V, CH, EK, AK, CR, "\"quote\":\"AAEC\"", PC, EL, ND), REASON_BAD_REQUEST,
     "field \"quote\" must be an object"},
    {ATTEST(V, CH, EK, AK, CR, "\"quote\":{\"signature\":\"AAEC\"}", PC, EL, ND),
     REASON_MISSING_FIELD, "missing field \"quote.attest\""},
    {ATTEST(V, CH, EK, AK, CR, "\"quote\":{\"attest\":\"AAEC\"}", PC, EL, ND), REASON_MISSING_FIELD,
     "missing field \"quote.signature\""},
    {ATTEST(V, CH, EK, AK, CR, "\"quote\":{\"attest\":\"AAEC\",\"signature\":\"AAEC\",\"pcrs\":1}",
            PC, EL, ND),
     REASON_UNKNOWN_FIELD, "unknown field \"quote.pcrs\""},
    {ATTEST(V, CH, EK, AK, CR, "\"quote\":{\"attest\":\"AAE\",\"signature\":\"AAEC\"}", PC, EL, ND),
     REASON_BAD_REQUEST, "field \"quote.attest\" is not base64"},

    /* pcrs */
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{}", EL, ND), REASON_MISSING_FIELD,
     "missing field \"pcrs.sha256\""},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":[]", EL, ND), REASON_BAD_REQUEST,
     "field \"pcrs\" must be an object"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{},\"sha1\":{}}", EL, ND),
     REASON_UNKNOWN_FIELD, "unknown field \"pcrs.sha1\""},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":[]}", EL, ND), REASON_BAD_REQUEST,
     "field \"pcrs.sha256\" must be an object"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"01\":\"" H64 "\"}}", EL, ND),
     REASON_BAD_REQUEST, "key \"01\" of \"pcrs.sha256\" is not a PCR number"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"24\":\"" H64 "\"}}", EL, ND),
     REASON_BAD_REQUEST, "key \"24\" of \"pcrs.sha256\" is not a PCR number"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"+1\":\"" H64 "\"}}", EL, ND),
     REASON_BAD_REQUEST, "key \"+1\" of \"pcrs.sha256\" is not a PCR number"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"\":\"" H64 "\"}}", EL, ND),
     REASON_BAD_REQUEST, "key \"\" of \"pcrs.sha256\" is not a PCR number"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\" 1\":\"" H64 "\"}}", EL, ND),
     REASON_BAD_REQUEST, "key \" 1\" of \"pcrs.sha256\" is not a PCR number"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"7\":1}}", EL, ND), REASON_BAD_REQUEST,
     "field \"pcrs.sha256.7\" must be a string"},
    {ATTEST(V, CH, EK, AK, CR, QU,
            "\"pcrs\":{\"sha256\":{\"7\":\"00112233445566778899AABBCCDDEEFF00112233445566778899"
            "aabbccddeeff\"}}",
            EL, ND),
     REASON_BAD_REQUEST, "field \"pcrs.sha256.7\" must be 64 lowercase hex digits"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"7\":\"" H64 "0\"}}", EL, ND),
     REASON_BAD_REQUEST, "field \"pcrs.sha256.7\" must be 64 lowercase hex digits"},
    {ATTEST(V, CH, EK, AK, CR, QU, "\"pcrs\":{\"sha256\":{\"7\":\"\"}}", EL, ND),
     REASON_BAD_REQUEST, "field \"pcrs.sha256.7\" must be 64 lowercase hex digits"},

    /* event_log */
    {ATTEST(V, CH, EK, AK, CR, QU, PC, "\"event_log\":{}", ND), REASON_BAD_REQUEST,
     "field \"event_log\" must be a string"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, "\"event_log\":\"AAE=A\"", ND), REASON_BAD_REQUEST,
     "field \"event_log\" is not base64"},

    /* node */
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":\"n\""), REASON_BAD_REQUEST,
     "field \"node\" must be an object"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{}"), REASON_MISSING_FIELD,
     "missing field \"node.hostname\""},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"n\",\"ip\":\"x\"}"),
     REASON_UNKNOWN_FIELD, "unknown field \"node.ip\""},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"\"}"), REASON_BAD_REQUEST,
     "field \"node.hostname\" must be 1-253 characters"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"Node\"}"), REASON_BAD_REQUEST,
     "field \"node.hostname\" must be 1-253 characters"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"a b\"}"), REASON_BAD_REQUEST,
     "field \"node.hostname\" must be 1-253 characters"},
    /* an option to the token source's program, were it passed on as {node} */
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"--kubeconfig=x\"}"),
     REASON_BAD_REQUEST, HOSTNAME_RULE},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\".n\"}"), REASON_BAD_REQUEST,
     HOSTNAME_RULE},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"a\\u001b[2J\"}"),
     REASON_BAD_REQUEST, "field \"node.hostname\" must be 1-253 characters"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":7}"), REASON_BAD_REQUEST,
     "field \"node.hostname\" must be a string"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL,
            "\"node\":{\"hostname\":\"n\",\"machine_id\":\"0123456789ABCDEF0123456789abcdef\"}"),
     REASON_BAD_REQUEST, "field \"node.machine_id\" must be 32 lowercase hex digits"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"n\",\"machine_id\":\"0123\"}"),
     REASON_BAD_REQUEST, "field \"node.machine_id\" must be 32 lowercase hex digits"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL,
            "\"node\":{\"hostname\":\"n\",\"product_uuid\":\"6c1c0b5a1f2e4d3c8b9a0e1f2a3b4c5d\"}"),
     REASON_BAD_REQUEST, "field \"node.product_uuid\" must be a UUID"},
    {ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"n\",\"product_uuid\":null}"),
     REASON_BAD_REQUEST, "field \"node.product_uuid\" must be a string"},
};

static void check(const char *what, size_t i, const struct row *row, enum reason got,
                  const struct verdict *v)
{
        bool ok = got == row->reason && (got == REASON_OK || v->reason == got) &&
                  (!row->message || strncmp(v->message, row->message, strlen(row->message)) == 0);

        if (!ok)
                print_message("%s row %zu: got %s \"%s\", want %s \"%s\"\n", what, i,
                              reason_name(got), got == REASON_OK ? "" : v->message,
                              reason_name(row->reason), row->message ? row->message : "*");
        assert_true(ok);
}

static void test_challenge_rows(void **state)
{
        (void) state;
        for (size_t i = 0; i < sizeof(challenge_rows) / sizeof(challenge_rows[0]); i++) {
                struct challenge_request req;
                struct verdict v = {};
                enum reason r = request_parse_challenge(challenge_rows[i].body,
                                                        strlen(challenge_rows[i].body), &req, &v);

                check("challenge", i, &challenge_rows[i], r, &v);
        }
}

static void test_attest_rows(void **state)
{
        (void) state;
        for (size_t i = 0; i < sizeof(attest_rows) / sizeof(attest_rows[0]); i++) {
                struct attest_request req = {};
                struct verdict v = {};
                enum reason r = request_parse_attest(attest_rows[i].body,
                                                     strlen(attest_rows[i].body), &req, &v);

                check("attest", i, &attest_rows[i], r, &v);
                attest_request_done(&req);
        }
}

static void test_challenge_values(void **state)
{
        const char *body = "{" V "," EK "," CT "," AK "}";
        struct challenge_request req;
        struct verdict v;

        (void) state;
        assert_int_equal(request_parse_challenge(body, strlen(body), &req, &v), REASON_OK);
        assert_int_equal(req.ek_public.size, 3);
        assert_memory_equal(req.ek_public.data, "\x00\x01\x02", 3);
        assert_true(req.has_ek_certificate);
        assert_int_equal(req.ek_certificate_size, 3);
        assert_memory_equal(req.ek_certificate, "\x30\x82\x01", 3);

        body = CHALLENGE(V, EK, AK);
        assert_int_equal(request_parse_challenge(body, strlen(body), &req, &v), REASON_OK);
        assert_false(req.has_ek_certificate);
}

static void test_attest_values(void **state)
{
        const char *body = ATTEST(V, CH, EK, AK, CR, QU, PC, EL,
                                  "\"node\":{\"hostname\":\"node-1\",\"machine_id\":"
                                  "\"0123456789abcdef0123456789abcdef\"}");
        struct attest_request req = {};
        struct verdict v;
        uint8_t expect[98];

        (void) state;
        assert_int_equal(request_parse_attest(body, strlen(body), &req, &v), REASON_OK);
        for (size_t i = 0; i < sizeof(expect); i++)
                expect[i] = (uint8_t) i;
        assert_int_equal(req.challenge_size, 98);
        assert_memory_equal(req.challenge, expect, 98);
        assert_int_equal(req.credential_size, 32);
        assert_memory_equal(req.credential, expect, 32);
        assert_int_equal(req.quote_attest_size, 3);
        assert_int_equal(req.quote_signature_size, 4);
        assert_int_equal(req.pcr_mask, 1u << 0 | 1u << 15);
        assert_int_equal(req.pcrs[15][0], 0x00);
        assert_int_equal(req.pcrs[15][31], 0xff);
        assert_int_equal(req.event_log_size, 5);
        assert_memory_equal(req.event_log, "\x00\x01\x02\x03\x04", 5);
        assert_string_equal(req.node.hostname, "node-1");
        assert_string_equal(req.node.machine_id, "0123456789abcdef0123456789abcdef");
        assert_string_equal(req.node.product_uuid, "");

        attest_request_done(&req);
        assert_null(req.event_log);
        for (size_t i = 0; i < sizeof(req.credential); i++)
                assert_int_equal(req.credential[i], 0);
        attest_request_done(&req); /* idempotent */
}

/* A body with the field key replaced by base64 of n bytes (challenge request). */
static char *challenge_with(const char *key, size_t n)
{
        uint8_t *bytes = calloc(n ? n : 1, 1);
        char *b64 = base64_encode_alloc(bytes, n), *body = NULL;

        assert_non_null(b64);
        assert_true(
            asprintf(&body, "{\"version\":2,\"ek_public\":\"%s\",\"ak_public\":\"%s\"%s%s%s}",
                     streq(key, "ek_public") ? b64 : "AAEC", streq(key, "ak_public") ? b64 : "AAEC",
                     streq(key, "ek_certificate") ? ",\"ek_certificate\":\"" : "",
                     streq(key, "ek_certificate") ? b64 : "",
                     streq(key, "ek_certificate") ? "\"" : "") > 0);
        free(b64);
        free(bytes);
        return body;
}

static void expect_size(char *body, bool attest, enum reason want)
{
        struct verdict v = {};
        enum reason r;

        if (attest) {
                struct attest_request req = {};
                r = request_parse_attest(body, strlen(body), &req, &v);
                attest_request_done(&req);
        } else {
                struct challenge_request req;
                r = request_parse_challenge(body, strlen(body), &req, &v);
        }
        if (r != want)
                print_message("got %s (%s), want %s\n", reason_name(r), v.message,
                              reason_name(want));
        assert_int_equal(r, want);
        free(body);
}

static char *attest_with_log(size_t n)
{
        uint8_t *bytes = calloc(n ? n : 1, 1);
        char *b64 = base64_encode_alloc(bytes, n), *body = NULL;

        assert_true(asprintf(&body,
                             "{" V "," CH "," EK "," AK "," CR "," QU "," PC
                             ",\"event_log\":\"%s\"," ND "}",
                             b64) > 0);
        free(b64);
        free(bytes);
        return body;
}

static void test_limits(void **state)
{
        (void) state;
        expect_size(challenge_with("ek_public", 1024), false, REASON_OK);
        expect_size(challenge_with("ek_public", 1025), false, REASON_FIELD_TOO_LARGE);
        expect_size(challenge_with("ak_public", 1024), false, REASON_OK);
        expect_size(challenge_with("ak_public", 1023 + 3), false, REASON_FIELD_TOO_LARGE);
        expect_size(challenge_with("ek_certificate", 4096), false, REASON_OK);
        expect_size(challenge_with("ek_certificate", 4097), false, REASON_FIELD_TOO_LARGE);
        expect_size(challenge_with("ek_certificate", 0), false, REASON_OK);
        expect_size(attest_with_log(512 * 1024), true, REASON_OK);
        expect_size(attest_with_log(512 * 1024 + 1), true, REASON_FIELD_TOO_LARGE);
        expect_size(attest_with_log(700 * 1024), true, REASON_FIELD_TOO_LARGE);
}

static void test_hostname_length(void **state)
{
        char name[300], *body = NULL;
        (void) state;

        memset(name, 'a', sizeof(name));
        name[253] = '\0';
        assert_true(
            asprintf(&body, ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"%s\"}"),
                     name) > 0);
        expect_size(body, true, REASON_OK);
        name[253] = 'a';
        name[254] = '\0';
        assert_true(
            asprintf(&body, ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{\"hostname\":\"%s\"}"),
                     name) > 0);
        expect_size(body, true, REASON_FIELD_TOO_LARGE);
}

static void test_embedded_nul(void **state)
{
        static const char body[] =
            "{\"version\":2,\"ek_public\":\"AAEC\",\0\"ak_public\":\"AAEC\"}";
        struct challenge_request req;
        struct verdict v;

        (void) state;
        assert_int_equal(request_parse_challenge(body, sizeof(body) - 1, &req, &v),
                         REASON_BAD_REQUEST);
        assert_string_equal(v.message, "body contains a NUL byte");
        /* Only size bytes are read: the same text cut before the NUL is incomplete JSON. */
        assert_int_equal(request_parse_challenge(body, 32, &req, &v), REASON_BAD_REQUEST);
        assert_string_equal(v.message, "body is not complete JSON");
}

/* A refused body leaves *ret as it was. */
static void test_ret_untouched(void **state)
{
        const char *body = ATTEST(V, CH, EK, AK, CR, QU, PC, EL, "\"node\":{}");
        struct attest_request req;
        struct verdict v;

        (void) state;
        memset(&req, 0x5a, sizeof(req));
        assert_int_equal(request_parse_attest(body, strlen(body), &req, &v), REASON_MISSING_FIELD);
        assert_int_equal(req.credential[0], 0x5a);
        assert_int_equal(req.node.hostname[0], 0x5a);
}

/* RFC 4648 §10's vectors both ways, and what a strict decoder refuses. */
static void test_base64(void **state)
{
        static const char *const vectors[][2] = {
            {"", ""},
            {"f", "Zg=="},
            {"fo", "Zm8="},
            {"foo", "Zm9v"},
            {"foob", "Zm9vYg=="},
            {"fooba", "Zm9vYmE="},
            {"foobar", "Zm9vYmFy"},
        };
        static const char *const refused[] = {
            "Zg",       "Zg=",   "Zm9",    "Z===", "====", "Zh==",  "Zm9=",
            "Zm8=Zm8=", "Zm 9v", "Zm9v\n", "Zm-v", "Zm_v", "Zm9v=", "=Zm9",
        };
        uint8_t out[16];
        char enc[16];
        size_t n;

        (void) state;
        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                const char *plain = vectors[i][0], *b64 = vectors[i][1];

                base64_encode((const uint8_t *) plain, strlen(plain), enc);
                assert_string_equal(enc, b64);
                assert_int_equal(base64_encoded_size(strlen(plain)), strlen(b64));
                assert_int_equal(base64_decode(b64, strlen(b64), out, sizeof(out), &n), 0);
                assert_int_equal(n, strlen(plain));
                assert_memory_equal(out, plain, n);
        }
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                if (base64_decode(refused[i], strlen(refused[i]), out, sizeof(out), &n) != -EBADMSG)
                        fail_msg("\"%s\" was accepted", refused[i]);
        /* exactly the room needed, and one byte less */
        assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 6, &n), 0);
        assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5, &n), -EMSGSIZE);
        assert_int_equal(base64_decode("Zm9vYmE=", 8, out, 5, &n), 0);
        assert_int_equal(base64_decode("Zm9vYmE=", 8, out, 4, &n), -EMSGSIZE);
        /* every byte value and length round-trips */
        uint8_t all[256];
        char *e;
        for (size_t i = 0; i < sizeof(all); i++)
                all[i] = (uint8_t) i;
        for (size_t len = 0; len <= sizeof(all); len++) {
                uint8_t back[256];
                e = base64_encode_alloc(all, len);
                assert_non_null(e);
                assert_int_equal(base64_decode(e, strlen(e), back, sizeof(back), &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(back, all, len);
                free(e);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_challenge_rows),   cmocka_unit_test(test_attest_rows),
            cmocka_unit_test(test_challenge_values), cmocka_unit_test(test_attest_values),
            cmocka_unit_test(test_limits),           cmocka_unit_test(test_hostname_length),
            cmocka_unit_test(test_embedded_nul),     cmocka_unit_test(test_ret_untouched),
            cmocka_unit_test(test_base64),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
