#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Command lines that parse but ask for something the gate must refuse: no root hash at all,
# verity switched off, a verity option that would let corruption through, and a file system
# type that the verified root does not hold. Each stops the boot before switch_root; the
# first three while parsing, the last at the mount, after verity accepted the root.
set -euo pipefail
TEST_NAME=refused-cmdline
TEST_DESCRIPTION="no roothash=, systemd.verity=0, ignore-corruption and a wrong rootfstype= each stop the boot"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        # Everything of the good command line but the root hash (mkimage.sh would add it).
        e2e_mkimage "$E2E_OUT/no-roothash.efi" --cmdline "$(ng_cmdline '' | sed 's/ roothash= / /')"
        e2e_mkimage "$E2E_OUT/verity-off.efi" --append "systemd.verity=0"
        e2e_mkimage "$E2E_OUT/ignore-corruption.efi" \
                --append "systemd.verity_root_options=ignore-corruption"
        e2e_mkimage "$E2E_OUT/squashfs.efi" --append "rootfstype=squashfs"
}

test_run() {
        e2e_boot no-roothash "$E2E_OUT/no-roothash.efi" "$GOOD_DISK"
        assert_no_log 'Kernel command line:.*roothash' "the kernel got no roothash= at all"
        assert_status poweroff
        assert_gate_failure roothash-missing
        assert_failure_detail roothash-missing 'roothash=' "failure names the missing roothash="
        assert_no_log 'nodegate\[parse\]: done' "parse step did not complete"
        assert_marker_absent

        e2e_boot verity-off "$E2E_OUT/verity-off.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure verity-disabled
        assert_failure_detail verity-disabled 'systemd\.verity' "failure names systemd.verity"
        assert_no_log 'nodegate\[parse\]: done' "parse step did not complete"
        assert_marker_absent

        e2e_boot ignore-corruption "$E2E_OUT/ignore-corruption.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure cmdline-invalid
        assert_failure_detail cmdline-invalid 'ignore-corruption' \
                "failure names the refused option ignore-corruption"
        assert_no_log 'nodegate\[parse\]: done' "parse step did not complete"
        assert_marker_absent

        # squashfs is a valid rootfstype= and its module is in the initramfs: only the mount
        # itself can find out that the verified device holds erofs.
        e2e_boot squashfs "$E2E_OUT/squashfs.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_log "$(e2e_done_re verity)" "verity accepted the root before the mount"
        assert_log "Can't find a SQUASHFS superblock on dm-[0-9]+" "the kernel tried squashfs on the device"
        assert_gate_failure root-mount
        assert_failure_detail root-mount 'cannot mount /dev/(mapper/[^ ]+|dm-[0-9]+) at /sysroot: as squashfs' \
                "failure names the verity device, /sysroot and the type it tried"
        assert_marker_absent
}

e2e_main
