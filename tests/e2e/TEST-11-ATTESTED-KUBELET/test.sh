#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The good image against the verifier with the real policy (PCRs 4, 7, 9, 11 pinned to the
# reference boot's events): the stand-in kubelet starts with a token the verifier issued, and
# the audit log names the same token id.
set -euo pipefail
TEST_NAME=attested-kubelet
TEST_DESCRIPTION="good image, strict policy: kubelet runs with the token the verifier issued"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_good_image_and_policy
}

test_run() {
        local pinned
        pinned=$(python3 -c '
import json, sys
print(" ".join(sorted(json.load(open(sys.argv[1]))["pcrs"], key=int)))' "$E2E_POLICY")
        # PCR 2 (drivers) and 7 (Secure Boot) by default (issue 11), the cap PCR 15 pinned empty
        if [[ $pinned == "2 4 7 9 11 15" ]]; then
                e2e_ok "the policy pins PCRs 2 4 7 9 11 to the reference boot's events, and 15 empty"
        else
                e2e_fail "the policy pins '$pinned', expected '2 4 7 9 11 15'"
        fi
        e2e_verifier_start verifier verifier --policy "$E2E_POLICY"
        e2e_boot attested "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log "$(e2e_done_re switch)" "the gate reached switch_root"
        assert_no_log 'FAILED' "no failure logged"
        # Issue 13: a KVM guest that is no CVM (sev-guest refused it with ENODEV, no
        # configfs-tsm on this kernel, no Azure report in swtpm): detected as none, version 2.
        assert_log 'nodegate\[attest\]: platform: none \(' "the gate detected no CVM platform"
        assert_kubelet_ran
        assert_token_issued "$E2E_VDIR"
        assert_capped
        # One round each: nothing had to be retried.
        if [[ $(e2e_audit "$E2E_VDIR" | cut -d' ' -f1 | tr '\n' ' ') == "challenged issued " ]]; then
                e2e_ok "the audit log has one challenge and one issued token, nothing else"
        else
                e2e_fail "audit log: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        assert_log 'NODEGATE-TEST: unseal-again: not asked' \
                "the stand-in tried nothing else (no answer offered in this scenario)"
}

e2e_main
