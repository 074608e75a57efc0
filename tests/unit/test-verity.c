/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verity_check() against hash trees made by the independent veritysetup (fixtures/mkverity.sh):
 * every layout verifies with the root hash veritysetup printed, and a changed root hash, a
 * flipped byte of data, tree or superblock, or a wrong geometry is refused. */

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "fixtures/fixture-util.h"
#include "util.h"
#include "storage/verity.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* The values mkverity.sh gives veritysetup. */
#define SALT       "5eed0f00d5a17c0ffee15600dbadcafe0123456789abcdef0011223344556677"
#define DATA_BYTES (4U * 1024U * 1024U)
/* The root hash of data.img in the default layout (sha256, 4 KiB blocks, the salt above):
 * pins the fixture, so that a changed generator cannot go unnoticed. */
#define SB_ROOTHASH "c65a3307c72d7d16ac8ba5db353abba2992844b36d40c041155d95244382589b"

static char fixture[PATH_MAX];

static int group_setup(void **state)
{
        (void) state;
        if (fixture_mkdtemp("test-verity", fixture, sizeof(fixture)) < 0)
                return -1;
        return fixture_sh("'%s/mkverity.sh' '%s'", FIXTURES_DIR, fixture) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
        (void) state;
        return fixture_rm_rf(fixture) == 0 ? 0 : -1;
}

static const char *fixture_path(char *buf, size_t size, const char *name)
{
        int n = snprintf(buf, size, "%s/%s", fixture, name);

        assert_true(n > 0 && (size_t) n < size);
        return buf;
}

/* The root hash veritysetup printed for layout NAME. */
static void read_roothash(const char *name, char *buf, size_t size)
{
        char path[PATH_MAX], file[64];
        FILE *f;

        snprintf(file, sizeof(file), "%s.roothash", name);
        f = fopen(fixture_path(path, sizeof(path), file), "re");
        assert_non_null(f);
        assert_non_null(fgets(buf, (int) size, f));
        fclose(f);
        buf[strcspn(buf, "\n")] = 0;
        assert_true(strlen(buf) == 40 || strlen(buf) == 64 || strlen(buf) == 128);
}

enum mangle {
        AS_PRINTED,
        UPPERCASE,
        FIRST_DIGIT_CHANGED,
        LAST_DIGIT_CHANGED,
        ODD_LENGTH, /* last digit dropped */
        NON_HEX,    /* a 'g' in the middle */
        EMPTY,
        TOO_LONG,     /* 130 digits: more than any digest */
        OTHER_SHA1,   /* the sha1 layout's root hash (20 bytes) */
        OTHER_SHA512, /* the sha512 layout's root hash (64 bytes) */
        OTHER_SHA256, /* the default layout's root hash (32 bytes) */
};

static void make_roothash(const char *layout, enum mangle m, char *out, size_t size)
{
        size_t l;

        switch (m) {
        case OTHER_SHA1:
                layout = "sha1";
                break;
        case OTHER_SHA512:
                layout = "sha512";
                break;
        case OTHER_SHA256:
                layout = "sb";
                break;
        default:
                break;
        }
        read_roothash(layout, out, size);
        l = strlen(out);
        switch (m) {
        case UPPERCASE:
                for (char *p = out; *p; p++)
                        *p = (char) toupper((unsigned char) *p);
                break;
        case FIRST_DIGIT_CHANGED:
                out[0] = out[0] == '0' ? '1' : '0';
                break;
        case LAST_DIGIT_CHANGED:
                out[l - 1] = out[l - 1] == 'f' ? 'e' : 'f';
                break;
        case ODD_LENGTH:
                out[l - 1] = 0;
                break;
        case NON_HEX:
                out[l / 2] = 'g';
                break;
        case EMPTY:
                out[0] = 0;
                break;
        case TOO_LONG:
                memset(out, 'a', 130);
                out[130] = 0;
                break;
        default:
                break;
        }
}

/* What errbuf holds afterwards: NO_MESSAGE (empty), ANY_MESSAGE (libcryptsetup's words, whose
 * exact text belongs to its version), or the exact text of verity.c's own message. */
#define NO_MESSAGE  NULL
#define ANY_MESSAGE ""

struct row {
        const char *what;
        const char *data, *hash; /* files of the fixture */
        const char *layout;      /* whose root hash: LAYOUT.roothash */
        enum mangle mangle;
        const char *options; /* systemd.verity_root_options= */
        int ret;
        const char *message;
};

#define NOSB_OPTIONS                                                                               \
        "superblock=no,salt=" SALT ",hash=sha256,data-block-size=1024,hash-block-size=4096"
#define APPENDED_NOSB_OPTIONS "superblock=no,salt=" SALT ",data-blocks=1024,hash-offset=4194304"

static const struct row rows[] = {
    /* every layout veritysetup made verifies with the root hash it printed */
    {"superblock, sha256", "data.img", "sb.hash", "sb", AS_PRINTED, "", 0, NO_MESSAGE},
    {"root hash in uppercase", "data.img", "sb.hash", "sb", UPPERCASE, "", 0, NO_MESSAGE},
    {"superblock, sha512", "data.img", "sha512.hash", "sha512", AS_PRINTED, "", 0, NO_MESSAGE},
    {"superblock, sha1", "data.img", "sha1.hash", "sha1", AS_PRINTED, "", 0, NO_MESSAGE},
    {"no superblock, geometry from the options", "data.img", "nosb.hash", "nosb", AS_PRINTED,
     NOSB_OPTIONS, 0, NO_MESSAGE},
    {"no superblock, format 0, sha1, no salt", "data.img", "nosb-format0.hash", "nosb-format0",
     AS_PRINTED, "superblock=no,format=0,hash=sha1,salt=-", 0, NO_MESSAGE},
    {"appended tree, superblock at hash-offset", "appended.img", "appended.img", "appended",
     AS_PRINTED, "hash-offset=4194304", 0, NO_MESSAGE},
    {"appended tree, no superblock", "appended-nosb.img", "appended-nosb.img", "appended-nosb",
     AS_PRINTED, APPENDED_NOSB_OPTIONS, 0, NO_MESSAGE},
    {"flags do not change the check", "data.img", "sb.hash", "sb", AS_PRINTED,
     "panic-on-corruption,ignore-zero-blocks", 0, NO_MESSAGE},

    /* A different root hash of the right length: the tree does not lead to it.
     * libcryptsetup says -EFAULT for this and -EPERM for a corrupted block; verity.c maps
     * both to -EPERM, as verity.h promises. */
    {"first hex digit changed", "data.img", "sb.hash", "sb", FIRST_DIGIT_CHANGED, "", -EPERM,
     ANY_MESSAGE},
    {"last hex digit changed", "data.img", "sb.hash", "sb", LAST_DIGIT_CHANGED, "", -EPERM,
     ANY_MESSAGE},
    {"sha512 root hash changed", "data.img", "sha512.hash", "sha512", LAST_DIGIT_CHANGED, "",
     -EPERM, ANY_MESSAGE},
    {"sha1 root hash changed", "data.img", "sha1.hash", "sha1", FIRST_DIGIT_CHANGED, "", -EPERM,
     ANY_MESSAGE},
    {"appended tree, root hash changed", "appended.img", "appended.img", "appended",
     FIRST_DIGIT_CHANGED, "hash-offset=4194304", -EPERM, ANY_MESSAGE},

    /* a root hash that cannot be one: refused before any hashing */
    {"sha1-sized root hash for sha256", "data.img", "sb.hash", "sb", OTHER_SHA1, "", -EINVAL,
     "root hash has 20 bytes, the hash algorithm needs 32"},
    {"sha512-sized root hash for sha256", "data.img", "sb.hash", "sb", OTHER_SHA512, "", -EINVAL,
     "root hash has 64 bytes, the hash algorithm needs 32"},
    {"sha256-sized root hash for sha512", "data.img", "sha512.hash", "sha512", OTHER_SHA256, "",
     -EINVAL, "root hash has 32 bytes, the hash algorithm needs 64"},
    {"sha256-sized root hash for sha1", "data.img", "sha1.hash", "sha1", OTHER_SHA256, "", -EINVAL,
     "root hash has 32 bytes, the hash algorithm needs 20"},
    {"no superblock, options say sha512", "data.img", "nosb.hash", "nosb", AS_PRINTED,
     "superblock=no,salt=" SALT ",hash=sha512,data-block-size=1024", -EINVAL,
     "root hash has 32 bytes, the hash algorithm needs 64"},
    {"odd number of hex digits", "data.img", "sb.hash", "sb", ODD_LENGTH, "", -EINVAL, NO_MESSAGE},
    {"non-hex digit", "data.img", "sb.hash", "sb", NON_HEX, "", -EINVAL, NO_MESSAGE},
    {"empty root hash", "data.img", "sb.hash", "sb", EMPTY, "", -EINVAL, NO_MESSAGE},
    {"130 hex digits", "data.img", "sb.hash", "sb", TOO_LONG, "", -EINVAL, NO_MESSAGE},

    /* the right root hash with the wrong geometry: the options really are used */
    {"no superblock, data-block-size left at 4096", "data.img", "nosb.hash", "nosb", AS_PRINTED,
     "superblock=no,salt=" SALT, -EPERM, ANY_MESSAGE},
    {"no superblock, wrong salt", "data.img", "nosb.hash", "nosb", AS_PRINTED,
     "superblock=no,salt=00,data-block-size=1024", -EPERM, ANY_MESSAGE},
    {"no superblock, salt left out", "data.img", "nosb.hash", "nosb", AS_PRINTED,
     "superblock=no,data-block-size=1024", -EPERM, ANY_MESSAGE},
    {"appended tree, no superblock, hash-offset left out", "appended-nosb.img", "appended-nosb.img",
     "appended-nosb", AS_PRINTED, "superblock=no,salt=" SALT ",data-blocks=1024", -EINVAL,
     ANY_MESSAGE},

    /* No superblock where one is expected. libcryptsetup says nothing at error level
     * about a missing verity header (only a debug line), so verity.c writes its own. */
    {"tree without superblock read as one with", "data.img", "nosb.hash", "nosb", AS_PRINTED, "",
     -EINVAL, "no dm-verity superblock"},
    {"appended tree, hash-offset left out", "appended.img", "appended.img", "appended", AS_PRINTED,
     "", -EINVAL, "no dm-verity superblock"},
    {"appended tree, hash-offset one block off", "appended.img", "appended.img", "appended",
     AS_PRINTED, "hash-offset=4198400", -EINVAL, "no dm-verity superblock"},
    {"data image given as the hash device", "data.img", "data.img", "sb", AS_PRINTED, "", -EINVAL,
     "no dm-verity superblock"},

    /* libcryptsetup's answer for a device that is not there */
    {"hash image missing", "data.img", "missing.hash", "sb", AS_PRINTED, "", -ENOTBLK, ANY_MESSAGE},
    {"data image missing", "missing.img", "sb.hash", "sb", AS_PRINTED, "", -ENOTBLK, ANY_MESSAGE},
};

static void check_message(const char *errbuf, const char *expect)
{
        if (!expect)
                assert_string_equal(errbuf, "");
        else if (!*expect)
                assert_true(errbuf[0] != 0);
        else if (strncmp(errbuf, expect, strlen(expect)) != 0)
                fail_msg("message \"%s\" does not start with \"%s\"", errbuf, expect);
}

static int check_row(const struct row *row, char *errbuf, size_t errlen)
{
        char data[PATH_MAX], hash[PATH_MAX], roothash[256], err[512];
        struct verity_options o;
        struct verity_request req;

        make_roothash(row->layout, row->mangle, roothash, sizeof(roothash));
        assert_int_equal(verity_options_parse(row->options, &o, err, sizeof(err)), 0);
        req = (struct verity_request){
            .data_node = fixture_path(data, sizeof(data), row->data),
            .hash_node = fixture_path(hash, sizeof(hash), row->hash),
            .roothash_hex = roothash,
            .options = &o,
        };
        return verity_check(&req, errbuf, errlen);
}

static void test_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct row *row = &rows[i];
                char errbuf[VERITY_ERROR_MAX];
                int r;

                memset(errbuf, 'x', sizeof(errbuf)); /* stale content must be cleared */
                errbuf[sizeof(errbuf) - 1] = 0;
                r = check_row(row, errbuf, sizeof(errbuf));
                print_message("row %zu (%s): %d %s\n", i, row->what, r, errbuf);
                assert_int_equal(r, row->ret);
                check_message(errbuf, row->message);
        }
}

/* veritysetup's answer for the default layout is the known one: the fixture is what it says. */
static void test_known_answer(void **state)
{
        char roothash[256];

        (void) state;
        read_roothash("sb", roothash, sizeof(roothash));
        assert_string_equal(roothash, SB_ROOTHASH);
        /* the appended layout stores the same tree over the same data */
        read_roothash("appended", roothash, sizeof(roothash));
        assert_string_equal(roothash, SB_ROOTHASH);
}

static int copy_file(const char *from, const char *to)
{
        return fixture_sh("cp -- '%s' '%s'", from, to);
}

/* Flips the lowest bit of one byte in place, as `dd conv=notrunc` would write it. */
static void flip_byte(const char *path, off_t offset)
{
        int fd = open(path, O_RDWR | O_CLOEXEC);
        unsigned char c;

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &c, 1, offset), 1);
        c ^= 0x01;
        assert_int_equal(pwrite(fd, &c, 1, offset), 1);
        assert_int_equal(close(fd), 0);
}

struct corruption {
        const char *what;
        const char *layout; /* the files and root hash of one good row of the layout */
        bool in_hash;       /* flip in the hash file (else in the data file) */
        off_t offset;
        int ret;
        const char *message;
};

/* sb.hash: superblock in block 0, the top level of the tree in block 1, the 8 leaf blocks in
 * blocks 2..9 (4 MiB of data = 1024 blocks, 128 sha256 digests per 4 KiB block). The verity
 * superblock: magic at 0, hash algorithm name at 32, salt at 88. */
static const struct corruption corruptions[] = {
    {"first data byte", "sb", false, 0, -EPERM, ANY_MESSAGE},
    {"a byte in data block 517", "sb", false, 517 * 4096 + 1234, -EPERM, ANY_MESSAGE},
    {"last data byte", "sb", false, DATA_BYTES - 1, -EPERM, ANY_MESSAGE},
    {"top level of the tree", "sb", true, 4096 + 40, -EPERM, ANY_MESSAGE},
    {"first leaf block of the tree", "sb", true, 2 * 4096 + 5 * 32 + 3, -EPERM, ANY_MESSAGE},
    {"last leaf block of the tree", "sb", true, 9 * 4096 + 100, -EPERM, ANY_MESSAGE},
    {"salt in the superblock", "sb", true, 88, -EPERM, ANY_MESSAGE},
    {"superblock magic", "sb", true, 0, -EINVAL, "no dm-verity superblock"},
    {"hash algorithm name in the superblock", "sb", true, 32, -EINVAL, ANY_MESSAGE},
    {"sha512: a data byte", "sha512", false, 3 * 4096 + 7, -EPERM, ANY_MESSAGE},
    {"sha512: a leaf of the tree", "sha512", true, 2 * 4096 + 64 * 3 + 1, -EPERM, ANY_MESSAGE},
    {"no superblock: a data byte", "nosb", false, 2000 * 1024 + 1, -EPERM, ANY_MESSAGE},
    {"no superblock: a leaf of the tree", "nosb", true, 4096 + 77, -EPERM, ANY_MESSAGE},
    {"appended: a data byte", "appended", false, 1000, -EPERM, ANY_MESSAGE},
    {"appended: a leaf of the tree", "appended", false, DATA_BYTES + 2 * 4096 + 9, -EPERM,
     ANY_MESSAGE},
    {"appended: the superblock's salt", "appended", false, DATA_BYTES + 88, -EPERM, ANY_MESSAGE},
};

static const struct row *good_row(const char *layout)
{
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (streq(rows[i].layout, layout) && rows[i].mangle == AS_PRINTED &&
                    rows[i].ret == 0)
                        return &rows[i];
        fail_msg("no good row for layout %s", layout);
        return NULL;
}

/* One flipped byte anywhere the tree covers is found; flipped back, the copy verifies again,
 * so it was that byte and not the copying. */
static void test_corruption(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(corruptions); i++) {
                const struct corruption *c = &corruptions[i];
                const struct row *good = good_row(c->layout);
                char from[PATH_MAX], to_data[PATH_MAX], to_hash[PATH_MAX], err[VERITY_ERROR_MAX];
                bool appended = streq(good->data, good->hash);
                struct row row = *good;
                int r;

                assert_int_equal(copy_file(fixture_path(from, sizeof(from), good->data),
                                           fixture_path(to_data, sizeof(to_data), "c.data")),
                                 0);
                row.data = "c.data";
                row.hash = "c.data";
                if (!appended) {
                        assert_int_equal(
                            copy_file(fixture_path(from, sizeof(from), good->hash),
                                      fixture_path(to_hash, sizeof(to_hash), "c.hash")),
                            0);
                        row.hash = "c.hash";
                }
                assert_int_equal(check_row(&row, err, sizeof(err)), 0);

                flip_byte(c->in_hash ? to_hash : to_data, c->offset);
                r = check_row(&row, err, sizeof(err));
                print_message("corruption %zu (%s): %d %s\n", i, c->what, r, err);
                assert_int_equal(r, c->ret);
                check_message(err, c->message);

                flip_byte(c->in_hash ? to_hash : to_data, c->offset);
                assert_int_equal(check_row(&row, err, sizeof(err)), 0);
                assert_string_equal(err, "");
        }
}

/* The library's message is cut to the caller's buffer; no buffer at all is fine too. */
static void test_error_buffers(void **state)
{
        const struct row *bad = NULL;
        char full[VERITY_ERROR_MAX], small[8];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows) && !bad; i++)
                if (rows[i].mangle == FIRST_DIGIT_CHANGED && streq(rows[i].layout, "sb"))
                        bad = &rows[i];
        assert_non_null(bad);

        assert_int_equal(check_row(bad, NULL, 0), bad->ret);
        assert_int_equal(check_row(bad, NULL, 100), bad->ret);
        assert_int_equal(check_row(bad, full, sizeof(full)), bad->ret);
        assert_true(strlen(full) > sizeof(small));
        memset(small, 'x', sizeof(small));
        assert_int_equal(check_row(bad, small, sizeof(small)), bad->ret);
        assert_int_equal(strlen(small), sizeof(small) - 1);
        assert_memory_equal(small, full, sizeof(small) - 1);
}

static void test_bad_requests(void **state)
{
        char data[PATH_MAX], hash[PATH_MAX], roothash[256], err[VERITY_ERROR_MAX];
        struct verity_options o;
        struct verity_request req;
        char *node = (char *) "untouched";

        (void) state;
        verity_options_init(&o);
        read_roothash("sb", roothash, sizeof(roothash));
        req = (struct verity_request){
            .data_node = fixture_path(data, sizeof(data), "data.img"),
            .hash_node = fixture_path(hash, sizeof(hash), "sb.hash"),
            .roothash_hex = roothash,
            .options = &o,
        };
        assert_int_equal(verity_check(&req, err, sizeof(err)), 0);

        assert_int_equal(verity_check(NULL, err, sizeof(err)), -EINVAL);
        req.options = NULL;
        assert_int_equal(verity_check(&req, err, sizeof(err)), -EINVAL);
        req.options = &o;
        req.roothash_hex = NULL;
        assert_int_equal(verity_check(&req, err, sizeof(err)), -EINVAL);
        req.roothash_hex = roothash;
        req.data_node = NULL;
        assert_int_equal(verity_check(&req, err, sizeof(err)), -EINVAL);
        req.data_node = data;
        req.hash_node = NULL;
        assert_int_equal(verity_check(&req, err, sizeof(err)), -EINVAL);
        req.hash_node = hash;

        /* verity_activate() refuses these before it would reach device-mapper (which this
         * host does not have), and leaves ret_node alone. */
        assert_int_equal(verity_activate(&req, NULL, &node, err, sizeof(err)), -EINVAL);
        assert_int_equal(verity_activate(&req, "root", NULL, err, sizeof(err)), -EINVAL);
        read_roothash("sha1", roothash, sizeof(roothash));
        assert_int_equal(verity_activate(&req, "root", &node, err, sizeof(err)), -EINVAL);
        assert_true(err[0] != 0);
        assert_string_equal(node, "untouched");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_known_answer), cmocka_unit_test(test_rows),
            cmocka_unit_test(test_corruption),   cmocka_unit_test(test_error_buffers),
            cmocka_unit_test(test_bad_requests),
        };

        print_message("%zu table rows, %zu corruption rows\n", ELEMENTSOF(rows),
                      ELEMENTSOF(corruptions));
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
