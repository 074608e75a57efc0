#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The gate in a dracut initramfs, systemd flavour (nodegate-root.service, nodegate-attest.service):
# the good image joins with the strict policy, a changed command line is refused and nothing
# switches root, and a gate that dies still stops the boot (nodegate-failed.service).
set -euo pipefail
TEST_NAME=dracut-systemd
TEST_DESCRIPTION="dracut (systemd): good image joins, changed command line refused, dead gate stops the boot"
DRACUT_FLAVOUR=systemd
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=tests/e2e/dracut-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../dracut-lib.sh"

e2e_main
