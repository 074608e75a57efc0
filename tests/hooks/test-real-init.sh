#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hooks/hooks/nodegate under mkinitcpio's own init and init_functions, taken from a checkout of
# mkinitcpio (not part of this repository, not in CI): the check that the fixture of
# test-runtime.sh behaves as the real thing on the paths that matter. Opt-in:
#   tests/hooks/test-real-init.sh /path/to/mkinitcpio [REF]     (REF defaults to v41)
# Each row boots the real init chrooted, in a user, mount and PID namespace: /new_root is a
# tmpfs (init compares its device with /'s), /dev/vda2 a bind mount of a host block device (for
# fsck_device's -b), and mount, switch_root, halt, poweroff and reboot are recording scripts
# (without /proc, busybox runs them from PATH rather than as its applets).
set -euo pipefail
cd "$(dirname "$0")/../.."

src=${1:?usage: $0 MKINITCPIO_CHECKOUT [REF]}
ref=${2:-v41}
fixture=tests/hooks/fixture
modules='crc32c_generic dm_mod dm_verity erofs squashfs ext4 tpm_tis tpm_crb sev_guest tdx_guest'
busybox=$(command -v busybox)
blockdev=$(find /dev -maxdepth 1 -type b -print -quit)
[[ -n $blockdev ]] || {
    echo "test-real-init: no block device in /dev to stand for the data device" >&2
    exit 1
}
unshare --user --map-root-user --mount --pid --fork true || {
    echo "test-real-init: needs user and mount namespaces" >&2
    exit 1
}

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
}
trap cleanup EXIT

# name | /proc/cmdline | the gate's plan | flags (fsck, init-missing) | events after the hooks'
# modprobes, ; between lines
rows=(
    'success|root=/dev/vda2 ip=dhcp nodegate_sysroot=/x|root=0 attest=0||R;A;switch_root /new_root /sbin/init'
    'fsck in the image, root= given|root=/dev/vda2 fsck.mode=force|root=0 attest=0|fsck|R;A;switch_root /new_root /sbin/init'
    'root fails, shell requested|root=/dev/vda2 nodegate.on_failure=shell|root=3 attest=0||R;nodegate [--cap-failed]'
    'break=postmount|break=postmount|root=0 attest=0||R;A;nodegate [--cap-failed];switch_root /new_root /sbin/init'
    'no init in the root|root=/dev/vda2|root=0 attest=0|init-missing|R;A;nodegate [--cap-failed]'
)

passed=0
failed=0
n=0
for row in "${rows[@]}"; do
    IFS='|' read -r name cmdline plan flags expect <<<"$row"
    n=$((n + 1))
    dir=$work/row$n
    mkdir -p "$dir"/{usr/bin,usr/lib/nodegate,hooks,proc,sys,dev,tmp,run,new_root,etc/nodegate,results,fixture}
    ln -s usr/bin "$dir/bin"
    ln -s usr/bin "$dir/sbin"
    cp "$busybox" "$dir/usr/bin/busybox"
    while read -r applet; do
        case $applet in
        halt | poweroff | reboot | switch_root | mount | fsck | busybox | init | linuxrc) ;;
        *) ln -s busybox "$dir/usr/bin/$applet" ;;
        esac
    done < <("$busybox" --list)
    git -C "$src" show "$ref:init" | sed '1s|.*|#!/bin/sh|' >"$dir/init"
    git -C "$src" show "$ref:init_functions" >"$dir/init_functions"
    install -m 755 "$fixture/nodegate" "$dir/usr/bin/nodegate"
    install -m 755 "$fixture/modprobe" "$dir/usr/lib/nodegate/modprobe"
    install -m 755 hooks/hooks/nodegate "$dir/hooks/nodegate"
    for cmd in mount switch_root halt poweroff reboot; do
        printf '#!/bin/sh\necho "%s $*" >>/results/events\n' "$cmd" >"$dir/usr/bin/$cmd"
        chmod 755 "$dir/usr/bin/$cmd"
    done
    [[ " $flags " == *" fsck "* ]] && install -m 755 "$fixture/fsck" "$dir/usr/bin/fsck"
    [[ " $flags " == *" init-missing "* ]] && : >"$dir/fixture/init-missing"
    tr ' ' '\n' <<<"$plan" >"$dir/fixture/plan"
    printf '%s\n' "$cmdline" >"$dir/proc/cmdline"
    printf '%s\n' "EARLYHOOKS='nodegate'" "HOOKS='nodegate'" "LATEHOOKS='nodegate'" \
        "CLEANUPHOOKS=''" "EMERGENCYHOOKS=''" >"$dir/config"
    : >"$dir/dev/vda2"
    : >"$dir/dev/console"
    : >"$dir/dev/null"

    # shellcheck disable=SC2016 # expanded by the inner bash
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$(type -P timeout)" --kill-after=5 30 \
        unshare --user --map-root-user --mount --pid --fork bash -c '
        mount -t tmpfs none "$1/new_root" && mount --bind "$2" "$1/dev/vda2" &&
            mount --bind /dev/null "$1/dev/null" && exec chroot "$1" /usr/bin/busybox sh /init' \
        _ "$dir" "$blockdev" </dev/null >"$dir/console" 2>&1 || :

    {
        printf '%s\n' "mount -t proc proc /proc -o nosuid,noexec,nodev" \
            "mount -t sysfs sys /sys -o nosuid,noexec,nodev" \
            "mount -t devtmpfs dev /dev -o mode=0755,nosuid" \
            "mount -t tmpfs run /run -o nosuid,nodev,mode=0755" \
            "modprobe -qab tpm_tis tpm_crb" "modprobe -qab $modules"
        IFS=';' read -r -a lines <<<"$expect"
        for line in "${lines[@]}"; do
            case $line in
            R) echo "nodegate [--mode=initrd] [--phase=root] [--sysroot=/new_root]" ;;
            A) echo "nodegate [--mode=initrd] [--phase=attest] [--sysroot=/new_root] [--network]" ;;
            *) echo "$line" ;;
            esac
        done
    } >"$dir/want"
    if diff -u "$dir/want" "$dir/results/events" >"$dir/diff"; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAIL: $name"
        sed 's/^/  /' "$dir/diff"
        sed 's/^/  console: /' "$dir/console"
    fi
done

echo "mkinitcpio $ref's own init with the runtime hook: $passed passed, $failed failed"
((failed == 0))
