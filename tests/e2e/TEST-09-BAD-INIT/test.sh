#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Correctly verified roots whose init cannot run. Verity and the mount succeed both times.
#   no-init    no /sbin/init at all: the gate must stop before switch_root (handing PID 1 to
#              nothing would panic the kernel)                              → init-missing
#   text-init  /sbin/init is an executable file that is neither ELF nor a #! script: every
#              check before switch_root passes, execve() refuses it (ENOEXEC) after the
#              switch, and the gate, already inside the new root, must still stop the boot
#              as asked instead of exiting (PID 1 exiting panics the kernel)  → exec-init
# Both roots are the good one with another /sbin/init (qemu/mkrootfs.sh --init), each with its
# own hash tree, disk and root hash, built the same reproducible way.
set -euo pipefail
TEST_NAME=bad-init
TEST_DESCRIPTION="verified roots without /sbin/init and with a non-executable one: init-missing, exec-init"
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
}

test_run() {
        e2e_boot no-init "$E2E_OUT/none.efi" "$E2E_OUT/disk-none.img"
        assert_status poweroff
        assert_log "$(e2e_done_re mount)" "the root without init was verified and mounted"
        assert_gate_failure init-missing
        assert_failure_detail init-missing '/sbin/init.*No such file or directory' \
                "failure names /sbin/init and ENOENT"
        assert_marker_absent

        e2e_boot text-init "$E2E_OUT/text.efi" "$E2E_OUT/disk-text.img"
        assert_status poweroff
        # The switch step completed: the checks cannot tell that execve() will refuse the file.
        assert_log "$(e2e_done_re switch)" "switch_root done before the exec"
        assert_log 'nodegate\[switch\]: executing /sbin/init' "the gate tried to execute /sbin/init"
        assert_gate_stop exec-init poweroff
        assert_failure_detail exec-init '/sbin/init.*Exec format error' \
                "failure names /sbin/init and ENOEXEC"
        assert_no_log 'Kernel panic' "PID 1 did not exit (no kernel panic)"
        assert_marker_absent
}

e2e_main
