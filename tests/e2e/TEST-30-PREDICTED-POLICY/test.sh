#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No golden boot: the policy of the good image is predicted from its UKI file alone
# (nodegate-verifier policy from-uki: PCRs 4, 9, 11), with PCR 7 from a platform log recorded by
# a *probe* image (another command line). The good image joins under it and every predicted
# event is in its measured log, in order, with the predicted and quoted PCR values; the
# changed-cmdline and changed-initramfs images are refused. Secure Boot off.
# The images under test are Debian 13's configuration (qemu/debian13.lock, make debian13): its
# systemd-stub 257 and its 6.12 cloud kernel, with the harness's initramfs built from that
# kernel's xz-compressed modules. The platform probe is Debian 12's (stub 252, kernel 6.1): the
# platform log depends on neither, and the boot checks the 257 model (.sbat in PCR 11, the
# initrd with the /.extra/os-release cpio in PCR 9) event by event. TEST-31 boots Debian 12's
# configuration under Secure Boot.
set -euo pipefail
TEST_NAME=predicted-policy
TEST_DESCRIPTION="policy predicted from the UKI: good joins, changed cmdline and initrd, SMBIOS cmdline words refused"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        local d="$E2E_OUT/files"
        e2e_need_debian13 || return 1
        e2e_mkimage "$E2E_OUT/good.efi" "${E2E_DEBIAN13_IMAGE[@]}"
        e2e_mkimage "$E2E_OUT/changed-cmdline.efi" "${E2E_DEBIAN13_IMAGE[@]}" \
                --append "nodegate-test.variant=changed-cmdline"
        mkdir -p "$d"
        echo "nodegate e2e: this file is not in the approved initramfs" >"$d/variant"
        printf 'dir /etc 0755 0 0\ndir /etc/nodegate 0755 0 0\nfile /etc/nodegate/variant %s 0644 0 0\n' \
                "$d/variant" >"$d/spec"
        INITRD=$DEBIAN13_INITRD e2e_overlay_initrd "$d/spec" "$E2E_OUT/changed-initrd.img"
        e2e_mkimage "$E2E_OUT/changed-initrd.efi" "${E2E_DEBIAN13_IMAGE[@]}" \
                --initrd "$E2E_OUT/changed-initrd.img"
        # shellcheck disable=SC2119 # Secure Boot off: no argument
        e2e_platform_log
        e2e_predicted_policy "$E2E_OUT/good.efi" "$E2E_OUT/policy.json"
}

test_run() {
        local pinned name
        pinned=$(python3 -c '
import json, sys
print(" ".join(sorted(json.load(open(sys.argv[1]))["pcrs"], key=int)))' "$E2E_OUT/policy.json")
        if [[ $pinned == "2 4 7 9 11 15" ]]; then
                e2e_ok "the predicted policy pins PCRs 2 4 7 9 11 and the cap PCR 15"
        else
                e2e_fail "the predicted policy pins '$pinned', expected '2 4 7 9 11 15'"
        fi
        if grep -q '^# .*: systemd-stub 257\.' "$E2E_OUT/policy.json.events" &&
                grep -q 'section name \.sbat$' "$E2E_OUT/policy.json.events" &&
                grep -q 'initrd (2 parts from systemd-stub' "$E2E_OUT/policy.json.events"; then
                e2e_ok "predicted for systemd-stub 257: .sbat in PCR 11, .initrd + /.extra/os-release in PCR 9"
        else
                e2e_fail "not a systemd-stub 257 prediction: $(head -n 1 "$E2E_OUT/policy.json.events")"
        fi
        # Nothing of the image under test came from a boot: the platform log is the probe's.
        if cmp -s "$E2E_OUT/good.efi" "$E2E_OUT/platform-probe.efi" 2>/dev/null; then
                e2e_fail "the platform probe is the image under test"
        else
                e2e_ok "the platform log is not a boot of the image under test"
        fi

        e2e_verifier_start verifier record --policy "$E2E_OUT/policy.json"
        e2e_boot good "$E2E_OUT/good.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log "Linux version ${DEBIAN13_KVER//+/\\+} " "Debian 13's kernel ($DEBIAN13_KVER) booted"
        # The dm-verity target exists only as a module in that kernel (.ko.xz in its package):
        # a verified root proves the gate loaded what mkinitrd.sh decompressed.
        assert_log "$(e2e_done_re mount)" "the verified root mounted on 6.12 (dm-verity from its xz module)"
        assert_no_log 'FAILED' "no failure logged"
        assert_kubelet_ran "the good image joined under the predicted policy"
        assert_token_issued "$E2E_VDIR"
        assert_capped
        assert_prediction_matches "$E2E_OUT/policy.json.events" "$E2E_VDIR" 4,7,9,11

        for name in changed-cmdline changed-initrd; do
                e2e_verifier_start "refused-$name" verifier --policy "$E2E_OUT/policy.json"
                e2e_boot "$name" "$E2E_OUT/$name.efi" "$GOOD_DISK"
                e2e_verifier_stop
                assert_status poweroff
                assert_log "$(e2e_done_re mount)" "$name: the root itself verified and mounted"
                assert_refused event-not-allowed
                assert_failure_detail verifier-refused 'PCR (4|9|11)' \
                        "$name: the refusal names a PCR the UKI decides"
                assert_kubelet_absent
        done

        # systemd-stub 257 appends an SMBIOS OEM string io.systemd.stub.kernel-cmdline-extra to
        # the command line of the very same (good) UKI outside confidential VMs: whoever
        # configures the VM adds kernel parameters. It goes to PCR 12, which is not pinned, and
        # the kernel measures the longer command line into PCR 9, which is.
        local extra="nodegate-test.variant=smbios-cmdline-extra"
        E2E_BOOT_ARGS=(--smbios-oem "io.systemd.stub.kernel-cmdline-extra=$extra")
        e2e_verifier_start refused-smbios-cmdline-extra verifier --policy "$E2E_OUT/policy.json"
        e2e_boot smbios-cmdline-extra "$E2E_OUT/good.efi" "$GOOD_DISK"
        e2e_verifier_stop
        E2E_BOOT_ARGS=()
        assert_status poweroff
        assert_log "Kernel command line: .*$extra" "the stub appended the SMBIOS words to the command line"
        assert_refused event-not-allowed
        assert_failure_detail verifier-refused 'PCR 9' \
                "smbios-cmdline-extra: refused on PCR 9 (the kernel's measured command line)"
        assert_kubelet_absent
}

e2e_main
