#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A TLS server with a valid certificate where the verifier should be, answering every request
# "200 application/json" with 512 random bytes: the gate must refuse the answer, not retry it
# as if it were a transient error, and stop the boot with verifier-answer.
set -euo pipefail
TEST_NAME=verifier-garbage
TEST_DESCRIPTION="the verifier answers random bytes: verifier-answer, fails closed"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_mkimage "$E2E_OUT/good.efi"
}

test_run() {
        local seen
        e2e_verifier_start garbage garbage
        e2e_boot garbage "$E2E_OUT/good.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_gate_failure verifier-answer
        assert_failed_cap
        assert_kubelet_absent
        assert_marker_absent
        # What the fake saw: the challenge request, once; the gate never got to round 2.
        seen=$(python3 -c '
import json, sys
print(" ".join("%s %s" % (r["method"], r["path"]) for r in map(json.loads, open(sys.argv[1]))))
' "$E2E_VDIR/requests.jsonl" 2>/dev/null || true)
        if [[ $seen == "POST /v2/challenge" ]]; then
                e2e_ok "one POST /v2/challenge, no retry of a malformed answer, no round 2"
        else
                e2e_fail "requests the fake verifier saw: '$seen'"
        fi
}

e2e_main
