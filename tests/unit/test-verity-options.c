/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verity_options_parse(): systemd.verity_root_options= values, one row per input with the
 * options it sets (or the exact error) beside it. */

#include <stdio.h>

#include "lib/parse-util.h"
#include "storage/verity-options.h"

/* After our headers: cmocka defines a fail() macro that would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "row-check.h"

#define UUID_L "6c1c0b5a-1f2e-4d3c-8b9a-0e1f2a3b4c5d"
#define UUID_U "6C1C0B5A-1F2E-4D3C-8B9A-0E1F2A3B4C5D"
#define NOSB   "superblock=no,"
/* dm-verity would check each block on its first read only: a disk that answers the first read
 * honestly and a later one (after the page cache dropped the block) with tampered bytes wins. */
#define MOST_ONCE                                                                                  \
        "check-at-most-once is refused: a hostile disk could serve good blocks first and "         \
        "tampered ones once the page cache dropped them"

struct row {
        const char *input;
        int ret;
        const char *expect; /* ret == 0: options_dump(); otherwise the exact error message */
};

static const struct row rows[] = {
    {"", 0, ""},

    /* superblock= and the geometry options that need superblock=no */
    {"superblock=no", 0, "superblock=0"},
    {"superblock=yes", 0, "superblock=1"},
    {"superblock=0,superblock=true", 0, "superblock=1"},
    {"superblock=maybe", -EINVAL, "superblock= expects a boolean"},
    {"hash=sha512", -EINVAL,
     "hash= needs superblock=no: with a superblock the on-disk header defines it"},
    {"salt=-", -EINVAL,
     "salt= needs superblock=no: with a superblock the on-disk header defines it"},
    {"superblock=no,format=1,superblock=yes", -EINVAL,
     "format= needs superblock=no: with a superblock the on-disk header defines it"},
    {"data-block-size=4096", -EINVAL,
     "data-block-size= needs superblock=no: with a superblock the on-disk header defines "
     "it"},
    {"uuid=" UUID_L, -EINVAL,
     "uuid= needs superblock=no: with a superblock the on-disk header defines it"},

    /* format= */
    {NOSB "format=0", 0, "superblock=0 format=0"},
    {NOSB "format=1", 0, "superblock=0 format=1"},
    {NOSB "format=2", -EINVAL, "format= must be 0 or 1"},
    {NOSB "format=", -EINVAL, "format= must be 0 or 1"},

    /* block sizes: powers of two, cryptsetup's 512..512K */
    {NOSB "data-block-size=512,hash-block-size=512K", 0,
     "superblock=0 data-block-size=512 hash-block-size=524288"},
    {NOSB "data-block-size=4K,hash-block-size=1024", 0,
     "superblock=0 data-block-size=4096 hash-block-size=1024"},
    {NOSB "data-block-size=256", -EINVAL,
     "data-block-size= must be a power of two from 512 to 524288 bytes"},
    {NOSB "data-block-size=1M", -EINVAL,
     "data-block-size= must be a power of two from 512 to 524288 bytes"},
    {NOSB "hash-block-size=3000", -EINVAL,
     "hash-block-size= must be a power of two from 512 to 524288 bytes"},
    {NOSB "hash-block-size=4k", -EINVAL,
     "hash-block-size= must be a power of two from 512 to 524288 bytes"},
    {NOSB "hash-block-size=0x1000", -EINVAL,
     "hash-block-size= must be a power of two from 512 to 524288 bytes"},

    /* data-blocks= */
    {NOSB "data-blocks=1000", 0, "superblock=0 data-blocks=1000"},
    {NOSB "data-blocks=0", -EINVAL, "data-blocks= must be a positive decimal number of blocks"},
    {NOSB "data-blocks=-1", -EINVAL, "data-blocks= must be a positive decimal number of blocks"},
    {NOSB "data-blocks=1K", -EINVAL, "data-blocks= must be a positive decimal number of blocks"},
    {NOSB "data-blocks=18446744073709551616", -EINVAL,
     "data-blocks= must be a positive decimal number of blocks"},
    {NOSB "data-blocks=4503599627370496", -EINVAL,
     "data-blocks= times data-block-size= overflows 64 bits"},
    {NOSB "data-blocks=4503599627370495", 0, "superblock=0 data-blocks=4503599627370495"},

    /* hash-offset=, valid with or without a superblock */
    {"hash-offset=4096", 0, "hash-offset=4096"},
    {"hash-offset=1M", 0, "hash-offset=1048576"},
    {"hash-offset=0", 0, "hash-offset=0"},
    {"hash-offset=1000", -EINVAL, "hash-offset= must be a multiple of 512"},
    {"hash-offset=x", -EINVAL,
     "hash-offset= must be a size in bytes (suffix K, M, G or T allowed)"},
    {"hash-offset=16777216T", -EINVAL,
     "hash-offset= must be a size in bytes (suffix K, M, G or T allowed)"},

    /* salt= */
    {NOSB "salt=-", 0, "superblock=0 salt=-"},
    {NOSB "salt=00ff", 0, "superblock=0 salt=00ff"},
    {NOSB "salt=ABCDEF01", 0, "superblock=0 salt=abcdef01"},
    {NOSB "salt=abc", -EINVAL,
     "salt= must be an even number of hex digits (at most 256 bytes), or - for no salt"},
    {NOSB "salt=", -EINVAL,
     "salt= must be an even number of hex digits (at most 256 bytes), or - for no salt"},
    {NOSB "salt=zz", -EINVAL, "salt= has a non-hex character at position 1"},
    {NOSB "salt=0g", -EINVAL, "salt= has a non-hex character at position 2"},
    {NOSB "salt=00112g", -EINVAL, "salt= has a non-hex character at position 6"},

    /* uuid= */
    {NOSB "uuid=" UUID_U, 0, "superblock=0 uuid=" UUID_L},
    {NOSB "uuid=not-a-uuid", -EINVAL,
     "uuid= must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"},

    /* hash= */
    {NOSB "hash=sha1", 0, "superblock=0 hash=sha1"},
    {NOSB "hash=sha256", 0, "superblock=0 hash=sha256"},
    {NOSB "hash=sha1,hash=sha512", 0, "superblock=0 hash=sha512"},
    {NOSB "hash=SHA256", -EINVAL, "hash= must be sha1, sha256 or sha512"},
    {NOSB "hash=md5", -EINVAL, "hash= must be sha1, sha256 or sha512"},
    {NOSB "hash", -EINVAL, "hash needs a value (hash=...)"},

    /* flags */
    {"ignore-zero-blocks", 0, "ignore-zero-blocks"},
    {"restart-on-corruption", 0, "restart-on-corruption"},
    {"panic-on-corruption,panic-on-corruption", 0, "panic-on-corruption"},
    {"restart-on-corruption,panic-on-corruption", -EINVAL,
     "restart-on-corruption and panic-on-corruption exclude each other"},
    {"ignore-zero-blocks=1", -EINVAL, "ignore-zero-blocks takes no value"},

    /* refused */
    {"check-at-most-once", -EPERM, MOST_ONCE},
    {"panic-on-corruption,check-at-most-once", -EPERM, MOST_ONCE},
    {"check-at-most-once=", -EPERM, MOST_ONCE},
    {"ignore-corruption", -EPERM,
     "ignore-corruption is refused: it would let a tampered root boot"},
    {"panic-on-corruption,ignore-corruption", -EPERM,
     "ignore-corruption is refused: it would let a tampered root boot"},
    {"ignore-corruption=1", -EPERM,
     "ignore-corruption is refused: it would let a tampered root boot"},
    {"root-hash-signature=/etc/roothash.p7s", -EOPNOTSUPP,
     "root-hash-signature is not supported: the root hash is trusted because the UKI is "
     "measured"},
    {"fec-device=/dev/vdc", -EOPNOTSUPP,
     "fec-device is not supported in this version of nodegate (no forward error "
     "correction)"},
    {"fec-offset=0", -EOPNOTSUPP,
     "fec-offset is not supported in this version of nodegate (no forward error "
     "correction)"},
    {"fec-roots=2", -EOPNOTSUPP,
     "fec-roots is not supported in this version of nodegate (no forward error correction)"},

    /* syntax */
    {",", -EINVAL, "empty option (stray comma)"},
    {"panic-on-corruption,,check-at-most-once", -EINVAL, "empty option (stray comma)"},
    {",panic-on-corruption", -EINVAL, "empty option (stray comma)"},
    {"panic-on-corruption,", -EINVAL, "empty option (stray comma)"},
    {"frobnicate", -EINVAL, "unknown option frobnicate"},
    {"data_block_size=4096", -EINVAL, "unknown option data_block_size"},
    {"Hash=sha1", -EINVAL, "unknown option Hash"},
    {"=x", -EINVAL, "missing option name before '='"},
    {"\x1b[31m", -EINVAL, "unknown option \\x1b[31m"},
    {"superblock=no hash=sha1", -EINVAL, "superblock= expects a boolean"},

    /* a full headerless description, as veritysetup --no-superblock would take it */
    {"superblock=no,format=1,data-block-size=4096,hash-block-size=4096,data-blocks=2048,"
     "hash-offset=8388608,salt=5eed,uuid=" UUID_L ",hash=sha256,panic-on-corruption",
     0,
     "superblock=0 format=1 data-block-size=4096 hash-block-size=4096 data-blocks=2048 "
     "hash-offset=8388608 salt=5eed uuid=" UUID_L " hash=sha256 panic-on-corruption"},
};

static void add(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void add(char *buf, size_t size, const char *fmt, ...)
{
        size_t l = strlen(buf);
        va_list ap;

        if (l > 0 && l + 1 < size) {
                buf[l++] = ' ';
                buf[l] = '\0';
        }
        va_start(ap, fmt);
        vsnprintf(buf + l, size - l, fmt, ap);
        va_end(ap);
}

/* The options that were set, in a fixed order; the unset ones must hold the defaults. */
static const char *options_dump(const struct verity_options *o, char *buf, size_t size)
{
        struct verity_options d;

        verity_options_init(&d);
        buf[0] = '\0';
        if (o->set.superblock)
                add(buf, size, "superblock=%d", o->superblock);
        else
                assert_int_equal(o->superblock, d.superblock);
        if (o->set.format)
                add(buf, size, "format=%u", o->format);
        else
                assert_int_equal(o->format, d.format);
        if (o->set.data_block_size)
                add(buf, size, "data-block-size=%u", o->data_block_size);
        else
                assert_int_equal(o->data_block_size, d.data_block_size);
        if (o->set.hash_block_size)
                add(buf, size, "hash-block-size=%u", o->hash_block_size);
        else
                assert_int_equal(o->hash_block_size, d.hash_block_size);
        if (o->set.data_blocks)
                add(buf, size, "data-blocks=%llu", (unsigned long long) o->data_blocks);
        else
                assert_int_equal(o->data_blocks, 0);
        if (o->set.hash_offset)
                add(buf, size, "hash-offset=%llu", (unsigned long long) o->hash_offset);
        else
                assert_int_equal(o->hash_offset, 0);
        if (o->set.salt) {
                char hex[2 * VERITY_SALT_MAX + 1] = "-";

                for (size_t i = 0; i < o->salt_size; i++)
                        snprintf(hex + 2 * i, 3, "%02x", o->salt[i]);
                add(buf, size, "salt=%s", hex);
        } else
                assert_int_equal(o->salt_size, 0);
        if (o->set.uuid)
                add(buf, size, "uuid=%s", o->uuid);
        else
                assert_string_equal(o->uuid, "");
        if (o->set.hash)
                add(buf, size, "hash=%s", verity_hash_to_string(o->hash));
        else
                assert_int_equal(o->hash, VERITY_HASH_SHA256);
        if (o->ignore_zero_blocks)
                add(buf, size, "ignore-zero-blocks");
        if (o->restart_on_corruption)
                add(buf, size, "restart-on-corruption");
        if (o->panic_on_corruption)
                add(buf, size, "panic-on-corruption");
        return buf;
}

static void check_outcome(const char *what, size_t i, int r, const struct verity_options *o,
                          const char *err, int want_ret, const char *want)
{
        char dump[2048];

        check_row(what, i, r, r == 0 ? options_dump(o, dump, sizeof(dump)) : err, want_ret, want);
}

static void test_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char err[PARSE_ERRBUF_SIZE] = "";
                struct verity_options o;
                int r;

                /* Poisoned, so that a parser writing it on failure would show. */
                memset(&o, 0xa5, sizeof(o));
                r = verity_options_parse(rows[i].input, &o, err, sizeof(err));
                if (r < 0) {
                        struct verity_options poison;

                        memset(&poison, 0xa5, sizeof(poison));
                        assert_memory_equal(&o, &poison, sizeof(o));
                }
                check_outcome("row", i, r, &o, err, rows[i].ret, rows[i].expect);
        }
}

/* Inputs too long to write out. */
static void test_long_inputs(void **state)
{
        static const struct {
                size_t salt_digits; /* after NOSB "salt=" */
                size_t pad;         /* else the length of a valid hash-offset=0…0 */
                int ret;
                const char *expect;
        } long_rows[] = {
            {2 * VERITY_SALT_MAX, 0, 0, NULL},
            {2 * VERITY_SALT_MAX + 2, 0, -EINVAL,
             "salt= must be an even number of hex digits (at most 256 bytes), or - for no "
             "salt"},
            {0, VERITY_OPTIONS_MAX, 0, NULL},
            {0, VERITY_OPTIONS_MAX + 1, -E2BIG, "longer than 4096 bytes"},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(long_rows); i++) {
                char err[PARSE_ERRBUF_SIZE] = "", *s;
                struct verity_options o;
                int r;

                if (long_rows[i].salt_digits) {
                        s = calloc(1, sizeof(NOSB "salt=") + long_rows[i].salt_digits);
                        assert_non_null(s);
                        strcpy(s, NOSB "salt=");
                        memset(s + strlen(s), 'e', long_rows[i].salt_digits);
                } else {
                        /* hash-offset=000…0: valid, and as long as asked for */
                        s = calloc(1, long_rows[i].pad + 1);
                        assert_non_null(s);
                        memset(s, '0', long_rows[i].pad);
                        memcpy(s, "hash-offset=", strlen("hash-offset="));
                }

                r = verity_options_parse(s, &o, err, sizeof(err));
                print_message("long row %zu (%zu bytes): %d %s\n", i, strlen(s), r, err);
                assert_int_equal(r, long_rows[i].ret);
                if (r < 0)
                        assert_string_equal(err, long_rows[i].expect);
                else if (long_rows[i].salt_digits)
                        assert_int_equal(o.salt_size, VERITY_SALT_MAX);
                free(s);
        }
}

static void test_digest_size(void **state)
{
        static const struct {
                enum verity_hash hash;
                const char *name;
                size_t size;
        } hash_rows[] = {
            {VERITY_HASH_SHA1, "sha1", 20},     {VERITY_HASH_SHA256, "sha256", 32},
            {VERITY_HASH_SHA512, "sha512", 64}, {_VERITY_HASH_MAX, NULL, 0},
            {(enum verity_hash) - 1, NULL, 0},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(hash_rows); i++) {
                struct verity_options o;

                verity_options_init(&o);
                o.hash = hash_rows[i].hash;
                assert_int_equal(verity_options_digest_size(&o), hash_rows[i].size);
                if (hash_rows[i].name)
                        assert_string_equal(verity_hash_to_string(o.hash), hash_rows[i].name);
                else
                        assert_null(verity_hash_to_string(o.hash));
        }
}

static void test_defaults(void **state)
{
        struct verity_options o;

        (void) state;
        assert_int_equal(verity_options_parse("", &o, NULL, 0), 0);
        assert_true(o.superblock);
        assert_int_equal(o.format, 1);
        assert_int_equal(o.data_block_size, 4096);
        assert_int_equal(o.hash_block_size, 4096);
        assert_int_equal(o.hash, VERITY_HASH_SHA256);
        assert_int_equal(verity_options_digest_size(&o), 32);
        assert_false(o.set.superblock || o.set.format || o.set.data_block_size ||
                     o.set.hash_block_size || o.set.data_blocks || o.set.hash_offset ||
                     o.set.salt || o.set.uuid || o.set.hash);
        assert_false(o.ignore_zero_blocks || o.restart_on_corruption || o.panic_on_corruption);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
            cmocka_unit_test(test_long_inputs),
            cmocka_unit_test(test_digest_size),
            cmocka_unit_test(test_defaults),
        };

        print_message("%zu table rows\n", ELEMENTSOF(rows));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
