/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: round 2 end to end, appraise_attest() as the server calls it, on a verifier with
 * the policy of tests/fuzz/data/round2-policy.json and a token pool. The input supplies the
 * variable parts and flags say what the harness makes valid, so mutations get past the MAC and
 * the credential to the quote, TPMS_ATTEST, the signature, the PCR digest, the event log
 * replay, the policy and the sealing of the token:
 *
 *   byte 0   flags: 0x01 the rest is the body as is; 0x02 a valid challenge for the EK and AK
 *            names (issued at now, bytes 2-17 its random part, byte 1 its trust byte: below
 *            0xf0 a valid one); 0x04 the credential that challenge's; 0x08 the quote fixed up:
 *            qualifyingData the challenge's, pcrDigest the claimed values' and signed with
 *            ak-key.pem; 0x10 the AK is ak.pub; 0x20 the claims are the policy's PCRs, valued
 *            by the log's replay if it parses; 0x40 the EK is ek-p256.pub (0xc0: ek-rsa.pub)
 *   then     sections (16-bit big-endian length, bytes): ek_public, ak_public, challenge,
 *            credential, quote.attest (a TPM2B_ATTEST), quote.signature, the claims (a 32-bit
 *            big-endian PCR mask, then 32 bytes a PCR); the rest is the event log */

#include "fuzz-verifier.h"
#include "tpm/eventlog.h"
#include "service/request.h"

#include <json-c/json.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#define F_RAW        0x01
#define F_CHALLENGE  0x02
#define F_CREDENTIAL 0x04
#define F_QUOTE      0x08
#define F_AK         0x10
#define F_LOG        0x20
#define F_EK         0x40
#define F_EK_RSA     0x80

static uint8_t ek_p256[1024], ek_rsa[1024], ak[1024];
static size_t ek_p256_size, ek_rsa_size, ak_size;
static EVP_PKEY *ak_key;
static bool pool_used;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        FILE *f;

        (void) argc;
        (void) argv;
        fuzz_verifier_setup();
        ek_p256_size = fuzz_read_data("ek-p256.pub", ek_p256, sizeof(ek_p256));
        ek_rsa_size = fuzz_read_data("ek-rsa.pub", ek_rsa, sizeof(ek_rsa));
        ak_size = fuzz_read_data("ak.pub", ak, sizeof(ak));
        f = fopen(FUZZ_DATA "/ak-key.pem", "re");
        if (!f || !(ak_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
                abort();
        fclose(f);
        return 0;
}

static void be16(uint8_t *p, size_t v)
{
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

/* The name of a TPM2B_PUBLIC, or none when it does not parse (the verifier refuses it). */
static size_t name_of(const uint8_t *p, size_t n, uint8_t ret[2 + TPMW_DIGEST_MAX])
{
        struct tpm_public pub;

        if (tpm_public_parse(p, n, &pub) < 0)
                return 0;
        memcpy(ret, pub.name, pub.name_size);
        return pub.name_size;
}

/* Issued as challenge_issue() issues, with the random part from the input. */
static void make_challenge(const uint8_t *ek, size_t ek_size, const uint8_t *akp, size_t ak_n,
                           uint8_t trust, const uint8_t random[16], uint8_t ret[CHALLENGE_SIZE])
{
        uint8_t ek_name[2 + TPMW_DIGEST_MAX], ak_name[2 + TPMW_DIGEST_MAX];
        size_t ek_name_size = name_of(ek, ek_size, ek_name),
               ak_name_size = name_of(akp, ak_n, ak_name);
        unsigned mac_len = 32;

        memset(ret, 0, CHALLENGE_SIZE);
        ret[0] = CHALLENGE_VERSION;
        for (int i = 0; i < 8; i++) {
                ret[1 + i] = (uint8_t) (FUZZ_NOW >> (56 - 8 * i));
                ret[9 + i] = (uint8_t) ((FUZZ_NOW + 60) >> (56 - 8 * i));
        }
        memcpy(ret + 17, random, 16);
        challenge_binding(ek_name, ek_name_size, ak_name, ak_name_size, ret + 33);
        ret[65] = trust < 0xf0 ? (uint8_t) (EK_TRUST_CHAIN + (trust & 1)) : trust;
        if (!HMAC(EVP_sha256(), fuzz_vf.challenge_key, 32, ret, 66, ret + 66, &mac_len))
                abort();
}

/* qualifyingData and pcrDigest of a TPM2B_ATTEST replaced where they are, the rest kept as
 * the input has it (trailing bytes too). @return the new size, or 0 if the walk fell off */
static size_t fix_attest(const uint8_t *in, size_t n, const uint8_t nonce[32],
                         uint8_t pcrs[REQUEST_PCRS][32], uint8_t *out, size_t max)
{
        const uint8_t *a = in + 2;
        size_t an = n >= 2 ? n - 2 : 0, o, off_e, end_e, off_d, end_d, count, w = 2;
        uint32_t mask = 0;
        uint8_t values[REQUEST_PCRS * 32], digest[32];
        size_t nv = 0;

#define NEED(k)                                                                                    \
        do {                                                                                       \
                if ((k) > an)                                                                      \
                        return 0;                                                                  \
        } while (0)
        NEED(8);
        off_e = 8 + ((size_t) a[6] << 8 | a[7]);
        NEED(off_e + 2);
        end_e = off_e + 2 + ((size_t) a[off_e] << 8 | a[off_e + 1]);
        o = end_e + 17 + 8; /* clockInfo, firmwareVersion */
        NEED(o + 4);
        count = (size_t) a[o] << 24 | (size_t) a[o + 1] << 16 | (size_t) a[o + 2] << 8 | a[o + 3];
        o += 4;
        for (size_t i = 0; i < count && i < 16; i++) {
                NEED(o + 3);
                uint16_t hash = (uint16_t) (a[o] << 8 | a[o + 1]);
                size_t sel = a[o + 2];

                NEED(o + 3 + sel);
                if (i == 0 && hash == TPMW_ALG_SHA256)
                        for (size_t b = 0; b < sel && b < 3; b++)
                                mask |= (uint32_t) a[o + 3 + b] << (8 * b);
                o += 3 + sel;
        }
        off_d = o;
        NEED(off_d + 2);
        end_d = off_d + 2 + ((size_t) a[off_d] << 8 | a[off_d + 1]);
        NEED(end_d);
#undef NEED
        for (unsigned i = 0; i < REQUEST_PCRS; i++)
                if (mask & (UINT32_C(1) << i)) {
                        memcpy(values + nv, pcrs[i], 32);
                        nv += 32;
                }
        SHA256(values, nv, digest);
        if (an + 64 + 4 > max)
                return 0;
        memcpy(out + w, a, off_e);
        w += off_e;
        be16(out + w, 32);
        memcpy(out + w + 2, nonce, 32);
        w += 34;
        memcpy(out + w, a + end_e, off_d - end_e);
        w += off_d - end_e;
        be16(out + w, 32);
        memcpy(out + w + 2, digest, 32);
        w += 34;
        memcpy(out + w, a + end_d, an - end_d);
        w += an - end_d;
        be16(out, w - 2);
        return w;
}

/* TPMT_SIGNATURE: ECDSA/SHA-256 by the test AK over the TPMS_ATTEST. @return its size */
static size_t sign_attest(const uint8_t *attest, size_t n, uint8_t out[72])
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t der[128];
        const uint8_t *p = der;
        size_t len = sizeof(der);
        ECDSA_SIG *sig;

        if (n < 2) { /* no TPMS_ATTEST to sign */
                EVP_MD_CTX_free(ctx);
                return 0;
        }
        if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ak_key) != 1 ||
            EVP_DigestSign(ctx, der, &len, attest + 2, n - 2) != 1)
                abort();
        EVP_MD_CTX_free(ctx);
        sig = d2i_ECDSA_SIG(NULL, &p, (long) len);
        if (!sig)
                abort();
        be16(out, TPMW_ALG_ECDSA);
        be16(out + 2, TPMW_ALG_SHA256);
        be16(out + 4, 32);
        be16(out + 38, 32);
        if (BN_bn2binpad(ECDSA_SIG_get0_r(sig), out + 6, 32) != 32 ||
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 40, 32) != 32)
                abort();
        ECDSA_SIG_free(sig);
        return 72;
}

static char *build_body(uint8_t flags, struct fuzz_reader *in, size_t *ret_len)
{
        static uint8_t attest_buf[70000];
        const uint8_t *head, *ek, *akp, *challenge_in, *credential_in, *attest, *signature, *claims,
            *log;
        size_t n, ek_size, ak_n, challenge_size, credential_size, attest_size, signature_size,
            claims_size, log_size, len;
        uint8_t challenge[CHALLENGE_SIZE], credential[32], nonce[32], sig[72],
            pcrs[REQUEST_PCRS][32] = {{0}};
        uint32_t claimed = 0;
        char *body, pcr_json[REQUEST_PCRS * 72 + 32];
        size_t o = 0;

        head = fuzz_take(in, 17, &n);
        if (n < 17)
                return NULL;
        ek = fuzz_section(in, &ek_size);
        akp = fuzz_section(in, &ak_n);
        challenge_in = fuzz_section(in, &challenge_size);
        credential_in = fuzz_section(in, &credential_size);
        attest = fuzz_section(in, &attest_size);
        signature = fuzz_section(in, &signature_size);
        claims = fuzz_section(in, &claims_size);
        log = fuzz_take(in, in->n, &log_size);

        if (flags & F_EK)
                ek = flags & F_EK_RSA ? ek_rsa : ek_p256,
                ek_size = flags & F_EK_RSA ? ek_rsa_size : ek_p256_size;
        if (flags & F_AK)
                akp = ak, ak_n = ak_size;
        if (flags & F_CHALLENGE) {
                make_challenge(ek, ek_size, akp, ak_n, head[0], head + 1, challenge);
                challenge_in = challenge, challenge_size = CHALLENGE_SIZE;
        }
        if (flags & F_CREDENTIAL) {
                uint8_t c[CHALLENGE_SIZE] = {0};

                memcpy(c, challenge_in, challenge_size < sizeof(c) ? challenge_size : sizeof(c));
                challenge_credential(fuzz_vf.credential_key, c, credential);
                credential_in = credential, credential_size = 32;
        }

        /* the claimed values: the input's, or the log's replay */
        if (claims_size >= 4) {
                claimed = (uint32_t) claims[0] << 24 | (uint32_t) claims[1] << 16 |
                          (uint32_t) claims[2] << 8 | claims[3];
                claimed &= (UINT32_C(1) << REQUEST_PCRS) - 1;
                for (unsigned i = 0, k = 4; i < REQUEST_PCRS; i++)
                        if (claimed & (UINT32_C(1) << i)) {
                                size_t m = claims_size > k ? claims_size - k : 0;

                                memcpy(pcrs[i], claims + k, m < 32 ? m : 32);
                                k += 32;
                        }
        }
        if (flags & F_LOG) {
                struct eventlog el;
                struct verdict v;

                /* a log that does not parse still gets past the PCR digest to its refusal */
                claimed = policy_quote_mask(fuzz_vf.policy);
                if (eventlog_parse(log, log_size, &el, &v) == 0) {
                        memcpy(pcrs, el.pcr_sha256, sizeof(pcrs));
                        eventlog_done(&el);
                }
        }

        if (flags & F_QUOTE) {
                uint8_t c[CHALLENGE_SIZE] = {0};

                memcpy(c, challenge_in, challenge_size < sizeof(c) ? challenge_size : sizeof(c));
                challenge_qualifying_data(c, nonce);
                n = fix_attest(attest, attest_size, nonce, pcrs, attest_buf, sizeof(attest_buf));
                if (n > 0)
                        attest = attest_buf, attest_size = n;
                signature = sig, signature_size = sign_attest(attest, attest_size, sig);
        }

        o += (size_t) snprintf(pcr_json + o, sizeof(pcr_json) - o, "{\"sha256\":{");
        for (unsigned i = 0; i < REQUEST_PCRS; i++)
                if (claimed & (UINT32_C(1) << i)) {
                        char h[65];

                        hex_encode(pcrs[i], 32, h);
                        o +=
                            (size_t) snprintf(pcr_json + o, sizeof(pcr_json) - o, "%s\"%u\":\"%s\"",
                                              pcr_json[o - 1] == '{' ? "" : ",", i, h);
                }
        snprintf(pcr_json + o, sizeof(pcr_json) - o, "}}");

        body = strdup("{\"version\":2,");
        len = strlen(body);
        fuzz_add_b64(&body, &len, "challenge", challenge_in, challenge_size);
        fuzz_add_b64(&body, &len, "ek_public", ek, ek_size);
        fuzz_add_b64(&body, &len, "ak_public", akp, ak_n);
        fuzz_add_b64(&body, &len, "credential", credential_in, credential_size);
        fuzz_add_b64(&body, &len, "event_log", log, log_size);
        body = realloc(body, len + strlen(pcr_json) + 64);
        len += (size_t) sprintf(body + len, "\"pcrs\":%s,\"quote\":{", pcr_json);
        fuzz_add_b64(&body, &len, "attest", attest, attest_size);
        fuzz_add_b64(&body, &len, "signature", signature, signature_size);
        body[len - 1] = '}';
        body = realloc(body, len + 64);
        len += (size_t) sprintf(body + len, ",\"node\":{\"hostname\":\"node-1\"}}");
        *ret_len = len;
        return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_reader in = {data, size};
        struct appraisal_facts facts;
        char *body, *answer = NULL;
        struct verdict v;
        enum reason r;
        uint8_t flags;
        size_t len = 0, n;

        if (pool_used) {
                fuzz_reset_pool();
                pool_used = false;
        }
        flags = *fuzz_take(&in, 1, &n);
        if (n == 0)
                return 0;
        if (flags & F_RAW) {
                body = malloc(in.n + 1);
                memcpy(body, in.p, in.n);
                len = in.n;
        } else if (!(body = build_body(flags, &in, &len)))
                return 0;
        fuzz_dump("FUZZ_DUMP_BODY", body, len);

        r = appraise_attest(&fuzz_vf, body, len, FUZZ_NOW, &answer, &v, &facts);
        if (r == REASON_OK) {
                json_object *o = answer ? json_tokener_parse(answer) : NULL;

                pool_used = true;
                if (!o || json_object_object_length(o) != 5 || strlen(facts.token_id) != 6 ||
                    v.reason != REASON_OK)
                        abort();
                /* the token itself is never in the answer, only its id */
                if (strstr(answer, ".0123456789abcdef") || strstr(answer, "0123456789abcdef\""))
                        abort();
                json_object_put(o);
                fuzz_dump("FUZZ_DUMP_ANSWER", answer, strlen(answer));
        } else {
                char *json = verdict_to_json(&v);

                if (answer || v.reason != r || facts.token_id[0] || !json)
                        abort();
                fuzz_dump("FUZZ_DUMP_ANSWER", json, strlen(json));
                free(json);
        }
        free(answer);
        free(body);
        return 0;
}
