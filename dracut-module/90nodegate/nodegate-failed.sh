#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd flavour of nodegate_failed: the emergency target when asked for, else the action.
# shellcheck source=/dev/null # dracut's, in the initramfs
. /lib/dracut-lib.sh

# systemd tells an OnFailure= unit how the failed one ended; 3 is the gate's
# FAILURE_EXIT_SHELL (src/boot/failure.h): the operator asked for the emergency shell.
# emergency.service caps again before its shell (nodegate-shell.conf); capping here too means
# no emergency target at all when the cap fails.
if [ "${MONITOR_EXIT_STATUS:-}" = 3 ]; then
        modprobe -q -a tpm_tis tpm_crb 2>/dev/null
        if /usr/bin/nodegate --cap-failed; then
                exec systemctl --no-block isolate emergency.target
        fi
        echo "nodegate: PCR 15 could not be capped: no shell" >>/dev/kmsg
fi
# The gate died: the action of the command line is all there is left to go by.
action=$(getarg nodegate.on_failure=)
echo "nodegate: the boot stops: the root is never entered without the gate's success" >>/dev/kmsg
case "$action" in
reboot) exec systemctl --force reboot ;;
poweroff) exec systemctl --force poweroff ;;
*) exec systemctl --force halt ;;
esac
