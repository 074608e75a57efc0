#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hooks/hooks/nodegate under busybox ash in a fixture tree that plays mkinitcpio's init, one
# boot per row; each row's outcome is what the stand-ins recorded, compared line by line.
set -euo pipefail
# shellcheck source=tests/lib/sandbox.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/sandbox.sh"
cd "$(dirname "$0")/../.."

fixture=tests/hooks/fixture
modules='crc32c_generic dm_mod dm_verity erofs squashfs ext4 tpm_tis tpm_crb'

# One row a boot: name | mount point init passes | /proc/cmdline | nodegate.conf (\n between
# lines, empty for none) | the stand-in gate's outcome per phase | flags | expected events.
# Flags: no-gate (no /usr/bin/nodegate), modprobe-fails, action-fails (halt & co. return),
# other-hook (a hook after nodegate replaces the mount handler), init-missing (the root the
# gate mounts has no /sbin/init: init's own shell). The plan's cap=N: nodegate --cap-failed's
# exit status (0 if not given).
# Events: R, A the gate's root and attest runs; O the other mount handler; C the boot went on
# to switch_root; H, P, B halt, poweroff, reboot (after sleep 10); S the emergency hooks, the
# cap and the shell; K the cap and the shell (init's own shell, no emergency hooks); N the
# emergency hooks and the cap, and no shell; F the cap, no shell; E the emergency hooks alone; X init exited (the kernel
# would panic). The shell is the one the hook opens on /dev/console, recorded by the shell
# itself.
# shellcheck disable=SC2016 # the hostile rows are meant literally
rows=(
    'success|/sysroot|ip=dhcp nodegate.url=https://v:8443||root=0 attest=0||R A C'
    'success, mkinitcpio before v42|/new_root|ip=dhcp||root=0 attest=0||R A C'
    'success, modprobe fails|/sysroot|||root=0 attest=0|modprobe-fails|R A C'
    'root fails, default halt|/sysroot|quiet||root=1 attest=0||R H'
    'root fails, poweroff|/sysroot|nodegate.on_failure=poweroff||root=1 attest=0||R P'
    'root killed, reboot|/sysroot|nodegate.on_failure=reboot||root=KILL attest=0||R B'
    'root fails, shell requested|/sysroot|nodegate.on_failure=shell||root=1 attest=0||R S'
    'root killed, shell requested|/sysroot|nodegate.on_failure=shell||root=TERM attest=0||R S'
    'attest fails, default halt|/sysroot|||root=0 attest=1||R A H'
    'attest fails, shell requested|/new_root|nodegate.on_failure=shell||root=0 attest=1||R A S'
    'attest killed, shell requested|/sysroot|nodegate.on_failure=shell||root=0 attest=KILL||R A S'
    'attest exits 2, poweroff|/sysroot|nodegate.on_failure=poweroff||root=0 attest=2||R A P'
    'attest killed, reboot|/sysroot|nodegate.on_failure=reboot||root=0 attest=TERM||R A B'
    'no gate in the image|/sysroot|nodegate.on_failure=poweroff||root=0 attest=0|no-gate|P'
    'the action fails too|/sysroot|||root=1 attest=0|action-fails|R H X'
    'another mount handler|/sysroot|||root=0 attest=0|other-hook|O H'
    'another mount handler, shell|/sysroot|nodegate.on_failure=shell||root=0 attest=0|other-hook|O S'
    'hostile $()|/sysroot|nodegate.on_failure=$(touch /tmp/pwned)||root=KILL attest=0||R H'
    'hostile backticks|/sysroot|nodegate.on_failure=`touch${IFS}/tmp/pwned`||root=1 attest=0||R H'
    'hostile ;|/sysroot|nodegate.on_failure=reboot;touch /tmp/pwned||root=1 attest=0||R H'
    'mkinitcpio variable name|/sysroot|nodegate_on_failure=shell||root=1 attest=0||R H'
    'inside another quoted value|/sysroot|foo="x nodegate.on_failure=shell" y||root=1 attest=0||R H'
    'after --|/sysroot|quiet -- nodegate.on_failure=shell||root=1 attest=0||R H'
    'rd. prefix and dash|/sysroot|rd.nodegate.on-failure=poweroff||root=1 attest=0||R P'
    'quoted word|/sysroot|"nodegate.on_failure=reboot"||root=KILL attest=0||R B'
    'last one wins|/sysroot|nodegate.on_failure=shell nodegate.on_failure=poweroff||root=1 attest=0||R P'
    'nodegate.conf|/sysroot||nodegate.on_failure=poweroff|root=KILL attest=0||R P'
    'nodegate.conf shell|/sysroot||nodegate.url=https://v\nnodegate.on_failure=shell|root=0 attest=1||R A S'
    'command line wins|/sysroot|nodegate.on_failure=reboot|nodegate.on_failure=shell|root=1 attest=0||R B'
    'nodegate.conf comment|/sysroot||# nodegate.on_failure=shell|root=1 attest=0||R H'
    'shell requested, the cap fails|/sysroot|nodegate.on_failure=shell||root=1 attest=0 cap=1||R N H'
    'attest fails, shell, the cap fails|/sysroot|nodegate.on_failure=shell||root=0 attest=1 cap=1||R A N H'
    'shell, the cap and the halt fail|/sysroot|nodegate.on_failure=shell||root=1 attest=0 cap=1|action-fails|R N H X'
    'no gate, shell requested|/sysroot|nodegate.on_failure=shell||root=0 attest=0|no-gate|E H'
    'no init in the root: init'"'"'s shell|/sysroot|||root=0 attest=0|init-missing|R A K'
    'no init, the cap fails|/sysroot|nodegate.on_failure=poweroff||root=0 attest=0 cap=1|init-missing|R A F P'
)

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
mkdir -p "$base"/{usr/bin,hooks,proc,dev,tmp,run,sysroot,new_root,etc/nodegate,fixture}
ln -s usr/bin "$base/bin"
ln -s usr/bin "$base/sbin"
cp "$busybox" "$base/usr/bin/busybox"
# The applets the hook and the fixture use; the ones that stop a machine are left out, and
# the stand-ins are shell functions, which ash runs before any applet.
while read -r applet; do
    case $applet in
    halt | poweroff | reboot | modprobe | sleep | switch_root | init | linuxrc | busybox) ;;
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
# add_runscript installs it as /hooks/nodegate, mode 755.
install -m 755 hooks/hooks/nodegate "$base/hooks/nodegate"
install -m 755 "$fixture"/hooks/* "$base/hooks/"

expected_events() {
    local sysroot=$1 token
    shift
    echo "modprobe -qab tpm_tis tpm_crb"
    echo "modprobe -qab $modules"
    echo "fsck root="
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
        K) printf '%s\n' "nodegate [--cap-failed]" "shell on /dev/console" ;;
        N) printf '%s\n' "emergency hook" "nodegate [--cap-failed]" ;;
        F) echo "nodegate [--cap-failed]" ;;
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
    if ((${#separators} != 6)); then
        echo "test-runtime: row '$row' has ${#separators} '|', not 6" >&2
        exit 1
    fi
    IFS='|' read -r name sysroot cmdline conf plan flags expect <<<"$row"
    n=$((n + 1))
    dir=$work/row$n
    cp -al "$base" "$dir"
    mkdir "$dir/results"
    : >"$dir/results/events"
    printf '%s\n' "$cmdline" >"$dir/proc/cmdline"
    [[ -n $conf ]] && printf '%b\n' "$conf" >"$dir/etc/nodegate/nodegate.conf"
    tr ' ' '\n' <<<"$plan" >"$dir/fixture/plan"
    hooks=nodegate
    for flag in ${flags//,/ }; do
        case $flag in
        no-gate) rm "$dir/usr/bin/nodegate" ;;
        modprobe-fails | action-fails) : >"$dir/fixture/$flag" ;;
        other-hook) hooks="nodegate other" ;;
        init-missing) : >"$dir/fixture/init-missing" ;;
        *) echo "test-runtime: unknown flag '$flag'" >&2 && exit 1 ;;
        esac
    done
    printf '%s\n' "EARLYHOOKS='nodegate'" "HOOKS='$hooks'" "LATEHOOKS='nodegate'" "CLEANUPHOOKS=''" \
        "EMERGENCYHOOKS='fixture-emergency'" "fixture_sysroot='$sysroot'" >"$dir/config"

    status=0
    env -i "$(type -P timeout)" --kill-after=5 30 "${ns[@]}" --root="$dir" /usr/bin/busybox sh /init \
        </dev/null >"$dir/console" 2>&1 || status=$?

    read -r -a tokens <<<"$expect"
    problems=()
    if ! diff -u <(expected_events "$sysroot" "${tokens[@]}") "$dir/results/events" \
        >"$dir/diff"; then
        problems+=("events differ: $(cat "$dir/diff")")
    fi
    if [[ " $expect " == *" X "* ]]; then
        ((status == 1)) || problems+=("init exited $status, expected 1 (exit from the hook)")
    else
        ((status == 0)) || problems+=("init exited $status")
    fi
    # init's own shell (K, F) is mkinitcpio's message, not the hook's.
    if [[ " $expect " != *" C "* && " $expect " != *" K"* && " $expect " != *" F "* ]] && ! grep -q 'nodegate: boot stopped (.*), action: ' "$dir/console"; then
        problems+=("no 'boot stopped' line on the console")
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
