/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IMDS request itself (libcurl): plain HTTP to the link-local address only, bounded in
 * time and size, and curl's errors turned into the three IMDS failures at this one place. */
#include <curl/curl.h>
#include <stdio.h>

#include "lib/http-body.h"
#include "lib/log.h"
#include "platform/imds.h"
#include "util.h"

#define USER_AGENT "nodegate/1"

static void curl_easy_cleanupp(CURL **h)
{
        if (*h)
                curl_easy_cleanup(*h);
}

static void curl_slist_free_allp(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

/* A proxy option took, or curl was built without proxies. */
static bool proxy_off(CURLcode cc)
{
        return cc == CURLE_OK || cc == CURLE_NOT_BUILT_IN || cc == CURLE_UNKNOWN_OPTION;
}

static long msec(uint64_t usec)
{
        return usec >= 2000U ? (long) (usec / 1000U) : 1L;
}

/* curl's detail for the message, on one line. */
static const char *detail_text(const char *curl_err, CURLcode cc)
{
        return curl_err[0] ? curl_err : curl_easy_strerror(cc);
}

static int transport_error(CURLcode cc, const char *curl_err, long os_errno, uint64_t timeout_usec,
                           enum failure *ret_failure, char *errbuf, size_t errlen)
{
        *ret_failure = FAILURE_IMDS_UNREACHABLE;
        switch (cc) {
        case CURLE_OPERATION_TIMEDOUT:
                snprintf(errbuf, errlen, "IMDS %s: no answer within %llu ms", IMDS_TDQUOTE_URL,
                         (unsigned long long) (timeout_usec / 1000U));
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT: {
                int err = os_errno > 0 ? (int) os_errno : ECONNREFUSED;

                snprintf(errbuf, errlen, "IMDS %s: cannot connect: %s", IMDS_TDQUOTE_URL,
                         strerror(err));
                return -err;
        }
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
                *ret_failure = FAILURE_IMDS_ANSWER;
                snprintf(errbuf, errlen, "IMDS %s: the answer is larger than %u KiB",
                         IMDS_TDQUOTE_URL, IMDS_ANSWER_MAX / 1024U);
                return -EFBIG;
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_TOO_MANY_REDIRECTS:
                *ret_failure = FAILURE_IMDS_ANSWER;
                snprintf(errbuf, errlen, "IMDS %s: not an HTTP answer: %s", IMDS_TDQUOTE_URL,
                         detail_text(curl_err, cc));
                return -EBADMSG;
        case CURLE_OUT_OF_MEMORY:
                *ret_failure = FAILURE_PLATFORM_EVIDENCE;
                snprintf(errbuf, errlen, "IMDS %s: out of memory", IMDS_TDQUOTE_URL);
                return -ENOMEM;
        default:
                snprintf(errbuf, errlen, "IMDS %s: %s", IMDS_TDQUOTE_URL,
                         detail_text(curl_err, cc));
                return -EIO;
        }
}

int imds_td_quote(const uint8_t *tdreport, size_t size, uint64_t deadline_usec, uint8_t **ret,
                  size_t *ret_size, enum failure *ret_failure, char *errbuf, size_t errlen)
{
        /* Microsoft's client sends these three; "Expect:" keeps curl from waiting for a
         * 100 Continue the service never sends. */
        static const char *const headers[] = {"Metadata: true", "Content-Type: application/json",
                                              "Accept: application/json", "Expect:"};
        static bool curl_ready;
        _cleanup_(curl_easy_cleanupp) CURL *h = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *list = NULL;
        _cleanup_free_ char *body = NULL, *answer_body = NULL;
        char curl_err[CURL_ERROR_SIZE] = "", err[160];
        struct http_body a = {.max = IMDS_ANSWER_MAX};
        uint64_t now = now_usec(), timeout;
        long status = 0, os_errno = 0;
        CURLcode cc;
        int r;

        /* Trouble on this side (memory, libcurl) is the platform's; IMDS's own below. */
        *ret_failure = FAILURE_PLATFORM_EVIDENCE;
        timeout = deadline_usec > now ? deadline_usec - now : 0;
        if (timeout > IMDS_TIMEOUT_USEC)
                timeout = IMDS_TIMEOUT_USEC;
        if (timeout < 1000U) {
                *ret_failure = FAILURE_IMDS_UNREACHABLE;
                snprintf(errbuf, errlen, "IMDS %s: no time left before the deadline",
                         IMDS_TDQUOTE_URL);
                return -ETIMEDOUT;
        }
        r = imds_request_body(tdreport, size, &body);
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot build the IMDS request: %s", strerror(-r));
                return r;
        }
        /* Once per process, as the verifier client does (the boot never cleans it up). */
        if (!curl_ready) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                        snprintf(errbuf, errlen, "cannot initialise libcurl");
                        return -EIO;
                }
                curl_ready = true;
        }
        h = curl_easy_init();
        for (size_t i = 0; h && i < ELEMENTSOF(headers); i++) {
                struct curl_slist *l = curl_slist_append(list, headers[i]);

                if (!l) {
                        snprintf(errbuf, errlen, "out of memory for the IMDS request");
                        return -ENOMEM;
                }
                list = l;
        }
        if (!h) {
                snprintf(errbuf, errlen, "out of memory for the IMDS request");
                return -ENOMEM;
        }
        /* Only http, only this URL, no redirect anywhere. */
        if (curl_easy_setopt(h, CURLOPT_URL, IMDS_TDQUOTE_URL) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK) {
                snprintf(errbuf, errlen, "libcurl lacks plain HTTP");
                return -EOPNOTSUPP;
        }
        /* No proxy, from the environment (curl reads *_proxy) or anywhere else: the service
         * answers the VM itself only. The gate's curl has no proxy code at all
         * (deps/build.sh: --disable-proxy), which these options then cannot set. */
        if (!proxy_off(curl_easy_setopt(h, CURLOPT_PROXY, "")) ||
            !proxy_off(curl_easy_setopt(h, CURLOPT_NOPROXY, "*"))) {
                snprintf(errbuf, errlen, "libcurl cannot turn its proxy off");
                return -EOPNOTSUPP;
        }
        (void) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
        (void) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, msec(timeout));
        (void) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, msec(timeout));
        (void) curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) IMDS_ANSWER_MAX);
        (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        (void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        (void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
        (void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_collect);
        (void) curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);

        cc = curl_easy_perform(h);
        answer_body = a.data;
        if (cc == CURLE_OK)
                (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        else
                (void) curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        curl_easy_cleanup(TAKE_PTR(h));
        if (cc != CURLE_OK)
                return transport_error(cc, curl_err, os_errno, timeout, ret_failure, errbuf,
                                       errlen);
        if (status != 200) {
                *ret_failure = FAILURE_IMDS_STATUS;
                snprintf(errbuf, errlen, "IMDS %s answered HTTP %ld, not 200", IMDS_TDQUOTE_URL,
                         status);
                return -EPROTO;
        }
        r = imds_parse_quote(answer_body ? answer_body : "", a.size, ret, ret_size, err,
                             sizeof(err));
        if (r < 0) {
                if (r != -ENOMEM)
                        *ret_failure = FAILURE_IMDS_ANSWER;
                snprintf(errbuf, errlen, "IMDS %s: %s", IMDS_TDQUOTE_URL, err);
                return r;
        }
        return 0;
}
