#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the gate from dracut's hooks and units, and stops the boot when the gate did not.
# Sourced after /lib/dracut-lib.sh (getarg, warn, emergency_shell).

# The gate's exit status for nodegate.on_failure=shell (FAILURE_EXIT_SHELL in src/boot/failure.h).
NODEGATE_EXIT_SHELL=3

# The gate carries out nodegate.on_failure= itself; it returns non-zero only for
# nodegate.on_failure=shell or when it died. Either way the root is never entered.
# Usage: nodegate_failed [STATUS]
nodegate_failed() {
        if [ "${1:-}" = "$NODEGATE_EXIT_SHELL" ]; then
                # The operator asked for it (and rd.shell=1 must be given too: the module sets
                # rd.shell=0). dracut runs the emergency hook, which caps, before its shell;
                # leaving the shell still does not boot the root.
                emergency_shell -n nodegate "nodegate refused this boot (see the lines above)"
        fi
        warn "nodegate: the boot stops: the root is never entered without the gate's success"
        # The gate died: the action of the command line is all there is left to go by.
        nodegate_stop "$(getarg nodegate.on_failure=)"
}

# Before any shell: PCR 15 capped with "nodegate: failed" and /run/nodegate wiped by the gate
# (nodegate --cap-failed), so that the shell can neither run the gate for a token nor read one.
# Returns only when that succeeded or there is no TPM; otherwise the boot stops here.
nodegate_cap_failed() {
        # An early failure may come before udev loaded the TPM driver: without it there would
        # be "no TPM" to cap, and the shell could load it and run the gate.
        modprobe -q -a tpm_tis tpm_crb 2>/dev/null
        /usr/bin/nodegate --cap-failed && return 0
        warn "nodegate: PCR 15 could not be capped: no shell while the TPM could still release a token"
        nodegate_stop "$(getarg nodegate.on_failure=)"
}

# Whether dracut's emergency_shell opens a shell after its hooks: rd.shell (bare, or a value
# other than 0/n/no/off: dracut's getargbool) or rd.break, the last word winning.
nodegate_shell_follows() {
        getarg rd.break= >/dev/null && return 0
        _nodegate_v=$(getarg rd.shell=) || return 1
        case "$_nodegate_v" in
        0 | n | no | off) return 1 ;;
        esac
        return 0
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
