#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Nothing listens where nodegate.url= points (the scenario's network namespace has no verifier):
# every connection is refused. The gate retries with backoff, within nodegate.timeout=, then
# stops the boot with verifier-unreachable and powers off; no switch_root.
set -euo pipefail
TEST_NAME=verifier-down
TEST_DESCRIPTION="no verifier: bounded retries until nodegate.timeout=30, verifier-unreachable, poweroff"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

deadline=30

test_setup() {
        e2e_mkimage "$E2E_OUT/down.efi" --append "nodegate.timeout=$deadline"
}

test_run() {
        local t0 tfail tend attempts
        e2e_boot verifier-down "$E2E_OUT/down.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure verifier-unreachable
        assert_failure_detail verifier-unreachable '10\.0\.2\.2:8443' "the failure names the verifier"
        assert_failure_detail verifier-unreachable '[Rr]efused' "the failure says the connection was refused"
        assert_failed_cap
        assert_kubelet_absent
        assert_marker_absent

        # Retried, not given up at the first refusal; each failed attempt is a warning.
        attempts=$(grep -cE 'nodegate\[attest\]: attempt [0-9]+: cannot connect to 10\.0\.2\.2:8443' \
                "$(e2e_text)" || true)
        if ((attempts >= 2)); then
                e2e_ok "the gate tried again ($attempts attempt lines) before giving up"
        else
                e2e_fail "only $attempts attempt line(s): no retry"
        fi
        # Bounded: by the deadline, counted from /init, with the power off shortly after.
        t0=$(ng_log_ts "$BOOT_LOG" 'Run /init as init process')
        tfail=$(ng_log_ts "$BOOT_LOG" 'FAILED verifier-unreachable')
        tend=$(ng_log_ts "$BOOT_LOG" '\] reboot: Power down')
        if [[ -z $t0 || -z $tfail || -z $tend ]]; then
                e2e_fail "timestamps missing (init '$t0', failure '$tfail', power down '$tend')"
                return
        fi
        echo "  info  /init at $t0 s, gave up at $tfail s (+$(ts_diff "$t0" "$tfail") s)," \
                "power down at $tend s"
        if num_ge $((deadline + 1)) "$(ts_diff "$t0" "$tfail")"; then
                e2e_ok "gave up within nodegate.timeout=$deadline (+1 s)"
        else
                e2e_fail "gave up $(ts_diff "$t0" "$tfail") s after /init, past the $deadline s deadline"
        fi
        if num_ge "$(ts_diff "$t0" "$tfail")" $((deadline / 2)); then
                e2e_ok "kept trying for at least half the deadline"
        else
                e2e_fail "gave up after $(ts_diff "$t0" "$tfail") s, long before the $deadline s deadline"
        fi
        if num_ge 15 "$(ts_diff "$tfail" "$tend")"; then
                e2e_ok "powered off within 15 s of giving up"
        else
                e2e_fail "powered off $(ts_diff "$tfail" "$tend") s after giving up"
        fi
}

e2e_main
