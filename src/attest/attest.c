/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier client: one curl handle (round 2 reuses round 1's TLS connection), the retry
 * loop, and the one place where curl's and mbedTLS's errors become a class, an errno and a
 * sentence an operator can act on. */
#include <curl/curl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "attest/attest.h"
#include "lib/http-body.h"
#include "lib/log.h"
#include "attest/retry.h"
#include "platform/evidence.h"
#include "util.h"

#define USER_AGENT "nodegate/1"

struct attest_client {
        CURL *curl;
        struct curl_slist *headers;
        char *base;      /* the URL without a trailing "/" */
        char *ca_path;   /* the only trust anchors */
        char where[300]; /* host:port */
        char host[256];
};

/* An HTTP answer, of any status. */
struct answer {
        long status;
        struct http_body body;
        uint64_t retry_after_usec;
};

static void answer_done(struct answer *a)
{
        free(a->body.data);
        *a = (struct answer){};
}

/* One failed attempt: what it was, and whether another one may help. */
struct outcome {
        enum failure failure;
        bool retry;
        uint64_t hint_usec; /* Retry-After */
};

/* A message that may be cut at the buffer's end, which is fine for a console line. */
static _printf_(3, 4) void say(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
}

static void curl_url_cleanupp(CURLU **u)
{
        if (*u)
                curl_url_cleanup(*u);
}

static void curl_freep(char **p)
{
        curl_free(*p);
}

int attest_client_new(const char *url, const char *ca_path, struct attest_client **ret,
                      char *errbuf, size_t errlen)
{
        /* "Expect:" off: bodies near 1 MiB would otherwise wait for a 100 Continue. */
        static const char *const headers[] = {"Content-Type: application/json",
                                              "Accept: application/json", "Expect:"};
        static bool curl_ready;
        _cleanup_(curl_url_cleanupp) CURLU *u = NULL;
        _cleanup_(curl_freep) char *host = NULL, *port = NULL, *scheme = NULL;
        struct attest_client *c;
        size_t l;

        if (!curl_ready) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                        say(errbuf, errlen, "cannot initialise libcurl");
                        return -EIO;
                }
                curl_ready = true;
        }
        /* Split once here: messages name host:port, and a URL curl would refuse (settings
         * checked the characters, not the grammar) is a configuration error now, not a
         * retried transport error later. */
        u = curl_url();
        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !streq(scheme, "https") ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
                say(errbuf, errlen, "nodegate.url=%s is not a URL of an https:// host", url);
                return -EINVAL;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->base = strdup(url);
        c->ca_path = strdup(ca_path);
        if (!c->base || !c->ca_path) {
                attest_client_free(c);
                return -ENOMEM;
        }
        l = strlen(c->base);
        while (l > 0 && c->base[l - 1] == '/')
                c->base[--l] = 0;
        snprintf(c->host, sizeof(c->host), "%s", host);
        snprintf(c->where, sizeof(c->where), "%s:%s", host, port);

        c->curl = curl_easy_init();
        for (size_t i = 0; c->curl && i < ELEMENTSOF(headers); i++) {
                struct curl_slist *l = curl_slist_append(c->headers, headers[i]);

                if (!l) {
                        attest_client_free(c);
                        return -ENOMEM;
                }
                c->headers = l;
        }
        if (!c->curl) {
                attest_client_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

void attest_client_free(struct attest_client *c)
{
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        curl_slist_free_all(c->headers);
        free(c->base);
        free(c->ca_path);
        free(c);
}

const char *attest_client_where(const struct attest_client *c)
{
        return c->where;
}

/* strerror() for the middle of a sentence: "connection refused", not "Connection refused". */
static const char *errno_text(int err, char *buf, size_t size)
{
        snprintf(buf, size, "%s", strerror(abs(err)));
        if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
                buf[0] = (char) (buf[0] - 'A' + 'a');
        return buf;
}

/* curl's own detail, one line, without the backend's prefix. */
static const char *detail_text(const char *errbuf, CURLcode cc, char *buf, size_t size)
{
        const char *s = errbuf[0] ? errbuf : curl_easy_strerror(cc), *p;
        size_t n;

        if ((p = startswith(s, "mbedTLS: ")))
                s = p;
        snprintf(buf, size, "%s", s);
        n = strlen(buf);
        for (size_t i = 0; i < n; i++)
                if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
                        buf[i] = ' ';
        while (n > 0 && buf[n - 1] == ' ')
                buf[--n] = 0;
        return buf;
}

/* The TLS certificate problem, in words: mbedTLS's verify info (mbedtls_x509_crt_verify_info
 * lines, which curl passes on) or another backend's own words. Trust first: a certificate from
 * a foreign CA usually fails the host check too, and the CA is what to fix. */
static void tls_certificate_message(const struct attest_client *c, const char *detail, char *errbuf,
                                    size_t errlen)
{
        static const struct {
                const char *needle, *what;
        } reasons[] = {
            {"trusted CA", NULL},
            {"not trusted", NULL},
            {"self-signed", NULL},
            {"self signed", NULL},
            {"issuer", NULL},
            {"expired", "has expired"},
            {"future", "is not valid yet (is the clock right?)"},
            {"not yet valid", "is not valid yet (is the clock right?)"},
            {"Common Name", "is not for this host"},
            {"does not match", "is not for this host"},
            {"subject name", "is not for this host"},
        };

        for (size_t i = 0; i < ELEMENTSOF(reasons); i++) {
                if (!strstr(detail, reasons[i].needle))
                        continue;
                if (!reasons[i].what)
                        say(errbuf, errlen,
                            "TLS handshake with %s failed: certificate not trusted by %s (%s)",
                            c->where, c->ca_path, detail);
                else
                        say(errbuf, errlen, "TLS handshake with %s failed: its certificate %s (%s)",
                            c->where, reasons[i].what, detail);
                return;
        }
        say(errbuf, errlen, "TLS handshake with %s failed: certificate refused (%s)", c->where,
            detail);
}

/* The boundary: a failed curl_easy_perform() becomes a failure class, a negative errno, and a
 * message that names the verifier. */
static int transport_error(const struct attest_client *c, CURLcode cc, const char *curl_err,
                           uint64_t connect_usec, uint64_t total_usec, struct outcome *o,
                           char *errbuf, size_t errlen)
{
        char detail[CURL_ERROR_SIZE + 32], text[128];
        curl_off_t connected = 0;
        long os_errno = 0;

        detail_text(curl_err, cc, detail, sizeof(detail));
        (void) curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
        o->failure = FAILURE_VERIFIER_UNREACHABLE;
        o->retry = true;

        switch (cc) {
        case CURLE_COULDNT_RESOLVE_HOST:
                say(errbuf, errlen, "cannot resolve verifier host %s", c->host);
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT: {
                int err = os_errno > 0 ? (int) os_errno : ECONNREFUSED;
                say(errbuf, errlen, "cannot connect to %s: %s", c->where,
                    errno_text(err, text, sizeof(text)));
                return -err;
        }
        case CURLE_OPERATION_TIMEDOUT:
                if (strstr(detail, "Resolving")) { /* curl's threaded resolver gave up */
                        say(errbuf, errlen,
                            "cannot resolve verifier host %s: no answer within %llu ms", c->host,
                            (unsigned long long) (connect_usec / 1000U));
                        return -ETIMEDOUT;
                }
                /* The TLS handshake done: the verifier was reached, its answer did not come. */
                if (curl_easy_getinfo(c->curl, CURLINFO_APPCONNECT_TIME_T, &connected) ==
                        CURLE_OK &&
                    connected > 0)
                        say(errbuf, errlen, "no answer from %s within %llu ms", c->where,
                            (unsigned long long) (total_usec / 1000U));
                else
                        say(errbuf, errlen, "no connection to %s within %llu ms", c->where,
                            (unsigned long long) (connect_usec / 1000U));
                return -ETIMEDOUT;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                say(errbuf, errlen, "connection to %s broken: %s", c->where, detail);
                return -ECONNRESET;
        case CURLE_PEER_FAILED_VERIFICATION:
                o->failure = FAILURE_VERIFIER_TLS;
                o->retry = false; /* the same certificate will be refused again */
                tls_certificate_message(c, detail, errbuf, errlen);
                return -EKEYREJECTED;
        case CURLE_SSL_CACERT_BADFILE:
                o->failure = FAILURE_VERIFIER_TLS;
                o->retry = false;
                say(errbuf, errlen, "cannot load the CA bundle %s: %s", c->ca_path, detail);
                return -ENOKEY;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_USE_SSL_FAILED:
                /* A server that does not speak TLS 1.2+ (or plain HTTP on the port) will not
                 * learn it by being asked again. */
                o->failure = FAILURE_VERIFIER_TLS;
                o->retry = false;
                say(errbuf, errlen, "TLS handshake with %s failed: %s", c->where, detail);
                return -EPROTO;
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
                o->failure = FAILURE_VERIFIER_ANSWER;
                o->retry = false;
                say(errbuf, errlen, "the answer from %s is larger than %u KiB", c->where,
                    PROTOCOL_ANSWER_MAX / 1024U);
                return -EFBIG;
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_TOO_MANY_REDIRECTS:
                o->failure = FAILURE_VERIFIER_ANSWER;
                o->retry = false;
                say(errbuf, errlen, "%s does not answer as an HTTPS verifier: %s", c->where,
                    detail);
                return -EBADMSG;
        case CURLE_URL_MALFORMAT:
                o->failure = FAILURE_VERIFIER_CONFIG;
                o->retry = false;
                say(errbuf, errlen, "nodegate.url=%s: %s", c->base, detail);
                return -EINVAL;
        case CURLE_OUT_OF_MEMORY:
                o->retry = false;
                say(errbuf, errlen, "out of memory talking to %s", c->where);
                return -ENOMEM;
        default:
                say(errbuf, errlen, "request to %s failed: %s", c->where, detail);
                return -EIO;
        }
}

/* curl's timeouts are milliseconds, and 0 would mean "none". */
static long msec(uint64_t usec)
{
        return usec >= 2000U ? (long) (usec / 1000U) : 1L;
}

/* POSTs body to base + path within the time left before deadline.
 * @return 0 with the answer (any HTTP status), or a negative errno with o and errbuf set */
static int post(struct attest_client *c, const char *path, const char *body, uint64_t deadline,
                struct answer *ret, struct outcome *o, char *errbuf, size_t errlen)
{
        char url[2048], curl_err[CURL_ERROR_SIZE] = "";
        uint64_t now = now_usec(), connect_usec, total_usec;
        curl_off_t retry_after = 0;
        struct answer a = {.body.max = PROTOCOL_ANSWER_MAX};
        CURLcode cc;
        CURL *h = c->curl;

        *o = (struct outcome){.failure = FAILURE_VERIFIER_UNREACHABLE, .retry = false};
        if (!retry_attempt_timeouts(deadline > now ? deadline - now : 0, &connect_usec,
                                    &total_usec)) {
                say(errbuf, errlen, "no time left for a request to %s", c->where);
                return -ETIMEDOUT;
        }
        if (pathf(url, sizeof(url), "%s%s", c->base, path) < 0) {
                o->failure = FAILURE_VERIFIER_CONFIG;
                say(errbuf, errlen, "nodegate.url= is too long");
                return -ENAMETOOLONG;
        }

        curl_easy_reset(h); /* keeps the connection and the TLS session, drops the options */
        /* Only https, only the initramfs's bundle: no CA directory, and the build has no
         * default bundle compiled in (deps/build.sh: --without-ca-bundle). */
        if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_path) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK) {
                o->failure = FAILURE_VERIFIER_TLS;
                say(errbuf, errlen, "libcurl lacks HTTPS with TLS 1.2 and a CA file");
                return -EOPNOTSUPP;
        }
        (void) curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        (void) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
        (void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, msec(connect_usec));
        (void) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, msec(total_usec));
        (void) curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) PROTOCOL_ANSWER_MAX);
        (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
        (void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
        (void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_collect);
        (void) curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.body);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);

        cc = curl_easy_perform(h);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        if (cc != CURLE_OK) {
                answer_done(&a);
                return transport_error(c, cc, curl_err, connect_usec, total_usec, o, errbuf,
                                       errlen);
        }
        (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
                a.retry_after_usec = (uint64_t) retry_after * 1000000U;
        if (!a.body.data) {
                a.body.data = strdup("");
                if (!a.body.data)
                        return -ENOMEM;
        }
        *ret = a;
        return 0;
}

/* An HTTP answer other than 200: the verifier's refusal, or trouble on its side. */
static int judge_status(const struct attest_client *c, const struct answer *a, struct outcome *o,
                        char *errbuf, size_t errlen)
{
        struct protocol_error e;
        bool parsed = protocol_parse_error(a->body.data, a->body.size, &e) >= 0;

        o->retry = retry_http_status(a->status, parsed ? e.error : NULL);
        o->hint_usec = a->retry_after_usec;
        if (a->status >= 500 || a->status == 429) {
                o->failure = FAILURE_VERIFIER_UNAVAILABLE;
                say(errbuf, errlen, "verifier %s answered HTTP %ld%s%s%s%s", c->where, a->status,
                    parsed ? ": " : "", parsed ? e.error : "", parsed && e.message[0] ? ": " : "",
                    parsed ? e.message : "");
                return -EAGAIN;
        }
        if (a->status >= 400 && a->status <= 499 && parsed) {
                o->failure = FAILURE_VERIFIER_REFUSED;
                say(errbuf, errlen, "verifier refused: %s: %s", e.error,
                    e.message[0] ? e.message : "(no message)");
                return -EACCES;
        }
        o->failure = FAILURE_VERIFIER_ANSWER;
        o->retry = false;
        say(errbuf, errlen, "%s answered HTTP %ld without a verifier error object", c->where,
            a->status);
        return -EBADMSG;
}

/* Version 3 only when there is evidence to send: version 2 is version 3 without it, and any
 * verifier of either version answers it. */
static unsigned protocol_version(const struct attest_evidence *e)
{
        return platform_has_evidence(e->platform) ? 3 : 2;
}

/* Round 1. @return 0 with the challenge, or negative errno with o and errbuf set */
static int round_challenge(struct attest_client *c, const struct attest_evidence *e,
                           uint64_t deadline, struct protocol_challenge_answer *ret,
                           struct attest_stats *stats, struct outcome *o, char *errbuf,
                           size_t errlen)
{
        _cleanup_free_ char *body = NULL;
        _cleanup_(answer_done) struct answer a = {};
        struct protocol_challenge_request req = {
            .ek_public = e->ek->public.data,
            .ek_public_size = e->ek->public.size,
            .ek_certificate = e->ek->certificate,
            .ek_certificate_size = e->ek->certificate_size,
            .ak_public = e->ak_public->data,
            .ak_public_size = e->ak_public->size,
            .version = protocol_version(e),
        };
        char err[256], path[32];
        uint64_t t0;
        int r;

        *o = (struct outcome){.failure = FAILURE_VERIFIER_ANSWER};
        r = protocol_challenge_request(&req, &body);
        if (r < 0) {
                o->failure = FAILURE_TPM;
                say(errbuf, errlen, "cannot build the challenge request: %s", strerror(-r));
                return r;
        }
        t0 = now_usec();
        stats->attempts++;
        snprintf(path, sizeof(path), "/v%u/challenge", req.version);
        r = post(c, path, body, deadline, &a, o, errbuf, errlen);
        stats->verifier_usec += now_usec() - t0;
        if (r < 0)
                return r;
        if (a.status != 200)
                return judge_status(c, &a, o, errbuf, errlen);
        r = protocol_parse_challenge_answer(a.body.data, a.body.size, ret, err, sizeof(err));
        if (r >= 0 && ret->version != req.version)
                r = -EBADMSG, snprintf(err, sizeof(err), "version %u to a request of version %u",
                                       ret->version, req.version);
        if (r < 0) {
                *o = (struct outcome){.failure = FAILURE_VERIFIER_ANSWER};
                say(errbuf, errlen, "malformed challenge answer from %s: %s", c->where, err);
                return r == -EFBIG ? r : -EBADMSG;
        }
        stats->round1_usec = now_usec() - t0;
        return 0;
}

/* The TEE's report for this round: bound to this challenge and these keys (P), so it is fresh
 * and names the TPM the quote comes from. */
static int collect_platform(const struct attest_evidence *e,
                            const struct protocol_challenge_answer *ch, uint64_t deadline,
                            struct platform_evidence *ret, struct outcome *o, char *errbuf,
                            size_t errlen)
{
        uint8_t binding[PLATFORM_BINDING_SIZE];
        char err[ATTEST_ERROR_MAX - 64];
        int r;

        *o = (struct outcome){.failure = FAILURE_PLATFORM_EVIDENCE};
        r = platform_binding(ch->challenge, PROTOCOL_CHALLENGE_SIZE, e->ek->public.data,
                             e->ek->public.size, e->ak_public->data, e->ak_public->size, binding);
        if (r < 0) {
                say(errbuf, errlen, "cannot compute the platform binding: %s", strerror(-r));
                return r;
        }
        r = platform_collect(e->platform, e->tpm, e->tsm_dir, binding, e->platform_wait_usec,
                             deadline, ret, &o->failure, err, sizeof(err));
        if (r < 0) {
                say(errbuf, errlen, "%s evidence: %s", platform_to_string(e->platform), err);
                return r;
        }
        if (!ret->fresh)
                log_warning("the %s report does not carry this round's binding yet: the "
                            "verifier will refuse it as stale",
                            platform_to_string(e->platform));
        if (ret->td_quote)
                log_info("%s evidence: %s, %zu bytes, with the TD quote from IMDS (%zu bytes)",
                         platform_to_string(e->platform), ret->kind, ret->report_size,
                         ret->td_quote_size);
        else
                log_info("%s evidence: %s, %zu bytes%s", platform_to_string(e->platform), ret->kind,
                         ret->report_size, ret->n_certificates ? ", with the VCEK/VLEK" : "");
        return 0;
}

/* Between the rounds, in the TPM: the credential, the PCRs and the quote, into the body of
 * round 2 (which carries the credential secret: erase_and_free() it). */
static int prove(const struct attest_client *c, const struct attest_evidence *e,
                 const struct protocol_challenge_answer *ch, uint64_t deadline, char **ret_body,
                 struct attest_stats *stats, struct outcome *o, char *errbuf, size_t errlen)
{
        _cleanup_(platform_evidence_done) struct platform_evidence platform_ev = {};
        struct platform_evidence *platform = &platform_ev;
        uint8_t pcrs[TPM_PCRS][32] = {}, credential[TPM_SECRET_MAX], nonce[32];
        struct tpm_blob attest, signature;
        char err[TPM_ERROR_MAX];
        size_t credential_size = 0;
        uint64_t t0 = now_usec();
        int r;

        *o = (struct outcome){.failure = FAILURE_TPM};
        r = tpm_activate_credential(e->tpm, ch->credential_blob.data, ch->credential_blob.size,
                                    ch->encrypted_secret.data, ch->encrypted_secret.size,
                                    credential, &credential_size, err, sizeof(err));
        if (r == -EBADMSG || r == -EACCES) {
                /* The TPM refuses a credential made for another EK or AK: not this node's
                 * answer, however well-formed. */
                o->failure = FAILURE_VERIFIER_ANSWER;
                say(errbuf, errlen,
                    "the challenge from %s does not activate with this TPM's "
                    "EK and AK: %s",
                    c->where, err);
        } else if (r < 0)
                say(errbuf, errlen, "%s", err);
        else if (credential_size != PROTOCOL_CREDENTIAL_SIZE) {
                o->failure = FAILURE_VERIFIER_ANSWER;
                say(errbuf, errlen, "the credential from %s holds %zu bytes, not %d", c->where,
                    credential_size, PROTOCOL_CREDENTIAL_SIZE);
                r = -EBADMSG;
        }
        if (r >= 0 && platform_has_evidence(e->platform)) {
                r = collect_platform(e, ch, deadline, platform, o, errbuf, errlen);
        }
        if (r >= 0) {
                /* qualifyingData = SHA-256(challenge), PROTOCOL.md */
                r = mbedtls_sha256(ch->challenge, PROTOCOL_CHALLENGE_SIZE, nonce, 0) == 0 ? 0
                                                                                          : -EIO;
                if (r >= 0)
                        r = tpm_pcr_read(e->tpm, ch->pcr_mask, pcrs, err, sizeof(err));
                if (r >= 0)
                        r = tpm_quote(e->tpm, nonce, sizeof(nonce), ch->pcr_mask, &attest,
                                      &signature, err, sizeof(err));
                if (r < 0) {
                        o->failure = FAILURE_TPM;
                        say(errbuf, errlen, "%s", err);
                }
        }
        stats->tpm_usec += now_usec() - t0;
        if (r >= 0) {
                stats->quoted_mask = ch->pcr_mask;
                memcpy(stats->quoted_pcrs, pcrs, sizeof(pcrs));
        }
        if (r >= 0) {
                struct protocol_attest_request req = {
                    .challenge = ch->challenge,
                    .ek_public = e->ek->public.data,
                    .ek_public_size = e->ek->public.size,
                    .ak_public = e->ak_public->data,
                    .ak_public_size = e->ak_public->size,
                    .credential = credential,
                    .attest = attest.data,
                    .attest_size = attest.size,
                    .signature = signature.data,
                    .signature_size = signature.size,
                    .pcr_mask = ch->pcr_mask,
                    .pcrs = (const uint8_t(*)[32]) pcrs,
                    .event_log = e->event_log,
                    .event_log_size = e->event_log_size,
                    .node = e->node,
                    .version = protocol_version(e),
                };
                struct protocol_platform p = {
                    .kind = platform->kind,
                    .report = platform->report,
                    .report_size = platform->report_size,
                    .td_quote = platform->td_quote,
                    .td_quote_size = platform->td_quote_size,
                    .certificates = (const uint8_t *const *) platform->certificates,
                    .certificate_sizes = platform->certificate_sizes,
                    .n_certificates = platform->n_certificates,
                };

                if (platform->kind)
                        req.platform = &p;

                r = protocol_attest_request(&req, ret_body);
                if (r < 0)
                        say(errbuf, errlen, "cannot build the attest request: %s", strerror(-r));
        }
        explicit_bzero(credential, sizeof(credential));
        return r;
}

/* Round 2. @return 0 with the parsed answer, or negative errno with o and errbuf set */
static int round_attest(struct attest_client *c, unsigned version, const char *body,
                        uint64_t deadline, struct protocol_attest_answer *ret,
                        struct attest_stats *stats, struct outcome *o, char *errbuf, size_t errlen)
{
        _cleanup_(answer_done) struct answer a = {};
        char err[256], path[32];
        uint64_t t0 = now_usec();
        int r;

        stats->attempts++;
        snprintf(path, sizeof(path), "/v%u/attest", version);
        r = post(c, path, body, deadline, &a, o, errbuf, errlen);
        stats->verifier_usec += now_usec() - t0;
        if (r < 0)
                return r;
        if (a.status != 200)
                return judge_status(c, &a, o, errbuf, errlen);
        r = protocol_parse_attest_answer(a.body.data, a.body.size, ret, err, sizeof(err));
        if (r >= 0 && ret->version != version) {
                snprintf(err, sizeof(err), "version %u to a request of version %u", ret->version,
                         version);
                protocol_attest_answer_done(ret);
                r = -EBADMSG;
        }
        if (r < 0) {
                *o = (struct outcome){.failure = FAILURE_VERIFIER_ANSWER};
                say(errbuf, errlen, "malformed attest answer from %s: %s", c->where, err);
                return r == -EFBIG || r == -ENOMEM ? r : -EBADMSG;
        }
        stats->round2_usec = now_usec() - t0;
        return 0;
}

/* Jitter needs no cryptographic quality, but must differ between nodes: the kernel's pool
 * when it is ready, the clock otherwise (never wait for entropy at boot). */
static uint64_t jitter_random(void)
{
        uint64_t v = 0;
        struct timespec ts;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t) sizeof(v))
                return v;
        clock_gettime(CLOCK_REALTIME, &ts);
        v = (uint64_t) ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ now_usec() ^ (uint64_t) getpid();
        return v;
}

static void sleep_usec(uint64_t usec)
{
        struct timespec ts = {.tv_sec = (time_t) (usec / 1000000U),
                              .tv_nsec = (long) (usec % 1000000U) * 1000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int attest_run(struct attest_client *c, const struct attest_evidence *e, uint64_t deadline_usec,
               struct protocol_attest_answer *ret, struct attest_stats *stats,
               enum failure *ret_failure, char *errbuf, size_t errlen)
{
        char last[ATTEST_ERROR_MAX] = "";
        struct outcome o = {};
        int r;

        *stats = (struct attest_stats){};
        for (unsigned retry = 0;; retry++) {
                _cleanup_(erase_and_freep) char *body = NULL;
                struct protocol_challenge_answer ch = {};
                uint64_t sleep, now;

                stats->rounds++;
                r = round_challenge(c, e, deadline_usec, &ch, stats, &o, last, sizeof(last));
                if (r >= 0)
                        r = prove(c, e, &ch, deadline_usec, &body, stats, &o, last, sizeof(last));
                if (r >= 0)
                        r = round_attest(c, protocol_version(e), body, deadline_usec, ret, stats,
                                         &o, last, sizeof(last));
                if (r >= 0)
                        return 0;
                if (!o.retry)
                        break;

                now = now_usec();
                if (!retry_next(retry, stats->attempts, jitter_random(), o.hint_usec, now,
                                deadline_usec, &sleep)) {
                        log_warning("attempt %u: %s; no time left for another (%u attempts in "
                                    "%llu ms)",
                                    stats->attempts, last, stats->attempts,
                                    (unsigned long long) (stats->verifier_usec / 1000U));
                        break;
                }
                log_warning("attempt %u: %s; retrying in %llu ms", stats->attempts, last,
                            (unsigned long long) (sleep / 1000U));
                sleep_usec(sleep);
                stats->backoff_usec += sleep;
        }
        *ret_failure = o.failure;
        say(errbuf, errlen, "%s", last);
        return r;
}
