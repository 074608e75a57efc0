#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Malformed kernel command lines stop the boot while parsing. nodegate.on_failure=poweroff
# comes before the bad word, so the action is known even though parsing fails later.
set -euo pipefail
TEST_NAME=malformed-cmdline
TEST_DESCRIPTION="a non-hex root hash and an unknown nodegate.* key each stop the boot at parse"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        local bad
        # Same length, one digit replaced by 'g': only the character set is wrong.
        bad="${ROOTHASH:0:20}g${ROOTHASH:21}"
        e2e_mkimage "$E2E_OUT/nonhex.efi" --roothash "$bad"
        e2e_mkimage "$E2E_OUT/bogus-key.efi" --append "nodegate.bogus=1"
}

test_run() {
        e2e_boot nonhex "$E2E_OUT/nonhex.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure cmdline-invalid
        assert_no_log 'nodegate\[parse\]: done' "parse step did not complete"
        assert_marker_absent

        e2e_boot bogus-key "$E2E_OUT/bogus-key.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure cmdline-invalid
        assert_log 'FAILED cmdline-invalid.*nodegate\.bogus' "failure names the unknown key"
        assert_no_log 'nodegate\[parse\]: done' "parse step did not complete"
        assert_marker_absent
}

e2e_main
