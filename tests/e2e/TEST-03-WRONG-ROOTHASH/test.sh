#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A root hash that differs from the image's in one hex digit: dm-verity must refuse.
#
# The digit changed is #40 (0-based) of 64. A SHA-256 root hash has no bits outside the two
# 128-bit halves that systemd turns into PARTUUIDs, so any change moves one of them (#40 moves
# the hash partition's). The devices are therefore named explicitly, by their real PARTUUIDs,
# so that both are found and the failure is dm-verity's, not a missing device.
set -euo pipefail
TEST_NAME=wrong-roothash
TEST_DESCRIPTION="a root hash wrong in one digit stops the boot at verity activation"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        local i=40 c bad hexdigits=0123456789abcdef
        c=${ROOTHASH:i:1}
        c=${hexdigits:$(( (16#$c + 1) % 16 )):1}
        bad="${ROOTHASH:0:i}$c${ROOTHASH:i+1}"
        [[ $bad != "$ROOTHASH" && ${#bad} == 64 ]] || { echo "cannot derive a wrong root hash"; exit 1; }
        echo "  setup roothash $bad (good: $ROOTHASH)"
        e2e_mkimage "$E2E_OUT/wrong.efi" --roothash "$bad" --append \
                "systemd.verity_root_data=PARTUUID=$(ng_roothash_data_partuuid "$ROOTHASH") systemd.verity_root_hash=PARTUUID=$(ng_roothash_hash_partuuid "$ROOTHASH")"
}

test_run() {
        e2e_boot wrong-roothash "$E2E_OUT/wrong.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_log 'nodegate\[devices\]: done in [0-9]+(\.[0-9]+)? ms' "both devices found"
        assert_gate_failure verity-activate
        assert_no_log 'nodegate\[mount\]: done' "nothing was mounted"
        assert_marker_absent
}

e2e_main
