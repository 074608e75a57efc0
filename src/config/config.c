/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodegate.conf: line splitting, comments and UTF-8; the keys themselves are settings-apply.c's. */

#include "config/config.h"
#include "lib/fileio.h"
#include "lib/parse-util.h"
#include "config/settings-apply.h"

/* @return the offset of the first byte that is not part of valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid), or len when all of it is valid */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                unsigned char lo = 0x80, hi = 0xbf;
                size_t n;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        n = 1;
                else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        if (c == 0xe0)
                                lo = 0xa0; /* overlong */
                        if (c == 0xed)
                                hi = 0x9f; /* surrogates */
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        if (c == 0xf0)
                                lo = 0x90; /* overlong */
                        if (c == 0xf4)
                                hi = 0x8f; /* above U+10FFFF */
                } else
                        return i;

                if (len - i <= n)
                        return i;
                for (size_t k = 1; k <= n; k++) {
                        unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xbf;

                        if (s[i + k] < min || s[i + k] > max)
                                return i;
                }
                i += n + 1;
        }
        return len;
}

static unsigned line_of(const char *text, size_t offset)
{
        unsigned line = 1;

        for (size_t i = 0; i < offset; i++)
                if (text[i] == '\n')
                        line++;
        return line;
}

static int apply_line(struct settings *s, const char *line, size_t len, unsigned *ip_given,
                      char *errbuf, size_t errlen)
{
        _cleanup_free_ char *word = NULL, *extra = NULL;
        size_t pos = 0;
        char *value;
        int r;

        while (pos < len && parse_is_space(line[pos]))
                pos++;
        if (pos < len && line[pos] == '#')
                return 0;

        r = parse_next_word(line, len, &pos, &word, errbuf, errlen);
        if (r <= 0)
                return r;
        r = parse_next_word(line, len, &pos, &extra, errbuf, errlen);
        if (r < 0)
                return r;
        if (r > 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "more than one word on the line (quote a value that has "
                                   "spaces; comments go on a line of their own)");

        value = strchr(word, '=');
        if (value)
                *value++ = '\0';
        /* One interface, as on the command line (see cmdline_parse()). */
        if (settings_key_is(word, "ip") && (*ip_given)++ > 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: given more than once (nodegate configures one interface)",
                                   word);
        r = settings_apply(s, word, value, true, errbuf, errlen);
        return r < 0 ? r : 0;
}

int config_parse(const char *text, size_t len, struct settings *s, char *errbuf, size_t errlen)
{
        _cleanup_(settings_done) struct settings t = {0};
        char msg[PARSE_ERRBUF_SIZE];
        const char *nul;
        size_t bad, start = 0;
        unsigned line = 1, ip_given = 0;
        int r;

        if (len > CONFIG_MAX)
                return parse_error(errbuf, errlen, -E2BIG,
                                   "nodegate.conf: %zu bytes, more than the %u allowed", len,
                                   CONFIG_MAX);
        nul = len > 0 ? memchr(text, '\0', len) : NULL;
        if (nul)
                return parse_error(errbuf, errlen, -EINVAL, "nodegate.conf:%u: NUL byte",
                                   line_of(text, (size_t) (nul - text)));
        bad = utf8_invalid_at((const unsigned char *) text, len);
        if (bad < len)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "nodegate.conf:%u: invalid UTF-8 (byte 0x%02x)",
                                   line_of(text, bad), (unsigned char) text[bad]);

        /* Editors on some systems start UTF-8 files with a byte order mark. */
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                start = 3;

        r = settings_copy(s, &t);
        if (r < 0)
                return r;

        for (; start < len; line++) {
                const char *eol = memchr(text + start, '\n', len - start);
                size_t end = eol ? (size_t) (eol - text) : len;

                r = apply_line(&t, text + start, end - start, &ip_given, msg, sizeof(msg));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return parse_error(errbuf, errlen, r, "nodegate.conf:%u: %s", line, msg);
                start = end + 1;
        }

        settings_done(s);
        *s = t;
        /* t's strings belong to s now; leave the cleanup nothing to free. */
        settings_init(&t);
        return 0;
}

int config_load(const char *path, struct settings *s, char *errbuf, size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_file_bounded(path, CONFIG_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r == -E2BIG)
                return parse_error(errbuf, errlen, r, "%s: more than %u bytes", path, CONFIG_MAX);
        if (r < 0)
                return parse_error(errbuf, errlen, r, "cannot read %s: %s", path, strerror(-r));

        return config_parse(text, len, s, errbuf, errlen);
}
