/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict base64 (RFC 4648 §4) for the protocol's binary fields. Table driven: the event log
 * is up to 512 KiB and every attestation decodes it. */
#include "common/base64.h"

#include "util.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, XX (0xff) for everything else (including '=', handled apart). */
#define XX 0xff
/* clang-format off */
static const uint8_t values[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0x00 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0x10 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63, /* 0x20 */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX, /* 0x30 */
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, /* 0x40 */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX, /* 0x50 */
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60 */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX, /* 0x70 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0x80 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0x90 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0xa0 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0xb0 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0xc0 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0xd0 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0xe0 */
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, /* 0xf0 */
};
/* clang-format on */
#undef XX

int base64_decode(const char *in, size_t len, uint8_t *out, size_t max, size_t *ret_size)
{
        const uint8_t *s = (const uint8_t *) in;
        size_t pad = 0, size, full, o = 0;

        if (len % 4 != 0)
                return -EBADMSG;
        if (len > 0 && s[len - 1] == '=')
                pad = s[len - 2] == '=' ? 2 : 1;
        size = len / 4 * 3 - pad;
        if (size > max)
                return -EMSGSIZE;

        /* Every quantum but the last is four alphabet characters: no padding inside. */
        full = pad ? len - 4 : len;
        for (size_t i = 0; i < full; i += 4) {
                uint8_t a = values[s[i]], b = values[s[i + 1]], c = values[s[i + 2]],
                        d = values[s[i + 3]];

                if ((a | b | c | d) & 0x80)
                        return -EBADMSG;
                uint32_t q = (uint32_t) a << 18 | (uint32_t) b << 12 | (uint32_t) c << 6 | d;
                out[o++] = (uint8_t) (q >> 16);
                out[o++] = (uint8_t) (q >> 8);
                out[o++] = (uint8_t) q;
        }
        if (pad) {
                uint8_t a = values[s[full]], b = values[s[full + 1]];
                uint8_t c = pad == 1 ? values[s[full + 2]] : 0;

                if ((a | b | c) & 0x80)
                        return -EBADMSG;
                /* The bits below the last full byte must be zero, or "QQ==" and "QR==" would
                 * both decode to "A". */
                if (pad == 2 ? (b & 0x0f) : (c & 0x03))
                        return -EBADMSG;
                out[o++] = (uint8_t) (a << 2 | b >> 4);
                if (pad == 1)
                        out[o++] = (uint8_t) (b << 4 | c >> 2);
        }
        *ret_size = o;
        return 0;
}

void base64_encode(const uint8_t *in, size_t size, char *out)
{
        size_t i = 0, o = 0;

        for (; i + 3 <= size; i += 3) {
                uint32_t q = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
                out[o++] = alphabet[q >> 18];
                out[o++] = alphabet[(q >> 12) & 0x3f];
                out[o++] = alphabet[(q >> 6) & 0x3f];
                out[o++] = alphabet[q & 0x3f];
        }
        if (i < size) {
                uint32_t q = (uint32_t) in[i] << 16;
                if (i + 1 < size)
                        q |= (uint32_t) in[i + 1] << 8;
                out[o++] = alphabet[q >> 18];
                out[o++] = alphabet[(q >> 12) & 0x3f];
                out[o++] = i + 1 < size ? alphabet[(q >> 6) & 0x3f] : '=';
                out[o++] = '=';
        }
        out[o] = '\0';
}

char *base64_encode_alloc(const uint8_t *in, size_t size)
{
        char *s = malloc(base64_encoded_size(size) + 1);

        if (s)
                base64_encode(in, size, s);
        return s;
}
