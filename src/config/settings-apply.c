/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The keys of the kernel command line and nodegate.conf: one table, one value rule per key. */

#include <stdio.h>

#include "net/ip-config.h"
#include "storage/mount-options.h"
#include "lib/parse-util.h"
#include "config/settings-apply.h"
#include "attest/tpm.h"
#include "platform/detect.h"
#include "storage/verity-options.h"

#define ROOTHASH_MIN_DIGITS 40U  /* sha1 */
#define ROOTHASH_MAX_DIGITS 128U /* sha512 */

/* Room for a key or value quoted in a message, escaped and cut if need be. */
#define SHOWN_SIZE 80

typedef int (*key_applier)(struct settings *s, const char *key, const char *value, char *errbuf,
                           size_t errlen);

static int replace_string(char **field, const char *value)
{
        char *copy = NULL;

        if (value) {
                copy = strdup(value);
                if (!copy)
                        return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

static int apply_roothash(struct settings *s, const char *key, const char *value, char *errbuf,
                          size_t errlen)
{
        _cleanup_free_ char *hash = strdup(value);
        size_t l = strlen(value);

        if (!hash)
                return -ENOMEM;

        for (size_t i = 0; i < l; i++) {
                char c[2] = {value[i], '\0'}, shown[8];

                if (!parse_is_hex_digit(value[i]))
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: non-hex character '%s' at position %zu", key,
                                           parse_printable(shown, sizeof(shown), c), i + 1);
                if (hash[i] >= 'A' && hash[i] <= 'F')
                        hash[i] = (char) (hash[i] - 'A' + 'a');
        }
        if (l < ROOTHASH_MIN_DIGITS)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: too short (%zu hex digits, need at least %u)", key, l,
                                   ROOTHASH_MIN_DIGITS);
        if (l > ROOTHASH_MAX_DIGITS)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: too long (%zu hex digits, at most %u)", key, l,
                                   ROOTHASH_MAX_DIGITS);
        if (l % 2 != 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: odd length (%zu hex digits, a hash has whole bytes)", key,
                                   l);

        free(s->roothash);
        s->roothash = TAKE_PTR(hash);
        return 0;
}

static bool path_has_dotdot(const char *p)
{
        for (const char *c = p; (c = strstr(c, "..")); c += 2)
                if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
                        return true;
        return false;
}

/* Validates a device spec and returns it normalised in *ret (malloc'ed). */
static int parse_device(const char *key, const char *value, char **ret, char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE], uuid[UUID_STRING_SIZE];
        const char *p;

        if (strlen(value) > SETTINGS_DEVICE_MAX)
                return parse_error(errbuf, errlen, -EINVAL, "%s: longer than %u bytes", key,
                                   SETTINGS_DEVICE_MAX);

        if ((p = startswith(value, "/dev/"))) {
                if (!*p)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: names no device after /dev/", key);
                /* Leaving /dev through ".." would let a spec name any file as the device. */
                if (path_has_dotdot(value))
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: path must not contain \"..\"", key);
                *ret = strdup(value);
        } else if ((p = startswith(value, "PARTUUID=")) || (p = startswith(value, "UUID="))) {
                const char *tag = value[0] == 'P' ? "PARTUUID" : "UUID";

                if (parse_uuid(p, uuid) < 0)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: %s= must be a UUID "
                                           "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got '%s'",
                                           key, tag, parse_printable(shown, sizeof(shown), p));
                if (asprintf(ret, "%s=%s", tag, uuid) < 0)
                        return -ENOMEM;
                return 0;
        } else if ((p = startswith(value, "LABEL=")) || (p = startswith(value, "PARTLABEL="))) {
                const char *tag = value[0] == 'P' ? "PARTLABEL" : "LABEL";

                if (!*p)
                        return parse_error(errbuf, errlen, -EINVAL, "%s: empty %s=", key, tag);
                if (strlen(p) > SETTINGS_LABEL_MAX)
                        return parse_error(errbuf, errlen, -EINVAL, "%s: %s= longer than %u bytes",
                                           key, tag, SETTINGS_LABEL_MAX);
                *ret = strdup(value);
        } else
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: expected /dev/..., PARTUUID=, UUID=, LABEL= or "
                                   "PARTLABEL=, got '%s'",
                                   key, parse_printable(shown, sizeof(shown), value));

        return *ret ? 0 : -ENOMEM;
}

static int apply_verity_data(struct settings *s, const char *key, const char *value, char *errbuf,
                             size_t errlen)
{
        char *dev;
        int r = parse_device(key, value, &dev, errbuf, errlen);

        if (r < 0)
                return r;
        free(s->verity_data);
        s->verity_data = dev;
        return 0;
}

static int apply_verity_hash(struct settings *s, const char *key, const char *value, char *errbuf,
                             size_t errlen)
{
        char *dev;
        int r = parse_device(key, value, &dev, errbuf, errlen);

        if (r < 0)
                return r;
        free(s->verity_hash);
        s->verity_hash = dev;
        return 0;
}

static int apply_verity_options(struct settings *s, const char *key, const char *value,
                                char *errbuf, size_t errlen)
{
        struct verity_options o;
        char msg[PARSE_ERRBUF_SIZE];
        int r;

        /* Parsed here only to fail early; verity.c parses the stored string again. */
        r = verity_options_parse(value, &o, msg, sizeof(msg));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return parse_error(errbuf, errlen, r, "%s: %s", key, msg);

        /* An empty value resets to the defaults. */
        return replace_string(&s->verity_options, *value ? value : NULL);
}

static int apply_rootfstype(struct settings *s, const char *key, const char *value, char *errbuf,
                            size_t errlen)
{
        /* Only these filesystems are built into the initramfs. */
        static const char *const known[] = {"erofs", "squashfs", "ext4"};
        char shown[SHOWN_SIZE];

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(value, known[i]))
                        return replace_string(&s->rootfstype, value);

        return parse_error(errbuf, errlen, -EINVAL,
                           "%s: expected erofs, squashfs or ext4, got '%s'", key,
                           parse_printable(shown, sizeof(shown), value));
}

static int apply_rootflags(struct settings *s, const char *key, const char *value, char *errbuf,
                           size_t errlen)
{
        char msg[PARSE_ERRBUF_SIZE];
        int r;

        r = mount_options_parse(value, NULL, NULL, msg, sizeof(msg));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return parse_error(errbuf, errlen, r, "%s: %s", key, msg);

        return replace_string(&s->rootflags, *value ? value : NULL);
}

/* A boolean key without "=" means yes, as systemd reads systemd.verity. */
static int parse_bool_key(const char *key, const char *value, char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE];
        int b;

        if (!value)
                return 1;
        b = parse_boolean(value);
        if (b < 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: expected a boolean (1, yes, y, true, on, 0, no, n, "
                                   "false, off), got '%s'",
                                   key, parse_printable(shown, sizeof(shown), value));
        return b;
}

static int apply_verity_enabled(struct settings *s, const char *key, const char *value,
                                char *errbuf, size_t errlen)
{
        int b = parse_bool_key(key, value, errbuf, errlen);

        if (b < 0)
                return b;
        s->verity_enabled = b;
        return 0;
}

static int apply_debug(struct settings *s, const char *key, const char *value, char *errbuf,
                       size_t errlen)
{
        int b = parse_bool_key(key, value, errbuf, errlen);

        if (b < 0)
                return b;
        s->debug = b;
        return 0;
}

static int apply_on_failure(struct settings *s, const char *key, const char *value, char *errbuf,
                            size_t errlen)
{
        char shown[SHOWN_SIZE];
        int a = failure_action_from_string(value);

        if (a < 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: expected halt, poweroff, reboot or shell, got '%s'", key,
                                   parse_printable(shown, sizeof(shown), value));
        s->on_failure = (enum failure_action) a;
        return 0;
}

static int apply_timeout(struct settings *s, const char *key, const char *value, char *errbuf,
                         size_t errlen)
{
        char shown[SHOWN_SIZE];
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v < 1 || v > SETTINGS_MAX_TIMEOUT_SEC)
                return parse_error(
                    errbuf, errlen, -EINVAL, "%s: expected whole seconds from 1 to %u, got '%s'",
                    key, SETTINGS_MAX_TIMEOUT_SEC, parse_printable(shown, sizeof(shown), value));
        s->timeout_sec = (unsigned) v;
        return 0;
}

/* init= names the program the gate hands PID 1 to, inside the new root (as systemd does). */
static int apply_init(struct settings *s, const char *key, const char *value, char *errbuf,
                      size_t errlen)
{
        char shown[SHOWN_SIZE];

        if (value[0] != '/')
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: expected an absolute path, got '%s'", key,
                                   parse_printable(shown, sizeof(shown), value));
        if (path_has_dotdot(value))
                return parse_error(errbuf, errlen, -EINVAL, "%s: path must not contain \"..\"",
                                   key);
        if (strlen(value) > SETTINGS_INIT_MAX)
                return parse_error(errbuf, errlen, -EINVAL, "%s: longer than %u bytes", key,
                                   SETTINGS_INIT_MAX);
        return replace_string(&s->init, value);
}

/* ip=: parsed here to fail early, stored as written; the network step parses it again. */
static int apply_ip(struct settings *s, const char *key, const char *value, char *errbuf,
                    size_t errlen)
{
        char msg[PARSE_ERRBUF_SIZE];
        struct ip_config c;
        int r;

        r = ip_config_parse(value, &c, msg, sizeof(msg));
        if (r < 0)
                return parse_error(errbuf, errlen, r, "%s: %s", key, msg);
        /* ip=off overrides an ip= of nodegate.conf: no network, as when none was given. */
        return replace_string(&s->ip, c.method == IP_CONFIG_OFF ? NULL : value);
}

/* nodegate.url=: the verifier's base URL; the gate appends /v2/challenge and /v2/attest. Only
 * https, and none of the URL parts that would change what those paths mean or leak into logs
 * (user info, query, fragment). */
static int apply_url(struct settings *s, const char *key, const char *value, char *errbuf,
                     size_t errlen)
{
        char shown[SHOWN_SIZE];
        const char *host = startswith(value, "https://");
        size_t l = strlen(value);

        parse_printable(shown, sizeof(shown), value);
        if (!host)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: the verifier is reached over https:// only, got '%s'", key,
                                   shown);
        if (l > SETTINGS_URL_MAX)
                return parse_error(errbuf, errlen, -EINVAL, "%s: longer than %u bytes", key,
                                   SETTINGS_URL_MAX);
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char) value[i];

                if (c <= 0x20 || c >= 0x7f || strchr("\"\\<>`{}|^", c))
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: character not allowed in a URL at position %zu",
                                           key, i + 1);
                if (strchr("?#@", c))
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: no user info, query or fragment ('%c' at "
                                           "position %zu)",
                                           key, c, i + 1);
        }
        if (*host == '\0' || *host == '/' || *host == ':')
                return parse_error(errbuf, errlen, -EINVAL, "%s: no host in '%s'", key, shown);
        return replace_string(&s->url, value);
}

static int parse_path(const char *key, const char *value, const char *prefix, size_t max,
                      char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE];

        if (!startswith(value, prefix) || streq(value, prefix))
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s: expected a path below %s, got '%s'", key, prefix,
                                   parse_printable(shown, sizeof(shown), value));
        if (path_has_dotdot(value))
                return parse_error(errbuf, errlen, -EINVAL, "%s: path must not contain \"..\"",
                                   key);
        if (strlen(value) > max)
                return parse_error(errbuf, errlen, -EINVAL, "%s: longer than %zu bytes", key, max);
        for (const char *p = value; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s: control character in the path", key);
        return 0;
}

/* nodegate.ca=: the one CA bundle trusted for the verifier, a file of the initramfs. */
static int apply_ca(struct settings *s, const char *key, const char *value, char *errbuf,
                    size_t errlen)
{
        int r = parse_path(key, value, "/", SETTINGS_PATH_MAX, errbuf, errlen);

        return r < 0 ? r : replace_string(&s->ca, value);
}

static int apply_tpm(struct settings *s, const char *key, const char *value, char *errbuf,
                     size_t errlen)
{
        int r = parse_path(key, value, "/dev/", SETTINGS_TPM_DEVICE_MAX, errbuf, errlen);

        return r < 0 ? r : replace_string(&s->tpm, value);
}

/* nodegate.ek=: the names of tpm_ek_type_from_string(), which lives with the TSS in tpm.c. */
static int apply_ek(struct settings *s, const char *key, const char *value, char *errbuf,
                    size_t errlen)
{
        static const char *const names[_TPM_EK_TYPE_MAX] = {
            [TPM_EK_AUTO] = "auto",
            [TPM_EK_ECC_P256] = "ecc256",
            [TPM_EK_ECC_P384] = "ecc384",
            [TPM_EK_RSA_2048] = "rsa2048",
        };
        char shown[SHOWN_SIZE];

        for (unsigned i = 0; i < _TPM_EK_TYPE_MAX; i++)
                if (streq(value, names[i])) {
                        s->ek_type = i;
                        return 0;
                }
        return parse_error(errbuf, errlen, -EINVAL,
                           "%s: expected auto, ecc256, ecc384 or rsa2048, got '%s'", key,
                           parse_printable(shown, sizeof(shown), value));
}

/* nodegate.platform=: detection is the default; the override is for tests and odd clouds. */
static int apply_platform(struct settings *s, const char *key, const char *value, char *errbuf,
                          size_t errlen)
{
        char shown[SHOWN_SIZE];
        int r = platform_setting_from_string(value);

        if (r < 0)
                return parse_error(
                    errbuf, errlen, -EINVAL,
                    "%s: expected none, azure-snp, snp, tdx, azure-tdx or auto, got '%s'", key,
                    parse_printable(shown, sizeof(shown), value));
        s->platform = (unsigned) r;
        return 0;
}

static const struct settings_key {
        const char *name; /* canonical spelling, with "_" */
        bool needs_value;
        bool empty_ok; /* "key=" is valid and resets the setting */
        key_applier apply;
} settings_key_table[] = {
    {"roothash", true, false, apply_roothash},
    {"systemd.verity_root_data", true, false, apply_verity_data},
    {"systemd.verity_root_hash", true, false, apply_verity_hash},
    {"systemd.verity_root_options", true, true, apply_verity_options},
    {"rootfstype", true, false, apply_rootfstype},
    {"rootflags", true, true, apply_rootflags},
    {"systemd.verity", false, false, apply_verity_enabled},
    {"nodegate.on_failure", true, false, apply_on_failure},
    {"nodegate.timeout", true, false, apply_timeout},
    {"nodegate.debug", false, false, apply_debug},
    {"init", true, false, apply_init},
    {"ip", true, false, apply_ip},
    {"nodegate.url", true, false, apply_url},
    {"nodegate.ca", true, false, apply_ca},
    {"nodegate.tpm", true, false, apply_tpm},
    {"nodegate.ek", true, false, apply_ek},
    {"nodegate.platform", true, false, apply_platform},
};

/* The kernel and systemd treat "-" and "_" in parameter names as the same character. */
static bool key_equal(const char *a, const char *b)
{
        for (; *a && *b; a++, b++) {
                char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

                if (x != y)
                        return false;
        }
        return *a == *b;
}

static const char *strip_rd(const char *key)
{
        const char *name = startswith(key, "rd.");

        return name ? name : key;
}

bool settings_key_is(const char *key, const char *canonical)
{
        return key_equal(strip_rd(key), canonical);
}

int settings_apply(struct settings *s, const char *key, const char *value, bool strict,
                   char *errbuf, size_t errlen)
{
        const char *name = strip_rd(key);
        char shown[SHOWN_SIZE];
        int r;

        parse_printable(shown, sizeof(shown), key);

        for (size_t i = 0; i < ELEMENTSOF(settings_key_table); i++) {
                const struct settings_key *k = &settings_key_table[i];

                if (!key_equal(name, k->name))
                        continue;
                if (k->needs_value && !value)
                        return parse_error(errbuf, errlen, -EINVAL, "%s: needs a value (%s=...)",
                                           shown, shown);
                if (k->needs_value && !k->empty_ok && !*value)
                        return parse_error(errbuf, errlen, -EINVAL, "%s: empty value", shown);
                r = k->apply(s, shown, value, errbuf, errlen);
                return r < 0 ? r : 1;
        }

        if (strict && !*key)
                return parse_error(errbuf, errlen, -EINVAL, "missing key before '='");
        /* Our own namespace is closed: a typo there must not silently drop a setting. */
        if (strict || startswith(name, "nodegate."))
                return parse_error(errbuf, errlen, -EINVAL, "unknown key %s", shown);
        return 0;
}

int settings_copy(const struct settings *s, struct settings *ret)
{
        struct settings c = *s;
        char **fields[] = {&c.roothash,   &c.verity_data, &c.verity_hash, &c.verity_options,
                           &c.rootfstype, &c.rootflags,   &c.init,        &c.ip,
                           &c.url,        &c.ca,          &c.tpm};
        bool failed = false;

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (*fields[i]) {
                        *fields[i] = failed ? NULL : strdup(*fields[i]);
                        failed = failed || !*fields[i];
                }
        if (failed) {
                settings_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}
