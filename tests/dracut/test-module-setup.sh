#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut-module/90nodegate/module-setup.sh's check(), depends(), installkernel() and install()
# against recorders of dracut's install functions, one call per row; the recorded lines (and
# the links and files install() makes itself under $initdir) compared as sets; more kernel
# modules than a row names may be asked for, as long as hostonly is cleared for them.
set -euo pipefail
cd "$(dirname "$0")/../.."

# NODEGATE_DRACUT_MODULE points the test at a copy of the module (to break it on purpose).
moddir=$(realpath "${NODEGATE_DRACUT_MODULE:-dracut-module/90nodegate}")

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
}
trap cleanup EXIT

printf '#!/bin/sh\n' >"$work/gate"
chmod 755 "$work/gate"
install -m 644 "$work/gate" "$work/gate-noexec"
printf '%s\n' '-----BEGIN CERTIFICATE-----' 'MIIB' '-----END CERTIFICATE-----' >"$work/ca.pem"
printf '%s\n' 'nodegate.on_failure=poweroff' >"$work/nodegate.conf"

# name | function | settings (NAME=VALUE;…, @NAME@ as below) | dracut modules included
# | expected lines (;-separated, @NAME@ as below; + NAME adds a group of lines defined below).
# Settings are dracut.conf variables; @GATE@ an executable, @NOEXEC@ a file that is not,
# @CA@, @CONF@ fixtures, @MISSING@ a path that does not exist.
rows=(
    'check: gate and CA|check|nodegate_binary=@GATE@;nodegate_ca=@CA@||return 255'
    'check: no gate|check|nodegate_binary=@MISSING@;nodegate_ca=@CA@||return 1;derror nodegate: no executable @MISSING@ (set nodegate_binary=)'
    'check: gate not executable|check|nodegate_binary=@NOEXEC@;nodegate_ca=@CA@||return 1;derror nodegate: no executable @NOEXEC@ (set nodegate_binary=)'
    'check: no CA|check|nodegate_binary=@GATE@;nodegate_ca=@MISSING@||return 1;derror nodegate: no CA bundle @MISSING@: the gate trusts only it for the verifier (set nodegate_ca=)'
    'check: no gate, no CA|check|nodegate_binary=@MISSING@;nodegate_ca=@MISSING@||return 1;derror nodegate: no executable @MISSING@ (set nodegate_binary=)'
    'defaults|nodegate_paths|||binary /usr/bin/nodegate;ca /etc/nodegate/ca.pem;conf /etc/nodegate/nodegate.conf;return 0'
    'settings kept|nodegate_paths|nodegate_binary=/b;nodegate_ca=/c;nodegate_conf=/d||binary /b;ca /c;conf /d;return 0'
    'empty nodegate_conf= is no config|nodegate_paths|nodegate_conf=||binary /usr/bin/nodegate;ca /etc/nodegate/ca.pem;conf ;return 0'
    'depends|depends|||stdout network;return 0'
    'installkernel|installkernel|||+kernel;return 0'
    'install, systemd|install|nodegate_binary=@GATE@;nodegate_ca=@CA@;nodegate_conf=@CONF@|systemd|+common;+conf;+systemd;return 0'
    'install, systemd, no config|install|nodegate_binary=@GATE@;nodegate_ca=@CA@;nodegate_conf=@MISSING@|systemd|+common;+systemd;return 0'
    'install, systemd, empty nodegate_conf=|install|nodegate_binary=@GATE@;nodegate_ca=@CA@;nodegate_conf=|systemd|+common;+systemd;return 0'
    'install, no systemd|install|nodegate_binary=@GATE@;nodegate_ca=@CA@;nodegate_conf=@CONF@|network-legacy|+common;+conf;+legacy;return 0'
    'install, no systemd, no config|install|nodegate_binary=@GATE@;nodegate_ca=@CA@;nodegate_conf=@MISSING@||+common;+legacy;return 0'
)

unitdir=/usr/lib/systemd/system
real_systemctl=$(type -P systemctl || true)
[[ -n $real_systemctl ]] || echo "test-module-setup: no systemctl: the enable links are not checked"

group() {
    case $1 in
    kernel)
        # dracut's hostonly mode would drop what the build host has not loaded: the gate's
        # modules must be asked for with hostonly cleared, and only for that call.
        echo "instmods hostonly= dm_mod"
        echo "instmods hostonly= dm_verity"
        echo "hostonly after installkernel: yes"
        ;;
    common)
        echo "inst_simple @GATE@ /usr/bin/nodegate"
        echo "inst_simple @CA@ /etc/nodegate/ca.pem"
        # The paths the runtime scripts source and test-runtime.sh installs them at.
        echo "inst_simple @MODDIR@/nodegate-lib.sh /lib/nodegate-lib.sh"
        echo "inst_hook cmdline 90 @MODDIR@/parse-nodegate.sh"
        # Sourced by dracut before any shell, and the same for shutdown-emergency, which
        # dracut-emergency sources under rd.shell=0.
        echo "inst_hook emergency 00 @MODDIR@/emergency-nodegate.sh"
        echo "inst_hook shutdown-emergency 00 @MODDIR@/emergency-nodegate.sh"
        # What nodegate-lib.sh runs: the shutdown module, which also has halt and friends, is
        # not in every initramfs.
        echo "inst_multiple modprobe"
        echo "inst_multiple halt"
        echo "inst_multiple poweroff"
        echo "inst_multiple reboot"
        echo "file etc/cmdline.d/90nodegate.conf: rd.neednet=1 rd.shell=0 rd.emergency=halt"
        ;;
    conf) echo "inst_simple @CONF@ /etc/nodegate/nodegate.conf" ;;
    systemd)
        echo "inst_simple @MODDIR@/nodegate-root.service $unitdir/nodegate-root.service"
        echo "inst_simple @MODDIR@/nodegate-attest.service $unitdir/nodegate-attest.service"
        echo "inst_simple @MODDIR@/nodegate-failed.service $unitdir/nodegate-failed.service"
        echo "inst_simple @MODDIR@/nodegate-failed.sh /usr/lib/nodegate/nodegate-failed.sh"
        echo "inst_rules @MODDIR@/60-nodegate.rules"
        for unit in emergency.service rescue.service dracut-emergency.service debug-shell.service; do
            echo "inst_simple @MODDIR@/nodegate-shell.conf $unitdir/$unit.d/nodegate.conf"
        done
        echo "inst_simple @MODDIR@/initrd-switch-root-nodegate.conf $unitdir/initrd-switch-root.service.d/nodegate.conf"
        echo "systemctl -q --root @INITDIR@ enable nodegate-root.service nodegate-attest.service"
        echo "link etc/systemd/system-generators/systemd-veritysetup-generator -> /dev/null"
        echo "link etc/systemd/system-generators/systemd-gpt-auto-generator -> /dev/null"
        if [[ -n $real_systemctl ]]; then
            echo "link etc/systemd/system/initrd-root-fs.target.requires/nodegate-root.service -> $unitdir/nodegate-root.service"
            echo "link etc/systemd/system/initrd.target.requires/nodegate-attest.service -> $unitdir/nodegate-attest.service"
        fi
        ;;
    legacy)
        echo "inst_hook mount 90 @MODDIR@/mount-nodegate.sh"
        echo "inst_hook pre-pivot 10 @MODDIR@/attest-nodegate.sh"
        ;;
    *) echo "test-module-setup: unknown group '$1'" >&2 && return 1 ;;
    esac
}

substitute() {
    local s=$1
    s=${s//@GATE@/$work/gate}
    s=${s//@NOEXEC@/$work/gate-noexec}
    s=${s//@CA@/$work/ca.pem}
    s=${s//@CONF@/$work/nodegate.conf}
    s=${s//@MISSING@/$work/missing}
    printf '%s' "$s"
}

# Calls FN of module-setup.sh as dracut does (sourced into bash, no errexit, no nounset, the
# variables dracut sets) with recorders in place of dracut's functions; lines go to $1.
# shellcheck disable=SC2317 # the recorders are called only if module-setup.sh does
run_fn() (
    log=$1 fn=$2 settings=$3 included=$4
    set +euo pipefail
    initdir=$work/initdir
    systemdsystemunitdir=$unitdir
    SYSTEMCTL=fixture_systemctl
    hostonly=yes
    record() { printf '%s\n' "$*" >>"$log"; }
    # As dracut's: a missing source is no error there, which is why check() must find it.
    inst_simple() {
        if [[ ! -e $1 ]]; then
            record "inst_simple of a missing file: $*"
            return 1
        fi
        record inst_simple "$@"
        mkdir -p "$(dirname "$initdir/${2:-$1}")"
        cp -p "$1" "$initdir/${2:-$1}"
    }
    inst_hook() {
        [[ -f $3 ]] || record "inst_hook of a missing file: $*"
        [[ " cmdline pre-udev pre-trigger netroot initqueue pre-mount pre-pivot cleanup mount emergency shutdown-emergency " == *" $1 "* ]] ||
            record "inst_hook of an unknown hook: $*"
        record inst_hook "$@"
    }
    inst_rules() {
        local rule
        for rule in "$@"; do
            [[ -f $rule ]] || record "inst_rules of a missing file: $rule"
            record inst_rules "$rule"
        done
    }
    inst_multiple() {
        local name
        for name in "$@"; do
            record inst_multiple "$name"
        done
    }
    instmods() {
        local name
        for name in "$@"; do
            record "instmods hostonly=$hostonly $name"
        done
    }
    dracut_module_included() {
        [[ " $included " == *" $1 "* ]]
    }
    derror() { record derror "$*"; }
    dwarn() { record dwarn "$*"; }
    fixture_systemctl() {
        record systemctl "${@//$initdir/@INITDIR@}"
        [[ -z $real_systemctl ]] || "$real_systemctl" "$@"
    }

    apply_setting() {
        printf -v "${1%%=*}" '%s' "${1#*=}"
    }
    IFS=';' read -r -a assignments <<<"$settings"
    for assignment in "${assignments[@]}"; do
        apply_setting "$assignment"
    done
    # shellcheck source=dracut-module/90nodegate/module-setup.sh
    . "$moddir/module-setup.sh"
    "$fn" >"$log.stdout"
    record return $?
    case $fn in
    nodegate_paths)
        record binary "$nodegate_binary"
        record ca "$nodegate_ca"
        record conf "$nodegate_conf"
        ;;
    installkernel) record "hostonly after installkernel: $hostonly" ;;
    esac
    while read -r line; do
        record stdout "$line"
    done <"$log.stdout"
)

passed=0
failed=0
for row in "${rows[@]}"; do
    separators=${row//[!|]/}
    if ((${#separators} != 4)); then
        echo "test-module-setup: row '$row' has ${#separators} '|', not 4" >&2
        exit 1
    fi
    IFS='|' read -r name fn settings included expect <<<"$row"
    rm -rf "$work/initdir" "$work/log" "$work/log.stdout"
    mkdir "$work/initdir"
    : >"$work/log"
    run_fn "$work/log" "$fn" "$(substitute "$settings")" "$included"
    # What install() makes itself rather than through dracut's functions.
    (
        cd "$work/initdir"
        find . -type l -printf 'link %P -> %l\n'
        if [[ -d etc/cmdline.d ]]; then
            for f in etc/cmdline.d/*; do
                printf 'file %s: %s\n' "$f" "$(tr '\n' ' ' <"$f" | sed 's/ $//')"
            done
        fi
    ) >>"$work/log"

    IFS=';' read -r -a items <<<"$expect"
    expected=$(for item in "${items[@]}"; do
        if [[ $item == +* ]]; then group "${item#+}"; else echo "$item"; fi
    done)
    expected=$(substitute "$expected")
    actual=$(sed "s|$moddir|@MODDIR@|g" "$work/log")
    # Every expected line, and nothing else but more modules asked for with hostonly cleared.
    missing=$(comm -23 <(sort -u <<<"$expected") <(sort -u <<<"$actual"))
    unexpected=$(comm -13 <(sort -u <<<"$expected") <(sort -u <<<"$actual") |
        grep -vE '^instmods hostonly= [a-z0-9_]+$' || true)
    if [[ -z $missing && -z $unexpected ]]; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAIL: $name"
        [[ -z $missing ]] || while read -r line; do echo "  missing: $line"; done <<<"$missing"
        [[ -z $unexpected ]] || while read -r line; do echo "  unexpected: $line"; done <<<"$unexpected"
    fi
done

echo "dracut module-setup.sh: $passed passed, $failed failed"
((failed == 0))
