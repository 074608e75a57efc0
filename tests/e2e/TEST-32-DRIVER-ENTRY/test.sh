#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# NOT ENABLED (the file is not executable, so tests/e2e/run.sh skips it): under Debian's OVMF
# 2022.11 the Driver0000/DriverOrder variables tests/tools/ovmf-vars.py writes into the private
# VARS copy did not make the firmware load and measure the driver: the recorded request's PCR 2
# held only its separator, and the boot joined (2026-12-06, two boots). Finding out why needs
# the firmware's debug output (a DEBUG build of OVMF on isa-debugcon); until then the defence is
# tested on the event EDK2 would log (tests/integration/test-attestation.py, driver-via-driver####).
# driver-via-driver#### (issue 11 §3): with Secure Boot off, root adds a Driver#### entry and an
# EFI driver on the ESP (efibootmgr --driver would do; tests/tools/ovmf-vars.py writes the same
# variables into the firmware's store). OVMF loads the driver before the boot application and
# measures it into PCR 2, where such a driver could go on to report the image's PCR 4/9/11
# events while booting another. The good image boots with it: the default policy (PCR 2 pinned
# from the reference boot) refuses, naming PCR 2 and the driver's event; no token.
# The driver is the one Debian ships inside iPXE's virtio option ROM (ipxe-qemu, a dependency of
# qemu-system-x86): an x64 EFI boot-services driver, taken out of the ROM as it is.
set -euo pipefail
TEST_NAME=driver-entry
TEST_DESCRIPTION="a Driver#### entry loads an EFI driver from the ESP: PCR 2 not the policy's, refused"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DRIVER_ROM=/usr/lib/ipxe/qemu/efi-virtio.rom

test_setup() {
        e2e_good_image_and_policy
        # The PCI option ROM holds a legacy image, then the EFI one (signature 0x0EF1,
        # uncompressed): its PE starts at the offset the EFI ROM header gives.
        python3 - "$DRIVER_ROM" "$E2E_OUT/driver.efi" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 0
while d[off:off + 2] == b"\x55\xaa":
    pcir = off + struct.unpack_from("<H", d, off + 0x18)[0]
    size = struct.unpack_from("<H", d, pcir + 0x10)[0] * 512  # PCIR ImageLength
    if struct.unpack_from("<I", d, off + 4)[0] == 0x0EF1:
        subsystem, machine, compression = struct.unpack_from("<HHH", d, off + 8)
        assert (subsystem, machine, compression) == (11, 0x8664, 0), (subsystem, machine)
        image = off + struct.unpack_from("<H", d, off + 0x16)[0]
        assert d[image:image + 2] == b"MZ"
        open(sys.argv[2], "wb").write(d[image:off + size])
        sys.exit(0)
    if d[pcir + 0x15] & 0x80:
        break
    off += size
sys.exit("no EFI image in " + sys.argv[1])
PY
}

test_run() {
        local saved=("${E2E_TPM_ARGS[@]}")
        # record: the request the gate sent is kept, to show what PCR 2 held.
        e2e_verifier_start verifier record --policy "$E2E_POLICY"
        E2E_TPM_ARGS+=(--driver "$E2E_OUT/driver.efi")
        e2e_boot driver-entry "$E2E_GOOD_UKI" "$GOOD_DISK"
        E2E_TPM_ARGS=("${saved[@]}")
        e2e_verifier_stop
        assert_status poweroff
        assert_refused event-not-allowed
        assert_failure_detail verifier-refused 'PCR 2 event [0-9]+ EV_EFI_BOOT_SERVICES_DRIVER' \
                "the refusal names PCR 2 and the driver's EV_EFI_BOOT_SERVICES_DRIVER event"
        assert_kubelet_absent
        assert_marker_absent
}

e2e_main
