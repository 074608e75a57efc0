/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Both rounds in-process, with a node played in software: EK and AK are OpenSSL keys in TPM
 * areas, the quote is signed here, the event log built here. The happy path releases a token;
 * each of PROTOCOL.md's ordered checks, broken alone, gives its reason and issues nothing. */

#include "appraisal/appraise.h"
#include "common/base64.h"
#include "appraisal/challenge.h"
#include "tpm/ekcheck.h"
#include "issuance/issuance.h"
#include "policy/policy.h"
#include "issuance/token-source.h"
#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"
#include "util.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

#define NOW         1795000000ull
#define RESET_COUNT 7u
#define QUOTE_MASK  (1u << 0 | 1u << 4 | 1u << 15)

#define EV_S_CRTM_VERSION                0x00000008u
#define EV_SEPARATOR                     0x00000004u
#define EV_EFI_ACTION                    0x80000007u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u

static void coordinates(EVP_PKEY *key, uint8_t x[32], uint8_t y[32])
{
        BIGNUM *bx = NULL, *by = NULL;

        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by), 1);
        assert_int_equal(BN_bn2binpad(bx, x, 32), 32);
        assert_int_equal(BN_bn2binpad(by, y, 32), 32);
        BN_free(bx);
        BN_free(by);
}

/* TPM2B_PUBLIC of a P-256 key: the EK template L-2, or a restricted ECDSA AK. */
static void p256_public(EVP_PKEY *key, bool ek, uint32_t attributes, struct tbuf *ret)
{
        struct tbuf t = {};
        uint8_t x[32], y[32];

        coordinates(key, x, y);
        tbuf_be16(&t, TPMW_ALG_ECC);
        tbuf_be16(&t, TPMW_ALG_SHA256);
        tbuf_be32(&t, attributes);
        if (ek) {
                tbuf_tpm2b(&t, test_ek_policy_sha256, 32);
                tbuf_be16(&t, TPMW_ALG_AES);
                tbuf_be16(&t, 128);
                tbuf_be16(&t, TPMW_ALG_CFB);
                tbuf_be16(&t, TPMW_ALG_NULL);
        } else {
                tbuf_be16(&t, 0);
                tbuf_be16(&t, TPMW_ALG_NULL);
                tbuf_be16(&t, TPMW_ALG_ECDSA);
                tbuf_be16(&t, TPMW_ALG_SHA256);
        }
        tbuf_be16(&t, TPMW_ECC_NIST_P256);
        tbuf_be16(&t, TPMW_ALG_NULL);
        tbuf_tpm2b(&t, x, 32);
        tbuf_tpm2b(&t, y, 32);
        ret->n = 0;
        tbuf_tpm2b(ret, t.b, t.n);
}

/* ---- the event log ---- */

struct event {
        uint32_t pcr, type;
        const char *data;
        uint8_t digest[32]; /* SHA-256 of data unless preset */
};

static const uint8_t uki_digest[32] = {0x4b, 0x1d};
static const uint8_t other_uki_digest[32] = {0xba, 0xd0};

static void log_build(const struct event *ev, size_t n, struct tbuf *log, uint8_t pcrs[24][32])
{
        static const char sig[16] = "Spec ID Event03";
        struct tbuf spec = {};

        tbuf_bytes(&spec, sig, 16);
        tbuf_le32(&spec, 0);  /* platformClass */
        spec.b[spec.n++] = 0; /* minor */
        spec.b[spec.n++] = 2; /* major */
        spec.b[spec.n++] = 0; /* errata */
        spec.b[spec.n++] = 2; /* uintnSize: UINT64 */
        tbuf_le32(&spec, 1);  /* one bank */
        tbuf_le16(&spec, TPMW_ALG_SHA256);
        tbuf_le16(&spec, 32);
        spec.b[spec.n++] = 0; /* vendorInfoSize */

        log->n = 0;
        tbuf_le32(log, 0);
        tbuf_le32(log, 0x3); /* EV_NO_ACTION */
        memset(log->b + log->n, 0, 20);
        log->n += 20;
        tbuf_le32(log, (uint32_t) spec.n);
        tbuf_bytes(log, spec.b, spec.n);

        memset(pcrs, 0, 24 * 32);
        for (size_t i = 0; i < n; i++) {
                uint8_t cat[64];

                tbuf_le32(log, ev[i].pcr);
                tbuf_le32(log, ev[i].type);
                tbuf_le32(log, 1);
                tbuf_le16(log, TPMW_ALG_SHA256);
                tbuf_bytes(log, ev[i].digest, 32);
                tbuf_le32(log, (uint32_t) strlen(ev[i].data));
                tbuf_bytes(log, ev[i].data, strlen(ev[i].data));
                memcpy(cat, pcrs[ev[i].pcr], 32);
                memcpy(cat + 32, ev[i].digest, 32);
                SHA256(cat, 64, pcrs[ev[i].pcr]);
        }
}

static struct event good_events[] = {
    {0, EV_S_CRTM_VERSION, "firmware 1.0", {0}},
    {4, EV_EFI_ACTION, "Calling EFI Application from Boot Option", {0}},
    {4, EV_SEPARATOR, "\x01", {0}},
    {4, EV_EFI_BOOT_SERVICES_APPLICATION, "uki", {0}},
};

/* ---- the verifier ---- */

static char dir[] = "/tmp/test-verifier-appraise-XXXXXX";
static struct verifier vf;
static EVP_PKEY *ek_key, *ak_key, *other_key;
static struct tbuf ek_pub, ak_pub, other_pub;
static char pool_path[256];

static int setup(void **state)
{
        char path[256], text[4096], err[512], h[4][65];
        struct tpm_public ek;
        uint8_t spki[32];

        (void) state;
        assert_non_null(mkdtemp(dir));
        ek_key = EVP_EC_gen("P-256");
        ak_key = EVP_EC_gen("P-256");
        other_key = EVP_EC_gen("P-256");
        p256_public(ek_key, true, TEST_EK_ATTRIBUTES, &ek_pub);
        p256_public(ak_key, false, TEST_AK_ATTRIBUTES, &ak_pub);
        p256_public(other_key, false, TEST_AK_ATTRIBUTES, &other_pub);

        for (size_t i = 0; i < ELEMENTSOF(good_events); i++)
                SHA256((const uint8_t *) good_events[i].data, strlen(good_events[i].data),
                       good_events[i].digest);
        memcpy(good_events[3].digest, uki_digest, 32); /* an Authenticode digest, not data's */

        /* the shared secret */
        snprintf(path, sizeof(path), "%s/secret", dir);
        test_write_text(path, "0123456789abcdef0123456789abcdef", 0600);
        assert_int_equal(verifier_load_secret(&vf, path), 0);
        test_write_text(path, "0123456789abcdef0123456789abcdef", 0644);
        assert_int_equal(verifier_load_secret(&vf, path), -EPERM);
        test_write_text(path, "short", 0600);
        assert_int_equal(verifier_load_secret(&vf, path), -EINVAL);

        /* the policy: PCR 4 pinned, the UKI required; the synthetic log has no firmware, so
         * the firmware opt-ins are written down */
        hex_encode(good_events[1].digest, 32, h[0]);
        hex_encode(good_events[2].digest, 32, h[1]);
        hex_encode(uki_digest, 32, h[2]);
        snprintf(text, sizeof(text),
                 "{\"version\":1,\"quote_pcrs\":[0,4,15],\"cap_pcr\":15,"
                 "\"allow\":[\"firmware-unjudged\",\"secure-boot-off\"],\"pcrs\":{\"4\":["
                 "{\"type\":\"EV_EFI_ACTION\",\"sha256\":[\"%s\"]},"
                 "{\"type\":\"EV_SEPARATOR\",\"sha256\":[\"%s\"]},"
                 "{\"type\":\"EV_EFI_BOOT_SERVICES_APPLICATION\",\"sha256\":[\"%s\"],"
                 "\"required\":true}]}}",
                 h[0], h[1], h[2]);
        if (policy_parse(text, strlen(text), &vf.policy, err, sizeof(err)) != 0)
                fail_msg("policy: %s", err);

        /* the EK on the allowlist */
        assert_int_equal(tpm_public_parse(ek_pub.b, ek_pub.n, &ek), 0);
        assert_int_equal(tpm_public_spki_sha256(&ek, spki), 0);
        hex_encode(spki, 32, h[3]);
        snprintf(path, sizeof(path), "%s/allowlist", dir);
        snprintf(text, sizeof(text), "%s\n", h[3]);
        test_write_text(path, text, 0644);
        assert_int_equal(ek_trust_new(&vf.ek_trust), 0);
        assert_int_equal(ek_trust_load_allowlist(vf.ek_trust, path, err, sizeof(err)), 0);

        /* four tokens */
        snprintf(pool_path, sizeof(pool_path), "%s/pool", dir);
        test_write_text(pool_path,
                        "aaaaaa.0123456789abcdef\nbbbbbb.0123456789abcdef\n"
                        "cccccc.0123456789abcdef\ndddddd.0123456789abcdef\n",
                        0600);
        snprintf(text, sizeof(text), "pool:%s", pool_path);
        assert_int_equal(token_source_new(text, &vf.tokens, err, sizeof(err)), 0);

        vf.challenge_lifetime = 60;
        vf.api_server = strdup("https://api.example:6443");
        vf.cluster_ca_b64 = strdup("Q0EgUEVN");
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        policy_free(vf.policy);
        ek_trust_free(vf.ek_trust);
        token_source_free(vf.tokens);
        free(vf.api_server);
        free(vf.cluster_ca_b64);
        EVP_PKEY_free(ek_key);
        EVP_PKEY_free(ak_key);
        EVP_PKEY_free(other_key);
        return test_remove_tree(dir);
}

/* ---- round 1 ---- */

static char *challenge_body(const struct tbuf *ek, const struct tbuf *ak)
{
        char *e = base64_encode_alloc(ek->b, ek->n), *a = base64_encode_alloc(ak->b, ak->n);
        char *body = NULL;

        assert_true(
            asprintf(&body, "{\"version\":2,\"ek_public\":\"%s\",\"ak_public\":\"%s\"}", e, a) > 0);
        free(e);
        free(a);
        return body;
}

static const char *get_string(json_object *o, const char *key)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
                fail_msg("no string \"%s\"", key);
        return json_object_get_string(m);
}

static size_t get_base64(json_object *o, const char *key, uint8_t *out, size_t max)
{
        const char *s = get_string(o, key);
        size_t n;

        assert_int_equal(base64_decode(s, strlen(s), out, max, &n), 0);
        return n;
}

static int64_t get_int(json_object *o, const char *key)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_int))
                fail_msg("no number \"%s\"", key);
        return json_object_get_int64(m);
}

static json_object *get_object(json_object *o, const char *key)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m))
                fail_msg("no \"%s\"", key);
        return m;
}

/* {"sha256": [0, 4, 15]} */
static void check_selection(json_object *o)
{
        json_object *list = get_object(o, "sha256");

        assert_int_equal(json_object_object_length(o), 1);
        assert_int_equal(json_object_array_length(list), 3);
        assert_int_equal(json_object_get_int(json_object_array_get_idx(list, 0)), 0);
        assert_int_equal(json_object_get_int(json_object_array_get_idx(list, 1)), 4);
        assert_int_equal(json_object_get_int(json_object_array_get_idx(list, 2)), 15);
}

/* A TPM2B whose size prefix covers the rest exactly. */
static void check_tpm2b(const uint8_t *p, size_t n)
{
        assert_true(n > 2);
        assert_int_equal((size_t) (p[0] << 8 | p[1]), n - 2);
}

/* Round 1 as the node runs it. @return the challenge */
static void round1(const struct tbuf *ak, uint8_t challenge[CHALLENGE_SIZE])
{
        char *body = challenge_body(&ek_pub, ak), *answer = NULL;
        struct appraisal_facts facts;
        struct verdict v;
        json_object *o;
        uint8_t blob[1024];
        size_t n;

        if (appraise_challenge(&vf, body, strlen(body), NOW, &answer, &v, &facts) != REASON_OK)
                fail_msg("round 1: %s %s", reason_name(v.reason), v.message);
        free(body);
        assert_int_equal(strlen(facts.ek_sha256), 64);
        o = json_tokener_parse(answer);
        assert_non_null(o);
        assert_int_equal(get_int(o, "version"), 2);
        assert_int_equal(get_int(o, "expires_in"), 60);
        assert_int_equal(get_base64(o, "challenge", challenge, CHALLENGE_SIZE), CHALLENGE_SIZE);
        n = get_base64(o, "credential_blob", blob, sizeof(blob));
        check_tpm2b(blob, n);
        n = get_base64(o, "encrypted_secret", blob, sizeof(blob));
        check_tpm2b(blob, n);
        assert_int_equal(n, 2 + 2 + 32 + 2 + 32); /* an ephemeral P-256 point */
        check_selection(get_object(o, "pcr_selection"));
        assert_int_equal(json_object_object_length(o), 6);
        json_object_put(o);
        free(answer);
}

/* ---- round 2 ---- */

/* What the software node does, and each way to get it wrong. */
struct node {
        const struct tbuf *ek, *ak; /* sent */
        EVP_PKEY *signer;           /* signs the quote */
        bool tamper_challenge, wrong_credential, stale_nonce, flip_signature, bad_magic;
        uint32_t quote_mask;        /* selection in the quote */
        int claim_wrong_pcr;        /* a claimed value differs from the quoted one, or -1 */
        int claim_missing_pcr;      /* a quoted PCR without a claimed value, or -1 */
        const struct event *events; /* the log (and so the quoted values) */
        size_t n_events;
        const struct event *sent_events; /* the log sent, when it differs from the quoted one */
        size_t n_sent_events;
        size_t truncate_log;                 /* bytes cut from the log's end */
        const char *attest_b64;              /* replaces quote.attest */
        uint32_t reset_count, restart_count; /* the boot, in the quote's clockInfo */
};

static struct node honest(void)
{
        return (struct node){
            .ek = &ek_pub,
            .ak = &ak_pub,
            .signer = ak_key,
            .quote_mask = QUOTE_MASK,
            .claim_wrong_pcr = -1,
            .claim_missing_pcr = -1,
            .events = good_events,
            .n_events = ELEMENTSOF(good_events),
            .reset_count = RESET_COUNT,
        };
}

static void sign(EVP_PKEY *key, const uint8_t *data, size_t n, struct tbuf *sig)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t der[128], r[32], s[32];
        const uint8_t *p = der;
        size_t len = sizeof(der);
        ECDSA_SIG *es;

        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
        assert_int_equal(EVP_DigestSign(ctx, der, &len, data, n), 1);
        EVP_MD_CTX_free(ctx);
        es = d2i_ECDSA_SIG(NULL, &p, (long) len);
        assert_non_null(es);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), r, 32), 32);
        assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), s, 32), 32);
        ECDSA_SIG_free(es);
        sig->n = 0;
        tbuf_be16(sig, TPMW_ALG_ECDSA);
        tbuf_be16(sig, TPMW_ALG_SHA256);
        tbuf_tpm2b(sig, r, 32);
        tbuf_tpm2b(sig, s, 32);
}

static void quote(const struct node *nd, const uint8_t challenge[CHALLENGE_SIZE],
                  uint8_t pcrs[24][32], struct tbuf *attest, struct tbuf *sig,
                  uint8_t ret_pcr_digest[32])
{
        struct tbuf a = {}, values = {};
        uint8_t nonce[32];
        struct tpm_public ak;

        for (unsigned i = 0; i < 24; i++)
                if (nd->quote_mask & (1u << i))
                        tbuf_bytes(&values, pcrs[i], 32);
        SHA256(values.b, values.n, ret_pcr_digest);
        challenge_qualifying_data(challenge, nonce);
        if (nd->stale_nonce)
                nonce[0] ^= 1;
        assert_int_equal(tpm_public_parse(nd->ak->b, nd->ak->n, &ak), 0);

        tbuf_be32(&a, nd->bad_magic ? 0xff544348u : TPMW_GENERATED_VALUE);
        tbuf_be16(&a, TPMW_ST_ATTEST_QUOTE);
        tbuf_tpm2b(&a, ak.name, ak.name_size); /* qualifiedSigner */
        tbuf_tpm2b(&a, nonce, 32);
        tbuf_be64(&a, 123456789); /* clock */
        tbuf_be32(&a, nd->reset_count);
        tbuf_be32(&a, nd->restart_count);
        a.b[a.n++] = 1; /* safe */
        tbuf_be64(&a, 0x2019102300163636ull);
        tbuf_be32(&a, 1);
        tbuf_be16(&a, TPMW_ALG_SHA256);
        a.b[a.n++] = 3;
        a.b[a.n++] = (uint8_t) nd->quote_mask;
        a.b[a.n++] = (uint8_t) (nd->quote_mask >> 8);
        a.b[a.n++] = (uint8_t) (nd->quote_mask >> 16);
        tbuf_tpm2b(&a, ret_pcr_digest, 32);

        sign(nd->signer, a.b, a.n, sig);
        if (nd->flip_signature)
                sig->b[10] ^= 1;
        attest->n = 0;
        tbuf_tpm2b(attest, a.b, a.n);
}

struct attempt {
        enum reason reason;
        struct verdict v;
        struct appraisal_facts facts;
        json_object *answer;
        uint8_t pcr_digest[32];
};

static void round2(const struct node *nd, const uint8_t challenge_in[CHALLENGE_SIZE], uint64_t now,
                   struct attempt *ret)
{
        uint8_t challenge[CHALLENGE_SIZE], credential[32], pcrs[24][32], sent_pcrs[24][32];
        static struct tbuf log, sent_log;
        struct tbuf attest, sig;
        char *b[6], pcr_json[2048], *body = NULL, *answer = NULL;
        size_t o = 0;

        memcpy(challenge, challenge_in, CHALLENGE_SIZE);
        challenge_credential(vf.credential_key, challenge, credential);
        if (nd->wrong_credential)
                credential[31] ^= 1;
        if (nd->tamper_challenge)
                challenge[20] ^= 1;
        log_build(nd->events, nd->n_events, &log, pcrs);
        quote(nd, challenge, pcrs, &attest, &sig, ret->pcr_digest);
        if (nd->sent_events)
                log_build(nd->sent_events, nd->n_sent_events, &sent_log, sent_pcrs);
        else
                sent_log = log;
        sent_log.n -= nd->truncate_log;

        o += (size_t) sprintf(pcr_json + o, "{\"sha256\":{");
        for (unsigned i = 0; i < 24; i++) {
                char h[65];

                if (!(QUOTE_MASK & (1u << i)) || (int) i == nd->claim_missing_pcr)
                        continue;
                if ((int) i == nd->claim_wrong_pcr)
                        pcrs[i][0] ^= 0x80;
                hex_encode(pcrs[i], 32, h);
                o += (size_t) sprintf(pcr_json + o, "%s\"%u\":\"%s\"",
                                      pcr_json[o - 1] == '{' ? "" : ",", i, h);
        }
        sprintf(pcr_json + o, "}}");

        b[0] = base64_encode_alloc(challenge, CHALLENGE_SIZE);
        b[1] = base64_encode_alloc(nd->ek->b, nd->ek->n);
        b[2] = base64_encode_alloc(nd->ak->b, nd->ak->n);
        b[3] = base64_encode_alloc(credential, 32);
        b[4] = nd->attest_b64 ? strdup(nd->attest_b64) : base64_encode_alloc(attest.b, attest.n);
        b[5] = base64_encode_alloc(sig.b, sig.n);
        char *logb64 = base64_encode_alloc(sent_log.b, sent_log.n);
        assert_true(asprintf(&body,
                             "{\"version\":2,\"challenge\":\"%s\",\"ek_public\":\"%s\","
                             "\"ak_public\":\"%s\",\"credential\":\"%s\",\"quote\":{\"attest\":"
                             "\"%s\",\"signature\":\"%s\"},\"pcrs\":%s,\"event_log\":\"%s\","
                             "\"node\":{\"hostname\":\"node-1\",\"machine_id\":"
                             "\"0123456789abcdef0123456789abcdef\"}}",
                             b[0], b[1], b[2], b[3], b[4], b[5], pcr_json, logb64) > 0);
        for (int i = 0; i < 6; i++)
                free(b[i]);
        free(logb64);

        ret->reason = appraise_attest(&vf, body, strlen(body), now, &answer, &ret->v, &ret->facts);
        free(body);
        if (ret->reason == REASON_OK) {
                assert_non_null(answer);
                ret->answer = json_tokener_parse(answer);
                assert_non_null(ret->answer);
        } else {
                assert_null(answer);
                ret->answer = NULL;
        }
        free(answer);
}

static unsigned unused_tokens(void)
{
        FILE *f = fopen(pool_path, "re");
        char line[128];
        unsigned n = 0;

        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (line[0] != '#' && line[0] != '\n')
                        n++;
        fclose(f);
        return n;
}

/* PolicyPCR then PolicyCounterTimer (resetCount), PolicyCounterTimer (restartCount), computed
 * here from the TPM spec, not by tpmcrypto.c. */
static void expected_policy(uint32_t mask, const uint8_t pcr_digest[32], uint32_t reset_count,
                            uint32_t restart_count, uint8_t ret[32])
{
        struct tbuf b = {}, args = {};
        uint8_t digest[32] = {0}, args_hash[32];

        tbuf_bytes(&b, digest, 32);
        tbuf_be32(&b, 0x0000017f); /* TPM_CC_PolicyPCR */
        tbuf_be32(&b, 1);
        tbuf_be16(&b, TPMW_ALG_SHA256);
        b.b[b.n++] = 3;
        b.b[b.n++] = (uint8_t) mask;
        b.b[b.n++] = (uint8_t) (mask >> 8);
        b.b[b.n++] = (uint8_t) (mask >> 16);
        tbuf_bytes(&b, pcr_digest, 32);
        SHA256(b.b, b.n, digest);

        for (int i = 0; i < 2; i++) {
                args.n = 0;
                tbuf_be32(&args, i ? restart_count : reset_count); /* operandB */
                tbuf_be16(&args, i ? 20 : 16); /* their offsets in TPMS_TIME_INFO */
                tbuf_be16(&args, 0);           /* TPM_EO_EQ */
                SHA256(args.b, args.n, args_hash);
                b.n = 0;
                tbuf_bytes(&b, digest, 32);
                tbuf_be32(&b, 0x0000016d); /* TPM_CC_PolicyCounterTimer */
                tbuf_bytes(&b, args_hash, 32);
                SHA256(b.b, b.n, digest);
        }
        memcpy(ret, digest, 32);
}

static void test_happy_path(void **state)
{
        uint8_t challenge[CHALLENGE_SIZE], blob[1024], policy[32];
        struct node nd = honest();
        struct attempt at;
        struct tpm_public sealed;
        json_object *s, *kc, *cap;
        unsigned before = unused_tokens();
        size_t n;

        (void) state;
        round1(&ak_pub, challenge);
        round2(&nd, challenge, NOW + 5, &at);
        if (at.reason != REASON_OK)
                fail_msg("round 2: %s %s", reason_name(at.reason), at.v.message);
        assert_int_equal(unused_tokens(), before - 1);

        assert_int_equal(get_int(at.answer, "version"), 2);
        assert_string_equal(get_string(at.answer, "token_id"), at.facts.token_id);
        assert_int_equal(strlen(at.facts.token_id), 6);
        assert_string_equal(at.facts.token_id, "aaaaaa");
        assert_string_equal(at.facts.hostname, "node-1");
        assert_int_equal(strlen(at.facts.ek_sha256), 64);

        s = get_object(at.answer, "sealed");
        n = get_base64(s, "public", blob, sizeof(blob));
        assert_int_equal(tpm_public_parse(blob, n, &sealed), 0);
        assert_int_equal(sealed.type, TPMW_ALG_KEYEDHASH);
        assert_int_equal(sealed.name_alg, TPMW_ALG_SHA256);
        assert_int_equal(sealed.attributes, TPMW_OA_ADMIN_WITH_POLICY | TPMW_OA_NO_DA);
        expected_policy(QUOTE_MASK, at.pcr_digest, RESET_COUNT, 0, policy);
        assert_int_equal(sealed.auth_policy_size, 32);
        assert_memory_equal(sealed.auth_policy, policy, 32);
        n = get_base64(s, "duplicate", blob, sizeof(blob));
        check_tpm2b(blob, n);
        n = get_base64(s, "encrypted_seed", blob, sizeof(blob));
        check_tpm2b(blob, n);
        assert_int_equal(n, 2 + 2 + 32 + 2 + 32);
        check_selection(get_object(s, "pcr_selection"));
        assert_int_equal(get_int(s, "reset_count"), RESET_COUNT);
        assert_int_equal(get_int(s, "restart_count"), 0);
        assert_int_equal(json_object_object_length(s), 6);
        assert_false(at.facts.reissued);

        kc = get_object(at.answer, "kubeconfig");
        assert_string_equal(get_string(kc, "server"), "https://api.example:6443");
        assert_string_equal(get_string(kc, "certificate_authority_data"), "Q0EgUEVN");
        cap = get_object(at.answer, "cap");
        assert_int_equal(get_int(cap, "pcr"), 15);
        assert_string_equal(get_string(cap, "released"), "nodegate: token released");
        assert_string_equal(get_string(cap, "failed"), "nodegate: failed");
        assert_int_equal(json_object_object_length(at.answer), 5);
        /* the token itself is nowhere in the answer */
        const char *text = json_object_to_json_string(at.answer);
        assert_null(strstr(text, "0123456789abcdef\""));
        assert_null(strstr(text, ".0123456789abcdef"));
        json_object_put(at.answer);
}

/* One row per check of PROTOCOL.md's list, broken alone. */
static void test_refusals(void **state)
{
        static struct event edited[ELEMENTSOF(good_events)], unknown_uki[ELEMENTSOF(good_events)],
            no_uki[ELEMENTSOF(good_events) - 1];
        uint8_t challenge[CHALLENGE_SIZE], other_challenge[CHALLENGE_SIZE];
        unsigned before;
        struct {
                const char *what;
                struct node nd;
                uint64_t now;
                enum reason reason;
                const char *message;
                int pcr;
        } rows[14];
        size_t n = 0;

        (void) state;
        memcpy(edited, good_events, sizeof(edited));
        edited[1].digest[0] ^= 1; /* a PCR 4 event edited: the log no longer replays */
        memcpy(unknown_uki, good_events, sizeof(unknown_uki));
        memcpy(unknown_uki[3].digest, other_uki_digest, 32);
        memcpy(no_uki, good_events, sizeof(no_uki));

        round1(&ak_pub, challenge);
        round1(&ak_pub, other_challenge);
        before = unused_tokens();

#define ROW(w, r, m, p)                                                                            \
        rows[n].what = w, rows[n].now = NOW, rows[n].reason = r, rows[n].message = m,              \
        rows[n].pcr = p, rows[n].nd = honest()
        ROW("tampered challenge", REASON_CHALLENGE_INVALID, "not issued by this verifier", -1);
        rows[n++].nd.tamper_challenge = true;
        ROW("expired", REASON_CHALLENGE_EXPIRED, "expired 1 s ago", -1);
        rows[n++].now = NOW + 61;
        ROW("another AK", REASON_CHALLENGE_BINDING, "differ from those", -1);
        rows[n].nd.ak = &other_pub;
        rows[n++].nd.signer = other_key;
        ROW("wrong credential", REASON_AK_NOT_BOUND, "not in the EK's TPM", -1);
        rows[n++].nd.wrong_credential = true;
        ROW("stale nonce", REASON_QUOTE_NONCE, "not SHA-256 of this challenge", -1);
        rows[n++].nd.stale_nonce = true;
        ROW("bad magic", REASON_QUOTE_MALFORMED, "not TPM_GENERATED_VALUE", -1);
        rows[n++].nd.bad_magic = true;
        ROW("other selection", REASON_QUOTE_PCR_SELECTION, "selects PCRs 0,4 of bank 0x000b", -1);
        rows[n++].nd.quote_mask = 1u << 0 | 1u << 4;
        ROW("signed by another key", REASON_QUOTE_SIGNATURE, "does not verify with the AK", -1);
        rows[n++].nd.signer = other_key;
        ROW("signature flipped", REASON_QUOTE_SIGNATURE, "does not verify", -1);
        rows[n++].nd.flip_signature = true;
        ROW("claimed value off", REASON_QUOTE_PCR_DIGEST, "do not hash to the quote's pcrDigest",
            -1);
        rows[n++].nd.claim_wrong_pcr = 4;
        ROW("claimed value missing", REASON_QUOTE_PCR_DIGEST,
            "PCR 15 is quoted but pcrs.sha256 has no value for it", -1);
        rows[n++].nd.claim_missing_pcr = 15;
        ROW("log edited", REASON_PCR_MISMATCH, "PCR 4: the event log replays to ", 4);
        rows[n].nd.sent_events = edited;
        rows[n++].nd.n_sent_events = ELEMENTSOF(edited);
        ROW("log truncated", REASON_EVENTLOG_MALFORMED, NULL, -1);
        rows[n++].nd.truncate_log = 3;
        ROW("unknown UKI", REASON_EVENT_NOT_ALLOWED, NULL, 4);
        rows[n].nd.events = unknown_uki;
        rows[n++].nd.n_events = ELEMENTSOF(unknown_uki);
#undef ROW
        assert_int_equal(n, ELEMENTSOF(rows));

        for (size_t i = 0; i < n; i++) {
                struct attempt at;

                round2(&rows[i].nd, challenge, rows[i].now, &at);
                if (at.reason != rows[i].reason ||
                    (rows[i].message && !strstr(at.v.message, rows[i].message)) ||
                    at.v.pcr != rows[i].pcr)
                        fail_msg("%s: got %s \"%s\" pcr %d", rows[i].what, reason_name(at.reason),
                                 at.v.message, at.v.pcr);
                assert_string_equal(at.facts.token_id, "");
                assert_string_equal(at.facts.hostname, "node-1");
                /* and its answer is the error body of PROTOCOL.md */
                char *json = verdict_to_json(&at.v);
                json_object *o = json_tokener_parse(json);
                assert_string_equal(get_string(o, "error"), reason_name(rows[i].reason));
                assert_string_equal(get_string(o, "message"), at.v.message);
                json_object_put(o);
                free(json);
        }

        /* the policy's verdict carries the event */
        {
                struct attempt at;
                struct node nd = honest();
                char h[65];

                nd.events = unknown_uki;
                nd.n_events = ELEMENTSOF(unknown_uki);
                round2(&nd, challenge, NOW, &at);
                assert_int_equal(at.reason, REASON_EVENT_NOT_ALLOWED);
                assert_int_equal(at.v.event, 4);
                assert_string_equal(at.v.event_type, "EV_EFI_BOOT_SERVICES_APPLICATION");
                hex_encode(other_uki_digest, 32, h);
                assert_string_equal(at.v.digest, h);
                char *json = verdict_to_json(&at.v);
                json_object *o = json_tokener_parse(json);
                assert_int_equal(get_int(o, "pcr"), 4);
                assert_int_equal(get_int(o, "event"), 4);
                assert_string_equal(get_string(o, "event_type"),
                                    "EV_EFI_BOOT_SERVICES_APPLICATION");
                assert_string_equal(get_string(o, "digest"), h);
                json_object_put(o);
                free(json);

                nd.events = no_uki;
                nd.n_events = ELEMENTSOF(no_uki);
                round2(&nd, challenge, NOW, &at);
                assert_int_equal(at.reason, REASON_EVENT_MISSING);
        }

        /* the first failure is the answer: a bad challenge hides a bad quote */
        {
                struct attempt at;
                struct node nd = honest();

                nd.tamper_challenge = true;
                nd.flip_signature = true;
                nd.claim_wrong_pcr = 0;
                round2(&nd, challenge, NOW, &at);
                assert_int_equal(at.reason, REASON_CHALLENGE_INVALID);
                /* the other challenge of round 1 is as good: challenges are independent */
                nd = honest();
                struct attempt at2;
                uint8_t c[CHALLENGE_SIZE];
                memcpy(c, other_challenge, sizeof(c));
                round2(&nd, c, NOW, &at2);
                assert_int_equal(at2.reason, REASON_OK);
                /* test_happy_path's boot: its token again, no other used */
                assert_true(at2.facts.reissued);
                assert_string_equal(at2.facts.token_id, "aaaaaa");
                json_object_put(at2.answer);
        }

        /* nothing refused took a token */
        assert_int_equal(unused_tokens(), before);
}

static void test_pool_empty(void **state)
{
        uint8_t challenge[CHALLENGE_SIZE];
        struct node nd = honest();
        struct attempt at;

        (void) state;
        /* use up whatever is left, a new boot each time (the same boot would get its token
         * again and use none) */
        while (unused_tokens() > 0) {
                nd.reset_count++;
                round1(&ak_pub, challenge);
                round2(&nd, challenge, NOW, &at);
                assert_int_equal(at.reason, REASON_OK);
                json_object_put(at.answer);
        }
        nd.reset_count++;
        round1(&ak_pub, challenge);
        round2(&nd, challenge, NOW, &at);
        assert_int_equal(at.reason, REASON_TOKEN_UNAVAILABLE);
        assert_int_equal(reason_http_status(at.reason), 503);
        assert_non_null(strstr(at.v.message, "has no unused token"));
        assert_string_equal(at.facts.token_id, "");
}

/* One token per (EK, boot): the same round 2 replayed, or a new attestation of the same boot,
 * gets the same token and uses no other; a TPM Reset or Restart is another boot. */
static void test_same_boot(void **state)
{
        uint8_t challenge[CHALLENGE_SIZE];
        struct node nd = honest();
        struct attempt at;
        unsigned before;
        char first[7];

        (void) state;
        assert_int_equal(issuance_new(&vf.issuance), 0);
        nd.reset_count = RESET_COUNT + 100;
        before = unused_tokens();
        round1(&ak_pub, challenge);
        round2(&nd, challenge, NOW, &at);
        assert_int_equal(at.reason, REASON_OK);
        assert_false(at.facts.reissued);
        memcpy(first, at.facts.token_id, sizeof(first));
        json_object_put(at.answer);
        for (int i = 0; i < 3; i++) {
                /* the same body again, then a new challenge of the same boot */
                if (i == 2)
                        round1(&ak_pub, challenge);
                round2(&nd, challenge, NOW + 1, &at);
                assert_int_equal(at.reason, REASON_OK);
                assert_string_equal(at.facts.token_id, first);
                assert_true(at.facts.reissued);
                json_object_put(at.answer);
        }
        assert_int_equal(unused_tokens(), before - 1);

        /* the same resetCount after a TPM Restart: another boot, another token */
        nd.restart_count = 1;
        round1(&ak_pub, challenge);
        round2(&nd, challenge, NOW + 2, &at);
        assert_int_equal(at.reason, REASON_OK);
        assert_false(at.facts.reissued);
        assert_string_not_equal(at.facts.token_id, first);
        assert_int_equal(get_int(get_object(at.answer, "sealed"), "restart_count"), 1);
        json_object_put(at.answer);
        assert_int_equal(unused_tokens(), before - 2);
        issuance_free(TAKE_PTR(vf.issuance));
}

/* Round 2 of one EK is bounded: a replayed body costs a signature check, a log replay and a
 * seal each time. Requests that did not prove the EK's TPM (a wrong credential) never drain
 * the bucket: the EK is public. */
static void test_ek_rate_limit(void **state)
{
        uint8_t challenge[CHALLENGE_SIZE];
        struct node nd = honest(), thief = honest();
        struct attempt at;

        (void) state;
        assert_int_equal(issuance_new(&vf.issuance), 0);
        nd.reset_count = RESET_COUNT + 100; /* test_same_boot's boot: no token is used */
        thief.wrong_credential = true;
        for (int i = 0; i < 50; i++) {
                round1(&ak_pub, challenge);
                round2(&thief, challenge, NOW, &at);
                assert_int_equal(at.reason, REASON_AK_NOT_BOUND);
        }
        round1(&ak_pub, challenge);
        for (int i = 0; i < ISSUANCE_EK_BURST; i++) {
                round2(&nd, challenge, NOW, &at);
                if (at.reason != REASON_OK)
                        fail_msg("answer %d: %s %s", i, reason_name(at.reason), at.v.message);
                json_object_put(at.answer);
        }
        round2(&nd, challenge, NOW, &at);
        assert_int_equal(at.reason, REASON_RATE_LIMITED);
        assert_int_equal(reason_http_status(at.reason), 429);
        assert_int_equal(at.v.retry_after, ISSUANCE_EK_REFILL_SEC);
        assert_null(at.answer);
        assert_string_equal(at.facts.token_id, "");
        round2(&nd, challenge, NOW + ISSUANCE_EK_REFILL_SEC, &at);
        assert_int_equal(at.reason, REASON_OK);
        json_object_put(at.answer);
        issuance_free(TAKE_PTR(vf.issuance));
}

static void test_round1_refusals(void **state)
{
        struct tbuf ak_decrypt, garbage = {{0x00, 0x04, 0xde, 0xad, 0xbe, 0xef}, 6};
        EVP_PKEY *unknown = EVP_EC_gen("P-256");
        struct tbuf unknown_pub;
        const struct {
                const char *what;
                const struct tbuf *ek, *ak;
                enum reason reason;
                bool ek_hashed;
        } rows[] = {
            {"unknown EK", &unknown_pub, &ak_pub, REASON_EK_UNKNOWN, true},
            {"an AK as EK", &ak_pub, &ak_pub, REASON_EK_NOT_STORAGE_KEY, true},
            {"AK decrypts", &ek_pub, &ak_decrypt, REASON_AK_NOT_SIGNING_KEY, true},
            {"EK garbage", &garbage, &ak_pub, REASON_EK_MALFORMED, false},
            {"AK garbage", &ek_pub, &garbage, REASON_AK_MALFORMED, true},
        };

        (void) state;
        p256_public(unknown, true, TEST_EK_ATTRIBUTES, &unknown_pub);
        p256_public(ak_key, false, TEST_AK_ATTRIBUTES | TPMW_OA_DECRYPT, &ak_decrypt);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *body = challenge_body(rows[i].ek, rows[i].ak), *answer = (char *) 1;
                struct appraisal_facts facts;
                struct verdict v;
                enum reason r =
                    appraise_challenge(&vf, body, strlen(body), NOW, &answer, &v, &facts);

                if (r != rows[i].reason)
                        fail_msg("%s: got %s %s", rows[i].what, reason_name(r), v.message);
                assert_null(answer);
                assert_int_equal(strlen(facts.ek_sha256), rows[i].ek_hashed ? 64 : 0);
                free(body);
        }
        EVP_PKEY_free(unknown);

        /* not even JSON; facts may be NULL */
        char *answer;
        struct verdict v;
        assert_int_equal(appraise_challenge(&vf, "{", 1, NOW, &answer, &v, NULL),
                         REASON_BAD_REQUEST);
        assert_int_equal(appraise_attest(&vf, "[]", 2, NOW, &answer, &v, NULL), REASON_BAD_REQUEST);
}

static void test_verdicts(void **state)
{
        struct verdict v = {.version = 2}; /* the answer of a version-2 request */
        char *json;

        (void) state;
        assert_string_equal(reason_name(REASON_OK), "ok");
        assert_string_equal(reason_name(REASON_EVENT_NOT_ALLOWED), "event-not-allowed");
        assert_string_equal(reason_name(_REASON_MAX), "internal");
        assert_int_equal(reason_http_status(REASON_BAD_REQUEST), 400);
        assert_int_equal(reason_http_status(REASON_NOT_FOUND), 404);
        assert_int_equal(reason_http_status(REASON_BODY_TOO_LARGE), 413);
        assert_int_equal(reason_http_status(REASON_EK_UNKNOWN), 403);
        assert_int_equal(reason_http_status(REASON_OVERLOADED), 503);
        assert_int_equal(reason_http_status(REASON_INTERNAL), 500);
        assert_int_equal(reason_http_status((enum reason) 999), 500);

        v.pcr = 3;
        v.event = 9;
        strcpy(v.event_type, "x");
        strcpy(v.digest, "y");
        assert_int_equal(verdict_set(&v, REASON_MISSING_FIELD, "missing field \"%s\"\nx", "a/b"),
                         REASON_MISSING_FIELD);
        assert_int_equal(v.pcr, -1);
        assert_int_equal(v.event, -1);
        assert_string_equal(v.event_type, "");
        assert_string_equal(v.digest, "");
        assert_string_equal(v.message, "missing field \"a/b\"?x"); /* one line */
        json = verdict_to_json(&v);
        assert_string_equal(json, "{\"version\":2,\"error\":\"missing-field\",\"message\":"
                                  "\"missing field \\\"a/b\\\"?x\"}");
        free(json);
        v.pcr = 0;
        v.event = 0;
        json = verdict_to_json(&v);
        assert_non_null(strstr(json, ",\"pcr\":0,\"event\":0}"));
        free(json);
        v.version = 0; /* not known: the latest version */
        json = verdict_to_json(&v);
        assert_non_null(strstr(json, "{\"version\":3,"));
        free(json);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_verdicts),   cmocka_unit_test(test_happy_path),
            cmocka_unit_test(test_refusals),   cmocka_unit_test(test_round1_refusals),
            cmocka_unit_test(test_same_boot),  cmocka_unit_test(test_ek_rate_limit),
            cmocka_unit_test(test_pool_empty),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
