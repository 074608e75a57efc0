#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One flipped byte inside the stand-in init's file data on the data partition: everything up
# to the mount still works (the hash tree itself is intact), but the gate's full read of
# /sbin/init before switch_root hits the corrupted block, dm-verity returns EIO, and the boot
# stops inside the initramfs.
set -euo pipefail
TEST_NAME=tampered-block
TEST_DESCRIPTION="a flipped byte in /sbin/init's data stops the boot in the initramfs"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

disk=''

test_setup() {
        local start offset byte
        disk="$E2E_OUT/disk-tampered.img"
        cp "$GOOD_DISK" "$disk"
        # Partition 1 (data) start, in sectors, from the table itself rather than assumed.
        start=$(sfdisk --dump "$disk" | sed -n 's/^[^ ]*1 : start= *\([0-9]*\),.*/\1/p')
        [[ $start =~ ^[0-9]+$ ]] || { echo "cannot find partition 1 in $disk"; exit 1; }
        offset=$((start * 512 + $(cat "$ROOT_DIR/tamper-offset")))
        byte=$(od -An -tu1 -j "$offset" -N1 "$disk" | tr -d ' ')
        # shellcheck disable=SC2059 # the format is the octal escape being built
        printf "$(printf '\\%03o' $((byte ^ 0x01)))" |
                dd of="$disk" bs=1 seek="$offset" conv=notrunc status=none
        echo "  setup flipped bit 0 of byte $offset (data offset $((offset - start * 512)))"

        # The flip must be visible to verity, or this scenario would test nothing.
        local data="$E2E_OUT/data.img"
        dd if="$disk" of="$data" bs=512 skip="$start" count=$(( $(ng_size "$ROOT_DIR/root.erofs") / 512 )) status=none
        if veritysetup verify "$data" "$ROOT_DIR/root.verity" "$ROOTHASH" >/dev/null 2>&1; then
                echo "FAIL $TEST_NAME: veritysetup verify accepts the tampered data"; exit 1
        fi
        rm -f "$data"
        e2e_mkimage "$E2E_OUT/good.efi"
}

test_run() {
        e2e_boot tampered "$E2E_OUT/good.efi" "$disk"
        assert_status poweroff
        # The kernel names the corrupted block: proof that dm-verity, not the gate, found it.
        assert_log 'device-mapper: verity: [0-9]+:[0-9]+: data block [0-9]+ is corrupted' \
                "kernel dm-verity reports a corrupted data block"
        # The hash tree is intact, so activation and mount succeed; the init read fails, right
        # after the mount and before the gate attests: a broken root costs no token.
        assert_log 'nodegate\[mount\]: .* mounted read-only at /sysroot' \
                "verity activation and mount succeeded"
        assert_gate_failure init-unreadable
        assert_no_log 'nodegate\[attest\]' "the gate never attested"
        assert_marker_absent
}

e2e_main
