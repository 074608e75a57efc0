#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The machine has no TPM at all (QEMU without a TPM device): nothing can be attested or
# unsealed. The gate says so, naming the devices it looked for, and stops before switch_root;
# the verifier (running, permissive) never hears from it.
set -euo pipefail
TEST_NAME=no-tpm
TEST_DESCRIPTION="no TPM device: tpm-missing, verifier never contacted, fails closed"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_mkimage "$E2E_OUT/good.efi"
}

test_run() {
        E2E_TPM_ARGS=(--tpm none)
        e2e_boot no-tpm "$E2E_OUT/good.efi" "$GOOD_DISK"
        assert_no_log 'tpm_tis|tpm_crb' "the kernel found no TPM"
        assert_status poweroff
        assert_gate_failure tpm-missing
        assert_failure_detail tpm-missing '/dev/tpm' "the failure names the TPM devices it looked for"
        if [[ ! -s $E2E_VDIR/audit.jsonl ]]; then
                e2e_ok "the verifier was never contacted"
        else
                e2e_fail "the verifier answered: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        assert_kubelet_absent
        assert_marker_absent
}

e2e_main
