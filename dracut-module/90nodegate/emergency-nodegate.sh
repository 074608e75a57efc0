#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut emergency and shutdown-emergency hook: dracut's emergency_shell (and dracut-emergency in
# the systemd flavour) sources it before any shell, with or without rd.shell. PCR 15 capped and
# /run/nodegate wiped, or no shell: the hook stops the boot itself.
# shellcheck source=dracut-module/90nodegate/nodegate-lib.sh
type nodegate_cap_failed >/dev/null 2>&1 || . /lib/nodegate-lib.sh

nodegate_cap_failed
# No shell follows without rd.shell (the module sets rd.shell=0) or rd.break. dracut would then
# carry out rd.emergency= with a plain halt, which needs its shutdown module (without it, init
# exits and the kernel panics): end the boot here, by nodegate.on_failure=, as the gate does.
if ! nodegate_shell_follows; then
        warn "nodegate: the boot failed outside the gate; no shell (rd.shell=0)"
        nodegate_stop "$(getarg nodegate.on_failure=)"
fi
