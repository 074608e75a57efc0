/* SPDX-License-Identifier: GPL-2.0-or-later */
/* devices.c against fixture roots made by fixtures/mkdevtree.sh: real GPT and ext4 images that
 * libblkid reads, under a sysfs-shaped tree; one row per spec with the node it must find. */

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "storage/devices.h"
#include "fixtures/fixture-util.h"
#include "lib/log.h"
#include "util.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

/* The values mkdevtree.sh writes. */
#define DATA_PARTUUID       "4c8f1a9e-0b7d-42c6-a53e-9f0d1b2c3a4e"
#define DATA_PARTUUID_UPPER "4C8F1A9E-0B7D-42C6-A53E-9F0D1B2C3A4E"
#define HASH_PARTUUID       "7e6d5c4b-3a29-18f7-e6d5-c4b3a2918f70"
#define HASH_PARTUUID_UPPER "7E6D5C4B-3A29-18F7-E6D5-C4B3A2918F70"
/* the root hash whose systemd split gives the two PARTUUIDs above */
#define ROOTHASH           "4c8f1a9e0b7d42c6a53e9f0d1b2c3a4e7e6d5c4b3a2918f7e6d5c4b3a2918f70"
#define DISK_GUID          "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
#define DATA_PARTLABEL     "nodegate-root"
#define HASH_PARTLABEL     "nodegate-verity"
#define DATA_FS_UUID       "0d5c6f3e-2b1a-4c9d-8e7f-6a5b4c3d2e1f"
#define DATA_FS_UUID_UPPER "0D5C6F3E-2B1A-4C9D-8E7F-6A5B4C3D2E1F"
#define DATA_FS_LABEL      "rootfs"
#define PLAIN_UUID         "5a1e0c3b-9d2f-4e8a-b7c6-0f1e2d3c4b5a"
#define PLAIN_LABEL        "nodegate-plain"
#define DUP_UUID           "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define NOMEDIA_LABEL      "nodegate-nomedia"

#define USEC_PER_MSEC 1000U

enum variant {
        BASE,
        DUPLICATE,
        MISSING_PARTITION,
        _VARIANT_MAX,
};

static const char *const variant_names[_VARIANT_MAX] = {
    [BASE] = "base",
    [DUPLICATE] = "duplicate",
    [MISSING_PARTITION] = "missing-partition",
};

/* Every fixture root lives below scratch, which the group teardown removes whole, also after
 * a test that failed half-way. */
static char scratch[PATH_MAX];
static char roots[_VARIANT_MAX][PATH_MAX];

static int build_fixture(enum variant v, char *dir, size_t size)
{
        if (fixture_pathf(dir, size, "%s/%s.XXXXXX", scratch, variant_names[v]) < 0 ||
            !mkdtemp(dir))
                return -1;
        return fixture_sh("'%s/mkdevtree.sh' '%s' %s", FIXTURES_DIR, dir, variant_names[v]);
}

static int group_setup(void **state)
{
        (void) state;
        if (fixture_mkdtemp("test-devices", scratch, sizeof(scratch)) < 0)
                return -1;
        for (int v = 0; v < _VARIANT_MAX; v++)
                if (build_fixture(v, roots[v], sizeof(roots[v])) != 0)
                        return -1;
        return 0;
}

static int group_teardown(void **state)
{
        (void) state;
        return fixture_rm_rf(scratch) == 0 ? 0 : -1;
}

static char *node_of(const char *root, const char *name)
{
        char *p;

        assert_true(asprintf(&p, "%s/dev/%s", root, name) > 0);
        return p;
}

/* ---- devspec_parse() ---- */

struct parse_row {
        const char *input;
        int ret;
        enum devspec_kind kind;
        const char *value; /* ret == 0: the stored value */
};

static const struct parse_row parse_rows[] = {
    {"/dev/vda2", 0, DEVSPEC_PATH, "/dev/vda2"},
    {"/dev/disk/by-partlabel/root", 0, DEVSPEC_PATH, "/dev/disk/by-partlabel/root"},
    {"/dev/mapper/..foo", 0, DEVSPEC_PATH, "/dev/mapper/..foo"},
    {"/dev/VDA", 0, DEVSPEC_PATH, "/dev/VDA"},
    {"PARTUUID=" DATA_PARTUUID, 0, DEVSPEC_PARTUUID, DATA_PARTUUID},
    {"PARTUUID=" DATA_PARTUUID_UPPER, 0, DEVSPEC_PARTUUID, DATA_PARTUUID},
    {"UUID=" DATA_FS_UUID_UPPER, 0, DEVSPEC_UUID, DATA_FS_UUID},
    {"UUID=" PLAIN_UUID, 0, DEVSPEC_UUID, PLAIN_UUID},
    {"LABEL=RootFS", 0, DEVSPEC_LABEL, "RootFS"}, /* labels keep their case */
    {"LABEL=a=b", 0, DEVSPEC_LABEL, "a=b"},
    {"LABEL=with space", 0, DEVSPEC_LABEL, "with space"},
    {"PARTLABEL=Nodegate-Root", 0, DEVSPEC_PARTLABEL, "Nodegate-Root"},
    {"PARTLABEL=LABEL=x", 0, DEVSPEC_PARTLABEL, "LABEL=x"},

    /* empty values */
    {"", -EINVAL, 0, NULL},
    {"PARTUUID=", -EINVAL, 0, NULL},
    {"UUID=", -EINVAL, 0, NULL},
    {"LABEL=", -EINVAL, 0, NULL},
    {"PARTLABEL=", -EINVAL, 0, NULL},
    /* unknown tags, and the known ones are case-sensitive like blkid's */
    {"TYPE=ext4", -EINVAL, 0, NULL},
    {"ID=x", -EINVAL, 0, NULL},
    {"PARTNAME=x", -EINVAL, 0, NULL},
    {"label=rootfs", -EINVAL, 0, NULL},
    {"Uuid=" PLAIN_UUID, -EINVAL, 0, NULL},
    {"PARTUUID" DATA_PARTUUID, -EINVAL, 0, NULL},
    {" LABEL=x", -EINVAL, 0, NULL},
    /* relative paths */
    {"vda2", -EINVAL, 0, NULL},
    {"dev/vda2", -EINVAL, 0, NULL},
    {"./dev/vda2", -EINVAL, 0, NULL},
    {"../dev/vda2", -EINVAL, 0, NULL},
    /* ".." as a path component */
    {"/", -EINVAL, 0, NULL},
    {"/dev/../etc/shadow", -EINVAL, 0, NULL},
    {"/dev/mapper/../../etc/shadow", -EINVAL, 0, NULL},
    {"/../dev/vda", -EINVAL, 0, NULL},
    /* only device nodes below /dev, and never /dev itself or its parent */
    {"/dev/..", -EINVAL, 0, NULL},
    {"/dev/", -EINVAL, 0, NULL},
    {"/dev/vda/..", -EINVAL, 0, NULL},
    {"/etc/passwd", -EINVAL, 0, NULL},
};

static void test_devspec_parse(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(parse_rows); i++) {
                const struct parse_row *row = &parse_rows[i];
                struct devspec spec = {.kind = DEVSPEC_LABEL, .value = (char *) "untouched"};
                char buf[128];
                int r;

                r = devspec_parse(row->input, &spec);
                print_message("parse row %zu: '%s' -> %d\n", i, row->input, r);
                assert_int_equal(r, row->ret);
                if (r < 0) {
                        assert_int_equal(spec.kind, DEVSPEC_LABEL);
                        assert_string_equal(spec.value, "untouched");
                        continue;
                }
                assert_int_equal(spec.kind, row->kind);
                assert_string_equal(spec.value, row->value);
                /* formatted back: the input with UUIDs in lowercase */
                devspec_to_string(&spec, buf, sizeof(buf));
                if (row->kind == DEVSPEC_PATH)
                        assert_string_equal(buf, row->value);
                else {
                        const char *eq = strchr(buf, '=');

                        assert_non_null(eq);
                        assert_string_equal(eq + 1, row->value);
                        assert_memory_equal(buf, row->input, (size_t) (eq - buf) + 1);
                }
                devspec_done(&spec);
                assert_null(spec.value);
                devspec_done(&spec); /* twice is harmless */
        }
        devspec_done(NULL);
        assert_int_equal(devspec_parse(NULL, &(struct devspec){0}), -EINVAL);
        assert_int_equal(devspec_parse("/dev/vda", NULL), -EINVAL);
}

/* ---- devices_partuuids_from_roothash() ---- */

struct roothash_row {
        const char *roothash;
        int ret;
        const char *data, *hash;
};

static const struct roothash_row roothash_rows[] = {
    /* sha256: the two halves */
    {ROOTHASH, 0, DATA_PARTUUID, HASH_PARTUUID},
    {"4C8F1A9E0B7D42C6A53E9F0D1B2C3A4E7E6D5C4B3A2918F7E6D5C4B3A2918F70", 0, DATA_PARTUUID,
     HASH_PARTUUID},
    {"00112233445566778899aabbccddeeffffeeddccbbaa99887766554433221100", 0,
     "00112233-4455-6677-8899-aabbccddeeff", "ffeeddcc-bbaa-9988-7766-554433221100"},
    /* sha1: first and last 128 bits overlap */
    {"00112233445566778899aabbccddeeff01234567", 0, "00112233-4455-6677-8899-aabbccddeeff",
     "44556677-8899-aabb-ccdd-eeff01234567"},
    /* sha512: the first and the last 128 bits, the middle is not used */
    {"0123456789abcdef0123456789abcdef"
     "ffffffffffffffffffffffffffffffff"
     "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
     "fedcba9876543210fedcba9876543210",
     0, "01234567-89ab-cdef-0123-456789abcdef", "fedcba98-7654-3210-fedc-ba9876543210"},
    /* exactly 128 bits: both are the whole hash */
    {"aaaaaaaabbbbccccddddeeeeeeeeeeee", 0, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
     "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},

    {"", -EINVAL, NULL, NULL},
    {"aaaaaaaabbbbccccddddeeeeeeeeee", -EINVAL, NULL, NULL}, /* 30 digits */
    /* 33 digits: more than 128 bits, but no hash has half bytes (systemd's unhexmem()
     * refuses an odd length too) */
    {"aaaaaaaabbbbccccddddeeeeeeeeeeeea", -EINVAL, NULL, NULL},
    {"g0112233445566778899aabbccddeeff", -EINVAL, NULL, NULL},
    {"00112233445566778899aabbccddeefg", -EINVAL, NULL, NULL},
    {"0x112233445566778899aabbccddeeff", -EINVAL, NULL, NULL},
    {" 00112233445566778899aabbccddeeff", -EINVAL, NULL, NULL},
    {"00112233-4455-6677-8899-aabbccddeeff", -EINVAL, NULL, NULL},
    {"00112233445566778899aabbccddeeff\n", -EINVAL, NULL, NULL},
};

static void test_partuuids_from_roothash(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(roothash_rows); i++) {
                const struct roothash_row *row = &roothash_rows[i];
                char data[DEVSPEC_UUID_STRING_MAX] = "untouched",
                     hash[DEVSPEC_UUID_STRING_MAX] = "untouched";
                int r;

                r = devices_partuuids_from_roothash(row->roothash, data, hash);
                print_message("roothash row %zu: %d %s %s\n", i, r, data, hash);
                assert_int_equal(r, row->ret);
                assert_string_equal(data, r == 0 ? row->data : "untouched");
                assert_string_equal(hash, r == 0 ? row->hash : "untouched");
        }
        assert_int_equal(devices_partuuids_from_roothash(NULL, (char[37]){0}, (char[37]){0}),
                         -EINVAL);
}

/* ---- devices_find() ---- */

struct find_row {
        const char *spec;
        bool raw; /* use spec's value as it is, without devspec_parse() (uppercase) */
        int ret;
        const char *node; /* ret == 0: the name under dev/ */
};

static const struct find_row find_rows[] = {
    /* every kind of spec */
    {"PARTUUID=" DATA_PARTUUID, false, 0, "gptdisk1"},
    {"PARTUUID=" DATA_PARTUUID_UPPER, false, 0, "gptdisk1"},
    {"PARTUUID=" DATA_PARTUUID_UPPER, true, 0, "gptdisk1"},
    {"PARTUUID=" HASH_PARTUUID, false, 0, "gptdisk2"},
    {"PARTUUID=" HASH_PARTUUID_UPPER, true, 0, "gptdisk2"},
    {"PARTLABEL=" DATA_PARTLABEL, false, 0, "gptdisk1"},
    {"PARTLABEL=" HASH_PARTLABEL, false, 0, "gptdisk2"},
    {"UUID=" DATA_FS_UUID, false, 0, "gptdisk1"},
    {"UUID=" DATA_FS_UUID_UPPER, false, 0, "gptdisk1"},
    {"UUID=" DATA_FS_UUID_UPPER, true, 0, "gptdisk1"},
    {"UUID=" PLAIN_UUID, false, 0, "plaindisk"},
    {"LABEL=" DATA_FS_LABEL, false, 0, "gptdisk1"},
    {"LABEL=" PLAIN_LABEL, false, 0, "plaindisk"},
    {"/dev/plaindisk", false, 0, "plaindisk"},
    {"/dev/gptdisk2", false, 0, "gptdisk2"},

    /* no match */
    {"/dev/sdz", false, -ENOENT, NULL},
    {"/dev/gptdisk3", false, -ENOENT, NULL},
    {"LABEL=nothing-has-this", false, -ENOENT, NULL},
    {"UUID=00000000-0000-0000-0000-000000000000", false, -ENOENT, NULL},
    {"PARTUUID=00000000-0000-0000-0000-000000000000", false, -ENOENT, NULL},
    {"PARTLABEL=nothing-has-this", false, -ENOENT, NULL},
    /* exact values only: labels are case-sensitive, no prefixes */
    {"PARTLABEL=NODEGATE-ROOT", false, -ENOENT, NULL},
    {"PARTLABEL=nodegate", false, -ENOENT, NULL},
    {"LABEL=ROOTFS", false, -ENOENT, NULL},
    {"LABEL=root", false, -ENOENT, NULL},
    /* one tag's value is not another's */
    {"LABEL=" DATA_PARTLABEL, false, -ENOENT, NULL},
    {"PARTLABEL=" DATA_FS_LABEL, false, -ENOENT, NULL},
    {"UUID=" DATA_PARTUUID, false, -ENOENT, NULL},
    {"PARTUUID=" DATA_FS_UUID, false, -ENOENT, NULL},
    {"PARTUUID=" DISK_GUID, false, -ENOENT, NULL}, /* the disk's GUID, not a partition's */
    /* a drive whose sysfs size is 0 is skipped, although its node holds that label */
    {"LABEL=" NOMEDIA_LABEL, false, -ENOENT, NULL},
};

static void make_spec(const char *s, bool raw, struct devspec *spec)
{
        assert_int_equal(devspec_parse(s, spec), 0);
        if (raw) {
                free(spec->value);
                spec->value = strdup(strchr(s, '=') + 1);
                assert_non_null(spec->value);
        }
}

static void test_find(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(find_rows); i++) {
                const struct find_row *row = &find_rows[i];
                struct devspec spec;
                char *node = (char *) "untouched", *other = (char *) "untouched";
                int r;

                make_spec(row->spec, row->raw, &spec);
                r = devices_find(roots[BASE], &spec, &node, &other);
                print_message("find row %zu: %s%s -> %d %s\n", i, row->spec,
                              row->raw ? " (raw)" : "", r, node);
                assert_int_equal(r, row->ret);
                assert_string_equal(other, "untouched");
                if (r == 0) {
                        _cleanup_free_ char *expect = node_of(roots[BASE], row->node);
                        assert_string_equal(node, expect);
                        free(node);
                } else
                        assert_string_equal(node, "untouched");
                devspec_done(&spec);
        }
}

/* The PARTUUIDs derived from the root hash name the two partitions, as they do for a
 * systemd-repart image without systemd.verity_root_data=/_hash=. */
static void test_find_by_roothash(void **state)
{
        char data[DEVSPEC_UUID_STRING_MAX], hash[DEVSPEC_UUID_STRING_MAX];
        struct devspec spec = {.kind = DEVSPEC_PARTUUID};
        _cleanup_free_ char *expect_data = node_of(roots[BASE], "gptdisk1");
        _cleanup_free_ char *expect_hash = node_of(roots[BASE], "gptdisk2");
        char *node = NULL;

        (void) state;
        assert_int_equal(devices_partuuids_from_roothash(ROOTHASH, data, hash), 0);
        spec.value = data;
        assert_int_equal(devices_find(roots[BASE], &spec, &node, NULL), 0);
        assert_string_equal(node, expect_data);
        free(node);
        spec.value = hash;
        assert_int_equal(devices_find(roots[BASE], &spec, &node, NULL), 0);
        assert_string_equal(node, expect_hash);
        free(node);
}

/* The position of name in a readdir() of dir: devices_find() scans in that order. */
static int readdir_position(const char *dir, const char *name)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int i = 0, found = -1;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (streq(de->d_name, name))
                        found = i;
                else
                        i++;
        closedir(d);
        assert_true(found >= 0);
        return found;
}

struct ambiguous_row {
        const char *spec;
        int ret;
        /* ret == 0: the one node; -ENOTUNIQ: the two candidates, each as the entry of
         * sys/class/block that is scanned (the disk, for PARTUUID/PARTLABEL) and its node */
        const char *scan_a, *node_a, *scan_b, *node_b;
};

/* The duplicate fixture adds plaindup, another file system labelled like plaindisk, and
 * gptclone, a copy of the GPT disk. */
static const struct ambiguous_row ambiguous_rows[] = {
    {"LABEL=" PLAIN_LABEL, -ENOTUNIQ, "plaindisk", "plaindisk", "plaindup", "plaindup"},
    {"PARTUUID=" DATA_PARTUUID, -ENOTUNIQ, "gptdisk", "gptdisk1", "gptclone", "gptclone1"},
    {"PARTUUID=" HASH_PARTUUID, -ENOTUNIQ, "gptdisk", "gptdisk2", "gptclone", "gptclone2"},
    {"PARTLABEL=" HASH_PARTLABEL, -ENOTUNIQ, "gptdisk", "gptdisk2", "gptclone", "gptclone2"},
    {"UUID=" DATA_FS_UUID, -ENOTUNIQ, "gptdisk1", "gptdisk1", "gptclone1", "gptclone1"},
    {"LABEL=" DATA_FS_LABEL, -ENOTUNIQ, "gptdisk1", "gptdisk1", "gptclone1", "gptclone1"},
    {"UUID=" PLAIN_UUID, 0, "plaindisk", "plaindisk", NULL, NULL},
    {"UUID=" DUP_UUID, 0, "plaindup", "plaindup", NULL, NULL},
    {"/dev/gptclone1", 0, NULL, "gptclone1", NULL, NULL}, /* a path names one node */
};

static void test_ambiguous(void **state)
{
        char classdir[PATH_MAX];

        (void) state;
        assert_int_equal(
            fixture_pathf(classdir, sizeof(classdir), "%s/sys/class/block", roots[DUPLICATE]), 0);
        for (size_t i = 0; i < ELEMENTSOF(ambiguous_rows); i++) {
                const struct ambiguous_row *row = &ambiguous_rows[i];
                struct devspec spec;
                char *node = (char *) "untouched", *other = (char *) "untouched";
                int r;

                make_spec(row->spec, false, &spec);
                r = devices_find(roots[DUPLICATE], &spec, &node, &other);
                print_message("ambiguous row %zu: %s -> %d %s %s\n", i, row->spec, r, node, other);
                assert_int_equal(r, row->ret);
                if (r == 0) {
                        _cleanup_free_ char *expect = node_of(roots[DUPLICATE], row->node_a);
                        assert_string_equal(node, expect);
                        assert_string_equal(other, "untouched");
                        free(node);
                } else {
                        /* ret_node names the match scanned first, ret_other the second */
                        bool a_first = readdir_position(classdir, row->scan_a) <
                                       readdir_position(classdir, row->scan_b);
                        _cleanup_free_ char *expect_first =
                            node_of(roots[DUPLICATE], a_first ? row->node_a : row->node_b);
                        _cleanup_free_ char *expect_second =
                            node_of(roots[DUPLICATE], a_first ? row->node_b : row->node_a);
                        assert_string_equal(node, expect_first);
                        assert_string_equal(other, expect_second);
                        free(node);
                        free(other);
                        /* without ret_other the same answer, nothing written, nothing leaks */
                        node = (char *) "untouched";
                        assert_int_equal(devices_find(roots[DUPLICATE], &spec, &node, NULL),
                                         -ENOTUNIQ);
                        assert_string_equal(node, "untouched");
                }
                devspec_done(&spec);
        }
}

/* The missing-partition fixture: partition 2 is in the GPT, but the kernel has not announced
 * it (no sysfs entry, no node). */
static const struct find_row missing_rows[] = {
    {"PARTLABEL=" HASH_PARTLABEL, false, -ENOENT, NULL},
    {"PARTUUID=" HASH_PARTUUID, false, -ENOENT, NULL},
    {"/dev/gptdisk2", false, -ENOENT, NULL},
    {"PARTLABEL=" DATA_PARTLABEL, false, 0, "gptdisk1"},
    {"PARTUUID=" DATA_PARTUUID, false, 0, "gptdisk1"},
};

static void test_missing_partition(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(missing_rows); i++) {
                const struct find_row *row = &missing_rows[i];
                struct devspec spec;
                char *node = (char *) "untouched";
                int r;

                make_spec(row->spec, row->raw, &spec);
                r = devices_find(roots[MISSING_PARTITION], &spec, &node, NULL);
                print_message("missing row %zu: %s -> %d %s\n", i, row->spec, r, node);
                assert_int_equal(r, row->ret);
                if (r == 0) {
                        _cleanup_free_ char *expect = node_of(roots[MISSING_PARTITION], row->node);
                        assert_string_equal(node, expect);
                        free(node);
                } else
                        assert_string_equal(node, "untouched");
                devspec_done(&spec);
        }
}

static void test_find_bad_arguments(void **state)
{
        struct devspec spec = {.kind = DEVSPEC_LABEL, .value = (char *) PLAIN_LABEL};
        char *node = (char *) "untouched";
        char empty[PATH_MAX];

        (void) state;
        assert_int_equal(devices_find(roots[BASE], NULL, &node, NULL), -EINVAL);
        assert_int_equal(devices_find(roots[BASE], &spec, NULL, NULL), -EINVAL);
        assert_int_equal(
            devices_find(roots[BASE], &(struct devspec){.kind = DEVSPEC_LABEL}, &node, NULL),
            -EINVAL);
        /* a root without sys/class/block has no devices (yet) */
        assert_int_equal(fixture_pathf(empty, sizeof(empty), "%s/empty.XXXXXX", scratch), 0);
        assert_non_null(mkdtemp(empty));
        assert_int_equal(devices_find(empty, &spec, &node, NULL), -ENOENT);
        assert_string_equal(node, "untouched");
        assert_int_equal(rmdir(empty), 0);
}

/* ---- devices_wait() ---- */

static void test_wait_times_out(void **state)
{
        struct devspec spec;
        char *node = (char *) "untouched";
        uint64_t start, elapsed;

        (void) state;
        make_spec("LABEL=nothing-has-this", false, &spec);
        start = now_usec();
        assert_int_equal(devices_wait(roots[BASE], &spec, start + 100 * USEC_PER_MSEC, &node, NULL),
                         -ETIMEDOUT);
        elapsed = now_usec() - start;
        print_message("timed out after %llu us\n", (unsigned long long) elapsed);
        assert_true(elapsed >= 100 * USEC_PER_MSEC);
        assert_true(elapsed < 2000 * USEC_PER_MSEC);
        assert_string_equal(node, "untouched");

        /* a deadline in the past: one look, then -ETIMEDOUT */
        start = now_usec();
        assert_int_equal(devices_wait(roots[BASE], &spec, start - 1, &node, NULL), -ETIMEDOUT);
        assert_true(now_usec() - start < 1000 * USEC_PER_MSEC);
        devspec_done(&spec);
}

/* Found at once, and an ambiguity is final: neither waits for the deadline. */
static void test_wait_returns_early(void **state)
{
        _cleanup_free_ char *expect = node_of(roots[BASE], "plaindisk");
        struct devspec spec;
        char *node = NULL, *other = NULL;
        uint64_t start;

        (void) state;
        make_spec("LABEL=" PLAIN_LABEL, false, &spec);
        start = now_usec();
        assert_int_equal(
            devices_wait(roots[BASE], &spec, start + 10000 * USEC_PER_MSEC, &node, &other), 0);
        assert_true(now_usec() - start < 2000 * USEC_PER_MSEC);
        assert_string_equal(node, expect);
        assert_null(other);
        free(node);

        start = now_usec();
        assert_int_equal(
            devices_wait(roots[DUPLICATE], &spec, start + 10000 * USEC_PER_MSEC, &node, &other),
            -ENOTUNIQ);
        assert_true(now_usec() - start < 2000 * USEC_PER_MSEC);
        assert_non_null(node);
        assert_non_null(other);
        free(node);
        free(other);
        devspec_done(&spec);
}

/* What the kernel does when it announces partition 2: the node appears (devtmpfs), then the
 * partition's sysfs directory (made aside and renamed in, so it appears whole), then the class
 * link. with_node false leaves the node out. @return 0, or the step that failed */
static int announce_partition2(const char *root, bool with_node)
{
        char spare[PATH_MAX], node[PATH_MAX], tmp[PATH_MAX], partition[PATH_MAX], size[PATH_MAX],
            sysdir[PATH_MAX], link[PATH_MAX];

        if (fixture_pathf(spare, sizeof(spare), "%s/spare/gptdisk2", root) < 0 ||
            fixture_pathf(node, sizeof(node), "%s/dev/gptdisk2", root) < 0 ||
            fixture_pathf(tmp, sizeof(tmp), "%s/spare/gptdisk2.sys", root) < 0 ||
            fixture_pathf(partition, sizeof(partition), "%s/partition", tmp) < 0 ||
            fixture_pathf(size, sizeof(size), "%s/size", tmp) < 0 ||
            fixture_pathf(sysdir, sizeof(sysdir), "%s/sys/devices/virtual/block/gptdisk/gptdisk2",
                          root) < 0 ||
            fixture_pathf(link, sizeof(link), "%s/sys/class/block/gptdisk2", root) < 0)
                return 1;
        if (with_node && rename(spare, node) < 0)
                return 2;
        if (mkdir(tmp, 0755) < 0 || fixture_write(partition, "2\n", 2, 0644) < 0 ||
            fixture_write(size, "4096\n", 5, 0644) < 0 || rename(tmp, sysdir) < 0)
                return 3;
        if (symlink("../../devices/virtual/block/gptdisk/gptdisk2", link) < 0)
                return 4;
        return 0;
}

static _noreturn_ void announce_partition2_later(const char *root, unsigned delay_ms)
{
        nanosleep(&(struct timespec){.tv_sec = delay_ms / 1000,
                                     .tv_nsec = (long) (delay_ms % 1000) * 1000000L},
                  NULL);
        _exit(announce_partition2(root, true));
}

/* The kernel creates a partition's sysfs directory a moment before devtmpfs makes its node:
 * until the node is there, the partition is not found, so devices_wait() keeps polling. */
static void test_partition_without_node(void **state)
{
        char root[PATH_MAX];
        _cleanup_free_ char *expect = NULL;
        struct devspec spec;
        char *node = NULL;

        (void) state;
        assert_int_equal(build_fixture(MISSING_PARTITION, root, sizeof(root)), 0);
        assert_int_equal(announce_partition2(root, false), 0);
        expect = node_of(root, "gptdisk2");
        make_spec("PARTUUID=" HASH_PARTUUID, false, &spec);
        assert_int_equal(access(expect, F_OK), -1); /* the fixture really lacks the node */
        assert_int_equal(devices_find(root, &spec, &node, NULL), -ENOENT);
        assert_null(node);
        devspec_done(&spec);
        assert_int_equal(fixture_rm_rf(root), 0);
}

static const char *const appear_specs[] = {
    "PARTUUID=" HASH_PARTUUID,
    "PARTLABEL=" HASH_PARTLABEL,
    "/dev/gptdisk2",
};

static void test_wait_device_appears(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(appear_specs); i++) {
                char root[PATH_MAX];
                _cleanup_free_ char *expect = NULL;
                struct devspec spec;
                char *node = NULL;
                uint64_t start, elapsed;
                pid_t pid;
                int status, r;

                assert_int_equal(build_fixture(MISSING_PARTITION, root, sizeof(root)), 0);
                expect = node_of(root, "gptdisk2");
                make_spec(appear_specs[i], false, &spec);
                assert_int_equal(devices_find(root, &spec, &node, NULL), -ENOENT);

                start = now_usec();
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0)
                        announce_partition2_later(root, 150);
                r = devices_wait(root, &spec, start + 5000 * USEC_PER_MSEC, &node, NULL);
                elapsed = now_usec() - start;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                print_message("appear %s: %d after %llu us\n", appear_specs[i], r,
                              (unsigned long long) elapsed);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                assert_int_equal(r, 0);
                assert_string_equal(node, expect);
                assert_true(elapsed >= 150 * USEC_PER_MSEC);
                assert_true(elapsed < 2000 * USEC_PER_MSEC);
                free(node);
                devspec_done(&spec);
                assert_int_equal(fixture_rm_rf(root), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_devspec_parse),
            cmocka_unit_test(test_partuuids_from_roothash),
            cmocka_unit_test(test_find),
            cmocka_unit_test(test_find_by_roothash),
            cmocka_unit_test(test_ambiguous),
            cmocka_unit_test(test_missing_partition),
            cmocka_unit_test(test_find_bad_arguments),
            cmocka_unit_test(test_wait_times_out),
            cmocka_unit_test(test_wait_returns_early),
            cmocka_unit_test(test_wait_device_appears),
            cmocka_unit_test(test_partition_without_node),
        };

        print_message("%zu parse rows, %zu roothash rows, %zu find rows, %zu ambiguous rows, "
                      "%zu missing-partition rows, %zu appear rows\n",
                      ELEMENTSOF(parse_rows), ELEMENTSOF(roothash_rows), ELEMENTSOF(find_rows),
                      ELEMENTSOF(ambiguous_rows), ELEMENTSOF(missing_rows),
                      ELEMENTSOF(appear_specs));
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
