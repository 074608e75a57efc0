/* SPDX-License-Identifier: GPL-2.0-or-later */
/* node-client: plays the node of docs/PROTOCOL.md against a real TPM (swtpm on a pty) and the
 * verifier over HTTPS, with src/attest/tpm.c and src/attest/protocol.c as the gate will use them,
 * plus the knobs the integration tests need to misbehave on purpose. */
#include <curl/curl.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <tss2/tss2_mu.h>

#include "lib/base64.h"
#include "forge-log.h"
#include "attest/protocol.h"
#include "attest/tpm.h"
#include "util.h"

enum {
        EXIT_OK = 0,
        EXIT_OTHER = 1,
        EXIT_USAGE = 2,
        EXIT_REJECTED = 3,
        EXIT_TPM = 4,
};

struct options {
        const char *tpm, *url, *attest_url, *ca;
        enum tpm_ek_type ek_type;
        const char *event_log, *log_override, *save_answer, *save_challenge, *save_request;
        const char *nonce_from, *challenge_from, *foreign_ak_tpm, *hostname;
        const char *out_public, *out_pem, *out_cert;
        unsigned delay;
        bool unseal, no_cap, append_cap_event;
};

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void tpm_closep(struct tpm **t)
{
        tpm_close(*t);
}

static int tpm_fail(const char *err, int r)
{
        printf("tpm failure: %s (%s)\n", err, strerror(-r));
        return EXIT_TPM;
}

static void hexs(const uint8_t *p, size_t n, char *ret)
{
        for (size_t i = 0; i < n; i++)
                sprintf(ret + 2 * i, "%02x", p[i]);
        ret[2 * n] = 0;
}

/* ---- files -------------------------------------------------------------------------------- */

static int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + size, max + 1 - size);
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static int write_file(const char *path, const void *data, size_t size)
{
        _cleanup_close_ int fd = -1;
        const uint8_t *p = data;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0)
                        return negative_errno();
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

/* ---- HTTPS -------------------------------------------------------------------------------- */

struct response {
        char *data;
        size_t size;
        long status;
};

static void response_done(struct response *r)
{
        free(r->data);
        r->data = NULL;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct response *r = userdata;
        size_t n = size * nmemb;
        char *p;

        if (r->size + n > PROTOCOL_ANSWER_MAX)
                return 0; /* curl fails the transfer: the answer is too large to be ours */
        p = realloc(r->data, r->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + r->size, ptr, n);
        r->size += n;
        p[r->size] = 0;
        r->data = p;
        return n;
}

static void curl_cleanupp(CURL **c)
{
        if (*c)
                curl_easy_cleanup(*c);
}

static void slist_freep(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

/* POSTs body to url+path, trusting only the CA file: no system store, https only. */
static int post(const struct options *o, const char *path, const char *body, size_t size,
                struct response *ret)
{
        /* Round 2 may go to another replica: nothing but the shared secret links them. */
        const char *base = o->attest_url && streq(path, "/v2/attest") ? o->attest_url : o->url;
        _cleanup_(curl_cleanupp) CURL *c = NULL;
        _cleanup_(slist_freep) struct curl_slist *headers = NULL;
        char url[2048], errbuf[CURL_ERROR_SIZE] = "";
        struct response r = {};
        CURLcode cc;

        if (pathf(url, sizeof(url), "%s%s", base, path) < 0)
                return -ENAMETOOLONG;
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (headers)
                headers = curl_slist_append(headers, "Accept: application/json");
        if (!headers)
                return -ENOMEM;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        cc = curl_easy_perform(c);
        if (cc != CURLE_OK) {
                printf("https error: POST %s: %s\n", url,
                       errbuf[0] ? errbuf : curl_easy_strerror(cc));
                response_done(&r);
                return -EIO;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        if (!r.data) {
                r.data = strdup("");
                if (!r.data)
                        return -ENOMEM;
        }
        *ret = r;
        return 0;
}

/* The verifier's refusal, as the gate will print it. */
static int rejected(const struct response *resp)
{
        struct protocol_error e;

        if (protocol_parse_error(resp->data, resp->size, &e) < 0) {
                printf("rejected: status %ld with an answer that is not an error object\n",
                       resp->status);
                return EXIT_OTHER;
        }
        printf("rejected: %s: %s\n", e.error, e.message);
        printf("status: %ld\n", resp->status);
        if (e.pcr >= 0 || e.event >= 0 || e.event_type[0] || e.digest[0])
                printf("detail: pcr=%d event=%ld event_type=%s digest=%s\n", e.pcr, e.event,
                       e.event_type, e.digest);
        return EXIT_REJECTED;
}

/* ---- keys --------------------------------------------------------------------------------- */

/* The EK's public key as OpenSSL's, to compare it with its certificate and to print the
 * SPKI hash the verifier's allowlist holds. */
static EVP_PKEY *public_to_pkey(const struct tpm_blob *blob)
{
        TPM2B_PUBLIC pub = {};
        size_t offset = 0;
        OSSL_PARAM_BLD *bld = NULL;
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        EVP_PKEY *pkey = NULL;
        BIGNUM *n = NULL, *e = NULL;
        uint8_t point[1 + 2 * 66];
        const TPMT_PUBLIC *p = &pub.publicArea;

        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob->data, blob->size, &offset, &pub) !=
            TSS2_RC_SUCCESS)
                return NULL;
        bld = OSSL_PARAM_BLD_new();
        if (!bld)
                return NULL;
        if (p->type == TPM2_ALG_ECC) {
                const char *group = p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P384
                                        ? "secp384r1"
                                        : "prime256v1";
                size_t xs = p->unique.ecc.x.size, ys = p->unique.ecc.y.size;

                if (xs > 66 || ys > 66)
                        goto out;
                point[0] = 0x04;
                memcpy(point + 1, p->unique.ecc.x.buffer, xs);
                memcpy(point + 1 + xs, p->unique.ecc.y.buffer, ys);
                if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
                    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                                      1 + xs + ys))
                        goto out;
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        } else if (p->type == TPM2_ALG_RSA) {
                uint32_t exp =
                    p->parameters.rsaDetail.exponent ? p->parameters.rsaDetail.exponent : 65537;

                n = BN_bin2bn(p->unique.rsa.buffer, p->unique.rsa.size, NULL);
                e = BN_new();
                if (!n || !e || !BN_set_word(e, exp) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
                        goto out;
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        } else
                goto out;
        params = OSSL_PARAM_BLD_to_param(bld);
        if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
                pkey = NULL;
out:
        BN_free(n);
        BN_free(e);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        EVP_PKEY_CTX_free(ctx);
        return pkey;
}

static int spki_sha256(EVP_PKEY *pkey, char ret[65])
{
        unsigned char *der = NULL;
        uint8_t md[32];
        int len;

        len = i2d_PUBKEY(pkey, &der);
        if (len <= 0)
                return -EINVAL;
        SHA256(der, (size_t) len, md);
        OPENSSL_free(der);
        hexs(md, 32, ret);
        return 0;
}

/* @return 1 when the certificate's key is the EK's, 0 when not, negative errno on failure */
static int cert_matches(const struct tpm_ek *ek, EVP_PKEY *pkey)
{
        const unsigned char *p = ek->certificate;
        X509 *x;
        int r;

        x = d2i_X509(NULL, &p, (long) ek->certificate_size);
        if (!x)
                return -EBADMSG;
        r = EVP_PKEY_eq(X509_get0_pubkey(x), pkey) == 1;
        X509_free(x);
        return r;
}

static void evp_pkey_freep(EVP_PKEY **p)
{
        EVP_PKEY_free(*p);
}

static int print_ek(const struct tpm_ek *ek)
{
        _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = public_to_pkey(&ek->public);
        char spki[65];

        if (!pkey || spki_sha256(pkey, spki) < 0) {
                printf("ek: public area not understood\n");
                return -EBADMSG;
        }
        printf("ek: %s, certificate %s", tpm_ek_type_to_string(ek->type),
               ek->certificate ? "present" : "absent");
        if (ek->certificate) {
                int m = cert_matches(ek, pkey);
                printf(" (%zu bytes, %s)", ek->certificate_size,
                       m > 0    ? "key matches"
                       : m == 0 ? "KEY DIFFERS"
                                : "unparseable");
        }
        printf("\nek-spki-sha256: %s\n", spki);
        return 0;
}

/* ---- the protocol --------------------------------------------------------------------------- */

struct session {
        struct tpm *tpm, *ak_tpm; /* ak_tpm: the TPM holding the AK (another one for tests) */
        struct tpm_ek ek;
        struct tpm_blob ak_public;
        double tpm_ms, https_ms;
        uint64_t foreign_commands;
};

static void session_done(struct session *s)
{
        if (s->ak_tpm != s->tpm)
                tpm_close(s->ak_tpm);
        tpm_close(s->tpm);
        tpm_ek_done(&s->ek);
}

static int load_challenge(const char *path, struct protocol_challenge_answer *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        char err[256];
        size_t size;
        int r;

        r = read_file(path, PROTOCOL_ANSWER_MAX, &buf, &size);
        if (r < 0) {
                printf("%s: %s\n", path, strerror(-r));
                return r;
        }
        r = protocol_parse_challenge_answer((const char *) buf, size, ret, err, sizeof(err));
        if (r < 0)
                printf("%s: %s\n", path, err);
        return r;
}

static int round_challenge(const struct options *o, struct session *s,
                           struct protocol_challenge_answer *ret)
{
        _cleanup_free_ char *body = NULL;
        _cleanup_(response_done) struct response resp = {};
        struct protocol_challenge_request req = {
            .ek_public = s->ek.public.data,
            .ek_public_size = s->ek.public.size,
            .ek_certificate = s->ek.certificate,
            .ek_certificate_size = s->ek.certificate_size,
            .ak_public = s->ak_public.data,
            .ak_public_size = s->ak_public.size,
        };
        char err[256];
        double t0;
        int r;

        r = protocol_challenge_request(&req, &body);
        if (r < 0) {
                printf("challenge request: %s\n", strerror(-r));
                return EXIT_OTHER;
        }
        t0 = now_ms();
        r = post(o, "/v2/challenge", body, strlen(body), &resp);
        s->https_ms += now_ms() - t0;
        if (r < 0)
                return EXIT_OTHER;
        if (resp.status != 200)
                return rejected(&resp);
        r = protocol_parse_challenge_answer(resp.data, resp.size, ret, err, sizeof(err));
        if (r < 0) {
                printf("challenge answer: %s\n", err);
                return EXIT_OTHER;
        }
        if (o->save_challenge) {
                r = write_file(o->save_challenge, resp.data, resp.size);
                if (r < 0) {
                        printf("%s: %s\n", o->save_challenge, strerror(-r));
                        return EXIT_OTHER;
                }
        }
        return EXIT_OK;
}

static void print_unsealed(const uint8_t *token, size_t size, const char *expected_id)
{
        uint8_t md[32];
        char md_hex[65], id[8] = "";
        const uint8_t *dot = memchr(token, '.', size);
        size_t id_len = dot ? (size_t) (dot - token) : 0;

        SHA256(token, size, md);
        hexs(md, 32, md_hex);
        if (id_len > 0 && id_len < sizeof(id))
                memcpy(id, token, id_len);
        printf("unsealed: token_id=%s sha256=%s%s\n", id, md_hex,
               expected_id && !streq(id, expected_id) ? " (TOKEN ID DIFFERS FROM THE ANSWER)" : "");
        explicit_bzero(md, sizeof(md));
}

/* Import + Load + policy + Unseal, then the cap, as the gate does after round 2. */
static int unseal_answer(const struct options *o, struct session *s,
                         const struct protocol_attest_answer *a)
{
        uint8_t token[TPM_UNSEALED_MAX];
        size_t size = 0;
        char err[TPM_ERROR_MAX], cap_err[TPM_ERROR_MAX];
        struct tpm_sealed sealed = {
            .public = a->sealed_public.data,
            .public_size = a->sealed_public.size,
            .duplicate = a->sealed_duplicate.data,
            .duplicate_size = a->sealed_duplicate.size,
            .encrypted_seed = a->sealed_seed.data,
            .encrypted_seed_size = a->sealed_seed.size,
            .pcr_mask = a->sealed_pcr_mask,
            .reset_count = a->reset_count,
            .restart_count = a->restart_count,
        };
        double t0 = now_ms();
        int r, k;

        r = tpm_unseal_imported(s->tpm, &sealed, token, &size, err, sizeof(err));
        if (r >= 0)
                print_unsealed(token, size, a->token_id);
        explicit_bzero(token, sizeof(token));
        if (!o->no_cap) {
                const char *text = r >= 0 ? a->cap_released : a->cap_failed;

                k = tpm_pcr_extend_text(s->tpm, a->cap_pcr, text, cap_err, sizeof(cap_err));
                if (k < 0 && r >= 0) {
                        s->tpm_ms += now_ms() - t0;
                        return tpm_fail(cap_err, k);
                }
                printf("cap: PCR %u extended with \"%s\"\n", a->cap_pcr, text);
        }
        s->tpm_ms += now_ms() - t0;
        if (r < 0) {
                printf("unseal failed: %s (%s)\n", err, strerror(-r));
                return EXIT_TPM;
        }
        return EXIT_OK;
}

static int open_keys(const struct options *o, struct session *s, bool with_ak)
{
        char err[TPM_ERROR_MAX];
        double t0 = now_ms();
        int r;

        r = tpm_open(o->tpm, &s->tpm, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        r = tpm_create_ek(s->tpm, o->ek_type, &s->ek, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        s->ak_tpm = s->tpm;
        if (with_ak && o->foreign_ak_tpm) {
                r = tpm_open(o->foreign_ak_tpm, &s->ak_tpm, err, sizeof(err));
                if (r < 0) {
                        s->ak_tpm = s->tpm;
                        return tpm_fail(err, r);
                }
        }
        if (with_ak) {
                r = tpm_create_ak(s->ak_tpm, &s->ak_public, err, sizeof(err));
                if (r < 0)
                        return tpm_fail(err, r);
        }
        s->tpm_ms += now_ms() - t0;
        return EXIT_OK;
}

static int cmd_attest(const struct options *o)
{
        _cleanup_(session_done) struct session s = {};
        _cleanup_free_ uint8_t *log = NULL;
        _cleanup_(erase_and_freep) char *body = NULL;
        _cleanup_(response_done) struct response resp = {};
        _cleanup_(protocol_attest_answer_done) struct protocol_attest_answer answer = {};
        struct protocol_challenge_answer ch = {}, nonce_ch = {};
        struct tpm_blob attest, signature;
        uint8_t pcrs[TPM_PCRS][32] = {}, credential[TPM_SECRET_MAX], qualifying[32];
        size_t log_size, credential_size = 0;
        char err[TPM_ERROR_MAX], pcr_list[96];
        double start = now_ms(), t0;
        int r;

        if (!o->event_log) {
                fprintf(stderr, "attest: --event-log is required\n");
                return EXIT_USAGE;
        }
        r = read_file(o->log_override ?: o->event_log, PROTOCOL_EVENT_LOG_MAX, &log, &log_size);
        if (r < 0) {
                printf("%s: %s\n", o->log_override ?: o->event_log, strerror(-r));
                return EXIT_OTHER;
        }
        if (o->append_cap_event) {
                /* Root after the gate: the log claims the cap the TPM really has. */
                _cleanup_free_ uint8_t *forged = NULL;
                size_t forged_size;

                r = forge_append_event(log, log_size, 15, FORGE_CAP_RELEASED_SHA256,
                                       "nodegate: token released", &forged, &forged_size);
                if (r < 0) {
                        printf("cannot append the cap event to the log: %s\n", strerror(-r));
                        return EXIT_OTHER;
                }
                free(log);
                log = TAKE_PTR(forged);
                log_size = forged_size;
                printf("log: appended PCR 15 EV_IPL \"nodegate: token released\"\n");
        }

        r = open_keys(o, &s, true);
        if (r != EXIT_OK)
                return r;
        if (print_ek(&s.ek) < 0)
                return EXIT_OTHER;

        /* Round 1, or an old challenge answer replayed. */
        if (o->challenge_from)
                r = load_challenge(o->challenge_from, &ch) < 0 ? EXIT_OTHER : EXIT_OK;
        else
                r = round_challenge(o, &s, &ch);
        if (r != EXIT_OK)
                return r;
        printf("challenge: expires_in=%" PRIu64 " pcrs=%s\n", ch.expires_in,
               protocol_pcr_list(ch.pcr_mask, pcr_list, sizeof(pcr_list)));
        if (o->delay > 0)
                sleep(o->delay);

        t0 = now_ms();
        if (o->foreign_ak_tpm) {
                /* The AK is not in the EK's TPM: no TPM can activate this credential, so the
                 * node can only guess. */
                if (RAND_bytes(credential, PROTOCOL_CREDENTIAL_SIZE) != 1)
                        return EXIT_OTHER;
                credential_size = PROTOCOL_CREDENTIAL_SIZE;
        } else {
                r = tpm_activate_credential(s.tpm, ch.credential_blob.data, ch.credential_blob.size,
                                            ch.encrypted_secret.data, ch.encrypted_secret.size,
                                            credential, &credential_size, err, sizeof(err));
                if (r < 0) {
                        s.tpm_ms += now_ms() - t0;
                        explicit_bzero(credential, sizeof(credential));
                        return tpm_fail(err, r);
                }
        }
        if (credential_size != PROTOCOL_CREDENTIAL_SIZE) {
                explicit_bzero(credential, sizeof(credential));
                printf("credential secret of %zu bytes, expected %d\n", credential_size,
                       PROTOCOL_CREDENTIAL_SIZE);
                return EXIT_OTHER;
        }

        /* The quote's nonce: SHA-256 of this challenge, or of another one (--nonce-from). */
        if (o->nonce_from && load_challenge(o->nonce_from, &nonce_ch) < 0) {
                explicit_bzero(credential, sizeof(credential));
                return EXIT_OTHER;
        }
        SHA256(o->nonce_from ? nonce_ch.challenge : ch.challenge, PROTOCOL_CHALLENGE_SIZE,
               qualifying);
        r = tpm_pcr_read(s.ak_tpm, ch.pcr_mask, pcrs, err, sizeof(err));
        if (r >= 0)
                r = tpm_quote(s.ak_tpm, qualifying, sizeof(qualifying), ch.pcr_mask, &attest,
                              &signature, err, sizeof(err));
        s.tpm_ms += now_ms() - t0;
        if (r < 0) {
                explicit_bzero(credential, sizeof(credential));
                return tpm_fail(err, r);
        }

        {
                struct protocol_attest_request req = {
                    .challenge = ch.challenge,
                    .ek_public = s.ek.public.data,
                    .ek_public_size = s.ek.public.size,
                    .ak_public = s.ak_public.data,
                    .ak_public_size = s.ak_public.size,
                    .credential = credential,
                    .attest = attest.data,
                    .attest_size = attest.size,
                    .signature = signature.data,
                    .signature_size = signature.size,
                    .pcr_mask = ch.pcr_mask,
                    .pcrs = (const uint8_t(*)[32]) pcrs,
                    .event_log = log,
                    .event_log_size = log_size,
                    .node = {.hostname = o->hostname},
                };

                r = protocol_attest_request(&req, &body);
                explicit_bzero(credential, sizeof(credential));
                if (r < 0) {
                        printf("attest request: %s\n", strerror(-r));
                        return EXIT_OTHER;
                }
        }
        /* The round-2 body as sent (it holds the credential secret: a test's replay material) */
        if (o->save_request) {
                r = write_file(o->save_request, body, strlen(body));
                if (r < 0) {
                        printf("%s: %s\n", o->save_request, strerror(-r));
                        return EXIT_OTHER;
                }
        }
        t0 = now_ms();
        r = post(o, "/v2/attest", body, strlen(body), &resp);
        s.https_ms += now_ms() - t0;
        if (r < 0)
                return EXIT_OTHER;
        if (resp.status != 200)
                return rejected(&resp);
        r = protocol_parse_attest_answer(resp.data, resp.size, &answer, err, sizeof(err));
        if (r < 0) {
                printf("attest answer: %s\n", err);
                return EXIT_OTHER;
        }
        printf("issued: token_id=%s reset_count=%" PRIu32 " restart_count=%" PRIu32
               " sealed_pcrs=%s cap_pcr=%u server=%s\n",
               answer.token_id, answer.reset_count, answer.restart_count,
               protocol_pcr_list(answer.sealed_pcr_mask, pcr_list, sizeof(pcr_list)),
               answer.cap_pcr, answer.server);
        if (o->save_answer) {
                r = write_file(o->save_answer, resp.data, resp.size);
                if (r < 0) {
                        printf("%s: %s\n", o->save_answer, strerror(-r));
                        return EXIT_OTHER;
                }
        }
        r = EXIT_OK;
        if (o->unseal)
                r = unseal_answer(o, &s, &answer);
        printf("timing: tpm_commands=%" PRIu64 " tpm_ms=%.1f https_ms=%.1f wall_ms=%.1f\n",
               tpm_command_count(s.tpm) + (s.ak_tpm != s.tpm ? tpm_command_count(s.ak_tpm) : 0),
               s.tpm_ms, s.https_ms, now_ms() - start);
        return r;
}

static int cmd_unseal(const struct options *o, const char *path)
{
        _cleanup_(session_done) struct session s = {};
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_(protocol_attest_answer_done) struct protocol_attest_answer answer = {};
        char err[256];
        size_t size;
        int r;

        r = read_file(path, PROTOCOL_ANSWER_MAX, &buf, &size);
        if (r < 0) {
                printf("%s: %s\n", path, strerror(-r));
                return EXIT_OTHER;
        }
        r = protocol_parse_attest_answer((const char *) buf, size, &answer, err, sizeof(err));
        if (r < 0) {
                printf("%s: %s\n", path, err);
                return EXIT_OTHER;
        }
        r = open_keys(o, &s, false);
        if (r != EXIT_OK)
                return r;
        r = unseal_answer(o, &s, &answer);
        printf("timing: tpm_commands=%" PRIu64 " tpm_ms=%.1f\n", tpm_command_count(s.tpm),
               s.tpm_ms);
        return r;
}

static int cmd_ek(const struct options *o)
{
        _cleanup_(session_done) struct session s = {};
        double t0 = now_ms();
        int r;

        r = open_keys(o, &s, false);
        if (r != EXIT_OK)
                return r;
        if (print_ek(&s.ek) < 0)
                return EXIT_OTHER;
        printf("timing: tpm_commands=%" PRIu64 " tpm_ms=%.1f\n", tpm_command_count(s.tpm),
               now_ms() - t0);
        if (o->out_public && write_file(o->out_public, s.ek.public.data, s.ek.public.size) < 0)
                return EXIT_OTHER;
        if (o->out_cert && s.ek.certificate &&
            write_file(o->out_cert, s.ek.certificate, s.ek.certificate_size) < 0)
                return EXIT_OTHER;
        if (o->out_pem) {
                _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = public_to_pkey(&s.ek.public);
                FILE *f;

                if (!pkey || !(f = fopen(o->out_pem, "we")))
                        return EXIT_OTHER;
                r = PEM_write_PUBKEY(f, pkey);
                fclose(f);
                if (r != 1)
                        return EXIT_OTHER;
        }
        return EXIT_OK;
}

static int with_tpm(const struct options *o, struct tpm **ret)
{
        char err[TPM_ERROR_MAX];
        int r;

        r = tpm_open(o->tpm, ret, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        return EXIT_OK;
}

static int cmd_extend(const struct options *o, const char *pcr_s, const char *text)
{
        _cleanup_(tpm_closep) struct tpm *t = NULL;
        char err[TPM_ERROR_MAX], *end;
        unsigned long pcr;
        int r;

        errno = 0;
        pcr = strtoul(pcr_s, &end, 10);
        if (errno || *end || end == pcr_s || pcr >= TPM_PCRS) {
                fprintf(stderr, "extend: bad PCR number '%s'\n", pcr_s);
                return EXIT_USAGE;
        }
        r = with_tpm(o, &t);
        if (r != EXIT_OK)
                return r;
        r = tpm_pcr_extend_text(t, (unsigned) pcr, text, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        printf("extended PCR %lu\n", pcr);
        return EXIT_OK;
}

static void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}

/* Plays the firmware: extends the SHA-256 bank as tests/tools/mklog.py --extensions says. */
static int cmd_extend_log(const struct options *o, const char *path)
{
        _cleanup_(tpm_closep) struct tpm *t = NULL;
        _cleanup_(json_putp) struct json_object *root = NULL;
        struct json_object *list, *v;
        char err[TPM_ERROR_MAX];
        size_t n;
        int r;

        root = json_object_from_file(path);
        if (!root || !json_object_object_get_ex(root, "extensions", &list) ||
            !json_object_is_type(list, json_type_array)) {
                printf("%s: not an extensions file of mklog.py\n", path);
                return EXIT_OTHER;
        }
        if (json_object_object_get_ex(root, "startup_locality", &v) &&
            json_object_get_int(v) != 0) {
                printf("%s: startup locality %d: this TPM was started at locality 0\n", path,
                       json_object_get_int(v));
                return EXIT_OTHER;
        }
        r = with_tpm(o, &t);
        if (r != EXIT_OK)
                return r;
        n = json_object_array_length(list);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(list, i), *pcr_o, *d_o;
                uint8_t digest[32];
                size_t len;
                const char *hex;
                int pcr;

                if (!json_object_object_get_ex(e, "pcr", &pcr_o) ||
                    !json_object_object_get_ex(e, "sha256", &d_o))
                        return EXIT_OTHER;
                pcr = json_object_get_int(pcr_o);
                hex = json_object_get_string(d_o);
                len = strlen(hex);
                if (pcr < 0 || pcr >= TPM_PCRS || len != 64)
                        return EXIT_OTHER;
                for (size_t k = 0; k < 32; k++)
                        if (sscanf(hex + 2 * k, "%2hhx", &digest[k]) != 1)
                                return EXIT_OTHER;
                r = tpm_pcr_extend_sha256(t, (unsigned) pcr, digest, err, sizeof(err));
                if (r < 0)
                        return tpm_fail(err, r);
        }
        printf("extended %zu events (%" PRIu64 " TPM commands)\n", n, tpm_command_count(t));
        return EXIT_OK;
}

static int cmd_startup(const struct options *o)
{
        _cleanup_(tpm_closep) struct tpm *t = NULL;
        char err[TPM_ERROR_MAX];
        uint32_t reset_count;
        int r;

        r = with_tpm(o, &t);
        if (r != EXIT_OK)
                return r;
        r = tpm_startup_clear(t, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        r = tpm_read_reset_count(t, &reset_count, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        printf("started: reset_count=%" PRIu32 "\n", reset_count);
        return EXIT_OK;
}

/* A raw body to any path: for the tests of malformed requests. */
static int cmd_post(const struct options *o, const char *path, const char *file)
{
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_(response_done) struct response resp = {};
        size_t size;
        int r;

        r = read_file(file, 4 * 1024 * 1024, &buf, &size);
        if (r < 0) {
                printf("%s: %s\n", file, strerror(-r));
                return EXIT_OTHER;
        }
        r = post(o, path, (const char *) buf, size, &resp);
        if (r < 0)
                return EXIT_OTHER;
        if (resp.status == 200) {
                printf("status: 200\n");
                return EXIT_OK;
        }
        return rejected(&resp);
}

static int parse_pcr_list(const char *list, uint32_t *ret)
{
        uint32_t mask = 0;

        for (const char *p = list; *p;) {
                char *end;
                unsigned long n = strtoul(p, &end, 10);

                if (end == p || n >= TPM_PCRS || (*end && *end != ','))
                        return -EINVAL;
                mask |= 1u << n;
                p = *end ? end + 1 : end;
        }
        if (mask == 0)
                return -EINVAL;
        *ret = mask;
        return 0;
}

static int cmd_pcrread(const struct options *o, const char *list)
{
        _cleanup_(tpm_closep) struct tpm *t = NULL;
        uint8_t pcrs[TPM_PCRS][32];
        char err[TPM_ERROR_MAX], hex[65];
        uint32_t mask = 0, reset_count;
        int r;

        if (parse_pcr_list(list, &mask) < 0)
                return EXIT_USAGE;
        r = with_tpm(o, &t);
        if (r != EXIT_OK)
                return r;
        r = tpm_pcr_read(t, mask, pcrs, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        for (unsigned i = 0; i < TPM_PCRS; i++)
                if (mask & (1u << i)) {
                        hexs(pcrs[i], 32, hex);
                        printf("%u: %s\n", i, hex);
                }
        r = tpm_read_reset_count(t, &reset_count, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        printf("reset_count: %" PRIu32 "\ntpm_commands=%" PRIu64 "\n", reset_count,
               tpm_command_count(t));
        return EXIT_OK;
}

/* The AK alone (it is a primary: every run recreates the same key). */
static int cmd_ak(const struct options *o, const char *out)
{
        _cleanup_(session_done) struct session s = {};
        int r;

        r = open_keys(o, &s, true);
        if (r != EXIT_OK)
                return r;
        if (write_file(out, s.ak_public.data, s.ak_public.size) < 0)
                return EXIT_OTHER;
        printf("ak: %zu bytes\n", s.ak_public.size);
        return EXIT_OK;
}

static int cmd_quote(const struct options *o, const char *list, const char *nonce_hex,
                     const char *out_attest, const char *out_sig)
{
        _cleanup_(session_done) struct session s = {};
        struct tpm_blob attest, sig;
        uint8_t nonce[64];
        size_t nonce_size = strlen(nonce_hex) / 2;
        char err[TPM_ERROR_MAX];
        uint32_t mask;
        int r;

        if (parse_pcr_list(list, &mask) < 0 || strlen(nonce_hex) % 2 || nonce_size > 64)
                return EXIT_USAGE;
        for (size_t i = 0; i < nonce_size; i++)
                if (sscanf(nonce_hex + 2 * i, "%2hhx", &nonce[i]) != 1)
                        return EXIT_USAGE;
        r = open_keys(o, &s, true);
        if (r != EXIT_OK)
                return r;
        r = tpm_quote(s.tpm, nonce, nonce_size, mask, &attest, &sig, err, sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        if (write_file(out_attest, attest.data, attest.size) < 0 ||
            write_file(out_sig, sig.data, sig.size) < 0)
                return EXIT_OTHER;
        printf("quoted: attest %zu bytes, signature %zu bytes\n", attest.size, sig.size);
        return EXIT_OK;
}

/* TPM2_ActivateCredential of two files; prints the SHA-256 of the secret, not the secret. */
static int cmd_activate(const struct options *o, const char *id_file, const char *secret_file)
{
        _cleanup_(session_done) struct session s = {};
        _cleanup_free_ uint8_t *id = NULL, *enc = NULL;
        uint8_t secret[TPM_SECRET_MAX], md[32];
        size_t id_size, enc_size, size = 0;
        char err[TPM_ERROR_MAX], hex[65];
        int r;

        if (read_file(id_file, PROTOCOL_BLOB_MAX, &id, &id_size) < 0 ||
            read_file(secret_file, PROTOCOL_BLOB_MAX, &enc, &enc_size) < 0)
                return EXIT_OTHER;
        r = open_keys(o, &s, true);
        if (r != EXIT_OK)
                return r;
        r = tpm_activate_credential(s.tpm, id, id_size, enc, enc_size, secret, &size, err,
                                    sizeof(err));
        if (r < 0)
                return tpm_fail(err, r);
        SHA256(secret, size, md);
        explicit_bzero(secret, sizeof(secret));
        hexs(md, 32, hex);
        printf("activated: %zu bytes sha256=%s tpm_commands=%" PRIu64 "\n", size, hex,
               tpm_command_count(s.tpm));
        return EXIT_OK;
}

static void usage(void)
{
        fprintf(
            stderr,
            "usage: node-client --tpm DEV [--url URL --ca PEM] COMMAND\n"
            "  attest --event-log LOG [--ek auto|ecc256|ecc384|rsa2048] [--hostname NAME]\n"
            "         [--save-answer FILE] [--unseal [--no-cap]] [--save-challenge FILE]\n"
            "         [--save-request FILE]\n"
            "         [--challenge-from FILE] [--nonce-from FILE] [--delay S]\n"
            "         [--foreign-ak-tpm DEV] [--log-override FILE] [--attest-url URL]\n"
            "         [--append-cap-event]\n"
            "  unseal ANSWER_FILE [--ek TYPE] [--no-cap]\n"
            "  ek [--ek TYPE] [--out-public F] [--out-pem F] [--out-cert F]\n"
            "  extend PCR STRING | extend-log EXTENSIONS_JSON | startup | pcrread 0,1,…\n"
            "  post PATH FILE\n"
            "  ak OUT | quote PCRS NONCE_HEX OUT_ATTEST OUT_SIG | activate ID_FILE SECRET_FILE\n"
            "exit: 0 ok, 3 rejected by the verifier, 4 TPM failure, 1 other\n");
}

enum {
        OPT_TPM = 0x100,
        OPT_URL,
        OPT_ATTEST_URL,
        OPT_CA,
        OPT_EK,
        OPT_EVENT_LOG,
        OPT_LOG_OVERRIDE,
        OPT_SAVE_ANSWER,
        OPT_SAVE_CHALLENGE,
        OPT_NONCE_FROM,
        OPT_CHALLENGE_FROM,
        OPT_FOREIGN_AK_TPM,
        OPT_HOSTNAME,
        OPT_UNSEAL,
        OPT_NO_CAP,
        OPT_DELAY,
        OPT_OUT_PUBLIC,
        OPT_OUT_PEM,
        OPT_OUT_CERT,
        OPT_SAVE_REQUEST,
        OPT_APPEND_CAP_EVENT,
};

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"tpm", required_argument, NULL, OPT_TPM},
            {"url", required_argument, NULL, OPT_URL},
            {"attest-url", required_argument, NULL, OPT_ATTEST_URL},
            {"ca", required_argument, NULL, OPT_CA},
            {"ek", required_argument, NULL, OPT_EK},
            {"event-log", required_argument, NULL, OPT_EVENT_LOG},
            {"log-override", required_argument, NULL, OPT_LOG_OVERRIDE},
            {"save-answer", required_argument, NULL, OPT_SAVE_ANSWER},
            {"save-challenge", required_argument, NULL, OPT_SAVE_CHALLENGE},
            {"save-request", required_argument, NULL, OPT_SAVE_REQUEST},
            {"nonce-from", required_argument, NULL, OPT_NONCE_FROM},
            {"challenge-from", required_argument, NULL, OPT_CHALLENGE_FROM},
            {"foreign-ak-tpm", required_argument, NULL, OPT_FOREIGN_AK_TPM},
            {"hostname", required_argument, NULL, OPT_HOSTNAME},
            {"unseal", no_argument, NULL, OPT_UNSEAL},
            {"no-cap", no_argument, NULL, OPT_NO_CAP},
            {"delay", required_argument, NULL, OPT_DELAY},
            {"out-public", required_argument, NULL, OPT_OUT_PUBLIC},
            {"out-pem", required_argument, NULL, OPT_OUT_PEM},
            {"out-cert", required_argument, NULL, OPT_OUT_CERT},
            {"append-cap-event", no_argument, NULL, OPT_APPEND_CAP_EVENT},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct options o = {.ek_type = TPM_EK_AUTO, .hostname = "node-1"};
        const char *cmd;
        int c, r;

        /* "+": options end at the command, whose own arguments follow it */
        while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_TPM:
                        o.tpm = optarg;
                        break;
                case OPT_URL:
                        o.url = optarg;
                        break;
                case OPT_CA:
                        o.ca = optarg;
                        break;
                case 'h':
                        usage();
                        return EXIT_OK;
                default:
                        usage();
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc || !o.tpm) {
                usage();
                return EXIT_USAGE;
        }
        cmd = argv[optind];
        /* The command's options, anywhere after it: a second scan from scratch (optind 0
         * resets getopt) over the arguments from the command on. */
        argc -= optind;
        argv += optind;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_URL:
                        o.url = optarg;
                        break;
                case OPT_CA:
                        o.ca = optarg;
                        break;
                case OPT_ATTEST_URL:
                        o.attest_url = optarg;
                        break;
                case OPT_EK:
                        if (tpm_ek_type_from_string(optarg, &o.ek_type) < 0) {
                                fprintf(stderr, "--ek: auto, ecc256, ecc384 or rsa2048\n");
                                return EXIT_USAGE;
                        }
                        break;
                case OPT_EVENT_LOG:
                        o.event_log = optarg;
                        break;
                case OPT_LOG_OVERRIDE:
                        o.log_override = optarg;
                        break;
                case OPT_SAVE_ANSWER:
                        o.save_answer = optarg;
                        break;
                case OPT_SAVE_CHALLENGE:
                        o.save_challenge = optarg;
                        break;
                case OPT_SAVE_REQUEST:
                        o.save_request = optarg;
                        break;
                case OPT_NONCE_FROM:
                        o.nonce_from = optarg;
                        break;
                case OPT_CHALLENGE_FROM:
                        o.challenge_from = optarg;
                        break;
                case OPT_FOREIGN_AK_TPM:
                        o.foreign_ak_tpm = optarg;
                        break;
                case OPT_HOSTNAME:
                        o.hostname = optarg;
                        break;
                case OPT_UNSEAL:
                        o.unseal = true;
                        break;
                case OPT_NO_CAP:
                        o.no_cap = true;
                        break;
                case OPT_DELAY:
                        o.delay = (unsigned) atoi(optarg);
                        break;
                case OPT_OUT_PUBLIC:
                        o.out_public = optarg;
                        break;
                case OPT_OUT_PEM:
                        o.out_pem = optarg;
                        break;
                case OPT_OUT_CERT:
                        o.out_cert = optarg;
                        break;
                case OPT_APPEND_CAP_EVENT:
                        o.append_cap_event = true;
                        break;
                default:
                        usage();
                        return EXIT_USAGE;
                }
        }
        argc -= optind;
        argv += optind;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if ((streq(cmd, "attest") || streq(cmd, "post")) && (!o.url || !o.ca)) {
                fprintf(stderr, "%s: --url and --ca are required\n", cmd);
                return EXIT_USAGE;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return EXIT_OTHER;
        if (streq(cmd, "attest") && argc == 0)
                r = cmd_attest(&o);
        else if (streq(cmd, "unseal") && argc == 1)
                r = cmd_unseal(&o, argv[0]);
        else if (streq(cmd, "ek") && argc == 0)
                r = cmd_ek(&o);
        else if (streq(cmd, "extend") && argc == 2)
                r = cmd_extend(&o, argv[0], argv[1]);
        else if (streq(cmd, "extend-log") && argc == 1)
                r = cmd_extend_log(&o, argv[0]);
        else if (streq(cmd, "startup") && argc == 0)
                r = cmd_startup(&o);
        else if (streq(cmd, "pcrread") && argc == 1)
                r = cmd_pcrread(&o, argv[0]);
        else if (streq(cmd, "ak") && argc == 1)
                r = cmd_ak(&o, argv[0]);
        else if (streq(cmd, "quote") && argc == 4)
                r = cmd_quote(&o, argv[0], argv[1], argv[2], argv[3]);
        else if (streq(cmd, "activate") && argc == 2)
                r = cmd_activate(&o, argv[0], argv[1]);
        else if (streq(cmd, "post") && argc == 2)
                r = cmd_post(&o, argv[0], argv[1]);
        else {
                usage();
                r = EXIT_USAGE;
        }
        curl_global_cleanup();
        return r;
}
