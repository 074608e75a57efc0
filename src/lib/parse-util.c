/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure helpers shared by the command-line, config, verity and mount option parsers. */

#include <stdarg.h>
#include <stdio.h>

#include "lib/parse-util.h"

int parse_error(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
        if (errbuf && errlen > 0) {
                va_list ap;

                va_start(ap, fmt);
                (void) vsnprintf(errbuf, errlen, fmt, ap);
                va_end(ap);
        }
        return err;
}

bool parse_is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool parse_is_hex_digit(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

const char *parse_printable(char *buf, size_t n, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        if (n == 0)
                return buf;

        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                /* Values reach the console: never let one carry escape sequences there. */
                size_t need = (c < 0x20 || c >= 0x7f) ? 4 : 1;

                if (o + need + 3 >= n) {
                        /* Only mark a cut when something was actually left out. */
                        if (o + 3 < n) {
                                memcpy(buf + o, "...", 3);
                                o += 3;
                        }
                        break;
                }
                if (need == 4) {
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        buf[o++] = hex[c >> 4];
                        buf[o++] = hex[c & 0xf];
                } else
                        buf[o++] = (char) c;
        }
        buf[o] = '\0';
        return buf;
}

int parse_next_word(const char *text, size_t len, size_t *pos, char **ret_word, char *errbuf,
                    size_t errlen)
{
        size_t i = *pos, start, end, n = 0, quote_start = 0;
        bool quoted = false;
        char *word;

        while (i < len && parse_is_space(text[i]))
                i++;
        if (i >= len) {
                *pos = i;
                return 0;
        }

        /* Find the end first, so that the word gets its own size, not the rest of the text. */
        for (start = end = i; end < len; end++) {
                if (text[end] == '"') {
                        if (!quoted)
                                quote_start = end;
                        quoted = !quoted;
                } else if (!quoted && parse_is_space(text[end]))
                        break;
        }
        if (quoted)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "unterminated quote starting at offset %zu", quote_start);

        word = malloc(end - start + 1);
        if (!word)
                return -ENOMEM;
        for (i = start; i < end; i++)
                if (text[i] != '"')
                        word[n++] = text[i];
        word[n] = '\0';

        *pos = end;
        *ret_word = word;
        return 1;
}

int parse_boolean(const char *s)
{
        static const char *const yes[] = {"1", "yes", "y", "true", "on"};
        static const char *const no[] = {"0", "no", "n", "false", "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(s, yes[i]))
                        return 1;
                if (streq(s, no[i]))
                        return 0;
        }
        return -EINVAL;
}

int parse_uint64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                unsigned d;

                if (*s < '0' || *s > '9')
                        return -EINVAL;
                d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
        static const struct {
                char suffix;
                unsigned shift;
        } suffixes[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};
        _cleanup_free_ char *digits = NULL;
        size_t l = strlen(s);
        unsigned shift = 0;
        uint64_t v;
        int r;

        if (l == 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (s[l - 1] == suffixes[i].suffix) {
                        shift = suffixes[i].shift;
                        l--;
                        break;
                }

        digits = strndup(s, l);
        if (!digits)
                return -ENOMEM;
        r = parse_uint64(digits, &v);
        if (r < 0)
                return r;
        if (shift > 0 && v > (UINT64_MAX >> shift))
                return -ERANGE;

        *ret = v << shift;
        return 0;
}

int parse_uuid(const char *s, char ret[UUID_STRING_SIZE])
{
        char buf[UUID_STRING_SIZE];

        if (strlen(s) != UUID_STRING_SIZE - 1)
                return -EINVAL;
        for (size_t i = 0; i < UUID_STRING_SIZE - 1; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !parse_is_hex_digit(s[i]))
                        return -EINVAL;
                buf[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char) (s[i] - 'A' + 'a') : s[i];
        }
        buf[UUID_STRING_SIZE - 1] = '\0';
        memcpy(ret, buf, sizeof(buf));
        return 0;
}
