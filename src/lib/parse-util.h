/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small pure helpers shared by the parsers: words and quoting, numbers, booleans, hex, UUIDs,
 * and error messages that are safe to print on a console. None of them logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Long enough for any message a parser writes; callers may pass a shorter buffer. */
#define PARSE_ERRBUF_SIZE 256

/* "8-4-4-4-12" plus NUL */
#define UUID_STRING_SIZE 37

/* Formats a message into errbuf (when errbuf is not NULL and errlen > 0).
 * @return err, so that parsers can "return parse_error(errbuf, errlen, -EINVAL, …);" */
int parse_error(char *errbuf, size_t errlen, int err, const char *fmt, ...) _printf_(4, 5);

/* The kernel's ASCII isspace(): space, \t, \n, \v, \f, \r. Not locale dependent. */
bool parse_is_space(char c);

bool parse_is_hex_digit(char c);

/* Copies s into buf for an error message: non-printable bytes become \xNN, and a string longer
 * than the buffer allows is cut and marked with "...". Always NUL-terminates (n > 0).
 * @return buf */
const char *parse_printable(char *buf, size_t n, const char *s);

/* Extracts the next word of text[*pos..len): words are separated by parse_is_space()
 * characters; double quotes group whitespace into a word and are removed wherever they
 * appear, so both key="a b" and "key=a b" give the word key=a b. *pos advances past the word.
 * Offsets in messages are 0-based byte offsets from text.
 * @return 1 and a malloc'ed word in *ret_word, 0 at the end of text (nothing written),
 *         -EINVAL for an unterminated quote, -ENOMEM */
int parse_next_word(const char *text, size_t len, size_t *pos, char **ret_word, char *errbuf,
                    size_t errlen);

/* 1/yes/y/true/on and 0/no/n/false/off (lowercase, as systemd's parse_boolean()).
 * @return 1 or 0, or -EINVAL for anything else */
int parse_boolean(const char *s);

/* Decimal digits only: no sign, no whitespace, no prefix, no trailing characters.
 * @return 0 on success, -EINVAL on syntax, -ERANGE when it does not fit in 64 bits */
int parse_uint64(const char *s, uint64_t *ret);

/* Like parse_uint64() with an optional binary suffix K, M, G or T (1024-based), as systemd's
 * parse_size() reads verity sizes ("4K" = 4096).
 * @return 0 on success, -EINVAL on syntax, -ERANGE on overflow */
int parse_size(const char *s, uint64_t *ret);

/* Validates a UUID in the 8-4-4-4-12 hex form (either case) and writes it in lowercase.
 * @return 0 on success or -EINVAL */
int parse_uuid(const char *s, char ret[UUID_STRING_SIZE]);
