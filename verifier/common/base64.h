/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 as docs/PROTOCOL.md sends binary fields: RFC 4648 §4, standard alphabet, padding
 * required, no whitespace, one canonical encoding per byte string. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode() writes for size bytes, without the NUL. */
static inline size_t base64_encoded_size(size_t size)
{
        return (size + 2) / 3 * 4;
}

/* Bytes that len characters of padded base64 decode to at most. */
static inline size_t base64_decoded_max(size_t len)
{
        return len / 4 * 3;
}

/* Decodes the len characters at in into out (room for max bytes). Refuses a length that is not
 * a multiple of 4, any character outside the alphabet (whitespace, NUL, URL-safe '-' '_'),
 * padding anywhere but at the end, and pad bits that are not zero — so each byte string has
 * exactly one accepted encoding.
 * @return 0 and the decoded size in *ret_size; -EBADMSG (not canonical base64) or -EMSGSIZE
 * (decodes to more than max) */
int base64_decode(const char *in, size_t len, uint8_t *out, size_t max, size_t *ret_size);

/* Writes base64_encoded_size(size) characters and a NUL to out, which must have room for them. */
void base64_encode(const uint8_t *in, size_t size, char *out);

/* The same, into a new string. @return malloc'ed string or NULL */
char *base64_encode_alloc(const uint8_t *in, size_t size);
