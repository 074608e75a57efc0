#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One node (its TPM state kept across boots), booted twice with the good image. The first boot
# goes through a recording proxy and joins. On the second, the proxy passes the challenge round
# to the verifier as usual (credential activation works: same EK, same AK) but answers round 2
# with the first boot's recorded answer. Same TPM, same PCR values, another boot: the TPM
# imports the blob and refuses to unseal it (PolicyCounterTimer: resetCount moved on), and the
# gate stops before switch_root.
set -euo pipefail
TEST_NAME=replayed-answer
TEST_DESCRIPTION="the first boot's answer replayed to the second, identical boot: unseal refused"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_good_image_and_policy
}

test_run() {
        local first answer req2 req1 rc1 rc2 rca
        E2E_TPM_ARGS=(--tpm-ca "$E2E_PKI/swtpm-ca" --tpm-state "$E2E_OUT/tpm-state")

        e2e_verifier_start first record --policy "$E2E_POLICY"
        e2e_boot first "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        first=$E2E_VDIR
        assert_status poweroff
        assert_kubelet_ran "first boot: the stand-in kubelet started"
        assert_token_issued "$first"
        answer=$(e2e_recorded "$first" attest answer | tail -n 1)
        req1=$(e2e_recorded "$first" attest request | tail -n 1)
        [[ -n $answer && -n $req1 ]] || { e2e_fail "the first boot's round 2 was not recorded"; return; }

        e2e_verifier_start second replay --policy "$E2E_POLICY" --replay "$answer"
        e2e_boot second "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_gate_failure unseal
        assert_failure_detail unseal 'TPM2_PolicyCounterTimer\(resetCount\)' \
                "the TPM refused the blob by its resetCount (PolicyCounterTimer): another boot"
        assert_kubelet_absent
        assert_marker_absent

        # What makes the difference is the boot, and only the boot.
        req2=$(e2e_recorded "$E2E_VDIR" attest request | tail -n 1)
        if [[ -z $req2 ]]; then
                e2e_fail "the second boot's round 2 was not recorded"
                return
        fi
        if [[ $(e2e_audit "$E2E_VDIR" | tr '\n' ';') == 'challenged ok -;' ]]; then
                e2e_ok "second boot: the verifier answered round 1 only (round 2 was the replay)"
        else
                e2e_fail "second boot's audit log: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        if diff <(e2e_request_pcrs "$req1") <(e2e_request_pcrs "$req2") >/dev/null; then
                e2e_ok "both boots quoted the same PCR values ($(e2e_request_pcrs "$req1" | wc -l) PCRs)"
        else
                e2e_fail "the two boots' PCR values differ: the replay is not what this scenario tests"
        fi
        rc1=$(e2e_request_reset_count "$req1")
        rc2=$(e2e_request_reset_count "$req2")
        rca=$(e2e_answer_reset_count "$answer")
        if [[ $rca == "$rc1" && $rc2 =~ ^[0-9]+$ ]] && ((rc2 > rc1)); then
                e2e_ok "the blob is sealed to resetCount $rca (first boot), the second boot's TPM is at $rc2"
        else
                e2e_fail "resetCount: answer $rca, first quote $rc1, second quote $rc2"
        fi
}

e2e_main
