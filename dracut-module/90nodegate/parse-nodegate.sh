#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut cmdline hook: the root is the gate's dm-verity device, named by roothash=, not root=.
# shellcheck source=/dev/null # dracut's, in the initramfs
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
# shellcheck source=dracut-module/90nodegate/nodegate-lib.sh
type nodegate_failed >/dev/null 2>&1 || . /lib/nodegate-lib.sh

# A root= would make dracut or systemd mount something else at /sysroot than the gate verified.
if [ -n "$root" ] && [ "$root" != nodegate ]; then
        warn "nodegate: root=$root given: with nodegate the root is roothash='s verity device" \
                "and root= must not be set"
        nodegate_failed
fi
root=nodegate
# shellcheck disable=SC2034 # read by dracut after the cmdline hooks
rootok=1
