#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The good image: the gate verifies the root, attests to the verifier, unseals the token, caps
# PCR 15 and hands over to the stand-in kubelet. The verifier judges no event here (the policy
# of the attestation scenarios is made from this very boot: the recording proxy in front of
# the verifier keeps the event log the gate sent as the image's reference).
set -euo pipefail
TEST_NAME=good
TEST_DESCRIPTION="good image boots through every step to the stand-in kubelet; its log is the reference"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_mkimage "$E2E_OUT/good.efi"
}

test_run() {
        local step seen want steps=("${NG_STEPS[@]}")
        ((E2E_REFERENCE)) && steps=("${NG_REF_STEPS[@]}")
        ((E2E_REFERENCE)) || e2e_verifier_start verifier record
        e2e_boot good "$E2E_OUT/good.efi" "$GOOD_DISK"
        ((E2E_REFERENCE)) || e2e_verifier_stop
        assert_status poweroff
        assert_log "$NG_MARKER" "stand-in init reached (marker on the console)"
        # Proves that what ran is the verity device, read-only, not some other disk.
        assert_log 'NODEGATE-TEST: root: /dev/(mapper/[^ ]+|dm-[0-9]+) erofs ro$' \
                "new root is the dm device, erofs, mounted read-only"
        for step in "${steps[@]}"; do
                assert_log "$(e2e_done_re "$step")" "step $step logged done"
        done
        seen=$({ grep -oE "$(e2e_done_re '[a-z_]+')" "$(e2e_text)" || true; } |
                sed 's/^[^[]*\[\([a-z_]*\)\].*/\1/' | tr '\n' ' ')
        want="${steps[*]} "
        if [[ $seen == "$want" ]]; then
                e2e_ok "done lines in order: $want"
        else
                e2e_fail "done lines out of order: got '$seen', expected '$want'"
        fi
        assert_no_log 'FAILED|boot stopped' "no failure logged"
        # The marker must come after the gate's last line: the handover really happened.
        if [[ $(grep -m1 -E "$(e2e_done_re switch)|$NG_MARKER" "$(e2e_text)") == *switch* ]]; then
                e2e_ok "marker follows the gate's switch line"
        else
                e2e_fail "marker does not follow the gate's switch line"
        fi
        # The reference initramfs neither attests nor hands a token over.
        ((E2E_REFERENCE)) && return 0

        assert_kubelet_ran
        assert_token_issued "$E2E_VDIR"
        assert_capped
        e2e_keep_reference "$E2E_OUT/good.efi" "$E2E_VDIR" || true
}

e2e_main
