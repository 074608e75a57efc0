#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two identical disks: every PARTUUID the root hash derives is on both. The gate cannot know
# which one the firmware booted from, and picking either would let a second disk that an
# attacker attached win a race, so it must refuse and name both candidates.
set -euo pipefail
TEST_NAME=ambiguous-device
TEST_DESCRIPTION="the good disk attached twice: device-ambiguous naming /dev/vda… and /dev/vdb…"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

twin=''

test_setup() {
        # A copy rather than the same file twice: two drives on one file would depend on
        # QEMU's image locking rules instead of on what this scenario is about.
        twin="$E2E_OUT/disk-twin.img"
        cp "$GOOD_DISK" "$twin"
        e2e_mkimage "$E2E_OUT/good.efi"
}

test_run() {
        local data_uuid
        e2e_boot_disks twins "$E2E_OUT/good.efi" "${BOOT_TIMEOUT:-240}" "$GOOD_DISK" "$twin"
        assert_log ' vda: vda1 vda2' "the guest sees the first disk's partitions"
        assert_log ' vdb: vdb1 vdb2' "the guest sees the second disk's partitions"
        assert_status poweroff
        assert_gate_failure device-ambiguous
        # The data device is looked up first, so it is the one found twice.
        data_uuid=$(ng_roothash_data_partuuid "$ROOTHASH")
        assert_failure_detail device-ambiguous "$data_uuid" "failure names the data PARTUUID"
        assert_failure_detail device-ambiguous '/dev/vda[0-9]' "failure names /dev/vda…"
        assert_failure_detail device-ambiguous '/dev/vdb[0-9]' "failure names /dev/vdb…"
        assert_no_log 'nodegate\[verity\]: done' "no verity device was activated"
        assert_marker_absent
}

e2e_main
