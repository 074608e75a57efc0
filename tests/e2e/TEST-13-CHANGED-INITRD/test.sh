#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UKI of the good command line whose initramfs has one more file (a small cpio archive
# appended, see e2e_overlay_initrd): the gate itself is the same binary and would boot, but
# the UKI (PCR 4), its .initrd section (PCR 11) and the initrd the kernel loaded (PCR 9) are
# not the policy's. The verifier refuses, the boot stops before switch_root.
set -euo pipefail
TEST_NAME=changed-initrd
TEST_DESCRIPTION="one more file in the initramfs: event-not-allowed, no switch_root"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        local d="$E2E_OUT/files"
        e2e_good_image_and_policy
        mkdir -p "$d"
        echo "nodegate e2e: this file is not in the approved initramfs" >"$d/variant"
        printf 'dir /etc 0755 0 0\ndir /etc/nodegate 0755 0 0\nfile /etc/nodegate/variant %s 0644 0 0\n' \
                "$d/variant" >"$d/spec"
        e2e_overlay_initrd "$d/spec" "$E2E_OUT/changed-initrd.img"
        e2e_mkimage "$E2E_OUT/changed.efi" --initrd "$E2E_OUT/changed-initrd.img"
}

test_run() {
        e2e_verifier_start verifier verifier --policy "$E2E_POLICY"
        e2e_boot changed-initrd "$E2E_OUT/changed.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log "$(e2e_done_re mount)" "the root itself verified and mounted"
        assert_refused event-not-allowed
        assert_failure_detail verifier-refused 'PCR (4|9|11)' \
                "the refusal names a PCR the UKI or its initrd is measured into"
        assert_kubelet_absent
        assert_marker_absent
}

e2e_main
