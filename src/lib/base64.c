/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 encoding and strict decoding (RFC 4648 §4, padded). No library of the gate offers a
 * strict decoder with a size bound, and this is short. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t n)
{
        return (n + 2) / 3 * 4;
}

void base64_encode(const uint8_t *in, size_t n, char *ret)
{
        size_t i = 0, o = 0;

        for (; i + 3 <= n; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];

                ret[o++] = alphabet[v >> 18];
                ret[o++] = alphabet[(v >> 12) & 0x3f];
                ret[o++] = alphabet[(v >> 6) & 0x3f];
                ret[o++] = alphabet[v & 0x3f];
        }
        if (n - i == 1) {
                uint32_t v = (uint32_t) in[i] << 16;

                ret[o++] = alphabet[v >> 18];
                ret[o++] = alphabet[(v >> 12) & 0x3f];
                ret[o++] = '=';
                ret[o++] = '=';
        } else if (n - i == 2) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;

                ret[o++] = alphabet[v >> 18];
                ret[o++] = alphabet[(v >> 12) & 0x3f];
                ret[o++] = alphabet[(v >> 6) & 0x3f];
                ret[o++] = '=';
        }
        ret[o] = 0;
}

char *base64_encode_alloc(const uint8_t *in, size_t n)
{
        char *s;

        if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        s = malloc(base64_encoded_size(n) + 1);
        if (s)
                base64_encode(in, n, s);
        return s;
}

static int value_of(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *s, size_t len, uint8_t *buf, size_t max, size_t *ret_size)
{
        size_t pad = 0, size, o = 0;

        if (len % 4 != 0)
                return -EBADMSG;
        if (len > 0 && s[len - 1] == '=')
                pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
        size = len / 4 * 3 - pad;
        if (size > max)
                return -EFBIG;

        for (size_t i = 0; i < len; i += 4) {
                bool last = i + 4 == len;
                int v[4];
                uint32_t w;

                for (size_t k = 0; k < 4; k++) {
                        /* '=' only in the last one or two places of the last quantum */
                        if (last && s[i + k] == '=' && k >= 4 - pad) {
                                v[k] = 0;
                                continue;
                        }
                        v[k] = value_of(s[i + k]);
                        if (v[k] < 0)
                                return -EBADMSG;
                }
                w = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 |
                    (uint32_t) v[3];
                if (last && pad == 2 && (w & 0xffff) != 0)
                        return -EBADMSG; /* nonzero bits under the padding */
                if (last && pad == 1 && (w & 0xff) != 0)
                        return -EBADMSG;
                buf[o++] = (uint8_t) (w >> 16);
                if (!(last && pad == 2))
                        buf[o++] = (uint8_t) (w >> 8);
                if (!(last && pad >= 1))
                        buf[o++] = (uint8_t) w;
        }
        *ret_size = o;
        return 0;
}

int base64_decode_alloc(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_size)
{
        uint8_t *buf;
        size_t size;
        int r;

        if (len % 4 != 0)
                return -EBADMSG;
        /* +1: malloc(0) may return NULL, which is not an error here */
        buf = malloc(len / 4 * 3 + 1);
        if (!buf)
                return -ENOMEM;
        r = base64_decode(s, len, buf, max, &size);
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_size = size;
        return 0;
}
