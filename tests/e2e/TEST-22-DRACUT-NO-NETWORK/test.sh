#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A host that holds the network back from a dracut initramfs (non-systemd flavour, where
# rd.neednet=1 makes dracut's initqueue wait for it): dracut gives up ("Could not boot.") and
# calls its emergency shell, which rd.shell (on by default) would open, passwordless, in the
# genuine initramfs with PCR 15 uncapped, where nodegate --phase=attest yields a token. With the
# module: the emergency hook caps PCR 15 and wipes /run/nodegate, no shell opens (rd.shell=0),
# and the boot ends by nodegate.on_failure= (poweroff here).
# The systemd flavour has no such wait (systemd-networkd: nodegate-attest.service runs after
# network-online.target and fails by itself, with the cap); its emergency, rescue,
# dracut-emergency and debug-shell units are checked by tests/dracut/test-units.py.
set -euo pipefail
TEST_NAME=dracut-no-network
TEST_DESCRIPTION="dracut (legacy): network held back: no shell, PCR 15 capped, the boot stops"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# INITRD is read by lib.sh's functions.
# shellcheck disable=SC2034
INITRD="$NG_QEMU_OUT/dracut-legacy.img"
E2E_VERIFIER=manual

test_setup() {
        # rd.retry=20: dracut gives up on the network after 20 s rather than its default 180 s
        # (CI time); what it does then is the same.
        e2e_mkimage "$E2E_OUT/no-network.efi" --append "rd.retry=20"
}

test_run() {
        E2E_BOOT_ARGS=(--no-network)
        e2e_boot no-network "$E2E_OUT/no-network.efi" "$GOOD_DISK" 200
        E2E_BOOT_ARGS=()
        assert_status poweroff
        assert_log 'Could not boot\.' "dracut gave up waiting for the network"
        assert_failed_cap
        assert_log 'nodegate: /run/nodegate wiped, PCR 15 capped or no TPM' \
                "nodegate --cap-failed capped and wiped /run/nodegate before any shell could open"
        assert_log 'nodegate: the boot failed outside the gate; no shell \(rd\.shell=0\)' \
                "the emergency hook ended the boot instead of a shell"
        assert_no_log 'Dropping to debug shell|Entering emergency mode|:/# ' "no shell opened"
        assert_no_log "$(e2e_done_re attest)" "the gate never attested"
        assert_no_log 'Switching root|switch root' "nothing switched root"
        assert_kubelet_absent
        assert_marker_absent
}

e2e_main
