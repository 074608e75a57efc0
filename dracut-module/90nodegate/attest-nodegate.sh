#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut pre-pivot hook (no systemd): attest, unseal, cap and hand over before the switch; first
# among the pre-pivot hooks, as in the systemd flavour, where it is ordered before initrd.target.
# shellcheck source=dracut-module/90nodegate/nodegate-lib.sh
type nodegate_run >/dev/null 2>&1 || . /lib/nodegate-lib.sh

nodegate_run --phase=attest --sysroot="$NEWROOT"
