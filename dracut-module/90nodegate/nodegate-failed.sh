#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd flavour of nodegate_failed: the emergency target when asked for, else the action.
# shellcheck source=/dev/null # dracut's, in the initramfs
. /lib/dracut-lib.sh

action=$(getarg nodegate.on_failure=)
if [ "$action" = shell ]; then
        exec systemctl --no-block isolate emergency.target
fi
echo "nodegate: the boot stops: the root is never entered without the gate's success" >/dev/kmsg
case "$action" in
reboot) exec systemctl --force reboot ;;
poweroff) exec systemctl --force poweroff ;;
*) exec systemctl --force halt ;;
esac
