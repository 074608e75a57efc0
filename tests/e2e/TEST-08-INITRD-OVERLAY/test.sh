#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Broken files inside the initramfs: each boot appends a small cpio archive to the gate's
# initramfs that replaces one file (see e2e_overlay_initrd), so the gate under test is the very
# binary and module set that the good scenario boots.
#   config        /etc/nodegate/nodegate.conf with an unknown key  → config-invalid
#   relative      /etc/nodegate/modules with a relative path line   → module-list
#   bogus-module  /etc/nodegate/modules also listing a file that is
#                 not a kernel module                               → module-load
#   proc-file     /proc a regular file instead of a directory: the
#                 gate cannot mount procfs, and without it cannot
#                 read the command line, so its default action,
#                 halt, applies                                     → early-mount
set -euo pipefail
TEST_NAME=initrd-overlay
TEST_DESCRIPTION="a bad nodegate.conf, a bad module list, a non-module and a /proc file each stop the boot"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The gate's own module list, read from the initramfs under test (zstd or plain cpio).
gate_module_list() {
        local magic
        magic=$(od -An -tx1 -N4 "$INITRD" | tr -d ' \n')
        if [[ $magic == 28b52ffd ]]; then
                zstd -dcq -- "$INITRD"
        else
                cat -- "$INITRD"
        fi | cpio -i --quiet --to-stdout etc/nodegate/modules
}

# Writes the overlay spec for files given as "PATH-IN-INITRAMFS=HOST-FILE" pairs, each in
# /, /etc/nodegate or /lib/modules. mkcpio wants every parent directory in the spec; the kernel
# keeps the directories the gate's archive already made, and replaces an empty directory by a
# file of the same name (init/initramfs.c, clean_path()).
overlay_spec() {
        local pair
        printf 'dir %s 0755 0 0\n' /etc /etc/nodegate /lib /lib/modules
        for pair in "$@"; do
                echo "file ${pair%%=*} ${pair#*=} 0644 0 0"
        done
}

test_setup() {
        local d="$E2E_OUT/files" n
        mkdir -p "$d"
        gate_module_list >"$d/modules.orig"
        n=$(grep -c '^/' "$d/modules.orig" || true)
        ((n > 0)) || { echo "FAIL $TEST_NAME: no module list in $INITRD"; exit 1; }
        echo "  setup the gate's module list has $n modules"

        # Line 3 names a key nothing knows: a typo must not silently drop a setting.
        printf '# written by %s\nnodegate.timeout=60\nnodegate.bogus_key=1\n' "$TEST_NAME" \
                >"$d/nodegate.conf"
        overlay_spec "/etc/nodegate/nodegate.conf=$d/nodegate.conf" >"$d/config.spec"
        e2e_overlay_initrd "$d/config.spec" "$E2E_OUT/config.img"

        # A path relative to the module directory, as modules.dep writes them.
        { cat "$d/modules.orig"; echo "kernel/fs/erofs/erofs.ko"; } >"$d/modules.relative"
        overlay_spec "/etc/nodegate/modules=$d/modules.relative" >"$d/relative.spec"
        e2e_overlay_initrd "$d/relative.spec" "$E2E_OUT/relative.img"

        # Last in the list, so every real module has loaded when the gate reaches it.
        printf 'this is not a kernel module\n' >"$d/bogus.ko"
        { cat "$d/modules.orig"; echo "/lib/modules/bogus.ko"; } >"$d/modules.bogus"
        overlay_spec "/etc/nodegate/modules=$d/modules.bogus" "/lib/modules/bogus.ko=$d/bogus.ko" \
                >"$d/bogus.spec"
        e2e_overlay_initrd "$d/bogus.spec" "$E2E_OUT/bogus.img"

        printf 'not a directory\n' >"$d/proc"
        overlay_spec "/proc=$d/proc" >"$d/proc-file.spec"
        e2e_overlay_initrd "$d/proc-file.spec" "$E2E_OUT/proc-file.img"

        e2e_mkimage "$E2E_OUT/config.efi" --initrd "$E2E_OUT/config.img"
        e2e_mkimage "$E2E_OUT/relative.efi" --initrd "$E2E_OUT/relative.img"
        e2e_mkimage "$E2E_OUT/bogus.efi" --initrd "$E2E_OUT/bogus.img"
        e2e_mkimage "$E2E_OUT/proc-file.efi" --initrd "$E2E_OUT/proc-file.img"
}

test_run() {
        # The command line asks for poweroff and wins over the config file, even one the gate
        # refuses.
        e2e_boot config "$E2E_OUT/config.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure config-invalid
        assert_failure_detail config-invalid 'nodegate\.conf:3: .*nodegate\.bogus_key' \
                "failure names line 3 and its unknown key"
        assert_no_log 'nodegate\[parse\]: done' "parse step did not complete"
        assert_marker_absent

        e2e_boot relative "$E2E_OUT/relative.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_log "$(e2e_done_re parse)" "parse step completed"
        assert_gate_failure module-list
        assert_failure_detail module-list '/etc/nodegate/modules:[0-9]+: not an absolute path' \
                "failure names the module list, the line and the problem"
        assert_no_log 'nodegate\[modules\]: done' "modules step did not complete"
        assert_marker_absent

        e2e_boot bogus-module "$E2E_OUT/bogus.efi" "$GOOD_DISK"
        assert_status poweroff
        # The real modules came first: the disk driver had loaded before the bogus file.
        assert_log ' vda: vda1 vda2' "the modules before the bogus one loaded"
        assert_gate_failure module-load
        assert_failure_detail module-load 'cannot load /lib/modules/bogus\.ko' \
                "failure names /lib/modules/bogus.ko"
        assert_no_log 'nodegate\[modules\]: done' "modules step did not complete"
        assert_marker_absent

        # /dev is mounted before /proc, so the gate can still log through /dev/kmsg.
        e2e_boot proc-file "$E2E_OUT/proc-file.efi" "$GOOD_DISK"
        assert_status halt
        assert_gate_stop early-mount halt
        assert_failure_detail early-mount 'cannot mount /proc: Not a directory' \
                "failure names /proc and ENOTDIR"
        assert_no_log 'nodegate\[setup\]: done' "setup step did not complete"
        assert_no_log 'nodegate\[parse\]: ' "the command line was never parsed"
        assert_marker_absent
}

e2e_main
