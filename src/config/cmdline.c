/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel command-line splitting; what each key means lives in settings-apply.c. */

#include "config/cmdline.h"
#include "lib/fileio.h"
#include "lib/parse-util.h"
#include "config/settings-apply.h"

int cmdline_parse(const char *text, size_t len, struct settings *s, char *errbuf, size_t errlen)
{
        _cleanup_(settings_done) struct settings t = {0};
        unsigned ip_given = 0;
        const char *nul;
        size_t pos = 0;
        int r;

        if (len > CMDLINE_MAX)
                return parse_error(errbuf, errlen, -E2BIG,
                                   "kernel command line is %zu bytes, more than the %u allowed",
                                   len, CMDLINE_MAX);
        /* A NUL would end the string early for some readers and not for others. */
        nul = len > 0 ? memchr(text, '\0', len) : NULL;
        if (nul)
                return parse_error(errbuf, errlen, -EINVAL, "NUL byte at offset %zu",
                                   (size_t) (nul - text));

        /* Work on a copy so that a bad word late in the line leaves s as it was. */
        r = settings_copy(s, &t);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_free_ char *word = NULL;
                char *value;

                r = parse_next_word(text, len, &pos, &word, errbuf, errlen);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                /* As the kernel does it: after "--" come init's arguments, none of ours. */
                if (streq(word, "--"))
                        break;

                value = strchr(word, '=');
                if (value)
                        *value++ = '\0';
                /* dracut reads each ip= as one more interface; nodegate configures one, so a
                 * second ip= is refused rather than silently replacing the first. */
                if (settings_key_is(word, "ip") && ip_given++ > 0)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: given more than once (nodegate configures one "
                                           "interface)",
                                           word);
                r = settings_apply(&t, word, value, false, errbuf, errlen);
                if (r < 0)
                        return r;
        }

        settings_done(s);
        *s = t;
        /* t's strings belong to s now; leave the cleanup nothing to free. */
        settings_init(&t);
        return 0;
}

int cmdline_failure_settings(const char *text, size_t len, int *ret_action, char **ret_tpm)
{
        _cleanup_(settings_done) struct settings scratch = {0};
        const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
        int action = -ENOENT;
        size_t pos = 0;

        if (nul)
                len = (size_t) (nul - text);
        if (len > CMDLINE_MAX)
                len = CMDLINE_MAX;
        settings_init(&scratch);

        for (;;) {
                _cleanup_free_ char *word = NULL;
                char *value, err[1];
                int r;

                r = parse_next_word(text, len, &pos, &word, NULL, 0);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0 || streq(word, "--"))
                        break;

                value = strchr(word, '=');
                if (!value)
                        continue;
                *value++ = '\0';
                /* Matched and checked by the same rules as settings_apply() uses. */
                if (settings_key_is(word, "nodegate.on_failure")) {
                        r = failure_action_from_string(value);
                        if (r >= 0)
                                action = r;
                } else if (settings_key_is(word, "nodegate.tpm")) {
                        r = settings_apply(&scratch, word, value, false, err, sizeof(err));
                        if (r == -ENOMEM)
                                return r;
                }
        }
        *ret_action = action;
        *ret_tpm = TAKE_PTR(scratch.tpm);
        return 0;
}

int cmdline_failure_action(const char *text, size_t len)
{
        _cleanup_free_ char *tpm = NULL;
        int action, r;

        r = cmdline_failure_settings(text, len, &action, &tpm);
        return r < 0 ? r : action;
}

int cmdline_read(const char *path, char **ret_text, size_t *ret_len)
{
        return read_file_bounded(path, CMDLINE_MAX, ret_text, ret_len);
}
