#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real verifier, but with a server certificate from a CA that is not in the initramfs's
# bundle (otherwise right: 10.0.2.2, serverAuth, valid): the TLS handshake fails, the gate
# sends nothing and stops the boot with verifier-tls.
set -euo pipefail
TEST_NAME=wrong-ca
TEST_DESCRIPTION="verifier certificate from another CA: verifier-tls, nothing sent, fails closed"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_setup() {
        e2e_mkimage "$E2E_OUT/good.efi"
}

test_run() {
        e2e_verifier_start verifier verifier --tls rogue
        local cert="$E2E_VDIR/rogue/server.pem"
        if ! openssl verify -CAfile "$E2E_PKI/ca.pem" "$cert" >/dev/null 2>&1 &&
                openssl verify -CAfile "$E2E_VDIR/rogue/ca.pem" "$cert" >/dev/null 2>&1; then
                e2e_ok "the verifier's certificate is valid, but not under the initramfs's CA"
        else
                e2e_fail "the rogue certificate does not make the intended case"
        fi
        e2e_boot wrong-ca "$E2E_OUT/good.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_gate_failure verifier-tls
        assert_failure_detail verifier-tls 'certificate not trusted by /etc/nodegate/ca\.pem' \
                "the failure says the certificate is not trusted by the CA bundle"
        if [[ ! -s $E2E_VDIR/audit.jsonl ]]; then
                e2e_ok "no request reached the verifier (its audit log is empty)"
        else
                e2e_fail "the verifier answered: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        assert_failed_cap
        assert_kubelet_absent
        assert_marker_absent
}

e2e_main
