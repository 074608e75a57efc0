#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut mount hook (no systemd): verity root at $NEWROOT, read-only, its init checked.
# shellcheck source=dracut-module/90nodegate/nodegate-lib.sh
type nodegate_run >/dev/null 2>&1 || . /lib/nodegate-lib.sh

if ! ismounted "$NEWROOT"; then
        modprobe -a dm_mod dm_verity || warn "nodegate: modprobe dm_mod dm_verity failed"
        nodegate_run --phase=root --sysroot="$NEWROOT"
fi
