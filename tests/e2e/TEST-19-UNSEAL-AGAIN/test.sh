#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# After a good boot, inside the new root, the stand-in kubelet takes the very answer the gate
# unsealed (the recording proxy offers it on NG_ANSWER_PORT) and asks the same TPM, in the same
# boot, to unseal it again: the gate's cap on PCR 15 changed the PCR state the blob is sealed to,
# so the TPM refuses. The helper (qemu/rootfs/unseal-again.c) unseals with the gate's own code
# (src/attest/tpm.c, tpm_unseal_imported), which opened this very blob moments before; same EK, same
# boot (resetCount), and only PCR 15 moved in between, so the refusal is the cap's doing.
# In the same boot the helper then plays root after the gate (issue 11, reattest-after-cap):
# fresh EK and AK, both rounds against the verifier, and the firmware's log with the cap event
# appended so that PCR 15 replays to the capped value: refused, already-attested, no token.
set -euo pipefail
TEST_NAME=unseal-again
TEST_DESCRIPTION="the stand-in unseals the gate's blob again and re-attests with a log claiming the cap: both refused"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_good_image_and_policy
}

test_run() {
        local id answer size rc cap
        e2e_verifier_start verifier record --policy "$E2E_POLICY" --answer-port "$NG_ANSWER_PORT"
        e2e_boot unseal-again "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_kubelet_ran
        assert_token_issued "$E2E_VDIR"
        assert_capped
        id=$(e2e_kubelet_token_id)
        # The gate's answer: the one with a sealed token (the helper's own round 2 is refused).
        answer=$(e2e_recorded "$E2E_VDIR" attest answer | while read -r f; do
                if grep -q '"sealed"' "$f"; then echo "$f"; fi
        done | tail -n 1)
        [[ -n $answer ]] || { e2e_fail "no answer was recorded"; return; }
        size=$(ng_size "$answer")
        rc=$(e2e_answer_reset_count "$answer")
        assert_log "NODEGATE-TEST: unseal-again: answer fetched: $size bytes, token_id=$id," \
                "the stand-in got the gate's answer ($size bytes, token id $id)"
        cap=$(e2e_cap_value 'nodegate: token released')
        assert_log "NODEGATE-TEST: unseal-again: before: ek=[a-z0-9]+ reset_count=$rc pcr15=$cap\$" \
                "same boot (resetCount $rc), PCR 15 capped, just before the attempt"
        assert_log 'NODEGATE-TEST: unseal-again: refused by the TPM: .*policy' \
                "the TPM refuses to unseal the blob again"
        assert_no_log 'NODEGATE-TEST: unseal-again: (UNSEALED|failed, but not by the policy|cannot)' \
                "no other outcome"
        assert_log 'NODEGATE-TEST: unseal-again: reattest: log of [0-9]+ bytes \+ the cap event on PCR 15' \
                "root re-attests in the same boot with the cap event appended to the firmware's log"
        assert_log 'NODEGATE-TEST: unseal-again: reattest: refused by the verifier: .*already-attested' \
                "the verifier refuses it: already-attested"
        assert_no_log 'NODEGATE-TEST: unseal-again: reattest: (ISSUED|UNSEALED|cannot|the second)' \
                "no second token, no other outcome"
        if e2e_audit "$E2E_VDIR" | grep -q '^rejected already-attested '; then
                e2e_ok "the verifier's audit log has 'rejected already-attested'"
        else
                e2e_fail "no 'rejected already-attested' in the audit log: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        if [[ $(e2e_audit "$E2E_VDIR" | grep -c '^issued ') == 1 ]]; then
                e2e_ok "one token issued in the boot, the gate's"
        else
                e2e_fail "not exactly one 'issued' line: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
}

e2e_main
