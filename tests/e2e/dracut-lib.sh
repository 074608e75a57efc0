# SPDX-License-Identifier: GPL-2.0-or-later
# The dracut scenarios (TEST-2x-DRACUT-*): the gate in a dracut initramfs of either flavour,
# a good boot against the strict policy and a changed command line, which must be refused.
# Sourced by a scenario after tests/e2e/lib.sh, with DRACUT_FLAVOUR set (systemd, legacy).
# shellcheck shell=bash
# INITRD and E2E_VERIFIER are read by lib.sh's functions.
# shellcheck disable=SC2034

: "${DRACUT_FLAVOUR:?a dracut scenario must set DRACUT_FLAVOUR}"
INITRD="$NG_QEMU_OUT/dracut-$DRACUT_FLAVOUR.img"
E2E_VERIFIER=manual

# The root is entered by dracut's own switch, never by the gate: systemd says so, dracut's
# init.sh does not, so the stand-in's marker is the proof there.
dracut_switched() {
        if [[ $DRACUT_FLAVOUR == systemd ]]; then
                assert_log 'Reached target initrd-switch-root\.target|Switching root\.' \
                        "systemd switched root after the gate"
        fi
        assert_log "$NG_MARKER" "the stand-in init ran in the verified root"
}

test_setup() {
        e2e_good_image_and_policy
        e2e_mkimage "$E2E_OUT/changed.efi" --append "nodegate-test.variant=changed-cmdline"
}

test_run() {
        e2e_verifier_start verifier verifier --policy "$E2E_POLICY"
        e2e_boot attested "$E2E_GOOD_UKI" "$GOOD_DISK"
        assert_status poweroff
        assert_log "$(e2e_done_re mount)" "the gate mounted the verity root at /sysroot"
        assert_log "$(e2e_done_re sysroot)" "the attest phase found the root the root phase set up"
        assert_log "$(e2e_done_re handover)" "the gate handed over the kubeconfig"
        assert_log 'nodegate\[[a-z]+\]: the initramfs may switch root into /sysroot now' \
                "the gate left the switch to dracut"
        assert_no_log "$(e2e_done_re switch)" "the gate did not switch root itself"
        assert_no_log 'FAILED' "no failure logged"
        dracut_switched
        assert_kubelet_ran
        assert_token_issued "$E2E_VDIR"
        assert_capped
        e2e_verifier_stop

        e2e_verifier_start refusing verifier --policy "$E2E_POLICY"
        e2e_boot changed-cmdline "$E2E_OUT/changed.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log "$(e2e_done_re mount)" "the root itself verified and mounted"
        assert_refused event-not-allowed
        assert_no_log 'Reached target initrd-switch-root\.target|Switching root\.' \
                "nothing switched root"
        assert_kubelet_absent
        assert_marker_absent
}
