/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IMDS TD quote exchange's bodies (src/platform/imds-body.c): the request carries the
 * TDREPORT as base64url without padding, as Microsoft's client sends it; the answer's quote is
 * taken padded or not, and everything else about the answer is refused with its reason. */

#include "lib/base64.h"
#include "platform/imds.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

static void request_body(void **state)
{
        _cleanup_free_ char *body = NULL, *want = NULL;
        uint8_t td[IMDS_TDREPORT_SIZE];
        size_t l = 0;

        (void) state;
        /* 0xFB 0xFF 0xBF is "+/+/" in base64: "-_-_" in base64url. 1024 = 341 * 3 + 1, so the
         * last byte alone is "-w" and would take "==" of padding, which is left out. */
        for (size_t i = 0; i < sizeof(td); i++)
                td[i] = (const uint8_t[]){0xFB, 0xFF, 0xBF}[i % 3];
        want = malloc(16 + 4 * 341 + 2 + 3);
        assert_non_null(want);
        l += (size_t) sprintf(want, "{\"report\":\"");
        for (int i = 0; i < 341; i++)
                l += (size_t) sprintf(want + l, "-_-_");
        sprintf(want + l, "-w\"}");
        assert_int_equal(imds_request_body(td, sizeof(td), &body), 0);
        assert_string_equal(body, want);
        free(TAKE_PTR(body));

        memset(td, 0, sizeof(td));
        assert_int_equal(imds_request_body(td, sizeof(td), &body), 0);
        assert_int_equal(strlen(body), strlen("{\"report\":\"\"}") + 1366);
        assert_null(strchr(body, '='));

        /* Only a whole TDREPORT. */
        assert_int_equal(imds_request_body(td, sizeof(td) - 1, &body), -EINVAL);
        assert_int_equal(imds_request_body(td, 1184, &body), -EINVAL);
}

/* A quote of n bytes (i * 7 + 1), and its base64url: padded, or not. */
static uint8_t quote_byte(size_t i)
{
        return (uint8_t) (i * 7 + 1);
}

static char *quote_b64url(size_t n, bool padded)
{
        uint8_t *q = malloc(n);
        char *s = malloc(base64_encoded_size(n) + 1);

        assert_non_null(q);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
                q[i] = quote_byte(i);
        base64_encode(q, n, s);
        free(q);
        for (char *p = s; *p; p++)
                if (*p == '+')
                        *p = '-';
                else if (*p == '/')
                        *p = '_';
                else if (*p == '=' && !padded)
                        *p = 0;
        return s;
}

static char *answer(const char *fmt, const char *quote)
{
        char *s = NULL;

        assert_true(asprintf(&s, fmt, quote) >= 0);
        return s;
}

static void parse_good(void **state)
{
        /* 4001 = 3 * 1333 + 2: one "=" of padding; 4000: two. Both forms, and extra members. */
        static const struct {
                size_t n;
                bool padded;
                const char *fmt;
        } rows[] = {
            {4001, false, "{\"quote\":\"%s\"}"},
            {4001, true, "{\"quote\":\"%s\"}"},
            {4000, true, "{\"quote\":\"%s\"}"},
            {4000, false, " {\"other\": 1, \"quote\": \"%s\"}\r\n"},
            {IMDS_QUOTE_MIN, false, "{\"quote\":\"%s\"}"},
            {IMDS_QUOTE_MAX, true, "{\"quote\":\"%s\"}"},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *b64 = quote_b64url(rows[i].n, rows[i].padded);
                _cleanup_free_ char *body = answer(rows[i].fmt, b64);
                _cleanup_free_ uint8_t *q = NULL;
                size_t size = 0;
                char err[160] = "";

                assert_true(rows[i].padded || !strchr(b64, '='));
                assert_int_equal(imds_parse_quote(body, strlen(body), &q, &size, err, sizeof(err)),
                                 0);
                assert_int_equal(size, rows[i].n);
                for (size_t j = 0; j < size; j++)
                        assert_int_equal(q[j], quote_byte(j));
        }
}

/* A good quote's answer, changed at one place: the quote's character at, replaced by c. */
static char *changed(const char *b64, size_t at, char c)
{
        char *s = answer("{\"quote\":\"%s\"}", b64);

        s[strlen("{\"quote\":\"") + at] = c;
        return s;
}

static void parse_bad(void **state)
{
        /* 1000 bytes: 1334 characters unpadded (4 * 333 + 2). */
        _cleanup_free_ char *good = quote_b64url(1000, false);
        _cleanup_free_ char *b = quote_b64url(IMDS_QUOTE_MAX + 1, false);
        _cleanup_free_ char *h = quote_b64url(12300, false);
        _cleanup_free_ char *s = quote_b64url(IMDS_QUOTE_MIN - 1, false);
        _cleanup_free_ char *big = answer("{\"quote\":\"%s\"}", b);
        _cleanup_free_ char *huge = answer("{\"quote\":\"%s\"}", h);
        _cleanup_free_ char *short_q = answer("{\"quote\":\"%s\"}", s);
        _cleanup_free_ char *plus = changed(good, 5, '+'), *slash = changed(good, 20, '/');
        _cleanup_free_ char *bang = changed(good, 30, '!'), *inner_pad = changed(good, 40, '=');
        _cleanup_free_ char *mod1 = answer("{\"quote\":\"%sAAA\"}", good); /* 4 * 334 + 1 */
        _cleanup_free_ char *too_much_pad = answer("{\"quote\":\"%s===\"}", good);
        _cleanup_free_ char *long_answer = malloc(IMDS_ANSWER_MAX + 1400);
        const struct {
                const char *what, *body;
                int want;
                const char *message;
        } rows[] = {
            {"empty", "", -EBADMSG, "empty"},
            {"not JSON", "<html>503 Service Unavailable</html>", -EBADMSG, "not a JSON object"},
            {"a JSON array", "[\"quote\"]", -EBADMSG, "not a JSON object"},
            {"trailing garbage", "{\"quote\":\"AAAA\"} x", -EBADMSG, "not a JSON object"},
            {"cut short", "{\"quote\":\"AAAA", -EBADMSG, "not a JSON object"},
            {"no quote", "{\"error\":\"no quote for you\"}", -EBADMSG, "no \"quote\" string"},
            {"quote not a string", "{\"quote\":5}", -EBADMSG, "no \"quote\" string"},
            {"quote null", "{\"quote\":null}", -EBADMSG, "no \"quote\" string"},
            {"standard alphabet +", plus, -EBADMSG, "not base64url"},
            {"standard alphabet /", slash, -EBADMSG, "not base64url"},
            {"not base64 at all", bang, -EBADMSG, "not base64url"},
            {"length 4n+1", mod1, -EBADMSG, "not base64url"},
            {"padding inside", inner_pad, -EBADMSG, "not base64url"},
            {"three padding characters", too_much_pad, -EBADMSG, "not base64url"},
            {"quote too short", short_q, -EBADMSG, "less than a TD quote's"},
            {"quote above 8192 bytes", big, -EFBIG, "larger than 8192 bytes"},
            {"answer above 16 KiB", huge, -EFBIG, "larger than 16 KiB"},
            {"answer above 16 KiB by whitespace", long_answer, -EFBIG, "larger than 16 KiB"},
        };

        (void) state;
        assert_int_equal(strlen(good), 1334);
        assert_non_null(long_answer);
        {
                char *p = long_answer + sprintf(long_answer, "{\"quote\":\"%s\"", good);

                memset(p, ' ', IMDS_ANSWER_MAX);
                strcpy(p + IMDS_ANSWER_MAX, "}");
        }
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint8_t *q = NULL;
                size_t size = 0;
                char err[160] = "";
                int r;

                r = imds_parse_quote(rows[i].body, strlen(rows[i].body), &q, &size, err,
                                     sizeof(err));
                if (r != rows[i].want || !strstr(err, rows[i].message))
                        fail_msg("%s: %d \"%s\", want %d \"%s\"", rows[i].what, r, err,
                                 rows[i].want, rows[i].message);
                assert_null(q);
        }
}

/* A NUL inside the answer is not text, whatever follows. */
static void parse_nul(void **state)
{
        static const char body[] = "{\"quote\":\"AAAA\"}\0{}";
        uint8_t *q = NULL;
        size_t size = 0;
        char err[160] = "";

        (void) state;
        assert_int_equal(imds_parse_quote(body, sizeof(body) - 1, &q, &size, err, sizeof(err)),
                         -EBADMSG);
        assert_non_null(strstr(err, "not text"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(request_body),
            cmocka_unit_test(parse_good),
            cmocka_unit_test(parse_bad),
            cmocka_unit_test(parse_nul),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
