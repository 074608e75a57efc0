/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parser of systemd.verity_root_options=, with systemd-veritysetup's option names and
 * cryptsetup's limits, so a bad value stops the boot at parse time rather than at activation. */

#include "lib/parse-util.h"
#include "storage/verity-options.h"

static const char *const hash_names[_VERITY_HASH_MAX] = {
    [VERITY_HASH_SHA1] = "sha1",
    [VERITY_HASH_SHA256] = "sha256",
    [VERITY_HASH_SHA512] = "sha512",
};

static const size_t hash_sizes[_VERITY_HASH_MAX] = {
    [VERITY_HASH_SHA1] = 20,
    [VERITY_HASH_SHA256] = 32,
    [VERITY_HASH_SHA512] = 64,
};

const char *verity_hash_to_string(enum verity_hash h)
{
        if ((unsigned) h >= _VERITY_HASH_MAX)
                return NULL;
        return hash_names[h];
}

size_t verity_options_digest_size(const struct verity_options *o)
{
        if ((unsigned) o->hash >= _VERITY_HASH_MAX)
                return 0;
        return hash_sizes[o->hash];
}

void verity_options_init(struct verity_options *o)
{
        *o = (struct verity_options){
            .superblock = true,
            .format = 1,
            .data_block_size = VERITY_DEFAULT_BLOCK_SIZE,
            .hash_block_size = VERITY_DEFAULT_BLOCK_SIZE,
            .hash = VERITY_HASH_SHA256,
        };
}

typedef int (*option_parser)(struct verity_options *o, const char *name, const char *value,
                             char *errbuf, size_t errlen);

static int parse_superblock(struct verity_options *o, const char *name, const char *value,
                            char *errbuf, size_t errlen)
{
        int b = parse_boolean(value);

        if (b < 0)
                return parse_error(errbuf, errlen, -EINVAL, "%s= expects a boolean", name);
        o->superblock = b;
        o->set.superblock = true;
        return 0;
}

static int parse_format(struct verity_options *o, const char *name, const char *value, char *errbuf,
                        size_t errlen)
{
        if (!streq(value, "0") && !streq(value, "1"))
                return parse_error(errbuf, errlen, -EINVAL, "%s= must be 0 or 1", name);
        o->format = value[0] == '1';
        o->set.format = true;
        return 0;
}

static int parse_block_size(const char *name, const char *value, uint32_t *ret, char *errbuf,
                            size_t errlen)
{
        uint64_t v;

        if (parse_size(value, &v) < 0 || v < VERITY_BLOCK_SIZE_MIN || v > VERITY_BLOCK_SIZE_MAX ||
            (v & (v - 1)) != 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s= must be a power of two from %u to %u bytes", name,
                                   VERITY_BLOCK_SIZE_MIN, VERITY_BLOCK_SIZE_MAX);
        *ret = (uint32_t) v;
        return 0;
}

static int parse_data_block_size(struct verity_options *o, const char *name, const char *value,
                                 char *errbuf, size_t errlen)
{
        int r = parse_block_size(name, value, &o->data_block_size, errbuf, errlen);

        if (r < 0)
                return r;
        o->set.data_block_size = true;
        return 0;
}

static int parse_hash_block_size(struct verity_options *o, const char *name, const char *value,
                                 char *errbuf, size_t errlen)
{
        int r = parse_block_size(name, value, &o->hash_block_size, errbuf, errlen);

        if (r < 0)
                return r;
        o->set.hash_block_size = true;
        return 0;
}

static int parse_data_blocks(struct verity_options *o, const char *name, const char *value,
                             char *errbuf, size_t errlen)
{
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v == 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s= must be a positive decimal number of blocks", name);
        o->data_blocks = v;
        o->set.data_blocks = true;
        return 0;
}

static int parse_hash_offset(struct verity_options *o, const char *name, const char *value,
                             char *errbuf, size_t errlen)
{
        uint64_t v;

        if (parse_size(value, &v) < 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s= must be a size in bytes (suffix K, M, G or T allowed)",
                                   name);
        /* dm-verity addresses the hash area in 512-byte sectors */
        if (v % 512 != 0)
                return parse_error(errbuf, errlen, -EINVAL, "%s= must be a multiple of 512", name);
        o->hash_offset = v;
        o->set.hash_offset = true;
        return 0;
}

static int parse_salt(struct verity_options *o, const char *name, const char *value, char *errbuf,
                      size_t errlen)
{
        uint8_t salt[VERITY_SALT_MAX];
        size_t l = strlen(value);

        if (streq(value, "-")) {
                o->salt_size = 0;
                o->set.salt = true;
                return 0;
        }
        if (l == 0 || l % 2 != 0 || l / 2 > VERITY_SALT_MAX)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s= must be an even number of hex digits (at most %u "
                                   "bytes), or - for no salt",
                                   name, VERITY_SALT_MAX);
        for (size_t i = 0; i < l; i += 2) {
                char pair[3] = {value[i], value[i + 1], '\0'};

                if (!parse_is_hex_digit(pair[0]) || !parse_is_hex_digit(pair[1]))
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s= has a non-hex character at position %zu", name,
                                           parse_is_hex_digit(pair[0]) ? i + 2 : i + 1);
                salt[i / 2] = (uint8_t) strtoul(pair, NULL, 16);
        }
        memcpy(o->salt, salt, l / 2);
        o->salt_size = l / 2;
        o->set.salt = true;
        return 0;
}

static int parse_uuid_option(struct verity_options *o, const char *name, const char *value,
                             char *errbuf, size_t errlen)
{
        if (parse_uuid(value, o->uuid) < 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s= must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                                   name);
        o->set.uuid = true;
        return 0;
}

static int parse_hash(struct verity_options *o, const char *name, const char *value, char *errbuf,
                      size_t errlen)
{
        for (int h = 0; h < _VERITY_HASH_MAX; h++)
                if (streq(value, hash_names[h])) {
                        o->hash = (enum verity_hash) h;
                        o->set.hash = true;
                        return 0;
                }
        return parse_error(errbuf, errlen, -EINVAL, "%s= must be sha1, sha256 or sha512", name);
}

static int parse_flag(struct verity_options *o, const char *name, const char *value, char *errbuf,
                      size_t errlen)
{
        (void) value;
        (void) errbuf;
        (void) errlen;

        if (streq(name, "ignore-zero-blocks"))
                o->ignore_zero_blocks = true;
        else if (streq(name, "restart-on-corruption"))
                o->restart_on_corruption = true;
        else if (streq(name, "panic-on-corruption"))
                o->panic_on_corruption = true;
        else
                return -EINVAL;
        return 0;
}

static const struct verity_option {
        const char *name;
        bool takes_value;
        option_parser parse; /* NULL: refused with refuse_errno and refuse_why */
        int refuse_errno;
        const char *refuse_why;
} verity_option_table[] = {
    {"superblock", true, parse_superblock, 0, NULL},
    {"format", true, parse_format, 0, NULL},
    {"data-block-size", true, parse_data_block_size, 0, NULL},
    {"hash-block-size", true, parse_hash_block_size, 0, NULL},
    {"data-blocks", true, parse_data_blocks, 0, NULL},
    {"hash-offset", true, parse_hash_offset, 0, NULL},
    {"salt", true, parse_salt, 0, NULL},
    {"uuid", true, parse_uuid_option, 0, NULL},
    {"hash", true, parse_hash, 0, NULL},
    {"ignore-zero-blocks", false, parse_flag, 0, NULL},
    {"restart-on-corruption", false, parse_flag, 0, NULL},
    {"panic-on-corruption", false, parse_flag, 0, NULL},
    {"ignore-corruption", false, NULL, -EPERM, "is refused: it would let a tampered root boot"},
    /* dm-verity then checks a block on its first read only: a disk that answers that read
     * honestly and a later one, after the page cache dropped the block, with other bytes,
     * would get the tampered ones through unchecked. */
    {"check-at-most-once", false, NULL, -EPERM,
     "is refused: a hostile disk could serve good blocks first and tampered ones once the page "
     "cache dropped them"},
    {"root-hash-signature", true, NULL, -EOPNOTSUPP,
     "is not supported: the root hash is trusted because the UKI is measured"},
    {"fec-device", true, NULL, -EOPNOTSUPP,
     "is not supported in this version of nodegate (no forward error correction)"},
    {"fec-offset", true, NULL, -EOPNOTSUPP,
     "is not supported in this version of nodegate (no forward error correction)"},
    {"fec-roots", true, NULL, -EOPNOTSUPP,
     "is not supported in this version of nodegate (no forward error correction)"},
};

static int parse_item(struct verity_options *o, char *item, char *errbuf, size_t errlen)
{
        char shown[64];
        char *value = strchr(item, '=');

        if (value)
                *value++ = '\0';

        for (size_t i = 0; i < ELEMENTSOF(verity_option_table); i++) {
                const struct verity_option *opt = &verity_option_table[i];

                if (!streq(item, opt->name))
                        continue;
                if (!opt->parse)
                        return parse_error(errbuf, errlen, opt->refuse_errno, "%s %s", opt->name,
                                           opt->refuse_why);
                if (opt->takes_value && !value)
                        return parse_error(errbuf, errlen, -EINVAL, "%s needs a value (%s=...)",
                                           opt->name, opt->name);
                if (!opt->takes_value && value)
                        return parse_error(errbuf, errlen, -EINVAL, "%s takes no value", opt->name);
                return opt->parse(o, opt->name, value, errbuf, errlen);
        }
        if (!*item)
                return parse_error(errbuf, errlen, -EINVAL, "missing option name before '='");
        return parse_error(errbuf, errlen, -EINVAL, "unknown option %s",
                           parse_printable(shown, sizeof(shown), item));
}

static int check_combination(const struct verity_options *o, char *errbuf, size_t errlen)
{
        const struct {
                bool given;
                const char *name;
        } geometry[] = {
            {o->set.format, "format"},
            {o->set.data_block_size, "data-block-size"},
            {o->set.hash_block_size, "hash-block-size"},
            {o->set.data_blocks, "data-blocks"},
            {o->set.salt, "salt"},
            {o->set.uuid, "uuid"},
            {o->set.hash, "hash"},
        };

        if (o->restart_on_corruption && o->panic_on_corruption)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "restart-on-corruption and panic-on-corruption exclude each "
                                   "other");

        /* systemd ignores these next to a superblock; an operator who wrote them expects them
         * to count, so that mismatch is better reported than hidden. */
        for (size_t i = 0; o->superblock && i < ELEMENTSOF(geometry); i++)
                if (geometry[i].given)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "%s= needs superblock=no: with a superblock the "
                                           "on-disk header defines it",
                                           geometry[i].name);

        if (o->data_blocks > UINT64_MAX / o->data_block_size)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "data-blocks= times data-block-size= overflows 64 bits");
        return 0;
}

int verity_options_parse(const char *s, struct verity_options *ret, char *errbuf, size_t errlen)
{
        _cleanup_free_ char *copy = NULL;
        struct verity_options o;
        char *item, *next;
        int r;

        if (strlen(s) > VERITY_OPTIONS_MAX)
                return parse_error(errbuf, errlen, -E2BIG, "longer than %u bytes",
                                   VERITY_OPTIONS_MAX);

        verity_options_init(&o);
        if (*s) {
                copy = strdup(s);
                if (!copy)
                        return -ENOMEM;

                for (item = copy; item; item = next) {
                        next = strchr(item, ',');
                        if (next)
                                *next++ = '\0';
                        if (!*item)
                                return parse_error(errbuf, errlen, -EINVAL,
                                                   "empty option (stray comma)");
                        r = parse_item(&o, item, errbuf, errlen);
                        if (r < 0)
                                return r;
                }
        }

        r = check_combination(&o, errbuf, errlen);
        if (r < 0)
                return r;

        *ret = o;
        return 0;
}
