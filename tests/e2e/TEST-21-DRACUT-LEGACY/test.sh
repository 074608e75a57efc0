#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The gate in a dracut initramfs, non-systemd flavour (dracut's init.sh: mount and pre-pivot hooks):
# the good image joins with the strict policy, a changed command line is refused and nothing
# switches root, a gate that dies still stops the boot, and a hook that mounts another file system over /sysroot between the gate's
# two phases is caught before the gate attests (root-not-verified).
set -euo pipefail
TEST_NAME=dracut-legacy
TEST_DESCRIPTION="dracut (legacy): good image joins, changed command line refused, swapped root caught"
DRACUT_FLAVOUR=legacy
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=tests/e2e/dracut-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../dracut-lib.sh"

e2e_main
