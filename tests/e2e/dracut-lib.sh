# SPDX-License-Identifier: GPL-2.0-or-later
# The dracut scenarios (TEST-2x-DRACUT-*): the gate in a dracut initramfs of either flavour,
# a good boot against the policy predicted from its UKI (no golden boot: the prediction must hold
# for a dracut-built initramfs too), a changed command line, which must be refused, and a gate
# that dies, which must still stop the boot.
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

# A hook that runs between the gate's two phases and puts another file system over the root
# it verified: the attest phase must notice before it attests, whatever the verifier would say.
dracut_swapped_root_initrd() {
        local d="$E2E_OUT/swap" dir
        mkdir -p "$d"
        cat >"$d/05-swap-root.sh" <<'HOOK'
#!/bin/sh
mount -t tmpfs swapped-root "$NEWROOT" && echo "nodegate-test: swapped the root" >/dev/kmsg
HOOK
        for dir in /usr /usr/lib /usr/lib/dracut /usr/lib/dracut/hooks \
                /usr/lib/dracut/hooks/pre-pivot; do
                printf 'dir %s 0755 0 0\n' "$dir"
        done >"$d/spec"
        echo "file /usr/lib/dracut/hooks/pre-pivot/05-swap-root.sh $d/05-swap-root.sh 0755 0 0" \
                >>"$d/spec"
        e2e_overlay_initrd "$d/spec" "$E2E_OUT/swapped.img"
        "$NG_TOP/qemu/mkimage.sh" --initrd "$E2E_OUT/swapped.img" --kver "$KVER" \
                --out "$E2E_OUT/swapped.efi"
}

# The initramfs under test with /usr/bin/nodegate replaced by one that dies of SIGSEGV, as a
# gate with a bug would: the hooks and units must still stop the boot, by the command line's
# nodegate.on_failure= (poweroff), without the gate's help.
dracut_crashing_gate_initrd() {
        local d="$E2E_OUT/crash"
        mkdir -p "$d"
        printf '#!/bin/sh\necho "nodegate-test: the gate dies" >/dev/kmsg\nkill -SEGV $$\n' \
                >"$d/nodegate"
        printf 'dir %s 0755 0 0\n' /usr /usr/bin >"$d/spec"
        echo "file /usr/bin/nodegate $d/nodegate 0755 0 0" >>"$d/spec"
        e2e_overlay_initrd "$d/spec" "$E2E_OUT/crash.img"
        "$NG_TOP/qemu/mkimage.sh" --initrd "$E2E_OUT/crash.img" --kver "$KVER" \
                --out "$E2E_OUT/crash.efi"
}

dracut_crashing_gate() {
        e2e_boot gate-crashes "$E2E_OUT/crash.efi" "$GOOD_DISK"
        assert_log 'nodegate-test: the gate dies' "the stand-in gate ran and died"
        assert_status poweroff
        assert_log "nodegate: the boot stops: the root is never entered without the gate's success" \
                "the $DRACUT_FLAVOUR hooks stopped the boot themselves"
        if [[ $DRACUT_FLAVOUR == systemd ]]; then
                assert_log 'Starting nodegate-failed\.s' \
                        "nodegate-failed.service ran"
        fi
        assert_no_log 'Reached target initrd-switch-root\.target|Switching root\.' \
                "nothing switched root"
        assert_marker_absent
}

test_setup() {
        E2E_GOOD_UKI="$E2E_OUT/good.efi"
        E2E_POLICY="$E2E_OUT/policy.json"
        e2e_mkimage "$E2E_GOOD_UKI"
        # shellcheck disable=SC2119 # Secure Boot off: no argument
        e2e_platform_log
        e2e_predicted_policy "$E2E_GOOD_UKI" "$E2E_POLICY"
        dracut_crashing_gate_initrd
        e2e_mkimage "$E2E_OUT/changed.efi" --append "nodegate-test.variant=changed-cmdline"
        [[ $DRACUT_FLAVOUR != legacy ]] || dracut_swapped_root_initrd
}

dracut_swapped_root() {
        e2e_verifier_start swapped verifier --policy "$E2E_POLICY"
        e2e_boot swapped-root "$E2E_OUT/swapped.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log 'nodegate-test: swapped the root' "the test hook put a tmpfs over /sysroot"
        assert_gate_failure root-not-verified
        assert_failure_detail root-not-verified '/sysroot is not /dev/mapper/root mounted read-only: another file system is mounted there' \
                "the gate names the mount that is not its verity root"
        assert_no_log "$(e2e_done_re attest)" "the gate did not attest"
        if [[ -z $(e2e_audit "$E2E_VDIR") ]]; then
                e2e_ok "the verifier was never asked"
        else
                e2e_fail "the verifier was asked: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        assert_kubelet_absent
        assert_marker_absent
}

test_run() {
        e2e_verifier_start verifier record --policy "$E2E_POLICY"
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
        assert_prediction_matches "$E2E_POLICY.events" "$E2E_VDIR" 4,7,9,11

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
        dracut_crashing_gate
        [[ $DRACUT_FLAVOUR != legacy ]] || dracut_swapped_root
}
