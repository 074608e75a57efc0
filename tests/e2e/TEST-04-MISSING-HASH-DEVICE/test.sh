#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The disk has no hash partition: the gate waits for it until nodegate.timeout=10 expires,
# names the device it waited for, and powers off.
set -euo pipefail
TEST_NAME=missing-hash-device
TEST_DESCRIPTION="no hash partition: device-timeout after the 10 s deadline, naming the device"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

disk=''
deadline=10

test_setup() {
        disk="$E2E_OUT/disk-nohash.img"
        "$NG_TOP/qemu/mkdisk.sh" --data "$ROOT_DIR/root.erofs" --roothash "$ROOTHASH" \
                --out "$disk" --no-hash
        e2e_mkimage "$E2E_OUT/timeout.efi" --append "nodegate.timeout=$deadline"
}

test_run() {
        local hash_uuid line t0 tfail tend
        e2e_boot missing-hash "$E2E_OUT/timeout.efi" "$disk"
        assert_status poweroff
        assert_gate_failure device-timeout
        # The operator must learn which device never came: the hash partition's PARTUUID.
        hash_uuid=$(ng_roothash_hash_partuuid "$ROOTHASH")
        line=$(grep -m1 -E 'nodegate\[[a-z]+\]: FAILED device-timeout' "$(e2e_text)" || true)
        if [[ ${line,,} == *"$hash_uuid"* ]]; then
                e2e_ok "failure names the hash device ($hash_uuid)"
        else
                e2e_fail "failure line does not name the hash device $hash_uuid"
        fi
        assert_marker_absent

        # The deadline counts from the gate's start ("Run /init"), and the gate must wait it out.
        t0=$(ng_log_ts "$BOOT_LOG" 'Run /init as init process')
        tfail=$(ng_log_ts "$BOOT_LOG" 'FAILED device-timeout')
        tend=$(ng_log_ts "$BOOT_LOG" '\] reboot: Power down')
        if [[ -z $t0 || -z $tfail || -z $tend ]]; then
                e2e_fail "timestamps missing (init '$t0', failure '$tfail', power down '$tend')"
                return
        fi
        echo "  info  /init at $t0 s, failure at $tfail s (+$(ts_diff "$t0" "$tfail") s), power down at $tend s"
        if num_ge "$(ts_diff "$t0" "$tfail")" $((deadline - 1)).9; then
                e2e_ok "gave up no earlier than ${deadline} s after /init started"
        else
                e2e_fail "gave up $(ts_diff "$t0" "$tfail") s after /init, before the ${deadline} s deadline"
        fi
        if num_ge $((deadline + 15)) "$(ts_diff "$t0" "$tend")"; then
                e2e_ok "powered off within 15 s after the deadline"
        else
                e2e_fail "powered off $(ts_diff "$t0" "$tend") s after /init: deadline not honoured"
        fi
}

e2e_main
