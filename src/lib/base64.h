/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 as docs/PROTOCOL.md has it: RFC 4648 §4, standard alphabet, padded, one line.
 * Decoding is strict, so that one byte string has exactly one accepted encoding. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Characters of the encoding of n bytes, without the NUL. */
size_t base64_encoded_size(size_t n);

/* Encodes n bytes into ret, which holds base64_encoded_size(n) + 1 bytes; NUL-terminated. */
void base64_encode(const uint8_t *in, size_t n, char *ret);

/* @return malloc'ed NUL-terminated encoding, or NULL when out of memory */
char *base64_encode_alloc(const uint8_t *in, size_t n);

/* Decodes len characters of s into buf (max bytes). Refuses characters outside the alphabet
 * (whitespace included), a length that is not a multiple of 4, misplaced padding and nonzero
 * padding bits. @return 0, -EBADMSG when s is not canonical base64, -EFBIG when the result
 * would exceed max; *ret_size is written only on success, buf's contents are undefined
 * after a failure */
int base64_decode(const char *s, size_t len, uint8_t *buf, size_t max, size_t *ret_size);

/* The same into a malloc'ed buffer. @return 0, -EBADMSG, -EFBIG or -ENOMEM */
int base64_decode_alloc(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_size);
