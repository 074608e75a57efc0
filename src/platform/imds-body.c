/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bodies of the IMDS TD quote exchange: the request with the TDREPORT, the answer with
 * the quote. Base64url (RFC 4648 §5) is mapped onto the strict base64 of src/lib/base64.c. */
#include <json-c/json.h>
#include <stdio.h>

#include "lib/base64.h"
#include "platform/imds.h"
#include "util.h"

#define JSON_DEPTH_MAX 4

static _printf_(4, 5) int say(int r, char *errbuf, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        return r;
}

int imds_request_body(const uint8_t *tdreport, size_t size, char **ret)
{
        static const char head[] = "{\"report\":\"", tail[] = "\"}";
        size_t n = base64_encoded_size(size), l;
        char *body, *b64;

        if (!tdreport || size != IMDS_TDREPORT_SIZE)
                return -EINVAL;
        body = malloc(sizeof(head) - 1 + n + sizeof(tail));
        if (!body)
                return -ENOMEM;
        memcpy(body, head, sizeof(head) - 1);
        b64 = body + sizeof(head) - 1;
        base64_encode(tdreport, size, b64);
        /* base64url without padding, as Microsoft's client (base64_url::encode) sends it */
        for (l = 0; b64[l] && b64[l] != '='; l++)
                if (b64[l] == '+')
                        b64[l] = '-';
                else if (b64[l] == '/')
                        b64[l] = '_';
        memcpy(b64 + l, tail, sizeof(tail));
        *ret = body;
        return 0;
}

/* Base64url, padded or not, into a malloc'ed buffer of at most max bytes. */
static int base64url_decode(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_size)
{
        _cleanup_free_ char *std = NULL;
        size_t n = len;

        while (n > 0 && s[n - 1] == '=')
                n--;
        /* Padding only as much as completes the last group, and only to a multiple of 4. */
        if (n != len && (len % 4 != 0 || len - n > 2))
                return -EBADMSG;
        if (n % 4 == 1)
                return -EBADMSG;
        std = malloc(n + 4);
        if (!std)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '-')
                        c = '+';
                else if (c == '_')
                        c = '/';
                else if (c == '+' || c == '/' || c == '=' || c == 0)
                        return -EBADMSG; /* the standard alphabet's, or padding inside */
                std[i] = c;
        }
        while (n % 4 != 0)
                std[n++] = '=';
        return base64_decode_alloc(std, n, max, ret, ret_size);
}

static void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}

int imds_parse_quote(const char *body, size_t size, uint8_t **ret, size_t *ret_size, char *errbuf,
                     size_t errlen)
{
        _cleanup_(json_putp) struct json_object *obj = NULL;
        struct json_tokener *tok;
        struct json_object *q;
        uint8_t *quote = NULL;
        size_t quote_size = 0, end;
        bool ok;
        int r;

        if (size > IMDS_ANSWER_MAX)
                return say(-EFBIG, errbuf, errlen, "the answer is larger than %u KiB",
                           IMDS_ANSWER_MAX / 1024U);
        if (size == 0 || memchr(body, 0, size))
                return say(-EBADMSG, errbuf, errlen, "the answer is %s",
                           size ? "not text" : "empty");
        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, body, (int) size);
        ok = obj && json_tokener_get_error(tok) == json_tokener_success;
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        for (size_t i = end; ok && i < size; i++)
                ok = strchr(" \t\r\n", body[i]) != NULL;
        if (!ok || !json_object_is_type(obj, json_type_object))
                return say(-EBADMSG, errbuf, errlen, "the answer is not a JSON object");
        if (!json_object_object_get_ex(obj, "quote", &q) ||
            !json_object_is_type(q, json_type_string))
                return say(-EBADMSG, errbuf, errlen, "the answer has no \"quote\" string");
        r = base64url_decode(json_object_get_string(q), (size_t) json_object_get_string_len(q),
                             IMDS_QUOTE_MAX, &quote, &quote_size);
        if (r == -EFBIG)
                return say(r, errbuf, errlen, "the quote is larger than %d bytes", IMDS_QUOTE_MAX);
        if (r < 0)
                return say(r, errbuf, errlen, "the quote is not base64url");
        if (quote_size < IMDS_QUOTE_MIN) {
                free(quote);
                return say(-EBADMSG, errbuf, errlen,
                           "the quote has %zu bytes, less than a TD quote's header and body (%d)",
                           quote_size, IMDS_QUOTE_MIN);
        }
        *ret = quote;
        *ret_size = quote_size;
        return 0;
}
