#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The dracut module's runtime scripts in a chroot that plays dracut around them, one hook run
# per row and shell; each row's outcome is what the stand-ins recorded, compared line by line.
# Every row runs under each /bin/sh dracut can have: dash (00dash), bash (00bash, the one a
# dracut image gets unless asked otherwise, in POSIX mode as sh) and busybox ash (05busybox).
set -euo pipefail
# shellcheck source=tests/lib/sandbox.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/sandbox.sh"
cd "$(dirname "$0")/../.."

# NODEGATE_DRACUT_MODULE points the test at a copy of the module (to break it on purpose).
module=${NODEGATE_DRACUT_MODULE:-dracut-module/90nodegate}
fixture=tests/dracut/fixture

# One row a run: name | hook | /proc/cmdline | gate | flags | expected events.
# Hook: parse (cmdline hook), mount (mount hook), attest (pre-pivot hook), failed
# (nodegate-failed.sh, as nodegate-failed.service runs it), emergency (dracut's emergency_shell
# for a boot that failed outside the gate, which sources the emergency hook).
# Gate: the stand-in gate's exit status, or the signal that kills it, or missing (no
# /usr/bin/nodegate), noexec (not executable); for failed: $MONITOR_EXIT_STATUS (- for unset).
# Flags: mounted ($NEWROOT is a mount point already), modprobe-fails, action-fails (halt and
# friends return), newroot=DIR (dracut's $NEWROOT, default /sysroot), cap-fails (nodegate
# --cap-failed exits 1).
# Events: G the gate's run for the hook's phase; M modprobe of dm_mod dm_verity; WM modprobe's
# warning; W the boot-stops warning; WR=VALUE the root= warning; E dracut's emergency_shell
# called; T modprobe of the TPM drivers; CF nodegate --cap-failed; WC the no-shell warning of a
# cap that failed; WN the no-shell warning when rd.shell=0 (the module's default); S the shell
# itself (after the emergency hooks); KC the no-shell line on /dev/kmsg;
# H, P, B halt, poweroff, reboot -f; Z sleep (the hook holds the boot forever); C the boot
# continued past the hook; R root=nodegate rootok=1 after the cmdline hooks; I systemctl
# isolates emergency.target; SH, SP, SB systemctl --force halt, poweroff, reboot; K the
# boot-stops line on /dev/kmsg (read back after the script, so it comes last).
# shellcheck disable=SC2016 # the hostile rows are meant literally
rows=(
    'mount: success|mount|ip=dhcp nodegate.url=https://v:8443|0||M G C'
    'mount: success, modprobe fails|mount||0|modprobe-fails|M WM G C'
    'mount: $NEWROOT is passed|mount||0|newroot=/newroot|M G C'
    'mount: $NEWROOT already mounted|mount||0|mounted|C'
    'mount: shell (exit 3), rd.shell=0: no shell|mount|nodegate.on_failure=shell|3||M G E T CF WN H'
    'mount: shell (exit 3), rd.shell=1|mount|nodegate.on_failure=shell rd.shell=1|3||M G E T CF S W H'
    'mount: shell (exit 3), bare rd.shell|mount|nodegate.on_failure=shell rd.shell|3||M G E T CF S W H'
    'mount: shell (exit 3), rd.break|mount|nodegate.on_failure=shell rd.break=pre-mount|3||M G E T CF S W H'
    'mount: shell (exit 3), rd.shell=1 rd.shell=no|mount|nodegate.on_failure=shell rd.shell=1 rd.shell=no|3||M G E T CF WN H'
    'mount: shell (exit 3), the cap fails|mount|nodegate.on_failure=shell rd.shell=1|3|cap-fails|M G E T CF WC H'
    'mount: shell from nodegate.conf (exit 3)|mount|rd.shell=1|3||M G E T CF S W H'
    'mount: exit 3, the stop fails|mount|nodegate.on_failure=shell rd.shell=1|3|action-fails|M G E T CF S W H Z'
    'mount: exit 3, the cap and the stop fail|mount|nodegate.on_failure=shell|3|cap-fails,action-fails|M G E T CF WC H Z'
    'mount: reboot(2) failed (exit 1)|mount|nodegate.on_failure=reboot|1||M G W B'
    'mount: exit 1, default halt|mount|quiet|1||M G W H'
    'mount: killed, poweroff|mount|nodegate.on_failure=poweroff|KILL||M G W P'
    'mount: killed, reboot|mount|nodegate.on_failure=reboot|TERM||M G W B'
    'mount: killed, shell halts|mount|nodegate.on_failure=shell|KILL||M G W H'
    'mount: exit 2 (usage), shell halts|mount|nodegate.on_failure=shell|2||M G W H'
    'mount: no gate (127), poweroff|mount|nodegate.on_failure=poweroff|missing||M W P'
    'mount: gate not executable (126)|mount||noexec||M W H'
    'mount: the stop fails|mount|nodegate.on_failure=poweroff|1|action-fails|M G W P Z'
    'mount: hostile $()|mount|nodegate.on_failure=$(touch${IFS}/tmp/pwned)|KILL||M G W H'
    'mount: hostile $() with a space|mount|nodegate.on_failure=$(touch /tmp/pwned)|1||M G W H'
    'mount: hostile backticks|mount|nodegate.on_failure=`touch${IFS}/tmp/pwned`|1||M G W H'
    'mount: hostile redirection|mount|nodegate.on_failure=$(:>/tmp/pwned)|1||M G W H'
    'mount: hostile ;|mount|nodegate.on_failure=reboot;touch${IFS}/tmp/pwned|1||M G W H'
    'mount: hostile quoted|mount|nodegate.on_failure="reboot;touch /tmp/pwned"|1||M G W H'
    'mount: hostile glob|mount|nodegate.on_failure=*|1||M G W H'
    'mount: last one wins|mount|nodegate.on_failure=poweroff nodegate.on_failure=reboot|1||M G W B'
    'mount: last one wins, hostile|mount|nodegate.on_failure=reboot nodegate.on_failure=$(touch${IFS}/tmp/pwned)|1||M G W H'
    'mount: quoted word|mount|"nodegate.on_failure=reboot"|KILL||M G W B'
    'mount: quoted value|mount|nodegate.on_failure="poweroff"|KILL||M G W P'
    'mount: inside another quoted value|mount|foo="x nodegate.on_failure=reboot" y|1||M G W H'
    'mount: another key|mount|nodegate_on_failure=reboot nodegate.on_failure_x=poweroff|1||M G W H'
    'attest: success|attest|ip=dhcp|0||G C'
    'attest: $NEWROOT is passed|attest||0|newroot=/newroot|G C'
    'attest: runs on a mounted $NEWROOT|attest||0|mounted|G C'
    'attest: shell (exit 3)|attest|nodegate.on_failure=shell rd.shell=1|3||G E T CF S W H'
    'attest: shell (exit 3), rd.shell=0: no shell, poweroff|attest|nodegate.on_failure=shell nodegate.on_failure=poweroff|3||G E T CF WN P'
    'attest: shell (exit 3), the cap fails|attest|nodegate.on_failure=shell|3|cap-fails|G E T CF WC H'
    'attest: exit 3, the stop fails|attest|nodegate.on_failure=shell rd.shell=1|3|action-fails|G E T CF S W H Z'
    'attest: reboot(2) failed (exit 1)|attest|nodegate.on_failure=reboot|1||G W B'
    'attest: killed, poweroff|attest|nodegate.on_failure=poweroff|KILL||G W P'
    'attest: killed, default halt|attest||TERM||G W H'
    'attest: killed, shell halts|attest|nodegate.on_failure=shell|KILL||G W H'
    'attest: no gate (127), reboot|attest|nodegate.on_failure=reboot|missing||W B'
    'attest: hostile $()|attest|nodegate.on_failure=$(touch${IFS}/tmp/pwned)|1||G W H'
    'parse: no root=|parse|roothash=0123 ip=dhcp|-||R C'
    'parse: root=nodegate|parse|root=nodegate|-||R C'
    'parse: empty root=|parse|root=|-||R C'
    'parse: root=/dev/sda1|parse|root=/dev/sda1|-||WR=/dev/sda1 W H'
    'parse: root=/dev/sda1, poweroff|parse|root=/dev/sda1 nodegate.on_failure=poweroff|-||WR=/dev/sda1 W P'
    'parse: root=UUID=, reboot|parse|root=UUID=f00 nodegate.on_failure=reboot|-||WR=UUID=f00 W B'
    'parse: root=block:, shell halts|parse|root=block:/dev/vda2 nodegate.on_failure=shell|-||WR=block:/dev/vda2 W H'
    'parse: last root= wins|parse|root=nodegate root=/dev/vda2|-||WR=/dev/vda2 W H'
    'parse: last root= wins, nodegate|parse|root=/dev/vda2 root=nodegate|-||R C'
    'parse: the stop fails|parse|root=/dev/vda2|-|action-fails|WR=/dev/vda2 W H Z'
    'parse: hostile root=|parse|root=$(touch${IFS}/tmp/pwned)|-||WR=$(touch${IFS}/tmp/pwned) W H'
    'failed: shell (exit 3)|failed|nodegate.on_failure=shell|3||CF I'
    'failed: shell (exit 3), the cap fails|failed|nodegate.on_failure=shell|3|cap-fails|CF SH KC K'
    'failed: exit 3 goes by the status|failed|nodegate.on_failure=poweroff|3||CF I'
    'failed: exit 3, the cap fails, poweroff|failed|nodegate.on_failure=poweroff|3|cap-fails|CF SP KC K'
    'failed: no status, default halt|failed||-||SH K'
    'failed: exit 1, poweroff|failed|nodegate.on_failure=poweroff|1||SP K'
    'failed: exit 1, reboot|failed|nodegate.on_failure=reboot|1||SB K'
    'failed: killed, shell halts|failed|nodegate.on_failure=shell|KILL||SH K'
    'failed: killed by SIGQUIT (3)|failed|nodegate.on_failure=reboot|QUIT||SB K'
    'failed: exec failed (203)|failed|nodegate.on_failure=poweroff|203||SP K'
    'failed: 33 is not 3|failed||33||SH K'
    'failed: hostile|failed|nodegate.on_failure=$(touch${IFS}/tmp/pwned)|1||SH K'
    'failed: hostile redirection|failed|nodegate.on_failure=`:>/tmp/pwned`|1||SH K'
    'failed: last one wins|failed|nodegate.on_failure=reboot nodegate.on_failure=poweroff|1||SP K'
    'emergency: capped, then the shell|emergency|rd.shell=1|-||E T CF S C'
    'emergency: the cap fails, no shell|emergency|rd.shell=1|-|cap-fails|E T CF WC H'
    'emergency: the cap fails, poweroff|emergency|nodegate.on_failure=poweroff|-|cap-fails|E T CF WC P'
    'emergency: the cap and the stop fail|emergency||-|cap-fails,action-fails|E T CF WC H Z'
    'emergency: rd.shell=0: capped, no shell, halt|emergency||-||E T CF WN H'
    'emergency: rd.shell=0: capped, no shell, poweroff|emergency|nodegate.on_failure=poweroff|-||E T CF WN P'
    'emergency: rd.shell=0, the stop fails|emergency||-|action-fails|E T CF WN H Z'
)

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
}
trap cleanup EXIT

for tool in busybox dash bash; do
    command -v "$tool" >/dev/null || {
        echo "test-runtime: $tool is needed" >&2
        exit 1
    }
done
busybox=$(sandbox_static_busybox test-runtime)

# The scripts' business is to halt and reboot: every row runs chrooted into a tree with no
# binary of those names (the stand-ins are shell functions, which every shell runs before PATH
# and busybox ash before its applets, and a systemctl that records), without /proc, in its own
# PID namespace, where reboot(2) would only end the row.
sandbox_namespace test-runtime
ns=("${SANDBOX_NS[@]}")

base=$work/base
mkdir -p "$base"/{usr/bin,usr/lib/nodegate,usr/lib64,proc,tmp,run,sysroot,newroot,etc/cmdline.d}
mkdir -p "$base"/usr/lib/dracut/hooks/{cmdline,mount,pre-pivot,emergency,shutdown-emergency}
ln -s usr/bin "$base/bin"
ln -s usr/bin "$base/sbin"
ln -s bin "$base/usr/sbin"
ln -s usr/lib "$base/lib"
ln -s usr/lib64 "$base/lib64"
# On PATH only what dracut's base module installs (less sleep and modprobe, the stand-ins'),
# and touch for the hostile rows: a command the module runs must be in every dracut image, and
# busybox has applets ([[ among them) that would make a bashism pass under dash. The fixture's
# own tools are outside PATH.
mkdir "$base/fixture-bin"
cp "$busybox" "$base/fixture-bin/busybox"
ln -s busybox "$base/fixture-bin/awk"
for applet in mount mknod mkdir chown sed ls flock cp mv dmesg rm ln rmmod mkfifo umount \
    readlink setsid chmod tr less touch; do
    ln -s ../../fixture-bin/busybox "$base/usr/bin/$applet"
done

# A dynamic program and the libraries it loads, at the paths it loads them from.
install_elf() {
    local path
    install -m 755 "$1" "$base/usr/bin/$2"
    while read -r path; do
        mkdir -p "$base$(dirname "$path")"
        cp -L "$path" "$base$path"
    done < <(ldd "$1" | grep -o '/[^ ]*')
}
install_elf "$(command -v dash)" dash
install_elf "$(command -v bash)" bash
shells=(dash bash busybox)
# dracut's own getarg, where dracut is installed: the fixture's getarg is checked against it.
dracut_util=/usr/lib/dracut/dracut-util
if [[ -x $dracut_util ]]; then
    install_elf "$dracut_util" dracut-util
    ln -s dracut-util "$base/usr/bin/dracut-getarg"
else
    echo "test-runtime: no $dracut_util: the fixture's getarg is not checked against dracut's"
fi

# Where install() puts the runtime scripts (test-module-setup.sh checks that).
install -m 644 "$fixture/dracut-lib.sh" "$base/usr/lib/dracut-lib.sh"
install -m 644 "$module/nodegate-lib.sh" "$base/usr/lib/nodegate-lib.sh"
install -m 644 "$module/parse-nodegate.sh" "$base/usr/lib/dracut/hooks/cmdline/90-parse-nodegate.sh"
install -m 644 "$module/mount-nodegate.sh" "$base/usr/lib/dracut/hooks/mount/90-mount-nodegate.sh"
install -m 644 "$module/attest-nodegate.sh" "$base/usr/lib/dracut/hooks/pre-pivot/10-attest-nodegate.sh"
install -m 644 "$module/emergency-nodegate.sh" "$base/usr/lib/dracut/hooks/emergency/00-emergency-nodegate.sh"
install -m 644 "$module/emergency-nodegate.sh" "$base/usr/lib/dracut/hooks/shutdown-emergency/00-emergency-nodegate.sh"
# Its mode as the module has it: systemd execs it.
cp -p "$module/nodegate-failed.sh" "$base/usr/lib/nodegate/nodegate-failed.sh"
install -m 755 "$fixture/init" "$base/init"
install -m 755 "$fixture/nodegate" "$base/usr/bin/nodegate"
install -m 755 "$fixture/systemctl" "$base/usr/bin/systemctl"
# What install() writes, so every getarg reads more than /proc/cmdline.
echo "rd.neednet=1 rd.shell=0 rd.emergency=halt" >"$base/etc/cmdline.d/90nodegate.conf"

for name in halt poweroff reboot shutdown sleep modprobe; do
    if [[ -e $base/usr/bin/$name ]]; then
        echo "test-runtime: the fixture has a $name binary" >&2
        exit 1
    fi
done

# Files a row writes are its own: the tree is hard links to the base. $2 is /bin/sh.
new_row() {
    cp -al "$base" "$1"
    if [[ $2 == busybox ]]; then
        ln -s ../../fixture-bin/busybox "$1/usr/bin/sh"
    else
        ln -s "$2" "$1/usr/bin/sh"
    fi
    mkdir "$1/results" "$1/dev" "$1/fixture"
    : >"$1/results/events"
    : >"$1/dev/null"
    : >"$1/dev/kmsg"
}

run_row() {
    env -i "$(type -P timeout)" --kill-after=5 20 "${ns[@]}" --root="$1" /usr/bin/sh "${@:2}" \
        </dev/null >"$1/console" 2>&1
}

# The hostile rows look for /tmp/pwned: a command line that runs touch, or a redirection,
# must leave it.
for shell in "${shells[@]}"; do
    new_row "$work/canary-$shell" "$shell"
    run_row "$work/canary-$shell" -c 'touch /tmp/pwned && : >/tmp/pwned2' || true
    if [[ ! -e $work/canary-$shell/tmp/pwned || ! -e $work/canary-$shell/tmp/pwned2 ]]; then
        echo "test-runtime: $shell in the fixture cannot run touch or redirect; the hostile" \
            "rows would prove nothing" >&2
        cat "$work/canary-$shell/console" >&2
        exit 1
    fi
done

expected_events() {
    local hook=$1 newroot=$2 token
    shift 2
    for token in "$@"; do
        case $token in
        G)
            local phase=root
            [[ $hook == attest ]] && phase=attest
            echo "nodegate [--mode=initrd] [--phase=$phase] [--sysroot=$newroot]"
            ;;
        M) echo "modprobe -a dm_mod dm_verity" ;;
        WM) echo "warn nodegate: modprobe dm_mod dm_verity failed" ;;
        W) echo "warn nodegate: the boot stops: the root is never entered without the gate's success" ;;
        WR=*) echo "warn nodegate: root=${token#WR=} given: with nodegate the root is roothash='s verity device and root= must not be set" ;;
        E)
            if [[ $hook == emergency ]]; then
                echo "emergency_shell"
            else
                echo "emergency_shell -n nodegate"
            fi
            ;;
        T) echo "modprobe -q -a tpm_tis tpm_crb" ;;
        CF) echo "nodegate [--cap-failed]" ;;
        WC) echo "warn nodegate: PCR 15 could not be capped: no shell while the TPM could still release a token" ;;
        S) echo "shell" ;;
        WN) echo "warn nodegate: the boot failed outside the gate; no shell (rd.shell=0)" ;;
        KC) echo "kmsg nodegate: PCR 15 could not be capped: no shell" ;;
        H) echo "halt -f" ;;
        P) echo "poweroff -f" ;;
        B) echo "reboot -f" ;;
        Z) echo "sleep 3600" ;;
        C) echo "boot-continued" ;;
        R) echo "root=nodegate rootok=1" ;;
        I) echo "systemctl --no-block isolate emergency.target" ;;
        SH) echo "systemctl --force halt" ;;
        SP) echo "systemctl --force poweroff" ;;
        SB) echo "systemctl --force reboot" ;;
        K) echo "kmsg nodegate: the boot stops: the root is never entered without the gate's success" ;;
        *) echo "test-runtime: unknown event '$token'" >&2 && return 1 ;;
        esac
    done
}

# One row under one shell: $1 the shell, the row's fields after it.
run_case() {
    local shell=$1 name=$2 hook=$3 cmdline=$4 gate=$5 flags=$6 expect=$7
    local dir=$work/case newroot=/sysroot flag status=0 tokens problems=()
    rm -rf "$dir"
    new_row "$dir" "$shell"
    printf '%s\n' "$cmdline" >"$dir/proc/cmdline"
    echo "$hook" >"$dir/fixture/hook"
    case $hook:$gate in
    failed:-) ;;
    failed:*) echo "$gate" >"$dir/fixture/monitor-exit-status" ;;
    parse:- | emergency:-) ;;
    *:missing) rm "$dir/usr/bin/nodegate" ;;
    *:noexec)
        # A copy: the tree's file is a hard link shared by every row.
        rm "$dir/usr/bin/nodegate"
        install -m 644 "$fixture/nodegate" "$dir/usr/bin/nodegate"
        ;;
    mount:* | attest:*) echo "$gate" >"$dir/fixture/gate" ;;
    *) echo "test-runtime: row '$name': gate '$gate' for hook '$hook'" >&2 && exit 1 ;;
    esac
    for flag in ${flags//,/ }; do
        case $flag in
        modprobe-fails | action-fails) : >"$dir/fixture/$flag" ;;
        cap-fails) echo 1 >"$dir/fixture/cap" ;;
        newroot=*)
            newroot=${flag#newroot=}
            echo "$newroot" >"$dir/fixture/newroot"
            ;;
        mounted) ;;
        *) echo "test-runtime: unknown flag '$flag'" >&2 && exit 1 ;;
        esac
    done
    [[ ,$flags, == *,mounted,* ]] && echo "$newroot" >"$dir/fixture/mounts"

    run_row "$dir" /init || status=$?

    read -r -a tokens <<<"$expect"
    if ! diff -u <(expected_events "$hook" "$newroot" "${tokens[@]}") "$dir/results/events" \
        >"$dir/diff"; then
        problems+=("events differ: $(cat "$dir/diff")")
    fi
    ((status == 0)) || problems+=("the fixture's init exited $status")
    if [[ -n $(find "$dir" -name pwned) ]]; then
        problems+=("the command line ran a command: $(find "$dir" -name pwned)")
    fi

    if ((${#problems[@]})); then
        failed=$((failed + 1))
        echo "FAIL: $name [$shell]"
        printf '  %s\n' "${problems[@]}"
        sed 's/^/  console: /' "$dir/console"
    else
        passed=$((passed + 1))
        echo "ok: $name [$shell]"
    fi
}

passed=0
failed=0
for row in "${rows[@]}"; do
    separators=${row//[!|]/}
    if ((${#separators} != 5)); then
        echo "test-runtime: row '$row' has ${#separators} '|', not 5" >&2
        exit 1
    fi
    IFS='|' read -r name hook cmdline gate flags expect <<<"$row"
    for shell in "${shells[@]}"; do
        run_case "$shell" "$name" "$hook" "$cmdline" "$gate" "$flags" "$expect"
    done
done

echo "dracut runtime scripts: ${#rows[@]} rows under ${shells[*]}: $passed passed, $failed failed"
((failed == 0))
