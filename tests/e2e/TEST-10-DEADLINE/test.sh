#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nodegate.timeout=1: under TCG the modules step alone takes more than a second (about 1.3 s to
# 1.8 s here), and the whole gate well over one, so the overall deadline passes during a step
# that itself succeeds. The gate must notice at the end of that step and stop, even though no
# single wait timed out.
set -euo pipefail
TEST_NAME=deadline
TEST_DESCRIPTION="nodegate.timeout=1 expires during a step: deadline, never switch_root"
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_mkimage "$E2E_OUT/deadline.efi" --append "nodegate.timeout=1"
}

test_run() {
        local line step t0 tfail
        e2e_boot deadline "$E2E_OUT/deadline.efi" "$GOOD_DISK"
        assert_status poweroff
        assert_gate_failure deadline
        assert_failure_detail deadline 'nodegate\.timeout=1' "failure names nodegate.timeout=1"
        assert_no_log 'FAILED device-timeout' "no device wait timed out first"
        assert_marker_absent

        # The step that overran finished ("done") and was then refused.
        line=$(e2e_failed_line deadline)
        step=$(sed -n 's/.*nodegate\[\([a-z]*\)\]: FAILED.*/\1/p' <<<"$line")
        if [[ -n $step ]] && grep -qE "$(e2e_done_re "$step")" "$(e2e_text)"; then
                e2e_ok "the $step step completed before the deadline stopped the boot"
        else
                e2e_fail "no done line for the step '$step' that reported the deadline"
        fi
        t0=$(ng_log_ts "$BOOT_LOG" 'Run /init as init process')
        tfail=$(ng_log_ts "$BOOT_LOG" 'FAILED deadline')
        if [[ -z $t0 || -z $tfail ]]; then
                e2e_fail "timestamps missing (init '$t0', failure '$tfail')"
                return
        fi
        echo "  info  /init at $t0 s, deadline reported by step $step at $tfail s (+$(ts_diff "$t0" "$tfail") s)"
        if num_ge "$(ts_diff "$t0" "$tfail")" 0.9; then
                e2e_ok "deadline reported no earlier than 1 s after /init"
        else
                e2e_fail "deadline reported $(ts_diff "$t0" "$tfail") s after /init, before 1 s"
        fi
}

e2e_main
