#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut emergency and shutdown-emergency hook: dracut's emergency_shell (and dracut-emergency in
# the systemd flavour) sources it before any shell, with or without rd.shell. PCR 15 capped and
# /run/nodegate wiped, or no shell: the hook stops the boot itself.
# shellcheck source=dracut-module/90nodegate/nodegate-lib.sh
type nodegate_cap_failed >/dev/null 2>&1 || . /lib/nodegate-lib.sh

nodegate_cap_failed
