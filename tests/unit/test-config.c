/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodegate.conf: config_parse() one row per file text with the resulting settings (or the exact
 * error) beside it, config_load() against fixture files, and the command line winning. */

#include "config/cmdline.h"
#include "config/config.h"
#include "fixture.h"
#include "settings-dump.h"

/* After our headers: cmocka defines a fail() macro that would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "row-check.h"

#define H16 "0123456789abcdef"
#define H64 H16 H16 H16 H16
#define MANY_WORDS                                                                                 \
        "more than one word on the line (quote a value that has spaces; comments go on a line "    \
        "of their own)"

struct row {
        const char *text;
        size_t len; /* 0: strlen(text); set for texts with NUL bytes */
        int ret;
        const char *expect; /* ret == 0: settings_dump(); otherwise the exact error message */
};

static const struct row rows[] = {
    {"", 0, 0, ""},
    {"\n\n   \n\t\n", 0, 0, ""},
    {"# nodegate.conf\n# roothash=zz\n", 0, 0, ""},
    {"   # indented comment\n\t#tab\n", 0, 0, ""},
    {"# a comment with an \"unbalanced quote\n", 0, 0, ""},
    {"roothash=" H64 "\n", 0, 0, "roothash=" H64},
    {"roothash=" H64, 0, 0, "roothash=" H64},
    {"roothash=" H64 "\r\nnodegate.timeout=9\r\n", 0, 0, "roothash=" H64 " timeout=9"},
    {"  nodegate.debug  \n", 0, 0, "debug=1"},
    {"nodegate.timeout=5\nnodegate.timeout=6\n", 0, 0, "timeout=6"},
    {"nodegate.on-failure=reboot\n", 0, 0, "on_failure=reboot"},
    {"rd.systemd.verity=0\n", 0, 0, "verity=0"},
    {"systemd.verity_root_data=\"PARTLABEL=my root\"\n", 0, 0, "data=PARTLABEL=my root"},
    {"\"rootflags=noatime,errors=panic\"\n", 0, 0, "flags=noatime,errors=panic"},
    {"systemd.verity_root_hash=\"LABEL=wurzel-ä\"\n# 🌲\n", 0, 0, "hash=LABEL=wurzel-ä"},
    {"\xef\xbb\xbfnodegate.debug\n", 0, 0, "debug=1"},
    {"systemd.verity_root_options=superblock=no,hash=sha1\nrootfstype=squashfs\n", 0, 0,
     "options=superblock=no,hash=sha1 fstype=squashfs"},

    /* ip=: once, as on the command line */
    {"ip=eth0:dhcp\n", 0, 0, "ip=eth0:dhcp"},
    {"ip=dhcp\nip=off\n", 0, -EINVAL,
     "nodegate.conf:2: ip: given more than once (nodegate configures one interface)"},

    /* one word per line */
    {"roothash = " H64 "\n", 0, -EINVAL, "nodegate.conf:1: " MANY_WORDS},
    {"nodegate.debug\nroothash=" H64 " # the root\n", 0, -EINVAL, "nodegate.conf:2: " MANY_WORDS},
    {"rootflags=noatime nodev\n", 0, -EINVAL, "nodegate.conf:1: " MANY_WORDS},
    {"\n\nroothash=\"" H64 "\n", 0, -EINVAL,
     "nodegate.conf:3: unterminated quote starting at offset 9"},
    {"roothash=\"" H64 "\nnodegate.debug\"\n", 0, -EINVAL,
     "nodegate.conf:1: unterminated quote starting at offset 9"},

    /* every key of ours, nothing else */
    {"nodegate.timeout=5\nnodegate.foo=1\n", 0, -EINVAL,
     "nodegate.conf:2: unknown key nodegate.foo"},
    {"console=ttyS0\n", 0, -EINVAL, "nodegate.conf:1: unknown key console"},
    {"quiet\n", 0, -EINVAL, "nodegate.conf:1: unknown key quiet"},
    {"--\n", 0, -EINVAL, "nodegate.conf:1: unknown key --"},
    {"=5\n", 0, -EINVAL, "nodegate.conf:1: missing key before '='"},
    {"nodegate.debug\n\xef\xbb\xbfquiet\n", 0, -EINVAL,
     "nodegate.conf:2: unknown key \\xef\\xbb\\xbfquiet"},

    /* the command line's value rules */
    {"roothash=zz\n", 0, -EINVAL, "nodegate.conf:1: roothash: non-hex character 'z' at position 1"},
    {"\n\n\n\nroothash=" H16 "\n", 0, -EINVAL,
     "nodegate.conf:5: roothash: too short (16 hex digits, need at least 40)"},
    {"rootfstype\n", 0, -EINVAL, "nodegate.conf:1: rootfstype: needs a value (rootfstype=...)"},
    {"rootfstype=btrfs\n", 0, -EINVAL,
     "nodegate.conf:1: rootfstype: expected erofs, squashfs or ext4, got 'btrfs'"},
    {"nodegate.timeout=0\n", 0, -EINVAL,
     "nodegate.conf:1: nodegate.timeout: expected whole seconds from 1 to 3600, got '0'"},
    {"systemd.verity_root_options=ignore-corruption\n", 0, -EPERM,
     "nodegate.conf:1: systemd.verity_root_options: ignore-corruption is refused: it would "
     "let a tampered root boot"},
    {"systemd.verity_root_data=vda\n", 0, -EINVAL,
     "nodegate.conf:1: systemd.verity_root_data: expected /dev/..., PARTUUID=, UUID=, LABEL= "
     "or PARTLABEL=, got 'vda'"},

    /* bytes that are not text */
    {"roothash=ab\n\0", 13, -EINVAL, "nodegate.conf:2: NUL byte"},
    {"\0", 1, -EINVAL, "nodegate.conf:1: NUL byte"},
    {"# caf\xc3\n", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0xc3)"},
    {"\n# \xc0\xaf overlong\n", 0, -EINVAL, "nodegate.conf:2: invalid UTF-8 (byte 0xc0)"},
    {"# \xed\xa0\x80 surrogate\n", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0xed)"},
    {"# \xf4\x90\x80\x80 above U+10FFFF\n", 0, -EINVAL,
     "nodegate.conf:1: invalid UTF-8 (byte 0xf4)"},
    {"# \xe0\x9f\xbf overlong\n", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0xe0)"},
    {"# \xf0\x8f\xbf\xbf overlong\n", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0xf0)"},
    {"# \xff\n", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0xff)"},
    {"# \x80\n", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0x80)"},
    {"# cut at the end \xe2\x82", 0, -EINVAL, "nodegate.conf:1: invalid UTF-8 (byte 0xe2)"},
    {"# \xe2\x82\xac \xf0\x9f\x8c\xb2 \xf4\x8f\xbf\xbf \xed\x9f\xbf\n", 0, 0, ""},
};

static void check_outcome(const char *what, size_t i, int r, const struct settings *s,
                          const char *err, int want_ret, const char *want)
{
        char dump[1024];

        check_row(what, i, r, r == 0 ? settings_dump(s, dump, sizeof(dump)) : err, want_ret, want);
}

static void test_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                size_t len = rows[i].len ? rows[i].len : strlen(rows[i].text);
                char err[512] = "";
                struct settings s;
                int r;

                settings_init(&s);
                r = config_parse(rows[i].text, len, &s, err, sizeof(err));
                check_outcome("row", i, r, &s, err, rows[i].ret, rows[i].expect);
                settings_done(&s);
        }
}

static void test_size_limit(void **state)
{
        static const struct {
                size_t len;
                int ret;
                const char *expect;
        } long_rows[] = {
            {CONFIG_MAX, 0, "debug=1"},
            {CONFIG_MAX + 1, -E2BIG, "nodegate.conf: 65537 bytes, more than the 65536 allowed"},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(long_rows); i++) {
                char *text = malloc(long_rows[i].len), err[256] = "";
                struct settings s;
                int r;

                /* "nodegate.debug\n#####…": a key, then one long comment line */
                assert_non_null(text);
                memset(text, '#', long_rows[i].len);
                memcpy(text, "nodegate.debug\n", strlen("nodegate.debug\n"));
                settings_init(&s);
                r = config_parse(text, long_rows[i].len, &s, err, sizeof(err));
                check_outcome("long row", i, r, &s, err, long_rows[i].ret, long_rows[i].expect);
                settings_done(&s);
                free(text);
        }
}

/* config_load() on files: the file is optional, and the command line wins over it. */
static void test_load(void **state)
{
        static const struct {
                const char *name;
                const char *text; /* NULL: no such file; "/": a directory */
                const char *cmdline;
                int ret;
                const char *expect; /* settings after config_load() and cmdline_parse() */
        } load_rows[] = {
            {"absent.conf", NULL, "", 0, ""},
            {"absent2.conf", NULL, "nodegate.timeout=3", 0, "timeout=3"},
            {"empty.conf", "", "", 0, ""},
            {"plain.conf", "roothash=" H64 "\nnodegate.timeout=30\nrootfstype=erofs\n", "", 0,
             "roothash=" H64 " fstype=erofs timeout=30"},
            {"overridden.conf", "nodegate.timeout=30\nrootfstype=erofs\nnodegate.debug\n",
             "nodegate.timeout=45 rootfstype=ext4 nodegate.debug=0", 0, "fstype=ext4 timeout=45"},
            {"ip.conf", "ip=dhcp\n", "ip=eth1:dhcp", 0, "ip=eth1:dhcp"},
            {"ip-off.conf", "ip=dhcp\n", "ip=off", 0, ""},
            {"bad.conf", "nodegate.timeout=30\nnodegate.tiemout=5\n", "", -EINVAL,
             "nodegate.conf:2: unknown key nodegate.tiemout"},
            {"dir.conf", "/", "", -EISDIR, "cannot read %s: Is a directory"},
        };
        struct fixture_dir dir;

        (void) state;
        assert_int_equal(fixture_dir_make(&dir), 0);

        for (size_t i = 0; i < ELEMENTSOF(load_rows); i++) {
                char path[256], err[512] = "", want[512];
                struct settings s;
                int r;

                snprintf(path, sizeof(path), "%s/%s", dir.path, load_rows[i].name);
                if (load_rows[i].text && streq(load_rows[i].text, "/"))
                        assert_int_equal(mkdir(path, 0755), 0);
                else if (load_rows[i].text)
                        assert_int_equal(fixture_write(&dir, load_rows[i].name, load_rows[i].text,
                                                       strlen(load_rows[i].text), path,
                                                       sizeof(path)),
                                         0);

                settings_init(&s);
                r = config_load(path, &s, err, sizeof(err));
                if (r == 0)
                        assert_int_equal(cmdline_parse(load_rows[i].cmdline,
                                                       strlen(load_rows[i].cmdline), &s, err,
                                                       sizeof(err)),
                                         0);
                snprintf(want, sizeof(want), load_rows[i].expect, path);
                check_outcome("load row", i, r, &s, err, load_rows[i].ret, want);
                settings_done(&s);
        }

        fixture_dir_remove(&dir);
}

static void test_load_too_big(void **state)
{
        const size_t len = CONFIG_MAX + 1;
        char path[256], err[512] = "", want[512], *text = malloc(len);
        struct fixture_dir dir;
        struct settings s;

        (void) state;
        assert_non_null(text);
        memset(text, '#', len);
        assert_int_equal(fixture_dir_make(&dir), 0);
        assert_int_equal(fixture_write(&dir, "big.conf", text, len, path, sizeof(path)), 0);
        settings_init(&s);
        assert_int_equal(config_load(path, &s, err, sizeof(err)), -E2BIG);
        snprintf(want, sizeof(want), "%s: more than 65536 bytes", path);
        assert_string_equal(err, want);
        settings_done(&s);
        fixture_dir_remove(&dir);
        free(text);
}

/* A bad line late in the file must not leave the earlier lines half-applied. */
static void test_failure_leaves_settings_alone(void **state)
{
        const char *text = "roothash=" H64 "\nnodegate.timeout=9\nnodegate.nope=1\n";
        char dump[512];
        struct settings s;

        (void) state;
        settings_init(&s);
        s.rootfstype = strdup("ext4");
        assert_int_equal(config_parse(text, strlen(text), &s, NULL, 0), -EINVAL);
        assert_string_equal(settings_dump(&s, dump, sizeof(dump)), "fstype=ext4");
        settings_done(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
            cmocka_unit_test(test_size_limit),
            cmocka_unit_test(test_load),
            cmocka_unit_test(test_load_too_big),
            cmocka_unit_test(test_failure_leaves_settings_alone),
        };

        print_message("%zu table rows\n", ELEMENTSOF(rows));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
