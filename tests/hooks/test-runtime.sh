#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hooks/hooks/nodegate under busybox ash in a fixture tree whose /init and /init_functions
# follow mkinitcpio v41's, one boot per row; each row's outcome is what the stand-ins recorded,
# compared line by line.
set -euo pipefail
# shellcheck source=tests/lib/sandbox.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/sandbox.sh"
cd "$(dirname "$0")/../.."

fixture=tests/hooks/fixture
modules='crc32c_generic dm_mod dm_verity erofs squashfs ext4 tpm_tis tpm_crb sev_guest tdx_guest'

# One row a boot: name | /proc/cmdline (after the hostile prefix below) | nodegate.conf (\n
# between lines, empty for none) | the stand-in gate's outcome per phase | flags | expected
# events. init is v41's, which mounts the root at /new_root (there is no /sysroot in any
# released mkinitcpio).
# Flags: no-gate (no /usr/bin/nodegate), modprobe-fails, action-fails (halt & co. return),
# other-hook (a hook after nodegate replaces the mount handler), init-missing (the root the
# gate mounts has no /sbin/init), nothing-mounted (the gate's mount point stays empty), fsck
# (an fsck in the image, as mkinitcpio's fsck hook adds), fsck-fails (that fsck finds errors it
# leaves, status 4). The plan's cap=N: nodegate --cap-failed's exit status (0 if not given).
# Events: R, A the gate's root and attest runs; O the other mount handler; C the boot went on
# to switch_root; H, P, B halt, poweroff, reboot (after sleep 10); S the emergency hooks, the
# cap and the shell; N the emergency hooks and the cap, and no shell; E the emergency hooks
# alone; I, J as S, N but on init's own path (a root without init or nothing mounted: no
# "boot stopped" line from the hook); X init exited (the kernel would panic). The shell is the
# one opened on /dev/console, recorded by the shell itself; a shell without the cap before it,
# or an fsck, would show up as an event of its own.
# shellcheck disable=SC2016 # the hostile rows are meant literally
rows=(
    'success|ip=dhcp nodegate.url=https://v:8443||root=0 attest=0||R A C'
    'success, modprobe fails|||root=0 attest=0|modprobe-fails|R A C'
    'root fails, default halt|quiet||root=1 attest=0||R H'
    'root fails, poweroff|nodegate.on_failure=poweroff||root=1 attest=0||R P'
    'root killed, reboot|nodegate.on_failure=reboot||root=KILL attest=0||R B'
    'root fails, shell requested|nodegate.on_failure=shell||root=3 attest=0||R S'
    'root killed, shell requested|nodegate.on_failure=shell||root=TERM attest=0||R S'
    'attest fails, default halt|||root=0 attest=1||R A H'
    'attest fails, shell requested|nodegate.on_failure=shell||root=0 attest=3||R A S'
    'attest killed, shell requested|nodegate.on_failure=shell||root=0 attest=KILL||R A S'
    'attest exits 2, poweroff|nodegate.on_failure=poweroff||root=0 attest=2||R A P'
    'attest killed, reboot|nodegate.on_failure=reboot||root=0 attest=TERM||R A B'
    'no gate in the image|nodegate.on_failure=poweroff||root=0 attest=0|no-gate|P'
    'the action fails too|||root=1 attest=0|action-fails|R H X'
    'another mount handler|||root=0 attest=0|other-hook|O H'
    'another mount handler, shell|nodegate.on_failure=shell||root=0 attest=0|other-hook|O S'
    'mount_handler= on the command line|mount_handler=default_mount_handler||root=0 attest=0||R A C'
    'hostile $()|nodegate.on_failure=$(touch /tmp/pwned)||root=KILL attest=0||R H'
    'hostile backticks|nodegate.on_failure=`touch${IFS}/tmp/pwned`||root=1 attest=0||R H'
    'hostile ;|nodegate.on_failure=reboot;touch /tmp/pwned||root=1 attest=0||R H'
    'hostile variable value|x=$(touch${IFS}/tmp/pwned) y=`touch${IFS}/tmp/pwned`||root=1 attest=0||R H'
    'mkinitcpio variable name|nodegate_on_failure=shell||root=1 attest=0||R H'
    'inside another quoted value|foo="x nodegate.on_failure=shell" y||root=1 attest=0||R H'
    'after --|quiet -- nodegate.on_failure=shell||root=1 attest=0||R H'
    'rd. prefix and dash|rd.nodegate.on-failure=poweroff||root=1 attest=0||R P'
    'quoted word|"nodegate.on_failure=reboot"||root=KILL attest=0||R B'
    'last one wins|nodegate.on_failure=shell nodegate.on_failure=poweroff||root=1 attest=0||R P'
    'nodegate.conf||nodegate.on_failure=poweroff|root=KILL attest=0||R P'
    'nodegate.conf shell||nodegate.url=https://v\nnodegate.on_failure=shell|root=0 attest=3||R A S'
    'command line wins|nodegate.on_failure=reboot|nodegate.on_failure=shell|root=1 attest=0||R B'
    'nodegate.conf comment||# nodegate.on_failure=shell|root=1 attest=0||R H'
    'shell requested, the cap fails|nodegate.on_failure=shell||root=3 attest=0 cap=1||R N H'
    'attest fails, shell, the cap fails|nodegate.on_failure=shell||root=0 attest=3 cap=1||R A N H'
    'shell, the cap and the halt fail|nodegate.on_failure=shell||root=3 attest=0 cap=1|action-fails|R N H X'
    'no gate, shell requested|nodegate.on_failure=shell||root=0 attest=0|no-gate|E H'
    'no init in the root: init'"'"'s shell|||root=0 attest=0|init-missing|R A I'
    'no init, the cap fails|nodegate.on_failure=poweroff||root=0 attest=0 cap=1|init-missing|R A J P'
    'nothing mounted: init'"'"'s shell|||root=0 attest=0|nothing-mounted|R A I'
    'break=premount: the cap before the shell|break=premount||root=0 attest=0||S R A C'
    'break=y, the cap fails|break=y nodegate.on_failure=reboot||root=0 attest=0 cap=1||N B'
    'break=postmount: the cap before the shell|break=postmount||root=0 attest=0||R A S C'
    'fsck in the image, root= given: no fsck before the gate|||root=0 attest=0|fsck|R A C'
    'fsck in the image, fsck.mode=force|fsck.mode=force rootdelay=1||root=0 attest=0|fsck|R A C'
    'fsck in the image that would find errors|nodegate.on_failure=poweroff||root=0 attest=1|fsck,fsck-fails|R A P'
)

# Prepended to every command line: root= (the data device, which v41's fsck_root would take
# from the saved command line), and words that v41's parse_cmdline turns into the hook's own
# variables before it runs.
prefix='root=/dev/vda2 nodegate_sysroot=/hostile nodegate_action=shell nodegate_on_failure=shell nodegate_status=0'

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
}
trap cleanup EXIT

busybox=$(sandbox_static_busybox test-runtime)

# The hook's business is to halt and reboot, and busybox ash prefers its own applets to
# PATH: besides the stand-ins, every row runs chrooted without /proc (so no real applet but
# a builtin can run) and in its own PID namespace, where reboot(2) would only end the row.
sandbox_namespace test-runtime
ns=("${SANDBOX_NS[@]}")

base=$work/base
mkdir -p "$base"/{usr/bin,usr/lib/nodegate,hooks,proc,dev,tmp,run,new_root,etc/nodegate,fixture}
ln -s usr/bin "$base/bin"
ln -s usr/bin "$base/sbin"
cp "$busybox" "$base/usr/bin/busybox"
# The applets the hook and the fixture use; the ones that stop a machine are left out, and
# the stand-ins are shell functions, which ash runs before any applet. modprobe stays what a
# hook calling it by name gets in an image built with Debian's busybox-static: busybox's own
# applet, which reads only the text modules.dep that mkinitcpio deletes, so it loads nothing
# (and records nothing).
while read -r applet; do
    case $applet in
    halt | poweroff | reboot | sleep | switch_root | init | linuxrc | busybox | fsck) ;;
    *) ln -s busybox "$base/usr/bin/$applet" ;;
    esac
done < <("$busybox" --list)
: >"$base/dev/null"
: >"$base/dev/console"
install -m 755 "$fixture/init" "$base/init"
# Read by the interactive shell the hook opens (init exports ENV): it records that it runs,
# and exits.
printf '%s\n' 'echo "shell on /dev/console" >>/results/events' 'exit 0' >"$base/fixture-shellrc"
install -m 644 "$fixture/init_functions" "$base/init_functions"
install -m 755 "$fixture/nodegate" "$base/usr/bin/nodegate"
# The install hook's copy of kmod, named modprobe.
install -m 755 "$fixture/modprobe" "$base/usr/lib/nodegate/modprobe"
# The data device under dm-verity, the root= of every row.
echo /dev/vda2 >"$base/fixture/block-devices"
# add_runscript installs it as /hooks/nodegate, mode 755.
install -m 755 hooks/hooks/nodegate "$base/hooks/nodegate"
install -m 755 "$fixture"/hooks/* "$base/hooks/"

expected_events() {
    local sysroot=/new_root token
    echo "modprobe -qab tpm_tis tpm_crb"
    echo "modprobe -qab $modules"
    for token in "$@"; do
        case $token in
        R) echo "nodegate [--mode=initrd] [--phase=root] [--sysroot=$sysroot]" ;;
        A) echo "nodegate [--mode=initrd] [--phase=attest] [--sysroot=$sysroot] [--network]" ;;
        O) echo "other mount handler $sysroot" ;;
        C) echo "boot-continued" ;;
        H) echo "halt -f" ;;
        P) echo "poweroff -f" ;;
        B) printf '%s\n' "sleep 10" "reboot -f" ;;
        S) printf '%s\n' "emergency hook" "nodegate [--cap-failed]" "shell on /dev/console" ;;
        N | J) printf '%s\n' "emergency hook" "nodegate [--cap-failed]" ;;
        I) printf '%s\n' "emergency hook" "nodegate [--cap-failed]" "shell on /dev/console" ;;
        E) echo "emergency hook" ;;
        X) ;;
        *) echo "test-runtime: unknown event '$token'" >&2 && return 1 ;;
        esac
    done
}

passed=0
failed=0
n=0
for row in "${rows[@]}"; do
    separators=${row//[!|]/}
    if ((${#separators} != 5)); then
        echo "test-runtime: row '$row' has ${#separators} '|', not 5" >&2
        exit 1
    fi
    IFS='|' read -r name cmdline conf plan flags expect <<<"$row"
    n=$((n + 1))
    dir=$work/row$n
    cp -al "$base" "$dir"
    mkdir "$dir/results"
    : >"$dir/results/events"
    printf '%s\n' "$prefix${cmdline:+ $cmdline}" >"$dir/proc/cmdline"
    [[ -n $conf ]] && printf '%b\n' "$conf" >"$dir/etc/nodegate/nodegate.conf"
    tr ' ' '\n' <<<"$plan" >"$dir/fixture/plan"
    hooks=nodegate
    for flag in ${flags//,/ }; do
        case $flag in
        no-gate) rm "$dir/usr/bin/nodegate" ;;
        modprobe-fails | action-fails) : >"$dir/fixture/$flag" ;;
        other-hook) hooks="nodegate other" ;;
        init-missing | nothing-mounted) : >"$dir/fixture/$flag" ;;
        fsck) install -m 755 "$fixture/fsck" "$dir/usr/bin/fsck" ;;
        fsck-fails) echo 4 >"$dir/fixture/fsck-status" ;;
        *) echo "test-runtime: unknown flag '$flag'" >&2 && exit 1 ;;
        esac
    done
    printf '%s\n' "EARLYHOOKS='nodegate'" "HOOKS='$hooks'" "LATEHOOKS='nodegate'" "CLEANUPHOOKS=''" \
        "EMERGENCYHOOKS='fixture-emergency'" "MODULES=''" >"$dir/config"

    status=0
    env -i "$(type -P timeout)" --kill-after=5 30 "${ns[@]}" --root="$dir" /usr/bin/busybox sh /init \
        </dev/null >"$dir/console" 2>&1 || status=$?

    read -r -a tokens <<<"$expect"
    problems=()
    if ! diff -u <(expected_events "${tokens[@]}") "$dir/results/events" \
        >"$dir/diff"; then
        problems+=("events differ: $(cat "$dir/diff")")
    fi
    if [[ " $expect " == *" X "* ]]; then
        ((status == 1)) || problems+=("init exited $status, expected 1 (exit from the hook)")
    else
        ((status == 0)) || problems+=("init exited $status")
    fi
    # The console says why the boot went no further: the hook's verdict, or that the cap
    # failed; on init's own path (I), init's message.
    if [[ " $expect " == *" I "* ]]; then
        grep -qE '^ERROR: (Failed to mount the real root device|Root device mounted successfully)' \
            "$dir/console" || problems+=("no message from init on the console")
    elif [[ " $expect " != *" C "* ]] &&
        ! grep -qE 'nodegate: (boot stopped \(.*\), action: |PCR 15 could not be capped)' "$dir/console"; then
        problems+=("no 'boot stopped' or 'could not be capped' line on the console")
    fi
    if [[ -n $(find "$dir" -name pwned) ]]; then
        problems+=("the command line ran a command: $(find "$dir" -name pwned)")
    fi

    if ((${#problems[@]})); then
        failed=$((failed + 1))
        echo "FAIL: $name"
        printf '  %s\n' "${problems[@]}"
        sed 's/^/  console: /' "$dir/console"
    else
        passed=$((passed + 1))
        echo "ok: $name"
    fi
done

echo "mkinitcpio runtime hook: $passed passed, $failed failed"
((failed == 0))
