#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Correctly verified roots whose init cannot run. Verity and the mount succeed both times.
#   no-init    no /sbin/init at all: the gate must stop before switch_root (handing PID 1 to
#              nothing would panic the kernel)                              → init-missing
#   text-init  /sbin/init is an executable file that is neither ELF nor a #! script:
#              execve() would refuse it (ENOEXEC) only after switch_root, so the gate checks
#              the format first and stops inside the initramfs               → init-missing
#   init-param the good root with init=/usr/sbin/no-such-init: the gate uses init= (as systemd
#              does) and stops because that file is not in the root          → init-missing
# Both roots are the good one with another /sbin/init (qemu/mkrootfs.sh --init), each with its
# own hash tree, disk and root hash, built the same reproducible way.
set -euo pipefail
TEST_NAME=bad-init
TEST_DESCRIPTION="roots without the init to run (none, a text file, init= naming a missing file): init-missing"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Builds root variant KIND (mkrootfs.sh --init KIND): its disk and a UKI with its root hash.
build_variant() {
        local kind=$1 root="$E2E_OUT/root-$1" hash
        "$NG_TOP/qemu/mkrootfs.sh" --init "$kind" --out "$root"
        hash=$(cat "$root/roothash")
        # The good root hash would mean the variant is not a different root.
        [[ $hash != "$ROOTHASH" ]] || { echo "FAIL $TEST_NAME: $kind root has the good root hash"; exit 1; }
        "$NG_TOP/qemu/mkdisk.sh" --data "$root/root.erofs" --hash "$root/root.verity" \
                --roothash "$hash" --out "$E2E_OUT/disk-$kind.img"
        e2e_mkimage "$E2E_OUT/$kind.efi" --roothash "$hash"
}

test_setup() {
        build_variant none
        build_variant text
        e2e_mkimage "$E2E_OUT/init-param.efi" --append "init=/usr/sbin/no-such-init"
}

test_run() {
        e2e_boot no-init "$E2E_OUT/none.efi" "$E2E_OUT/disk-none.img"
        assert_status poweroff
        assert_log 'nodegate\[mount\]: .* mounted read-only at /sysroot' \
                "the root without init was verified and mounted"
        assert_no_log 'nodegate\[attest\]' "the gate never attested"
        assert_gate_failure init-missing
        assert_failure_detail init-missing '/sbin/init.*No such file or directory' \
                "failure names /sbin/init and ENOENT"
        assert_marker_absent

        e2e_boot text-init "$E2E_OUT/text.efi" "$E2E_OUT/disk-text.img"
        assert_status poweroff
        assert_log 'nodegate\[mount\]: .* mounted read-only at /sysroot' \
                "the root with a text init was verified and mounted"
        assert_no_log 'nodegate\[attest\]' "the gate never attested"
        assert_gate_failure init-missing
        assert_failure_detail init-missing '/sbin/init.*Exec format error' \
                "failure names /sbin/init and ENOEXEC"
        assert_no_log 'nodegate\[switch\]: executing' "the gate never left the initramfs"
        assert_no_log 'Kernel panic' "PID 1 did not exit (no kernel panic)"
        assert_marker_absent

        e2e_boot init-param "$E2E_OUT/init-param.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure init-missing
        assert_failure_detail init-missing '/usr/sbin/no-such-init.*No such file or directory' \
                "failure names the init= path, not /sbin/init"
        assert_marker_absent
}

e2e_main
