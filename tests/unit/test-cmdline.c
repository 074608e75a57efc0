/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmdline_parse(): the kernel command-line grammar and every key's value rules, one row per
 * input with the resulting settings (or the exact error) beside it. */

#include "config/cmdline.h"
#include "settings-dump.h"

/* After our headers: cmocka defines a fail() macro that would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "row-check.h"

#define H16    "0123456789abcdef"
#define U16    "0123456789ABCDEF"
#define H40    H16 H16 "01234567"
#define H64    H16 H16 H16 H16
#define H64U   U16 U16 U16 U16
#define H128   H64 H64
#define UUID_L "6c1c0b5a-1f2e-4d3c-8b9a-0e1f2a3b4c5d"
#define UUID_U "6C1C0B5A-1F2E-4D3C-8B9A-0E1F2A3B4C5D"

struct row {
        const char *input;
        size_t len; /* 0: strlen(input); set for inputs with NUL bytes */
        int ret;
        const char *expect; /* ret == 0: settings_dump(); otherwise the exact error message */
};

static const struct row rows[] = {
    /* empty input and whitespace */
    {"", 0, 0, ""},
    {" \t\n\r\v\f ", 0, 0, ""},
    {"quiet console=ttyS0,115200 root=/dev/sda1 ro splash", 0, 0, ""},
    {"roothash=" H64 "\n", 0, 0, "roothash=" H64},
    {"\troothash=" H64 "\tnodegate.timeout=7\n", 0, 0, "roothash=" H64 " timeout=7"},
    {"roothash=" H64 "\r\nnodegate.debug\v\fquiet", 0, 0, "roothash=" H64 " debug=1"},
    {"   nodegate.timeout=5      nodegate.debug   ", 0, 0, "timeout=5 debug=1"},

    /* roothash= */
    {"roothash=" H40, 0, 0, "roothash=" H40},
    {"roothash=" H128, 0, 0, "roothash=" H128},
    {"roothash=" H64U, 0, 0, "roothash=" H64},
    {"roothash=aBcD" H16 H16 "0123456789ab" H16, 0, 0, "roothash=abcd" H16 H16 "0123456789ab" H16},
    {"roothash=0123g" H64, 0, -EINVAL, "roothash: non-hex character 'g' at position 5"},
    {"roothash=" H64 "z", 0, -EINVAL, "roothash: non-hex character 'z' at position 65"},
    {"roothash=0x" H64, 0, -EINVAL, "roothash: non-hex character 'x' at position 2"},
    {"roothash=01\x1b" H64, 0, -EINVAL, "roothash: non-hex character '\\x1b' at position 3"},
    {"roothash=" H16 H16 "012345", 0, -EINVAL,
     "roothash: too short (38 hex digits, need at least 40)"},
    {"roothash=" H128 "ab", 0, -EINVAL, "roothash: too long (130 hex digits, at most 128)"},
    {"roothash=" H64 "a", 0, -EINVAL,
     "roothash: odd length (65 hex digits, a hash has whole bytes)"},
    {"roothash=" H40 "0", 0, -EINVAL,
     "roothash: odd length (41 hex digits, a hash has whole bytes)"},
    {"roothash", 0, -EINVAL, "roothash: needs a value (roothash=...)"},
    {"roothash=", 0, -EINVAL, "roothash: empty value"},
    {"roothash=\"\"", 0, -EINVAL, "roothash: empty value"},
    {"rd.roothash=" H64, 0, 0, "roothash=" H64},

    /* quoting, as the kernel and systemd do it */
    {"roothash=\"" H64 "\"", 0, 0, "roothash=" H64},
    {"\"roothash=" H64 "\"", 0, 0, "roothash=" H64},
    {"systemd.verity_root_data=\"PARTLABEL=my root\"", 0, 0, "data=PARTLABEL=my root"},
    {"\"systemd.verity_root_data=LABEL=a b\tc\"", 0, 0, "data=LABEL=a b\tc"},
    {"roothash=\"" H64, 0, -EINVAL, "unterminated quote starting at offset 9"},
    {"console=ttyS0 \"nodegate.debug", 0, -EINVAL, "unterminated quote starting at offset 14"},
    {"a=\"b\" c=\"d", 0, -EINVAL, "unterminated quote starting at offset 8"},

    /* repeated keys: the last one wins */
    {"roothash=" H40 " roothash=" H64, 0, 0, "roothash=" H64},
    {"nodegate.timeout=5 nodegate.timeout=10", 0, 0, "timeout=10"},
    {"systemd.verity=no rd.systemd.verity=yes", 0, 0, "verity=1"},
    {"rootflags=noatime rootflags=", 0, 0, ""},

    /* "--" ends the kernel's options */
    {"roothash=" H64 " -- roothash=zz nodegate.foo=1", 0, 0, "roothash=" H64},
    {"nodegate.timeout=3 \"--\" nodegate.timeout=junk", 0, 0, "timeout=3"},
    {"-- \"unterminated", 0, 0, ""},
    {"--roothash=zz nodegate.timeout=4", 0, 0, "timeout=4"},
    {"--", 0, 0, ""},

    /* "-" and "_" are the same in key names */
    {"nodegate.on-failure=reboot", 0, 0, "on_failure=reboot"},
    {"nodegate-on-failure=reboot", 0, 0, ""},
    {"systemd.verity-root-hash=/dev/vdb systemd.verity_root-data=/dev/vda", 0, 0,
     "data=/dev/vda hash=/dev/vdb"},
    {"systemd-verity_root_data=/dev/vda", 0, 0, ""},

    /* keys that are not ours, and our closed namespace */
    {"root=/dev/sda1 rd.luks.uuid=x systemd.unit=rescue.target", 0, 0, ""},

    /* init=: the new root's init, as systemd reads it */
    {"root=/dev/sda1 init=/bin/sh", 0, 0, "init=/bin/sh"},
    {"init=/usr/lib/systemd/systemd init=/sbin/init", 0, 0, "init=/sbin/init"},
    {"rd.init=/lib/systemd/systemd", 0, 0, "init=/lib/systemd/systemd"},
    {"init=sbin/init", 0, -EINVAL, "init: expected an absolute path, got 'sbin/init'"},
    {"init=/sbin/../bin/sh", 0, -EINVAL, "init: path must not contain \"..\""},
    {"init=", 0, -EINVAL, "init: empty value"},
    {"init", 0, -EINVAL, "init: needs a value (init=...)"},

    /* ip=: the forms ip-config.c accepts (test-ip-config has them all), stored as written */
    {"ip=dhcp", 0, 0, "ip=dhcp"},
    {"ip=eth0:dhcp", 0, 0, "ip=eth0:dhcp"},
    {"ip=10.0.0.2::10.0.0.1:24:node1:eth0:none:10.0.0.53", 0, 0,
     "ip=10.0.0.2::10.0.0.1:24:node1:eth0:none:10.0.0.53"},
    {"ip=off", 0, 0, ""},
    {"rd.ip=any", 0, 0, "ip=any"},
    {"IP=dhcp", 0, 0, ""},
    {"ip", 0, -EINVAL, "ip: needs a value (ip=...)"},
    {"ip=", 0, -EINVAL, "ip: empty value"},
    {"ip=dhcp6", 0, -EOPNOTSUPP, "ip: IPv6 (dhcp6) is not supported yet"},
    {"ip=10.0.0.2::10.0.0.1:33::eth0:none", 0, -EINVAL,
     "ip: netmask '33' is neither a dotted quad nor a prefix length 1..32"},
    {"ip=eth0:dhcp ip=eth1:dhcp", 0, -EINVAL,
     "ip: given more than once (nodegate configures one interface)"},
    {"ip=dhcp rd.ip=off", 0, -EINVAL,
     "rd.ip: given more than once (nodegate configures one interface)"},
    {"ip=dhcp -- ip=eth1:dhcp", 0, 0, "ip=dhcp"},
    {"NODEGATE.foo=1 Roothash=zz", 0, 0, ""},
    {"=1 = ==", 0, 0, ""},
    {"nodegate.foo=1", 0, -EINVAL, "unknown key nodegate.foo"},
    {"nodegate.foo", 0, -EINVAL, "unknown key nodegate.foo"},
    {"nodegate.", 0, -EINVAL, "unknown key nodegate."},
    {"rd.nodegate.uri=https://x", 0, -EINVAL, "unknown key rd.nodegate.uri"},
    {"nodegate.\x1b[2J=1", 0, -EINVAL, "unknown key nodegate.\\x1b[2J"},

    /* nodegate.url=, nodegate.ca=, nodegate.tpm=, nodegate.ek=: the verifier and the TPM */
    {"nodegate.url=https://verifier.example:8443", 0, 0, "url=https://verifier.example:8443"},
    {"rd.nodegate.url=https://10.0.2.2:8443/nodegate/", 0, 0,
     "url=https://10.0.2.2:8443/nodegate/"},
    {"nodegate.url=https://[fd00::1]", 0, 0, "url=https://[fd00::1]"},
    {"nodegate.url=http://10.0.2.2:8443", 0, -EINVAL,
     "nodegate.url: the verifier is reached over https:// only, got 'http://10.0.2.2:8443'"},
    {"nodegate.url=HTTPS://x", 0, -EINVAL,
     "nodegate.url: the verifier is reached over https:// only, got 'HTTPS://x'"},
    {"nodegate.url=https://", 0, -EINVAL, "nodegate.url: no host in 'https://'"},
    {"nodegate.url=https:///v1", 0, -EINVAL, "nodegate.url: no host in 'https:///v1'"},
    {"nodegate.url=https://u:p@host", 0, -EINVAL,
     "nodegate.url: no user info, query or fragment ('@' at position 12)"},
    {"nodegate.url=https://host/?a=b", 0, -EINVAL,
     "nodegate.url: no user info, query or fragment ('?' at position 14)"},
    {"nodegate.url=https://host/#x", 0, -EINVAL,
     "nodegate.url: no user info, query or fragment ('#' at position 14)"},
    {"\"nodegate.url=https://a b\"", 0, -EINVAL,
     "nodegate.url: character not allowed in a URL at position 10"},
    {"nodegate.url=https://h\x7f", 0, -EINVAL,
     "nodegate.url: character not allowed in a URL at position 10"},
    {"nodegate.url=", 0, -EINVAL, "nodegate.url: empty value"},
    {"nodegate.url", 0, -EINVAL, "nodegate.url: needs a value (nodegate.url=...)"},
    {"nodegate.ca=/etc/nodegate/verifier-ca.pem", 0, 0, "ca=/etc/nodegate/verifier-ca.pem"},
    {"nodegate.ca=ca.pem", 0, -EINVAL, "nodegate.ca: expected a path below /, got 'ca.pem'"},
    {"nodegate.ca=/", 0, -EINVAL, "nodegate.ca: expected a path below /, got '/'"},
    {"nodegate.ca=/etc/../root/ca.pem", 0, -EINVAL, "nodegate.ca: path must not contain \"..\""},
    {"nodegate.ca=/etc/ca\x01.pem", 0, -EINVAL, "nodegate.ca: control character in the path"},
    {"nodegate.tpm=/dev/tpm0", 0, 0, "tpm=/dev/tpm0"},
    {"nodegate.tpm=/dev/tpmrm1 nodegate.tpm=/dev/tpmrm0", 0, 0, "tpm=/dev/tpmrm0"},
    {"nodegate.tpm=/tmp/tpm", 0, -EINVAL,
     "nodegate.tpm: expected a path below /dev/, got '/tmp/tpm'"},
    {"nodegate.tpm=/dev/", 0, -EINVAL, "nodegate.tpm: expected a path below /dev/, got '/dev/'"},
    {"nodegate.tpm=/dev/../tmp/tpm", 0, -EINVAL, "nodegate.tpm: path must not contain \"..\""},
    {"nodegate.tpm=/dev/" H64, 0, -EINVAL, "nodegate.tpm: longer than 63 bytes"},
    {"nodegate.ek=ecc384", 0, 0, "ek=ecc384"},
    {"nodegate.ek=rsa2048 nodegate.ek=auto", 0, 0, ""},
    {"nodegate.ek=rsa", 0, -EINVAL,
     "nodegate.ek: expected auto, ecc256, ecc384 or rsa2048, got 'rsa'"},

    /* nodegate.platform=: the TEE evidence override (issue 13); auto detects */
    {"nodegate.platform=azure-snp", 0, 0, "platform=azure-snp"},
    {"nodegate.platform=snp", 0, 0, "platform=snp"},
    {"rd.nodegate.platform=none", 0, 0, "platform=none"},
    {"nodegate.platform=none nodegate.platform=auto", 0, 0, ""},
    {"nodegate.platform=tdx", 0, 0, "platform=tdx"},
    {"nodegate.platform=azure-tdx", 0, 0, "platform=azure-tdx"},
    {"nodegate.platform=azure", 0, -EINVAL,
     "nodegate.platform: expected none, azure-snp, snp, tdx, azure-tdx or auto, got 'azure'"},
    {"nodegate.platform=", 0, -EINVAL, "nodegate.platform: empty value"},
    {"nodegate.platform", 0, -EINVAL, "nodegate.platform: needs a value (nodegate.platform=...)"},

    /* systemd.verity_root_data= and _hash= */
    {"systemd.verity_root_data=/dev/vda2 systemd.verity_root_hash=/dev/disk/by-id/x", 0, 0,
     "data=/dev/vda2 hash=/dev/disk/by-id/x"},
    {"systemd.verity_root_data=PARTUUID=" UUID_U, 0, 0, "data=PARTUUID=" UUID_L},
    {"systemd.verity_root_hash=UUID=" UUID_L, 0, 0, "hash=UUID=" UUID_L},
    {"systemd.verity_root_hash=LABEL=root-hash", 0, 0, "hash=LABEL=root-hash"},
    {"systemd.verity_root_data=/dev/", 0, -EINVAL,
     "systemd.verity_root_data: names no device after /dev/"},
    {"systemd.verity_root_data=/dev/../etc/shadow", 0, -EINVAL,
     "systemd.verity_root_data: path must not contain \"..\""},
    {"systemd.verity_root_data=/dev/mapper/..", 0, -EINVAL,
     "systemd.verity_root_data: path must not contain \"..\""},
    {"systemd.verity_root_data=/dev/..foo", 0, 0, "data=/dev/..foo"},
    {"systemd.verity_root_data=sda1", 0, -EINVAL,
     "systemd.verity_root_data: expected /dev/..., PARTUUID=, UUID=, LABEL= or PARTLABEL=, "
     "got 'sda1'"},
    {"systemd.verity_root_data=/etc/passwd", 0, -EINVAL,
     "systemd.verity_root_data: expected /dev/..., PARTUUID=, UUID=, LABEL= or PARTLABEL=, "
     "got '/etc/passwd'"},
    {"systemd.verity_root_hash=partuuid=" UUID_L, 0, -EINVAL,
     "systemd.verity_root_hash: expected /dev/..., PARTUUID=, UUID=, LABEL= or PARTLABEL=, "
     "got 'partuuid=" UUID_L "'"},
    {"systemd.verity_root_hash=PARTUUID=6c1c0b5a1f2e4d3c8b9a0e1f2a3b4c5d", 0, -EINVAL,
     "systemd.verity_root_hash: PARTUUID= must be a UUID "
     "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got '6c1c0b5a1f2e4d3c8b9a0e1f2a3b4c5d'"},
    {"systemd.verity_root_hash=UUID=6c1c0b5a-1f2e-4d3c-8b9a-0e1f2a3b4c5g", 0, -EINVAL,
     "systemd.verity_root_hash: UUID= must be a UUID "
     "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got '6c1c0b5a-1f2e-4d3c-8b9a-0e1f2a3b4c5g'"},
    {"systemd.verity_root_hash=LABEL=", 0, -EINVAL, "systemd.verity_root_hash: empty LABEL="},
    {"systemd.verity_root_hash=PARTLABEL=", 0, -EINVAL,
     "systemd.verity_root_hash: empty PARTLABEL="},
    {"systemd.verity_root_hash", 0, -EINVAL,
     "systemd.verity_root_hash: needs a value (systemd.verity_root_hash=...)"},

    /* systemd.verity_root_options= */
    {"systemd.verity_root_options=panic-on-corruption,ignore-zero-blocks", 0, 0,
     "options=panic-on-corruption,ignore-zero-blocks"},
    {"systemd.verity_root_options=check-at-most-once", 0, -EPERM,
     "systemd.verity_root_options: check-at-most-once is refused: a hostile disk could serve "
     "good blocks first and tampered ones once the page cache dropped them"},
    {"systemd.verity_root_options=superblock=no,hash=sha512,salt=-", 0, 0,
     "options=superblock=no,hash=sha512,salt=-"},
    {"systemd.verity_root_options=", 0, 0, ""},
    {"systemd.verity_root_options=ignore-corruption", 0, -EPERM,
     "systemd.verity_root_options: ignore-corruption is refused: it would let a tampered "
     "root boot"},
    {"systemd.verity_root_options=fec-device=/dev/vdc", 0, -EOPNOTSUPP,
     "systemd.verity_root_options: fec-device is not supported in this version of "
     "nodegate (no forward error correction)"},
    {"systemd.verity_root_options=superblock=no,hash=md5", 0, -EINVAL,
     "systemd.verity_root_options: hash= must be sha1, sha256 or sha512"},
    {"systemd.verity_root_options=frobnicate", 0, -EINVAL,
     "systemd.verity_root_options: unknown option frobnicate"},

    /* rootfstype= and rootflags= */
    {"rootfstype=erofs", 0, 0, "fstype=erofs"},
    {"rootfstype=squashfs", 0, 0, "fstype=squashfs"},
    {"rootfstype=ext4", 0, 0, "fstype=ext4"},
    {"rootfstype=xfs", 0, -EINVAL, "rootfstype: expected erofs, squashfs or ext4, got 'xfs'"},
    {"rootfstype=EROFS", 0, -EINVAL, "rootfstype: expected erofs, squashfs or ext4, got 'EROFS'"},
    {"rootfstype", 0, -EINVAL, "rootfstype: needs a value (rootfstype=...)"},
    {"rootflags=noatime,errors=panic", 0, 0, "flags=noatime,errors=panic"},
    {"rootflags=noatime,,nodev", 0, -EINVAL, "rootflags: empty option (stray comma)"},
    {"rootflags=remount", 0, -EINVAL, "rootflags: remount is not allowed for the root mount"},

    /* systemd.verity= and rd.systemd.verity= */
    {"systemd.verity=0", 0, 0, "verity=0"},
    {"rd.systemd.verity=no", 0, 0, "verity=0"},
    {"systemd.verity", 0, 0, "verity=1"},
    {"systemd.verity=on", 0, 0, "verity=1"},
    {"systemd.verity=2", 0, -EINVAL,
     "systemd.verity: expected a boolean (1, yes, y, true, on, 0, no, n, false, off), "
     "got '2'"},
    {"systemd.verity=", 0, -EINVAL,
     "systemd.verity: expected a boolean (1, yes, y, true, on, 0, no, n, false, off), got ''"},

    /* nodegate.on_failure= */
    {"nodegate.on_failure=poweroff", 0, 0, "on_failure=poweroff"},
    {"nodegate.on_failure=halt", 0, 0, ""},
    {"nodegate.on_failure=shell", 0, 0, "on_failure=shell"},
    {"nodegate.on-failure=explode", 0, -EINVAL,
     "nodegate.on-failure: expected halt, poweroff, reboot or shell, got 'explode'"},
    {"nodegate.on_failure=Reboot", 0, -EINVAL,
     "nodegate.on_failure: expected halt, poweroff, reboot or shell, got 'Reboot'"},
    {"nodegate.on_failure", 0, -EINVAL,
     "nodegate.on_failure: needs a value (nodegate.on_failure=...)"},

    /* nodegate.timeout= */
    {"nodegate.timeout=1", 0, 0, "timeout=1"},
    {"nodegate.timeout=3600", 0, 0, "timeout=3600"},
    {"nodegate.timeout=0090", 0, 0, ""},
    {"nodegate.timeout=0", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got '0'"},
    {"nodegate.timeout=3601", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got '3601'"},
    {"nodegate.timeout=+5", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got '+5'"},
    {"nodegate.timeout=-1", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got '-1'"},
    {"nodegate.timeout=5s", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got '5s'"},
    {"nodegate.timeout=\" 5\"", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got ' 5'"},
    {"nodegate.timeout=18446744073709551621", 0, -EINVAL,
     "nodegate.timeout: expected whole seconds from 1 to 3600, got '18446744073709551621'"},
    {"nodegate.timeout=", 0, -EINVAL, "nodegate.timeout: empty value"},

    /* nodegate.debug */
    {"nodegate.debug", 0, 0, "debug=1"},
    {"nodegate.debug=1", 0, 0, "debug=1"},
    {"nodegate.debug nodegate.debug=0", 0, 0, ""},
    {"nodegate.debug=maybe", 0, -EINVAL,
     "nodegate.debug: expected a boolean (1, yes, y, true, on, 0, no, n, false, off), "
     "got 'maybe'"},

    /* NUL bytes, anywhere */
    {"roothash=ab\0cd", 14, -EINVAL, "NUL byte at offset 11"},
    {"\0", 1, -EINVAL, "NUL byte at offset 0"},
    {"quiet -- \0", 10, -EINVAL, "NUL byte at offset 9"},
    {"quiet\n\0", 7, -EINVAL, "NUL byte at offset 6"},

    /* a realistic UKI command line */
    {"console=ttyS0 panic=1 roothash=" H64 " systemd.verity_root_data=PARTLABEL=root "
     "systemd.verity_root_hash=PARTLABEL=root-verity rootfstype=erofs "
     "nodegate.on_failure=poweroff nodegate.timeout=120\n",
     0, 0,
     "roothash=" H64 " data=PARTLABEL=root hash=PARTLABEL=root-verity fstype=erofs "
     "on_failure=poweroff timeout=120"},
};

/* Checks one outcome against its row, saying which row failed: cmocka alone would not. */
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
                const struct row *row = &rows[i];
                size_t len = row->len ? row->len : strlen(row->input);
                char err[512] = "";
                struct settings s;
                int r;

                settings_init(&s);
                r = cmdline_parse(row->input, len, &s, err, sizeof(err));
                check_outcome("row", i, r, &s, err, row->ret, row->expect);
                settings_done(&s);
        }
}

/* Inputs too big to write out: the limit itself, one byte over it, one huge word. */
struct generated_row {
        size_t len;
        const char *head; /* written at the start, the rest is filler */
        char filler;
        int ret;
        const char *expect;
};

static const struct generated_row generated_rows[] = {
    {CMDLINE_MAX, "roothash=" H64 " ", ' ', 0, "roothash=" H64},
    {CMDLINE_MAX, "quiet ", 'x', 0, ""},
    {CMDLINE_MAX + 1, "roothash=" H64 " ", ' ', -E2BIG,
     "kernel command line is 65537 bytes, more than the 65536 allowed"},
    {CMDLINE_MAX, "roothash=", 'a', -EINVAL, "roothash: too long (65527 hex digits, at most 128)"},
    {CMDLINE_MAX, "nodegate.on_failure=", 'q', -EINVAL,
     "nodegate.on_failure: expected halt, poweroff, reboot or shell, got "
     "'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
     "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq...'"},
    {CMDLINE_MAX, "\"", ' ', -EINVAL, "unterminated quote starting at offset 0"},
    {10 * CMDLINE_MAX, "", ' ', -E2BIG,
     "kernel command line is 655360 bytes, more than the 65536 allowed"},
};

static void test_generated_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(generated_rows); i++) {
                const struct generated_row *row = &generated_rows[i];
                char err[512] = "";
                char *text = malloc(row->len);
                size_t head = strlen(row->head);
                struct settings s;
                int r;

                assert_non_null(text);
                memset(text, row->filler, row->len);
                memcpy(text, row->head, head);

                settings_init(&s);
                r = cmdline_parse(text, row->len, &s, err, sizeof(err));
                check_outcome("generated row", i, r, &s, err, row->ret, row->expect);
                settings_done(&s);
                free(text);
        }
}

/* The command line is applied onto what the config file set, and wins where both speak. */
static void test_applies_onto_existing(void **state)
{
        const char *line = "nodegate.timeout=30 rootfstype=ext4";
        char dump[512];
        struct settings s;

        (void) state;
        settings_init(&s);
        s.roothash = strdup(H40);
        s.rootfstype = strdup("erofs");
        s.debug = true;
        assert_int_equal(cmdline_parse(line, strlen(line), &s, NULL, 0), 0);
        assert_string_equal(settings_dump(&s, dump, sizeof(dump)),
                            "roothash=" H40 " fstype=ext4 timeout=30 debug=1");
        settings_done(&s);
}

/* A bad word late in the line must not leave the earlier words half-applied. */
static void test_failure_leaves_settings_alone(void **state)
{
        const char *line = "roothash=" H64 " nodegate.timeout=9 rootfstype=ext4 nodegate.foo=1";
        char dump[512];
        struct settings s;

        (void) state;
        settings_init(&s);
        s.roothash = strdup(H40);
        assert_int_equal(cmdline_parse(line, strlen(line), &s, NULL, 0), -EINVAL);
        assert_string_equal(settings_dump(&s, dump, sizeof(dump)), "roothash=" H40);
        settings_done(&s);
}

/* Messages are cut to the caller's buffer, and no buffer at all is fine. */
static void test_small_error_buffers(void **state)
{
        const char *line = "nodegate.foo=1";
        const size_t sizes[] = {0, 1, 8, 25, 26};
        const char *expect[] = {"", "", "unknown", "unknown key nodegate.foo", NULL};
        struct settings s;

        (void) state;
        settings_init(&s);
        assert_int_equal(cmdline_parse(line, strlen(line), &s, NULL, 0), -EINVAL);
        assert_int_equal(cmdline_parse(line, strlen(line), &s, NULL, 100), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char *buf = calloc(1, sizes[i] ? sizes[i] : 1);

                assert_non_null(buf);
                assert_int_equal(cmdline_parse(line, strlen(line), &s, buf, sizes[i]), -EINVAL);
                assert_string_equal(buf, expect[i] ? expect[i] : "unknown key nodegate.foo");
                free(buf);
        }
        settings_done(&s);
}

/* The failure path still honours a readable nodegate.on_failure= on a refused line. */
static void test_failure_action(void **state)
{
        static const struct {
                const char *input;
                size_t len; /* 0: strlen(input) */
                int action;
        } action_rows[] = {
            {"", 0, -ENOENT},
            {"roothash=zz quiet", 0, -ENOENT},
            {"nodegate.on_failure", 0, -ENOENT},
            {"nodegate.on_failure=", 0, -ENOENT},
            {"nodegate.on_failure=reboot nodegate.foo=1", 0, FAILURE_ACTION_REBOOT},
            {"roothash=zz nodegate.on-failure=poweroff", 0, FAILURE_ACTION_POWEROFF},
            {"rd.nodegate.on_failure=reboot", 0, FAILURE_ACTION_REBOOT},
            {"nodegate.on_failure=shell", 0, FAILURE_ACTION_SHELL},
            {"\"nodegate.on_failure=poweroff\"", 0, FAILURE_ACTION_POWEROFF},
            {"nodegate.on_failure=reboot nodegate.on_failure=halt", 0, FAILURE_ACTION_HALT},
            {"nodegate.on_failure=reboot nodegate.on_failure=bogus", 0, FAILURE_ACTION_REBOOT},
            {"nodegate.on_failure=reboot \"x nodegate.on_failure=poweroff", 0,
             FAILURE_ACTION_REBOOT},
            {"nodegate.on_failure=reboot -- nodegate.on_failure=poweroff", 0,
             FAILURE_ACTION_REBOOT},
            {"nodegate.on_failure=reboot\0nodegate.on_failure=poweroff", 55, FAILURE_ACTION_REBOOT},
            {"nodegate.on_failure=re\0boot", 27, -ENOENT},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(action_rows); i++) {
                size_t len = action_rows[i].len ? action_rows[i].len : strlen(action_rows[i].input);
                int r = cmdline_failure_action(action_rows[i].input, len);

                if (r != action_rows[i].action)
                        print_message("action row %zu: got %d\n", i, r);
                assert_int_equal(r, action_rows[i].action);
        }
}

/* Even a line too long to parse yields the action written at its start. */
static void test_failure_action_long(void **state)
{
        const size_t len = 2 * CMDLINE_MAX;
        char *text = malloc(len);

        (void) state;
        assert_non_null(text);
        memset(text, ' ', len);
        memcpy(text, "nodegate.on_failure=poweroff", strlen("nodegate.on_failure=poweroff"));
        assert_int_equal(cmdline_parse(text, len, &(struct settings){0}, NULL, 0), -E2BIG);
        assert_int_equal(cmdline_failure_action(text, len), FAILURE_ACTION_POWEROFF);
        free(text);
}

/* The failure path's TPM: the last valid nodegate.tpm= among the words that can be read. */
static const struct {
        const char *input;
        const char *tpm; /* NULL: none */
        int action;
} failure_settings_rows[] = {
    {"nodegate.tpm=/dev/tpm1", "/dev/tpm1", -ENOENT},
    {"nodegate.tpm=/dev/tpm1 nodegate.typo=1", "/dev/tpm1", -ENOENT},
    {"rd.nodegate.tpm=/dev/tpm1 nodegate.on_failure=shell", "/dev/tpm1", FAILURE_ACTION_SHELL},
    {"nodegate.tpm=/dev/tpm1 nodegate.tpm=/tmp/x", "/dev/tpm1", -ENOENT},
    {"nodegate.tpm=/dev/tpm1 nodegate.tpm=/dev/tpm2", "/dev/tpm2", -ENOENT},
    {"nodegate.tpm=/dev/tpm1 x=\"open nodegate.tpm=/dev/tpm2", "/dev/tpm1", -ENOENT},
    {"nodegate.tpm=/dev/tpm1 -- nodegate.tpm=/dev/tpm2", "/dev/tpm1", -ENOENT},
    {"nodegate.tpm=", NULL, -ENOENT},
    {"nodegate.tpm=../dev/tpm0", NULL, -ENOENT},
    {"quiet", NULL, -ENOENT},
};

static void test_failure_settings(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(failure_settings_rows); i++) {
                char *tpm = (char *) "unset";
                int action = 99;

                assert_int_equal(cmdline_failure_settings(failure_settings_rows[i].input,
                                                          strlen(failure_settings_rows[i].input),
                                                          &action, &tpm),
                                 0);
                if (!streq_ptr(tpm, failure_settings_rows[i].tpm))
                        print_message("tpm row %zu: got %s\n", i, tpm ? tpm : "(null)");
                assert_true(streq_ptr(tpm, failure_settings_rows[i].tpm));
                assert_int_equal(action, failure_settings_rows[i].action);
                free(tpm);
        }
}

static void test_settings_init_done(void **state)
{
        struct settings s;

        (void) state;
        settings_init(&s);
        assert_null(s.roothash);
        assert_int_equal(s.verity_enabled, -1);
        assert_int_equal(s.on_failure, FAILURE_ACTION_HALT);
        assert_int_equal(s.timeout_sec, SETTINGS_DEFAULT_TIMEOUT_SEC);
        assert_false(s.debug);
        s.roothash = strdup(H40);
        s.rootflags = strdup("noatime");
        s.timeout_sec = 5;
        settings_done(&s);
        assert_null(s.roothash);
        assert_null(s.rootflags);
        assert_int_equal(s.timeout_sec, SETTINGS_DEFAULT_TIMEOUT_SEC);
        settings_done(&s); /* twice is harmless */
        settings_done(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
            cmocka_unit_test(test_generated_rows),
            cmocka_unit_test(test_applies_onto_existing),
            cmocka_unit_test(test_failure_leaves_settings_alone),
            cmocka_unit_test(test_small_error_buffers),
            cmocka_unit_test(test_failure_action),
            cmocka_unit_test(test_failure_action_long),
            cmocka_unit_test(test_failure_settings),
            cmocka_unit_test(test_settings_init_done),
        };

        print_message("%zu table rows, %zu generated rows\n", ELEMENTSOF(rows),
                      ELEMENTSOF(generated_rows));
        return cmocka_run_group_tests(tests, NULL, NULL);
}
