/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Turns a verity request into libcryptsetup calls; the library's messages are kept for the log
 * instead of being printed by it, so each failure is reported once, by the verity step. */
#include <libcryptsetup.h>
#include <stdio.h>

#include "lib/parse-util.h"
#include "util.h"
#include "storage/verity.h"

#define ROOTHASH_MAX 64U

struct message_sink {
        char *buf;
        size_t size;
};

static void keep_library_message(int level, const char *msg, void *userdata)
{
        struct message_sink *sink = userdata;
        size_t l;

        if (level != CRYPT_LOG_ERROR || !sink || !sink->buf || sink->size == 0)
                return;
        snprintf(sink->buf, sink->size, "%s", msg);
        l = strlen(sink->buf);
        while (l > 0 && sink->buf[l - 1] == '\n')
                sink->buf[--l] = 0;
}

static uint8_t hex_value(char c)
{
        return (uint8_t) (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

static int unhex_roothash(const char *hex, uint8_t *out, size_t *ret_size)
{
        size_t l = strlen(hex);

        if (l == 0 || l % 2 != 0 || l / 2 > ROOTHASH_MAX)
                return -EINVAL;
        for (size_t i = 0; i < l; i++)
                if (!parse_is_hex_digit(hex[i]))
                        return -EINVAL;
        for (size_t i = 0; i < l / 2; i++)
                out[i] = (uint8_t) (hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
        *ret_size = l / 2;
        return 0;
}

static void crypt_freep(struct crypt_device **cd)
{
        if (*cd)
                crypt_free(*cd);
}

/* Loads the superblock, or with superblock=no describes the geometry from the options. */
static int verity_prepare(const struct verity_request *req, uint32_t extra_flags,
                          struct message_sink *sink, struct crypt_device **ret_cd)
{
        const struct verity_options *o = req->options;
        struct crypt_device *cd = NULL;
        int r;

        crypt_set_log_callback(NULL, keep_library_message, sink);
        r = crypt_init_data_device(&cd, req->hash_node, req->data_node);
        if (r < 0)
                return r;
        crypt_set_log_callback(cd, keep_library_message, sink);

        if (o->superblock) {
                struct crypt_params_verity params = {
                    .hash_area_offset = o->hash_offset,
                    .flags = extra_flags,
                };
                r = crypt_load(cd, CRYPT_VERITY, &params);
        } else {
                struct crypt_params_verity params = {
                    .hash_name = verity_hash_to_string(o->hash),
                    .data_device = req->data_node,
                    .salt = (const char *) o->salt,
                    .salt_size = (uint32_t) o->salt_size,
                    .hash_type = o->format,
                    .data_block_size = o->data_block_size,
                    .hash_block_size = o->hash_block_size,
                    .data_size = o->data_blocks,
                    .hash_area_offset = o->hash_offset,
                    .flags = CRYPT_VERITY_NO_HEADER | extra_flags,
                };
                r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, o->uuid[0] ? o->uuid : NULL, NULL, 0,
                                 &params);
        }
        if (r < 0) {
                crypt_free(cd);
                return r;
        }
        *ret_cd = cd;
        return 0;
}

static uint32_t activation_flags(const struct verity_options *o)
{
        uint32_t flags = CRYPT_ACTIVATE_READONLY;

        if (o->ignore_zero_blocks)
                flags |= CRYPT_ACTIVATE_IGNORE_ZERO_BLOCKS;
        if (o->restart_on_corruption)
                flags |= CRYPT_ACTIVATE_RESTART_ON_CORRUPTION;
        if (o->panic_on_corruption)
                flags |= CRYPT_ACTIVATE_PANIC_ON_CORRUPTION;
        return flags;
}

static int verity_run(const struct verity_request *req, const char *name, uint32_t load_flags,
                      char *errbuf, size_t errlen)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct message_sink sink = {errbuf, errlen};
        uint8_t roothash[ROOTHASH_MAX];
        size_t roothash_size;
        int r, expected;

        if (errbuf && errlen)
                errbuf[0] = 0;
        if (!req || !req->data_node || !req->hash_node || !req->roothash_hex || !req->options)
                return -EINVAL;
        r = unhex_roothash(req->roothash_hex, roothash, &roothash_size);
        if (r < 0)
                return r;

        r = verity_prepare(req, load_flags, &sink, &cd);
        if (r < 0) {
                /* libcryptsetup reports a missing superblock only at debug level. */
                if (errbuf && errlen && !errbuf[0] && r == -EINVAL && req->options->superblock)
                        snprintf(errbuf, errlen,
                                 "no dm-verity superblock on %s at offset %llu (hash-offset=)",
                                 req->hash_node, (unsigned long long) req->options->hash_offset);
                goto finish;
        }

        /* For verity the "volume key" is the root hash; its size is the digest size of the
         * superblock's (or the options') hash algorithm. */
        expected = crypt_get_volume_key_size(cd);
        if (expected > 0 && (size_t) expected != roothash_size) {
                snprintf(errbuf, errlen, "root hash has %zu bytes, the hash algorithm needs %d",
                         roothash_size, expected);
                r = -EINVAL;
                goto finish;
        }

        r = crypt_activate_by_volume_key(cd, name, (const char *) roothash, roothash_size,
                                         activation_flags(req->options));
        /* libcryptsetup says -EFAULT for a root hash that does not match the tree (and
         * -EPERM for a corrupted block); to callers both mean "refused". */
        if (r == -EFAULT)
                r = -EPERM;
finish:
        explicit_bzero(roothash, sizeof(roothash));
        crypt_set_log_callback(NULL, NULL, NULL);
        return r;
}

int verity_activate(const struct verity_request *req, const char *name, char **ret_node,
                    char *errbuf, size_t errlen)
{
        char *node;
        int r;

        if (!name || !ret_node)
                return -EINVAL;
        r = verity_run(req, name, 0, errbuf, errlen);
        if (r < 0)
                return r;
        if (asprintf(&node, "/dev/mapper/%s", name) < 0)
                return -ENOMEM;
        *ret_node = node;
        return 0;
}

int verity_check(const struct verity_request *req, char *errbuf, size_t errlen)
{
        return verity_run(req, NULL, CRYPT_VERITY_CHECK_HASH, errbuf, errlen);
}

int verity_verify_active(const char *name, const char *roothash_hex, char **ret_node, char *errbuf,
                         size_t errlen)
{
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        struct message_sink sink = {errbuf, errlen};
        uint8_t want[ROOTHASH_MAX], have[ROOTHASH_MAX];
        size_t want_size, have_size = sizeof(have);
        const char *type;
        char *node = NULL;
        int r;

        if (errbuf && errlen)
                errbuf[0] = 0;
        if (!name || !roothash_hex || !ret_node)
                return -EINVAL;
        r = unhex_roothash(roothash_hex, want, &want_size);
        if (r < 0)
                return r;
        crypt_set_log_callback(NULL, keep_library_message, &sink);
        r = crypt_init_by_name(&cd, name);
        if (r < 0) {
                r = r == -ENODEV || r == -ENOENT ? -ENODEV : r;
                goto finish;
        }
        crypt_set_log_callback(cd, keep_library_message, &sink);
        type = crypt_get_type(cd);
        if (!type || !streq(type, CRYPT_VERITY)) {
                r = -EMEDIUMTYPE;
                goto finish;
        }
        /* For verity the "volume key" is the root hash the device was activated with. */
        r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *) have, &have_size, NULL, 0);
        if (r < 0)
                goto finish;
        if (have_size != want_size || memcmp(have, want, want_size) != 0) {
                r = -EPERM;
                goto finish;
        }
        if (asprintf(&node, "/dev/mapper/%s", name) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        *ret_node = node;
        r = 0;
finish:
        explicit_bzero(want, sizeof(want));
        explicit_bzero(have, sizeof(have));
        crypt_set_log_callback(NULL, NULL, NULL);
        return r;
}
