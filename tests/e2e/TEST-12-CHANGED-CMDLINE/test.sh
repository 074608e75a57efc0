#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UKI whose command line differs from the good one by one harmless word, with the same root
# hash: dm-verity would accept the root, but the UKI (PCR 4), its .cmdline section (PCR 11) and
# the command line the kernel got (PCR 9) are not the policy's. The verifier refuses, the boot
# stops before switch_root.
set -euo pipefail
TEST_NAME=changed-cmdline
TEST_DESCRIPTION="same root hash, one more word on the command line: event-not-allowed, no switch_root"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_good_image_and_policy
        # Not a key of the gate's (nor of the kernel's): only the measurements change.
        e2e_mkimage "$E2E_OUT/changed.efi" --append "nodegate-test.variant=changed-cmdline"
}

test_run() {
        e2e_verifier_start verifier verifier --policy "$E2E_POLICY"
        e2e_boot changed-cmdline "$E2E_OUT/changed.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_log "Kernel command line: .*roothash=$ROOTHASH .*nodegate-test\\.variant=changed-cmdline" \
                "the kernel got the good root hash and the extra word"
        assert_status poweroff
        assert_log "$(e2e_done_re mount)" "the root itself verified and mounted"
        assert_refused event-not-allowed
        assert_failure_detail verifier-refused 'PCR (4|9|11)' \
                "the refusal names a PCR the UKI or its command line is measured into"
        assert_kubelet_absent
        assert_marker_absent
}

e2e_main
