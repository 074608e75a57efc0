# SPDX-License-Identifier: GPL-2.0-or-later
# The sandbox the initramfs-hook fixtures (tests/hooks, tests/dracut) run their rows in: hooks
# whose business is to halt and reboot run chrooted into a tree with busybox-static and no
# binary of those names, without /proc, in their own PID namespace, where reboot(2) would only
# end the row. Sourced; the caller names itself in the messages.
# shellcheck shell=bash
# SANDBOX_NS is read by the caller.
# shellcheck disable=SC2034

# Prints the path of a static busybox (the chroot has no C library), or exits 1.
# Usage: busybox=$(sandbox_static_busybox NAME)
sandbox_static_busybox() {
    local b
    b=$(command -v busybox) || {
        echo "$1: busybox (busybox-static) is needed" >&2
        exit 1
    }
    if LC_ALL=C readelf -lW "$b" | grep -qE '^[[:space:]]*INTERP[[:space:]]'; then
        echo "$1: $b is dynamic; the fixture is a chroot and needs busybox-static" >&2
        exit 1
    fi
    printf '%s\n' "$b"
}

# Sets SANDBOX_NS to the unshare command line a row runs under: a user and PID namespace, or
# a PID namespace only as root where user namespaces are off; exits 1 when neither works.
# Usage: sandbox_namespace NAME; "${SANDBOX_NS[@]}" chroot …
SANDBOX_NS=()
sandbox_namespace() {
    local unshare
    unshare=$(type -P unshare)
    if "$unshare" --user --map-root-user --pid --fork true 2>/dev/null; then
        SANDBOX_NS=("$unshare" --user --map-root-user --pid --fork)
    elif [[ $(id -u) == 0 ]]; then
        SANDBOX_NS=("$unshare" --pid --fork)
    else
        echo "$1: needs user namespaces, or root" >&2
        exit 1
    fi
}
