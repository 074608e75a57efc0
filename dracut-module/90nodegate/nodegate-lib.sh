#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the gate from dracut's hooks and units, and stops the boot when the gate did not.
# Sourced after /lib/dracut-lib.sh (getarg, warn, emergency_shell).

# The gate's exit status for nodegate.on_failure=shell (FAILURE_EXIT_SHELL in src/failure.h).
NODEGATE_EXIT_SHELL=3

# The gate carries out nodegate.on_failure= itself; it returns non-zero only for
# nodegate.on_failure=shell or when it died. Either way the root is never entered.
# Usage: nodegate_failed [STATUS]
nodegate_failed() {
        if [ "${1:-}" = "$NODEGATE_EXIT_SHELL" ]; then
                # The operator asked for it; leaving the shell still does not boot the root.
                emergency_shell -n nodegate "nodegate refused this boot (see the lines above)"
        fi
        warn "nodegate: the boot stops: the root is never entered without the gate's success"
        # The gate died: the action of the command line is all there is left to go by.
        nodegate_stop "$(getarg nodegate.on_failure=)"
}

# Usage: nodegate_stop ACTION (halt, poweroff or reboot; anything else halts)
nodegate_stop() {
        case "$1" in
        reboot) reboot -f ;;
        poweroff) poweroff -f ;;
        *) halt -f ;;
        esac
        # Should the command itself fail, nothing may return into the boot.
        while :; do sleep 3600; done
}

# Usage: nodegate_run ARGS… (after --mode=initrd)
nodegate_run() {
        /usr/bin/nodegate --mode=initrd "$@" || nodegate_failed "$?"
}
