#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Secure Boot on (OVMF secboot + the snakeoil PK/KEK/db): the good UKI signed with the snakeoil
# key, its policy predicted from the signed file and a platform log of a *probe* image. PCR 7
# now holds the db authority that verified the UKI, which the prediction derives from the UKI's
# signature and the platform's db. The signed good image joins, every predicted event is in the
# measured log; a signed UKI with another command line is refused; the prediction refuses an
# unsigned UKI for this platform (the firmware would not start it). The images are Debian 12's
# configuration (stub 252, kernel 6.1); one more signed good image is Debian 13's (stub 257,
# kernel 6.12, TEST-30) and joins under its own prediction, matched event by event.
set -euo pipefail
TEST_NAME=predicted-secure-boot
TEST_DESCRIPTION="Secure Boot: policy predicted from the signed UKI, good joins, changed cmdline refused"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        for f in /usr/share/OVMF/OVMF_CODE_4M.secboot.fd /usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd; do
                [[ -r $f ]] || { e2e_fail "$f missing (package ovmf)"; return; }
        done
        E2E_TPM_ARGS+=(--secure-boot)
        e2e_snakeoil
        e2e_mkimage "$E2E_OUT/good.efi" "${E2E_SIGN[@]}"
        e2e_mkimage "$E2E_OUT/unsigned.efi"
        e2e_mkimage "$E2E_OUT/changed.efi" --append "nodegate-test.variant=changed-cmdline" \
                "${E2E_SIGN[@]}"
        e2e_need_debian13 || return
        e2e_mkimage "$E2E_OUT/good-debian13.efi" "${E2E_DEBIAN13_IMAGE[@]}" "${E2E_SIGN[@]}"
        e2e_platform_log --secure-boot
        e2e_predicted_policy "$E2E_OUT/good.efi" "$E2E_OUT/policy.json"
        e2e_predicted_policy "$E2E_OUT/good-debian13.efi" "$E2E_OUT/policy-debian13.json"
}

test_run() {
        local v
        v=$(ng_verifier_bin)
        if grep -q '^event 7 EV_EFI_VARIABLE_AUTHORITY ' "$E2E_OUT/policy.json.events"; then
                e2e_ok "the prediction has the db authority of the UKI's signature in PCR 7"
        else
                e2e_fail "no EV_EFI_VARIABLE_AUTHORITY predicted: $(head -n 1 "$E2E_OUT/policy.json.events")"
        fi
        if "$v" policy from-uki "$E2E_OUT/unsigned.efi" --platform-log "$E2E_PLATFORM_LOG" \
                >/dev/null 2>"$E2E_OUT/unsigned.err"; then
                e2e_fail "the prediction accepted an unsigned UKI for a Secure Boot platform"
        elif grep -q 'not signed' "$E2E_OUT/unsigned.err"; then
                e2e_ok "the prediction refuses the unsigned UKI: $(cat "$E2E_OUT/unsigned.err")"
        else
                e2e_fail "unexpected refusal of the unsigned UKI: $(cat "$E2E_OUT/unsigned.err")"
        fi

        e2e_verifier_start verifier record --policy "$E2E_OUT/policy.json"
        e2e_boot good "$E2E_OUT/good.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_no_log 'FAILED' "no failure logged"
        assert_kubelet_ran "the signed good image joined under the predicted policy"
        assert_token_issued "$E2E_VDIR"
        assert_prediction_matches "$E2E_OUT/policy.json.events" "$E2E_VDIR" 4,7,9,11

        e2e_verifier_start verifier-debian13 record --policy "$E2E_OUT/policy-debian13.json"
        e2e_boot good-debian13 "$E2E_OUT/good-debian13.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log "Linux version ${DEBIAN13_KVER//+/\\+} " "Debian 13's kernel booted under Secure Boot"
        assert_no_log 'FAILED' "no failure logged"
        assert_kubelet_ran "the signed Debian 13 image (stub 257) joined under its predicted policy"
        assert_token_issued "$E2E_VDIR"
        assert_prediction_matches "$E2E_OUT/policy-debian13.json.events" "$E2E_VDIR" 4,7,9,11

        e2e_verifier_start refused verifier --policy "$E2E_OUT/policy.json"
        e2e_boot changed-cmdline "$E2E_OUT/changed.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_refused event-not-allowed
        assert_kubelet_absent
}

e2e_main
