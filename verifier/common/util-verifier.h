/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers the verifier's files share beyond src/util.h: an error message for the caller's
 * buffer, lowercase hex both ways, the "0".."23" spelling of a PCR, and libc cleanups. */
#pragma once

#include "util.h"

#include <dirent.h>
#include <stdint.h>

/* Formats a message into err (when err and errlen allow) and returns r, so a loader can
 * `return set_error(err, errlen, -EINVAL, "…")`. */
static inline _printf_(4, 5) int set_error(char *err, size_t errlen, int r, const char *fmt, ...)
{
        va_list ap;

        if (err && errlen > 0) {
                va_start(ap, fmt);
                (void) vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* 2n lowercase hex digits and a NUL into ret. */
static inline void hex_encode(const uint8_t *p, size_t n, char *ret)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = digits[p[i] >> 4];
                ret[2 * i + 1] = digits[p[i] & 0xf];
        }
        ret[2 * n] = '\0';
}

static inline int hex_lower_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* A hex digit of either case (certificate extensions, Intel's collateral). @return 0-15 or -1 */
static inline int hex_value(char c)
{
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return hex_lower_value(c);
}

/* Whether the 48-byte digest d is one of the n of list (a policy's measurement allowlists). */
static inline bool digest48_on_list(const uint8_t (*list)[48], size_t n, const uint8_t d[48])
{
        for (size_t i = 0; i < n; i++)
                if (memcmp(list[i], d, 48) == 0)
                        return true;
        return false;
}

/* Exactly 2 * size lowercase hex digits, as docs/PROTOCOL.md and the policy write digests.
 * @return 0 or -EINVAL */
static inline int unhex_lower(const char *s, size_t len, uint8_t *out, size_t size)
{
        if (len != 2 * size)
                return -EINVAL;
        for (size_t i = 0; i < size; i++) {
                int hi = hex_lower_value(s[2 * i]), lo = hex_lower_value(s[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

/* A PCR as a JSON key: "0" to "23" exactly as %u prints it (n_pcrs of them). "04", "+4" or
 * " 4" would be a second spelling of one PCR. @return 0 or -EINVAL */
static inline int pcr_key_parse(const char *key, unsigned n_pcrs, unsigned *ret)
{
        size_t len = strlen(key);
        unsigned n = 0;

        if (len == 0 || len > 2 || (len == 2 && key[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (key[i] < '0' || key[i] > '9')
                        return -EINVAL;
                n = n * 10 + (unsigned) (key[i] - '0');
        }
        if (n >= n_pcrs)
                return -EINVAL;
        *ret = n;
        return 0;
}

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
